/* SPDX-License-Identifier: GPL-2.0 */
/*
 * post.h - post-handshake attestation (policy "binding = post | both",
 * issue 14): one RFC 9261 Exported Authenticator exchange over the
 * established GnuTLS session, before the kTLS keys are exported
 * (Documentation/binder.rst, "Post-handshake attestation";
 * Documentation/wire-format.rst, "Post-handshake frames").
 *
 *   client (verifier)                        server (attester)
 *   frame 1: ClientCertificateRequest  --->
 *                                            binder ea v1 -> evidence
 *                                      <---  frame 2: Certificate (evidence
 *                                            in the leaf's cmw_attestation),
 *                                            CertificateVerify, Finished
 *   verify authenticator, binder, evidence,
 *   policy
 *   frame 3: accept                    --->  (gate opens on both sides
 *                                            only after this)
 *
 * The exchange is a state machine that knows nothing of sockets, so that
 * a blocking driver (katlsd_post_run(), used by handshake.c today) and an
 * event loop (the worker pool) can both drive it:
 *
 *   for (;;) switch (katlsd_post_next(m, &out, &out_len, &want)) {
 *   case KATLSD_POST_SEND:      n = gnutls_record_send(s, out, out_len);
 *                               katlsd_post_sent(m, n);  break;
 *   case KATLSD_POST_RECV:      n = gnutls_record_recv(s, buf, want);
 *                               katlsd_post_received(m, buf, n);  break;
 *   case KATLSD_POST_EVIDENCE:  evidence for katlsd_post_binder(m) ...
 *                               katlsd_post_evidence(m, rec, len);  break;
 *   case KATLSD_POST_DONE:      export the keys
 *   case KATLSD_POST_FAILED:    katlsd_post_error(m, &reason)
 *   }
 *
 * RECV never asks for more than the current frame still needs, so GnuTLS
 * is never asked to read past the exchange: the application records that
 * follow stay in the socket for kTLS (a peer that packs anything after
 * its frame into the same record leaves bytes buffered in GnuTLS, and the
 * caller fails closed on gnutls_record_check_pending()).
 */
#ifndef KATLSD_POST_H
#define KATLSD_POST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <katls/ea.h>
#include <katls/ext.h>

enum katlsd_post_step {
	KATLSD_POST_SEND = 1,	/* send out[0..out_len) as application data */
	KATLSD_POST_RECV,	/* receive at most want bytes */
	KATLSD_POST_EVIDENCE,	/* attester: a KatlsEvidence record for the binder */
	KATLSD_POST_DONE,
	KATLSD_POST_FAILED,
};

/**
 * struct katlsd_post_cfg - one exchange
 * @session: the established TLS 1.3 session (exporter values)
 * @attester: true for the side that answers (the server today)
 * @spki: DER SubjectPublicKeyInfo of the attester's handshake
 *	certificate: our own (attester) or the peer's (verifier)
 * @cert_der: attester: our leaf certificate, sent in the authenticator
 * @key: attester: its private key (in the sandbox: signs through the
 *	monitor)
 * @verify: verifier: judge the evidence record @e, whose report data
 *	must be (or, in a batch, commit to) @binder.  Returns 0, or a
 *	positive errno after recording the reason itself.
 */
struct katlsd_post_cfg {
	gnutls_session_t session;
	bool attester;
	/*
	 * issue 14 item 3: the authenticator comes from the TLS client
	 * (mutual attestation): the server's CertificateRequest, the client
	 * authenticator keys, and the verifier (server) takes any key (@spki
	 * NULL), which the binder puts into the evidence's report data.  A
	 * client attester that has no evidence sends the empty authenticator
	 * (RFC 9261's refusal) and then fails.
	 */
	bool from_client;
	const uint8_t *spki;
	size_t spki_len;
	const uint8_t *cert_der;
	size_t cert_len;
	gnutls_privkey_t key;
	int (*verify)(void *arg, const struct katls_ext_evidence *e,
		      const uint8_t binder[KATLS_EA_REPORT_DATA_LEN]);
	void *arg;
};

struct katlsd_post;

/* NULL on ENOMEM or a bad configuration (errno set). */
struct katlsd_post *katlsd_post_new(const struct katlsd_post_cfg *cfg);
void katlsd_post_free(struct katlsd_post *m);

/* What the driver must do next; out/want are set for SEND/RECV. */
enum katlsd_post_step katlsd_post_next(struct katlsd_post *m,
				       const uint8_t **out, size_t *out_len,
				       size_t *want);
/* n bytes of the SEND buffer went out (n >= 1). */
void katlsd_post_sent(struct katlsd_post *m, size_t n);
/* n (1..want) bytes arrived. */
void katlsd_post_received(struct katlsd_post *m, const uint8_t *d, size_t n);
/* Attester, at KATLSD_POST_EVIDENCE: the 64-byte report data to request. */
const uint8_t *katlsd_post_binder(const struct katlsd_post *m);
/*
 * Attester: the KatlsEvidence record (katls/ext.h) that goes into the
 * cmw_attestation extension, or err (positive errno) and a reason if the
 * evidence could not be had.
 */
void katlsd_post_evidence(struct katlsd_post *m, const uint8_t *rec,
			  size_t len, int err, const char *reason);
/*
 * After KATLSD_POST_FAILED: the positive errno, the reason and the TLS
 * alert to send (-1: none of ours to choose).
 */
int katlsd_post_error(const struct katlsd_post *m, const char **reason,
		      int *alert);
/* The request context (for logs and tests). */
const uint8_t *katlsd_post_context(const struct katlsd_post *m, size_t *len);

/**
 * katlsd_post_run() - the blocking driver
 * @m: the exchange
 * @fd: the socket to poll on GNUTLS_E_AGAIN (a non-blocking socket), or
 *	-1 for a transport that blocks by itself (the privsep sandbox)
 * @deadline_ms: milliseconds left (0: none)
 * @evidence: attester: produce the record for a binder (blocking), as
 *	katlsd_post_evidence() takes it; returns 0 or a positive errno
 *	with the reason in *reason
 *
 * Returns 0 when the exchange is done, a negative GnuTLS error from the
 * record layer (the peer's alert, a closed connection, the deadline), or
 * GNUTLS_E_INTERNAL_ERROR when the exchange failed (katlsd_post_error()).
 */
int katlsd_post_run(struct katlsd_post *m, int fd, long deadline_ms,
		    int (*evidence)(void *arg,
				    const uint8_t binder[KATLS_EA_REPORT_DATA_LEN],
				    uint8_t **rec, size_t *len,
				    const char **reason),
		    void *arg);

#endif /* KATLSD_POST_H */
