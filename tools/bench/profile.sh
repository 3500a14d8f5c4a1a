#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the guest: profile.sh OUTDIR [CIPHER [SIZE]]
# System-wide perf profile (cpu-clock: TCG has no PMU) of one data-path
# variant at a time, to explain the ratios of bench_datapath.  Run with
#   tools/katls-vm run --no-agent --smp 2 --mem 2G --share DIR -- \
#       tools/bench/profile.sh DIR
set -u
out=$1 cipher=${2:-aes128gcm} size=${3:-16k}
here=$(cd "$(dirname "$0")" && pwd)
bin=${BENCH_BIN:-$here/build/bench_datapath}
perf=$(command -v perf) || { echo "profile.sh: no perf"; exit 1; }
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid
for v in katls ktls gnutls; do
	"$perf" record -q -a -F 499 -e cpu-clock -o "$out/perf-$v.data" -- \
		"$bin" -n -r 1 -t 3 -s "$size" -c "$cipher" -v "$v" \
		>"$out/profile-$v.log" 2>&1
	"$perf" report -i "$out/perf-$v.data" --stdio --no-children \
		--sort comm,dso,sym --percent-limit 1.5 2>/dev/null |
		grep -v '^$' >"$out/profile-$v.txt"
	echo "== $v: $(grep -E "^$cipher" "$out/profile-$v.log" | head -1)"
	grep -E '^ +[0-9]' "$out/profile-$v.txt" | head -25
	# Share of all samples in katls.ko (0 when the module is out of
	# the data path).
	k=$("$perf" report -i "$out/perf-$v.data" --stdio --no-children \
		--sort dso --percent-limit 0 2>/dev/null |
		awk '$2 == "[katls]" { print $1 }')
	echo "   samples in [katls]: ${k:-0%}"
done
