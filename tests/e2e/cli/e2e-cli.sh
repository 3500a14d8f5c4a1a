#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/cli/e2e-cli.sh - katls-cat and katlsctl on the real path:
# katls.ko, the simulated TSM provider and katlsd, in the 6.12 guest
#	tools/katls-vm run --no-agent -- sh tests/e2e/cli/e2e-cli.sh
# (programs built by make -C tests/e2e; tools/vm-check runs it in the
# 6.12 e2e stage).  Both ends run on this guest's
# loopback with one agent.  Prints TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
kcat=$top/userspace/cli/build/katls-cat
ctl=$top/userspace/cli/build/katlsctl
d=$(mktemp -d)
. "$top/tests/lib/tap.sh"

stat_of() { "$ctl" stat | awk -v k="$1" '$1 == k { print $2 }'; }
tls_tx() { awk '$1 == "TlsTxSw" { print $2 }' /proc/net/tls_stat; }

tap_plan_lazy

# --- no agent yet: ESRCH ---
timeout 60 "$kcat" -l 9100 </dev/null >/dev/null 2>"$d/s.err" &
spid=$!
katls_wait_listen 9100
timeout 60 "$kcat" -p sim-demo 127.0.0.1 9100 </dev/null >/dev/null \
	2>"$d/c.err"
rc=$?
wait $spid
srv=$?
# Whichever end asks first fails with ESRCH and resets the connection,
# so the other may see the reset instead.
[ $rc -eq 1 ] && [ $srv -ne 0 ] &&
	grep -q "no katls agent (katlsd) is running" "$d/c.err" "$d/s.err"
res=$?
ok $res "no agent: both ends fail, one with ESRCH's meaning"
[ $res -eq 0 ] || diag "$d/c.err" "$d/s.err"

# --- start katlsd with the sim-demo policy and a wrong-measurement one ---
katls_e2e_agent "$d" katls-cli info
apid=$KATLS_AGENT_PID

# --- attested transfer: sendfile one way, stdin the other ---
head -c 3000000 /dev/urandom >"$d/big"
head -c 200000 /dev/urandom >"$d/up"
printf 'KATLS-E2E-PLAINTEXT-MARKER\n' >>"$d/up"
tcpdump --immediate-mode -B 32768 -Z root -i lo -U -w "$d/cap.pcap" tcp port 9000 \
	2>"$d/tcpdump.err" &
tpid=$!
katls_wait_for listening "$d/tcpdump.err"
verified0=$(stat_of verified)
tx0=$(tls_tx)
timeout 120 "$kcat" -l -p sim-demo --sendfile "$d/big" 9000 </dev/null \
	>"$d/s.out" 2>"$d/s.err" &
spid=$!
katls_wait_listen 9000
timeout 120 "$kcat" -p sim-demo 127.0.0.1 9000 <"$d/up" >"$d/c.out" \
	2>"$d/c.err"
crc=$?
wait $spid
src=$?
[ $crc -eq 0 ] && [ $src -eq 0 ]
ok $? "attested transfer: both ends exit 0"
[ $crc -eq 0 ] || diag "$d/c.err"
[ $src -eq 0 ] || diag "$d/s.err"
cmp -s "$d/big" "$d/c.out"
ok $? "sendfile(2) server -> client: 3 MB intact"
cmp -s "$d/up" "$d/s.out"
ok $? "stdin client -> server: 200 kB intact"
katls_wait_size "$d/cap.pcap" 3000000	# tcpdump still writing out
sleep 1
kill -INT $tpid
wait $tpid
# Only a complete capture proves anything: no packet dropped.
grep -q '^0 packets dropped by kernel' "$d/tcpdump.err" &&
	[ "$(stat -c %s "$d/cap.pcap")" -gt 3000000 ] &&
	! grep -q KATLS-E2E-PLAINTEXT-MARKER "$d/cap.pcap"
