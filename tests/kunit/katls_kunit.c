// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for katls: request validation, the state machine, the
 * request lifecycle (queue, accept, timeout, agent loss, exactly-once
 * completion and its races, hand-over ownership), and the validation of
 * every DONE attribute and kTLS crypto_info.
 *
 * Built into katls itself (CONFIG_KATLS_KUNIT_TEST) so that it calls the
 * module's internals; run with tools/kunit-run on UML.  Lifecycle tests
 * use real (unconnected) kernel TCP sockets so that wake-ups, socket
 * references and the abort path run for real.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/tls.h>
#include <linux/user_namespace.h>
#include <net/netlink.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "genl.h"
#include "katls.h"

/* ---- request validation ---- */

static struct katls_request good_req(void)
{
	struct katls_request r = { .role = KATLS_ROLE_CLIENT };

	strscpy(r.policy, "prod-tdx.v1", sizeof(r.policy));
	return r;
}

static void req_valid_client(struct kunit *test)
{
	struct katls_request r = good_req();

	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), 0);
}

static void req_valid_server_peername(struct kunit *test)
{
	struct katls_request r = good_req();

	r.role = KATLS_ROLE_SERVER;
	strscpy(r.peername, "inference.example", sizeof(r.peername));
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), 0);
}

static void req_bad_role(struct kunit *test)
{
	struct katls_request r = good_req();

	r.role = KATLS_ROLE_UNSPEC;
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), -EINVAL);
	r.role = KATLS_ROLE_MAX + 1;
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), -EINVAL);
}

static void req_flags_reserved(struct kunit *test)
{
	struct katls_request r = good_req();

	r.flags = 1;
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), -EINVAL);
	r.flags = 0;
	r.reserved = 0x80000000;
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), -EINVAL);
}

static void req_timeout_bounds(struct kunit *test)
{
	struct katls_request r = good_req();

	r.timeout_ms = KATLS_TIMEOUT_MAX_MS;
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), 0);
	r.timeout_ms = KATLS_TIMEOUT_MAX_MS + 1;
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), -EINVAL);
}

static void req_policy_empty(struct kunit *test)
{
	struct katls_request r = good_req();

	r.policy[0] = '\0';
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), -EINVAL);
}

static void req_policy_charset(struct kunit *test)
{
	static const char *const bad[] = { "a/b", "a b", "..\\x", "p;rm",
					   "\xc3\xc4" /* Latin-1 letters */ };
	struct katls_request r = good_req();
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		strscpy(r.policy, bad[i], sizeof(r.policy));
		KUNIT_EXPECT_EQ_MSG(test, katls_validate_request(&r), -EINVAL,
				    "policy '%s'", bad[i]);
	}
}

static void req_policy_length(struct kunit *test)
{
	struct katls_request r = good_req();

	memset(r.policy, 'a', sizeof(r.policy) - 1);
	r.policy[sizeof(r.policy) - 1] = '\0';
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), 0);
	memset(r.policy, 'a', sizeof(r.policy));	/* no NUL */
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), -EINVAL);
}

static void req_peername_unterminated(struct kunit *test)
{
	struct katls_request r = good_req();

	memset(r.peername, 'x', sizeof(r.peername));
	KUNIT_EXPECT_EQ(test, katls_validate_request(&r), -EINVAL);
}

/* ---- state machine ---- */

static void state_transition_table(struct kunit *test)
{
	static const bool ok[KATLS_STATE_MAX + 1][KATLS_STATE_MAX + 1] = {
		[KATLS_STATE_IDLE] = { [KATLS_STATE_PENDING] = true,
				       [KATLS_STATE_FAILED] = true },
		[KATLS_STATE_PENDING] = { [KATLS_STATE_ACCEPTED] = true,
					  [KATLS_STATE_FAILED] = true },
		[KATLS_STATE_ACCEPTED] = { [KATLS_STATE_HANDOVER] = true,
					   [KATLS_STATE_FAILED] = true },
		[KATLS_STATE_HANDOVER] = { [KATLS_STATE_OPEN] = true,
					   [KATLS_STATE_FAILED] = true },
		/* Issue 14 item 7: only the maximum age leaves OPEN. */
		[KATLS_STATE_OPEN] = { [KATLS_STATE_EXPIRED] = true },
	};
	int f, t;

	for (f = 0; f <= KATLS_STATE_MAX; f++)
		for (t = 0; t <= KATLS_STATE_MAX; t++)
			KUNIT_EXPECT_EQ_MSG(test, katls_transition_ok(f, t),
					    ok[f][t], "%d -> %d", f, t);
}

static void state_set_rejects_illegal(struct kunit *test)
{
	struct katls_sock *ks = katls_sock_alloc();

	KUNIT_ASSERT_NOT_NULL(test, ks);
	spin_lock_bh(&ks->lock);
	KUNIT_EXPECT_EQ(test, katls_set_state(ks, KATLS_STATE_OPEN), -EINVAL);
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_IDLE);
	KUNIT_EXPECT_EQ(test, katls_set_state(ks, KATLS_STATE_FAILED), 0);
	KUNIT_EXPECT_EQ(test, katls_set_state(ks, KATLS_STATE_IDLE), -EINVAL);
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_FAILED);
	spin_unlock_bh(&ks->lock);
	katls_sock_put(ks);
}

/* ---- crypto_info ---- */

static void ci_ciphers_ok(struct kunit *test)
{
	struct tls12_crypto_info_aes_gcm_128 g128 = {
		.info = { TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128 } };
	struct tls12_crypto_info_aes_gcm_256 g256 = {
		.info = { TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_256 } };
	struct tls12_crypto_info_chacha20_poly1305 cc = {
		.info = { TLS_1_3_VERSION, TLS_CIPHER_CHACHA20_POLY1305 } };
	u16 c = 0;

	KUNIT_EXPECT_EQ(test, katls_validate_crypto_info(&g128, sizeof(g128), &c), 0);
	KUNIT_EXPECT_EQ(test, c, TLS_CIPHER_AES_GCM_128);
	KUNIT_EXPECT_EQ(test, katls_validate_crypto_info(&g256, sizeof(g256), &c), 0);
	KUNIT_EXPECT_EQ(test, c, TLS_CIPHER_AES_GCM_256);
	KUNIT_EXPECT_EQ(test, katls_validate_crypto_info(&cc, sizeof(cc), &c), 0);
	KUNIT_EXPECT_EQ(test, c, TLS_CIPHER_CHACHA20_POLY1305);
}

static void ci_tls12_refused(struct kunit *test)
{
	struct tls12_crypto_info_aes_gcm_128 g = {
		.info = { TLS_1_2_VERSION, TLS_CIPHER_AES_GCM_128 } };
	u16 c;

	KUNIT_EXPECT_EQ(test, katls_validate_crypto_info(&g, sizeof(g), &c), -EINVAL);
}

static void ci_other_ciphers_refused(struct kunit *test)
{
	static const u16 bad[] = { TLS_CIPHER_AES_CCM_128, 0, 0xffff,
				   TLS_CIPHER_AES_GCM_128 - 1 };
	struct tls12_crypto_info_aes_ccm_128 ccm = { };
	u16 c;
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ccm.info.version = TLS_1_3_VERSION;
		ccm.info.cipher_type = bad[i];
		KUNIT_EXPECT_EQ_MSG(test, katls_validate_crypto_info(&ccm,
				    sizeof(ccm), &c), -EINVAL, "cipher %u", bad[i]);
	}
}

