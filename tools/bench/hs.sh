#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the guest (guest.sh): hs.sh OUTDIR
# Kernel memory per pending socket (before any agent runs), then katlsd
# with a fresh ECDSA P-256 key and the sim-demo policy, and the handshake
# benchmark against it.
set -u
out=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
csv=$out/handshake.csv
rm -f "$csv"

# BENCH_HS_PROFILE=1: no benchmark; a system-wide perf profile (cpu-clock:
# TCG has no PMU) of attested, then bare handshakes at 64 in flight with
# instant quotes, into OUTDIR/profile-hs-{attested,bare}.{data,txt,log}.
profile=${BENCH_HS_PROFILE:-0}
[ "$profile" = 1 ] || "$here/build/bench_handshake" mem -n 1000 -o "$csv" ||
	echo "hs.sh: mem failed"

[ -e /sys/module/katls_sim_tsm ] || { echo "hs.sh: no katls_sim_tsm loaded"; exit 1; }
d=$(mktemp -d)
mkdir "$d/policy.d"
cp "$top/etc/katls/policy.d/sim-demo.policy" "$d/policy.d/"
# binding = post (issue 14): sim-demo's pins, the Exported Authenticator
# exchange after the handshake; bench_handshake -P measures it.
sed -e 's/^name sim-demo/name sim-post/' "$d/policy.d/sim-demo.policy" \
	>"$d/policy.d/sim-post.policy"
echo "binding post" >>"$d/policy.d/sim-post.policy"
certtool --generate-privkey --key-type=ecdsa --outfile "$d/key.pem" 2>/dev/null
printf 'cn = katls-bench\nexpiration_days = 2\nsigning_key\n' >"$d/tmpl"
certtool --generate-self-signed --load-privkey "$d/key.pem" \
	--template "$d/tmpl" --outfile "$d/cert.pem" 2>/dev/null
# 512 in flight: an attested pair is two requests, so concurrency 512
# lets 512 of them run at once in katlsd's worker pool (issue 13 item 3:
# a fixed number of worker processes, one thread per handshake; the rest
# queue in the kernel); the bare side gets the same number of handshake
# slots.  Every request comes from one uid and one loopback address, so
# the per-uid and per-peer limits are set to the whole concurrency (the
# defaults, 3/4, would make a quarter wait).  info: the quote broker's
# "report for a batch of N" lines (bench_handshake -l) are info.
workers=${BENCH_HS_WORKERS:-512}
katls_conf "$d/katlsd.conf" $workers info "$d/policy.d" "$d/cert.pem" \
	"$d/key.pem"
printf '[katlsd]\nmax_per_uid = %s\nmax_per_peer = %s\n' $workers $workers \
	>>"$d/katlsd.conf"
"$top/userspace/katlsd/build/katlsd" --foreground --config "$d/katlsd.conf" \
	>"$d/log" 2>&1 &
pid=$!
i=0
while ! grep -q "started" "$d/log" && [ $i -lt 100 ]; do
	sleep 0.2
	i=$((i + 1))
done
rc=0
if [ "$profile" = 1 ]; then
	echo 0 >/proc/sys/kernel/kptr_restrict
	echo -1 >/proc/sys/kernel/perf_event_paranoid
	for m in attested bare; do
		p=$out/profile-hs-$m
		perf record -q -a -F 499 -e cpu-clock -o "$p.data" -- \
			"$here/build/bench_handshake" run -M $m -i 64 -q 0 \
			-t "${BENCH_HS_SECS:-4}" -w $workers -p sim-demo \
			>"$p.log" 2>&1 || rc=1
		echo "== $m: $(grep -E "^$m " "$p.log" | head -1)"
		for sort in comm comm,dso comm,dso,sym; do
			echo "-- by $sort"
			perf report -i "$p.data" --stdio --no-children \
				--sort $sort --percent-limit 1 2>/dev/null |
				grep -E '^ +[0-9]'
		done >"$p.txt"
		cat "$p.txt"
	done
else
	"$here/build/bench_handshake" run -t "${BENCH_HS_SECS:-2}" -w $workers \
		-p sim-demo -P sim-post -q "${BENCH_HS_QUOTE_MS:-50}" \
		-l "$d/log" -o "$csv" || rc=1
fi
kill -TERM $pid
sleep 0.5
echo "hs.sh: katlsd log (tail):"
tail -20 "$d/log" | sed 's/^/  /'
cp "$d/log" "$out/katlsd.log" 2>/dev/null
rm -rf "$d"
exit $rc
