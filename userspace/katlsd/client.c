// SPDX-License-Identifier: GPL-2.0
/*
 * client.c - the verifier's half of the handshake (Documentation/katlsd.rst):
 * the attestation request in our ClientHello, the server's evidence out
 * of its EncryptedExtensions, and the single decision point before our
 * Finished: X.509 and peer name, binder recomputation, the batch proof
 * (binder v1 batch mode: the evidence may vouch for a Merkle tree of
 * binders, Documentation/binder.rst), the evidence verifier, the policy
 * (Documentation/design.rst, "The binder (v1)").
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <katls/binder.h>
#include <katls/ext.h>
#include <katls/merkle.h>

#include "hs_int.h"
#include "log.h"

/* ClientHello (and a second one after HelloRetryRequest): our request. */
int hs_client_ext_send(struct hs_ctx *ctx, gnutls_buffer_t buf)
{
	uint8_t out[KATLS_EXT_REQUEST_MAX];
	int n;

	/* A second ClientHello (after HRR) carries the same request. */
	if (!ctx->req_valid) {
		static const enum katls_evidence_type all[] = {
			KATLS_EVIDENCE_TDX, KATLS_EVIDENCE_SNP,
			KATLS_EVIDENCE_CCA, KATLS_EVIDENCE_SIM,
		};

		memset(&ctx->req, 0, sizeof(ctx->req));
		ctx->req.version = KATLS_EXT_VERSION;
		ctx->req.mode = hs_policy_mode(ctx->p->policy);
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if (katls_policy_allows(ctx->p->policy, all[i]))
				ctx->req.types[ctx->req.ntypes++] = all[i];
		if (!ctx->req.ntypes)
			return hs_fail(ctx, EACCES,
				       "policy %s allows no evidence type",
				       ctx->p->policy_name),
			       GNUTLS_E_INTERNAL_ERROR;
		if (gnutls_rnd(GNUTLS_RND_RANDOM, ctx->req.nonce,
			       sizeof(ctx->req.nonce)))
			return hs_fail(ctx, EIO, "no random nonce"),
			       GNUTLS_E_INTERNAL_ERROR;
		ctx->req_valid = true;
	}
	n = katls_ext_request_encode(&ctx->req, out, sizeof(out));
	if (n <= 0)
		return hs_fail(ctx, EIO, "cannot encode request: %s",
			       katls_ext_strerror(n)),
		       GNUTLS_E_INTERNAL_ERROR;
	return gnutls_buffer_append_data(buf, out, n);
}

/* Copy a decoded evidence record out of GnuTLS's (or post.c's) buffer. */
int hs_client_take_evidence(struct hs_ctx *ctx, const struct katls_ext_evidence *e)
{
	katlsd_evidence_free(&ctx->ev);
	ctx->ev.type = e->type;
	ctx->ev.proof = e->proof;	/* version 1: a batch of one */
	ctx->ev.evidence = malloc(e->evidence_len);
	ctx->ev.aux = e->aux_len ? malloc(e->aux_len) : NULL;
	if (!ctx->ev.evidence || (e->aux_len && !ctx->ev.aux))
		return hs_fail(ctx, ENOMEM, "out of memory for evidence");
	memcpy(ctx->ev.evidence, e->evidence, e->evidence_len);
	ctx->ev.evidence_len = e->evidence_len;
	if (e->aux_len)
		memcpy(ctx->ev.aux, e->aux, e->aux_len);
	ctx->ev.aux_len = e->aux_len;
	ctx->ev_received = true;
	return 0;
}

/*
 * EncryptedExtensions: the server's evidence record, or, when we asked
 * for post-handshake attestation only, an empty body ("accepted": the
 * evidence follows after the handshake, post.c).
 */
int hs_client_ext_recv(struct hs_ctx *ctx, const unsigned char *data,
		       size_t len)
{
	struct katls_ext_evidence e;
	int ret;

	if (ctx->req.mode == KATLS_EXT_MODE_POST_V1) {
		if (len) {
			hs_fail(ctx, EPROTO,
				"evidence in EncryptedExtensions, but we asked for post-handshake attestation");
			return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
		}
		ctx->post_accepted = true;
		return 0;
	}
	/*
	 * A malformed batch proof is named here: wrong tree size, batch of
	 * one sent as a batch, leaf index out of range, audit path too
	 * short / too long (ext.c checks the proof without hashing).
	 */
	ret = katls_ext_evidence_decode(data, len, &e);
	if (ret) {
		hs_fail(ctx, EPROTO, "malformed evidence record: %s",
			katls_ext_strerror(ret));
		return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
	}
	if (hs_client_take_evidence(ctx, &e))
		return GNUTLS_E_MEMORY_ERROR;
	return 0;
}

