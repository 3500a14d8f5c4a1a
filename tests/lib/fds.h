/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fds.h - descriptor leak checks for the tests:
 *
 *	int before = count_fds();
 *	... the code under test, which must close what it opened ...
 *	tap_ok(count_fds() == before, "no descriptor leaked");
 */
#ifndef KATLS_TESTS_FDS_H
#define KATLS_TESTS_FDS_H

#include <dirent.h>

/* The open descriptors of this process, or -1. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

#endif /* KATLS_TESTS_FDS_H */
