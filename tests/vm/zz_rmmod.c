// SPDX-License-Identifier: GPL-2.0
/*
 * zz_rmmod - runs last in the guest: katls.ko cannot be removed while a
 * socket uses it, and can be once none does (Documentation/design.rst,
 * invariant 4).
 */
#include <sys/syscall.h>

#include "katls_test.h"

static int rmmod(void)
{
	return syscall(SYS_delete_module, "katls", O_NONBLOCK) ? errno : 0;
}

int main(void)
{
	struct linger lg = { 1, 0 };
	int a, b, i, err;

	tap_plan(5);
	tcp_pair(AF_INET, &a, &b);
	tap_ok(opt_in(a) == 0, "rmmod: a socket opted in");
	err = rmmod();
	tap_ok(err == EWOULDBLOCK || err == EBUSY,
	       "rmmod: refused while a socket uses the module (%d)", err);
	tap_ok(katls_stat("opted_in") >= 1, "rmmod: module still loaded");
	setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(a);
	close(b);
	for (i = 0; i < 1000 && katls_stat("opted_in") > 0; i++)
		msleep(10);
	err = rmmod();
	tap_ok(err == 0, "rmmod: works once no socket uses it (%d)", err);
	tap_ok(access("/proc/net/katls_stat", F_OK) != 0,
	       "rmmod: /proc/net/katls_stat is gone");
	return tap_done();
}