/*
 * Client hook, all messages: EncryptedExtensions without our extension
 * means a server that does not speak katls.  Say so at once, with
 * missing_extension, before the server's Certificate is even looked at.
 * GnuTLS parses TLS 1.3 EncryptedExtensions after its own POST hook, so
 * the check runs before the next incoming message.
 */
static int client_hook(gnutls_session_t s, unsigned int htype,
		       unsigned int when, unsigned int incoming,
		       const gnutls_datum_t *msg)
{
	struct hs_ctx *ctx = gnutls_session_get_ptr(s);

	/*
	 * issue 14 item 3: the server's CertificateRequest (after its
	 * EncryptedExtensions, covered by its Finished) says it will ask
	 * for our evidence after the handshake (post.c).
	 */
	if (incoming && when == GNUTLS_HOOK_POST &&
	    htype == GNUTLS_HANDSHAKE_CERTIFICATE_REQUEST)
		ctx->client_asked = true;
	if (!incoming || when != GNUTLS_HOOK_PRE || ctx->ev_received ||
	    ctx->post_accepted)
		return 0;
	switch (htype) {
	case GNUTLS_HANDSHAKE_CERTIFICATE_REQUEST:
	case GNUTLS_HANDSHAKE_CERTIFICATE_PKT:
	case GNUTLS_HANDSHAKE_CERTIFICATE_VERIFY:
	case GNUTLS_HANDSHAKE_FINISHED:
		break;
	default:
		return 0;
	}
	hs_fail_alert(ctx, GNUTLS_A_MISSING_EXTENSION, EACCES,
		      "server sent no evidence (no katls extension in its EncryptedExtensions)");
	return GNUTLS_E_MISSING_EXTENSION;
}

/* Does the leaf certificate carry @name (DNS name or IP address)? */
static bool leaf_has_name(const gnutls_datum_t *der, const char *name)
{
	gnutls_x509_crt_t crt;
	bool ok = false;

	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) >= 0)
		ok = gnutls_x509_crt_check_hostname2(crt, name, 0) != 0;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

static int check_x509(struct hs_ctx *ctx, gnutls_session_t s,
		      const gnutls_datum_t *leaf)
{
	const char *name = ctx->p->peername;
	bool named = name && *name;
	unsigned int status = 0;
	gnutls_datum_t txt;
	int ret;

	if (ctx->p->evidence_bound_key) {
		/*
		 * The policy trusts the key because the evidence binds it
		 * (spki is in report_data) and CertificateVerify proves its
		 * possession; no CA vouches for the certificate.  A peer
		 * name the application asked for is still checked, against
		 * the names in that certificate (issue 11 item 19): never
		 * ignored.  Those names are only as trustworthy as the
		 * attested software that chose them.
		 */
		if (named && !leaf_has_name(leaf, name))
			return hs_fail_alert(ctx, GNUTLS_A_BAD_CERTIFICATE, EACCES,
					     "server certificate does not carry the peer name %s (evidence-bound key under policy %s)",
					     name, ctx->p->policy_name);
		kinfo("policy %s: accepting the server key on the evidence alone%s%s",
		      ctx->p->policy_name, named ? ", name " : "",
		      named ? name : "");
		return 0;
	}
	if (!ctx->p->have_truststore)
		return hs_fail(ctx, EACCES,
			       "no trust store configured and policy %s does not accept evidence-bound keys",
			       ctx->p->policy_name);
	/* CA mode: a CA-valid certificate for any name is not enough. */
	if (!named)
		return hs_fail(ctx, EINVAL,
			       "no peer name: policy %s uses CA mode, which needs the server name to check",
			       ctx->p->policy_name);
	ret = gnutls_certificate_verify_peers3(s, name, &status);
	if (ret < 0)
		return hs_fail(ctx, EACCES, "certificate check failed: %s",
			       gnutls_strerror(ret));
	if (status) {
		if (!gnutls_certificate_verification_status_print(
			    status, GNUTLS_CRT_X509, &txt, 0)) {
			hs_fail(ctx, EACCES, "server certificate: %s", txt.data);
			gnutls_free(txt.data);
			return -1;
		}
		return hs_fail(ctx, EACCES, "server certificate not trusted");
	}
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n--)
		acc |= *p++;
	return !acc;
}

