/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vecfile.h - reading the published test-vector files (binder, Merkle,
 * Exported Authenticator: tests/unit/attest/ *_vectors.txt).
 *
 * The format: "# comment" lines, "[section]" lines, "key = hexvalue"
 * lines; values are lower- or upper-case hex, one line each.
 */
#ifndef KATLS_TEST_VECFILE_H
#define KATLS_TEST_VECFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * vec_unhex() - hex digits up to the end of @s (or a newline) into @out
 * (at most @max bytes); *@len gets the count.  Return: 0, or -1 for an
 * odd number of digits, a non-hex digit or more than @max bytes.
 */
static inline int vec_unhex(const char *s, uint8_t *out, size_t max,
			    size_t *len)
{
	size_t n = 0;
	unsigned int b;

	while (s[0] && s[0] != '\n') {
		if (n == max || sscanf(s, "%2x", &b) != 1 || !s[1] ||
		    s[1] == '\n')
			return -1;
		out[n++] = b;
		s += 2;
	}
	*len = n;
	return 0;
}

/*
 * vec_unhex_exact() - exactly @want bytes of hex at @s, followed by the
 * end of the string, a space or a newline.  Return: 0 or -1.
 */
static inline int vec_unhex_exact(const char *s, uint8_t *out, size_t want)
{
	unsigned int b;
	size_t n;

	for (n = 0; n < want; n++, s += 2) {
		if (sscanf(s, "%2x", &b) != 1)
			return -1;
		out[n] = b;
	}
	return (*s == '\0' || *s == ' ' || *s == '\n') ? 0 : -1;
}

/*
 * vec_lookup() - the value of @key in section @sect (NULL: any section)
 * of the file @path, as bytes (vec_unhex()).  Return: 0, or -1 if the
 * file cannot be read, the key is not there or its value is not hex.
 */
static inline int vec_lookup(const char *path, const char *sect,
			     const char *key, uint8_t *out, size_t max,
			     size_t *len)
{
	static char line[300000];
	char cur[64] = "";
	size_t kl = strlen(key);
	FILE *f = fopen(path, "r");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '[') {
			sscanf(line, "[%63[^]]]", cur);
			continue;
		}
		if ((!sect || !strcmp(cur, sect)) && !strncmp(line, key, kl) &&
		    !strncmp(line + kl, " = ", 3)) {
			ret = vec_unhex(line + kl + 3, out, max, len);
			break;
		}
	}
	fclose(f);
	return ret;
}

#endif
