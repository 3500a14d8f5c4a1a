/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctl.h - katlsctl internals shared with its unit tests.
 */
#ifndef KATLS_CLI_CTL_H
#define KATLS_CLI_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/katls.h>
#include <katls/agent.h>

#define CTL_STAT_PATH		"/proc/net/katls_stat"
#define CTL_STAT_NAME_MAX	64	/* including the NUL */
#define CTL_STAT_MAX		256	/* counters in one file */
#define CTL_STAT_LINE_MAX	256

struct ctl_stat {
	char name[CTL_STAT_NAME_MAX];
	int64_t value;
};

/*
 * Parse /proc/net/katls_stat: one "name value" pair per line, name of
 * [A-Za-z0-9_], value a decimal signed 64-bit number (the module prints
 * "%-16s%lld"; a gauge below 0 would be a module bug worth seeing,
 * not a reason to print nothing), separated and
 * optionally followed by blanks; empty lines are ignored.  Fills at most
 * @max entries.  Returns the number of entries, or -1 with a message in
 * @err (malformed line, too many entries, read error).
 */
int ctl_stat_parse(FILE *f, struct ctl_stat *st, size_t max,
		   char *err, size_t errlen);

/* Print aligned "name  value" lines, or a JSON object. */
void ctl_stat_print(FILE *out, const struct ctl_stat *st, size_t n);
void ctl_stat_print_json(FILE *out, const struct ctl_stat *st, size_t n);

/*
 * The dump's entries are struct katls_agent_sock, as libkatlsagent
 * decodes them (katls_agent_parse_sock(): attribute types and lengths,
 * addresses 4 bytes for AF_INET and 16 for AF_INET6, the policy
 * NUL-terminated within KATLS_POLICY_MAX).
 */

/* "[2001:db8::1]:443", "10.0.0.1:443" or "-" into @buf. */
void ctl_sock_addr(const struct katls_agent_sock *s, bool local, char *buf,
		   size_t len);

void ctl_list_print(FILE *out, const struct katls_agent_sock *s, size_t n);
void ctl_list_print_json(FILE *out, const struct katls_agent_sock *s, size_t n);

/*
 * Dump the sockets through generic netlink into a malloc'ed array.
 * Returns the count, or -1 with a message in @err; *@absent is set when
 * the katls family is not registered (module not loaded).
 */
int ctl_list_dump(struct katls_agent_sock **out, bool *absent, char *err,
		  size_t errlen);

/* JSON string literal of @s (quotes, escapes) on @out. */
void ctl_json_string(FILE *out, const char *s);

#endif /* KATLS_CLI_CTL_H */
