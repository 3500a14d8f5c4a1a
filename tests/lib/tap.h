/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - minimal TAP 13 producer shared by katls' userspace and VM tests.
 *
 *	tap_plan(n);                       or tap_plan_lazy() + tap_done()
 *	tap_ok(cond, "name %d", x);        one test point
 *	tap_skip("name", "why");           counted as skipped, never as passed
 *	return tap_done();                 exit status: 0 only if all passed
 *
 * tools/tap-summary turns the TAP of several programs into the
 * "N passed, N failed[, N skipped]" line that every test stage prints.
 */
#ifndef KATLS_TAP_H
#define KATLS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed, tap_skipped, tap_planned = -1;

static inline void tap_plan(int n)
{
	tap_planned = n;
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

static inline void tap_plan_lazy(void)
{
	printf("TAP version 13\n");
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline void tap_skip(const char *name, const char *why)
{
	tap_n++;
	tap_skipped++;
	printf("ok %d - %s # SKIP %s\n", tap_n, name, why);
	fflush(stdout);
}

__attribute__((format(printf, 1, 2)))
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline int tap_done(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_n);
	else if (tap_planned != tap_n) {
		printf("# planned %d tests but ran %d\n", tap_planned, tap_n);
		tap_failed++;
	}
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif /* KATLS_TAP_H */
