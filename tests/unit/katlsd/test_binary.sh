#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_binary.sh KATLSD - checks on the built daemon (TAP):
#   no test hook in the binary, command line, config errors with FILE:LINE,
#   the shipped example configuration and policies load, a clear error
#   when the katls netlink family is absent (the host has no module).
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
n=0 failed=0
ok() {	# ok COND-STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "TAP version 13"
echo "1..11"

syms=$(nm "$bin" 2>/dev/null | grep -c katlsd_test_)
nm "$bin" >/dev/null 2>&1; ok $? "nm reads $bin"
[ "$syms" -eq 0 ]; ok $? "no test hook symbol in the daemon ($syms)"

"$bin" --help | grep -q -- "--foreground"; ok $? "--help"
"$bin" --version | grep -q "^katlsd "; ok $? "--version"
"$bin" --bogus >/dev/null 2>&1; [ $? -eq 2 ]; ok $? "unknown option: exit 2"

out=$("$bin" --foreground --config "$here/conf/bad-duplicate.conf" 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "bad-duplicate.conf:3: duplicate key"
ok $? "bad config: FILE:LINE error, non-zero exit"

# The shipped example with its policy directory, run from the tree
# (truststore dropped: a fresh machine may have no system CA bundle).
sed -e "s|^policy_dir = .*|policy_dir = $top/etc/katls/policy.d|" \
	-e "s|^truststore = .*||" \
	"$top/etc/katls/katlsd.conf" > "$tmp/katlsd.conf"
out=$("$bin" --check-config --config "$tmp/katlsd.conf" 2>&1)
rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q ": OK"
ok $? "--check-config accepts the shipped example ($out)"
out=$("$bin" --check-config --config "$here/conf/bad-level.conf" 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "bad-level.conf:2:"
ok $? "--check-config rejects a bad file with FILE:LINE"
# issue 11 item 2: a configured path that does not exist fails -t.
printf '[verify]\nroots_dir = %s/no-such-roots\n' "$tmp" >>"$tmp/katlsd.conf"
out=$("$bin" --check-config --config "$tmp/katlsd.conf" 2>&1)
rc=$?
sed -i '/^roots_dir = /d' "$tmp/katlsd.conf"
[ $rc -ne 0 ] && echo "$out" | grep -q "roots_dir = $tmp/no-such-roots: No such file"
ok $? "--check-config rejects a missing roots_dir ($out)"

out=$(timeout 10 "$bin" --foreground --config "$tmp/katlsd.conf" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
echo "$out" | grep -q -e "cannot join the katls netlink" -e "started"
ok $? "example configuration and policies load (got as far as netlink)"
if [ -d /sys/module/katls ]; then
	echo "ok 11 - # SKIP katls module loaded on this host"
else
	[ $rc -eq 1 ] && echo "$out" | grep -q "is the katls module loaded"
	ok $? "no katls family: clear error, exit 1"
fi
exit $failed
