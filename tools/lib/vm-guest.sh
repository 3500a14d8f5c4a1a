#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tools/katls-vm (PID 1).  The host copies this file into
# the run directory, which the initramfs mounts at /run/katls-vm,
# together with "env", "cmd.sh" and the modules to load.
#
# This script runs in busybox's sh and uses busybox's applets.  The
# command runs with the host's tools instead: once the host's /usr is
# mounted, /bin/sh becomes the host's sh, so that scripts and `sh -c`
# do not get busybox's applets (busybox's sh prefers them to $PATH).
#
# Results for the host: "status" (CMD's exit code) and "splat" (the
# kernel logged a WARN/BUG/Oops) in the run directory, and the marker
# line "katls-vm: exit N" on the console.

R=/run/katls-vm
. $R/env
export PATH=/bin
export HOME=/root

say() { echo "katls-vm: $*"; }

# Kernel messages from here on are the interesting ones.
boot_lines=$(dmesg | wc -l)
new_dmesg() {
	dmesg | tail -n +$((boot_lines + 1)) | tail -n "$1" | grep . ||
		echo "(no kernel messages)"
}

finish() {
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 5
}

mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp

# Shares: "tag ro|rw 'guest path'" per line.
echo "$KVM_SHARES" | while read -r tag ro path; do
	[ -n "$tag" ] || continue
	eval "path=$path"
	mkdir -p "$path"
	opt=trans=virtio,version=9p2000.L,msize=512000
	[ "$ro" = ro ] && opt=$opt,ro
	mount -t 9p -o "$opt" "$tag" "$path" || say "cannot mount $path"
done

# Modules.  Missing ones are built in or absent in this kernel (no tsm on
# 6.1, ctr built into 6.12); loading katls.ko below is what must work.
modprobe -a configfs tsm tls veth virtio_rng 2>/dev/null
modprobe -a gcm ctr ccm seqiv aesni_intel ghash_clmulni_intel \
	chacha20poly1305 chacha_x86_64 poly1305_x86_64 sha256_ssse3 \
	sha512_ssse3 2>/dev/null
mount -t configfs configfs /sys/kernel/config 2>/dev/null

ip link set lo up

load_failed=
if [ -f $R/katls.ko ]; then
	insmod $R/katls.ko || load_failed="katls.ko"
fi
if [ -z "$load_failed" ] && [ -f $R/katls_sim_tsm.ko ]; then
	insmod $R/katls_sim_tsm.ko || load_failed="katls_sim_tsm.ko"
fi

# /usr/bin before /usr/sbin: some of the host's /usr/sbin entries are
# absolute symlinks into /bin (e.g. ip -> /bin/ip), busybox's /bin here.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/bin
if [ -x /usr/bin/sh ]; then
	ln -sf /usr/bin/sh /bin/sh
fi

# The agent, if it was built, has a configuration (--agent-config) and
# was not disabled.  Adjust the arguments here if katlsd's command line
# changes.
KATLSD=$KVM_TOP/userspace/katlsd/build/katlsd
KATLSD_ARGS="--foreground --config $KVM_AGENT_CONFIG"
if [ -z "$load_failed" ] && [ "$KVM_AGENT" = 1 ] && [ -x "$KATLSD" ] &&
   [ -n "$KVM_AGENT_CONFIG" ] && [ -f $R/katls.ko ]; then
	"$KATLSD" $KATLSD_ARGS >$R/katlsd.log 2>&1 &
	echo $! >/run/katlsd.pid
fi

# Console: no CR/LF translation, so output reaches the host as written.
stty -onlcr 2>/dev/null
dmesg -n 1

if [ -n "$load_failed" ]; then
	say "insmod $load_failed failed"
	new_dmesg 30
	rc=125
elif [ "$KVM_MODE" = shell ]; then
	export TERM="$KVM_TERM"
	. $R/cmdenv
	cd "$KVM_CWD"
	stty onlcr
	say "$(uname -r) ready; 'poweroff -f' or Ctrl-A x to leave"
	if [ -x /usr/bin/bash ]; then
		setsid cttyhack /usr/bin/bash -l
	else
		setsid cttyhack /bin/sh -l
	fi
	rc=$?
else
	/bin/sh $R/cmd.sh </dev/null
	rc=$?
fi

if [ -f /run/katlsd.pid ]; then
	pid=$(cat /run/katlsd.pid)
	if ! kill -0 "$pid" 2>/dev/null; then
		say "katlsd exited early; its log:"
		tail -n 20 $R/katlsd.log
	else
		kill "$pid"
		if [ "$rc" -ne 0 ] && [ -s $R/katlsd.log ]; then
			say "katlsd log (tail):"
			tail -n 20 $R/katlsd.log
		fi
	fi
fi

# Debug kernels (tools/debugk): kmemleak scans now that CMD is done.  Two
# scans, so that an object only in flight during the first is not
# reported; what the second still lists goes to the kernel log, where
# the check below (and tools/debugk/scan-log on the host) finds it.
KML=/sys/kernel/debug/kmemleak
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
if [ -e $KML ]; then
	if echo scan >$KML && sleep 2 && echo scan >$KML; then
		n=$(grep -c '^unreferenced object' $KML)
		say "kmemleak: $n unreferenced objects"
		head -n 300 $KML | while IFS= read -r l; do
			echo "kmemleak report: $l" >/dev/kmsg
		done
	else
		echo "katls-vm: kmemleak scan failed (kmemleak disabled?)" >/dev/kmsg
	fi
fi

# A WARN/BUG/oops, or a report of the debug kernel's checkers.
SPLAT='WARNING:|BUG:|Oops|general protection fault|Call Trace:|UBSAN:|KASAN:'
SPLAT="$SPLAT|KFENCE:|unreferenced object 0x|kmemleak scan failed"
SPLAT="$SPLAT|Kernel memory leak detector disabled"
SPLAT="$SPLAT|sleeping function called from invalid context"
if dmesg | grep -qE "$SPLAT"; then
	: >$R/splat
	say "the kernel logged a warning or an oops:"
	dmesg | grep -m1 -B5 -A60 -E "$SPLAT"
elif [ "$rc" -ne 0 ]; then
	say "guest dmesg since boot (tail):"
	new_dmesg 25
fi
dmesg >$R/dmesg 2>/dev/null
echo "$rc" >$R/status
say "exit $rc"
finish