static void ci_length_exact(struct kunit *test)
{
	u8 buf[sizeof(struct tls12_crypto_info_aes_gcm_256) + 8] = { };
	struct tls_crypto_info *ci = (void *)buf;
	size_t want = sizeof(struct tls12_crypto_info_aes_gcm_128);
	u16 c;

	ci->version = TLS_1_3_VERSION;
	ci->cipher_type = TLS_CIPHER_AES_GCM_128;
	KUNIT_EXPECT_EQ(test, katls_validate_crypto_info(buf, want - 1, &c), -EINVAL);
	KUNIT_EXPECT_EQ(test, katls_validate_crypto_info(buf, want + 1, &c), -EINVAL);
	KUNIT_EXPECT_EQ(test, katls_validate_crypto_info(buf, 2, &c), -EINVAL);
	KUNIT_EXPECT_EQ(test, katls_validate_crypto_info(NULL, want, &c), -EINVAL);
	KUNIT_EXPECT_EQ(test, katls_validate_crypto_info(buf, want, &c), 0);
}

/* ---- DONE attributes ---- */

enum {
	D_NO_ID = BIT(0), D_NO_STATUS = BIT(1), D_FAIL = BIT(2),
	D_NO_RX = BIT(3), D_MISMATCH = BIT(4), D_NO_DIGEST = BIT(5),
	D_SHORT_DIGEST = BIT(6), D_LONG_MEAS = BIT(7), D_EMPTY_MEAS = BIT(8),
	D_TYPE0 = BIT(9), D_LEVEL4 = BIT(10), D_BIG_STATUS = BIT(11),
	D_UNKNOWN = BIT(12), D_FAIL_KEYS = BIT(13), D_TX12 = BIT(14),
	/* issue 14 item 3: the client's summary, at level 3 or (bad) 2 */
	D_CLIENT = BIT(15), D_CLIENT_L2 = BIT(16),
	D_MAX_AGE = BIT(17), D_MAX_AGE0 = BIT(18),
};

/* Build a DONE attribute stream, parse it as katls_nl_done_doit() does. */
static int parse_done_full(struct kunit *test, unsigned long v,
			   struct katls_done *done)
{
	struct tls12_crypto_info_aes_gcm_128 tx = {
		.info = { TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128 } };
	struct tls12_crypto_info_aes_gcm_256 rx256 = {
		.info = { TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_256 } };
	struct nlattr *tb[ARRAY_SIZE(katls_nl_policy)];
	u8 digest[KATLS_DIGEST_LEN], meas[KATLS_MEASUREMENT_MAX + 1];
	struct sk_buff *skb;
	struct nlattr *nest;
	u64 id = 42;
	int err;

	memset(digest, 0xd1, sizeof(digest));
	memset(meas, 0x3e, sizeof(meas));
	if (v & D_TX12)
		tx.info.version = TLS_1_2_VERSION;
	skb = alloc_skb(1024, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	/* As agents send it: a plain 8-byte attribute, no pad attribute. */
	if (!(v & D_NO_ID))
		nla_put(skb, KATLS_A_REQ_ID, sizeof(id), &id);
	if (!(v & D_NO_STATUS))
		nla_put_u32(skb, KATLS_A_STATUS, v & D_BIG_STATUS ? MAX_ERRNO :
			    (v & (D_FAIL | D_FAIL_KEYS)) ? EACCES : 0);
	if (!(v & D_FAIL)) {
		nest = nla_nest_start(skb, KATLS_A_SUMMARY);
		nla_put_u32(skb, KATLS_SUMMARY_A_EVIDENCE_TYPE,
			    v & D_TYPE0 ? 0 : KATLS_EVIDENCE_TDX);
		nla_put_u32(skb, KATLS_SUMMARY_A_BINDING_LEVEL,
			    v & D_LEVEL4 ? 4 : KATLS_BINDING_L2);
		if (!(v & D_NO_DIGEST))
			nla_put(skb, KATLS_SUMMARY_A_DIGEST,
				v & D_SHORT_DIGEST ? 31 : 32, digest);
		nla_put(skb, KATLS_SUMMARY_A_MEASUREMENT,
			v & D_LONG_MEAS ? 65 : v & D_EMPTY_MEAS ? 0 : 48, meas);
		nla_put_string(skb, KATLS_SUMMARY_A_POLICY, "prod");
		nla_nest_end(skb, nest);
		nla_put(skb, KATLS_A_TX, sizeof(tx), &tx);
		if (!(v & D_NO_RX)) {
			if (v & D_MISMATCH)
				nla_put(skb, KATLS_A_RX, sizeof(rx256), &rx256);
			else
				nla_put(skb, KATLS_A_RX, sizeof(tx), &tx);
		}
	}
	if (v & (D_CLIENT | D_CLIENT_L2)) {
		nest = nla_nest_start(skb, KATLS_A_CLIENT_SUMMARY);
		nla_put_u32(skb, KATLS_SUMMARY_A_EVIDENCE_TYPE,
			    KATLS_EVIDENCE_SIM);
		nla_put_u32(skb, KATLS_SUMMARY_A_BINDING_LEVEL,
			    v & D_CLIENT_L2 ? KATLS_BINDING_L2 :
			    KATLS_BINDING_L3);
		nla_put(skb, KATLS_SUMMARY_A_DIGEST, 32, digest);
		nla_put(skb, KATLS_SUMMARY_A_MEASUREMENT, 40, meas);
		nla_put_string(skb, KATLS_SUMMARY_A_POLICY, "client");
		nla_nest_end(skb, nest);
	}
	if (v & D_MAX_AGE)
		nla_put_u32(skb, KATLS_A_MAX_AGE_MS, 3600000);
	if (v & D_MAX_AGE0)
		nla_put_u32(skb, KATLS_A_MAX_AGE_MS, 0);
	if (v & D_UNKNOWN)
		nla_put_u32(skb, KATLS_A_MAX + 1, 1);
	err = nla_parse(tb, ARRAY_SIZE(tb) - 1, (struct nlattr *)skb->data,
			skb->len, katls_nl_policy, NULL);
	if (!err)
		err = katls_parse_done(tb, done, NULL);
	if (!err && done->tx) {
		/* The keys point into the message: check them before it goes. */
		KUNIT_EXPECT_EQ(test, done->txlen, sizeof(tx));
		KUNIT_EXPECT_EQ(test, done->rxlen,
				v & D_MISMATCH ? sizeof(rx256) : sizeof(tx));
		KUNIT_EXPECT_EQ(test, memcmp(done->tx, &tx, sizeof(tx)), 0);
		done->tx = NULL;
		done->rx = NULL;
	}
	kfree_skb(skb);
	return err;
}

static int parse_done(struct kunit *test, unsigned long v,
		      struct katls_result *sum)
{
	struct katls_done done;
	int err = parse_done_full(test, v, &done);

