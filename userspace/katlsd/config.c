// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - a small, strict INI parser for katlsd.conf.
 *
 * Strict on purpose: a typo in a security-relevant key ("truststore")
 * must stop the daemon, not silently fall back to a default.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "config.h"
#include "log.h"
#include "qbroker.h"

enum key_type { K_STR, K_UINT, K_LEVEL };

struct key_desc {
	const char *section;
	const char *key;
	enum key_type type;
	size_t off;
	unsigned int min, max;		/* K_UINT */
};

#define OFF(f) offsetof(struct katlsd_config, f)

static const struct key_desc keys[] = {
	{ "katlsd", "concurrency", K_UINT, OFF(concurrency), 1,
	  KATLSD_MAX_CONCURRENCY },
	{ "katlsd", "workers", K_UINT, OFF(workers), 0, KATLSD_MAX_WORKERS },
	{ "katlsd", "max_per_uid", K_UINT, OFF(max_per_uid), 0,
	  KATLSD_MAX_CONCURRENCY },
	{ "katlsd", "max_per_peer", K_UINT, OFF(max_per_peer), 0,
	  KATLSD_MAX_CONCURRENCY },
	{ "katlsd", "max_waiting", K_UINT, OFF(max_waiting), 0,
	  KATLSD_MAX_WAITING },
	{ "katlsd", "log_level", K_LEVEL, OFF(log_level), 0, 0 },
	{ "katlsd", "policy_dir", K_STR, OFF(policy_dir), 0, 0 },
	{ "server", "certificate", K_STR, OFF(certificate), 0, 0 },
	{ "server", "private_key", K_STR, OFF(private_key), 0, 0 },
	{ "server", "tsm_root", K_STR, OFF(tsm_root), 0, 0 },
	{ "client", "truststore", K_STR, OFF(truststore), 0, 0 },
	{ "evidence", "max_batch", K_UINT, OFF(max_batch), 1,
	  KATLSD_MAX_MAX_BATCH },
	{ "verify", "roots_dir", K_STR, OFF(roots_dir), 0, 0 },
	{ "verify", "certs_dir", K_STR, OFF(certs_dir), 0, 0 },
	{ "verify", "collateral_dir", K_STR, OFF(collateral_dir), 0, 0 },
	{ "verify", "cpak_file", K_STR, OFF(cpak_file), 0, 0 },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void katlsd_config_init(struct katlsd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->concurrency = KATLSD_DEFAULT_CONCURRENCY;
	c->max_batch = KATLSD_DEFAULT_MAX_BATCH;
	c->log_level = LOG_INFO;
}

void katlsd_config_free(struct katlsd_config *c)
{
	free(c->policy_dir);
	free(c->certificate);
	free(c->private_key);
	free(c->tsm_root);
	free(c->truststore);
	free(c->roots_dir);
	free(c->certs_dir);
	free(c->collateral_dir);
	free(c->cpak_file);
	katlsd_config_init(c);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static void set_err(char *err, size_t errlen, const char *path,
		    unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void set_err(char *err, size_t errlen, const char *path,
		    unsigned int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(err, errlen, "%s:%u: %s", path, line, msg);
	else
		snprintf(err, errlen, "%s: %s", path, msg);
}

int katlsd_config_load(struct katlsd_config *out, const char *path,
		       char *err, size_t errlen)
{
	struct katlsd_config c;
	bool seen[NKEYS] = { false };
	char section[64] = "";
	char *line = NULL;
	size_t cap = 0;
	unsigned int lineno = 0;
	ssize_t len;
	FILE *f;

	katlsd_config_init(&c);
	f = fopen(path, "re");
	if (!f) {
		set_err(err, errlen, path, 0, "%s", strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		const struct key_desc *d = NULL;
		char *s, *eq, *k, *v, *end;
		size_t i;

		lineno++;
		if ((size_t)len != strlen(line)) {
			set_err(err, errlen, path, lineno, "NUL byte in line");
			goto fail;
		}
		if (len > KATLSD_CONFIG_LINE_MAX) {
			set_err(err, errlen, path, lineno, "line too long");
			goto fail;
		}
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			end = strchr(s, ']');
			if (!end || trim(end + 1)[0]) {
				set_err(err, errlen, path, lineno,
					"malformed section header");
				goto fail;
			}
			*end = '\0';
			s = trim(s + 1);
			for (i = 0; i < NKEYS; i++)
				if (!strcmp(keys[i].section, s))
					break;
			if (i == NKEYS) {
				set_err(err, errlen, path, lineno,
					"unknown section [%s]", s);
				goto fail;
			}
			snprintf(section, sizeof(section), "%s", s);
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			set_err(err, errlen, path, lineno,
				"expected \"key = value\"");
			goto fail;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (!section[0]) {
			set_err(err, errlen, path, lineno,
				"key \"%s\" outside a section", k);
			goto fail;
		}
		for (i = 0; i < NKEYS; i++) {
			if (!strcmp(keys[i].section, section) &&
			    !strcmp(keys[i].key, k)) {
				d = &keys[i];
				break;
			}
		}
		if (!d && !strcmp(section, "client") &&
		    !strcmp(k, "evidence_bound_key")) {
			set_err(err, errlen, path, lineno,
				"evidence_bound_key moved to the policy files: write \"evidence_bound_key allow\" in each policy of policy_dir that may accept a key on the evidence alone");
			goto fail;
		}
		if (!d) {
			set_err(err, errlen, path, lineno,
				"unknown key \"%s\" in [%s]", k, section);
			goto fail;
		}
		if (seen[i]) {
			set_err(err, errlen, path, lineno,
				"duplicate key \"%s\"", k);
			goto fail;
		}
		seen[i] = true;
		switch (d->type) {
		case K_UINT: {
			unsigned long n;

			errno = 0;
			n = strtoul(v, &end, 10);
			if (!isdigit((unsigned char)*v) || *end || errno ||
			    n < d->min || n > d->max) {
				set_err(err, errlen, path, lineno,
					"%s: expected an integer in %u..%u",
					k, d->min, d->max);
				goto fail;
			}
			*(unsigned int *)((char *)&c + d->off) = n;
			break;
		}
		case K_LEVEL: {
			int l = katlsd_log_level_parse(v);

			if (l < 0) {
				set_err(err, errlen, path, lineno,
					"%s: expected error, warning, notice, info or debug",
					k);
				goto fail;
			}
			*(int *)((char *)&c + d->off) = l;
			break;
		}
		case K_STR: {
			char **dst = (char **)((char *)&c + d->off);

			if (!*v) {
				set_err(err, errlen, path, lineno,
					"%s: empty value", k);
				goto fail;
			}
			*dst = strdup(v);
			if (!*dst) {
				set_err(err, errlen, path, lineno,
					"out of memory");
				goto fail;
			}
			break;
		}
		}
	}
	if (ferror(f)) {
		set_err(err, errlen, path, 0, "read error");
		goto fail;
	}
	if (c.max_per_uid > c.concurrency || c.max_per_peer > c.concurrency) {
		set_err(err, errlen, path, 0,
			"[katlsd] max_per_uid and max_per_peer cannot exceed concurrency (%u)",
			c.concurrency);
		goto fail;
	}
	if (!c.certificate != !c.private_key) {
		set_err(err, errlen, path, 0,
			"[server] certificate and private_key go together");
		goto fail;
	}
	if (!c.policy_dir) {
		c.policy_dir = strdup(KATLSD_DEFAULT_POLICY_DIR);
		if (!c.policy_dir) {
			set_err(err, errlen, path, 0, "out of memory");
			goto fail;
		}
	}
	free(line);
	fclose(f);
	katlsd_config_free(out);
	*out = c;
	return 0;
fail:
	free(line);
	fclose(f);
	katlsd_config_free(&c);
	return -1;
}

void katlsd_config_pool(const struct katlsd_config *c, unsigned int ncpu,
			struct katlsd_pool_limits *l)
{
	unsigned int def = c->concurrency - c->concurrency / 4;

	if (!def)
		def = 1;
	l->workers = c->workers ? c->workers : ncpu < 2 ? 2 : ncpu;
	if (l->workers > KATLSD_MAX_WORKERS)
		l->workers = KATLSD_MAX_WORKERS;
	if (l->workers > c->concurrency)
		l->workers = c->concurrency;
	l->per_worker = (c->concurrency + l->workers - 1) / l->workers;
	l->max_per_uid = c->max_per_uid ? c->max_per_uid : def;
	l->max_per_peer = c->max_per_peer ? c->max_per_peer : def;
	l->max_waiting = c->max_waiting ? c->max_waiting :
			 4 * c->concurrency;
}

/* Is path a directory (want_dir) or a regular file?  0 or -errno. */
static int path_is(const char *path, bool want_dir)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return want_dir ? -ENOTDIR : -EISDIR;
	return 0;
}

int katlsd_config_check_paths(const struct katlsd_config *c, char *err,
			      size_t errlen)
{
	const struct {
		const char *section, *key, *path;
		bool dir;
	} p[] = {
		{ "katlsd", "policy_dir", c->policy_dir, true },
		{ "server", "tsm_root", c->tsm_root, true },
		{ "verify", "roots_dir", c->roots_dir, true },
		{ "verify", "certs_dir", c->certs_dir, true },
		{ "verify", "collateral_dir", c->collateral_dir, true },
		{ "verify", "cpak_file", c->cpak_file, false },
	};
	size_t i;
	int r;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		if (!p[i].path)
			continue;
		r = path_is(p[i].path, p[i].dir);
		if (r < 0) {
			snprintf(err, errlen, "[%s] %s = %s: %s", p[i].section,
				 p[i].key, p[i].path, strerror(-r));
			return -1;
		}
	}
	return 0;
}
