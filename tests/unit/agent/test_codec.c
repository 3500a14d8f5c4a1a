// SPDX-License-Identifier: GPL-2.0
/*
 * test_codec.c - libkatlsagent's messages against the UAPI attribute
 * layout: DONE built and parsed back for each cipher, malformed and
 * oversized attributes refused (ACCEPT, DONE, dump), and key material
 * wiped (messages before they are freed, the ack buffer, the structs).
 * The transactions themselves need katls.ko: the VM tests use them.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <katls/agent.h>
#include "tap.h"

#define FAMILY	0x1234
#define MARK	0x11		/* every tx key byte */

/* ---- nlmsg_free() wrapped: was a key still in the buffer? ---- */

void __real_nlmsg_free(struct nl_msg *msg);
static unsigned int freed_with_key;

static bool has_mark(const uint8_t *p, size_t n)
{
	static const uint8_t key[16] = {
		MARK, MARK, MARK, MARK, MARK, MARK, MARK, MARK,
		MARK, MARK, MARK, MARK, MARK, MARK, MARK, MARK };

	return memmem(p, n, key, sizeof(key)) != NULL;
}

void __wrap_nlmsg_free(struct nl_msg *msg)
{
	if (msg && has_mark((const uint8_t *)nlmsg_hdr(msg),
			    nlmsg_get_max_size(msg)))
		freed_with_key++;
	__real_nlmsg_free(msg);
}

/* ---- fixtures ---- */

static void fill_key(union katls_crypto_info *ci, int cipher, uint8_t b)
{
	memset(ci, 0, sizeof(*ci));
	ci->info.version = TLS_1_3_VERSION;
	ci->info.cipher_type = cipher;
	switch (cipher) {
	case TLS_CIPHER_AES_GCM_128:
		memset(ci->aes128.key, b, sizeof(ci->aes128.key));
		memset(ci->aes128.iv, b + 1, sizeof(ci->aes128.iv));
		memset(ci->aes128.salt, b + 2, sizeof(ci->aes128.salt));
		break;
	case TLS_CIPHER_AES_GCM_256:
		memset(ci->aes256.key, b, sizeof(ci->aes256.key));
		memset(ci->aes256.iv, b + 1, sizeof(ci->aes256.iv));
		memset(ci->aes256.salt, b + 2, sizeof(ci->aes256.salt));
		break;
	default:
		memset(ci->chacha.key, b, sizeof(ci->chacha.key));
		memset(ci->chacha.iv, b + 1, sizeof(ci->chacha.iv));
		break;
	}
}

static void fill_done(struct katls_agent_done *d, int cipher)
{
	memset(d, 0, sizeof(*d));
	d->id = 0x0102030405060708ull;
	d->summary.evidence_type = KATLS_EVIDENCE_SIM;
	d->summary.binding_level = KATLS_BINDING_L2;
	memset(d->summary.digest, 0xd1, sizeof(d->summary.digest));
	memset(d->summary.measurement, 0x4d, 48);
	d->summary.measurement_len = 48;
	strcpy(d->summary.policy, "sim-demo");
	fill_key(&d->keys.tx, cipher, MARK);
	fill_key(&d->keys.rx, cipher, 0x22);
	d->keys.len = katls_crypto_info_len(&d->keys.tx);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* ---- DONE ---- */

static void done_round_trip(int cipher, const char *name, size_t size)
{
	struct katls_agent_done d, back;
	struct nlattr *tb[KATLS_A_MAX + 1];
	struct genlmsghdr *g;
	struct nl_msg *msg;
	int ret;

	fill_done(&d, cipher);
	tap_ok(d.keys.len == size, "%s: crypto_info size %zu", name, d.keys.len);
	msg = katls_agent_done_msg(FAMILY, &d);
	if (!tap_ok(msg != NULL, "%s: DONE built", name))
		return;
	g = nlmsg_data(nlmsg_hdr(msg));
	tap_ok(nlmsg_hdr(msg)->nlmsg_type == FAMILY &&
	       g->cmd == KATLS_CMD_DONE && g->version == KATLS_GENL_VERSION,
	       "%s: family, command, version", name);
	/* The raw layout: the UAPI attribute numbers, the struct as is. */
	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX, NULL);
	tap_ok(!ret && tb[KATLS_A_TX] && tb[KATLS_A_RX] &&
	       nla_len(tb[KATLS_A_TX]) == (int)size &&
	       !memcmp(nla_data(tb[KATLS_A_TX]), &d.keys.tx, size) &&
	       !memcmp(nla_data(tb[KATLS_A_RX]), &d.keys.rx, size) &&
	       tb[KATLS_A_REQ_ID] && nla_len(tb[KATLS_A_REQ_ID]) == 8 &&
	       tb[KATLS_A_STATUS] && nla_len(tb[KATLS_A_STATUS]) == 4 &&
	       tb[KATLS_A_SUMMARY], "%s: KATLS_A_* layout", name);
	ret = katls_agent_parse_done(nlmsg_hdr(msg), &back);
	tap_ok(ret == 0 && !memcmp(&back, &d, sizeof(d)),
	       "%s: parsed back to the same DONE (%d)", name, ret);
	katls_agent_done_wipe(&back);
	katls_agent_msg_wipe(msg);
}

