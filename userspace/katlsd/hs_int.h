/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hs_int.h - what the parts of one handshake share (not for the rest of
 * katlsd, which uses handshake.h).
 *
 *   handshake.c  session set-up, run loop, keylog and binder glue, the
 *                extension dispatch, the failure path, the result
 *   client.c     the verifier: ClientHello request, certificate and name
 *                checks, evidence and binder verification, policy
 *   server.c     the attester: the peer's request, evidence in
 *                EncryptedExtensions, our own summary, the server
 *                policy's allow line
 *
 * The role files see the handshake only through struct hs_ctx and the
 * hs_* helpers below; each callback records its errno with hs_fail()
 * (the first failure is the cause, later ones are consequences).
 */
#ifndef KATLSD_HS_INT_H
#define KATLSD_HS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <katls/ext.h>

#include "handshake.h"

#define HTSC_MAX	64

/* One handshake's state, reachable from the session (session ptr). */
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
	bool post_accepted;	/* binding = post: empty EE extension */

	/* server */
	bool ev_sent;

	/* issue 14 item 3, mutual attestation (post.c) */
	bool client_asked;	/* client: the server sent CertificateRequest */
	bool client_ev_sent;	/* client: the server accepted our evidence */
	bool judging_client;	/* server: ctx->ev is the client's evidence */
	bool client_verified;	/* server: the client's evidence verified */
	bool attesting_client;	/* client: our own summary goes to r->client */

	/* the alert to send for the first failure; -1: GnuTLS's choice */
	int alert;
	struct timespec deadline;	/* p->timeout_ms from the start */
};

/* ---- handshake.c: shared by both roles ---- */

/* Record the first failure (positive errno and reason); returns -1. */
__attribute__((format(printf, 3, 4)))
int hs_fail(struct hs_ctx *ctx, int err, const char *fmt, ...);
/* hs_fail() that also chooses the TLS alert the peer gets. */
__attribute__((format(printf, 4, 5)))
int hs_fail_alert(struct hs_ctx *ctx, gnutls_alert_description_t alert,
		  int err, const char *fmt, ...);

/* report_data = binder v1 over our htsc, the nonce and the server's SPKI. */
int hs_compute_binder(struct hs_ctx *ctx, gnutls_session_t s,
		      const gnutls_datum_t *cert_der, uint8_t rd[64]);

/* The ClientHello binding mode for a policy's "binding" (issue 14). */
int hs_policy_mode(const struct katls_policy *policy);
const char *hs_mode_name(int mode);
/* ms until the request's deadline (may be <= 0). */
long hs_ms_left(const struct hs_ctx *ctx);

/* katls_verify_evidence(), or the params' ops->verify_evidence. */
int hs_verify_evidence(const struct hs_ctx *ctx,
		       const struct katlsd_evidence *ev,
		       const struct katls_verify_opts *o,
		       struct katls_claims *c, struct katls_verdict *v);

/* ---- client.c: the verifier ---- */

/* The katls extension: our request in ClientHello, the peer's evidence. */
int hs_client_ext_send(struct hs_ctx *ctx, gnutls_buffer_t buf);
int hs_client_ext_recv(struct hs_ctx *ctx, const unsigned char *data,
		       size_t len);
/* Copy a decoded evidence record into ctx->ev; -1 after hs_fail(). */
int hs_client_take_evidence(struct hs_ctx *ctx,
			    const struct katls_ext_evidence *e);
/*
 * ctx->ev against @binder and the policy; sets the result's summary with
 * binding @level and ctx->verified.  0, or -1 after hs_fail().
 */
int hs_client_check_evidence(struct hs_ctx *ctx, const uint8_t binder[64],
			     unsigned int level);
/*
 * Credentials, server name, verify callback and hook.  Returns -1 after
 * hs_fail(), else the GnuTLS result of the set-up calls.
 */
int hs_client_setup(gnutls_session_t s, struct hs_ctx *ctx);

/* ---- server.c: the attester ---- */

/* The katls extension: the peer's request, our evidence in EE. */
int hs_server_ext_recv(struct hs_ctx *ctx, const unsigned char *data,
		       size_t len);
int hs_server_ext_send(gnutls_session_t s, struct hs_ctx *ctx,
		       gnutls_buffer_t buf);
/* Credentials and hook; returns as hs_client_setup(). */
int hs_server_setup(gnutls_session_t s, struct hs_ctx *ctx);
/*
 * Evidence for @binder as a KatlsEvidence record (*rec malloc'd), our
 * summary with binding @level.  0 or a positive errno after hs_fail().
 */
int hs_server_evidence_record(struct hs_ctx *ctx, const uint8_t binder[64],
			      unsigned int level, uint8_t **rec, size_t *len);

/* ---- post.c: post-handshake attestation (binding = post | both) ---- */

/* Does this handshake continue with the Exported Authenticator exchange? */
bool hs_post_wanted(const struct hs_ctx *ctx);
/*
 * Run it on the established session; 0, or a negative GnuTLS error for
 * the failure path (the reason is recorded with hs_fail()).
 */
int hs_post_exchange(struct hs_ctx *ctx, gnutls_session_t s);
/*
 * Mutual attestation (issue 14 item 3): does this handshake continue
 * with the client's authenticator (server: its policy requires it;
 * client: the server sent a CertificateRequest)?  And run it, after
 * the server's direction: the server requests, the client attests.
 */
bool hs_post_client_wanted(const struct hs_ctx *ctx);
int hs_post_client_exchange(struct hs_ctx *ctx, gnutls_session_t s);

#endif /* KATLSD_HS_INT_H */
