// SPDX-License-Identifier: GPL-2.0
/*
 * handshake.c - the attested TLS 1.3 handshake (Documentation/katlsd.rst):
 * what both roles share.  The verifier is client.c, the attester
 * server.c; hs_int.h is their interface to this file.
 *
 * Order of events inside gnutls_handshake() that the three files rely on
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
#include <katls/binder.h>
#include <katls/ext.h>

#include "hs_int.h"
#include "log.h"

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

void katlsd_evidence_free(struct katlsd_evidence *ev)
{
	free(ev->evidence);
	free(ev->aux);
	memset(ev, 0, sizeof(*ev));
}

void katlsd_hs_result_wipe(struct katlsd_hs_result *r)
{
	katls_keys_wipe(&r->keys);
}

int hs_fail(struct hs_ctx *ctx, int err, const char *fmt, ...)
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

int hs_fail_alert(struct hs_ctx *ctx, gnutls_alert_description_t alert,
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

int hs_compute_binder(struct hs_ctx *ctx, gnutls_session_t s,
		      const gnutls_datum_t *cert_der, uint8_t rd[64])
{
	gnutls_datum_t spki = { 0 };
	gnutls_mac_algorithm_t mac;
	size_t hlen;
	int ret;

	mac = katls_gnutls_prf_mac(s, &hlen);
	if (mac == GNUTLS_MAC_UNKNOWN)
		return hs_fail(ctx, EPROTO, "unsupported handshake hash");
	if (!ctx->htsc_len || ctx->htsc_len != hlen)
		return hs_fail(ctx, EPROTO,
			       "client handshake traffic secret not available");
	ret = katls_spki_from_cert_der(cert_der->data, cert_der->size, &spki);
	if (ret)
		return hs_fail(ctx, ret == -EINVAL ? EACCES : EIO,
			       "cannot extract the server certificate's key");
	ret = katls_binder_v1(mac, ctx->htsc, ctx->htsc_len, ctx->req.nonce,
			      spki.data, spki.size, rd);
	gnutls_free(spki.data);
	if (ret)
		return hs_fail(ctx, EIO, "binder computation failed (%d)", ret);
	return 0;
}

int hs_policy_mode(const struct katls_policy *policy)
{
	switch (katls_policy_binding(policy)) {
	case KATLS_POLICY_BINDING_POST:
		return KATLS_EXT_MODE_POST_V1;
	case KATLS_POLICY_BINDING_BOTH:
		return KATLS_EXT_MODE_BOTH_V1;
	default:
		return KATLS_EXT_MODE_BINDER_V1;
	}
}

const char *hs_mode_name(int mode)
{
	switch (mode) {
	case KATLS_EXT_MODE_BINDER_V1:
		return "intra";
	case KATLS_EXT_MODE_POST_V1:
		return "post";
	case KATLS_EXT_MODE_BOTH_V1:
		return "both";
	default:
		return "unknown";
	}
}

int hs_verify_evidence(const struct hs_ctx *ctx,
		       const struct katlsd_evidence *ev,
		       const struct katls_verify_opts *o,
		       struct katls_claims *c, struct katls_verdict *v)
{
	const struct katlsd_hs_ops *ops = ctx->p->ops;

	if (ops && ops->verify_evidence)
		return ops->verify_evidence(ev->type, ev->evidence,
					    ev->evidence_len, o, c, v);
	return katls_verify_evidence(ev->type, ev->evidence, ev->evidence_len,
				     o, c, v);
}

/* ---- GnuTLS callbacks ---- */

static int keylog_cb(gnutls_session_t s, const char *label,
		     const gnutls_datum_t *secret)
{
	struct hs_ctx *ctx = gnutls_session_get_ptr(s);

	if (katls_gnutls_keylog_htsc(label, secret, ctx->htsc,
				     sizeof(ctx->htsc), &ctx->htsc_len) < 0)
		return hs_fail(ctx, EPROTO, "handshake secret too long"),
		       GNUTLS_E_INTERNAL_ERROR;
	return 0;
}

/* The katls extension, one registration for both roles. */
static int ext_recv(gnutls_session_t s, const unsigned char *data,
		    size_t len)
{
	struct hs_ctx *ctx = gnutls_session_get_ptr(s);

	if (ctx->p->role == KATLS_ROLE_SERVER)
		return hs_server_ext_recv(ctx, data, len);
	return hs_client_ext_recv(ctx, data, len);
}

