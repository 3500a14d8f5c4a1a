// SPDX-License-Identifier: GPL-2.0
/*
 * handshake.c - the attested TLS 1.3 handshake (Documentation/katlsd.rst).
 *
 * Order of events inside gnutls_handshake() that this file relies on
 * (checked with Debian's GnuTLS 3.7.9; Documentation/design.rst, "The
 * binder (v1)"):
 *
 *   client                              server
 *   ch_send: nonce, accepted types
 *                                       ext_recv: request stored
 *   keylog: CLIENT_HANDSHAKE_TRAFFIC_SECRET (both sides)
 *                                       ee_send: binder v1 -> evidence
 *   ext_recv: evidence stored
 *   verify_cb: X.509, binder, evidence, policy  -- reject => no Finished
 *
 * Every callback records the errno it fails with in the context, so a
 * failure reaches the kernel as the documented status rather than as
 * whatever GnuTLS error code the callback's return value became.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <katls/binder.h>
#include <katls/ext.h>

#include "handshake.h"
#include "log.h"

#define HTSC_LABEL	"CLIENT_HANDSHAKE_TRAFFIC_SECRET"
#define HTSC_MAX	64

/*
 * Failure path (Documentation/katlsd.rst, "Alerts"): how long we wait at
 * most for the peer to acknowledge our alert, and for a peer that sent
 * us a fatal alert to close or reset the connection, before DONE.  Both
 * are also cut short by the request's own deadline (less a margin, so
 * the kernel's timer does not overtake the DONE).
 */
#define ALERT_ACK_WAIT_MS	500
#define PEER_CLOSE_WAIT_MS	1000
#define DEADLINE_MARGIN_MS	100

#ifdef KATLSD_TEST_HOOKS
int (*katlsd_test_verify_hook)(enum katls_evidence_type type,
			       const uint8_t *ev, size_t len,
			       const struct katls_verify_opts *o,
			       struct katls_claims *c,
			       struct katls_verdict *v);
const char *katlsd_test_priority;
#endif

struct hs_ctx {
	const struct katlsd_hs_params *p;
	struct katlsd_hs_result *r;

	uint8_t htsc[HTSC_MAX];
	size_t htsc_len;

	/* client: our request; server: the peer's */
	struct katls_ext_request req;
	bool req_valid;

	/* client: the server's evidence, copied out of GnuTLS's buffer */
	struct katlsd_evidence ev;
	bool ev_received;
	bool verified;

	/* server */
	bool ev_sent;

	/* the alert to send for the first failure; -1: GnuTLS's choice */
	int alert;
	struct timespec deadline;	/* p->timeout_ms from the start */
};

void katlsd_evidence_free(struct katlsd_evidence *ev)
{
	free(ev->evidence);
	free(ev->aux);
	memset(ev, 0, sizeof(*ev));
}

void katlsd_hs_result_wipe(struct katlsd_hs_result *r)
{
	katlsd_keys_wipe(&r->keys);
}

__attribute__((format(printf, 3, 4)))
static int fail(struct hs_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	/* The first failure is the cause; later ones are consequences. */
	if (ctx->r->status)
		return -1;
	ctx->r->status = err;
	va_start(ap, fmt);
	vsnprintf(ctx->r->reason, sizeof(ctx->r->reason), fmt, ap);
	va_end(ap);
	return -1;
}

/* fail() that also chooses the TLS alert the peer gets. */
__attribute__((format(printf, 4, 5)))
static int fail_alert(struct hs_ctx *ctx, gnutls_alert_description_t alert,
		      int err, const char *fmt, ...)
{
	va_list ap;

	if (ctx->r->status)
		return -1;
	ctx->r->status = err;
	ctx->alert = (int)alert;
	va_start(ap, fmt);
	vsnprintf(ctx->r->reason, sizeof(ctx->r->reason), fmt, ap);
	va_end(ap);
	return -1;
}

int katlsd_gnutls_errno(int e)
{
	switch (e) {
	case 0:
		return 0;
	case GNUTLS_E_TIMEDOUT:
		return ETIMEDOUT;
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		return ECONNRESET;
	case GNUTLS_E_CERTIFICATE_ERROR:
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		return EACCES;
	case GNUTLS_E_MEMORY_ERROR:
		return ENOMEM;
	case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
		return ENOKEY;
	default:
		/* alerts, malformed messages, no common parameters */
		return EPROTO;
	}
}