/* issue 14 item 3: the client's evidence in KATLS_A_CLIENT_SUMMARY */
static void done_client_summary(void)
{
	struct katls_agent_done d, back;
	struct nlattr *tb[KATLS_A_MAX + 1];
	struct nl_msg *msg;
	int ret;

	fill_done(&d, TLS_CIPHER_AES_GCM_128);
	d.has_client = true;
	d.client.evidence_type = KATLS_EVIDENCE_SIM;
	d.client.binding_level = KATLS_BINDING_L3;
	memset(d.client.digest, 0xc1, sizeof(d.client.digest));
	memset(d.client.measurement, 0x5c, 48);
	d.client.measurement_len = 48;
	strcpy(d.client.policy, "sim-client");
	msg = katls_agent_done_msg(FAMILY, &d);
	if (!tap_ok(msg != NULL, "mutual: DONE with the client's summary built"))
		return;
	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX, NULL);
	tap_ok(!ret && tb[KATLS_A_CLIENT_SUMMARY] && tb[KATLS_A_SUMMARY] &&
	       KATLS_A_CLIENT_SUMMARY == KATLS_A_PAD + 1,
	       "mutual: KATLS_A_CLIENT_SUMMARY present, appended after KATLS_A_PAD");
	ret = katls_agent_parse_done(nlmsg_hdr(msg), &back);
	tap_ok(ret == 0 && !memcmp(&back, &d, sizeof(d)),
	       "mutual: parsed back to the same DONE, client summary included (%d)",
	       ret);
	katls_agent_done_wipe(&back);
	katls_agent_msg_wipe(msg);
	d.status = EACCES;
	msg = katls_agent_done_msg(FAMILY, &d);
	tap_ok(msg && katls_agent_parse_done(nlmsg_hdr(msg), &back) == 0 &&
	       !back.has_client && !back.client.policy[0],
	       "mutual: a failure DONE carries no client summary");
	katls_agent_done_wipe(&back);
	katls_agent_msg_wipe(msg);
}

static void done_failure(void)
{
	struct katls_agent_done d, back;
	struct nl_msg *msg;

	fill_done(&d, TLS_CIPHER_AES_GCM_128);
	d.status = EKEYREJECTED;
	msg = katls_agent_done_msg(FAMILY, &d);
	if (!tap_ok(msg != NULL, "failure DONE built"))
		return;
	tap_ok(!has_mark((const uint8_t *)nlmsg_hdr(msg),
			 nlmsg_hdr(msg)->nlmsg_len),
	       "failure DONE carries no key");
	tap_ok(katls_agent_parse_done(nlmsg_hdr(msg), &back) == 0 &&
	       back.id == d.id && back.status == EKEYREJECTED &&
	       !back.keys.len && !back.summary.policy[0],
	       "failure DONE: id and status only");
	katls_agent_msg_wipe(msg);
}

