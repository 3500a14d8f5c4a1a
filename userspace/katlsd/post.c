// SPDX-License-Identifier: GPL-2.0
/*
 * post.c - post-handshake attestation over the established GnuTLS
 * session: the RFC 9261 exchange of katls/ea.h in katls frames, as a
 * state machine (post.h) with a blocking driver, and its glue into the
 * handshake (hs_post_exchange(), hs_int.h).
 *
 * Invariants:
 *  - the verifier sends one request frame, reads one authenticator frame
 *    and, once everything verified, sends one accept frame; the attester
 *    reads the request, sends the authenticator and reads the accept
 *    frame.  Nothing else is read or written before the keys are
 *    exported, and RECV never asks for more than the frame still needs.
 *    The accept frame lets the attester's gate open only when the
 *    verifier has accepted (a refusal reaches it as an alert);
 *  - the verifier's gate result is set only after the authenticator, the
 *    binder, the evidence and the policy all passed;
 *  - every exporter-derived value is wiped (katls_ea_keys_wipe, memset).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <katls/binder.h>
#include <katls/ea.h>
#include <katls/ext.h>

#include "hs_int.h"
#include "log.h"
#include "post.h"

enum state {
	ST_SEND_REQUEST,	/* verifier */
	ST_RECV_AUTH_HDR,
	ST_RECV_AUTH,
	ST_RECV_REQ_HDR,	/* attester */
	ST_RECV_REQ,
	ST_EVIDENCE,
	ST_SEND_AUTH,
	ST_RECV_ACC_HDR,
	ST_RECV_ACC,
	ST_SEND_ACCEPT,		/* verifier */
	ST_SEND_REFUSAL,	/* attester (client direction): empty authenticator */
	ST_DONE,
	ST_FAILED,
};

struct katlsd_post {
	struct katlsd_post_cfg cfg;
	enum state st;
	struct katls_ea_request req;
	uint8_t req_raw[KATLS_EA_REQUEST_MAX];
	size_t req_len;
	uint8_t binder[KATLS_EA_REPORT_DATA_LEN];
	/* verifier, client direction: the key of the client's authenticator */
	gnutls_datum_t peer_spki;
	/* attester: why it refused (ST_SEND_REFUSAL) */
	int refuse_err;

	uint8_t *out;		/* frame being sent */
	size_t out_len, out_off;
	uint8_t hdr[KATLS_EA_FRAME_HDR_LEN];
	uint8_t *in;		/* frame body being received */
	size_t in_len, in_off;

	int err;		/* positive errno */
	int alert;		/* -1: none chosen */
	char reason[200];
};

__attribute__((format(printf, 4, 5)))
static void fail(struct katlsd_post *m, int err, int alert,
		 const char *fmt, ...)
{
	va_list ap;

	if (m->st == ST_FAILED)
		return;
	m->st = ST_FAILED;
	m->err = err;
	m->alert = alert;
	va_start(ap, fmt);
	vsnprintf(m->reason, sizeof(m->reason), fmt, ap);
	va_end(ap);
}

/*
 * The request of each direction (RFC 9261 4): the client asks the server
 * with ClientCertificateRequest, the server asks the client (mutual
 * attestation, issue 14 item 3) with CertificateRequest.
 */
static uint8_t req_type(const struct katlsd_post *m)
{
	return m->cfg.from_client ? KATLS_EA_HS_CERTIFICATE_REQUEST :
	       KATLS_EA_HS_CLIENT_CERTIFICATE_REQUEST;
}

static enum katls_ea_sender sender(const struct katlsd_post *m)
{
	return m->cfg.from_client ? KATLS_EA_FROM_CLIENT : KATLS_EA_FROM_SERVER;
}

struct katlsd_post *katlsd_post_new(const struct katlsd_post_cfg *cfg)
{
	struct katlsd_post *m;
	int n;