static gnutls_mac_algorithm_t prf_mac(gnutls_session_t s, size_t *len)
{
	switch (gnutls_prf_hash_get(s)) {
	case GNUTLS_DIG_SHA256:
		*len = 32;
		return GNUTLS_MAC_SHA256;
	case GNUTLS_DIG_SHA384:
		*len = 48;
		return GNUTLS_MAC_SHA384;
	default:
		*len = 0;
		return GNUTLS_MAC_UNKNOWN;
	}
}

/* report_data = binder v1 over our htsc, the nonce and the server's SPKI. */
static int compute_binder(struct hs_ctx *ctx, gnutls_session_t s,
			  const gnutls_datum_t *cert_der, uint8_t rd[64])
{
	gnutls_datum_t spki = { 0 };
	gnutls_mac_algorithm_t mac;
	size_t hlen;
	int ret;

	mac = prf_mac(s, &hlen);
	if (mac == GNUTLS_MAC_UNKNOWN)
		return fail(ctx, EPROTO, "unsupported handshake hash");
	if (!ctx->htsc_len || ctx->htsc_len != hlen)
		return fail(ctx, EPROTO,
			    "client handshake traffic secret not available");
	ret = katls_spki_from_cert_der(cert_der->data, cert_der->size, &spki);
	if (ret)
		return fail(ctx, ret == -EINVAL ? EACCES : EIO,
			    "cannot extract the server certificate's key");
	ret = katls_binder_v1(mac, ctx->htsc, ctx->htsc_len, ctx->req.nonce,
			      spki.data, spki.size, rd);
	gnutls_free(spki.data);
	if (ret)
		return fail(ctx, EIO, "binder computation failed (%d)", ret);
	return 0;
}

/* ---- GnuTLS callbacks ---- */

static int keylog_cb(gnutls_session_t s, const char *label,
		     const gnutls_datum_t *secret)
{
	struct hs_ctx *ctx = gnutls_session_get_ptr(s);

	if (strcmp(label, HTSC_LABEL))
		return 0;
	if (secret->size > sizeof(ctx->htsc))
		return fail(ctx, EPROTO, "handshake secret too long"),
		       GNUTLS_E_INTERNAL_ERROR;
	memcpy(ctx->htsc, secret->data, secret->size);
	ctx->htsc_len = secret->size;
	return 0;
}

static int ext_recv(gnutls_session_t s, const unsigned char *data,
		    size_t len)
{
	struct hs_ctx *ctx = gnutls_session_get_ptr(s);
	struct katls_ext_evidence e;
	int ret;

	if (ctx->p->role == KATLS_ROLE_SERVER) {
		/* ClientHello (again, after a HelloRetryRequest) */
		ret = katls_ext_request_decode(data, len, &ctx->req);
		if (ret) {
			fail(ctx, EPROTO, "malformed attestation request: %s",
			     katls_ext_strerror(ret));
			return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
		}
		ctx->req_valid = true;
		return 0;
	}

	/* client: EncryptedExtensions */
	ret = katls_ext_evidence_decode(data, len, &e);
	if (ret) {
		fail(ctx, EPROTO, "malformed evidence record: %s",
		     katls_ext_strerror(ret));
		return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
	}
	katlsd_evidence_free(&ctx->ev);
	ctx->ev.type = e.type;
	ctx->ev.evidence = malloc(e.evidence_len);
	ctx->ev.aux = e.aux_len ? malloc(e.aux_len) : NULL;
	if (!ctx->ev.evidence || (e.aux_len && !ctx->ev.aux)) {
		fail(ctx, ENOMEM, "out of memory for evidence");
		return GNUTLS_E_MEMORY_ERROR;
	}
	memcpy(ctx->ev.evidence, e.evidence, e.evidence_len);
	ctx->ev.evidence_len = e.evidence_len;
	if (e.aux_len)
		memcpy(ctx->ev.aux, e.aux, e.aux_len);
	ctx->ev.aux_len = e.aux_len;
	ctx->ev_received = true;
	return 0;
}