/*
 * Issue 14 item 7: a success may carry the maximum connection age
 * (KATLS_A_MAX_AGE_MS, u32); none is sent for 0, never with a failure,
 * and the parser refuses 0 and an age on a failure.
 */
static void done_max_age(void)
{
	struct nlattr *tb[KATLS_A_MAX + 1];
	struct katls_agent_done d, back;
	struct nl_msg *msg;
	int ret;

	fill_done(&d, TLS_CIPHER_AES_GCM_128);
	msg = katls_agent_done_msg(FAMILY, &d);
	ret = msg ? genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX, NULL) : -1;
	tap_ok(!ret && !tb[KATLS_A_MAX_AGE_MS], "max age 0: no MAX_AGE_MS");
	katls_agent_msg_wipe(msg);

	d.max_age_ms = 3600000;
	msg = katls_agent_done_msg(FAMILY, &d);
	ret = msg ? genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX, NULL) : -1;
	tap_ok(!ret && tb[KATLS_A_MAX_AGE_MS] &&
	       nla_len(tb[KATLS_A_MAX_AGE_MS]) == 4 &&
	       nla_get_u32(tb[KATLS_A_MAX_AGE_MS]) == 3600000,
	       "max age: MAX_AGE_MS is a u32 of milliseconds");
	ret = msg ? katls_agent_parse_done(nlmsg_hdr(msg), &back) : -1;
	tap_ok(ret == 0 && back.max_age_ms == 3600000 &&
	       !memcmp(&back, &d, sizeof(d)), "max age parsed back (%d)", ret);
	katls_agent_done_wipe(&back);
	katls_agent_msg_wipe(msg);

	d.status = EACCES;
	msg = katls_agent_done_msg(FAMILY, &d);
	ret = msg ? genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX, NULL) : -1;
	tap_ok(!ret && !tb[KATLS_A_MAX_AGE_MS],
	       "a failure carries no MAX_AGE_MS");
	katls_agent_msg_wipe(msg);

	/* Hand-made: a failure with an age, and an age of 0. */
	msg = katls_agent_msg_new(FAMILY, KATLS_CMD_DONE);
	nla_put_u64(msg, KATLS_A_REQ_ID, 5);
	nla_put_u32(msg, KATLS_A_STATUS, EACCES);
	nla_put_u32(msg, KATLS_A_MAX_AGE_MS, 1000);
	tap_ok(katls_agent_parse_done(nlmsg_hdr(msg), &back) == -EPROTO,
	       "parser: a failure with MAX_AGE_MS -> EPROTO");
	nlmsg_free(msg);
	d.status = 0;
	d.max_age_ms = 1;
	msg = katls_agent_done_msg(FAMILY, &d);
	if (msg) {
		struct nlattr *a;

		genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX, NULL);
		a = tb[KATLS_A_MAX_AGE_MS];
		if (a)
			*(uint32_t *)nla_data(a) = 0;
		tap_ok(a && katls_agent_parse_done(nlmsg_hdr(msg), &back) ==
		       -EPROTO, "parser: MAX_AGE_MS 0 -> EPROTO");
		katls_agent_msg_wipe(msg);
	} else {
		tap_ok(0, "parser: MAX_AGE_MS 0 -> EPROTO (no message)");
	}
}

