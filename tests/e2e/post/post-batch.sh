#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/post/post-batch.sh - issue 14 item 4: batched evidence
# (binder v1 batch mode, Documentation/binder.rst) for post-handshake
# leaves.  In the 6.12 guest (tools/vm-check's e2e stage; by hand:
#	tools/katls-vm run --no-agent --smp 1 -- sh tests/e2e/post/post-batch.sh)
# with a katlsd of its own (concurrency 32, max_batch 8) and the
# simulated TSM provider slowed to a 500 ms quote: NPAIR concurrent
# katls-cat pairs under a "binding post" policy and NBOTH under "binding
# both" (two leaves per connection: binder v1 in the handshake, binder
# ea v1 after it, on one request's broker line).  The leaves are the
# post-handshake report data (binder ea v1) of each connection; the quote
# broker puts the ones that arrive while a report is in flight into the
# next batch, and each authenticator carries the shared evidence with the
# connection's proof.  Asserted:
#
#  - every pair opens at level 3 on both ends and its data arrives;
#  - the broker served at least one report for a batch of 2 or more, and
#    none over max_batch (8); the batch sizes are printed;
#  - katlsd's servers sent post-handshake evidence as leaf i of n >= 2,
#    and its clients verified authenticators whose evidence vouches for a
#    batch (leaf i of n >= 2): the verifier recomputed its own binder ea
#    v1, the root from the path, then the batch report data;
#  - nothing in the log says a handshake failed.
# Prints TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/post/post-lib.sh
. "$here/post-lib.sh"
delay=/sys/module/katls_sim_tsm/parameters/delay_ms
NPAIR=${NPAIR:-12}
NBOTH=${NBOTH:-4}
BASE=9600
NALL=$((NPAIR + NBOTH))
pol_of() { [ "$1" -lt $NPAIR ] && echo sim-post || echo sim-both; }

tap_plan_lazy
mkdir -p "$d/policy.d"
for b in post both; do
	post_policy sim-$b $b '' "$top/etc/katls/policy.d/sim-demo.policy"
done
katls_self_signed "$d" katls-post-batch
katls_conf "$d/katlsd.conf" 32 debug "$d/policy.d" "$d/cert.pem" "$d/key.pem"
# one uid and one address: the fairness limits at the whole concurrency
printf '[katlsd]\nmax_per_uid = 32\nmax_per_peer = 32\n[evidence]\nmax_batch = 8\n' \
	>>"$d/katlsd.conf"
"$top/userspace/katlsd/build/katlsd" --foreground --config "$d/katlsd.conf" \
	>"$d/katlsd.log" 2>&1 &
apid=$!
katls_wait_started "$d/katlsd.log"
ok $? "katlsd (max_batch 8) started"

[ -w "$delay" ] && echo 500 >"$delay"
ok $? "simulated quote delay 500 ms"

i=0
while [ $i -lt $NALL ]; do
	port=$((BASE + i))
	printf 'server-%d\n' $i >"$d/s$i.in"
	timeout 120 "$kcat" -l -t 60000 -p "$(pol_of $i)" $port <"$d/s$i.in" \
		>"$d/s$i.out" 2>"$d/s$i.err" &
	echo $! >"$d/s$i.pid"
	i=$((i + 1))
done
i=0
while [ $i -lt $NALL ]; do
	katls_wait_listen $((BASE + i)) || echo "# port $((BASE + i)) not listening"
	i=$((i + 1))
done
# all clients at once
i=0
while [ $i -lt $NALL ]; do
	printf 'client-%d\n' $i |
		timeout 120 "$kcat" -t 60000 -p "$(pol_of $i)" 127.0.0.1 $((BASE + i)) \
		>"$d/c$i.out" 2>"$d/c$i.err" &
	echo $! >"$d/c$i.pid"
	i=$((i + 1))
done
fails=0
i=0
while [ $i -lt $NALL ]; do
	wait "$(cat "$d/c$i.pid")"
	crc=$?
	wait "$(cat "$d/s$i.pid")"
	src=$?
	if [ $crc -ne 0 ] || [ $src -ne 0 ] ||
	   ! grep -q "^katls-cat: verified: state=open evidence=sim binding=L3 " "$d/c$i.err" ||
	   ! grep -q "^katls-cat: attested: state=open evidence=sim binding=L3 " "$d/s$i.err" ||
	   [ "$(cat "$d/c$i.out")" != "server-$i" ] ||
	   [ "$(cat "$d/s$i.out")" != "client-$i" ]; then
		fails=$((fails + 1))
		echo "# pair $i: client $crc, server $src"
		diag "$d/c$i.err" "$d/s$i.err"
	fi
	i=$((i + 1))
done
echo 0 >"$delay"
ok $fails "$NPAIR binding=post and $NBOTH binding=both pairs, concurrent, open at level 3 on both ends, data intact ($fails failed)"

sizes=$(sed -n 's/.*quote broker: report for a batch of \([0-9]*\): ok.*/\1/p' \
	"$d/katlsd.log" | tr '\n' ' ')
echo "# batch sizes of the reports: ${sizes:-none}"
big=0 over=0 sum=0 n=0
for s in $sizes; do
	[ "$s" -ge 2 ] && big=$((big + 1))
	[ "$s" -gt 8 ] && over=$((over + 1))
	sum=$((sum + s))
	n=$((n + 1))
done
echo "# $n reports for $sum leaves"
[ $big -ge 1 ]
ok $? "the quote broker served $big report(s) for a batch of 2 or more"
[ $over -eq 0 ] && [ $n -ge 1 ]
ok $? "no batch over max_batch (8)"
[ $sum -eq $((NPAIR + 2 * NBOTH)) ]
ok $? "one leaf per exchange: $sum leaves for $NPAIR post and $NBOTH both servers (two each)"
grep -Eq "post-handshake: sim evidence from provider .*leaf [0-9]+ of ([2-9]|[1-9][0-9]+)\)" \
	"$d/katlsd.log"
ok $? "katlsd's servers sent post-handshake evidence as leaf i of n >= 2"
nb=$(grep -Ec "evidence vouches for a batch: leaf [0-9]+ of ([2-9]|[1-9][0-9]+)" \
	"$d/katlsd.log")
nv=$(grep -c "post-handshake: authenticator and evidence verified (level 3)" \
	"$d/katlsd.log")
echo "# clients: $nv authenticators verified, $nb of them with batch evidence"
[ "$nb" -ge 2 ] && [ "$nv" -eq $NALL ]
ok $? "katlsd's clients verified every authenticator, batch proofs among them"
! grep -q "failed: " "$d/katlsd.log"
ok $? "no request failed"

kill -TERM $apid
wait $apid
tap_done
rc=$?
[ $rc -eq 0 ] || sed 's/^/# katlsd: /' "$d/katlsd.log" | tail -150
rm -rf "$d"
exit $rc
