// SPDX-License-Identifier: GPL-2.0
/*
 * test-katlsctl.c - katlsctl's /proc/net/katls_stat parser and printers,
 * and the decoding of KATLS_CMD_GET dump messages built with libnl.
 *
 * Usage: test-katlsctl DATADIR   (DATADIR holds katls_stat.sample)
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "ctl.h"
#include "tap.h"

static struct ctl_stat st[CTL_STAT_MAX];
static char err[128];

static int parse_str(const char *text, size_t max)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int n;

	if (!f)
		return -2;
	err[0] = '\0';
	n = ctl_stat_parse(f, st, max, err, sizeof(err));
	fclose(f);
	return n;
}

/* Output of a printer into a malloc'ed string. */
#define CAPTURE(buf, call)						\
	do {								\
		size_t len_;						\
		FILE *m_ = open_memstream(&(buf), &len_);		\
		call(m_, st, (size_t)n);				\
		fclose(m_);						\
	} while (0)

static void test_stat(const char *datadir)
{
	char path[512], *out = NULL;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/katls_stat.sample", datadir);
	f = fopen(path, "r");
	if (!tap_ok(f != NULL, "open %s", path))
		return;
	n = ctl_stat_parse(f, st, CTL_STAT_MAX, err, sizeof(err));
	fclose(f);
	tap_ok(n == 13, "sample (module's %%-16s%%lld format): 13 counters "
	       "(%d %s)", n, err);
	tap_ok(n == 13 && !strcmp(st[0].name, "opted_in") && st[0].value == 3
	       && !strcmp(st[5].name, "verified") && st[5].value == 12 &&
	       !strcmp(st[12].name, "gate_refused") && st[12].value == 4,
	       "sample: names and values in file order");

	if (n == 13) {
		CAPTURE(out, ctl_stat_print);
		tap_ok(out && !strncmp(out, "opted_in          3\n"
					    "pending           0\n"
					    "in_progress       1\n"
					    "requested        16\n", 80),
		       "aligned text output");
		free(out);
		out = NULL;
		CAPTURE(out, ctl_stat_print_json);
		tap_ok(out && !strncmp(out, "{\n  \"opted_in\": 3,\n"
					    "  \"pending\": 0,\n", 34) &&
		       strstr(out, ",\n  \"gate_refused\": 4\n}\n"),
		       "JSON output");
		free(out);
		out = NULL;
	}

	n = parse_str("  TlsLike   9223372036854775807  \n\n\tb 7", 8);
	tap_ok(n == 2 && st[0].value == INT64_MAX &&
	       !strcmp(st[0].name, "TlsLike") && st[1].value == 7,
	       "blanks, empty line, s64 max, last line without newline");
	n = parse_str("gauge -3\n", 8);
	tap_ok(n == 1 && st[0].value == -3, "negative gauge shown, not hidden");
	tap_ok(parse_str("a -\n", 8) == -1 && parse_str("a --1\n", 8) == -1,
	       "lone or double minus rejected");
	n = parse_str("", 8);
	tap_ok(n == 0, "empty file: no counters");
	CAPTURE(out, ctl_stat_print_json);
	tap_ok(out && !strcmp(out, "{}\n"), "empty JSON object");
	free(out);

	tap_ok(parse_str("pending\n", 8) == -1 && strstr(err, "line 1"),
	       "name without value rejected (%s)", err);
	tap_ok(parse_str("a 1\nb 1x\n", 8) == -1 && strstr(err, "line 2"),
	       "value with junk rejected, line named (%s)", err);
	tap_ok(parse_str("a 9223372036854775808\n", 8) == -1,
	       "value above s64 rejected");
	tap_ok(parse_str("a 0x10\n", 8) == -1, "hex value rejected");
	tap_ok(parse_str("a 1 2\n", 8) == -1, "two values rejected");
	tap_ok(parse_str("a\"b 1\n", 8) == -1,
	       "name with a quote rejected (JSON stays valid)");
	tap_ok(parse_str("a 1\na 2\n", 8) == -1 && strstr(err, "duplicate"),
	       "duplicate counter rejected");
	tap_ok(parse_str("a 1\nb 2\nc 3\n", 2) == -1 &&
	       strstr(err, "more than 2"), "too many counters rejected");
	{
		char name[80], line[100];

		memset(name, 'n', 64);
		name[64] = '\0';
		snprintf(line, sizeof(line), "%s 1\n", name);
		tap_ok(parse_str(line, 8) == -1, "64-char name rejected");
		name[63] = '\0';
		snprintf(line, sizeof(line), "%s 1\n", name);
		tap_ok(parse_str(line, 8) == 1, "63-char name accepted");
	}
	{
		char big[400];

		memset(big, ' ', sizeof(big));
		memcpy(big, "a 1", 3);
		big[sizeof(big) - 1] = '\0';
		tap_ok(parse_str(big, 8) == -1 && strstr(err, "longer"),
		       "overlong line rejected");
	}
	{
		static const char nul[] = "a 1\0junk\n";
		FILE *m = fmemopen((void *)nul, sizeof(nul) - 1, "r");

		n = ctl_stat_parse(m, st, 8, err, sizeof(err));
		fclose(m);
		tap_ok(n == -1 && strstr(err, "NUL"), "NUL byte rejected");
	}
}