static void done_refused_by_builder(void)
{
	struct katls_agent_done d;

	fill_done(&d, TLS_CIPHER_AES_GCM_128);
	d.keys.len = 0;
	errno = 0;
	tap_ok(!katls_agent_done_msg(FAMILY, &d) && errno == EINVAL,
	       "builder: success without keys -> EINVAL");
	fill_done(&d, TLS_CIPHER_AES_GCM_128);
	fill_key(&d.keys.rx, TLS_CIPHER_AES_GCM_256, 0x22);
	tap_ok(!katls_agent_done_msg(FAMILY, &d) && errno == EINVAL,
	       "builder: two ciphers -> EINVAL");
	fill_done(&d, TLS_CIPHER_AES_GCM_256);
	fill_key(&d.keys.rx, TLS_CIPHER_CHACHA20_POLY1305, 0x22);
	tap_ok(!katls_agent_done_msg(FAMILY, &d) && errno == EINVAL,
	       "builder: two ciphers of one size -> EINVAL");
	fill_done(&d, TLS_CIPHER_AES_GCM_128);
	d.keys.len = sizeof(d.keys.tx);
	tap_ok(!katls_agent_done_msg(FAMILY, &d) && errno == EINVAL,
	       "builder: oversized crypto_info length -> EINVAL");
	fill_done(&d, TLS_CIPHER_AES_GCM_128);
	d.keys.tx.info.version = 0x0303;
	tap_ok(!katls_agent_done_msg(FAMILY, &d) && errno == EINVAL,
	       "builder: a TLS 1.2 crypto_info -> EINVAL");
	fill_done(&d, TLS_CIPHER_AES_GCM_128);
	d.summary.measurement_len = KATLS_MEASUREMENT_MAX + 1;
	tap_ok(!katls_agent_done_msg(FAMILY, &d) && errno == EINVAL,
	       "builder: oversized measurement -> EINVAL");
	fill_done(&d, TLS_CIPHER_AES_GCM_128);
	memset(d.summary.policy, 'p', sizeof(d.summary.policy));
	tap_ok(!katls_agent_done_msg(FAMILY, &d) && errno == EINVAL,
	       "builder: unterminated policy -> EINVAL");
	katls_agent_done_wipe(&d);
}

/*
 * A DONE with one thing wrong, built by hand: what = 0 is the well-formed
 * control.  Returns the parser's verdict; *wiped says whether the output
 * was left all zero.
 */
static int bad_done(int what, bool *wiped)
{
	struct katls_agent_done d, out;
	uint8_t big[sizeof(union katls_crypto_info) + KATLS_MEASUREMENT_MAX];
	struct nlattr *nest;
	struct nl_msg *m;
	size_t klen;
	int ret;

	fill_done(&d, what == 10 ? TLS_CIPHER_AES_GCM_256 :
		  TLS_CIPHER_AES_GCM_128);
	if (what == 10)
		fill_key(&d.keys.rx, TLS_CIPHER_CHACHA20_POLY1305, 0x22);
	klen = d.keys.len;
	m = katls_agent_msg_new(FAMILY, KATLS_CMD_DONE);
	if (what == 1)			/* 8-byte status */
		nla_put_u64(m, KATLS_A_STATUS, 0);
	else
		nla_put_u32(m, KATLS_A_STATUS, what == 8 ? EACCES : 0);
	if (what != 2)			/* no request id */
		nla_put_u64(m, KATLS_A_REQ_ID, d.id);
	nest = nla_nest_start(m, KATLS_A_SUMMARY);
	nla_put_u32(m, KATLS_SUMMARY_A_EVIDENCE_TYPE, KATLS_EVIDENCE_SIM);
	nla_put_u32(m, KATLS_SUMMARY_A_BINDING_LEVEL, KATLS_BINDING_L2);
	nla_put(m, KATLS_SUMMARY_A_DIGEST, what == 3 ? 31 : KATLS_DIGEST_LEN,
		d.summary.digest);
	memset(big, 0x4d, sizeof(big));
	nla_put(m, KATLS_SUMMARY_A_MEASUREMENT,
		what == 4 ? KATLS_MEASUREMENT_MAX + 1 : 48, big);
	if (what == 5)			/* policy without its NUL */
		nla_put(m, KATLS_SUMMARY_A_POLICY, 3, "sim");
	else
		nla_put_string(m, KATLS_SUMMARY_A_POLICY, "sim");
	nla_nest_end(m, nest);
	memcpy(big, &d.keys.tx, sizeof(d.keys.tx));
	/* 6: the tx crypto_info longer than its cipher's struct */
	nla_put(m, KATLS_A_TX, (int)(what == 6 ? klen + 8 : klen), big);
	if (what == 7)			/* rx one byte short */
		nla_put(m, KATLS_A_RX, (int)klen - 1, &d.keys.rx);
	else if (what != 9)		/* 9: no rx */
		nla_put(m, KATLS_A_RX, (int)klen, &d.keys.rx);
	ret = katls_agent_parse_done(nlmsg_hdr(m), &out);
	*wiped = all_zero(&out, sizeof(out));
	katls_agent_done_wipe(&out);
	katls_agent_done_wipe(&d);
	katls_agent_msg_wipe(m);
	return ret;
}