	if (!cfg || !cfg->session ||
	    ((!cfg->spki || !cfg->spki_len) &&
	     (cfg->attester || !cfg->from_client)) ||
	    (cfg->attester && (!cfg->cert_der || !cfg->cert_len || !cfg->key)) ||
	    (!cfg->attester && !cfg->verify)) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->alert = -1;
	if (cfg->attester) {
		m->st = ST_RECV_REQ_HDR;
		return m;
	}
	/* the verifier's request: a fresh 32-byte context */
	if (katls_ea_request_new(req_type(m), &m->req)) {
		fail(m, EIO, GNUTLS_A_INTERNAL_ERROR, "no random request context");
		return m;
	}
	n = katls_ea_request_encode(&m->req, m->req_raw, sizeof(m->req_raw));
	if (n <= 0) {
		fail(m, EIO, GNUTLS_A_INTERNAL_ERROR,
		     "cannot encode the authenticator request: %s",
		     katls_ea_strerror(n));
		return m;
	}
	m->req_len = n;
	m->out = malloc(KATLS_EA_FRAME_HDR_LEN + m->req_len);
	if (!m->out) {
		fail(m, ENOMEM, GNUTLS_A_INTERNAL_ERROR, "out of memory");
		return m;
	}
	katls_ea_frame_hdr(KATLS_EA_FRAME_REQUEST, m->req_len, m->out);
	memcpy(m->out + KATLS_EA_FRAME_HDR_LEN, m->req_raw, m->req_len);
	m->out_len = KATLS_EA_FRAME_HDR_LEN + m->req_len;
	m->st = ST_SEND_REQUEST;
	return m;
}

void katlsd_post_free(struct katlsd_post *m)
{
	if (!m)
		return;
	free(m->out);
	free(m->in);
	gnutls_free(m->peer_spki.data);
	gnutls_memset(m, 0, sizeof(*m));
	free(m);
}

const uint8_t *katlsd_post_binder(const struct katlsd_post *m)
{
	return m->binder;
}

int katlsd_post_refused(const struct katlsd_post *m, const char **reason)
{
	if (reason)
		*reason = m->reason;
	return m->refuse_err;
}

const uint8_t *katlsd_post_context(const struct katlsd_post *m, size_t *len)
{
	*len = m->req.ctx_len;
	return m->req.ctx;
}

int katlsd_post_error(const struct katlsd_post *m, const char **reason,
		      int *alert)
{
	if (reason)
		*reason = m->reason;
	if (alert)
		*alert = m->alert;
	return m->st == ST_FAILED ? m->err : 0;
}

/* binder ea v1 over the request context, the attester's key, the session */
static int compute_binder(struct katlsd_post *m)
{
	uint8_t bind[KATLS_EA_BIND_LEN];
	int ret;

	const uint8_t *spki = m->cfg.spki;
	size_t spki_len = m->cfg.spki_len;

	if (m->peer_spki.data) {
		spki = m->peer_spki.data;
		spki_len = m->peer_spki.size;
	}
	ret = katls_ea_bind_exporter(m->cfg.session, m->req.ctx,
				     m->req.ctx_len, bind);
	if (!ret)
		ret = katls_ea_binder(m->req.ctx, m->req.ctx_len, spki,
				      spki_len, bind, m->binder);
	gnutls_memset(bind, 0, sizeof(bind));
	if (ret)
		fail(m, EIO, GNUTLS_A_INTERNAL_ERROR,
		     "binder ea v1: %s", katls_ea_strerror(ret));
	return ret;
}

/* Attester: the request frame is in. */
static void got_request(struct katlsd_post *m)
{
	int ret;

	ret = katls_ea_request_decode(m->in, m->in_len, &m->req);
	if (!ret && m->req.type != req_type(m))
		ret = KATLS_EA_E_MSG_TYPE;
	if (!ret && !m->req.cmw_offered)
		ret = KATLS_EA_E_NO_CMW_OFFER;
	if (ret) {
		fail(m, EPROTO, ret == KATLS_EA_E_NO_CMW_OFFER ?
		     GNUTLS_A_MISSING_EXTENSION : GNUTLS_A_DECODE_ERROR,
		     "bad authenticator request: %s", katls_ea_strerror(ret));
		return;
	}
	memcpy(m->req_raw, m->in, m->in_len);
	m->req_len = m->in_len;
	if (compute_binder(m))
		return;
	m->st = ST_EVIDENCE;
}