static void log_verdict(const struct katls_verdict *v)
{
	for (unsigned int i = 0; i < v->nchecks && i < KATLS_VERDICT_MAX_LINES;
	     i++) {
		/* What was not checked is part of the decision: info. */
		if (!strncmp(v->checks[i], "not checked:", 12) ||
		    !strncmp(v->checks[i], "info:", 5))
			kinfo("verdict: %s", v->checks[i]);
		else
			kdebug("verdict: %s", v->checks[i]);
	}
	for (unsigned int i = 0; i < v->nerrors && i < KATLS_VERDICT_MAX_LINES;
	     i++)
		knotice("verdict: error: %s", v->errors[i]);
}

/*
 * The evidence's report data is not what our binder and the proof give:
 * name the kind of mismatch (Documentation/binder.rst, "What the verifier
 * does").  Every reason says "not bound to this handshake".
 */
static void not_bound(struct hs_ctx *ctx, const uint8_t binder[64],
		      const uint8_t found[64])
{
	const struct katls_merkle_proof *pr = &ctx->ev.proof;
	const char *name = katls_evidence_name(ctx->ev.type);

	if (pr->tree_size <= 1)
		hs_fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EKEYREJECTED,
			      "%s evidence is not bound to this handshake (single binder)",
			      name);
	else if (!katls_binder_check(binder, found, 64))
		hs_fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EKEYREJECTED,
			      "%s evidence is not bound to this handshake (single binder presented as a batch, leaf %u of %u)",
			      name, pr->leaf_index, pr->tree_size);
	else
		hs_fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EKEYREJECTED,
			      "%s evidence is not bound to this handshake (%s, leaf %u of %u)",
			      name, katls_merkle_strerror(KATLS_MERKLE_E_MISMATCH),
			      pr->leaf_index, pr->tree_size);
}

/*
 * The client's single decision point: runs with the peer certificate,
 * the evidence and htsc known, before our Finished.  Returning non-zero
 * aborts the handshake.
 */
static int verify_evidence(struct hs_ctx *ctx, gnutls_session_t s)
{
	const gnutls_datum_t *certs;
	uint8_t binder[KATLS_REPORT_DATA_LEN];
	unsigned int ncerts = 0;
	int ret;

	if (gnutls_certificate_type_get2(s, GNUTLS_CTYPE_PEERS) !=
	    GNUTLS_CRT_X509)
		return hs_fail(ctx, EACCES, "server did not send an X.509 certificate");
	certs = gnutls_certificate_get_peers(s, &ncerts);
	if (!certs || !ncerts)
		return hs_fail(ctx, EACCES, "server sent no certificate");
	if (check_x509(ctx, s, &certs[0]))
		return -1;
	/*
	 * binding = post: the evidence comes after the handshake (post.c),
	 * bound to this key; the gate stays closed until then.
	 */
	if (ctx->req.mode == KATLS_EXT_MODE_POST_V1)
		return 0;
	if (!ctx->ev_received)
		return hs_fail_alert(ctx, GNUTLS_A_MISSING_EXTENSION, EACCES,
				     "server sent no evidence");
	if (hs_compute_binder(ctx, s, &certs[0], binder))
		return -1;
	ret = hs_client_check_evidence(ctx, binder, KATLS_BINDING_L2);
	gnutls_memset(binder, 0, sizeof(binder));
	return ret;
}

/*
 * The evidence in ctx->ev against our binder (v1, or ea v1 after the
 * handshake) and the policy; on success the result's summary and
 * ctx->verified.
 */
