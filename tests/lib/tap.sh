# SPDX-License-Identifier: GPL-2.0
#
# tap.sh - TAP 13 from shell tests (sourced; POSIX sh), the shell twin of
# tap.h:
#
#	. "$top/tests/lib/tap.sh"
#	tap_plan N                   or tap_plan_lazy, then tap_done
#	ok STATUS NAME               one test point: passes if STATUS is 0
#	ok_diag STATUS NAME FILE...  ok; if the point fails, FILEs follow it
#	                             as diagnostics
#	check NAME CMD [ARG...]      runs CMD; one point on its exit status
#	diag [FILE...]               FILE (or stdin) as "# " comment lines
#	tap_done                     "1..N" after tap_plan_lazy; returns 0
#	                             only if every point passed
#
# There is no skip: a check that cannot run on this host is a failing
# point that says why.  A script whose points another script numbers
# (the parts of tests/e2e/katlsd/e2e.sh) prints no plan at all: it
# calls neither tap_plan nor tap_plan_lazy, only ok/check and tap_done.
# tools/tap-summary adds the points of a stage up.

tap_n=0
tap_failed=0
tap_lazy=0

tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

tap_plan_lazy() {
	echo "TAP version 13"
	tap_lazy=1
}

ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

ok_diag() {
	_tap_status=$1
	ok "$1" "$2"
	shift 2
	[ "$_tap_status" -eq 0 ] || diag "$@"
}

check() {
	_tap_name=$1
	shift
	"$@"
	ok $? "$_tap_name"
}

diag() {
	sed 's/^/# /' "$@"
}

tap_done() {
	[ "$tap_lazy" -eq 0 ] || echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}