res=$?
ok $res "complete capture of the transfer ($(stat -c %s "$d/cap.pcap") bytes) holds no plaintext marker"
[ $res -eq 0 ] || diag "$d/tcpdump.err"
grep -qE '^katls-cat: verified: state=open evidence=sim binding=L2 measurement=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f digest=[0-9a-f]{64} policy=sim-demo$' "$d/c.err"
ok $? "client prints the verified sim summary"
grep -q '^katls-cat: attested: state=open evidence=sim' "$d/s.err"
ok $? "server prints its attested summary"
[ "$(tls_tx)" -ge $((tx0 + 2)) ]
ok $? "kTLS TX counter moved ($tx0 -> $(tls_tx))"
[ "$(stat_of verified)" -ge $((verified0 + 2)) ]
ok $? "katlsctl stat: verified counted both ends"

# --- item 17: truncation is not success (tests/lib/trunc-relay.py) ---
relay=$top/tests/lib/trunc-relay.py
# run_relay NAME PORT RELAY-OPTIONS: server --sendfile big, client sends
# up, through the relay on PORT+1; sets crc, src.
run_relay() {
	timeout 120 "$kcat" -q -l -p sim-demo --sendfile "$d/big" $2 </dev/null \
		>"$d/s.out" 2>"$d/s.err" &
	spid=$!
	katls_wait_listen $2
	timeout 120 python3 "$relay" $3 $(($2 + 1)) 127.0.0.1 $2 2>"$d/r.err" &
	rpid=$!
	katls_wait_listen $(($2 + 1))
	timeout 120 "$kcat" -q -p sim-demo 127.0.0.1 $(($2 + 1)) <"$d/up" \
		>"$d/c.out" 2>"$d/c.err"
	crc=$?
	wait $spid
	src=$?
	wait $rpid
}
run_relay plain 9020 ""
[ $crc -eq 0 ] && [ $src -eq 0 ] && cmp -s "$d/big" "$d/c.out" &&
	cmp -s "$d/up" "$d/s.out"
res=$?
ok $res "through a relay that does not cut: both exit 0, data intact"
[ $res -eq 0 ] || diag "$d/c.err" "$d/s.err" "$d/r.err"
run_relay records 9022 "--records --cut 1000000"
[ $crc -eq 1 ] && grep -q 'closed without TLS close_notify' "$d/c.err" &&
	[ "$(stat -c %s "$d/c.out")" -lt 1000000 ]
res=$?
ok $res "relay forwards whole records, then a FIN: the client exits 1 with $(stat -c %s "$d/c.out") of 3000000 bytes"
[ $res -eq 0 ] || { echo "# client $crc, server $src"; diag "$d/c.err" "$d/s.err" "$d/r.err"; }
run_relay midrecord 9024 "--cut 1000003"
[ $crc -eq 1 ] && grep -q 'closed without TLS close_notify' "$d/c.err"
res=$?
ok $res "relay cuts mid-record: the client exits 1"
[ $res -eq 0 ] || { echo "# client $crc, server $src"; diag "$d/c.err" "$d/s.err" "$d/r.err"; }
run_relay up 9026 "--dir up --records --cut 100000"
[ $src -eq 1 ] && grep -q 'closed without TLS close_notify' "$d/s.err" &&
	[ "$(stat -c %s "$d/s.out")" -lt "$(stat -c %s "$d/up")" ]
res=$?
ok $res "relay cuts the client's data: the server exits 1 with $(stat -c %s "$d/s.out") of $(stat -c %s "$d/up") bytes"
[ $res -eq 0 ] || { echo "# client $crc, server $src"; diag "$d/c.err" "$d/s.err" "$d/r.err"; }

# --- katlsctl list while a connection is open ---
timeout 60 "$kcat" -q -l -p sim-demo 9001 </dev/null >/dev/null 2>&1 &
spid=$!
katls_wait_listen 9001
(sleep 10) | timeout 60 "$kcat" -q -p sim-demo 127.0.0.1 9001 \
	>/dev/null 2>&1 &
