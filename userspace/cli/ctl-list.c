// SPDX-License-Identifier: GPL-2.0
/*
 * ctl-list.c - list opted-in sockets through the katls generic netlink
 * family (KATLS_CMD_GET dump).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <katls/katls.h>
#include "ctl.h"

/* Far above any real host; bounds memory if the dump misbehaves. */
#define CTL_SOCK_MAX	(1u << 20)

static struct nla_policy sock_policy[KATLS_A_MAX + 1] = {
	[KATLS_A_REQ_ID]	= { .type = NLA_U64 },
	[KATLS_A_STATE]		= { .type = NLA_U32 },
	[KATLS_A_ROLE]		= { .type = NLA_U32 },
	[KATLS_A_FAMILY]	= { .type = NLA_U16 },
	[KATLS_A_SADDR]		= { .type = NLA_UNSPEC, .minlen = 4,
				    .maxlen = 16 },
	[KATLS_A_DADDR]		= { .type = NLA_UNSPEC, .minlen = 4,
				    .maxlen = 16 },
	[KATLS_A_SPORT]		= { .type = NLA_U16 },
	[KATLS_A_DPORT]		= { .type = NLA_U16 },
	[KATLS_A_AGENT_PID]	= { .type = NLA_U32 },
	[KATLS_A_AGE_MS]	= { .type = NLA_U32 },
	[KATLS_A_POLICY]	= { .type = NLA_STRING,
				    .maxlen = KATLS_POLICY_MAX },
	[KATLS_A_INODE]		= { .type = NLA_U64 },
};

static int addr_len(uint16_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : -1;
}

int ctl_sock_parse(struct nl_msg *msg, struct ctl_sock *s)
{
	struct nlattr *tb[KATLS_A_MAX + 1];
	int err, alen;

	memset(s, 0, sizeof(*s));
	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX, sock_policy);
	if (err < 0)
		return err;
	for (int a = 1; a <= KATLS_A_MAX; a++)
		if (tb[a])
			s->present |= 1ull << a;

	/* Every entry is a request; without its id it is not one of ours. */
	if (!tb[KATLS_A_REQ_ID] || !tb[KATLS_A_STATE])
		return -NLE_MISSING_ATTR;
	s->req_id = nla_get_u64(tb[KATLS_A_REQ_ID]);
	s->state = nla_get_u32(tb[KATLS_A_STATE]);
	if (tb[KATLS_A_ROLE])
		s->role = nla_get_u32(tb[KATLS_A_ROLE]);
	if (tb[KATLS_A_AGENT_PID])
		s->agent_pid = nla_get_u32(tb[KATLS_A_AGENT_PID]);
	if (tb[KATLS_A_AGE_MS])
		s->age_ms = nla_get_u32(tb[KATLS_A_AGE_MS]);
	if (tb[KATLS_A_INODE])
		s->inode = nla_get_u64(tb[KATLS_A_INODE]);
	if (tb[KATLS_A_SPORT])
		s->sport = nla_get_u16(tb[KATLS_A_SPORT]);
	if (tb[KATLS_A_DPORT])
		s->dport = nla_get_u16(tb[KATLS_A_DPORT]);
	if (tb[KATLS_A_FAMILY])
		s->family = nla_get_u16(tb[KATLS_A_FAMILY]);

	alen = addr_len(s->family);
	if ((tb[KATLS_A_SADDR] || tb[KATLS_A_DADDR]) && alen < 0)
		return -NLE_INVAL;
	if (tb[KATLS_A_SADDR]) {
		if (nla_len(tb[KATLS_A_SADDR]) != alen)
			return -NLE_INVAL;
		memcpy(s->saddr, nla_data(tb[KATLS_A_SADDR]), (size_t)alen);
	}
	if (tb[KATLS_A_DADDR]) {
		if (nla_len(tb[KATLS_A_DADDR]) != alen)
			return -NLE_INVAL;
		memcpy(s->daddr, nla_data(tb[KATLS_A_DADDR]), (size_t)alen);
	}
	if (tb[KATLS_A_POLICY]) {
		const char *p = nla_data(tb[KATLS_A_POLICY]);
		int n = nla_len(tb[KATLS_A_POLICY]);

		/* NLA_STRING does not demand the NUL; we do. */
		if (n < 1 || n > KATLS_POLICY_MAX || p[n - 1] != '\0')
			return -NLE_INVAL;
		memcpy(s->policy, p, (size_t)n);
	}
	return 0;
}

