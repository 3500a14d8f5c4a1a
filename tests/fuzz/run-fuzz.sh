#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/fuzz/run-fuzz.sh SECONDS EVIDENCE-DIR FUZZER...
# Runs each libFuzzer harness (built with -fsanitize=fuzzer,address,
# undefined) as one TAP test point:
#   1. over its regression inputs, tests/fuzz/regress/<name>/ (crashes
#      found earlier: each must stay fixed);
#   2. for SECONDS seconds from a fresh corpus seeded with the samples of
#      EVIDENCE-DIR and tests/fuzz/corpus/<name>/.
# A crash, leak, sanitizer report or timeout is a failed test; its input
# is kept under $KATLS_FUZZ_ARTIFACTS (default: a temp dir) to be added to
# regress/.
set -u
secs=$1 ev=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
art=${KATLS_FUZZ_ARTIFACTS:-$(mktemp -d /tmp/katls-fuzz-artifacts.XXXXXX)}
work=$(mktemp -d /tmp/katls-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
n=0 failed=0

seed() {	# seed NAME DIR: copy the samples that fit the harness
	local name=$1 dir=$2
	case $name in
	tdx)		cp "$ev"/tdx/*.dat "$ev"/tdx/*.bin "$ev"/tdx/negative/*.dat "$dir" ;;
	snp)		cp "$ev"/sev-snp/*.bin "$ev"/sev-snp/negative/*.bin "$dir" ;;
	cca)		cp "$ev"/cca/*.cbor "$dir" ;;
	tdx_collateral)	cp "$here"/../unit/verify/data/tdx-collateral/*.json "$dir" ;;
	esac 2>/dev/null
	if [ -d "$here/corpus/$name" ]; then
		cp "$here/corpus/$name"/* "$dir" 2>/dev/null
	fi
	return 0
}

echo "TAP version 13"
for f in "$@"; do
	name=$(basename "$f"); name=${name#fuzz_}
	n=$((n + 1))
	log=$work/$name.log
	rc=0
	if [ -d "$here/regress/$name" ] && [ -n "$(ls -A "$here/regress/$name")" ]; then
		"$f" -runs=1 "$here/regress/$name"/* >"$log" 2>&1 || rc=$?
	fi
	if [ $rc -eq 0 ]; then
		corpus=$work/corpus-$name
		mkdir -p "$corpus" "$art/$name"
		seed "$name" "$corpus"
		KATLS_EVIDENCE_DIR=$ev "$f" -max_total_time="$secs" -timeout=20 \
			-rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
			-artifact_prefix="$art/$name/" "$corpus" >"$log" 2>&1 || rc=$?
	fi
	runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
	if [ $rc -eq 0 ]; then
		echo "ok $n - fuzz_$name: ${runs:-?} inputs in ${secs}s, no crash"
	else
		failed=$((failed + 1))
		echo "not ok $n - fuzz_$name: exit $rc (artifacts in $art/$name)"
		grep -E 'ERROR|SUMMARY|Test unit written|runtime error' "$log" | head -10 | sed 's/^/# /'
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ] && rm -rf "$art"
[ "$failed" -eq 0 ]
