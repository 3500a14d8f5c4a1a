#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the guest (tools/bench/run): guest.sh OUTDIR SECS ROUNDS HANDSHAKE
# runs the data-path benchmark and, if HANDSHAKE is 1, the handshake
# benchmark against a katlsd started here with a fresh key.
set -u
out=$1 secs=$2 rounds=$3 hs=$4
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rc=0

{
	echo "kernel: $(uname -r)"
	echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
	grep -m1 '^model name' /proc/cpuinfo
	grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
		grep -E '^(aes|pclmulqdq|avx|avx2|vaes|vpclmulqdq|avx512f)$' |
		tr '\n' ' '
	echo
	grep -E 'MemTotal' /proc/meminfo
} >"$out/guest.txt"

# HANDSHAKE 2: only the handshake benchmark.
if [ "$hs" != 2 ]; then
"$here/build/bench_datapath" -t "$secs" -r "$rounds" -o "$out/datapath.csv" \
	2>&1 | tee "$out/datapath.log" || rc=1
# Which drivers did kTLS use?
grep -B1 -A4 -E '^name *: (gcm\(aes\)|rfc7539\(chacha20,poly1305\))' /proc/crypto |
	grep -E '^(name|driver|priority)' >"$out/crypto.txt" 2>/dev/null
cat /proc/net/tls_stat >"$out/tls_stat.txt" 2>/dev/null
# no_pad_failed: hand-overs where TLS_RX_EXPECT_NO_PAD could not be set.
cat /proc/net/katls_stat >"$out/katls_stat.txt" 2>/dev/null

# Issue 13 item 4: DONE and unrelated genl closes, 1k vs 100k opted in.
sysctl -qw fs.nr_open=1048576 2>/dev/null
"$here/build/bench_kernel" 2>&1 | tee "$out/kernel.log" || rc=1
fi

if [ "$hs" != 0 ] && [ -x "$here/hs.sh" ]; then
	sh "$here/hs.sh" "$out" 2>&1 | tee "$out/handshake.log" || rc=1
fi
exit $rc
