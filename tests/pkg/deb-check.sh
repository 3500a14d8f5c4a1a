#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/pkg/deb-check.sh - the Debian packages: `make deb` builds them
# (tools/deb-build, into build/deb), lintian finds no error and no
# warning (each one a failed point), and each package holds what it
# must and nothing test-only (no simulated TSM module, no sim policy).
# TAP.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
out=${DEB_OUT:-$top/build/deb}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/katls-debcheck.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tap_plan_lazy

# The top-level `make install`, default PREFIX (/usr).
dver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
make -s -C "$top" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1
ok_diag $? "make install DESTDIR=... (default PREFIX=/usr)" "$tmp/install.log"
miss=
for f in /usr/sbin/katlsd /usr/bin/katls-cat /usr/sbin/katlsctl \
	/usr/bin/katls-verify /usr/lib/libkatls.so.0 /usr/lib/libkatls.a \
	/usr/include/katls/katls.h /usr/lib/pkgconfig/libkatls.pc \
	/etc/katls/katlsd.conf /lib/systemd/system/katlsd.service \
	/usr/src/katls-$dver/dkms.conf /usr/lib/modules-load.d/katls.conf; do
	[ -e "$tmp/root$f" ] || miss+=" $f"
done
sim=$(cd "$tmp/root" 2>/dev/null && find . -name '*sim*' -o -name '*.policy')
[ -z "$miss" ] && [ -z "$sim" ]
ok $? "make install: katlsd, libkatls, tools, unit, config, DKMS source; no sim file, no active policy${miss:+ (missing:$miss)}${sim:+ (found: $sim)}"

status_before=$(cd "$top" && git status --porcelain 2>&1)
"$top/tools/deb-build" --out "$out" >"$tmp/build.out" 2>&1
ok_diag $? "make deb (dpkg-buildpackage -b -us -uc)" "$tmp/build.out"
status_after=$(cd "$top" && git status --porcelain 2>&1)
[ "$status_before" = "$status_after" ]
ok $? "the work tree is as it was (git status)"

ver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
pkgs="katls-dkms katlsd libkatls0 libkatls-dev katls-tools"
declare -A deb=()
for p in $pkgs; do
	deb[$p]=$(ls "$out/${p}_${ver}_"*.deb 2>/dev/null | head -1)
	[ -n "${deb[$p]}" ]
	ok $? "$p: ${p}_${ver}_*.deb built"
	if [ -n "${deb[$p]}" ]; then
		dpkg-deb -c "${deb[$p]}" | awk '{ print $6 }' | sed 's|^\./|/|' \
			>"$tmp/$p.files"
		dpkg-deb -e "${deb[$p]}" "$tmp/$p.ctl"
	else
		: >"$tmp/$p.files"; mkdir -p "$tmp/$p.ctl"
	fi
done

# lintian on the .changes (every package): errors and warnings fail.
changes=$(ls "$out"/katls_"$ver"_*.changes 2>/dev/null | head -1)
if [ -z "$changes" ]; then
	ok 1 "lintian: no .changes to check"
else
	lintian --pedantic --display-info "$changes" >"$tmp/lintian" 2>&1
	lrc=$?
	grep -E '^[EW]: ' "$tmp/lintian" >"$tmp/lintian.bad"
	while IFS= read -r l; do
		ok 1 "lintian: $l"
	done <"$tmp/lintian.bad"
	if [ ! -s "$tmp/lintian.bad" ]; then
		[ "$lrc" -eq 0 ]
		ok_diag $? "lintian --pedantic: no error, no warning ($(grep -cE '^[IP]: ' "$tmp/lintian") info/pedantic tags, explained in debian/README.source)" "$tmp/lintian"
	fi
	cp "$tmp/lintian" "$out/lintian.txt"
fi

# has PKG PATH...: PKG's file list holds every PATH (a shell pattern).
has() {
	local p=$1 f miss=
	shift
	for f in "$@"; do
		grep -qx -- "$f" "$tmp/$p.files" || miss+=" $f"
	done
	[ -z "$miss" ]
	ok $? "$p: has $*${miss:+ (missing:$miss)}"
}
hasnt() {
	local p=$1 re=$2 what=$3 hits
	hits=$(grep -E -- "$re" "$tmp/$p.files" | tr '\n' ' ')
	[ -z "$hits" ]
	ok $? "$p: no $what${hits:+ (found: $hits)}"
}