	*sum = done.summary;
	return err;
}

/* Issue 12 item 2: the parsed DONE carries id, status and the keys. */
static void done_parse_fills_request(struct kunit *test)
{
	struct katls_done d;

	KUNIT_ASSERT_EQ(test, parse_done_full(test, 0, &d), 0);
	KUNIT_EXPECT_EQ(test, d.id, 42ULL);
	KUNIT_EXPECT_EQ(test, d.status, 0U);
	KUNIT_EXPECT_EQ(test, d.summary.measurement_len, 48U);
	KUNIT_ASSERT_EQ(test, parse_done_full(test, D_FAIL, &d), 0);
	KUNIT_EXPECT_EQ(test, d.id, 42ULL);
	KUNIT_EXPECT_EQ(test, d.status, (u32)EACCES);
	KUNIT_EXPECT_NULL(test, d.tx);
	KUNIT_EXPECT_NULL(test, d.rx);
}

/*
 * Issue 14 item 3: the client's evidence summary (mutual attestation)
 * lands in the client_* fields; level 3 only, never with a failure; a
 * DONE without it leaves them zero.  The structure only grew at its end.
 */
static void done_client_summary(struct kunit *test)
{
	struct katls_result sum;

	KUNIT_EXPECT_EQ(test, offsetof(struct katls_result, client_evidence_type),
			(size_t)KATLS_RESULT_SIZE_VER0);
	KUNIT_ASSERT_EQ(test, parse_done(test, D_CLIENT, &sum), 0);
	KUNIT_EXPECT_EQ(test, sum.evidence_type, (u32)KATLS_EVIDENCE_TDX);
	KUNIT_EXPECT_EQ(test, sum.client_evidence_type, (u32)KATLS_EVIDENCE_SIM);
	KUNIT_EXPECT_EQ(test, sum.client_binding_level, (u32)KATLS_BINDING_L3);
	KUNIT_EXPECT_EQ(test, sum.client_measurement_len, 40U);
	KUNIT_EXPECT_EQ(test, sum.client_evidence_digest[0], 0xd1);
	KUNIT_EXPECT_STREQ(test, sum.client_policy, "client");
	KUNIT_ASSERT_EQ(test, parse_done(test, 0, &sum), 0);
	KUNIT_EXPECT_EQ(test, sum.client_evidence_type, 0U);
	KUNIT_EXPECT_EQ(test, sum.client_policy[0], 0);
	KUNIT_EXPECT_EQ(test, parse_done(test, D_CLIENT_L2, &sum), -EINVAL);
	KUNIT_EXPECT_EQ(test, parse_done(test, D_FAIL | D_CLIENT, &sum),
			-EINVAL);
}

/*
 * Issue 12 item 2: the policies generated from the YAML spec spell their
 * limits as numbers; they must agree with the uAPI enums and sizes.
 */
static void done_generated_policy_limits(struct kunit *test)
{
	const struct nla_policy *p = katls_nl_policy, *sp = katls_summary_nl_policy;

	KUNIT_EXPECT_EQ(test, ARRAY_SIZE(katls_nl_policy),
			KATLS_A_MAX_AGE_MS + 1);
	/* issue 14 item 3: appended after the attributes of version 1 */
	KUNIT_EXPECT_EQ(test, KATLS_A_CLIENT_SUMMARY, KATLS_A_PAD + 1);
	KUNIT_EXPECT_EQ(test, p[KATLS_A_CLIENT_SUMMARY].type, NLA_NESTED);
	KUNIT_EXPECT_PTR_EQ(test, p[KATLS_A_CLIENT_SUMMARY].nested_policy, sp);
	/* issue 14 item 7: appended after it */
	KUNIT_EXPECT_EQ(test, KATLS_A_MAX_AGE_MS, KATLS_A_CLIENT_SUMMARY + 1);
	KUNIT_EXPECT_EQ(test, p[KATLS_A_MAX_AGE_MS].type, NLA_U32);
	KUNIT_EXPECT_EQ(test, p[KATLS_A_MAX_AGE_MS].min, 1);
	KUNIT_EXPECT_EQ(test, p[KATLS_A_REQ_ID].type, NLA_U64);
	KUNIT_EXPECT_EQ(test, p[KATLS_A_STATUS].type, NLA_U32);
	KUNIT_EXPECT_EQ(test, p[KATLS_A_STATUS].max, MAX_ERRNO - 1);
	KUNIT_EXPECT_EQ(test, p[KATLS_A_SUMMARY].type, NLA_NESTED);
	KUNIT_EXPECT_PTR_EQ(test, p[KATLS_A_SUMMARY].nested_policy, sp);
	KUNIT_EXPECT_EQ(test, p[KATLS_A_TX].type, NLA_BINARY);
	KUNIT_EXPECT_EQ(test, p[KATLS_A_RX].type, NLA_BINARY);
	KUNIT_EXPECT_EQ(test, sp[KATLS_SUMMARY_A_EVIDENCE_TYPE].min,
			KATLS_EVIDENCE_TDX);
	KUNIT_EXPECT_EQ(test, sp[KATLS_SUMMARY_A_EVIDENCE_TYPE].max,
			KATLS_EVIDENCE_MAX);
	KUNIT_EXPECT_EQ(test, sp[KATLS_SUMMARY_A_BINDING_LEVEL].min,
			KATLS_BINDING_L1);
	KUNIT_EXPECT_EQ(test, sp[KATLS_SUMMARY_A_BINDING_LEVEL].max,
			KATLS_BINDING_MAX);
	KUNIT_EXPECT_EQ(test, sp[KATLS_SUMMARY_A_DIGEST].min, KATLS_DIGEST_LEN);
	KUNIT_EXPECT_EQ(test, sp[KATLS_SUMMARY_A_DIGEST].max, KATLS_DIGEST_LEN);
	KUNIT_EXPECT_EQ(test, sp[KATLS_SUMMARY_A_POLICY].type, NLA_NUL_STRING);
	KUNIT_EXPECT_EQ(test, sp[KATLS_SUMMARY_A_POLICY].len,
			KATLS_POLICY_MAX - 1);
}

static void done_success_fills_summary(struct kunit *test)
{
	struct katls_result s;

	KUNIT_ASSERT_EQ(test, parse_done(test, 0, &s), 0);
	KUNIT_EXPECT_EQ(test, s.evidence_type, KATLS_EVIDENCE_TDX);
	KUNIT_EXPECT_EQ(test, s.binding_level, KATLS_BINDING_L2);
	KUNIT_EXPECT_EQ(test, s.measurement_len, 48);
	KUNIT_EXPECT_EQ(test, s.measurement[47], 0x3e);
	KUNIT_EXPECT_EQ(test, s.measurement[48], 0);
	KUNIT_EXPECT_EQ(test, s.evidence_digest[31], 0xd1);
	KUNIT_EXPECT_STREQ(test, s.policy, "prod");
}

static void done_required_attrs(struct kunit *test)
{
	struct katls_result s;

	KUNIT_EXPECT_EQ(test, parse_done(test, D_NO_ID, &s), -EINVAL);
	KUNIT_EXPECT_EQ(test, parse_done(test, D_NO_STATUS, &s), -EINVAL);
}

static void done_failure_status(struct kunit *test)
{
	struct katls_result s;

	KUNIT_EXPECT_EQ(test, parse_done(test, D_FAIL, &s), 0);
	KUNIT_EXPECT_EQ(test, parse_done(test, D_FAIL_KEYS, &s), -EINVAL);
	KUNIT_EXPECT_EQ(test, parse_done(test, D_BIG_STATUS, &s), -ERANGE);
}

static void done_keys_required(struct kunit *test)
{
	struct katls_result s;

	KUNIT_EXPECT_EQ(test, parse_done(test, D_NO_RX, &s), -EINVAL);
	KUNIT_EXPECT_EQ(test, parse_done(test, D_MISMATCH, &s), -EINVAL);
	KUNIT_EXPECT_EQ(test, parse_done(test, D_TX12, &s), -EINVAL);
}

static void done_summary_checks(struct kunit *test)
{
	struct katls_result s;

	KUNIT_EXPECT_EQ(test, parse_done(test, D_NO_DIGEST, &s), -EINVAL);
	KUNIT_EXPECT_EQ(test, parse_done(test, D_EMPTY_MEAS, &s), -EINVAL);
}

static void done_policy_rejects(struct kunit *test)
{
	struct katls_result s;

	/* Rejected by the generated policy (or katls_parse_done()). */
	KUNIT_EXPECT_LT(test, parse_done(test, D_SHORT_DIGEST, &s), 0);
	KUNIT_EXPECT_LT(test, parse_done(test, D_LONG_MEAS, &s), 0);
	KUNIT_EXPECT_EQ(test, parse_done(test, D_TYPE0, &s), -ERANGE);
	KUNIT_EXPECT_EQ(test, parse_done(test, D_LEVEL4, &s), -ERANGE);
	KUNIT_EXPECT_LT(test, parse_done(test, D_UNKNOWN, &s), 0);
}

/*
 * Issue 14 item 7: DONE may carry a maximum connection age: optional,
 * at least 1 ms, only with status 0.
 */
static void done_max_age(struct kunit *test)
{
	struct katls_done d;

	KUNIT_ASSERT_EQ(test, parse_done_full(test, 0, &d), 0);
	KUNIT_EXPECT_EQ(test, d.max_age_ms, 0U);
	KUNIT_ASSERT_EQ(test, parse_done_full(test, D_MAX_AGE, &d), 0);
	KUNIT_EXPECT_EQ(test, d.max_age_ms, 3600000U);
	KUNIT_EXPECT_EQ(test, parse_done_full(test, D_MAX_AGE0, &d), -ERANGE);
	KUNIT_EXPECT_EQ(test, parse_done_full(test, D_MAX_AGE | D_FAIL, &d),
			-EINVAL);
}

/*
 * Item 10: the agent may only report real errnos from the allow-list;
 * 512..529 are kernel-internal (ERESTARTSYS, EIOCBQUEUED, ...) and
 * EAGAIN/EINTR/EINPROGRESS would make a failed socket look retryable.
 */
static void done_status_allow_list(struct kunit *test)
{
	static const int ok[] = { EACCES, EKEYREJECTED, EINVAL, ENODEV, EBUSY,
				  ENOKEY, EOPNOTSUPP, EMSGSIZE, ETIMEDOUT,
				  ECONNRESET, EPROTO, ENOMEM, EIO,
				  ECONNABORTED };
	static const u32 bad[] = { 512 /* ERESTARTSYS */, 513, 516, 517,
				   524 /* ENOTSUPP */, 529 /* EIOCBQUEUED */,
				   4094, EAGAIN, EINTR, EINPROGRESS,
				   EALREADY, EISCONN, ENOTCONN, 135, 0xffff };
	int i;

	for (i = 0; i < ARRAY_SIZE(ok); i++)
		KUNIT_EXPECT_EQ_MSG(test, katls_agent_status(ok[i]), ok[i],
				    "status %d", ok[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ_MSG(test, katls_agent_status(bad[i]), EPROTO,
				    "status %u", bad[i]);
}

/* ---- lifecycle ---- */

struct lc {
	struct socket *sock;
	struct katls_sock *ks;
};

static struct katls_sock *lc_new(struct kunit *test, struct lc *l)
{
	int err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM,
				   IPPROTO_TCP, &l->sock);

	KUNIT_ASSERT_EQ(test, err, 0);
	l->ks = katls_sock_alloc();
	KUNIT_ASSERT_NOT_NULL(test, l->ks);
	l->ks->sk = l->sock->sk;
	l->ks->sock = l->sock;		/* as the opt-in sets it */
	l->ks->net = &init_net;
	return l->ks;
}

static void lc_free(struct lc *l)
{
	katls_expire_cancel(l->ks);
	katls_complete(l->ks, ECANCELED);	/* no-op if terminal */
	flush_workqueue(katls_wq);
	katls_unregister(l->ks);
	katls_sock_put(l->ks);
	sock_release(l->sock);
}

static int lc_enqueue(struct katls_sock *ks, unsigned int timeout_ms)
{
	struct katls_request r = good_req();

	r.timeout_ms = timeout_ms;
	return katls_enqueue(ks, &r);
}

static void lc_enqueue_pending(struct kunit *test)
{
	s64 before = katls_stat_read(KATLS_STAT_PENDING);
	struct lc l;
	struct katls_sock *ks = lc_new(test, &l);

	KUNIT_EXPECT_EQ(test, lc_enqueue(ks, 0), 0);
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_PENDING);
	KUNIT_EXPECT_EQ(test, ks->req.timeout_ms, KATLS_TIMEOUT_DEFAULT_MS);
	KUNIT_EXPECT_NE(test, ks->id, 0);
	KUNIT_EXPECT_TRUE(test, ks->sk_held);
	KUNIT_EXPECT_EQ(test, katls_stat_read(KATLS_STAT_PENDING), before + 1);
	KUNIT_EXPECT_EQ(test, lc_enqueue(ks, 0), -EALREADY);
	lc_free(&l);
	KUNIT_EXPECT_EQ(test, katls_stat_read(KATLS_STAT_PENDING), before);
}

static void lc_enqueue_terminal(struct kunit *test)
{
	struct lc l;
	struct katls_sock *ks = lc_new(test, &l);

	KUNIT_EXPECT_TRUE(test, katls_complete(ks, EACCES));
	KUNIT_EXPECT_EQ(test, lc_enqueue(ks, 0), -EACCES);
	spin_lock_bh(&ks->lock);
	ks->state = KATLS_STATE_OPEN;
	spin_unlock_bh(&ks->lock);
	KUNIT_EXPECT_EQ(test, lc_enqueue(ks, 0), -EISCONN);
	lc_free(&l);
}

static void lc_pending_cap(struct kunit *test)
{
	unsigned int saved = katls_max_pending;
	struct lc a, b;

	lc_new(test, &a);
	lc_new(test, &b);
	katls_max_pending = 0;
	KUNIT_EXPECT_EQ(test, lc_enqueue(a.ks, 0), -EAGAIN);
	KUNIT_EXPECT_EQ(test, a.ks->state, KATLS_STATE_IDLE);
	katls_max_pending = saved;
	KUNIT_EXPECT_EQ(test, lc_enqueue(a.ks, 0), 0);
	lc_free(&a);
	lc_free(&b);
}

static void lc_accept_fifo_and_netns(struct kunit *test)
{
	struct net *other = (struct net *)&other;	/* never dereferenced */
	struct katls_sock *got;
	struct lc a, b;

	lc_new(test, &a);
	lc_new(test, &b);
	KUNIT_ASSERT_EQ(test, lc_enqueue(a.ks, 0), 0);
	KUNIT_ASSERT_EQ(test, lc_enqueue(b.ks, 0), 0);
	KUNIT_EXPECT_NULL(test, katls_accept_next(other, 7, task_tgid(current)));
	got = katls_accept_next(&init_net, 7, task_tgid(current));
	KUNIT_EXPECT_PTR_EQ(test, got, a.ks);
	KUNIT_EXPECT_EQ(test, a.ks->state, KATLS_STATE_ACCEPTED);
	KUNIT_EXPECT_EQ(test, a.ks->agent_portid, 7);
	if (got)
		katls_sock_put(got);
	got = katls_accept_next(&init_net, 8, task_tgid(current));
	KUNIT_EXPECT_PTR_EQ(test, got, b.ks);
	if (got)
		katls_sock_put(got);
	lc_free(&a);
	lc_free(&b);
}

static void lc_complete_exactly_once(struct kunit *test)
{
	s64 closed = katls_stat_read(KATLS_STAT_CLOSED);
	struct lc l;
	struct katls_sock *ks = lc_new(test, &l);

	KUNIT_ASSERT_EQ(test, lc_enqueue(ks, 0), 0);
	KUNIT_EXPECT_TRUE(test, katls_complete(ks, ETIMEDOUT));
	KUNIT_EXPECT_FALSE(test, katls_complete(ks, EACCES));
	katls_cancel(ks, ECONNABORTED);
	KUNIT_EXPECT_EQ(test, ks->status, ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_FAILED);
	KUNIT_EXPECT_EQ(test, katls_stat_read(KATLS_STAT_CLOSED), closed);
	flush_workqueue(katls_wq);
	KUNIT_EXPECT_FALSE(test, ks->sk_held);
	lc_free(&l);
}

/* katls_fail() counts only when it completes, and exactly once. */
static void lc_fail_counts_once(struct kunit *test)
{
	s64 to = katls_stat_read(KATLS_STAT_TIMED_OUT);
	s64 lost = katls_stat_read(KATLS_STAT_AGENT_LOST);
	struct lc l;
	struct katls_sock *ks = lc_new(test, &l);

	KUNIT_ASSERT_EQ(test, lc_enqueue(ks, 0), 0);
	KUNIT_EXPECT_TRUE(test, katls_fail(ks, ETIMEDOUT, KATLS_STAT_TIMED_OUT));
	KUNIT_EXPECT_EQ(test, katls_stat_read(KATLS_STAT_TIMED_OUT), to + 1);
	KUNIT_EXPECT_FALSE(test, katls_fail(ks, ECONNABORTED,
					    KATLS_STAT_AGENT_LOST));
	KUNIT_EXPECT_EQ(test, katls_stat_read(KATLS_STAT_TIMED_OUT), to + 1);
	KUNIT_EXPECT_EQ(test, katls_stat_read(KATLS_STAT_AGENT_LOST), lost);
	KUNIT_EXPECT_EQ(test, ks->status, ETIMEDOUT);
	lc_free(&l);
}

struct race {
	struct katls_sock *ks;
	struct completion *go;
	atomic_t *wins;
	struct completion done;
	int status;
};

static int race_fn(void *arg)
{
	struct race *r = arg;

	wait_for_completion(r->go);
	if (katls_complete(r->ks, r->status))
		atomic_inc(r->wins);
	complete(&r->done);
	return 0;
}

static void lc_complete_race(struct kunit *test)
{
	struct completion go;
	atomic_t wins;
	struct race r[4];
	int iter, i, bad = 0;

	for (iter = 0; iter < 25; iter++) {
		struct lc l;

		lc_new(test, &l);
		KUNIT_ASSERT_EQ(test, lc_enqueue(l.ks, 1), 0);
		init_completion(&go);
		atomic_set(&wins, 0);
		for (i = 0; i < ARRAY_SIZE(r); i++) {
			r[i] = (struct race){ .ks = l.ks, .go = &go,
					      .wins = &wins, .status = 100 + i };
			init_completion(&r[i].done);
			kthread_run(race_fn, &r[i], "katls-race/%d", i);
		}
		complete_all(&go);
		for (i = 0; i < ARRAY_SIZE(r); i++)
			wait_for_completion(&r[i].done);
		flush_workqueue(katls_wq);	/* the 1 ms timeout races too */
		if (atomic_read(&wins) > 1 ||
		    l.ks->state != KATLS_STATE_FAILED)
			bad++;
		lc_free(&l);
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
}

static void lc_timeout_fires(struct kunit *test)
{
	s64 to = katls_stat_read(KATLS_STAT_TIMED_OUT);
	struct lc l;
	struct katls_sock *ks = lc_new(test, &l);
	int i;

	KUNIT_ASSERT_EQ(test, lc_enqueue(ks, 20), 0);
	for (i = 0; i < 200 && READ_ONCE(ks->state) != KATLS_STATE_FAILED; i++)
		msleep(10);
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_FAILED);
	KUNIT_EXPECT_EQ(test, ks->status, ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, katls_stat_read(KATLS_STAT_TIMED_OUT), to + 1);
	lc_free(&l);
}

static void lc_handover_owner(struct kunit *test)
{
	struct katls_result sum = { .evidence_type = KATLS_EVIDENCE_SNP,
				    .binding_level = KATLS_BINDING_L2,
				    .measurement_len = 48 };
	struct katls_sock *ks, *got;
	struct lc l;

	ks = lc_new(test, &l);
	KUNIT_ASSERT_EQ(test, lc_enqueue(ks, 0), 0);
	KUNIT_EXPECT_EQ(test, katls_check_owner(ks, 9), -ENOENT);
	got = katls_accept_next(&init_net, 9, task_tgid(current));
	KUNIT_ASSERT_PTR_EQ(test, got, ks);
	katls_sock_put(got);
	KUNIT_EXPECT_EQ(test, katls_check_owner(ks, 10), -EPERM);
	KUNIT_EXPECT_EQ(test, katls_begin_handover(ks, 10, &sum), -EPERM);
	KUNIT_EXPECT_EQ(test, katls_check_owner(ks, 9), 0);
	KUNIT_EXPECT_EQ(test, katls_begin_handover(ks, 9, &sum), 0);
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_HANDOVER);
	/* Nothing but the hand-over itself may finish it now. */
	KUNIT_EXPECT_FALSE(test, katls_complete(ks, ETIMEDOUT));
	KUNIT_EXPECT_EQ(test, katls_begin_handover(ks, 9, &sum), -ENOENT);
	katls_finish_handover(ks, 0);
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_OPEN);
	KUNIT_EXPECT_FALSE(test, ks->sk_held);
	KUNIT_EXPECT_EQ(test, ks->result.evidence_type, KATLS_EVIDENCE_SNP);
	lc_free(&l);
}