/* A dump reply as the kernel would send it. */
static struct nl_msg *reply(int family, int alen, const char *policy,
			    bool with_id)
{
	struct nl_msg *m = nlmsg_alloc();
	uint8_t sa[16], da[16];

	genlmsg_put(m, 0, 0, 0x20, 0, NLM_F_MULTI, KATLS_CMD_GET,
		    KATLS_GENL_VERSION);
	if (with_id)
		nla_put_u64(m, KATLS_A_REQ_ID, 42);
	nla_put_u32(m, KATLS_A_STATE, KATLS_STATE_ACCEPTED);
	nla_put_u32(m, KATLS_A_ROLE, KATLS_ROLE_CLIENT);
	nla_put_u16(m, KATLS_A_FAMILY, (uint16_t)family);
	if (family == AF_INET) {
		inet_pton(AF_INET, "10.0.0.1", sa);
		inet_pton(AF_INET, "10.0.0.2", da);
	} else {
		inet_pton(AF_INET6, "2001:db8::1", sa);
		inet_pton(AF_INET6, "2001:db8::2", da);
	}
	nla_put(m, KATLS_A_SADDR, alen, sa);
	nla_put(m, KATLS_A_DADDR, alen, da);
	nla_put_u16(m, KATLS_A_SPORT, 40000);
	nla_put_u16(m, KATLS_A_DPORT, 443);
	nla_put_u32(m, KATLS_A_AGENT_PID, 1234);
	nla_put_u32(m, KATLS_A_AGE_MS, 17);
	if (policy)
		nla_put_string(m, KATLS_A_POLICY, policy);
	nla_put_u64(m, KATLS_A_INODE, 987654);
	return m;
}