int hs_client_check_evidence(struct hs_ctx *ctx, const uint8_t binder[64],
			     unsigned int level)
{
	const struct katlsd_hs_params *p = ctx->p;
	struct katls_verify_opts o = p->vopts;
	const struct katls_merkle_proof *pr = &ctx->ev.proof;
	uint8_t expected[KATLS_REPORT_DATA_LEN];
	struct katls_verdict *v = NULL;
	struct katls_claims c;
	/* issue 14 item 3: the server judges the client's evidence */
	const struct katls_policy *policy = ctx->judging_client ?
		p->client_policy : p->policy;
	const char *policy_name = katls_policy_name(policy);
	struct katlsd_summary *sum;
	int ret = -1;

	if (!policy)
		return hs_fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EINVAL,
				     "no policy to judge the %s's evidence",
				     ctx->judging_client ? "client" : "server");
	if (!katls_policy_allows(policy, ctx->ev.type))
		return hs_fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
				     "policy %s does not allow %s evidence",
				     policy_name,
				     katls_evidence_name(ctx->ev.type));
	/*
	 * The report data the evidence must carry: the binder itself (a
	 * batch of one), or the batch report data of the root that our
	 * binder and the audit path give.
	 */
	ret = katls_batch_expected_report_data(binder, pr, expected);
	if (ret) {
		return hs_fail_alert(ctx, GNUTLS_A_ILLEGAL_PARAMETER, EPROTO,
				     "bad batch proof: %s",
				     katls_merkle_strerror(ret));
	}

	ret = -1;
	v = malloc(sizeof(*v));
	if (!v)
		return hs_fail(ctx, ENOMEM, "out of memory");
	katls_verdict_init(v);
	memset(&c, 0, sizeof(c));
	o.aux = ctx->ev.aux;
	o.aux_len = ctx->ev.aux_len;
	o.expected_report_data = expected;
	ret = hs_verify_evidence(ctx, &ctx->ev, &o, &c, v);
	log_verdict(v);
	if (ret || !v->valid) {
		/*
		 * Tell a relay (evidence bound to another handshake or key)
		 * apart from bad evidence.  All-zero report data means the
		 * verifier could not even parse it.
		 */
		if (!all_zero(c.report_data, sizeof(c.report_data)) &&
		    katls_binder_check(expected, c.report_data,
				       sizeof(c.report_data)))
			not_bound(ctx, binder, c.report_data);
		else
			hs_fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
				      "%s evidence rejected: %s",
				      katls_evidence_name(ctx->ev.type),
				      v->nerrors ? v->errors[0] : "invalid");
		ret = -1;
		goto out;
	}
	/* Belt and braces: the verifier was given expected_report_data. */
	if (c.tee != ctx->ev.type ||
	    katls_batch_check(binder, pr, c.report_data,
			      sizeof(c.report_data))) {
		ret = hs_fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EKEYREJECTED,
				    "evidence is not bound to this handshake");
		goto out;
	}
	if (pr->tree_size > 1)
		kinfo("evidence vouches for a batch: leaf %u of %u",
		      pr->leaf_index, pr->tree_size);
	katls_verdict_init(v);
	ret = katls_policy_eval(policy, &c, v);
	log_verdict(v);
	if (ret) {
		ret = hs_fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
				    "policy %s rejected the %sevidence: %s",
				    policy_name,
				    ctx->judging_client ? "client's " : "",
				    v->nerrors ? v->errors[0] : "rule failed");
		goto out;
	}
	/* the peer's evidence: the server's, or (judging) the client's */
	sum = ctx->judging_client ? &ctx->r->client : &ctx->r->ev;
	sum->evidence_type = c.tee;
	sum->binding_level = level;
	memcpy(sum->digest, c.evidence_digest, sizeof(sum->digest));
	if (c.measurement_len > sizeof(sum->measurement))
		c.measurement_len = sizeof(sum->measurement);
	memcpy(sum->measurement, c.measurement, c.measurement_len);
	sum->measurement_len = c.measurement_len;
	if (ctx->judging_client) {
		snprintf(sum->policy, sizeof(sum->policy), "%s", policy_name);
		ctx->client_verified = true;
	} else {
		ctx->verified = true;
	}
	ret = 0;
out:
	free(v);
	gnutls_memset(expected, 0, sizeof(expected));
	return ret;
}

static int verify_cb(gnutls_session_t s)
{
	struct hs_ctx *ctx = gnutls_session_get_ptr(s);

	return verify_evidence(ctx, s) ? GNUTLS_E_CERTIFICATE_ERROR : 0;
}

static bool is_ip_literal(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	       inet_pton(AF_INET6, name, buf) == 1;
}

int hs_client_setup(gnutls_session_t s, struct hs_ctx *ctx)
{
	const struct katlsd_hs_params *p = ctx->p;
	int ret;

	/*
	 * CA mode needs the name to check (issue 11 item 5): with a
	 * trust store, a CA-valid certificate for any name would do.
	 * Refused before anything is sent.
	 */
	if (!p->evidence_bound_key && p->have_truststore &&
	    !(p->peername && *p->peername))
		return hs_fail(ctx, EINVAL,
			       "no peer name: policy %s uses CA mode, which needs the server name to check",
			       p->policy_name);
	if (!p->client_creds)
		return hs_fail(ctx, EIO, "no client credentials");
	ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
				     p->client_creds);
	if (ret >= 0 && p->peername && *p->peername &&
	    !is_ip_literal(p->peername))
		ret = gnutls_server_name_set(s, GNUTLS_NAME_DNS,
					     p->peername,
					     strlen(p->peername));
	gnutls_session_set_verify_function(s, verify_cb);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY,
					   GNUTLS_HOOK_BOTH,
					   client_hook);
	return ret;
}