static void lc_handover_failure(struct kunit *test)
{
	struct katls_result sum = { .evidence_type = KATLS_EVIDENCE_TDX,
				    .binding_level = KATLS_BINDING_L2 };
	struct katls_result res;
	struct katls_sock *ks, *got;
	struct lc l;

	ks = lc_new(test, &l);
	KUNIT_ASSERT_EQ(test, lc_enqueue(ks, 0), 0);
	got = katls_accept_next(&init_net, 3, task_tgid(current));
	KUNIT_ASSERT_PTR_EQ(test, got, ks);
	katls_sock_put(got);
	KUNIT_ASSERT_EQ(test, katls_begin_handover(ks, 3, &sum), 0);
	katls_finish_handover(ks, -EINVAL);
	katls_fill_result(ks, &res);
	KUNIT_EXPECT_EQ(test, res.state, KATLS_STATE_FAILED);
	KUNIT_EXPECT_EQ(test, res.status, EINVAL);
	KUNIT_EXPECT_EQ(test, res.evidence_type, KATLS_EVIDENCE_NONE);
	flush_workqueue(katls_wq);
	KUNIT_EXPECT_FALSE(test, ks->sk_held);
	lc_free(&l);
}

/* ACCEPT and hand over @ks with a maximum age of @max_age_ms (0: none). */
static void lc_open(struct kunit *test, struct katls_sock *ks, u32 max_age_ms)
{
	struct katls_result sum = { .evidence_type = KATLS_EVIDENCE_SIM,
				    .binding_level = KATLS_BINDING_L2,
				    .measurement_len = 48 };
	struct katls_sock *got;

	KUNIT_ASSERT_EQ(test, lc_enqueue(ks, 0), 0);
	got = katls_accept_next(&init_net, 11, task_tgid(current));
	KUNIT_ASSERT_PTR_EQ(test, got, ks);
	katls_sock_put(got);
	KUNIT_ASSERT_EQ(test, katls_begin_handover(ks, 11, &sum), 0);
	ks->max_age_ms = max_age_ms;
	katls_finish_handover(ks, 0);
	KUNIT_ASSERT_EQ(test, ks->state, KATLS_STATE_OPEN);
}

