# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC2154
# (role, set by the sourcing script, names the end in test points)
#
# Sourced by tests/e2e/pair/server.sh and client.sh (guest side of
# tools/vm-pair) once they set here (tests/e2e/pair): the tree's paths,
# the TAP and guest-agent helpers, a scratch directory $d (sets top, kcat
# and d), the NIC, katlsd, the shared directory's files, the checks both
# ends make.  POSIX sh.

top=$(cd "$here/../../.." && pwd)
. "$top/tools/lib/guest-agent.sh"
. "$top/tests/lib/tap.sh"
kcat=$top/userspace/cli/build/katls-cat
d=$(mktemp -d)

# pair_kernel KVER: one test point, this guest runs kernel KVER.*.
pair_kernel() {
	case "$(uname -r)" in
	"$1".*) ok 0 "$role runs kernel $1 ($(uname -r))" ;;
	*) ok 1 "$role runs kernel $1 ($(uname -r))" ;;
	esac
}

# pair_net_up IP: eth0 (tools/katls-vm --netdev) up with IP/24; waits up
# to 10 s for the carrier.  One test point.
pair_net_up() {
	i=0
	modprobe virtio_net 2>/dev/null
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	ip addr add "$1/24" dev eth0 && ip link set eth0 up
	i=0
	while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] &&
	      [ $i -lt 50 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	[ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ]
	ok $? "$role: virtio-net eth0 up with $1/24 ($(cat /sys/class/net/eth0/address 2>/dev/null))"
}

# pair_wait FILE... SECS: wait until one of the FILEs (in the shared
# directory, written by the other guest) exists, at most SECS seconds.
# Prints the first one that exists; fails if none appeared in time.
pair_wait() {
	eval "secs=\${$#}"
	end=$(($(date +%s) + secs))
	while :; do
		for f in "$@"; do
			[ "$f" = "$secs" ] && continue
			if [ -e "$f" ]; then
				echo "$f"
				return 0
			fi
		done
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# pair_reap SECS PID...: wait for the PIDs (children of this shell) at
# most SECS seconds, then kill what is left.  Sets rc_PID to each exit
# status (137 for a killed one).
pair_reap() {
	end=$(($(date +%s) + $1))
	shift
	for p in "$@"; do
		while kill -0 "$p" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
			sleep 0.2
		done
		kill -9 "$p" 2>/dev/null
		wait "$p"
		eval "rc_$p=\$?"
	done
}

# pair_sha FILE: its SHA-256, hex.
pair_sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# pair_begin KVER IP: the TAP plan, then the test points of pair_kernel
# KVER and pair_net_up IP; $d/policy.d with sim-demo for katlsd.
pair_begin() {
	tap_plan_lazy
	pair_kernel "$1"
	pair_net_up "$2"
	mkdir -p "$d/policy.d"
	cp "$top/etc/katls/policy.d/sim-demo.policy" "$d/policy.d/"
}

# pair_agent: katlsd with $d/katlsd.conf in the background (apid), its
# log in $d/katlsd.log; 0 once it joined the agent group.
pair_agent() {
	"$top/userspace/katlsd/build/katlsd" --foreground --config "$d/katlsd.conf" \
		>"$d/katlsd.log" 2>&1 &
	apid=$!
	katls_wait_started "$d/katlsd.log"
}

# pair_end: stop katlsd, show the end of its log if a test point failed,
# then tap_done (its status is the caller's exit status).
pair_end() {
	kill "$apid" 2>/dev/null
	wait "$apid" 2>/dev/null
	[ "$tap_failed" -eq 0 ] || sed 's/^/# katlsd: /' "$d/katlsd.log" | tail -n 40
	tap_done
}