static int client_hello_send(struct hs_ctx *ctx, gnutls_buffer_t buf)
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
		ctx->req.mode = KATLS_EXT_MODE_BINDER_V1;
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if (katls_policy_allows(ctx->p->policy, all[i]))
				ctx->req.types[ctx->req.ntypes++] = all[i];
		if (!ctx->req.ntypes)
			return fail(ctx, EACCES,
				    "policy %s allows no evidence type",
				    ctx->p->policy_name),
			       GNUTLS_E_INTERNAL_ERROR;
		if (gnutls_rnd(GNUTLS_RND_RANDOM, ctx->req.nonce,
			       sizeof(ctx->req.nonce)))
			return fail(ctx, EIO, "no random nonce"),
			       GNUTLS_E_INTERNAL_ERROR;
		ctx->req_valid = true;
	}
	n = katls_ext_request_encode(&ctx->req, out, sizeof(out));
	if (n <= 0)
		return fail(ctx, EIO, "cannot encode request: %s",
			    katls_ext_strerror(n)),
		       GNUTLS_E_INTERNAL_ERROR;
	return gnutls_buffer_append_data(buf, out, n);
}

/*
 * Server: the summary our own application gets -- what we sent.  The
 * evidence is parsed only for its measurement (the kernel's summary needs
 * one); judging it is the peer's job.
 */
static int own_summary(struct hs_ctx *ctx, const struct katlsd_evidence *ev)
{
	struct katls_verify_opts o = ctx->p->vopts;
	struct katls_verdict *v;
	struct katls_claims c;

	v = malloc(sizeof(*v));
	if (!v)
		return fail(ctx, ENOMEM, "out of memory");
	katls_verdict_init(v);
	memset(&c, 0, sizeof(c));
	o.aux = ev->aux;
	o.aux_len = ev->aux_len;
	o.expected_report_data = NULL;
#ifdef KATLSD_TEST_HOOKS
	if (katlsd_test_verify_hook)
		katlsd_test_verify_hook(ev->type, ev->evidence,
					ev->evidence_len, &o, &c, v);
	else
#endif
		katls_verify_evidence(ev->type, ev->evidence, ev->evidence_len,
				      &o, &c, v);
	free(v);
	if (!c.measurement_len || c.measurement_len > sizeof(c.measurement) ||
	    c.measurement_len > sizeof(ctx->r->measurement))
		return fail(ctx, EIO,
			    "no measurement found in our own %s evidence",
			    katls_evidence_name(ev->type));
	ctx->r->evidence_type = ev->type;
	ctx->r->binding_level = KATLS_BINDING_L2;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, ev->evidence, ev->evidence_len,
			 ctx->r->digest);
	memcpy(ctx->r->measurement, c.measurement, c.measurement_len);
	ctx->r->measurement_len = c.measurement_len;
	return 0;
}

