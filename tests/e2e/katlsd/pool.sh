#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Issue 13 item 3: katlsd's worker pool, each case on a katlsd of its own
# (e2e.sh stops its own first: two agents would share the requests).
#   many   256 concurrent attested pairs (512 requests) with a 2 s quote:
#          all open, katlsd's process count stays at the pool's size
#   kill   SIGKILL of one pool worker fails exactly its requests
#          (ECONNABORTED), the parent replaces it, later handshakes work
#   limit  per-peer and per-uid limits: a flood holds at most its limit,
#          overflows the bounded wait queue with EBUSY, and another
#          address's / user's pair opens at once
# TAP lines on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
. "$top/tests/lib/tap.sh"
e2e=$top/tests/e2e/build/katlsd-e2e
d=$(mktemp -d)
rc=0
pid=
# POOL_CASES: a subset by hand, e.g. "kill peer" (default: all four)
cases=${POOL_CASES:-many kill peer uid}
want() { case " $cases " in *" $1 "*) return 0 ;; esac; return 1; }

# start CONCURRENCY "[katlsd] lines": a fresh katlsd with its own log
start() {
	katls_conf "$d/katlsd.conf" "$1" debug "$d/policy.d" "$d/cert.pem" \
		"$d/key.pem"
	printf '[katlsd]\n%b' "$2" >>"$d/katlsd.conf"
	: >"$d/katlsd.log"
	"$top/userspace/katlsd/build/katlsd" --foreground \
		--config "$d/katlsd.conf" >"$d/katlsd.log" 2>&1 &
	pid=$!
	katls_wait_started "$d/katlsd.log"
}

stop() {
	kill -TERM "$pid"
	wait "$pid"
	[ $rc = 0 ] && [ "$tap_failed" = 0 ] || sed 's/^/# pool katlsd: /' "$d/katlsd.log" | tail -n 60
	cat "$d/katlsd.log" >>"$d/all.log"
}

mkdir -p "$d/policy.d"
cp "$top/etc/katls/policy.d/sim-demo.policy" "$d/policy.d/"
katls_self_signed "$d" katls-e2e 127.0.0.2 127.0.0.3

if want many; then
echo "# pool: 256 pairs at once, 2 workers"
start 512 'workers = 2\nmax_per_uid = 512\nmax_per_peer = 512\n'
check "pool: katlsd logs its pool (2 workers, 256 handshakes each)" \
	grep -q "in 2 workers (256 each)" "$d/katlsd.log"
"$e2e" pool-many 256 2 || rc=1
check "pool: no fork per handshake (no process named after a role)" \
	sh -c "! grep -q 'katlsd-server\|katlsd-client' /proc/[0-9]*/comm 2>/dev/null"
stop
fi

if want kill; then
echo "# pool: a worker killed"
start 8 'workers = 2\n'
KATLSD_PID=$pid "$e2e" pool-kill 2 || rc=1
check "pool kill: the parent logged the killed worker" \
	grep -q "killed by signal 9; the kernel fails its" "$d/katlsd.log"
stop
fi

if want peer; then
echo "# pool: per-peer limit"
start 4 'workers = 2\nmax_per_peer = 2\nmax_per_uid = 4\nmax_waiting = 2\n'
"$e2e" pool-limit peer || rc=1
check "limit peer: katlsd logged waiters at the per-peer limit" \
	grep -q "peer 127.0.0.3 runs 2 (max_per_peer 2)" "$d/katlsd.log"
check "limit peer: katlsd logged the refusals (EBUSY)" \
	grep -q "over their limit .* waiting already: EBUSY" "$d/katlsd.log"
stop
fi

if want uid; then
echo "# pool: per-uid limit"
start 4 'workers = 2\nmax_per_peer = 4\nmax_per_uid = 2\nmax_waiting = 2\n'
"$e2e" pool-limit uid || rc=1
check "limit uid: katlsd logged waiters at the per-uid limit" \
	grep -q "uid 65534 runs 2 (max_per_uid 2)" "$d/katlsd.log"
stop
fi

rm -rf "$d"
tap_done || rc=1
exit $rc
