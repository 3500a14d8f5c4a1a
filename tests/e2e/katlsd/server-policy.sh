#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/katlsd/server-policy.sh DIR - the server role evaluates
# the policy it names (issue 11 item 18), in the 6.12 guest, run by
# e2e.sh with its katlsd running (log in DIR/katlsd.log; policies
# sim-demo and sim-wrong, no policy named "default").  Prints TAP lines
# (no plan; e2e.sh numbers them).
set -u
d=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
kcat=$top/userspace/cli/build/katls-cat
. "$top/tests/lib/tap.sh"
t=$(mktemp -d)

# exchange PORT SERVER-ARGS...: katls-cat -l SERVER-ARGS on PORT, a
# katls-cat client under sim-demo sends a line; sets src, crc.
exchange() {
	port=$1
	shift
	timeout 60 "$kcat" -l "$@" 127.0.0.1 "$port" </dev/null \
		>"$t/s.out" 2>"$t/s.err" &
	spid=$!
	katls_wait_listen "$port"
	echo "hello server" | timeout 60 "$kcat" -p sim-demo 127.0.0.1 \
		"$port" >/dev/null 2>"$t/c.err"
	crc=$?
	wait $spid
	src=$?
}

exchange 9310 -p no-such-policy
[ $src -eq 1 ] && grep -q 'status=EINVAL' "$t/s.err" && [ ! -s "$t/s.out" ] &&
	[ $crc -ne 0 ]
res=$?
ok $res "server with an unknown policy: fails with EINVAL, nothing delivered, client fails"
[ $res -eq 0 ] || diag "$t/s.err" "$t/c.err"
# The worker (one pid per request) that took the server-role request.
w=$(grep 'server role, policy no-such-policy' "$d/katlsd.log" |
	sed -n 's/.*\(katlsd\[[0-9]*\]\).*/\1/p' | tail -n 1)
[ -n "$w" ] && grep -F "$w" "$d/katlsd.log" |
	grep -q 'failed: unknown policy "no-such-policy"'
ok $? "server with an unknown policy: katlsd's server worker names the cause"

exchange 9311
[ $src -eq 1 ] && grep -q 'status=EINVAL' "$t/s.err" && [ ! -s "$t/s.out" ]
res=$?
ok $res "server without -p (libkatls sends \"default\", which does not exist): EINVAL"
[ $res -eq 0 ] || diag "$t/s.err"

exchange 9312 -p sim-demo
[ $src -eq 0 ] && [ $crc -eq 0 ] &&
	grep -q '^katls-cat: attested: state=open .*policy=sim-demo$' "$t/s.err" &&
	[ "$(cat "$t/s.out")" = "hello server" ]
res=$?
ok $res "server with an existing policy: open, KATLS_RESULT reports policy=sim-demo"
[ $res -eq 0 ] || diag "$t/s.err" "$t/c.err"

rm -rf "$t"
tap_done