void katlsd_post_evidence(struct katlsd_post *m, const uint8_t *rec,
			  size_t len, int err, const char *reason)
{
	struct katls_ea_keys k;
	uint8_t *auth = NULL;
	size_t alen = 0;
	int ret;

	if (m->st != ST_EVIDENCE)
		return;
	if ((err || !rec || !len) && m->cfg.from_client) {
		/*
		 * A client that cannot or will not attest says so with the
		 * empty authenticator (RFC 9261 5.2.4), so that the server
		 * fails closed for the right reason, then fails itself.
		 */
		snprintf(m->reason, sizeof(m->reason), "no evidence for the server: %s",
			 reason ? reason : "?");
		m->refuse_err = err ? err : EIO;
		ret = katls_ea_keys_from_session(m->cfg.session, sender(m), &k);
		if (!ret)
			ret = katls_ea_empty_authenticator_create(
				&k, m->req_raw, m->req_len, &auth, &alen);
		katls_ea_keys_wipe(&k);
		if (ret) {
			fail(m, m->refuse_err, GNUTLS_A_ACCESS_DENIED, "%s",
			     m->reason);
			return;
		}
		goto frame;
	}
	if (err || !rec || !len) {
		fail(m, err ? err : EIO, -1, "no evidence: %s",
		     reason ? reason : "?");
		return;
	}
	ret = katls_ea_keys_from_session(m->cfg.session, sender(m), &k);
	if (!ret)
		ret = katls_ea_authenticator_create(&k, m->req_raw, m->req_len,
						    &m->req, m->cfg.cert_der,
						    m->cfg.cert_len,
						    m->cfg.key, rec, len,
						    &auth, &alen);
	katls_ea_keys_wipe(&k);
	if (ret) {
		fail(m, ret == KATLS_EA_E_SCHEME ? EACCES : EIO,
		     ret == KATLS_EA_E_SCHEME ? GNUTLS_A_HANDSHAKE_FAILURE :
		     GNUTLS_A_INTERNAL_ERROR,
		     "cannot build the authenticator: %s",
		     katls_ea_strerror(ret));
		return;
	}
frame:
	free(m->out);
	m->out = malloc(KATLS_EA_FRAME_HDR_LEN + alen);
	if (!m->out) {
		free(auth);
		fail(m, ENOMEM, GNUTLS_A_INTERNAL_ERROR, "out of memory");
		return;
	}
	katls_ea_frame_hdr(KATLS_EA_FRAME_AUTH, alen, m->out);
	memcpy(m->out + KATLS_EA_FRAME_HDR_LEN, auth, alen);
	m->out_len = KATLS_EA_FRAME_HDR_LEN + alen;
	m->out_off = 0;
	free(auth);
	m->st = m->refuse_err ? ST_SEND_REFUSAL : ST_SEND_AUTH;
}

/* Verifier: the authenticator frame is in. */
static void got_authenticator(struct katlsd_post *m)
{
	struct katls_ext_evidence e;
	struct katls_ea_verified v;
	struct katls_ea_keys k;
	int ret;

	ret = katls_ea_keys_from_session(m->cfg.session, sender(m), &k);
	if (ret) {
		fail(m, EIO, GNUTLS_A_INTERNAL_ERROR,
		     "authenticator keys: %s", katls_ea_strerror(ret));
		return;
	}
	/*
	 * The server's key is the handshake's; the client's (mutual
	 * attestation) is whatever key its authenticator carries: the
	 * binder puts it into the evidence's report data, which is checked
	 * below, so the TEE vouches for it.
	 */
	ret = katls_ea_authenticator_verify(&k, m->req_raw, m->req_len,
					    &m->req, m->in, m->in_len,
					    m->cfg.spki, m->cfg.spki_len, &v);
	katls_ea_keys_wipe(&k);
	if (ret == KATLS_EA_E_EMPTY) {
		fail(m, EACCES, GNUTLS_A_ACCESS_DENIED,
		     "the %s refused to attest (empty authenticator)",
		     m->cfg.from_client ? "client" : "server");
		return;
	}
	if (!ret && !m->cfg.spki &&
	    katls_spki_from_cert_der(v.cert_der, v.cert_len, &m->peer_spki)) {
		fail(m, EACCES, GNUTLS_A_BAD_CERTIFICATE,
		     "cannot extract the key of the client's authenticator");
		return;
	}
	if (ret) {
		/*
		 * Another request context, another connection's keys, another
		 * key than the handshake's: a relay or a replay.
		 */
		fail(m, ret == KATLS_EA_E_EMPTY ? EACCES : EKEYREJECTED,
		     ret == KATLS_EA_E_EXT_UNSOLICITED ?
		     GNUTLS_A_UNSUPPORTED_EXTENSION :
		     ret == KATLS_EA_E_TRUNCATED || ret == KATLS_EA_E_TRAILING ||
		     ret == KATLS_EA_E_MSG_TYPE ? GNUTLS_A_DECODE_ERROR :
		     GNUTLS_A_ACCESS_DENIED,
		     "authenticator refused: %s", katls_ea_strerror(ret));
		return;
	}
	ret = katls_ext_evidence_decode(v.cmw, v.cmw_len, &e);
	if (ret) {
		fail(m, EPROTO, GNUTLS_A_DECODE_ERROR,
		     "malformed evidence record in cmw_attestation: %s",
		     katls_ext_strerror(ret));
		return;
	}
	if (compute_binder(m))
		return;
	ret = m->cfg.verify(m->cfg.arg, &e, m->binder);
	if (ret) {
		/* the callback recorded its own reason */
		fail(m, ret, GNUTLS_A_ACCESS_DENIED, "evidence refused");
		return;
	}
	free(m->out);
	m->out = calloc(1, KATLS_EA_FRAME_HDR_LEN + 1);
	if (!m->out) {
		fail(m, ENOMEM, GNUTLS_A_INTERNAL_ERROR, "out of memory");
		return;
	}
	katls_ea_frame_hdr(KATLS_EA_FRAME_ACCEPT, 1, m->out);
	m->out_len = KATLS_EA_FRAME_HDR_LEN + 1;
	m->out_off = 0;
	m->st = ST_SEND_ACCEPT;
}