/*
 * Issue 14 item 7: with a maximum age the socket leaves OPEN for EXPIRED
 * on its own, with status EKEYEXPIRED (what every data call then
 * returns), counted, and reported by KATLS_RESULT; a new request on it
 * gets the same errno.
 */
static void lc_max_age_expires(struct kunit *test)
{
	s64 expired = katls_stat_read(KATLS_STAT_EXPIRED);
	struct katls_result res;
	struct lc l;
	struct katls_sock *ks = lc_new(test, &l);
	int i;

	lc_open(test, ks, 30);
	for (i = 0; i < 300 && READ_ONCE(ks->state) != KATLS_STATE_EXPIRED; i++)
		msleep(10);
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_EXPIRED);
	KUNIT_EXPECT_EQ(test, ks->status, EKEYEXPIRED);
	KUNIT_EXPECT_EQ(test, katls_stat_read(KATLS_STAT_EXPIRED), expired + 1);
	katls_fill_result(ks, &res);
	KUNIT_EXPECT_EQ(test, res.state, KATLS_STATE_EXPIRED);
	KUNIT_EXPECT_EQ(test, res.status, EKEYEXPIRED);
	KUNIT_EXPECT_EQ(test, res.evidence_type, KATLS_EVIDENCE_SIM);
	KUNIT_EXPECT_EQ(test, lc_enqueue(ks, 0), -EKEYEXPIRED);
	/*
	 * The reset itself (tcp_abort(), sk_err EKEYEXPIRED) needs a
	 * connection; this socket never had one: tests/vm/keyupdate_age.c.
	 */
	/* Nothing completes it again. */
	KUNIT_EXPECT_FALSE(test, katls_complete(ks, ETIMEDOUT));
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_EXPIRED);
	lc_free(&l);
}

