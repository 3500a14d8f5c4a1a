# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC2154
# (here, set by the sourcing script, is tests/e2e/post)
#
# Sourced by tests/e2e/post/post.sh, mutual.sh and post-batch.sh (the
# 6.12 e2e guest, tools/vm-check): the tree's paths and tools, the TAP
# and guest-agent helpers, a scratch directory $d, and the steps the
# post-handshake scripts share.  Sets top, kcat, ctl, d and meas.  POSIX
# sh.

top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
. "$top/tests/lib/tap.sh"
kcat=$top/userspace/cli/build/katls-cat
ctl=$top/userspace/cli/build/katlsctl
d=$(mktemp -d)
# the simulated provider's default measurement (sim-demo pins it)
meas=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f

stat_of() { "$ctl" stat | awk -v k="$1" '$1 == k { print $2 }'; }
tls_stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat; }

# post_policy NAME BINDING [EXTRA-LINES [FROM]]: the policy FROM (a file;
# default $d/policy.d/sim-demo.policy) renamed NAME, with "binding
# BINDING" and EXTRA-LINES (printf %b) appended, as
# $d/policy.d/NAME.policy.
post_policy() {
	sed -e "s/^name .*/name $1/" "${4:-$d/policy.d/sim-demo.policy}" \
		>"$d/policy.d/$1.policy"
	echo "binding $2" >>"$d/policy.d/$1.policy"
	printf '%b' "${3:-}" >>"$d/policy.d/$1.policy"
}

# post_reload: SIGHUP to katlsd ($apid, logging to $d/katlsd.log), wait
# up to 10 s for its answer; 0 if it took the new set, 1 if it kept the
# old one (or did not answer).
post_reload() {
	pat='configuration and policies reloaded|reload failed'
	n=$(grep -cE "$pat" "$d/katlsd.log")
	kill -HUP "$apid"
	i=0
	while [ "$(grep -cE "$pat" "$d/katlsd.log")" = "$n" ] && [ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	grep -E "$pat" "$d/katlsd.log" | tail -n 1 | grep -q "policies reloaded"
}

# post_transfer POLICY PORT NAME [EXIT-NOTE]: a katls-cat server under
# POLICY on PORT sends $d/big with sendfile(2) (kept in $d/s.out,
# $d/s.err), a client under POLICY sends $d/up on its stdin ($d/c.out,
# $d/c.err).  One test point: both ends exit 0 (NAME, then EXIT-NOTE).
# Records the counters for post_transfer_moved.
post_transfer() {
	verified0=$(stat_of verified)
	tx0=$(tls_stat TlsTxSw)
	rx0=$(tls_stat TlsRxSw)
	timeout 120 "$kcat" -l -p "$1" --sendfile "$d/big" "$2" \
		</dev/null >"$d/s.out" 2>"$d/s.err" &
	spid=$!
	katls_wait_listen "$2"
	timeout 120 "$kcat" -p "$1" 127.0.0.1 "$2" <"$d/up" \
		>"$d/c.out" 2>"$d/c.err"
	crc=$?
	wait $spid
	src=$?
	[ $crc -eq 0 ] && [ $src -eq 0 ]
	res=$?
	ok $res "$3: both ends exit 0${4:-}"
	[ $res -eq 0 ] || diag "$d/c.err" "$d/s.err"
}

# post_transfer_intact NAME: two test points, the data of the last
# post_transfer arrived intact both ways.
post_transfer_intact() {
	cmp -s "$d/big" "$d/c.out"
	ok $? "$1: sendfile(2) server -> client over kTLS, 2 MB intact"
	cmp -s "$d/up" "$d/s.out"
	ok $? "$1: client -> server, 150 kB intact"
}

# post_transfer_moved NAME: two test points, the last post_transfer
# moved the kTLS counters and katlsd counted both ends verified.
post_transfer_moved() {
	[ "$(tls_stat TlsTxSw)" -ge $((tx0 + 2)) ] &&
		[ "$(tls_stat TlsRxSw)" -ge $((rx0 + 2)) ]
	ok $? "$1: kTLS TX and RX counters moved (TX $tx0 -> $(tls_stat TlsTxSw), RX $rx0 -> $(tls_stat TlsRxSw))"
	[ "$(stat_of verified)" -ge $((verified0 + 2)) ]
	ok $? "$1: katlsctl stat: verified counted both ends"
}

# post_refused PORT SERVER-POLICY CLIENT-POLICY: a katls-cat server under
# SERVER-POLICY on PORT, a client under CLIENT-POLICY that sends a secret;
# sets crc and src (the exit statuses) for the caller's checks ($d/s.out,
# $d/s.err, $d/c.err).
post_refused() {
	timeout 60 "$kcat" -l -p "$2" "$1" </dev/null >"$d/s.out" 2>"$d/s.err" &
	spid=$!
	katls_wait_listen "$1"
	printf 'SECRET-THAT-MUST-NOT-ARRIVE\n' |
		timeout 60 "$kcat" -p "$3" 127.0.0.1 "$1" >/dev/null 2>"$d/c.err"
	crc=$?
	wait $spid
	src=$?
}

# post_stop_agent: after tap_done (its status in rc), stop katlsd ($apid)
# and show its log as TAP comments.
post_stop_agent() {
	kill -TERM "$apid"
	wait "$apid"
	sed 's/^/# katlsd: /' "$d/katlsd.log"
}