enum katlsd_post_step katlsd_post_next(struct katlsd_post *m,
				       const uint8_t **out, size_t *out_len,
				       size_t *want)
{
	*out = NULL;
	*out_len = 0;
	*want = 0;
	switch (m->st) {
	case ST_SEND_REQUEST:
	case ST_SEND_AUTH:
	case ST_SEND_ACCEPT:
	case ST_SEND_REFUSAL:
		*out = m->out + m->out_off;
		*out_len = m->out_len - m->out_off;
		return KATLSD_POST_SEND;
	case ST_RECV_AUTH_HDR:
	case ST_RECV_REQ_HDR:
	case ST_RECV_ACC_HDR:
		*want = KATLS_EA_FRAME_HDR_LEN - m->in_off;
		return KATLSD_POST_RECV;
	case ST_RECV_AUTH:
	case ST_RECV_REQ:
	case ST_RECV_ACC:
		*want = m->in_len - m->in_off;
		return KATLSD_POST_RECV;
	case ST_EVIDENCE:
		return KATLSD_POST_EVIDENCE;
	case ST_DONE:
		return KATLSD_POST_DONE;
	case ST_FAILED:
	default:
		return KATLSD_POST_FAILED;
	}
}

void katlsd_post_sent(struct katlsd_post *m, size_t n)
{
	if ((m->st != ST_SEND_REQUEST && m->st != ST_SEND_AUTH &&
	     m->st != ST_SEND_ACCEPT && m->st != ST_SEND_REFUSAL) ||
	    n > m->out_len - m->out_off)
		return fail(m, EIO, GNUTLS_A_INTERNAL_ERROR, "send overrun");
	m->out_off += n;
	if (m->out_off < m->out_len)
		return;
	free(m->out);
	m->out = NULL;
	m->out_len = m->out_off = 0;
	m->in_off = 0;
	/*
	 * After the refusal the client waits for the server's verdict (its
	 * alert), so that the server, which decides, reports first and the
	 * reset does not overtake its reason (katlsd_post_refused()).
	 */
	m->st = m->st == ST_SEND_REFUSAL ? ST_RECV_ACC_HDR :
		m->st == ST_SEND_REQUEST ? ST_RECV_AUTH_HDR :
		m->st == ST_SEND_AUTH ? ST_RECV_ACC_HDR : ST_DONE;
}

/* The frame a receiving state expects, and its bound. */
static uint8_t frame_of(enum state st, size_t *max, const char **name)
{
	switch (st) {
	case ST_RECV_AUTH_HDR:
	case ST_RECV_AUTH:
		*max = KATLS_EA_AUTH_MAX;
		*name = "authenticator";
		return KATLS_EA_FRAME_AUTH;
	case ST_RECV_REQ_HDR:
	case ST_RECV_REQ:
		*max = KATLS_EA_REQUEST_MAX;
		*name = "request";
		return KATLS_EA_FRAME_REQUEST;
	default:
		*max = 1;
		*name = "accept";
		return KATLS_EA_FRAME_ACCEPT;
	}
}