/* Without a maximum age nothing is armed and the socket stays OPEN. */
static void lc_max_age_none(struct kunit *test)
{
	struct lc l;
	struct katls_sock *ks = lc_new(test, &l);

	lc_open(test, ks, 0);
	KUNIT_EXPECT_FALSE(test, delayed_work_pending(&ks->expire_work));
	msleep(50);
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_OPEN);
	lc_free(&l);
}

/*
 * The release of the socket cancels a pending expiry and gives back the
 * references it held (on @ks and on the socket).
 */
static void lc_max_age_cancel(struct kunit *test)
{
	struct lc l;
	struct katls_sock *ks = lc_new(test, &l);
	unsigned int ref, skref;

	ref = refcount_read(&ks->ref);
	skref = refcount_read(&l.sock->sk->sk_refcnt);
	lc_open(test, ks, 600000);
	KUNIT_EXPECT_TRUE(test, delayed_work_pending(&ks->expire_work));
	KUNIT_EXPECT_EQ(test, refcount_read(&ks->ref), ref + 1);
	KUNIT_EXPECT_EQ(test, refcount_read(&l.sock->sk->sk_refcnt), skref + 1);
	katls_expire_cancel(ks);
	KUNIT_EXPECT_FALSE(test, delayed_work_pending(&ks->expire_work));
	KUNIT_EXPECT_EQ(test, refcount_read(&ks->ref), ref);
	KUNIT_EXPECT_EQ(test, refcount_read(&l.sock->sk->sk_refcnt), skref);
	KUNIT_EXPECT_EQ(test, ks->state, KATLS_STATE_OPEN);
	lc_free(&l);
}

static void lc_agent_gone(struct kunit *test)
{
	s64 lost = katls_stat_read(KATLS_STAT_AGENT_LOST);
	struct katls_sock *got;
	struct lc a, b, c;

	lc_new(test, &a);
	lc_new(test, &b);
	lc_new(test, &c);
	katls_register(a.ks);
	katls_register(b.ks);
	katls_register(c.ks);
	KUNIT_ASSERT_EQ(test, lc_enqueue(a.ks, 0), 0);
	KUNIT_ASSERT_EQ(test, lc_enqueue(b.ks, 0), 0);
	KUNIT_ASSERT_EQ(test, lc_enqueue(c.ks, 0), 0);
	got = katls_accept_next(&init_net, 21, task_tgid(current));
	katls_sock_put(got);
	got = katls_accept_next(&init_net, 22, task_tgid(current));
	katls_sock_put(got);
	katls_agent_gone(&init_net, 21);
	KUNIT_EXPECT_EQ(test, a.ks->state, KATLS_STATE_FAILED);
	KUNIT_EXPECT_EQ(test, a.ks->status, ECONNABORTED);
	KUNIT_EXPECT_EQ(test, b.ks->state, KATLS_STATE_ACCEPTED);
	KUNIT_EXPECT_EQ(test, c.ks->state, KATLS_STATE_PENDING);
	KUNIT_EXPECT_EQ(test, katls_stat_read(KATLS_STAT_AGENT_LOST), lost + 1);
	lc_free(&a);
	lc_free(&b);
	lc_free(&c);
}

/*
 * Issue 13 item 4: DONE finds its request through the id index, not by
 * walking the registry: these requests are not even in the registry.
 */
