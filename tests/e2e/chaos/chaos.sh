#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/chaos/chaos.sh [--soak] - issue 16 item 1, inside the 6.12
# end-to-end guest (tools/vm-check runs the short run before
# tests/e2e/katlsd/e2e.sh; `make soak` runs the long one in a guest of its
# own).  Many attested connections with checksummed data through a real
# katlsd and the simulated TSM provider while tools/chaos/build/chaos
# kills katlsd's workers and parent, restarts it, resets connections,
# delays quotes and tries rmmod; tools/chaos/build/chaos-wire captures lo
# meanwhile.  At the end: every connection intact or failed closed with a
# documented errno, no plaintext on the wire, the katls gauges, TCP
# socket counts and TCP slabs back to their start values, no configfs-tsm
# entry and no katlsd process left, and `rmmod katls` succeeds (then
# katls.ko is loaded again for the scripts that follow).  One TAP stream.
#
# Environment (optional): CHAOS_SEED (default: from the clock, printed),
# CHAOS_SECS, CHAOS_CONNS, CHAOS_PARALLEL, CHAOS_MAXLEN, CHAOS_FAULT_MS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
. "$top/tests/lib/tap.sh"
chaos=$top/tools/chaos/build/chaos
wire=$top/tools/chaos/build/chaos-wire
katlsd=$top/userspace/katlsd/build/katlsd
tsmroot=/sys/kernel/config/tsm/report
port=9700

if [ "${1:-}" = --soak ]; then
	secs=${CHAOS_SECS:-1200} conns=${CHAOS_CONNS:-100000}
	par=${CHAOS_PARALLEL:-12} maxlen=${CHAOS_MAXLEN:-262144}
	fault=${CHAOS_FAULT_MS:-2000}
else
	secs=${CHAOS_SECS:-45} conns=${CHAOS_CONNS:-2000}
	par=${CHAOS_PARALLEL:-6} maxlen=${CHAOS_MAXLEN:-65536}
	fault=${CHAOS_FAULT_MS:-1500}
fi
seed=${CHAOS_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}

d=$(mktemp -d)
: >"$d/tap"
t0=$(date +%s)
point() {	# point STATUS NAME: one test point into the stream
	if [ "$1" -eq 0 ]; then
		echo "ok 1 - $2" >>"$d/tap"
	else
		echo "not ok 1 - $2" >>"$d/tap"
	fi
}

# The simulated provider must be there (tools/katls-vm loads it; the
# katlsd e2e script unloads it at its end, which is why we run first).
[ -d /sys/module/katls_sim_tsm ]
point $? "chaos: the simulated TSM provider is loaded"

mkdir -p "$d/policy.d"
cp "$top/etc/katls/policy.d/sim-demo.policy" "$d/policy.d/"
katls_self_signed "$d" katls-chaos
katls_conf "$d/katlsd.conf" 16 info "$d/policy.d" "$d/cert.pem" "$d/key.pem"

# The capture checker's own test first: it must flag plaintext.
"$wire" --port $((port + 1)) --control >>"$d/tap" 2>&1

"$wire" --port $port >"$d/wire.tap" 2>&1 &
wpid=$!
katls_wait_for listening "$d/wire.tap"

echo "# chaos: seed $seed, ${secs} s, up to $conns connections" >>"$d/tap"
"$chaos" --katlsd "$katlsd" --config "$d/katlsd.conf" --log "$d/katlsd.log" \
	--seed "$seed" --duration "$secs" --conns "$conns" --parallel "$par" \
	--maxlen "$maxlen" --fault-ms "$fault" --port $port \
	>"$d/chaos.tap" 2>&1
crc=$?
cat "$d/chaos.tap" >>"$d/tap"
if [ $crc -ne 0 ] && ! grep -q '^not ok' "$d/chaos.tap"; then
	point 1 "chaos: the driver exited $crc"
fi

sleep 1
kill -INT $wpid
wait $wpid
grep -v '^1\.\.' "$d/wire.tap" >>"$d/tap"

n=$(ls "$tsmroot" 2>/dev/null | grep -c '^katls-')
point $([ "$n" = 0 ]; echo $?) "chaos: no katls-* configfs-tsm entry left ($n)"
n=$(grep -l katlsd /proc/[0-9]*/comm 2>/dev/null | wc -l)
point $([ "$n" = 0 ]; echo $?) "chaos: no katlsd process left in the guest ($n)"

# Idle now: the module must unload (orphaned TCP sockets that still hold
# it finish within seconds), and come back for the tests that follow.
i=0 out=
while [ $i -lt 60 ]; do
	out=$(rmmod katls 2>&1) && break
	sleep 0.5
	i=$((i + 1))
done
[ ! -d /sys/module/katls ]
point $? "chaos: rmmod katls succeeds once idle (after $i retries) ${out:+($out)}"
[ ! -e /proc/net/katls_stat ]
point $? "chaos: /proc/net/katls_stat is gone with the module"
if [ ! -d /sys/module/katls ] && [ -f /run/katls-vm/katls.ko ]; then
	insmod /run/katls-vm/katls.ko
fi
[ -d /sys/module/katls ]
point $? "chaos: katls.ko loaded again for the tests that follow"

echo "# chaos.sh: $(($(date +%s) - t0)) s in all" >>"$d/tap"
echo "TAP version 13"
awk '/^(not )?ok [0-9]+/ { n++; sub(/ok [0-9]+/, "ok " n); print; next }
     /^TAP version|^1\.\./ { next }
     { print }
     END { print "1.." n }' "$d/tap"
if grep -q '^not ok' "$d/tap"; then
	echo "# katlsd log (last 300 lines):"
	tail -n 300 "$d/katlsd.log" | sed 's/^/# katlsd: /'
	rm -rf "$d"
	exit 1
fi
rm -rf "$d"
exit 0