void katlsd_post_received(struct katlsd_post *m, const uint8_t *d, size_t n)
{
	bool hdr = m->st == ST_RECV_AUTH_HDR || m->st == ST_RECV_REQ_HDR ||
		   m->st == ST_RECV_ACC_HDR;
	const char *name;
	uint8_t type;
	size_t max;
	int len;

	if (!hdr && m->st != ST_RECV_AUTH && m->st != ST_RECV_REQ &&
	    m->st != ST_RECV_ACC)
		return fail(m, EIO, GNUTLS_A_INTERNAL_ERROR, "unexpected input");
	type = frame_of(m->st, &max, &name);
	if (hdr) {
		if (!n || n > KATLS_EA_FRAME_HDR_LEN - m->in_off)
			return fail(m, EIO, GNUTLS_A_INTERNAL_ERROR,
				    "receive overrun");
		memcpy(m->hdr + m->in_off, d, n);
		m->in_off += n;
		if (m->in_off < KATLS_EA_FRAME_HDR_LEN)
			return;
		len = katls_ea_frame_parse(m->hdr, type, max);
		if (len < 0)
			/* application data, or a stock TLS peer: not ours */
			return fail(m, EPROTO, GNUTLS_A_UNEXPECTED_MESSAGE,
				    "expected a katls %s frame: %s", name,
				    katls_ea_strerror(len));
		m->in = malloc(len);
		if (!m->in)
			return fail(m, ENOMEM, GNUTLS_A_INTERNAL_ERROR,
				    "out of memory");
		m->in_len = len;
		m->in_off = 0;
		m->st = m->st == ST_RECV_AUTH_HDR ? ST_RECV_AUTH :
			m->st == ST_RECV_REQ_HDR ? ST_RECV_REQ : ST_RECV_ACC;
		return;
	}
	if (!n || n > m->in_len - m->in_off)
		return fail(m, EIO, GNUTLS_A_INTERNAL_ERROR, "receive overrun");
	memcpy(m->in + m->in_off, d, n);
	m->in_off += n;
	if (m->in_off < m->in_len)
		return;
	if (type == KATLS_EA_FRAME_AUTH)
		got_authenticator(m);
	else if (type == KATLS_EA_FRAME_REQUEST)
		got_request(m);
	else if (m->in_len != 1 || m->in[0])
		fail(m, EPROTO, GNUTLS_A_DECODE_ERROR, "bad accept frame");
	else if (m->refuse_err)
		/* a server that "accepts" a refusal: never a success */
		fail(m, m->refuse_err, GNUTLS_A_ACCESS_DENIED,
		     "the peer accepted our refusal to attest");
	else
		m->st = ST_DONE;
	free(m->in);
	m->in = NULL;
	m->in_len = m->in_off = 0;
}

/* ---- the blocking driver ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GNUTLS_E_AGAIN on a non-blocking socket: wait for it, bounded. */
static int wait_io(gnutls_session_t s, int fd, long end)
{
	struct pollfd pfd = { .fd = fd };
	long left = end ? end - now_ms() : -1;

	if (end && left <= 0)
		return GNUTLS_E_TIMEDOUT;
	if (fd < 0)
		return 0;
	pfd.events = gnutls_record_get_direction(s) ? POLLOUT : POLLIN;
	if (poll(&pfd, 1, (int)left) == 0)
		return GNUTLS_E_TIMEDOUT;
	return 0;
}