static void lc_find_id_indexed(struct kunit *test)
{
	struct net *other = (struct net *)&other;	/* never dereferenced */
	struct katls_sock *got;
	struct lc *l;
	int i, bad = 0;

	l = kunit_kcalloc(test, 64, sizeof(*l), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, l);
	for (i = 0; i < 64; i++) {
		lc_new(test, &l[i]);
		KUNIT_ASSERT_EQ(test, lc_enqueue(l[i].ks, 0), 0);
	}
	for (i = 0; i < 64; i++) {
		got = katls_find_id(&init_net, l[i].ks->id);
		if (got != l[i].ks)
			bad++;
		if (got)
			katls_sock_put(got);
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_NULL(test, katls_find_id(other, l[0].ks->id));
	KUNIT_EXPECT_NULL(test, katls_find_id(&init_net, 0));
	KUNIT_EXPECT_NULL(test, katls_find_id(&init_net, U64_MAX));
	/* A released socket's request is gone from the index. */
	katls_unregister(l[5].ks);
	KUNIT_EXPECT_NULL(test, katls_find_id(&init_net, l[5].ks->id));
	got = katls_find_id(&init_net, l[6].ks->id);
	KUNIT_EXPECT_PTR_EQ(test, got, l[6].ks);
	if (got)
		katls_sock_put(got);
	for (i = 0; i < 64; i++)
		lc_free(&l[i]);
}

/*
 * Issue 13 item 4: agent loss walks that agent's own list (these requests
 * are not in the registry), a release of any other port or namespace
 * changes nothing, and a request that leaves ACCEPTED leaves the list
 * with its reference.
 */
static void lc_agent_gone_own_list(struct kunit *test)
{
	struct net *other = (struct net *)&other;	/* never dereferenced */
	struct katls_result sum = { .evidence_type = KATLS_EVIDENCE_SIM,
				    .binding_level = KATLS_BINDING_L2 };
	struct katls_sock *got;
	struct lc a, b, c;

	lc_new(test, &a);
	lc_new(test, &b);
	lc_new(test, &c);
	KUNIT_ASSERT_EQ(test, lc_enqueue(a.ks, 0), 0);
	KUNIT_ASSERT_EQ(test, lc_enqueue(b.ks, 0), 0);
	KUNIT_ASSERT_EQ(test, lc_enqueue(c.ks, 0), 0);
	got = katls_accept_next(&init_net, 31, task_tgid(current));
	KUNIT_ASSERT_PTR_EQ(test, got, a.ks);
	katls_sock_put(got);
	got = katls_accept_next(&init_net, 31, task_tgid(current));
	KUNIT_ASSERT_PTR_EQ(test, got, b.ks);
	katls_sock_put(got);
	got = katls_accept_next(&init_net, 32, task_tgid(current));
	KUNIT_ASSERT_PTR_EQ(test, got, c.ks);
	katls_sock_put(got);

	katls_agent_gone(&init_net, 99);
	katls_agent_gone(other, 31);
	KUNIT_EXPECT_EQ(test, a.ks->state, KATLS_STATE_ACCEPTED);
	KUNIT_EXPECT_EQ(test, b.ks->state, KATLS_STATE_ACCEPTED);

	/* b leaves ACCEPTED through the hand-over: off the list. */
	KUNIT_ASSERT_EQ(test, katls_begin_handover(b.ks, 31, &sum), 0);
	KUNIT_EXPECT_NULL(test, b.ks->agent);
	katls_agent_gone(&init_net, 31);
	KUNIT_EXPECT_EQ(test, a.ks->state, KATLS_STATE_FAILED);
	KUNIT_EXPECT_EQ(test, a.ks->status, ECONNABORTED);
	KUNIT_EXPECT_NULL(test, a.ks->agent);
	KUNIT_EXPECT_EQ(test, b.ks->state, KATLS_STATE_HANDOVER);
	KUNIT_EXPECT_EQ(test, c.ks->state, KATLS_STATE_ACCEPTED);
	katls_finish_handover(b.ks, 0);

	/* c completes otherwise: its list reference goes with it. */
	KUNIT_EXPECT_TRUE(test, katls_complete(c.ks, ETIMEDOUT));
	KUNIT_EXPECT_NULL(test, c.ks->agent);
	flush_workqueue(katls_wq);
	KUNIT_EXPECT_EQ(test, refcount_read(&a.ks->ref), 1);
	KUNIT_EXPECT_EQ(test, refcount_read(&c.ks->ref), 1);
	katls_agent_gone(&init_net, 32);	/* nothing left: no-op */
	KUNIT_EXPECT_EQ(test, c.ks->status, ETIMEDOUT);
	lc_free(&a);
	lc_free(&b);
	lc_free(&c);
}

/* Issue 13 item 4: max_pending counts per network namespace. */
static void lc_pending_cap_per_netns(struct kunit *test)
{
	unsigned int saved = katls_max_pending;
	struct net *net2;
	struct lc a, b, c;

	net2 = copy_net_ns(CLONE_NEWNET, &init_user_ns, &init_net);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(net2));
	lc_new(test, &a);
	lc_new(test, &b);
	lc_new(test, &c);
	c.ks->net = net2;
	katls_max_pending = 1;
	KUNIT_EXPECT_EQ(test, lc_enqueue(a.ks, 0), 0);
	KUNIT_EXPECT_EQ(test, lc_enqueue(b.ks, 0), -EAGAIN);
	KUNIT_EXPECT_EQ(test, b.ks->state, KATLS_STATE_IDLE);
	/* The full init_net does not take the other namespace's slot. */
	KUNIT_EXPECT_EQ(test, lc_enqueue(c.ks, 0), 0);
	KUNIT_EXPECT_EQ(test, katls_net(net2)->npending, 1U);
	katls_max_pending = saved;
	lc_free(&c);
	KUNIT_EXPECT_EQ(test, katls_net(net2)->npending, 0U);
	lc_free(&a);
	lc_free(&b);
	put_net(net2);
}

static void lc_registry_lookup(struct kunit *test)
{
	struct net *other = (struct net *)&other;
	struct katls_sock *got;
	struct lc l;

	lc_new(test, &l);
	KUNIT_EXPECT_NULL(test, katls_lookup_sk(l.sock->sk));
	katls_register(l.ks);
	KUNIT_ASSERT_EQ(test, lc_enqueue(l.ks, 0), 0);
	got = katls_lookup_sk(l.sock->sk);
	KUNIT_EXPECT_PTR_EQ(test, got, l.ks);
	if (got)
		katls_sock_put(got);
	got = katls_find_id(&init_net, l.ks->id);
	KUNIT_EXPECT_PTR_EQ(test, got, l.ks);
	if (got)
		katls_sock_put(got);
	KUNIT_EXPECT_NULL(test, katls_find_id(other, l.ks->id));
	KUNIT_EXPECT_NULL(test, katls_find_id(&init_net, l.ks->id + 1000));
	katls_unregister(l.ks);
	KUNIT_EXPECT_NULL(test, katls_lookup_sk(l.sock->sk));
	lc_free(&l);
}

static int count_fn(struct katls_sock *ks, void *arg)
{
	int *budget = arg;

	return (*budget)-- <= 0;
}

static void lc_for_each_resumes(struct kunit *test)
{
	struct net *other = (struct net *)&other;
	unsigned long pos = 0;
	struct lc l[3];
	int i, budget;

	for (i = 0; i < 3; i++) {
		lc_new(test, &l[i]);
		l[i].ks->net = other;	/* only ours are visited */
		katls_register(l[i].ks);
	}
	budget = 2;
	katls_for_each(other, &pos, count_fn, &budget);
	KUNIT_EXPECT_EQ(test, pos, 2);
	budget = 10;
	katls_for_each(other, &pos, count_fn, &budget);
	KUNIT_EXPECT_EQ(test, pos, 3);
	KUNIT_EXPECT_EQ(test, budget, 9);
	for (i = 0; i < 3; i++) {
		l[i].ks->net = &init_net;
		lc_free(&l[i]);
	}
}

static void lc_result_status_only_when_failed(struct kunit *test)
{
	struct katls_result res;
	struct lc l;

	lc_new(test, &l);
	l.ks->status = EIO;	/* stale value must not leak */
	katls_fill_result(l.ks, &res);
	KUNIT_EXPECT_EQ(test, res.state, KATLS_STATE_IDLE);
	KUNIT_EXPECT_EQ(test, res.status, 0);
	l.ks->status = 0;
	KUNIT_EXPECT_TRUE(test, katls_complete(l.ks, EKEYREJECTED));
	katls_fill_result(l.ks, &res);
	KUNIT_EXPECT_EQ(test, res.state, KATLS_STATE_FAILED);
	KUNIT_EXPECT_EQ(test, res.status, EKEYREJECTED);
	lc_free(&l);
}

/*
 * Item 16: a dump that read an entry while its socket was released (the
 * entry is unregistered, the socket freed and, TCP sockets being
 * SLAB_TYPESAFE_BY_RCU, reused) must not pin and report the new socket.
 * Simulated: the entry still says "not released" (the dump read it just
 * before the release) but the registry no longer maps its socket to it.
 */
