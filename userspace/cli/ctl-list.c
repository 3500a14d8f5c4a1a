// SPDX-License-Identifier: GPL-2.0
/*
 * ctl-list.c - list opted-in sockets: the KATLS_CMD_GET dump of the katls
 * generic netlink family (libkatlsagent).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <katls/agent.h>
#include <katls/katls.h>
#include "ctl.h"

/* Far above any real host; bounds memory if the dump misbehaves. */
#define CTL_SOCK_MAX	(1u << 20)

void ctl_sock_addr(const struct katls_agent_sock *s, bool local, char *buf,
		   size_t len)
{
	const uint8_t *a = local ? s->saddr : s->daddr;
	int attr = local ? KATLS_A_SADDR : KATLS_A_DADDR;
	unsigned int port = local ? s->sport : s->dport;
	char ip[INET6_ADDRSTRLEN];

	if (!KATLS_AGENT_HAS(s, attr) || !inet_ntop(s->family, a, ip, sizeof(ip))) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, s->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 port);
}

void ctl_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Printable policy for the table: anything odd becomes '?'. */
static void policy_text(const char *p, char *buf, size_t len)
{
	size_t i;

	if (!p[0]) {
		snprintf(buf, len, "-");
		return;
	}
	for (i = 0; p[i] && i + 1 < len; i++)
		buf[i] = p[i] > 0x20 && p[i] < 0x7f ? p[i] : '?';
	buf[i] = '\0';
}

/* The text cells of one table row. */
struct row {
	char l[64], r[64], pol[KATLS_POLICY_MAX], agent[12], age[12];
	char inode[24];
};

static void row_fill(const struct katls_agent_sock *s, struct row *w)
{
	ctl_sock_addr(s, true, w->l, sizeof(w->l));
	ctl_sock_addr(s, false, w->r, sizeof(w->r));
	policy_text(s->policy, w->pol, sizeof(w->pol));
	if (KATLS_AGENT_HAS(s, KATLS_A_AGENT_PID) && s->agent_pid)
		snprintf(w->agent, sizeof(w->agent), "%" PRIu32, s->agent_pid);
	else
		snprintf(w->agent, sizeof(w->agent), "-");
	if (KATLS_AGENT_HAS(s, KATLS_A_AGE_MS))
		snprintf(w->age, sizeof(w->age), "%" PRIu32, s->age_ms);
	else
		snprintf(w->age, sizeof(w->age), "-");
	if (KATLS_AGENT_HAS(s, KATLS_A_INODE))
		snprintf(w->inode, sizeof(w->inode), "%" PRIu64, s->inode);
	else
		snprintf(w->inode, sizeof(w->inode), "-");
}

static int widest(int w, const char *cell)
{
	size_t n = strlen(cell);

	return n > (size_t)w ? (int)n : w;
}

/*
 * Each column is as wide as its widest cell: an IPv4-only table stays
 * narrow, an IPv6 address widens only the address columns.
 */
void ctl_list_print(FILE *out, const struct katls_agent_sock *s, size_t n)
{
	unsigned int count[__KATLS_STATE_MAX + 1] = { 0 };
	int wl = 5, wr = 4, wp = 6, wa = 5;	/* LOCAL PEER POLICY AGENT */
	bool first = true;
	struct row w;

	for (size_t i = 0; i < n; i++) {
		row_fill(&s[i], &w);
		wl = widest(wl, w.l);
		wr = widest(wr, w.r);
		wp = widest(wp, w.pol);
		wa = widest(wa, w.agent);
	}
	fprintf(out, "%-6s %-9s %-7s %-*s %-*s %-*s %9s %-*s %s\n", "ID",
		"STATE", "ROLE", wl, "LOCAL", wr, "PEER", wa, "AGENT",
		"AGE(ms)", wp, "POLICY", "INODE");
	for (size_t i = 0; i < n; i++) {
		row_fill(&s[i], &w);
		fprintf(out, "%-6" PRIu64 " %-9s %-7s %-*s %-*s %-*s %9s %-*s %s\n",
			s[i].req_id, katls_state_name(s[i].state),
			KATLS_AGENT_HAS(&s[i], KATLS_A_ROLE) ?
				katls_role_name(s[i].role) : "-",
			wl, w.l, wr, w.r, wa, w.agent, w.age, wp, w.pol,
			w.inode);
		count[s[i].state < __KATLS_STATE_MAX ? s[i].state :
						       __KATLS_STATE_MAX]++;
	}
	fprintf(out, "%zu socket%s", n, n == 1 ? "" : "s");
	for (unsigned int st = 0; st <= __KATLS_STATE_MAX; st++) {
		if (!count[st])
			continue;
		fprintf(out, "%s %u %s", first ? ":" : ",", count[st],
			katls_state_name(st));
		first = false;
	}
	fputc('\n', out);
}