int katlsd_post_run(struct katlsd_post *m, int fd, long deadline_ms,
		    int (*evidence)(void *arg,
				    const uint8_t binder[KATLS_EA_REPORT_DATA_LEN],
				    uint8_t **rec, size_t *len,
				    const char **reason),
		    void *arg)
{
	gnutls_session_t s = m->cfg.session;
	long end = deadline_ms > 0 ? now_ms() + deadline_ms : 0;
	uint8_t buf[16384];
	const uint8_t *out;
	size_t out_len, want;
	ssize_t n;
	int ret;

	for (;;) {
		switch (katlsd_post_next(m, &out, &out_len, &want)) {
		case KATLSD_POST_SEND:
			n = gnutls_record_send(s, out, out_len);
			if (n > 0) {
				katlsd_post_sent(m, n);
				break;
			}
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				if ((ret = wait_io(s, fd, end)))
					return ret;
				break;
			}
			return n < 0 ? (int)n : GNUTLS_E_PUSH_ERROR;
		case KATLSD_POST_RECV:
			if (want > sizeof(buf))
				want = sizeof(buf);
			if (end)
				gnutls_record_set_timeout(s, (unsigned int)
					(end - now_ms() > 0 ? end - now_ms() : 1));
			n = gnutls_record_recv(s, buf, want);
			if (n > 0) {
				katlsd_post_received(m, buf, n);
				gnutls_memset(buf, 0, n);
				break;
			}
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				if ((ret = wait_io(s, fd, end)))
					return ret;
				break;
			}
			/* 0: the peer closed before its frame */
			return n < 0 ? (int)n : GNUTLS_E_PREMATURE_TERMINATION;
		case KATLSD_POST_EVIDENCE: {
			uint8_t *rec = NULL;
			size_t len = 0;
			const char *why = NULL;

			ret = evidence ? evidence(arg, katlsd_post_binder(m),
						  &rec, &len, &why) : ENODEV;
			katlsd_post_evidence(m, rec, len, ret,
					     why ? why : "no evidence source");
			free(rec);
			break;
		}
		case KATLSD_POST_DONE:
			return 0;
		case KATLSD_POST_FAILED:
		default:
			return GNUTLS_E_INTERNAL_ERROR;
		}
	}
}

/* ---- glue into the handshake (hs_int.h) ---- */

bool hs_post_wanted(const struct hs_ctx *ctx)
{
	return ctx->req_valid &&
	       (ctx->req.mode == KATLS_EXT_MODE_POST_V1 ||
		ctx->req.mode == KATLS_EXT_MODE_BOTH_V1);
}

static int verify_cb(void *arg, const struct katls_ext_evidence *e,
		     const uint8_t binder[KATLS_EA_REPORT_DATA_LEN])
{
	struct hs_ctx *ctx = arg;

	if (hs_client_take_evidence(ctx, e))
		return ctx->r->status ? ctx->r->status : EIO;
	if (hs_client_check_evidence(ctx, binder, KATLS_BINDING_L3))
		return ctx->r->status ? ctx->r->status : EACCES;
	return 0;
}

static int evidence_cb(void *arg, const uint8_t binder[KATLS_EA_REPORT_DATA_LEN],
		       uint8_t **rec, size_t *len, const char **reason)
{
	struct hs_ctx *ctx = arg;
	int ret;

	ret = hs_server_evidence_record(ctx, binder, KATLS_BINDING_L3, rec,
					len);
	if (ret)
		*reason = ctx->r->reason;
	return ret;
}

int hs_post_exchange(struct hs_ctx *ctx, gnutls_session_t s)
{
	const struct katlsd_hs_params *p = ctx->p;
	struct katlsd_post_cfg cfg = { .session = s, .arg = ctx };
	gnutls_datum_t spki = { NULL, 0 };
	const gnutls_datum_t *cert;
	struct katlsd_post *m = NULL;
	unsigned int n = 0;
	const char *why;
	long left = 0;
	int ret, err, alert;

	if (p->role == KATLS_ROLE_SERVER) {
		cert = gnutls_certificate_get_ours(s);
		if (!cert || !p->server_key)
			return hs_fail(ctx, ENOKEY,
				       "post-handshake attestation needs the server certificate and key"),
			       GNUTLS_E_INTERNAL_ERROR;
		cfg.attester = true;
		cfg.cert_der = cert->data;
		cfg.cert_len = cert->size;
		cfg.key = p->server_key;
	} else {
		cert = gnutls_certificate_get_peers(s, &n);
		if (!cert || !n)
			return hs_fail(ctx, EACCES, "server sent no certificate"),
			       GNUTLS_E_INTERNAL_ERROR;
		cfg.verify = verify_cb;
		/* the gate opens on this exchange alone */
		ctx->verified = false;
	}
	ret = katls_spki_from_cert_der(cert->data, cert->size, &spki);
	if (ret)
		return hs_fail(ctx, EACCES, "cannot extract the %s certificate's key",
			       cfg.attester ? "server" : "peer"),
		       GNUTLS_E_INTERNAL_ERROR;
	cfg.spki = spki.data;
	cfg.spki_len = spki.size;
	m = katlsd_post_new(&cfg);
	if (!m) {
		gnutls_free(spki.data);
		return hs_fail(ctx, ENOMEM, "out of memory"),
		       GNUTLS_E_INTERNAL_ERROR;
	}
	if (p->timeout_ms) {
		left = hs_ms_left(ctx);
		if (left <= 0)
			left = 1;
	}
	ret = katlsd_post_run(m, p->transport ? -1 : p->fd, left,
			      cfg.attester ? evidence_cb : NULL, ctx);
	err = katlsd_post_error(m, &why, &alert);
	if (ret == GNUTLS_E_INTERNAL_ERROR && err) {
		if (alert >= 0)
			hs_fail_alert(ctx, (gnutls_alert_description_t)alert, err,
				      "post-handshake attestation: %s", why);
		else
			hs_fail(ctx, err, "post-handshake attestation: %s", why);
	} else if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		hs_fail(ctx, EPROTO, "peer aborted the post-handshake attestation: %s",
			gnutls_alert_get_name(gnutls_alert_get(s)));
	} else if (ret) {
		hs_fail(ctx, katlsd_gnutls_errno(ret),
			"post-handshake attestation: %s", gnutls_strerror(ret));
	} else if (cfg.attester) {
		ctx->ev_sent = true;
		kinfo("post-handshake: authenticator with evidence sent");
	} else {
		ctx->verified = true;
		kinfo("post-handshake: authenticator and evidence verified (level 3)");
	}
	katlsd_post_free(m);
	gnutls_free(spki.data);
	return ret;
}