static int server_ee_send(gnutls_session_t s, struct hs_ctx *ctx,
			  gnutls_buffer_t buf)
{
	const gnutls_datum_t *ours;
	struct katlsd_evidence ev = { 0 };
	uint8_t rd[KATLS_REPORT_DATA_LEN];
	uint8_t *out = NULL;
	size_t cap;
	int ret, n;

	if (!ctx->req_valid)
		return 0;	/* not asked: GnuTLS does not even call us */
	if (ctx->req.mode != KATLS_EXT_MODE_BINDER_V1)
		return fail(ctx, EOPNOTSUPP,
			    "peer asked for binding mode %u", ctx->req.mode),
		       GNUTLS_E_INTERNAL_ERROR;
	ours = gnutls_certificate_get_ours(s);
	if (!ours)
		return fail(ctx, ENOKEY, "no server certificate selected"),
		       GNUTLS_E_INTERNAL_ERROR;
	if (compute_binder(ctx, s, ours, rd))
		return GNUTLS_E_INTERNAL_ERROR;
	if (!ctx->p->evsrc)
		return fail(ctx, ENODEV, "no evidence source"),
		       GNUTLS_E_INTERNAL_ERROR;

	ret = ctx->p->evsrc->get(ctx->p->evsrc->arg, rd, &ev);
	if (ret < 0) {
		fail(ctx, -ret, "no evidence: %s", strerror(-ret));
		goto out;
	}
	/* Our own policy says which evidence we may present (item 18). */
	if (!katls_policy_allows(ctx->p->policy, ev.type)) {
		fail(ctx, EACCES, "policy %s does not allow presenting %s evidence",
		     ctx->p->policy_name, katls_evidence_name(ev.type));
		goto out;
	}
	if (!katls_ext_request_accepts(&ctx->req, ev.type)) {
		fail(ctx, EACCES, "peer does not accept %s evidence",
		     katls_evidence_name(ev.type));
		goto out;
	}
	if (own_summary(ctx, &ev))
		goto out;
	cap = katls_ext_evidence_size(ev.type, ev.evidence_len, ev.aux_len);
	if (!cap) {
		fail(ctx, EMSGSIZE, "evidence too large for the extension");
		goto out;
	}
	out = malloc(cap);
	if (!out) {
		fail(ctx, ENOMEM, "out of memory");
		goto out;
	}
	n = katls_ext_evidence_encode(ev.type, ev.evidence, ev.evidence_len,
				      ev.aux, ev.aux_len, out, cap);
	if (n <= 0) {
		fail(ctx, EIO, "cannot encode evidence: %s",
		     katls_ext_strerror(n));
		goto out;
	}
	if (gnutls_buffer_append_data(buf, out, n) < 0) {
		fail(ctx, ENOMEM, "out of memory");
		goto out;
	}

	kinfo("sent %s evidence from provider %s (%zu bytes, aux %zu)",
	      katls_evidence_name(ev.type), ev.provider[0] ? ev.provider : "?",
	      ev.evidence_len, ev.aux_len);
	ctx->ev_sent = true;
out:
	free(out);
	katlsd_evidence_free(&ev);
	return ctx->ev_sent ? 0 : GNUTLS_E_INTERNAL_ERROR;
}

