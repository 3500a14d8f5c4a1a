#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the guest (tools/katls-vm run --no-agent --smp 1 --
# sh tests/e2e/katlsd/e2e.sh; tools/vm-check runs it): start
# katlsd with a fresh self-signed key and run e2e.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
e2e=$top/tests/e2e/build/katlsd-e2e
d=$(mktemp -d)
katls_e2e_agent "$d" katls-e2e debug
pid=$KATLS_AGENT_PID
rc=0
KATLSD_PID=$pid "$e2e" >"$d/tap" || rc=1
# Issue 11 item 7: no core dumps from any katlsd process.
if grep -Eq '^Max core file size +0 +0 ' /proc/$pid/limits; then
	echo "ok 1 - katlsd runs with RLIMIT_CORE 0" >>"$d/tap"
else
	echo "not ok 1 - katlsd runs with RLIMIT_CORE 0" >>"$d/tap"
	rc=1
fi
# Privilege separation: after the handshakes above, no sandbox holds a
# copy of the server's private key in its memory; the workers (the
# monitors, which sign) do, which shows that the scan finds one.
python3 "$here/keyscan.py" "$d/key.pem" katlsd-worker >"$d/scan.worker"
python3 "$here/keyscan.py" "$d/key.pem" katlsd-sandbox >"$d/scan.sandbox"
if [ -s "$d/scan.worker" ] && awk '$2 < 1 { bad = 1 } END { exit bad }' "$d/scan.worker"; then
	echo "ok 1 - key scan control: every worker (monitor) holds the server key in memory ($(tr '\n' ' ' <"$d/scan.worker"))" >>"$d/tap"
else
	echo "not ok 1 - key scan control: every worker (monitor) holds the server key in memory ($(tr '\n' ' ' <"$d/scan.worker"))" >>"$d/tap"
	rc=1
fi
if [ -s "$d/scan.sandbox" ] && awk '$2 != 0 { bad = 1 } END { exit bad }' "$d/scan.sandbox"; then
	echo "ok 1 - no sandbox holds a copy of the server key in memory ($(tr '\n' ' ' <"$d/scan.sandbox"))" >>"$d/tap"
else
	echo "not ok 1 - no sandbox holds a copy of the server key in memory ($(tr '\n' ' ' <"$d/scan.sandbox"))" >>"$d/tap"
	rc=1
fi
# Issue 11 item 9: the alarm backstop removes its configfs-tsm entry.
echo "# alarm backstop" >>"$d/tap"
"$e2e" backstop >>"$d/tap" || rc=1

# SIGHUP: a new policy (evidence_bound_key allow, copied from sim-demo)
# takes effect...
sed 's/^name sim-demo/name sim-late/' "$d/policy.d/sim-demo.policy" \
	> "$d/policy.d/sim-late.policy"
# Issue 14 item 7: the same with a maximum connection age.
{ sed 's/^name sim-demo/name sim-aged/' "$d/policy.d/sim-demo.policy"
  echo "max_connection_age 5s"; } > "$d/policy.d/sim-aged.policy"
reload() {
	n=$(grep -c -e "reloaded" -e "reload failed" "$d/katlsd.log")
	kill -HUP $pid
	i=0
	while [ "$(grep -c -e "reloaded" -e "reload failed" "$d/katlsd.log")" = "$n" ] &&
	      [ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
}
reload
echo "# after SIGHUP with a new policy sim-late" >>"$d/tap"
"$e2e" sim-late 0 >>"$d/tap" || rc=1
echo "# max_connection_age (policy sim-aged)" >>"$d/tap"
"$e2e" aged sim-aged 5000 >>"$d/tap" || rc=1
# ...and a broken policy directory is refused as a whole, the old state kept.
echo "allow nothing-valid" > "$d/policy.d/broken.policy"
reload
if grep -q "reload failed, keeping" "$d/katlsd.log"; then
	echo "ok 1 - broken policy directory: reload refused" >>"$d/tap"
else
	echo "not ok 1 - broken policy directory: reload refused" >>"$d/tap"
	rc=1
fi
echo "# after the refused reload" >>"$d/tap"
"$e2e" sim-late 0 >>"$d/tap" || rc=1

# The server role evaluates the policy it names (issue 11 item 18).
echo "# server policy (server-policy.sh)" >>"$d/tap"
sh "$here/server-policy.sh" "$d" >>"$d/tap" || rc=1

# Stock TLS peers get an alert that says why (issue 11 item 20).
echo "# stock TLS peers (stock-peers.sh)" >>"$d/tap"
sh "$here/stock-peers.sh" "$d" >>"$d/tap" || rc=1

# Issue 11 item 8: katls.ko unloaded and loaded again.  katlsd follows
# the family (nlctrl notifications) and serves the new module.
if [ -f /run/katls-vm/katls.ko ] && rmmod katls; then
	insmod /run/katls-vm/katls.ko
	katls_wait_for "katls family is back" "$d/katlsd.log"
	echo "# after reloading katls.ko" >>"$d/tap"
	"$e2e" sim-late 0 >>"$d/tap" || rc=1
	if kill -0 $pid 2>/dev/null; then
		echo "ok 1 - katlsd still running after the module reload" >>"$d/tap"
	else
		echo "not ok 1 - katlsd still running after the module reload" >>"$d/tap"
		rc=1
	fi
else
	echo "not ok 1 - katls.ko reloaded" >>"$d/tap"
	rc=1
fi

# Issue 13 item 2: the quote broker, on a fresh katlsd of its own (two
# agents would share the requests); then this one again.
kill -TERM $pid
wait $pid
cp "$d/katlsd.log" "$d/katlsd-before.log"
echo "# quote broker (broker.sh)" >>"$d/tap"
sh "$here/broker.sh" >>"$d/tap" || rc=1
# Issue 13 item 3: the worker pool, on fresh katlsds of their own.
echo "# worker pool (pool.sh)" >>"$d/tap"
sh "$here/pool.sh" >>"$d/tap" || rc=1
rm -f "$d/policy.d/broken.policy"	# the refused reload's, above
katls_e2e_agent "$d" katls-e2e debug
pid=$KATLS_AGENT_PID

# An attester without a TEE provider: the server fails (ENODEV, see the
# log), the client sees the server's abort as EPROTO.
if rmmod katls_sim_tsm 2>/dev/null; then
	echo "# without a TSM provider" >>"$d/tap"
	"$e2e" sim-late 71 >>"$d/tap" || rc=1
	if grep -q "failed: no evidence: No such device" "$d/katlsd.log"; then
		echo "ok 1 - attester without provider fails with ENODEV" >>"$d/tap"
	else
		echo "not ok 1 - attester without provider fails with ENODEV" >>"$d/tap"
		rc=1
	fi
fi

# One TAP stream out of the runs above.
echo "TAP version 13"
awk '/^(not )?ok [0-9]+/ { n++; sub(/ok [0-9]+/, "ok " n); print; next }
     /^TAP version|^1\.\./ { next }
     { print }
     END { print "1.." n }' "$d/tap"
kill -TERM $pid
sleep 1
sed 's/^/# katlsd: /' "$d/katlsd-before.log" "$d/katlsd.log"
exit $rc
