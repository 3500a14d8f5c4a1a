// SPDX-License-Identifier: GPL-2.0
/*
 * verdict.c - the list of what was checked, what failed and what was not
 * checked.  A full list keeps its last line as a marker instead of
 * silently dropping lines; an error always clears "valid", even when its
 * text no longer fits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <katls/verify.h>

void katls_verdict_init(struct katls_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->valid = true;
}

__attribute__((format(printf, 3, 0)))
static void append(char (*lines)[KATLS_VERDICT_LINE], unsigned int *n,
		   const char *fmt, va_list ap)
{
	if (*n >= KATLS_VERDICT_MAX_LINES)
		return;
	if (*n == KATLS_VERDICT_MAX_LINES - 1) {
		snprintf(lines[*n], KATLS_VERDICT_LINE, "... more lines omitted");
		(*n)++;
		return;
	}
	vsnprintf(lines[*n], KATLS_VERDICT_LINE, fmt, ap);
	(*n)++;
}

void katls_verdict_check(struct katls_verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append(v->checks, &v->nchecks, fmt, ap);
	va_end(ap);
}

void katls_verdict_error(struct katls_verdict *v, const char *fmt, ...)
{
	va_list ap;

	v->valid = false;
	va_start(ap, fmt);
	append(v->errors, &v->nerrors, fmt, ap);
	va_end(ap);
}