void ctl_list_print_json(FILE *out, const struct katls_agent_sock *s, size_t n)
{
	fputs("[", out);
	for (size_t i = 0; i < n; i++) {
		char l[64], r[64];

		ctl_sock_addr(&s[i], true, l, sizeof(l));
		ctl_sock_addr(&s[i], false, r, sizeof(r));
		fprintf(out, "%s\n  {\"req_id\": %" PRIu64 ", \"state\": \"%s\"",
			i ? "," : "", s[i].req_id,
			katls_state_name(s[i].state));
		if (KATLS_AGENT_HAS(&s[i], KATLS_A_ROLE))
			fprintf(out, ", \"role\": \"%s\"",
				katls_role_name(s[i].role));
		if (KATLS_AGENT_HAS(&s[i], KATLS_A_FAMILY))
			fprintf(out, ", \"family\": \"%s\"",
				s[i].family == AF_INET ? "inet" :
				s[i].family == AF_INET6 ? "inet6" : "unknown");
		if (KATLS_AGENT_HAS(&s[i], KATLS_A_SADDR))
			fprintf(out, ", \"local\": \"%s\"", l);
		if (KATLS_AGENT_HAS(&s[i], KATLS_A_DADDR))
			fprintf(out, ", \"peer\": \"%s\"", r);
		if (KATLS_AGENT_HAS(&s[i], KATLS_A_AGENT_PID))
			fprintf(out, ", \"agent_pid\": %" PRIu32,
				s[i].agent_pid);
		if (KATLS_AGENT_HAS(&s[i], KATLS_A_AGE_MS))
			fprintf(out, ", \"age_ms\": %" PRIu32, s[i].age_ms);
		if (KATLS_AGENT_HAS(&s[i], KATLS_A_POLICY)) {
			fputs(", \"policy\": ", out);
			ctl_json_string(out, s[i].policy);
		}
		if (KATLS_AGENT_HAS(&s[i], KATLS_A_INODE))
			fprintf(out, ", \"inode\": %" PRIu64, s[i].inode);
		fputs("}", out);
	}
	fputs(n ? "\n]\n" : "]\n", out);
}

struct dump {
	struct katls_agent_sock *v;
	size_t n, cap;
};

static int dump_cb(const struct katls_agent_sock *s, void *arg)
{
	struct dump *d = arg;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct katls_agent_sock *v;

		if (cap > CTL_SOCK_MAX)
			return -ERANGE;
		v = reallocarray(d->v, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = *s;
	return 0;
}

int ctl_list_dump(struct katls_agent_sock **out, bool *absent, char *err,
		  size_t errlen)
{
	struct katls_agent ag = { 0 };
	struct dump d = { 0 };
	int ret;

	*out = NULL;
	*absent = false;
	ret = katls_agent_connect(&ag);
	if (ret == -ENOENT) {
		*absent = true;
		snprintf(err, errlen, "katls module not loaded");
		return -1;
	}
	if (ret) {
		snprintf(err, errlen, "generic netlink family %s: %s",
			 KATLS_GENL_NAME, strerror(-ret));
		return -1;
	}
	ret = katls_agent_dump(&ag, dump_cb, &d);
	katls_agent_close(&ag);
	if (ret) {
		snprintf(err, errlen, "dump: %s%s", strerror(-ret),
			 ret == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
		free(d.v);
		return -1;
	}
	*out = d.v;
	return (int)d.n;
}