static int ext_send(gnutls_session_t s, gnutls_buffer_t buf)
{
	struct hs_ctx *ctx = gnutls_session_get_ptr(s);

	if (ctx->p->role == KATLS_ROLE_CLIENT)
		return client_hello_send(ctx, buf);
	return server_ee_send(s, ctx, buf);
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
	fail_alert(ctx, GNUTLS_A_MISSING_EXTENSION, EPROTO,
		   "peer did not ask for attestation (no katls extension in its ClientHello)");
	return GNUTLS_E_MISSING_EXTENSION;
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

	if (!incoming || when != GNUTLS_HOOK_PRE || ctx->ev_received)
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
	fail_alert(ctx, GNUTLS_A_MISSING_EXTENSION, EACCES,
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
			return fail_alert(ctx, GNUTLS_A_BAD_CERTIFICATE, EACCES,
					  "server certificate does not carry the peer name %s (evidence-bound key under policy %s)",
					  name, ctx->p->policy_name);
		kinfo("policy %s: accepting the server key on the evidence alone%s%s",
		      ctx->p->policy_name, named ? ", name " : "",
		      named ? name : "");
		return 0;
	}
	if (!ctx->p->have_truststore)
		return fail(ctx, EACCES,
			    "no trust store configured and policy %s does not accept evidence-bound keys",
			    ctx->p->policy_name);
	/* CA mode: a CA-valid certificate for any name is not enough. */
	if (!named)
		return fail(ctx, EINVAL,
			    "no peer name: policy %s uses CA mode, which needs the server name to check",
			    ctx->p->policy_name);
	ret = gnutls_certificate_verify_peers3(s, name, &status);
	if (ret < 0)
		return fail(ctx, EACCES, "certificate check failed: %s",
			    gnutls_strerror(ret));
	if (status) {
		if (!gnutls_certificate_verification_status_print(
			    status, GNUTLS_CRT_X509, &txt, 0)) {
			fail(ctx, EACCES, "server certificate: %s", txt.data);
			gnutls_free(txt.data);
			return -1;
		}
		return fail(ctx, EACCES, "server certificate not trusted");
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
 * The client's single decision point: runs with the peer certificate,
 * the evidence and htsc known, before our Finished.  Returning non-zero
 * aborts the handshake.
 */
static int verify_evidence(struct hs_ctx *ctx, gnutls_session_t s)
{
	const struct katlsd_hs_params *p = ctx->p;
	struct katls_verify_opts o = p->vopts;
	const gnutls_datum_t *certs;
	uint8_t expected[KATLS_REPORT_DATA_LEN];
	struct katls_verdict *v = NULL;
	struct katls_claims c;
	unsigned int ncerts = 0;
	int ret = -1;

	if (gnutls_certificate_type_get2(s, GNUTLS_CTYPE_PEERS) !=
	    GNUTLS_CRT_X509)
		return fail(ctx, EACCES, "server did not send an X.509 certificate");
	certs = gnutls_certificate_get_peers(s, &ncerts);
	if (!certs || !ncerts)
		return fail(ctx, EACCES, "server sent no certificate");
	if (check_x509(ctx, s, &certs[0]))
		return -1;
	if (!ctx->ev_received)
		return fail_alert(ctx, GNUTLS_A_MISSING_EXTENSION, EACCES,
				  "server sent no evidence");
	if (!katls_policy_allows(p->policy, ctx->ev.type))
		return fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
				  "policy %s does not allow %s evidence",
				  p->policy_name,
				  katls_evidence_name(ctx->ev.type));
	if (compute_binder(ctx, s, &certs[0], expected))
		return -1;

	v = malloc(sizeof(*v));
	if (!v)
		return fail(ctx, ENOMEM, "out of memory");
	katls_verdict_init(v);
	memset(&c, 0, sizeof(c));
	o.aux = ctx->ev.aux;
	o.aux_len = ctx->ev.aux_len;
	o.expected_report_data = expected;
#ifdef KATLSD_TEST_HOOKS
	if (katlsd_test_verify_hook)
		ret = katlsd_test_verify_hook(ctx->ev.type, ctx->ev.evidence,
					      ctx->ev.evidence_len, &o, &c, v);
	else
#endif
		ret = katls_verify_evidence(ctx->ev.type, ctx->ev.evidence,
					    ctx->ev.evidence_len, &o, &c, v);
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
			fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EKEYREJECTED,
				   "%s evidence is not bound to this handshake",
				   katls_evidence_name(ctx->ev.type));
		else
			fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
				   "%s evidence rejected: %s",
				   katls_evidence_name(ctx->ev.type),
				   v->nerrors ? v->errors[0] : "invalid");
		ret = -1;
		goto out;
	}
	/* Belt and braces: the verifier was given expected_report_data. */
	if (c.tee != ctx->ev.type ||
	    katls_binder_check(expected, c.report_data, sizeof(c.report_data))) {
		ret = fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EKEYREJECTED,
				 "evidence is not bound to this handshake");
		goto out;
	}
	katls_verdict_init(v);
	ret = katls_policy_eval(p->policy, &c, v);
	log_verdict(v);
	if (ret) {
		ret = fail_alert(ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
				 "policy %s rejected the evidence: %s",
				 p->policy_name,
				 v->nerrors ? v->errors[0] : "rule failed");
		goto out;
	}

	ctx->r->evidence_type = c.tee;
	ctx->r->binding_level = KATLS_BINDING_L2;
	memcpy(ctx->r->digest, c.evidence_digest, sizeof(ctx->r->digest));
	if (c.measurement_len > sizeof(ctx->r->measurement))
		c.measurement_len = sizeof(ctx->r->measurement);
	memcpy(ctx->r->measurement, c.measurement, c.measurement_len);
	ctx->r->measurement_len = c.measurement_len;
	ctx->verified = true;
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

/* ---- the handshake ---- */

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static void deadline_in(struct timespec *deadline, unsigned int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += timeout_ms / 1000;
	deadline->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline->tv_nsec >= 1000000000) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000;
	}
}