static int ext_send(gnutls_session_t s, gnutls_buffer_t buf)
{
	struct hs_ctx *ctx = gnutls_session_get_ptr(s);

	if (ctx->p->role == KATLS_ROLE_CLIENT)
		return hs_client_ext_send(ctx, buf);
	return hs_server_ext_send(s, ctx, buf);
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

long hs_ms_left(const struct hs_ctx *ctx)
{
	return ms_left(&ctx->deadline);
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

static int setup_session(gnutls_session_t s, struct hs_ctx *ctx)
{
	const struct katlsd_hs_params *p = ctx->p;
	const char *prio = KATLS_GNUTLS_PRIORITY, *errpos = NULL;
	int ret;

	gnutls_session_set_ptr(s, ctx);
	if (p->ops && p->ops->priority)
		prio = p->ops->priority;
	ret = gnutls_priority_set_direct(s, prio, &errpos);
	if (ret < 0)
		return hs_fail(ctx, EIO, "priority string rejected at \"%s\"",
			       errpos ? errpos : "?");
	gnutls_session_set_keylog_function(s, keylog_cb);
	if (katls_gnutls_ext_register(s, ext_recv, ext_send))
		return hs_fail(ctx, EIO, "cannot register the extension");

	/* Both roles evaluate the policy they name (issue 11 item 18). */
	if (!p->policy)
		return hs_fail(ctx, EINVAL, "unknown policy \"%s\"",
			       p->policy_name ? p->policy_name : "");
	if (p->role == KATLS_ROLE_SERVER)
		ret = hs_server_setup(s, ctx);
	else
		ret = hs_client_setup(s, ctx);
	if (ctx->r->status)
		return -1;
	if (ret < 0)
		return hs_fail(ctx, EIO, "session setup: %s", gnutls_strerror(ret));
	/* privsep hook (issue 11 item 7): the sandbox has no socket */
	if (p->transport) {
		gnutls_transport_set_ptr(s, p->transport->ptr);
		gnutls_transport_set_push_function(s, p->transport->push);
		if (p->transport->vec_push)
			gnutls_transport_set_vec_push_function(
				s, p->transport->vec_push);
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
		snprintf(r->ev.policy, sizeof(r->ev.policy), "%s", p->policy_name);
	if (p->role != KATLS_ROLE_CLIENT && p->role != KATLS_ROLE_SERVER) {
		hs_fail(&ctx, EINVAL, "unknown role %d", p->role);
		goto out;
	}
	ret = gnutls_init(&s, (p->role == KATLS_ROLE_SERVER ? GNUTLS_SERVER :
			       GNUTLS_CLIENT) | GNUTLS_NO_SIGNAL);
	if (ret < 0) {
		s = NULL;
		hs_fail(&ctx, ENOMEM, "gnutls_init: %s", gnutls_strerror(ret));
		goto out;
	}
	if (setup_session(s, &ctx))
		goto out;

	ret = run_handshake(s, p->transport ? -1 : p->fd, p->timeout_ms,
			    &ctx.deadline);
	if (ret < 0) {
		if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
			hs_fail(&ctx, EPROTO, "peer aborted the handshake: %s",
				gnutls_alert_get_name(gnutls_alert_get(s)));
		else
			hs_fail(&ctx, katlsd_gnutls_errno(ret), "handshake: %s",
				gnutls_strerror(ret));
		fail_connection(&ctx, s, ret);
		goto out;
	}

	/* binding = post | both: the Exported Authenticator first (post.c) */
	if (gnutls_protocol_get_version(s) == GNUTLS_TLS1_3 &&
	    hs_post_wanted(&ctx) && (ret = hs_post_exchange(&ctx, s))) {
		fail_connection(&ctx, s, ret);
		goto out;
	}
	/*
	 * issue 14 item 3, mutual attestation: then the client's
	 * authenticator, so that a client shows its evidence only to a
	 * server whose own evidence it has verified.
	 */
	if (gnutls_protocol_get_version(s) == GNUTLS_TLS1_3 &&
	    hs_post_client_wanted(&ctx) && !r->status &&
	    (ret = hs_post_client_exchange(&ctx, s))) {
		fail_connection(&ctx, s, ret);
		goto out;
	}
	/* Fail closed on anything that would make the hand-over unsound. */
	if (gnutls_protocol_get_version(s) != GNUTLS_TLS1_3)
		hs_fail_alert(&ctx, GNUTLS_A_PROTOCOL_VERSION, EPROTO,
			      "not TLS 1.3");
	else if (p->role == KATLS_ROLE_CLIENT && !ctx.verified)
		hs_fail_alert(&ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
			      "evidence was never verified");
	else if (p->role == KATLS_ROLE_SERVER && !ctx.ev_sent)
		hs_fail_alert(&ctx, GNUTLS_A_MISSING_EXTENSION, EPROTO,
			      "peer did not ask for attestation");
	else if (p->role == KATLS_ROLE_SERVER &&
		 katls_policy_client_evidence(p->policy) &&
		 !(ctx.client_verified && r->client_attested))
		hs_fail_alert(&ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
			      "the client's evidence was never verified");
	else if (p->role == KATLS_ROLE_CLIENT && ctx.client_asked &&
		 !ctx.client_ev_sent)
		hs_fail_alert(&ctx, GNUTLS_A_ACCESS_DENIED, EACCES,
			      "the server asked for our evidence, which was never accepted");
	else if (gnutls_record_check_pending(s) ||
		 (p->transport && p->transport->pending &&
		  p->transport->pending(p->transport->ptr)))
		hs_fail_alert(&ctx, GNUTLS_A_UNEXPECTED_MESSAGE, EPROTO,
			      "records buffered in GnuTLS; kTLS cannot take them over");
	else if ((ret = katls_gnutls_export_keys(s, &r->keys)) < 0)
		hs_fail_alert(&ctx, GNUTLS_A_INTERNAL_ERROR, -ret,
			      "cannot export the traffic keys");
	if (r->status) {
		fail_connection(&ctx, s, GNUTLS_E_INTERNAL_ERROR);
		goto out;
	}
	kinfo("handshake done: %s, %s evidence, policy %s",
	      gnutls_cipher_get_name(gnutls_cipher_get(s)),
	      katls_evidence_name(r->ev.evidence_type), r->ev.policy);
out:
	if (r->status)
		katls_keys_wipe(&r->keys);
	if (s)
		gnutls_deinit(s);
	gnutls_memset(ctx.htsc, 0, sizeof(ctx.htsc));
	katlsd_evidence_free(&ctx.ev);
	return r->status;
}
