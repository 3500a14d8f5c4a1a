// SPDX-License-Identifier: GPL-2.0
/*
 * server.c - the attester's half of the handshake (Documentation/katlsd.rst):
 * the client's attestation request, evidence bound to this handshake
 * (binder v1, Documentation/design.rst) in our EncryptedExtensions, only
 * of a type our own policy allows, and the summary our application gets.
 * The evidence source may vouch for a batch of binders (binder v1 batch
 * mode, Documentation/binder.rst); its proof goes into the record.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <katls/binder.h>
#include <katls/ext.h>
#include <katls/merkle.h>

#include "hs_int.h"
#include "log.h"

/* ClientHello (again, after a HelloRetryRequest): the peer's request. */
int hs_server_ext_recv(struct hs_ctx *ctx, const unsigned char *data,
		       size_t len)
{
	int ret;

	ret = katls_ext_request_decode(data, len, &ctx->req);
	if (ret) {
		hs_fail(ctx, EPROTO, "malformed attestation request: %s",
			katls_ext_strerror(ret));
		return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
	}
	ctx->req_valid = true;
	return 0;
}

/*
 * Server: the summary our own application gets -- what we sent.  The
 * evidence is parsed only for its measurement (the kernel's summary needs
 * one); judging it is the peer's job.
 */
static int own_summary(struct hs_ctx *ctx, const struct katlsd_evidence *ev,
		       unsigned int level)
{
	struct katls_verify_opts o = ctx->p->vopts;
	struct katlsd_summary *sum;
	struct katls_verdict *v;
	struct katls_claims c;

	v = malloc(sizeof(*v));
	if (!v)
		return hs_fail(ctx, ENOMEM, "out of memory");
	katls_verdict_init(v);
	memset(&c, 0, sizeof(c));
	o.aux = ev->aux;
	o.aux_len = ev->aux_len;
	o.expected_report_data = NULL;
	hs_verify_evidence(ctx, ev, &o, &c, v);
	free(v);
	if (!c.measurement_len || c.measurement_len > sizeof(c.measurement) ||
	    c.measurement_len > sizeof(ctx->r->ev.measurement))
		return hs_fail(ctx, EIO,
			       "no measurement found in our own %s evidence",
			       katls_evidence_name(ev->type));
	/* issue 14 item 3: a client's own evidence goes in its own block */
	sum = ctx->attesting_client ? &ctx->r->client : &ctx->r->ev;
	sum->evidence_type = ev->type;
	sum->binding_level = level;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, ev->evidence, ev->evidence_len,
			 sum->digest);
	memcpy(sum->measurement, c.measurement, c.measurement_len);
	sum->measurement_len = c.measurement_len;
	if (ctx->attesting_client)
		snprintf(sum->policy, sizeof(sum->policy), "%s",
			 ctx->p->policy_name ? ctx->p->policy_name : "");
	return 0;
}

/*
 * Evidence that vouches for @binder (binder v1 in EncryptedExtensions, or
 * binder ea v1 in an Exported Authenticator, post.c), checked against our
 * policy and the peer's request, as a KatlsEvidence record (*rec,
 * malloc'd).  Returns 0 or a positive errno after hs_fail().
 */
int hs_server_evidence_record(struct hs_ctx *ctx, const uint8_t binder[64],
			      unsigned int level, uint8_t **rec, size_t *len)
{
	struct katlsd_evidence ev = { 0 };
	uint8_t rd[KATLS_REPORT_DATA_LEN];
	uint8_t *out = NULL;
	size_t cap;
	int ret, n;

	*rec = NULL;
	*len = 0;
	if (!ctx->p->evsrc)
		return hs_fail(ctx, ENODEV, "no evidence source"), ENODEV;

	ret = ctx->p->evsrc->get(ctx->p->evsrc->arg, binder, &ev);
	if (ret < 0) {
		hs_fail(ctx, -ret, "no evidence: %s", strerror(-ret));
		goto out;
	}
	/* A source that does not batch: its report data is our binder. */
	if (!ev.proof.tree_size)
		katls_merkle_proof_single(&ev.proof);
	/*
	 * Never send a proof the peer must refuse: it is well formed and
	 * gives report data for our binder.  (Whether the evidence carries
	 * that report data is the peer's check.)
	 */
	ret = katls_batch_expected_report_data(binder, &ev.proof, rd);
	if (ret) {
		hs_fail(ctx, EIO, "evidence source returned a bad batch proof: %s",
			katls_merkle_strerror(ret));
		goto out;
	}
	/* Our own policy says which evidence we may present (item 18). */
	if (!katls_policy_allows(ctx->p->policy, ev.type)) {
		hs_fail(ctx, EACCES, "policy %s does not allow presenting %s evidence",
			ctx->p->policy_name, katls_evidence_name(ev.type));
		goto out;
	}
	if (!katls_ext_request_accepts(&ctx->req, ev.type)) {
		hs_fail(ctx, EACCES, "peer does not accept %s evidence",
			katls_evidence_name(ev.type));
		goto out;
	}
	if (own_summary(ctx, &ev, level))
		goto out;
	cap = katls_ext_evidence_size_batch(ev.type, ev.evidence_len,
					    ev.aux_len, &ev.proof);
	if (!cap) {
		hs_fail(ctx, EMSGSIZE, "evidence too large for the extension");
		goto out;
	}
	out = malloc(cap);
	if (!out) {
		hs_fail(ctx, ENOMEM, "out of memory");
		goto out;
	}
	n = katls_ext_evidence_encode_batch(ev.type, ev.evidence,
					    ev.evidence_len, ev.aux,
					    ev.aux_len, &ev.proof, out, cap);
	if (n <= 0) {
		hs_fail(ctx, EIO, "cannot encode evidence: %s",
			katls_ext_strerror(n));
		goto out;
	}
	kinfo("%s %s evidence from provider %s (%zu bytes, aux %zu, leaf %u of %u)",
	      level == KATLS_BINDING_L3 ? "post-handshake:" : "sent",
	      katls_evidence_name(ev.type), ev.provider[0] ? ev.provider : "?",
	      ev.evidence_len, ev.aux_len, ev.proof.leaf_index,
	      ev.proof.tree_size);
	*rec = out;
	*len = n;
	out = NULL;
out:
	free(out);
	katlsd_evidence_free(&ev);
	gnutls_memset(rd, 0, sizeof(rd));
	if (!*rec && !ctx->r->status)
		hs_fail(ctx, EIO, "no evidence record");
	return *rec ? 0 : ctx->r->status;
}