static void test_list(void)
{
	struct katls_agent_sock s[2];
	struct nl_msg *m;
	char buf[64], *out = NULL;
	size_t len;
	FILE *mf;
	int r;

	m = reply(AF_INET, 4, "sim-test", true);
	r = katls_agent_parse_sock(nlmsg_hdr(m), &s[0]);
	nlmsg_free(m);
	tap_ok(r == 0 && s[0].req_id == 42 &&
	       s[0].state == KATLS_STATE_ACCEPTED &&
	       s[0].role == KATLS_ROLE_CLIENT && s[0].sport == 40000 &&
	       s[0].dport == 443 && s[0].agent_pid == 1234 &&
	       s[0].age_ms == 17 && s[0].inode == 987654 &&
	       !strcmp(s[0].policy, "sim-test"), "IPv4 entry decoded");
	ctl_sock_addr(&s[0], true, buf, sizeof(buf));
	tap_ok(!strcmp(buf, "10.0.0.1:40000"), "IPv4 local %s", buf);

	m = reply(AF_INET6, 16, "p\"q", true);
	r = katls_agent_parse_sock(nlmsg_hdr(m), &s[1]);
	nlmsg_free(m);
	ctl_sock_addr(&s[1], false, buf, sizeof(buf));
	tap_ok(r == 0 && !strcmp(buf, "[2001:db8::2]:443"),
	       "IPv6 entry decoded, peer %s", buf);

	m = reply(AF_INET, 16, NULL, true);
	tap_ok(katls_agent_parse_sock(nlmsg_hdr(m), &s[0]) < 0,
	       "IPv4 entry with a 16-byte address rejected");
	nlmsg_free(m);
	m = reply(AF_INET6, 4, NULL, true);
	tap_ok(katls_agent_parse_sock(nlmsg_hdr(m), &s[0]) < 0,
	       "IPv6 entry with a 4-byte address rejected");
	nlmsg_free(m);
	m = reply(AF_UNIX, 4, NULL, true);
	tap_ok(katls_agent_parse_sock(nlmsg_hdr(m), &s[0]) < 0,
	       "address of an unknown family rejected");
	nlmsg_free(m);
	m = reply(AF_INET, 4, NULL, false);
	tap_ok(katls_agent_parse_sock(nlmsg_hdr(m), &s[0]) < 0, "entry without REQ_ID rejected");
	nlmsg_free(m);
	{
		char longp[100];

		memset(longp, 'x', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		m = reply(AF_INET, 4, longp, true);
		tap_ok(katls_agent_parse_sock(nlmsg_hdr(m), &s[0]) < 0,
		       "policy longer than KATLS_POLICY_MAX rejected");
		nlmsg_free(m);
	}
	m = nlmsg_alloc();
	genlmsg_put(m, 0, 0, 0x20, 0, 0, KATLS_CMD_GET, 1);
	nla_put_u64(m, KATLS_A_REQ_ID, 1);
	nla_put_u16(m, KATLS_A_STATE, 1);	/* wrong width */
	tap_ok(katls_agent_parse_sock(nlmsg_hdr(m), &s[0]) < 0, "u16 STATE (wrong type) rejected");
	nlmsg_free(m);

	/* Rebuild the two good entries for the printers. */
	m = reply(AF_INET, 4, "sim-test", true);
	katls_agent_parse_sock(nlmsg_hdr(m), &s[0]);
	nlmsg_free(m);
	m = reply(AF_INET6, 16, "p\"q", true);
	katls_agent_parse_sock(nlmsg_hdr(m), &s[1]);
	s[1].state = KATLS_STATE_OPEN;
	nlmsg_free(m);

	mf = open_memstream(&out, &len);
	ctl_list_print(mf, s, 2);
	fclose(mf);
	tap_ok(out && !strncmp(out, "ID ", 3) &&
	       strstr(out, "\n42     accepted  client  10.0.0.1:40000") &&
	       strstr(out, "[2001:db8::1]:40000") &&
	       strstr(out, "2 sockets: 1 accepted, 1 open\n"),
	       "table with per-state counts");
	free(out);
	out = NULL;

	mf = open_memstream(&out, &len);
	ctl_list_print_json(mf, s, 2);
	fclose(mf);
	tap_ok(out && strstr(out, "{\"req_id\": 42, \"state\": \"accepted\", "
				  "\"role\": \"client\", \"family\": \"inet\", "
				  "\"local\": \"10.0.0.1:40000\"") &&
	       strstr(out, "\"policy\": \"p\\\"q\"") && out[0] == '[' &&
	       out[len - 2] == ']', "JSON list with escaped policy");
	free(out);
	out = NULL;

	/*
	 * Item 21: columns as wide as their widest entry (an IPv4-only table
	 * was padded to IPv6 width, 170 columns), and still aligned.
	 */
	{
		const char *line, *nl, *hdr_peer, *row_peer;
		size_t maxw = 0;

		mf = open_memstream(&out, &len);
		ctl_list_print(mf, s, 1);		/* IPv4 only */
		fclose(mf);
		for (line = out; line && *line; line = nl + 1) {
			nl = strchr(line, '\n');
			if (!nl)
				break;
			if ((size_t)(nl - line) > maxw)
				maxw = (size_t)(nl - line);
		}
		hdr_peer = out ? strstr(out, "PEER") : NULL;
		row_peer = out ? strstr(out, "10.0.0.2:443") : NULL;
		nl = out ? strchr(out, '\n') : NULL;
		tap_ok(maxw > 0 && maxw <= 100 && hdr_peer && row_peer && nl &&
		       hdr_peer - out == row_peer - (nl + 1),
		       "IPv4 table: %zu columns wide, PEER column aligned", maxw);
		free(out);
		out = NULL;

		mf = open_memstream(&out, &len);
		ctl_list_print(mf, s, 2);		/* IPv4 and IPv6 */
		fclose(mf);
		hdr_peer = out ? strstr(out, "PEER") : NULL;
		row_peer = out ? strstr(out, "[2001:db8::2]:443") : NULL;
		line = out ? strstr(out, "\n42 ") : NULL;
		line = line ? strstr(line + 1, "\n42 ") : NULL;
		nl = out ? strchr(out, '\n') : NULL;
		tap_ok(hdr_peer && row_peer && line && nl &&
		       hdr_peer - out == row_peer - (line + 1) &&
		       strstr(out, "10.0.0.2:443 "),
		       "mixed table: the PEER column fits the IPv6 address, aligned");
		free(out);
		out = NULL;
	}

	mf = open_memstream(&out, &len);
	ctl_list_print(mf, s, 0);
	fclose(mf);
	tap_ok(out && strstr(out, "\n0 sockets\n"), "empty table");
	free(out);
}

int main(int argc, char **argv)
{
	tap_plan_lazy();
	test_stat(argc > 1 ? argv[1] : "data");
	test_list();
	return tap_done();
}