static void done_refused_by_parser(void)
{
	static const char *const what[] = {
		NULL, "an 8-byte STATUS", "no REQ_ID", "a 31-byte digest",
		"a measurement over KATLS_MEASUREMENT_MAX",
		"a policy without its NUL", "an oversized TX crypto_info",
		"a truncated RX crypto_info", "a failure with keys", "no RX",
		"TX AES-256-GCM, RX ChaCha20-Poly1305",
	};
	bool wiped;
	int ret;

	ret = bad_done(0, &wiped);
	tap_ok(ret == 0 && !wiped, "parser: the hand-built control DONE parses");
	for (int i = 1; i < (int)(sizeof(what) / sizeof(what[0])); i++) {
		ret = bad_done(i, &wiped);
		tap_ok(ret == -EPROTO && wiped,
		       "parser: DONE with %s -> EPROTO, output wiped (%d)",
		       what[i], ret);
	}
}

/* ---- ACCEPT ---- */

/*
 * An ACCEPT reply as the kernel sends it, with one thing wrong: what = 0
 * is the well-formed control.
 */
static int bad_accept(int what, struct katls_agent_request *req)
{
	char longstr[KATLS_PEERNAME_MAX + 2];
	struct nl_msg *m = katls_agent_msg_new(FAMILY, KATLS_CMD_ACCEPT);
	int ret;

	memset(longstr, 'a', sizeof(longstr));
	longstr[sizeof(longstr) - 1] = '\0';
	if (what == 1)
		nla_put_u64(m, KATLS_A_ROLE, KATLS_ROLE_CLIENT);
	else
		nla_put_u32(m, KATLS_A_ROLE, KATLS_ROLE_CLIENT);
	nla_put_u32(m, KATLS_A_SOCKFD, what == 2 ? (uint32_t)-5 : 7);
	if (what != 3)
		nla_put_u64(m, KATLS_A_REQ_ID, 42);
	nla_put_u32(m, KATLS_A_TIMEOUT_MS, 9000);
	if (what == 4)			/* 64 characters + NUL */
		nla_put(m, KATLS_A_POLICY, KATLS_POLICY_MAX + 1, longstr +
			sizeof(longstr) - KATLS_POLICY_MAX - 1);
	else if (what == 5)
		nla_put(m, KATLS_A_POLICY, 6, "strict");
	else if (what == 6)
		nla_put_string(m, KATLS_A_POLICY, "");
	else if (what != 7)
		nla_put_string(m, KATLS_A_POLICY, "strict");
	if (what == 8)
		nla_put(m, KATLS_A_PEERNAME, KATLS_PEERNAME_MAX + 1, longstr +
			sizeof(longstr) - KATLS_PEERNAME_MAX - 1);
	else if (what == 9)
		nla_put(m, KATLS_A_PEERNAME, 5, "a\0b\0");
	else
		nla_put_string(m, KATLS_A_PEERNAME, "example.org");
	if (what == 10)			/* beyond maxattr: ignored */
		nla_put_u32(m, KATLS_A_MAX + 7, 1);
	ret = katls_agent_parse_accept(nlmsg_hdr(m), req);
	nlmsg_free(m);
	return ret;
}