static void lc_dump_pin_rechecks(struct kunit *test)
{
	struct sock *sk;
	struct lc l;
	int ref;

	lc_new(test, &l);
	katls_register(l.ks);
	ref = refcount_read(&l.sock->sk->sk_refcnt);
	rcu_read_lock();
	sk = katls_dump_pin(l.ks);
	rcu_read_unlock();
	KUNIT_EXPECT_PTR_EQ(test, sk, l.sock->sk);
	if (sk)
		sock_put(sk);
	/* The socket now belongs to somebody else. */
	katls_unregister(l.ks);
	rcu_read_lock();
	sk = katls_dump_pin(l.ks);
	rcu_read_unlock();
	KUNIT_EXPECT_NULL(test, sk);
	if (sk)
		sock_put(sk);
	KUNIT_EXPECT_EQ(test, refcount_read(&l.sock->sk->sk_refcnt), ref);
	/* Released entries are skipped as before. */
	katls_register(l.ks);
	WRITE_ONCE(l.ks->ulp_released, true);
	rcu_read_lock();
	sk = katls_dump_pin(l.ks);
	rcu_read_unlock();
	KUNIT_EXPECT_NULL(test, sk);
	if (sk)
		sock_put(sk);
	katls_unregister(l.ks);
	lc_free(&l);
}

/*
 * Item 14: in interrupt context (strparser's data_ready runs read_sock
 * from softirq) `current` is whatever task was interrupted, possibly the
 * agent.  The agent check must say no there.
 */
struct irq_probe {
	struct katls_sock *ks;
	struct pid *me;
	struct hrtimer hrt;
	struct timer_list tl;
	bool done, current_is_agent, is_agent;
};

static void irq_probe_check(struct irq_probe *p)
{
	p->current_is_agent = task_tgid(current) == p->me;
	p->is_agent = katls_is_agent(p->ks);
	/* Publish the results before the flag the test spins on. */
	smp_store_release(&p->done, true);
}

static enum hrtimer_restart irq_probe_hrt(struct hrtimer *t)
{
	irq_probe_check(container_of(t, struct irq_probe, hrt));
	return HRTIMER_NORESTART;
}

static void irq_probe_tl(struct timer_list *t)
{
	irq_probe_check(container_of(t, struct irq_probe, tl));
}

/* Busy-wait (never sleep) so that the interrupt hits this task. */
static bool irq_probe_spin(struct irq_probe *p)
{
	unsigned long end = jiffies + HZ;

	/* Acquire: pairs with the release in irq_probe_check(). */
	while (!smp_load_acquire(&p->done) && time_before(jiffies, end))
		cpu_relax();
	return smp_load_acquire(&p->done);
}

static void gate_agent_not_in_irq(struct kunit *test)
{
	struct irq_probe *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	int tries, hits = 0;
	bool fired;
	struct lc l;

	KUNIT_ASSERT_NOT_NULL(test, p);
	lc_new(test, &l);
	p->ks = l.ks;
	p->me = task_tgid(current);
	l.ks->agent_pid = get_pid(p->me);
	KUNIT_EXPECT_TRUE(test, katls_is_agent(l.ks));

	/* Hard interrupt (hrtimer). */
	hrtimer_init(&p->hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	p->hrt.function = irq_probe_hrt;
	for (tries = 0; tries < 20 && !hits; tries++) {
		p->done = false;
		hrtimer_start(&p->hrt, ms_to_ktime(2), HRTIMER_MODE_REL);
		fired = irq_probe_spin(p);
		hrtimer_cancel(&p->hrt);
		KUNIT_ASSERT_TRUE(test, fired);
		if (!p->current_is_agent)
			continue;
		hits++;
		KUNIT_EXPECT_FALSE_MSG(test, p->is_agent,
				       "agent check true in hardirq");
	}
	KUNIT_EXPECT_GT_MSG(test, hits, 0, "hardirq never hit the test task");

	/* Softirq (timer_list), where strparser and KCM run read_sock. */
	hits = 0;
	timer_setup(&p->tl, irq_probe_tl, 0);
	for (tries = 0; tries < 20 && !hits; tries++) {
		p->done = false;
		mod_timer(&p->tl, jiffies + 1);
		fired = irq_probe_spin(p);
		if (!fired)
			del_timer_sync(&p->tl);
		KUNIT_ASSERT_TRUE(test, fired);
		if (!p->current_is_agent)
			continue;
		hits++;
		KUNIT_EXPECT_FALSE_MSG(test, p->is_agent,
				       "agent check true in softirq");
	}
	del_timer_sync(&p->tl);
	KUNIT_EXPECT_GT_MSG(test, hits, 0, "softirq never hit the test task");
	lc_free(&l);
}

static struct kunit_case katls_request_cases[] = {
	KUNIT_CASE(req_valid_client),
	KUNIT_CASE(req_valid_server_peername),
	KUNIT_CASE(req_bad_role),
	KUNIT_CASE(req_flags_reserved),
	KUNIT_CASE(req_timeout_bounds),
	KUNIT_CASE(req_policy_empty),
	KUNIT_CASE(req_policy_charset),
	KUNIT_CASE(req_policy_length),
	KUNIT_CASE(req_peername_unterminated),
	KUNIT_CASE(state_transition_table),
	KUNIT_CASE(state_set_rejects_illegal),
	{}
};

static struct kunit_case katls_netlink_cases[] = {
	KUNIT_CASE(ci_ciphers_ok),
	KUNIT_CASE(ci_tls12_refused),
	KUNIT_CASE(ci_other_ciphers_refused),
	KUNIT_CASE(ci_length_exact),
	KUNIT_CASE(done_success_fills_summary),
	KUNIT_CASE(done_required_attrs),
	KUNIT_CASE(done_failure_status),
	KUNIT_CASE(done_keys_required),
	KUNIT_CASE(done_summary_checks),
	KUNIT_CASE(done_policy_rejects),
	KUNIT_CASE(done_parse_fills_request),
	KUNIT_CASE(done_generated_policy_limits),
	KUNIT_CASE(done_client_summary),
	KUNIT_CASE(done_status_allow_list),
	KUNIT_CASE(done_max_age),
	{}
};

static struct kunit_case katls_lifecycle_cases[] = {
	KUNIT_CASE(lc_enqueue_pending),
	KUNIT_CASE(lc_enqueue_terminal),
	KUNIT_CASE(lc_pending_cap),
	KUNIT_CASE(lc_accept_fifo_and_netns),
	KUNIT_CASE(lc_complete_exactly_once),
	KUNIT_CASE(lc_fail_counts_once),
	KUNIT_CASE(lc_complete_race),
	KUNIT_CASE(lc_timeout_fires),
	KUNIT_CASE(lc_handover_owner),
	KUNIT_CASE(lc_handover_failure),
	KUNIT_CASE(lc_agent_gone),
	KUNIT_CASE(lc_registry_lookup),
	KUNIT_CASE(lc_find_id_indexed),
	KUNIT_CASE(lc_agent_gone_own_list),
	KUNIT_CASE(lc_pending_cap_per_netns),
	KUNIT_CASE(lc_for_each_resumes),
	KUNIT_CASE(lc_result_status_only_when_failed),
	KUNIT_CASE(lc_dump_pin_rechecks),
	KUNIT_CASE(gate_agent_not_in_irq),
	KUNIT_CASE(lc_max_age_expires),
	KUNIT_CASE(lc_max_age_none),
	KUNIT_CASE(lc_max_age_cancel),
	{}
};

static struct kunit_suite katls_request_suite = {
	.name = "katls_request",
	.test_cases = katls_request_cases,
};

static struct kunit_suite katls_netlink_suite = {
	.name = "katls_netlink",
	.test_cases = katls_netlink_cases,
};

static struct kunit_suite katls_lifecycle_suite = {
	.name = "katls_lifecycle",
	.test_cases = katls_lifecycle_cases,
};

kunit_test_suites(&katls_request_suite, &katls_netlink_suite,
		  &katls_lifecycle_suite);