cpid=$!
i=0
while [ $i -lt 50 ]; do
	"$ctl" list >"$d/list" 2>&1
	grep -q "2 sockets: 2 open" "$d/list" && break
	sleep 0.2
	i=$((i + 1))
done
grep -qE ' open +client +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:9001 ' "$d/list" &&
	grep -qE ' open +server +127\.0\.0\.1:9001 ' "$d/list"
ok $? "katlsctl list: both ends open, with addresses"
grep -q "2 sockets: 2 open" "$d/list" || diag "$d/list"
"$ctl" --json list >"$d/list.json"
python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
c = [s for s in v if s["state"] == "open" and s.get("policy") == "sim-demo"]
sys.exit(0 if len(c) >= 2 and all(s["family"] == "inet" for s in c) else 1)
' "$d/list.json"
ok $? "katlsctl --json list parses, both ends open"
"$ctl" --json stat | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["verified"] >= 4 else 1)'
ok $? "katlsctl --json stat parses"
wait $spid $cpid

# --- non-blocking API on the real module (nbclient.c) ---
port=9010
for mode in start attach; do
	timeout 60 "$kcat" -q -l -p sim-demo $port </dev/null >"$d/s.out" \
		2>"$d/s.err" &
	spid=$!
	katls_wait_listen $port
	timeout 60 "$top/tests/e2e/build/nbclient" $mode 127.0.0.1 $port \
		sim-demo >"$d/nb.out" 2>&1
	crc=$?
	wait $spid
	[ $crc -eq 0 ] && grep -q '^state=open evidence=sim' "$d/nb.out" &&
		[ "$(cat "$d/s.out")" = "nbclient $mode" ]
	ok $? "libkatls non-blocking ($mode): open, data delivered"
	[ $crc -eq 0 ] || diag "$d/nb.out"
	port=$((port + 1))
done
timeout 60 "$kcat" -q -l -p sim-demo $port </dev/null >/dev/null 2>&1 &
spid=$!
katls_wait_listen $port
timeout 60 "$top/tests/e2e/build/nbclient" start 127.0.0.1 $port \
	sim-wrong >"$d/nb.out" 2>&1
crc=$?
wait $spid
[ $crc -eq 1 ] && grep -qx 'errno EACCES' "$d/nb.out"
ok $? "libkatls non-blocking, wrong measurement: POLLERR, EACCES"
[ $crc -eq 1 ] || diag "$d/nb.out"

# --- the end of stream on the kernel's own kTLS (no agent involved) ---
"$top/tests/e2e/build/ktls-eof" >"$d/eof.tap" 2>&1
res=$?
ok $res "kTLS end of stream as documented: ktls-eof $(grep -c '^ok' "$d/eof.tap") checks passed"
[ $res -eq 0 ] || diag "$d/eof.tap"

# --- failing closed ---
timeout 60 "$kcat" -l -p sim-demo 9002 </dev/null >"$d/s.out" 2>"$d/s.err" &
spid=$!
katls_wait_listen 9002
echo secret | timeout 60 "$kcat" -p sim-wrong 127.0.0.1 9002 >/dev/null \
	2>"$d/c.err"
crc=$?
wait $spid
src=$?
[ $crc -eq 1 ] && grep -q "status=EACCES" "$d/c.err"
ok $? "wrong measurement: client exits 1, status EACCES"
[ $crc -eq 1 ] || diag "$d/c.err"
[ $src -eq 1 ] && [ ! -s "$d/s.out" ]
ok $? "wrong measurement: server exits 1, no byte delivered"

timeout 60 "$kcat" -l -p sim-demo 9003 </dev/null >/dev/null 2>&1 &
spid=$!
katls_wait_listen 9003
timeout 60 "$kcat" -p no-such-policy 127.0.0.1 9003 </dev/null >/dev/null \
	2>"$d/c.err"
