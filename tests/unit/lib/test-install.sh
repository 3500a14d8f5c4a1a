#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# test-install.sh - "make install" of libkatls gives an application all it
# needs: the installed headers compile on their own (the UAPI header
# includes its generated netlink half), pkg-config names the library, and
# a program links and runs against the installed shared object.
#
#	test-install.sh TOP BUILD_DIR
set -u
top=$1
b=$2
. "$top/tests/lib/tap.sh"
tap_plan 5

d=$(mktemp -d "${TMPDIR:-/tmp}/katls-install.XXXXXX")
trap 'rm -rf "$d"' EXIT
out=$d/log

make -s -C "$top/userspace/lib" install DESTDIR="$d/root" PREFIX=/usr \
	>"$out" 2>&1
ok_diag $? "make install DESTDIR=... PREFIX=/usr" "$out"

inc=$d/root/usr/include
lib=$d/root/usr/lib
ok_diag "$(test -f "$inc/linux/katls_genl.h"; echo $?)" \
	"the generated netlink UAPI header is installed beside linux/katls.h" \
	"$out"

cat >"$d/app.c" <<'C'
#include <stdio.h>
#include <linux/katls.h>
#include <katls/katls.h>

int main(void)
{
	/* One name from each UAPI half and one libkatls call. */
	printf("%d %d %s\n", KATLS_CMD_DONE, KATLS_A_STATUS,
	       katls_state_name(0) ? "ok" : "none");
	return 0;
}
C
# Only the installed tree: no -I into the source tree (the -I wins over
# any copy in /usr/include).
cc -std=c11 -Wall -Wextra -Werror -I"$inc" -c -o "$d/app.o" "$d/app.c" >"$out" 2>&1
ok_diag $? "an application compiles against the installed headers alone" \
	"$out"

pc=$(PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$d/root \
	pkg-config --libs --cflags libkatls 2>"$out")
ok_diag $? "pkg-config finds libkatls.pc ($pc)" "$out"

cc -o "$d/app" "$d/app.o" -L"$lib" -lkatls >"$out" 2>&1 &&
	LD_LIBRARY_PATH=$lib "$d/app" >"$out" 2>&1
ok_diag $? "it links and runs against the installed libkatls.so" "$out"

tap_done