void ctl_sock_addr(const struct ctl_sock *s, bool local, char *buf,
		   size_t len)
{
	const uint8_t *a = local ? s->saddr : s->daddr;
	int attr = local ? KATLS_A_SADDR : KATLS_A_DADDR;
	unsigned int port = local ? s->sport : s->dport;
	char ip[INET6_ADDRSTRLEN];

	if (!CTL_HAS(s, attr) || !inet_ntop(s->family, a, ip, sizeof(ip))) {
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

static void row_fill(const struct ctl_sock *s, struct row *w)
{
	ctl_sock_addr(s, true, w->l, sizeof(w->l));
	ctl_sock_addr(s, false, w->r, sizeof(w->r));
	policy_text(s->policy, w->pol, sizeof(w->pol));
	if (CTL_HAS(s, KATLS_A_AGENT_PID) && s->agent_pid)
		snprintf(w->agent, sizeof(w->agent), "%" PRIu32, s->agent_pid);
	else
		snprintf(w->agent, sizeof(w->agent), "-");
	if (CTL_HAS(s, KATLS_A_AGE_MS))
		snprintf(w->age, sizeof(w->age), "%" PRIu32, s->age_ms);
	else
		snprintf(w->age, sizeof(w->age), "-");
	if (CTL_HAS(s, KATLS_A_INODE))
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
void ctl_list_print(FILE *out, const struct ctl_sock *s, size_t n)
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
			CTL_HAS(&s[i], KATLS_A_ROLE) ?
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

void ctl_list_print_json(FILE *out, const struct ctl_sock *s, size_t n)
{
	fputs("[", out);
	for (size_t i = 0; i < n; i++) {
		char l[64], r[64];

		ctl_sock_addr(&s[i], true, l, sizeof(l));
		ctl_sock_addr(&s[i], false, r, sizeof(r));
		fprintf(out, "%s\n  {\"req_id\": %" PRIu64 ", \"state\": \"%s\"",
			i ? "," : "", s[i].req_id,
			katls_state_name(s[i].state));
		if (CTL_HAS(&s[i], KATLS_A_ROLE))
			fprintf(out, ", \"role\": \"%s\"",
				katls_role_name(s[i].role));
		if (CTL_HAS(&s[i], KATLS_A_FAMILY))
			fprintf(out, ", \"family\": \"%s\"",
				s[i].family == AF_INET ? "inet" :
				s[i].family == AF_INET6 ? "inet6" : "unknown");
		if (CTL_HAS(&s[i], KATLS_A_SADDR))
			fprintf(out, ", \"local\": \"%s\"", l);
		if (CTL_HAS(&s[i], KATLS_A_DADDR))
			fprintf(out, ", \"peer\": \"%s\"", r);
		if (CTL_HAS(&s[i], KATLS_A_AGENT_PID))
			fprintf(out, ", \"agent_pid\": %" PRIu32,
				s[i].agent_pid);
		if (CTL_HAS(&s[i], KATLS_A_AGE_MS))
			fprintf(out, ", \"age_ms\": %" PRIu32, s[i].age_ms);
		if (CTL_HAS(&s[i], KATLS_A_POLICY)) {
			fputs(", \"policy\": ", out);
			ctl_json_string(out, s[i].policy);
		}
		if (CTL_HAS(&s[i], KATLS_A_INODE))
			fprintf(out, ", \"inode\": %" PRIu64, s[i].inode);
		fputs("}", out);
	}
	fputs(n ? "\n]\n" : "]\n", out);
}

struct dump {
	struct ctl_sock *v;
	size_t n, cap;
	int err;
};

static int dump_cb(struct nl_msg *msg, void *arg)
{
	struct dump *d = arg;
	struct ctl_sock s;
	int err;

	err = ctl_sock_parse(msg, &s);
	if (err < 0) {
		d->err = err;
		return NL_STOP;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct ctl_sock *v;

		if (cap > CTL_SOCK_MAX) {
			d->err = -NLE_RANGE;
			return NL_STOP;
		}
		v = reallocarray(d->v, cap, sizeof(*v));
		if (!v) {
			d->err = -NLE_NOMEM;
			return NL_STOP;
		}
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = s;
	return NL_OK;
}

int ctl_list_dump(struct ctl_sock **out, bool *absent, char *err,
		  size_t errlen)
{
	struct genlmsghdr hdr = {
		.cmd = KATLS_CMD_GET,
		.version = KATLS_GENL_VERSION,
	};
	struct dump d = { 0 };
	struct nl_sock *sk;
	int fam, ret;

	*out = NULL;
	*absent = false;
	sk = nl_socket_alloc();
	if (!sk) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ret = genl_connect(sk);
	if (ret < 0) {
		snprintf(err, errlen, "generic netlink: %s", nl_geterror(ret));
		goto fail;
	}
	fam = genl_ctrl_resolve(sk, KATLS_GENL_NAME);
	if (fam < 0) {
		if (fam == -NLE_OBJ_NOTFOUND) {
			*absent = true;
			snprintf(err, errlen, "katls module not loaded");
		} else {
			snprintf(err, errlen, "resolve family %s: %s",
				 KATLS_GENL_NAME, nl_geterror(fam));
		}
		goto fail;
	}
	ret = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, dump_cb, &d);
	if (ret >= 0)
		ret = nl_send_simple(sk, fam, NLM_F_DUMP, &hdr, sizeof(hdr));
	if (ret >= 0)
		ret = nl_recvmsgs_default(sk);
	if (ret >= 0 && d.err < 0)
		ret = d.err;
	if (ret < 0) {
		snprintf(err, errlen, "dump: %s%s", nl_geterror(ret),
			 ret == -NLE_PERM ? " (needs CAP_NET_ADMIN)" : "");
		goto fail;
	}
	nl_socket_free(sk);
	*out = d.v;
	return (int)d.n;
fail:
	free(d.v);
	nl_socket_free(sk);
	return -1;
}
