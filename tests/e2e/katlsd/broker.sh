#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Issue 13 item 2: katlsd's quote broker, on a katlsd of its own (e2e.sh
# stops its own first: two agents would share the requests).  Stale
# configfs-tsm entries swept at start-up; a deadline the next report
# cannot meet fails at once with ETIMEDOUT; concurrent handshakes share
# reports (batches of 2..max_batch); workers killed while waiting leave
# no entry.  TAP lines on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
. "$top/tests/lib/tap.sh"
e2e=$top/tests/e2e/build/katlsd-e2e
root=/sys/kernel/config/tsm/report
d=$(mktemp -d)
rc=0

# (d) stale entries: one of a process that is gone, one of a live one.
dead=999999
while kill -0 $dead 2>/dev/null; do dead=$((dead + 1)); done
mkdir "$root/katls-$dead-1" "$root/katls-$$-1"

mkdir -p "$d/policy.d"
cp "$top/etc/katls/policy.d/sim-demo.policy" "$d/policy.d/"
katls_self_signed "$d" katls-e2e
katls_conf "$d/katlsd.conf" 32 debug "$d/policy.d" "$d/cert.pem" "$d/key.pem"
printf '[evidence]\nmax_batch = 4\n' >>"$d/katlsd.conf"
"$top/userspace/katlsd/build/katlsd" --foreground --config "$d/katlsd.conf" \
	>"$d/katlsd.log" 2>&1 &
pid=$!
katls_wait_started "$d/katlsd.log"
# The sweep and the broker's start are logged after "started".
katls_wait_for "quote broker: up to" "$d/katlsd.log"

check "start-up: the stale entry of a process that is gone is removed" \
	test ! -d "$root/katls-$dead-1"
check "start-up: ... and its removal is logged" \
	grep -q "removed stale $root/katls-$dead-1" "$d/katlsd.log"
check "start-up: the entry of a live process is kept" test -d "$root/katls-$$-1"
rmdir "$root/katls-$$-1"
check "katlsd forks a quoter (katlsd-quoter)" \
	grep -q "quote broker: up to 4 handshakes per report" "$d/katlsd.log"

# (b) deadline, first: the broker's estimate is this katlsd's first report.
"$e2e" broker-deadline || rc=1
check "deadline: the broker logged the ETIMEDOUT" \
	grep -q "its deadline passes before the next report: ETIMEDOUT" \
	"$d/katlsd.log"

# (a) concurrent handshakes share reports, never more than max_batch.
"$e2e" broker-batch || rc=1
check "batching: at least one report served a batch of 2 or more" \
	grep -Eq "report for a batch of [2-9]: ok" "$d/katlsd.log"
check "batching: no batch over max_batch (4)" \
	sh -c "! grep -Eq 'report for a batch of ([5-9]|[1-9][0-9]+)' '$d/katlsd.log'"
check "batching: servers got leaves of shared reports (leaf i of n, n >= 2)" \
	grep -Eq "leaf [0-9]+ of [2-9]\)" "$d/katlsd.log"

# (c) workers killed while waiting.
KATLSD_PID=$pid "$e2e" broker-kill || rc=1
check "killed worker: the broker saw a worker go while waiting" \
	grep -q "went away while waiting for evidence" "$d/katlsd.log"
check "killed workers: the abandoned report's quoter was stopped" \
	grep -q "every handshake of its batch went away" "$d/katlsd.log"

kill -TERM $pid
wait $pid
check "katlsd stops cleanly" grep -q "stopped" "$d/katlsd.log"
check "no katls-* configfs-tsm entry is left after the stop" \
	sh -c "! ls '$root' | grep -q '^katls-'"
grep "quote broker: .* reports" "$d/katlsd.log" | sed 's/^/# /'
[ $rc = 0 ] && [ "$tap_failed" = 0 ] || sed 's/^/# broker katlsd: /' "$d/katlsd.log"
rm -rf "$d"
tap_done || rc=1
exit $rc