src=/usr/src/katls-$ver
has katls-dkms "$src/dkms.conf" "$src/Kbuild" \
	$(cd "$top" && ls kernel/*.c kernel/*.h include/uapi/linux/*.h |
	  sed "s|^|$src/|") /usr/lib/modules-load.d/katls.conf
grep -q '^Depends:.*\bdkms\b' "$tmp/katls-dkms.ctl/control"
ok $? "katls-dkms: depends on dkms"
grep -q 'common.postinst' "$tmp/katls-dkms.ctl/postinst" 2>/dev/null
ok $? "katls-dkms: postinst runs dkms (dh_dkms)"

has katlsd /usr/sbin/katlsd /lib/systemd/system/katlsd.service \
	/etc/katls/katlsd.conf /etc/katls/policy.d/ \
	/usr/share/man/man8/katlsd.8.gz
examples=$(cd "$top/etc/katls/policy.d" && ls *.policy.example)
has katlsd $(for e in $examples; do echo "/etc/katls/policy.d/$e"; done)
hasnt katlsd '\.policy$' "active policy (only *.policy.example)"
grep -qx /etc/katls/katlsd.conf "$tmp/katlsd.ctl/conffiles" 2>/dev/null
ok $? "katlsd: /etc/katls/katlsd.conf is a conffile"
grep -q 'deb-systemd-helper' "$tmp/katlsd.ctl/postinst" 2>/dev/null &&
	grep -q 'katlsd.service' "$tmp/katlsd.ctl/postinst"
ok $? "katlsd: postinst enables katlsd.service (dh_installsystemd)"

lib=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
has libkatls0 "$lib/libkatls.so.0"
if [ -n "${deb[libkatls0]}" ]; then
	dpkg-deb -x "${deb[libkatls0]}" "$tmp/libkatls0.root"
	so=$(objdump -p "$tmp/libkatls0.root$lib/libkatls.so.0" 2>/dev/null |
		awk '$1 == "SONAME" { print $2 }')
else
	so=
fi
[ "$so" = libkatls.so.0 ]
ok $? "libkatls0: SONAME libkatls.so.0 (got '${so}')"
grep -q '^libkatls 0 libkatls0' "$tmp/libkatls0.ctl/shlibs" 2>/dev/null
ok $? "libkatls0: shlibs file"
has libkatls-dev /usr/include/katls/katls.h /usr/include/linux/katls.h \
	/usr/include/linux/katls_genl.h "$lib/libkatls.a" "$lib/libkatls.so" \
	"$lib/pkgconfig/libkatls.pc"

tools="/usr/bin/katls-cat /usr/sbin/katlsctl /usr/bin/katls-verify"
# katls-run comes with userspace/run (issue 15 item 4).
[ -d "$top/userspace/run" ] && tools+=" /usr/bin/katls-run"
has katls-tools $tools

for p in $pkgs; do
	hasnt "$p" 'sim[-_]?tsm|sim-demo|sim_evidence|/tests/' "test-only file"
done

# README.md's "Install" commands are what the systemd-e2e guest runs:
# the apt-get line (continuations joined, blanks squeezed) is the start
# of the guest's, which only adds its log redirection.
joined() {
	awk '/\\$/ { sub(/\\$/, ""); printf "%s ", $0; next } { print }' "$1" |
		grep -E "$2" | head -1 | sed -E 's/^[[:space:]]+//; s/[[:space:]]+/ /g; s/ *#.*$//'
}
readme=$(joined "$top/README.md" '^ *apt-get install .*katls-dkms')
guest=$(joined "$top/tests/pkg/systemd-e2e-guest.sh" '^apt-get install .*katls-dkms')
[ -n "$readme" ] && [ "${guest#"$readme"}" != "$guest" ]
ok $? "README.md's apt-get install line is the systemd-e2e guest's ('$readme')"
grep -q '^ *cd build/deb' "$top/README.md" && grep -q '^ *make deb ' "$top/README.md"
ok $? "README.md's Install starts with make deb, cd build/deb"
tap_done
