#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/pair/client.sh SYNC KVER IP SERVER_IP - the client guest of
# tools/vm-pair (verifier: katls.ko and katlsd, no TSM provider needed),
# against tests/e2e/pair/server.sh in another guest on the same virtual
# link (virtio-net, eth0); SYNC is the directory both share (see
# server.sh for the protocol).  Checks the attested transfer (SHA-256 of
# the server's file), captures it on eth0 and checks that the capture is
# TLS records and nothing else (tls-records.py) with no plaintext marker,
# then connects with a policy that rejects the server: katls-cat must
# fail with EACCES and deliver no byte.  Prints TAP.
set -u
sync=$1 kver=$2 ip=$3 sip=$4
role=client # read by pair-lib.sh
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/pair/pair-lib.sh
. "$here/pair-lib.sh"
trap ': >"$sync/client.done"' EXIT
rx() { awk '$1 == "TlsRxSw" { print $2 }' /proc/net/tls_stat; }

pair_begin "$kver" "$ip"

# katlsd verifies as the client: sim-demo (the simulated provider's
# measurement) and sim-wrong (a measurement it never reports).  No
# server identity, no trust store: only evidence-bound keys pass.
printf 'name sim-wrong\nallow sim\nmeasurement %s\nevidence_bound_key allow\n' \
	"$(printf '99%.0s' $(seq 48))" >"$d/policy.d/sim-wrong.policy"
katls_conf "$d/katlsd.conf" 8 info "$d/policy.d"
pair_agent
res=$?
ok $res "client: katlsd started (verifier)"
[ $res -eq 0 ] || diag "$d/katlsd.log"

f=$(pair_wait "$sync/server.ready" "$sync/server.failed" 180)
[ $? -eq 0 ] && [ "$f" = "$sync/server.ready" ]
res=$?
ok $res "client: the server guest is ready within 180 s"
if [ $res -ne 0 ]; then
	tap_done
	exit 1
fi

# --- the attested transfer over virtio-net, captured on eth0 ---
head -c 300000 /dev/urandom >"$d/up"
printf 'KATLS-PAIR-PLAINTEXT-MARKER-UP\n' >>"$d/up"
pair_sha "$d/up" >"$sync/up.sha256"
tcpdump --immediate-mode -B 32768 -Z root -i eth0 -U -w "$d/cap.pcap" \
	tcp port 9000 2>"$d/tcpdump.err" &
tpid=$!
katls_wait_for listening "$d/tcpdump.err"
rx0=$(rx)
timeout 240 "$kcat" -4 -p sim-demo "$sip" 9000 <"$d/up" >"$d/c.out" \
	2>"$d/c.err"
crc=$?
sleep 1
kill -INT $tpid
wait $tpid
[ $crc -eq 0 ] && [ "$(pair_sha "$d/c.out")" = "$(cat "$sync/big.sha256")" ]
res=$?
ok $res "client: attested transfer from $sip: exit 0, $(stat -c %s "$d/c.out") bytes intact (sha256)"
[ $res -eq 0 ] || { echo "# katls-cat exit $crc"; diag "$d/c.err"; }
grep -qE '^katls-cat: verified: state=open evidence=sim binding=L2 measurement=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f digest=[0-9a-f]{64} policy=sim-demo$' "$d/c.err"
ok $? "client: katls-cat printed the verified sim summary"
[ "$(rx)" -gt "$rx0" ]
ok $? "client: the kernel's kTLS received the data (TlsRxSw $rx0 -> $(rx))"
grep -q '^0 packets dropped by kernel' "$d/tcpdump.err" &&
	! grep -q KATLS-PAIR-PLAINTEXT-MARKER "$d/cap.pcap"
res=$?
ok $res "client: complete capture on eth0 ($(stat -c %s "$d/cap.pcap") bytes), no plaintext marker"
[ $res -eq 0 ] || diag "$d/tcpdump.err"
python3 "$here/tls-records.py" "$d/cap.pcap" 9000 4000000 >"$d/records" 2>&1
res=$?
ok $res "client: both directions on the wire are TLS records only, the file in application_data"
diag "$d/records"

# --- a server the client's policy rejects: fail closed ---
printf 'KATLS-PAIR-SECRET\n' | timeout 120 "$kcat" -4 -p sim-wrong "$sip" 9002 \
	>"$d/r.out" 2>"$d/r.err"
rrc=$?
[ $rrc -eq 1 ] && grep -q 'status=EACCES' "$d/r.err" && [ ! -s "$d/r.out" ]
res=$?
ok $res "client: rejected server (wrong measurement): exit 1 ($rrc), status EACCES, no byte delivered"
[ $res -eq 0 ] || diag "$d/r.err"

pair_end