static void accept_parse(void)
{
	static const char *const what[] = {
		NULL, "an 8-byte ROLE", "a negative SOCKFD", "no REQ_ID",
		"a policy of KATLS_POLICY_MAX characters",
		"a policy without its NUL", "an empty policy", "no policy",
		"a peer name of KATLS_PEERNAME_MAX characters",
		"a NUL inside the peer name",
	};
	struct katls_agent_request req;
	int ret;

	ret = bad_accept(0, &req);
	tap_ok(ret == 0 && req.id == 42 && req.fd == 7 &&
	       req.role == KATLS_ROLE_CLIENT && req.timeout_ms == 9000 &&
	       !strcmp(req.policy, "strict") &&
	       !strcmp(req.peername, "example.org"),
	       "ACCEPT: every attribute decoded (%d)", ret);
	for (int i = 1; i < (int)(sizeof(what) / sizeof(what[0])); i++) {
		ret = bad_accept(i, &req);
		tap_ok(ret == -EPROTO, "ACCEPT with %s -> EPROTO (%d)",
		       what[i], ret);
		/* The descriptor is ours whatever else is wrong. */
		if (i == 2)
			tap_ok(req.fd == -1, "negative SOCKFD: no descriptor");
		else if (i == 3)
			tap_ok(req.fd == 7, "ACCEPT refused: descriptor still taken");
	}
	ret = bad_accept(10, &req);
	tap_ok(ret == 0 && req.fd == 7,
	       "ACCEPT with an attribute beyond KATLS_A_MAX: ignored (%d)", ret);
}

/* ---- the dump ---- */

static int bad_sock(int what, struct katls_agent_sock *s)
{
	static const uint8_t v4[16] = { 10, 0, 0, 1 }, v6[16] = { 0x20, 1 };
	struct nl_msg *m = katls_agent_msg_new(FAMILY, KATLS_CMD_GET);
	int ret;

	nla_put_u64(m, KATLS_A_REQ_ID, 5);
	if (what != 1)
		nla_put_u32(m, KATLS_A_STATE, KATLS_STATE_OPEN);
	if (what == 2)
		nla_put_u32(m, KATLS_A_FAMILY, AF_INET);
	else if (what != 3)
		nla_put_u16(m, KATLS_A_FAMILY, what == 6 ? AF_INET6 : AF_INET);
	nla_put(m, KATLS_A_SADDR, what == 4 || what == 3 ? 16 : 4, v4);
	nla_put(m, KATLS_A_DADDR, what == 6 ? 16 : 4, what == 6 ? v6 : v4);
	nla_put_u16(m, KATLS_A_SPORT, 443);
	if (what == 5)
		nla_put(m, KATLS_A_POLICY, 4, "a\0b");
	else
		nla_put_string(m, KATLS_A_POLICY, "strict");
	ret = katls_agent_parse_sock(nlmsg_hdr(m), s);
	nlmsg_free(m);
	return ret;
}

static void sock_parse(void)
{
	static const char *const what[] = {
		NULL, "no STATE", "a 4-byte FAMILY",
		"addresses without a FAMILY", "a 16-byte AF_INET address",
		"a NUL inside the policy", "mixed address lengths",
	};
	struct katls_agent_sock s;
	int ret;

	ret = bad_sock(0, &s);
	tap_ok(ret == 0 && s.req_id == 5 && s.state == KATLS_STATE_OPEN &&
	       s.family == AF_INET && s.sport == 443 && s.saddr[0] == 10 &&
	       !strcmp(s.policy, "strict") &&
	       KATLS_AGENT_HAS(&s, KATLS_A_SPORT) &&
	       !KATLS_AGENT_HAS(&s, KATLS_A_DPORT),
	       "dump entry decoded, present bits (%d)", ret);
	for (int i = 1; i < (int)(sizeof(what) / sizeof(what[0])); i++)
		tap_ok(bad_sock(i, &s) == -EPROTO, "dump entry with %s -> EPROTO",
		       what[i]);
}

/* ---- wiping ---- */