int hs_server_ext_send(gnutls_session_t s, struct hs_ctx *ctx,
		       gnutls_buffer_t buf)
{
	const gnutls_datum_t *ours;
	uint8_t binder[KATLS_REPORT_DATA_LEN];
	uint8_t *rec = NULL;
	size_t len = 0;
	int want;

	if (!ctx->req_valid)
		return 0;	/* not asked: GnuTLS does not even call us */
	/* Both roles' policies name the binding; they must agree (issue 14). */
	want = hs_policy_mode(ctx->p->policy);
	if (ctx->req.mode != want)
		return hs_fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
			       "peer asked for binding %s, policy %s says %s",
			       hs_mode_name(ctx->req.mode), ctx->p->policy_name,
			       hs_mode_name(want)),
		       GNUTLS_E_INTERNAL_ERROR;
	/* binding = post: an empty body says "accepted"; evidence later */
	if (ctx->req.mode == KATLS_EXT_MODE_POST_V1)
		return GNUTLS_E_INT_RET_0;
	ours = gnutls_certificate_get_ours(s);
	if (!ours)
		return hs_fail(ctx, ENOKEY, "no server certificate selected"),
		       GNUTLS_E_INTERNAL_ERROR;
	if (hs_compute_binder(ctx, s, ours, binder))
		return GNUTLS_E_INTERNAL_ERROR;
	if (hs_server_evidence_record(ctx, binder, KATLS_BINDING_L2, &rec,
				      &len)) {
		gnutls_memset(binder, 0, sizeof(binder));
		return GNUTLS_E_INTERNAL_ERROR;
	}
	gnutls_memset(binder, 0, sizeof(binder));
	if (gnutls_buffer_append_data(buf, rec, len) < 0) {
		free(rec);
		return hs_fail(ctx, ENOMEM, "out of memory"),
		       GNUTLS_E_INTERNAL_ERROR;
	}
	free(rec);
	/* binding = both: the post-handshake exchange must still succeed */
	ctx->ev_sent = ctx->req.mode == KATLS_EXT_MODE_BINDER_V1;
	return 0;
}

/*
 * Server hook, all messages:
 *
 *  - after an incoming ClientHello was processed (extensions included):
 *    no katls extension, refuse right away, before our ServerHello, so
 *    the alert goes out in plaintext and any TLS client can read it
 *    (missing_extension).  An attester never completes a handshake that
 *    carries no attestation.
 *  - before our EncryptedExtensions: the same check, belt and braces.
 */
static int server_hook(gnutls_session_t s, unsigned int htype,
		       unsigned int when, unsigned int incoming,
		       const gnutls_datum_t *msg)
{
	struct hs_ctx *ctx = gnutls_session_get_ptr(s);
	bool after_ch = incoming && when == GNUTLS_HOOK_POST &&
			htype == GNUTLS_HANDSHAKE_CLIENT_HELLO;
	bool before_ee = !incoming && when == GNUTLS_HOOK_PRE &&
			 htype == GNUTLS_HANDSHAKE_ENCRYPTED_EXTENSIONS;

	if ((!after_ch && !before_ee) || ctx->req_valid)
		return 0;
	hs_fail_alert(ctx, GNUTLS_A_MISSING_EXTENSION, EPROTO,
		      "peer did not ask for attestation (no katls extension in its ClientHello)");
	return GNUTLS_E_MISSING_EXTENSION;
}

int hs_server_setup(gnutls_session_t s, struct hs_ctx *ctx)
{
	const struct katlsd_hs_params *p = ctx->p;
	int ret;

	if (!p->server_creds)
		return hs_fail(ctx, ENOKEY,
			       "no server certificate configured");
	ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
				     p->server_creds);
	/*
	 * Mutual attestation (issue 14 item 3): the client attests after
	 * the handshake, with an Exported Authenticator (post.c).  Our
	 * CertificateRequest in the handshake only tells a katls client to
	 * expect our authenticator request; an empty client Certificate is
	 * what we expect (a handshake certificate would carry no evidence:
	 * GnuTLS cannot put an extension into its CertificateEntry), and
	 * whether it is empty or not, nothing in it is trusted.
	 */
	gnutls_certificate_server_set_request(s,
		katls_policy_client_evidence(p->policy) ? GNUTLS_CERT_REQUEST :
		GNUTLS_CERT_IGNORE);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY,
					   GNUTLS_HOOK_BOTH,
					   server_hook);
	return ret;
}