/* Works on blocking and non-blocking sockets (the application's choice). */
static int run_handshake(gnutls_session_t s, int fd, unsigned int timeout_ms,
			 const struct timespec *deadline)
{
	int ret;

	for (;;) {
		struct pollfd pfd = { .fd = fd };
		long left;

		ret = gnutls_handshake(s);
		if (ret >= 0 || gnutls_error_is_fatal(ret))
			return ret;
		if (ret != GNUTLS_E_AGAIN)
			continue;	/* GNUTLS_E_INTERRUPTED, warning alerts */
		left = timeout_ms ? ms_left(deadline) : -1;
		if (timeout_ms && left <= 0)
			return GNUTLS_E_TIMEDOUT;
		/* privsep hook: a transport that blocks by itself, no fd */
		if (fd < 0)
			continue;
		pfd.events = gnutls_record_get_direction(s) ? POLLOUT : POLLIN;
		if (poll(&pfd, 1, (int)left) == 0)
			return GNUTLS_E_TIMEDOUT;
	}
}

/* ---- the failure path: alert first, then DONE (issue 11 item 20) ---- */

/* How long the failure path may still wait: ms left, or -1 for no deadline. */
static long wait_left(const struct hs_ctx *ctx)
{
	long left;

	if (!ctx->p->timeout_ms)
		return -1;
	left = ms_left(&ctx->deadline);
	return left < 0 ? 0 : left;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Is the connection gone (reset, or closed both ways)? */
static bool conn_gone(int fd)
{
	struct pollfd pfd = { .fd = fd };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR));
}

/*
 * Wait until the peer has acknowledged every byte we sent (SIOCOUTQ:
 * sent but unacknowledged plus unsent; for the host tests' AF_UNIX
 * pairs: not yet read), or the connection is gone, or the bound ran out.
 */
static void settle_acked(int fd, long bound)
{
	struct timespec end;
	int queued = 0;

	deadline_in(&end, (unsigned int)bound);
	while (!ioctl(fd, SIOCOUTQ, &queued) && queued > 0 && !conn_gone(fd)) {
		if (ms_left(&end) <= 0) {
			kdebug("alert: %d bytes still unacknowledged at the bound",
			       queued);
			return;
		}
		sleep_ms(1);
	}
}

/*
 * The peer aborted with an alert.  If it is katlsd, its kernel resets
 * the connection as soon as it has reported its own, precise status;
 * reporting ours first would make our kernel reset the connection while
 * the peer may still be between its alert and its DONE, and the peer
 * would then see ECONNRESET instead of its own status.  So wait, bounded,
 * for the peer to close or reset the connection (a stock TLS peer closes
 * after its alert), discarding anything else it sends unread.
 */
static void settle_peer_closed(int fd, long bound)
{
	struct timespec end;

	deadline_in(&end, (unsigned int)bound);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };
		long left = ms_left(&end);
		char sink[512];

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return;
		if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
			return;
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			return;
	}
}

/**
 * katlsd_settle() - let the failure reach the peer before DONE resets it
 * @fd: the TCP socket (the process that holds it: the worker, or the
 *	privilege-separated monitor for its sandbox)
 * @how: what the failed handshake left to wait for (r->settle)
 * @left_ms: ms until the request's deadline, or -1 without one
 *
 * DONE makes the kernel reset the connection at once and drop whatever
 * is still queued.  Every wait is bounded (ALERT_ACK_WAIT_MS,
 * PEER_CLOSE_WAIT_MS, and the deadline less DEADLINE_MARGIN_MS), and
 * nothing but the alert was sent, so fail-closed is unchanged.
 */
void katlsd_settle(int fd, enum katlsd_settle how, long left_ms)
{
	long cap = how == KATLSD_SETTLE_ACKED ? ALERT_ACK_WAIT_MS :
		   PEER_CLOSE_WAIT_MS;

	if (fd < 0 || how == KATLSD_SETTLE_NONE)
		return;
	if (left_ms >= 0) {
		left_ms -= DEADLINE_MARGIN_MS;
		if (left_ms < cap)
			cap = left_ms < 0 ? 0 : left_ms;
	}
	if (how == KATLSD_SETTLE_ACKED)
		settle_acked(fd, cap);
	else
		settle_peer_closed(fd, cap);
}

/*
 * Send our alert.  The socket's holder then waits for the peer's
 * acknowledgement before DONE (katlsd_settle): here when we hold it,
 * in the privilege-separated monitor otherwise.
 */
