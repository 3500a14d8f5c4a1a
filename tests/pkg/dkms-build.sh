#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/pkg/dkms-build.sh - `dkms add` + `dkms build` of katls from the
# source tree `make install-dkms` installs (what katls-dkms ships),
# against Debian's 6.1 and 6.12 headers from tools/kernel-cache.  TAP.
#
# DKMS runs on a private tree (--dkmstree, --sourcetree, --installtree in
# a temporary directory) inside a private mount namespace whose
# /var/lib/dkms is an empty tmpfs, so that nothing it does (state, a MOK
# signing key) lands in the host's DKMS state; the last point checks
# that the host's /var/lib/dkms did not change.
#
# Usage: tests/pkg/dkms-build.sh [KERNEL...]   (default: 6.1 6.12)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/katls-dkms.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tap_plan $((3 + 3 * ${#kernels[@]}))

host_state() {
	if [ -d /var/lib/dkms ]; then
		find /var/lib/dkms -printf '%p %s %T@\n' 2>/dev/null | sort
	else
		echo "no /var/lib/dkms"
	fi
}
host_before=$(host_state)

# 1: the packaged source tree.
make -s -C "$top" install-dkms DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1
ok_diag $? "make install-dkms DESTDIR=..." "$tmp/install.log"
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
src=$tmp/root/usr/src/katls-$ver
missing=
for f in dkms.conf Kbuild include/uapi/linux/katls.h \
	$(cd "$top" && ls kernel/*.c kernel/*.h); do
	[ -f "$src/$f" ] || missing+=" $f"
done
[ -z "$missing" ]
ok $? "usr/src/katls-$ver has dkms.conf, Kbuild, kernel/ and the UAPI headers${missing:+ (missing:$missing)}"

# dkms in a private mount namespace with a private /var/lib/dkms.
dkms_priv() {
	if [ -d /var/lib/dkms ]; then
		unshare -m --propagation private sh -c \
			'mount -t tmpfs katls-dkms /var/lib/dkms && exec "$@"' \
			sh dkms "$@"
	else
		dkms "$@"
	fi
}
tree=(--dkmstree "$tmp/dkms" --sourcetree "$tmp/root/usr/src"
      --installtree "$tmp/modules")
mkdir -p "$tmp/dkms" "$tmp/modules"
dkms_priv add -m katls -v "$ver" "${tree[@]}" >"$tmp/add.log" 2>&1
add_rc=$?

for k in "${kernels[@]}"; do
	if ! root=$("$top/tools/kernel-cache" "$k" 2>"$tmp/cache.log"); then
		ok 1 "$k: tools/kernel-cache $k"
		diag "$tmp/cache.log"
		ok 1 "$k: dkms build (no headers)"
		ok 1 "$k: katls.ko (no headers)"
		continue
	fi
	kver=${root##*/}
	hdr=$root/usr/src/linux-headers-$kver
	[ "$add_rc" -eq 0 ] && [ -f "$hdr/Makefile" ]
	ok_diag $? "$k: dkms add, headers $kver" "$tmp/add.log"

	log=$tmp/build-$kver.log
	dkms_priv build -m katls -v "$ver" -k "$kver" \
		--kernelsourcedir "$hdr" "${tree[@]}" >"$log" 2>&1
	rc=$?
	mk=$tmp/dkms/katls/$ver/$kver/$(uname -m)/log/make.log
	[ -f "$mk" ] || mk=$(ls "$tmp"/dkms/katls/"$ver"/build/make.log 2>/dev/null)
	ok_diag "$rc" "$k: dkms build katls/$ver -k $kver" "$log" $mk

	ko=$(ls "$tmp/dkms/katls/$ver/$kver/"*/module/katls.ko* 2>/dev/null | head -1)
	vm=
	[ -n "$ko" ] && vm=$(modinfo -F vermagic "$ko" 2>/dev/null)
	case "$vm" in
	"$kver "*) ok 0 "$k: katls.ko built, vermagic $kver" ;;
	*) ok 1 "$k: katls.ko built, vermagic '$kver ...' (got '${ko:-no module}' '$vm')" ;;
	esac
done

[ "$(host_state)" = "$host_before" ]
ok $? "the host's /var/lib/dkms is unchanged"
tap_done