/* ---- mutual attestation: the client's direction (issue 14 item 3) ---- */

bool hs_post_client_wanted(const struct hs_ctx *ctx)
{
	if (!ctx->req_valid)
		return false;
	if (ctx->p->role == KATLS_ROLE_SERVER)
		return katls_policy_client_evidence(ctx->p->policy) != NULL;
	return ctx->client_asked;
}

/*
 * The client's key for its authenticator: fresh for each connection,
 * in a self-signed certificate that nobody is asked to trust.  What
 * the server trusts is the evidence, whose report data binds this key
 * and the connection's exporter (binder ea v1).
 */
static int client_identity(gnutls_privkey_t *key, gnutls_datum_t *der)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_x509_crt_t crt = NULL;
	time_t now = time(NULL);
	int ret;

	*key = NULL;
	der->data = NULL;
	der->size = 0;
	ret = gnutls_x509_privkey_init(&x);
	if (!ret)
		ret = gnutls_x509_privkey_generate(x, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (!ret)
		ret = gnutls_x509_crt_init(&crt);
	if (!ret)
		ret = gnutls_x509_crt_set_version(crt, 3);
	if (!ret)
		ret = gnutls_x509_crt_set_serial(crt, "\x01", 1);
	if (!ret)
		ret = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
						    0, "katls client", 12);
	if (!ret)
		ret = gnutls_x509_crt_set_activation_time(crt, now - 60);
	if (!ret)
		ret = gnutls_x509_crt_set_expiration_time(crt, now + 3600);
	if (!ret)
		ret = gnutls_x509_crt_set_key(crt, x);
	if (!ret)
		ret = gnutls_x509_crt_sign2(crt, crt, x, GNUTLS_DIG_SHA256, 0);
	if (!ret)
		ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der);
	if (!ret)
		ret = gnutls_privkey_init(key);
	if (!ret) {
		ret = gnutls_privkey_import_x509(*key, x,
						 GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
		if (!ret)
			x = NULL;	/* the privkey owns it */
	}
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (x)
		gnutls_x509_privkey_deinit(x);
	if (ret < 0) {
		if (*key)
			gnutls_privkey_deinit(*key);
		*key = NULL;
		gnutls_free(der->data);
		der->data = NULL;
		der->size = 0;
	}
	return ret;
}

/* Server: judge the client's evidence with require_client_evidence's policy. */
static int verify_client_cb(void *arg, const struct katls_ext_evidence *e,
			    const uint8_t binder[KATLS_EA_REPORT_DATA_LEN])
{
	struct hs_ctx *ctx = arg;
	int ret;

	ctx->judging_client = true;
	ret = hs_client_take_evidence(ctx, e) ||
	      hs_client_check_evidence(ctx, binder, KATLS_BINDING_L3);
	ctx->judging_client = false;
	if (ret)
		return ctx->r->status ? ctx->r->status : EACCES;
	return 0;
}