static void send_alert(struct hs_ctx *ctx, gnutls_session_t s, int gnutls_err)
{
	int fd = ctx->p->fd, one = 1, ret;
	long left = wait_left(ctx);
	struct timespec end;

	deadline_in(&end, (unsigned int)(left >= 0 && left < ALERT_ACK_WAIT_MS ?
					 left : ALERT_ACK_WAIT_MS));
	/*
	 * Nagle would hold the small alert back while our last flight is
	 * unacknowledged, and the reset would then purge it.  Best effort:
	 * not a TCP socket (the host tests), nothing to push; the monitor
	 * sets it for its sandbox.
	 */
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		if (ctx->alert >= 0)
			ret = gnutls_alert_send(s, GNUTLS_AL_FATAL,
						(gnutls_alert_description_t)ctx->alert);
		else
			ret = gnutls_alert_send_appropriate(s, gnutls_err);
		if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED)
			break;
		/* a non-blocking socket with a full send buffer */
		if (ms_left(&end) <= 0)
			return;
		sleep_ms(1);
	}
	if (ret < 0) {
		kdebug("alert not sent: %s", gnutls_strerror(ret));
		return;
	}
	ctx->r->settle = KATLSD_SETTLE_ACKED;
}

/*
 * A failure after the session started: the alert (unless the peer sent
 * one, or the connection is already gone), then the early report.
 */
static void fail_connection(struct hs_ctx *ctx, gnutls_session_t s,
			    int gnutls_err)
{
	switch (gnutls_err) {
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		ctx->r->settle = KATLSD_SETTLE_PEER_CLOSED;
		break;
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_TIMEDOUT:
		break;
	default:
		send_alert(ctx, s, gnutls_err);
		break;
	}
	/* Without a transport we hold the socket: settle it here. */
	if (!ctx->p->transport)
		katlsd_settle(ctx->p->fd, ctx->r->settle, wait_left(ctx));
	if (ctx->p->on_failure)
		ctx->p->on_failure(ctx->p->on_failure_arg, ctx->r);
}

static bool is_ip_literal(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	       inet_pton(AF_INET6, name, buf) == 1;
}

static int setup_session(gnutls_session_t s, struct hs_ctx *ctx)
{
	const struct katlsd_hs_params *p = ctx->p;
	const char *prio = KATLSD_PRIORITY, *errpos = NULL;
	int ret;

	gnutls_session_set_ptr(s, ctx);
#ifdef KATLSD_TEST_HOOKS
	if (katlsd_test_priority)
		prio = katlsd_test_priority;
#endif
	ret = gnutls_priority_set_direct(s, prio, &errpos);
	if (ret < 0)
		return fail(ctx, EIO, "priority string rejected at \"%s\"",
			    errpos ? errpos : "?");
	gnutls_session_set_keylog_function(s, keylog_cb);
	ret = gnutls_session_ext_register(s, KATLS_EXT_NAME, KATLS_EXT_TYPE,
					  GNUTLS_EXT_TLS, ext_recv, ext_send,
					  NULL, NULL, NULL,
					  GNUTLS_EXT_FLAG_TLS |
					  GNUTLS_EXT_FLAG_CLIENT_HELLO |
					  GNUTLS_EXT_FLAG_EE);
	if (ret < 0)
		return fail(ctx, EIO, "cannot register the extension: %s",
			    gnutls_strerror(ret));

	/* Both roles evaluate the policy they name (issue 11 item 18). */
	if (!p->policy)
		return fail(ctx, EINVAL, "unknown policy \"%s\"",
			    p->policy_name ? p->policy_name : "");
	if (p->role == KATLS_ROLE_SERVER) {
		if (!p->server_creds)
			return fail(ctx, ENOKEY,
				    "no server certificate configured");
		ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
					     p->server_creds);
		/* Mutual attestation is not implemented: no client cert. */
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
		gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY,
						   GNUTLS_HOOK_BOTH,
						   server_hook);
	} else {
		/*
		 * CA mode needs the name to check (issue 11 item 5): with a
		 * trust store, a CA-valid certificate for any name would do.
		 * Refused before anything is sent.
		 */
		if (!p->evidence_bound_key && p->have_truststore &&
		    !(p->peername && *p->peername))
			return fail(ctx, EINVAL,
				    "no peer name: policy %s uses CA mode, which needs the server name to check",
				    p->policy_name);
		if (!p->client_creds)
			return fail(ctx, EIO, "no client credentials");
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
	}
	if (ret < 0)
		return fail(ctx, EIO, "session setup: %s", gnutls_strerror(ret));
	/* privsep hook (issue 11 item 7): the sandbox has no socket */
	if (p->transport) {
		gnutls_transport_set_ptr(s, p->transport->ptr);
		gnutls_transport_set_push_function(s, p->transport->push);
		gnutls_transport_set_pull_function(s, p->transport->pull);
		gnutls_transport_set_pull_timeout_function(
			s, p->transport->pull_timeout);
	} else {
		gnutls_transport_set_int(s, p->fd);
	}
	if (p->timeout_ms)
		gnutls_handshake_set_timeout(s, p->timeout_ms);
	return 0;
}

