#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/pair/server.sh SYNC KVER IP - the server guest of tools/vm-pair
# (attester: katls.ko, the simulated TSM provider, katlsd with a
# throw-away identity for IP).  Its peer is tests/e2e/pair/client.sh in
# another guest, on the same virtual link (virtio-net, eth0).  SYNC is a
# directory both guests share (9p); the protocol:
#
#   server: SYNC/big.sha256      the SHA-256 of the file it serves
#   server: SYNC/server.ready    katlsd runs, both ports listen
#           (or SYNC/server.failed: it cannot serve; the client stops)
#   client: SYNC/up.sha256       the SHA-256 of what it sends
#   client: SYNC/client.done     it has finished (also after a failure)
#
# Port 9000: an attested transfer both ways (the server sends a 4 MB file
# with sendfile(2), the client a 300 kB one); port 9002: the same server,
# which the client's policy (a measurement the simulated provider never
# reports) must reject.  Prints TAP.
set -u
sync=$1 kver=$2 ip=$3
role=server # read by pair-lib.sh
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/pair/pair-lib.sh
. "$here/pair-lib.sh"
trap '[ -e "$sync/server.ready" ] || : >"$sync/server.failed"' EXIT

pair_begin "$kver" "$ip"
[ -d /sys/module/katls_sim_tsm ] && [ -d /sys/kernel/config/tsm/report ]
ok $? "server: simulated TSM provider registered (configfs-tsm)"

# katlsd attests as the server; its certificate names IP (the client
# checks the name it connected to, even for an evidence-bound key).
katls_self_signed "$d" katls-pair-server "$ip"
katls_conf "$d/katlsd.conf" 8 info "$d/policy.d" "$d/cert.pem" "$d/key.pem"
pair_agent
res=$?
ok $res "server: katlsd started (attester)"
if [ $res -ne 0 ]; then
	diag "$d/katlsd.log"
	tap_done
	exit 1
fi

head -c 4000000 /dev/urandom >"$d/big"
printf 'KATLS-PAIR-PLAINTEXT-MARKER-DOWN\n' >>"$d/big"
pair_sha "$d/big" >"$sync/big.sha256.tmp" &&
	mv "$sync/big.sha256.tmp" "$sync/big.sha256"
timeout 300 "$kcat" -l -4 -p sim-demo --sendfile "$d/big" 9000 </dev/null \
	>"$d/s.out" 2>"$d/s.err" &
spid=$!
timeout 300 "$kcat" -l -4 -p sim-demo --sendfile "$d/big" 9002 </dev/null \
	>"$d/r.out" 2>"$d/r.err" &
rpid=$!
katls_wait_listen 9000 && katls_wait_listen 9002
res=$?
ok $res "server: katls-cat listens on $ip ports 9000 and 9002"
if [ $res -eq 0 ]; then
	: >"$sync/server.ready"
else
	: >"$sync/server.failed"
fi

f=$(pair_wait "$sync/client.done" 240)
ok $? "server: the client guest finished within 240 s"
pair_reap 30 $spid $rpid
eval "src=\$rc_$spid rrc=\$rc_$rpid"

[ $src -eq 0 ] && [ -f "$sync/up.sha256" ] &&
	[ "$(pair_sha "$d/s.out")" = "$(cat "$sync/up.sha256")" ]
res=$?
ok $res "server: attested transfer: exit 0, the client's $(stat -c %s "$d/s.out") bytes arrived intact (sha256)"
[ $res -eq 0 ] && grep -q '^katls-cat: attested: state=open evidence=sim' "$d/s.err"
ok $? "server: katls-cat printed its attested summary"
[ $res -eq 0 ] || { echo "# katls-cat exit $src"; diag "$d/s.err"; }

[ $rrc -eq 1 ] && [ ! -s "$d/r.out" ]
res=$?
ok $res "rejected by the client's policy: the server exits 1 ($rrc), no byte of the client delivered"
[ $res -eq 0 ] || diag "$d/r.err"

pair_end