/* Client: our evidence, if our policy consents (client_attest allow). */
static int client_evidence_cb(void *arg,
			      const uint8_t binder[KATLS_EA_REPORT_DATA_LEN],
			      uint8_t **rec, size_t *len, const char **reason)
{
	struct hs_ctx *ctx = arg;
	int ret;

	if (!katls_policy_client_attest(ctx->p->policy)) {
		*reason = "our policy does not consent to attest (client_attest deny)";
		return EACCES;
	}
	ctx->attesting_client = true;
	ret = hs_server_evidence_record(ctx, binder, KATLS_BINDING_L3, rec, len);
	ctx->attesting_client = false;
	if (ret) {
		*reason = ctx->r->reason[0] ? ctx->r->reason : strerror(ret);
		/* the refusal below records the failure, not this attempt */
		ctx->r->status = 0;
	}
	return ret;
}

int hs_post_client_exchange(struct hs_ctx *ctx, gnutls_session_t s)
{
	const struct katlsd_hs_params *p = ctx->p;
	struct katlsd_post_cfg cfg = { .session = s, .from_client = true,
				       .arg = ctx };
	gnutls_datum_t spki = { NULL, 0 }, der = { NULL, 0 };
	gnutls_privkey_t key = NULL;
	struct katlsd_post *m = NULL;
	char why_copy[200];
	const char *why;
	long left = 0;
	int ret, err, alert;

	if (p->role == KATLS_ROLE_SERVER) {
		if (!p->client_policy)
			return hs_fail(ctx, EINVAL,
				       "policy %s requires client evidence, but policy \"%s\" is not loaded",
				       p->policy_name,
				       katls_policy_client_evidence(p->policy)),
			       GNUTLS_E_INTERNAL_ERROR;
		cfg.verify = verify_client_cb;
	} else {
		if (client_identity(&key, &der) < 0)
			return hs_fail(ctx, EIO,
				       "cannot make the client's authenticator key"),
			       GNUTLS_E_INTERNAL_ERROR;
		if (katls_spki_from_cert_der(der.data, der.size, &spki)) {
			gnutls_privkey_deinit(key);
			gnutls_free(der.data);
			return hs_fail(ctx, EIO, "cannot extract our own key"),
			       GNUTLS_E_INTERNAL_ERROR;
		}
		cfg.attester = true;
		cfg.cert_der = der.data;
		cfg.cert_len = der.size;
		cfg.key = key;
		cfg.spki = spki.data;
		cfg.spki_len = spki.size;
	}
	m = katlsd_post_new(&cfg);
	if (!m) {
		ret = hs_fail(ctx, ENOMEM, "out of memory");
		ret = GNUTLS_E_INTERNAL_ERROR;
		goto out;
	}
	if (p->timeout_ms) {
		left = hs_ms_left(ctx);
		if (left <= 0)
			left = 1;
	}
	ret = katlsd_post_run(m, p->transport ? -1 : p->fd, left,
			      cfg.attester ? client_evidence_cb : NULL, ctx);
	err = katlsd_post_error(m, &why, &alert);
	snprintf(why_copy, sizeof(why_copy), "%s", why ? why : "?");
	if (cfg.attester && katlsd_post_refused(m, &why) && ret) {
		/* we refused; the server's alert (or close) is the answer */
		snprintf(why_copy, sizeof(why_copy), "%s", why);
		hs_fail(ctx, katlsd_post_refused(m, NULL), "mutual attestation: %s",
			why_copy);
	} else if (ret == GNUTLS_E_INTERNAL_ERROR && err) {
		if (alert >= 0)
			hs_fail_alert(ctx, (gnutls_alert_description_t)alert, err,
				      "mutual attestation: %s", why_copy);
		else
			hs_fail(ctx, err, "mutual attestation: %s", why_copy);
	} else if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		hs_fail(ctx, EPROTO, "peer aborted the mutual attestation: %s",
			gnutls_alert_get_name(gnutls_alert_get(s)));
	} else if (ret) {
		hs_fail(ctx, katlsd_gnutls_errno(ret),
			"mutual attestation: %s", gnutls_strerror(ret));
	} else if (cfg.attester) {
		ctx->client_ev_sent = true;
		ctx->r->client_attested = true;
		kinfo("mutual attestation: our evidence was accepted by the server");
	} else if (ctx->client_verified) {
		ctx->r->client_attested = true;
		kinfo("mutual attestation: the client's authenticator and evidence verified (level 3, policy %s)",
		      katls_policy_name(p->client_policy));
	}
out:
	katlsd_post_free(m);
	if (key)
		gnutls_privkey_deinit(key);
	gnutls_free(der.data);
	gnutls_free(spki.data);
	return ret;
}
