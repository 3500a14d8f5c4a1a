/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vtest.h - helpers for the verifier unit tests: sample files (under
 * KATLS_EVIDENCE_DIR, i.e. <top>/../shared/testdata/evidence), hex, temp
 * directories, verdict searches.
 */
#ifndef KATLS_VTEST_H
#define KATLS_VTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <katls/verify.h>
#include "tap.h"

#ifndef KATLS_EVIDENCE_DIR
#error "KATLS_EVIDENCE_DIR must name shared/testdata/evidence"
#endif

/* 2026-06-01T00:00:00Z and 2025-06-01T00:00:00Z */
#define T_2026_06	((time_t)1780272000)
#define T_2025_06	((time_t)1748736000)
#define T_2023_07	((time_t)1688169600)

static inline uint8_t *vt_read(const char *rel, size_t *len)
{
	char path[1024];
	struct stat st;
	uint8_t *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", KATLS_EVIDENCE_DIR, rel);
	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) < 0) {
		tap_diag("cannot open %s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

/* Decode hex into out; returns the byte count or -1. */
static inline int vt_unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return (int)(n / 2);
}

static inline bool vt_eq_hex(const uint8_t *p, size_t n, const char *hex)
{
	uint8_t buf[128];

	return vt_unhex(hex, buf, sizeof(buf)) == (int)n && !memcmp(buf, p, n);
}

static inline bool vt_has(char (*lines)[KATLS_VERDICT_LINE], unsigned int n,
			  const char *needle)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (strstr(lines[i], needle))
			return true;
	return false;
}

static inline bool vt_error(const struct katls_verdict *v, const char *needle)
{
	return vt_has((char (*)[KATLS_VERDICT_LINE])v->errors, v->nerrors, needle);
}

static inline bool vt_check(const struct katls_verdict *v, const char *needle)
{
	return vt_has((char (*)[KATLS_VERDICT_LINE])v->checks, v->nchecks, needle);
}

static inline void vt_dump(const struct katls_verdict *v)
{
	unsigned int i;

	for (i = 0; i < v->nerrors; i++)
		tap_diag("error: %s", v->errors[i]);
}

/* mkdtemp'd directory holding copies of the given sample files. */
static inline char *vt_dir(const char *const *rel)
{
	char tmpl[] = "/tmp/katls-vt.XXXXXX", *d, path[1024];

	d = mkdtemp(tmpl);
	if (!d)
		return NULL;
	d = strdup(d);
	for (; d && *rel; rel++) {
		const char *base = strrchr(*rel, '/');
		size_t len;
		uint8_t *buf = vt_read(*rel, &len);
		FILE *f;

		if (!buf)
			return NULL;
		snprintf(path, sizeof(path), "%s/%s", d, base ? base + 1 : *rel);
		f = fopen(path, "wb");
		if (!f || fwrite(buf, 1, len, f) != len) {
			free(buf);
			if (f)
				fclose(f);
			return NULL;
		}
		fclose(f);
		free(buf);
	}
	return d;
}

static inline void vt_rmdir(char *d)
{
	char cmd[1200];

	if (!d)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", d);
	free(d);
}

static inline int vt_write(const char *dir, const char *name, const void *p,
			   size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

#endif /* KATLS_VTEST_H */