int katlsd_handshake(const struct katlsd_hs_params *p,
		     struct katlsd_hs_result *r)
{
	struct hs_ctx ctx = { .p = p, .r = r, .alert = -1 };
	gnutls_session_t s = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	deadline_in(&ctx.deadline, p->timeout_ms);
	/*
	 * The policy reported back (KATLS_RESULT) is the one evaluated: an
	 * unknown name fails below with EINVAL in either role.
	 */
	if (p->policy_name)
		snprintf(r->policy, sizeof(r->policy), "%s", p->policy_name);
	if (p->role != KATLS_ROLE_CLIENT && p->role != KATLS_ROLE_SERVER) {
		fail(&ctx, EINVAL, "unknown role %d", p->role);
		goto out;
	}
	ret = gnutls_init(&s, (p->role == KATLS_ROLE_SERVER ? GNUTLS_SERVER :
			       GNUTLS_CLIENT) | GNUTLS_NO_SIGNAL);
	if (ret < 0) {
		s = NULL;
		fail(&ctx, ENOMEM, "gnutls_init: %s", gnutls_strerror(ret));
		goto out;
	}
	if (setup_session(s, &ctx))
		goto out;

	ret = run_handshake(s, p->transport ? -1 : p->fd, p->timeout_ms,
			    &ctx.deadline);
	if (ret < 0) {
		if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
			fail(&ctx, EPROTO, "peer aborted the handshake: %s",
			     gnutls_alert_get_name(gnutls_alert_get(s)));
		else
			fail(&ctx, katlsd_gnutls_errno(ret), "handshake: %s",
			     gnutls_strerror(ret));
		fail_connection(&ctx, s, ret);
		goto out;
	}

	/* Fail closed on anything that would make the hand-over unsound. */
	if (gnutls_protocol_get_version(s) != GNUTLS_TLS1_3)
		fail_alert(&ctx, GNUTLS_A_PROTOCOL_VERSION, EPROTO,
			   "not TLS 1.3");
	else if (p->role == KATLS_ROLE_CLIENT && !ctx.verified)
		fail_alert(&ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
			   "evidence was never verified");
	else if (p->role == KATLS_ROLE_SERVER && !ctx.ev_sent)
		fail_alert(&ctx, GNUTLS_A_MISSING_EXTENSION, EPROTO,
			   "peer did not ask for attestation");
	else if (gnutls_record_check_pending(s))
		fail_alert(&ctx, GNUTLS_A_UNEXPECTED_MESSAGE, EPROTO,
			   "records buffered in GnuTLS; kTLS cannot take them over");
	else if ((ret = katlsd_ktls_keys(s, &r->keys)) < 0)
		fail_alert(&ctx, GNUTLS_A_INTERNAL_ERROR, -ret,
			   "cannot export the traffic keys");
	if (r->status) {
		fail_connection(&ctx, s, GNUTLS_E_INTERNAL_ERROR);
		goto out;
	}
	kinfo("handshake done: %s, %s evidence, policy %s",
	      gnutls_cipher_get_name(gnutls_cipher_get(s)),
	      katls_evidence_name(r->evidence_type), r->policy);
out:
	if (r->status)
		katlsd_keys_wipe(&r->keys);
	if (s)
		gnutls_deinit(s);
	gnutls_memset(ctx.htsc, 0, sizeof(ctx.htsc));
	katlsd_evidence_free(&ctx.ev);
	return r->status;
}
