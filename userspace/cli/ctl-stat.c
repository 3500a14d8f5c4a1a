// SPDX-License-Identifier: GPL-2.0
/*
 * ctl-stat.c - parse and print /proc/net/katls_stat.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One line without its newline; 1 entry, 0 empty line, -1 malformed. */
static int parse_line(const char *p, struct ctl_stat *st)
{
	const char *name = p, *num;
	size_t n;
	char *end;

	while (blank(*p))
		p++;
	if (!*p)
		return 0;
	name = p;
	while (name_char(*p))
		p++;
	n = (size_t)(p - name);
	if (n == 0 || n >= sizeof(st->name) || !blank(*p))
		return -1;
	while (blank(*p))
		p++;
	num = p;
	if (*num == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	st->value = strtoll(num, &end, 10);
	if (errno)
		return -1;
	p = end;
	while (blank(*p))
		p++;
	if (*p)
		return -1;
	memcpy(st->name, name, n);
	st->name[n] = '\0';
	return 1;
}

int ctl_stat_parse(FILE *f, struct ctl_stat *st, size_t max,
		   char *err, size_t errlen)
{
	unsigned int lineno = 0;
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	int ret = -1;

	while ((len = getline(&line, &cap, f)) >= 0) {
		struct ctl_stat e;
		int r;

		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > CTL_STAT_LINE_MAX) {
			snprintf(err, errlen, "line %u: longer than %d bytes",
				 lineno, CTL_STAT_LINE_MAX);
			goto out;
		}
		if (strlen(line) != (size_t)len) {
			snprintf(err, errlen, "line %u: NUL byte", lineno);
			goto out;
		}
		memset(&e, 0, sizeof(e));
		r = parse_line(line, &e);
		if (r < 0) {
			snprintf(err, errlen,
				 "line %u: expected \"name value\"", lineno);
			goto out;
		}
		if (r == 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(st[i].name, e.name)) {
				snprintf(err, errlen,
					 "line %u: duplicate counter %s",
					 lineno, e.name);
				goto out;
			}
		}
		if (n == max) {
			snprintf(err, errlen, "more than %zu counters", max);
			goto out;
		}
		st[n++] = e;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		goto out;
	}
	ret = (int)n;
out:
	free(line);
	return ret;
}

void ctl_stat_print(FILE *out, const struct ctl_stat *st, size_t n)
{
	int w = 0, vw = 1;

	for (size_t i = 0; i < n; i++) {
		char num[24];
		int l = (int)strlen(st[i].name);
		int vl = snprintf(num, sizeof(num), "%" PRId64, st[i].value);

		if (l > w)
			w = l;
		if (vl > vw)
			vw = vl;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%-*s  %*" PRId64 "\n", w, st[i].name, vw,
			st[i].value);
}

void ctl_stat_print_json(FILE *out, const struct ctl_stat *st, size_t n)
{
	fputs("{", out);
	for (size_t i = 0; i < n; i++)
		/* Names are [A-Za-z0-9_] (checked by the parser). */
		fprintf(out, "%s\n  \"%s\": %" PRId64, i ? "," : "",
			st[i].name, st[i].value);
	fputs(n ? "\n}\n" : "}\n", out);
}