crc=$?
wait $spid
[ $crc -eq 1 ] && grep -q "policy unknown to katlsd" "$d/c.err"
ok $? "unknown policy: client exits 1 and says so"

# --- IPv6 ---
timeout 60 "$kcat" -q -l -6 -p sim-demo 9004 </dev/null >"$d/s.out" \
	2>"$d/s.err" &
spid=$!
katls_wait_listen 9004
echo hello6 | timeout 60 "$kcat" -q -6 -p sim-demo ::1 9004 >/dev/null \
	2>"$d/c.err"
crc=$?
wait $spid
src=$?
[ $crc -eq 0 ] && [ $src -eq 0 ] && [ "$(cat "$d/s.out")" = hello6 ]
ok $? "IPv6: attested transfer over ::1"
[ $crc -eq 0 ] || diag "$d/c.err"

kill $apid 2>/dev/null
wait $apid 2>/dev/null
if [ $tap_failed -ne 0 ]; then
	sed 's/^/# katlsd: /' "$d/katlsd.log"
fi

# --- item 5: the host name is the name the server must prove ---
# A second agent in CA mode: its trust store holds the server's own
# certificate, valid for other.example only, and the policy sim-ca does
# not trust evidence-bound keys.  Before item 5, katls-cat sent no name
# and katlsd took the CA-valid certificate for any name.
mkdir -p "$d/ca/policy.d"
printf 'name sim-ca\nallow sim\nmeasurement %s\n' \
	"$(sed -n 's/^measurement //p' "$top/etc/katls/policy.d/sim-demo.policy")" \
	>"$d/ca/policy.d/sim-ca.policy"
certtool --generate-privkey --key-type=ecdsa --outfile "$d/ca/key.pem" \
	2>/dev/null
printf 'cn = other.example\ndns_name = other.example\nexpiration_days = 2\nsigning_key\ncert_signing_key\nca\n' \
	>"$d/ca/tmpl"
certtool --generate-self-signed --load-privkey "$d/ca/key.pem" \
	--template "$d/ca/tmpl" --outfile "$d/ca/cert.pem" 2>/dev/null
katls_conf "$d/ca/katlsd.conf" 4 info "$d/ca/policy.d" "$d/ca/cert.pem" \
	"$d/ca/key.pem" "$d/ca/cert.pem"
"$top/userspace/katlsd/build/katlsd" --foreground --config "$d/ca/katlsd.conf" \
	>"$d/ca/katlsd.log" 2>&1 &
apid=$!
katls_wait_started "$d/ca/katlsd.log"
port=9030
for name in "" other.example; do
	timeout 60 "$kcat" -q -l -p sim-ca $port </dev/null >"$d/s.out" \
		2>"$d/s.err" &
	spid=$!
	katls_wait_listen $port
	echo secret | timeout 60 "$kcat" -p sim-ca ${name:+-n $name} \
		127.0.0.1 $port >/dev/null 2>"$d/c.err"
	crc=$?
	wait $spid
	if [ -z "$name" ]; then
		[ $crc -eq 1 ] && grep -q 'status=EACCES' "$d/c.err" &&
			[ ! -s "$d/s.out" ]
		res=$?
		ok $res "CA mode: a CA-valid certificate for another name than the host 127.0.0.1 is refused"
	else
		[ $crc -eq 0 ] && [ "$(cat "$d/s.out")" = secret ]
		res=$?
		ok $res "CA mode, -n other.example: the certificate's own name is accepted"
	fi
	[ $res -eq 0 ] || { diag "$d/c.err" "$d/s.err"; sed 's/^/# katlsd: /' "$d/ca/katlsd.log"; }
	port=$((port + 1))
done
kill $apid 2>/dev/null
wait $apid 2>/dev/null
rm -rf "$d"
tap_done