static void wipe(void)
{
	struct katls_agent_done d;
	struct nl_msg *msg;
	struct katls_keys k;
	unsigned int before;

	fill_done(&d, TLS_CIPHER_AES_GCM_256);
	/* Control: a plain free would leave the key behind. */
	msg = katls_agent_done_msg(FAMILY, &d);
	before = freed_with_key;
	nlmsg_free(msg);
	tap_ok(freed_with_key == before + 1,
	       "control: nlmsg_free() frees a DONE with its key in it");
	msg = katls_agent_done_msg(FAMILY, &d);
	before = freed_with_key;
	katls_agent_msg_wipe(msg);
	tap_ok(freed_with_key == before,
	       "katls_agent_msg_wipe(): the buffer is zero before it is freed");
	k = d.keys;
	katls_keys_wipe(&k);
	tap_ok(all_zero(&k, sizeof(k)), "katls_keys_wipe(): all zero");
	katls_agent_done_wipe(&d);
	tap_ok(all_zero(&d, sizeof(d)), "katls_agent_done_wipe(): all zero");
	katls_keys_wipe(NULL);
	katls_agent_done_wipe(NULL);
	katls_agent_msg_wipe(NULL);
}

/*
 * The kernel's answer to DONE, as katls_agent_wait_ack() reads it: an
 * error ack that echoes the request (no NETLINK_CAP_ACK) must leave no
 * key in the caller's buffer.
 */
static void wait_ack(void)
{
	static uint8_t buf[4096] __attribute__((aligned(8)));
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
		uint8_t echo[64];
	} ack = { 0 };
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)) {
		tap_ok(0, "socketpair");
		return;
	}
	ack.h.nlmsg_len = sizeof(ack);
	ack.h.nlmsg_type = NLMSG_ERROR;
	ack.h.nlmsg_seq = 99;
	ack.e.error = -EINVAL;
	memset(ack.echo, MARK, sizeof(ack.echo));
	/* one for another request first: skipped */
	ack.h.nlmsg_seq = 98;
	ret = (int)send(sv[0], &ack, sizeof(ack), 0);
	ack.h.nlmsg_seq = 99;
	ret = ret > 0 ? (int)send(sv[0], &ack, sizeof(ack), 0) : ret;
	ret = ret > 0 ? katls_agent_wait_ack(sv[1], 99, buf, sizeof(buf)) : -99;
	tap_ok(ret == -EINVAL, "wait_ack: the error of our sequence (%d)", ret);
	tap_ok(all_zero(buf, sizeof(buf)), "wait_ack: the echoed key is wiped");
	ack.e.error = 0;
	send(sv[0], &ack, sizeof(ack), 0);
	tap_ok(katls_agent_wait_ack(sv[1], 99, buf, sizeof(buf)) == 0,
	       "wait_ack: an ack is 0");
	ack.e.error = 5;
	send(sv[0], &ack, sizeof(ack), 0);
	tap_ok(katls_agent_wait_ack(sv[1], 99, buf, sizeof(buf)) == -EPROTO,
	       "wait_ack: a positive error is EPROTO");
	ack.h.nlmsg_len = NLMSG_LENGTH(2);
	send(sv[0], &ack, NLMSG_LENGTH(2), 0);
	tap_ok(katls_agent_wait_ack(sv[1], 99, buf, sizeof(buf)) == -EPROTO,
	       "wait_ack: a truncated error is EPROTO");
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	tap_plan(75);
	done_round_trip(TLS_CIPHER_AES_GCM_128, "AES-128-GCM",
			sizeof(struct tls12_crypto_info_aes_gcm_128));
	done_round_trip(TLS_CIPHER_AES_GCM_256, "AES-256-GCM",
			sizeof(struct tls12_crypto_info_aes_gcm_256));
	done_round_trip(TLS_CIPHER_CHACHA20_POLY1305, "ChaCha20-Poly1305",
			sizeof(struct tls12_crypto_info_chacha20_poly1305));
	done_failure();
	done_client_summary();
	done_max_age();
	done_refused_by_builder();
	done_refused_by_parser();
	accept_parse();
	sock_parse();
	wipe();
	wait_ack();
	return tap_done();
}
