// SPDX-License-Identifier: GPL-2.0
/*
 * args.c - katls-run's configuration: command line, environment, ports.
 * Shared by the wrapper (katls-run.c) and the shim (shim.c); unit tests
 * in tests/unit/run/test-args.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

__attribute__((format(printf, 2, 3)))
static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, KRUN_ERR_MAX, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

void krun_config_init(struct krun_config *c)
{
	memset(c, 0, sizeof(*c));
	c->role = KATLS_ROLE_CLIENT;
	memcpy(c->policy, KATLS_POLICY_DEFAULT, sizeof(KATLS_POLICY_DEFAULT));
}

/* A decimal number 1..@max with nothing else; 0 if invalid. */
static unsigned long number(const char *s, size_t n, unsigned long max)
{
	unsigned long v = 0;

	if (n == 0 || n > 10)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return 0;
	}
	return v;
}

int krun_parse_ports(struct krun_config *c, const char *s, char *err)
{
	unsigned int n = 0;
	const char *p = s;

	if (!s || !*s)
		return fail(err, "empty port list");
	for (;;) {
		size_t len = strcspn(p, ",");
		unsigned long v = number(p, len, 65535);

		if (!v)
			return fail(err, "invalid port '%.*s' (1-65535)",
				    (int)(len > 16 ? 16 : len), p);
		if (n == KRUN_PORTS_MAX)
			return fail(err, "more than %d ports", KRUN_PORTS_MAX);
		c->ports[n++] = (uint16_t)v;
		if (!p[len])
			break;
		p += len + 1;
	}
	c->nports = n;
	return 0;
}

static bool policy_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
	       ch == '-';
}

int krun_set_policy(struct krun_config *c, const char *s, char *err)
{
	size_t n = strnlen(s, KATLS_POLICY_MAX);

	if (n == 0 || n >= KATLS_POLICY_MAX)
		return fail(err, "policy name must have 1 to %d characters",
			    KATLS_POLICY_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (!policy_char(s[i]))
			return fail(err, "policy name: only A-Z a-z 0-9 . _ -");
	memcpy(c->policy, s, n + 1);
	return 0;
}

int krun_set_peername(struct krun_config *c, const char *s, char *err)
{
	size_t n = strnlen(s, KATLS_PEERNAME_MAX);

	if (n >= KATLS_PEERNAME_MAX)
		return fail(err, "peer name longer than %d characters",
			    KATLS_PEERNAME_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return fail(err, "peer name: printable characters only");
	memcpy(c->peername, s, n + 1);
	c->has_peername = true;
	return 0;
}

int krun_set_timeout(struct krun_config *c, const char *s, char *err)
{
	unsigned long v = number(s, strlen(s), KATLS_TIMEOUT_MAX_MS);

	if (!v)
		return fail(err, "timeout must be 1 to %d ms",
			    KATLS_TIMEOUT_MAX_MS);
	c->timeout_ms = (unsigned int)v;
	return 0;
}

/* --name VALUE or --name=VALUE (or -x VALUE); NULL if @arg is not it. */
static const char *opt_value(int argc, char **argv, int *i, const char *lng,
			     const char *shrt, bool *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(lng);

	*missing = false;
	if (!strncmp(a, lng, n) && a[n] == '=')
		return a + n + 1;
	if (strcmp(a, lng) && (!shrt || strcmp(a, shrt)))
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int krun_parse_argv(int argc, char **argv, struct krun_config *c, char *err)
{
	static const struct {
		const char *lng, *shrt;
		int (*set)(struct krun_config *, const char *, char *);
	} with_value[] = {
		{ "--policy", "-p", krun_set_policy },
		{ "--peer-name", "-n", krun_set_peername },
		{ "--port", "-P", krun_parse_ports },
		{ "--timeout", "-t", krun_set_timeout },
	};
	int i;

	krun_config_init(c);
	err[0] = '\0';
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool done = false;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;		/* CMD */
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 0;
		if (!strcmp(a, "-s") || !strcmp(a, "--server")) {
			c->role = KATLS_ROLE_SERVER;
			continue;
		}
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			c->quiet = true;
			continue;
		}
		for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++) {
			bool missing;
			const char *v = opt_value(argc, argv, &i,
						  with_value[k].lng,
						  with_value[k].shrt, &missing);

			if (missing)
				return fail(err, "option %s needs a value", a);
			if (!v)
				continue;
			if (with_value[k].set(c, v, err) < 0)
				return -1;
			done = true;
			break;
		}
		if (!done)
			return fail(err, "unknown option '%.40s'", a);
	}
	if (i >= argc)
		return fail(err, "no command given");
	return i;
}

int krun_config_from_env(struct krun_config *c,
			 const char *(*get)(const char *name), char *err)
{
	const char *v;

	krun_config_init(c);
	err[0] = '\0';
	v = get(KRUN_ENV_ROLE);
	if (!v)
		return fail(err, "%s not set (start programs with katls-run)",
			    KRUN_ENV_ROLE);
	if (!strcmp(v, "client"))
		c->role = KATLS_ROLE_CLIENT;
	else if (!strcmp(v, "server"))
		c->role = KATLS_ROLE_SERVER;
	else
		return fail(err, "%s: 'client' or 'server'", KRUN_ENV_ROLE);
	v = get(KRUN_ENV_POLICY);
	if (v && krun_set_policy(c, v, err) < 0)
		return -1;
	v = get(KRUN_ENV_PEERNAME);
	if (v && krun_set_peername(c, v, err) < 0)
		return -1;
	v = get(KRUN_ENV_PORTS);
	if (v && *v && krun_parse_ports(c, v, err) < 0)
		return -1;
	v = get(KRUN_ENV_TIMEOUT);
	if (v && *v && krun_set_timeout(c, v, err) < 0)
		return -1;
	v = get(KRUN_ENV_QUIET);
	c->quiet = v && !strcmp(v, "1");
	return 0;
}

bool krun_port_selected(const struct krun_config *c, uint16_t port)
{
	if (!c->nports)
		return true;
	for (unsigned int i = 0; i < c->nports; i++)
		if (c->ports[i] == port)
			return true;
	return false;
}

void krun_format_ports(const struct krun_config *c, char *buf)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < c->nports; i++)
		off += (size_t)snprintf(buf + off, KRUN_PORTS_STR_MAX - off,
					"%s%u", i ? "," : "", c->ports[i]);
}
