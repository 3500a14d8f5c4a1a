/* SPDX-License-Identifier: GPL-2.0 */
/*
 * handshake.h - one attested TLS 1.3 handshake on one socket.
 *
 * katlsd_handshake() is the whole of a request's TLS work: GnuTLS
 * session, the katls extension in ClientHello / EncryptedExtensions, the
 * binder (katls/binder.h), evidence from an evidence source (server) or
 * its verification against a policy (client), and the traffic keys for
 * kTLS.  It knows nothing of netlink, so the host tests drive it over a
 * socketpair.
 *
 * Split by role as the TLS roles are: handshake.c (session, run loop,
 * failure path, result), client.c (the verifier), server.c (the
 * attester); hs_int.h is what they share.
 */
#ifndef KATLSD_HANDSHAKE_H
#define KATLSD_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include <linux/katls.h>
#include <katls/merkle.h>
#include <katls/agent.h>
#include <katls/gnutls.h>
#include <katls/verify.h>


/**
 * struct katlsd_evidence - what an evidence source returns (server) or
 * the peer sent (client).
 * @proof: binder v1 batch mode (katls/merkle.h): where this handshake's
 *	binder sits in the tree the evidence's report data commits to.
 *	tree_size 1 (or 0: a source that does not batch) means the report
 *	data is the binder itself.
 */
struct katlsd_evidence {
	enum katls_evidence_type type;
	uint8_t *evidence;		/* malloc'd */
	size_t evidence_len;
	uint8_t *aux;			/* malloc'd or NULL */
	size_t aux_len;
	char provider[64];		/* configfs-tsm provider name */
	struct katls_merkle_proof proof;
};

void katlsd_evidence_free(struct katlsd_evidence *ev);

/**
 * struct katlsd_evidence_source - where the attester gets its evidence.
 * @get: produce evidence that vouches for @binder (this handshake's
 *	binder v1 value): either its report data is @binder (ev->proof a
 *	batch of one) or it is the batch report data of a Merkle tree with
 *	@binder at ev->proof.leaf_index (Documentation/binder.rst, "Batched
 *	evidence").  Returns 0, or a negative errno (ENODEV: no TEE
 *	provider; ETIMEDOUT: no report before the deadline).
 *
 * The daemon's only implementation is configfs-tsm (evsrc_tsm.c), which
 * forms a batch of one through the Merkle code; the quote broker (issue
 * 13 item 2) hands each waiter {evidence, leaf index, size, path} through
 * this same call.
 */
struct katlsd_evidence_source {
	int (*get)(void *arg, const uint8_t binder[64],
		   struct katlsd_evidence *ev);
	void *arg;
};

struct katlsd_hs_result;
struct katlsd_hs_params;

/**
 * struct katlsd_hs_ops - steps of the handshake a caller may replace
 * @verify_evidence: replaces katls_verify_evidence() for the peer's
 *	evidence (client) and our own summary (server).  Everything else on
 *	the client path -- binder recomputation, katls_policy_allows(),
 *	katls_policy_eval(), the report-data comparison -- stays.
 * @priority: replaces KATLS_GNUTLS_PRIORITY (the tests run each cipher).
 * @sandbox_entered: called in the privilege-separated sandbox once it is
 *	confined, before the handshake (privsep.c).
 *
 * A NULL ops, or a NULL member, is the production behaviour.  Only the
 * host unit tests set ops (tests/unit/katlsd/test_handshake.c); the
 * daemon zeroes its params (worker.c), no configuration reaches ops, and
 * `make check` fails if a daemon source assigns it.
 */
struct katlsd_hs_ops {
	int (*verify_evidence)(enum katls_evidence_type type,
			       const uint8_t *ev, size_t len,
			       const struct katls_verify_opts *o,
			       struct katls_claims *c,
			       struct katls_verdict *v);
	const char *priority;
	void (*sandbox_entered)(const struct katlsd_hs_params *p);
};

/**
 * struct katlsd_transport - TLS records through callbacks instead of fd
 * (the privilege-separated sandbox: the monitor moves the bytes, see
 * privsep.h).  Blocking; a pull that fails with EAGAIN means the deadline
 * passed.
 */
struct katlsd_transport {
	gnutls_push_func push;
	gnutls_vec_push_func vec_push;	/* NULL: push alone */
	gnutls_pull_func pull;
	gnutls_pull_timeout_func pull_timeout;
	/* bytes read from the socket that GnuTLS has not taken; NULL: none */
	size_t (*pending)(gnutls_transport_ptr_t ptr);
	gnutls_transport_ptr_t ptr;
};

/** struct katlsd_hs_params - inputs of one handshake */
struct katlsd_hs_params {
	int fd;				/* connected TCP socket */
	const struct katlsd_transport *transport; /* NULL: use fd */
	enum katls_role role;
	unsigned int timeout_ms;	/* 0: none */
	const char *policy_name;
	const char *peername;		/* may be NULL or "" */

	/* server (attester) */
	gnutls_certificate_credentials_t server_creds;
	/*
	 * binding = post | both: the key of server_creds, which signs the
	 * Exported Authenticator (post.c); in the sandbox it signs through
	 * the monitor.  NULL: post-handshake attestation fails with ENOKEY.
	 */
	gnutls_privkey_t server_key;
	const struct katlsd_evidence_source *evsrc;

	/* client (verifier) */
	gnutls_certificate_credentials_t client_creds;	/* trust store */
	bool have_truststore;
	const struct katls_policy *policy;	/* NULL: unknown policy */
	/*
	 * server: the policy that judges the client's evidence (the one
	 * policy's "require_client_evidence" names; issue 14 item 3).  NULL
	 * with that key set fails closed.
	 */
	const struct katls_policy *client_policy;
	bool evidence_bound_key;	/* accept a key the CAs do not vouch for */
	struct katls_verify_opts vopts;	/* expected_report_data is ours */

	/*
	 * Optional: called once when the handshake has failed, before the
	 * alert goes to the peer (the daemon sends DONE from here).
	 */
	void (*on_failure)(void *arg, const struct katlsd_hs_result *r);
	void *on_failure_arg;

	const struct katlsd_hs_ops *ops;	/* NULL: production */
};

/** struct katlsd_hs_result - outcome; status is a positive errno or 0 */
/*
 * enum katlsd_settle - what a failed handshake leaves to wait for before
 * DONE lets the kernel reset the connection (katlsd_settle())
 */
enum katlsd_settle {
	KATLSD_SETTLE_NONE = 0,
	KATLSD_SETTLE_ACKED,		/* our alert is out: until acknowledged */
	KATLSD_SETTLE_PEER_CLOSED,	/* the peer alerted: until it closes */
};

/**
 * struct katlsd_summary - what one side's evidence showed: DONE's SUMMARY
 * or CLIENT_SUMMARY, and KATLS_RESULT's fields for it
 */
struct katlsd_summary {
	enum katls_evidence_type evidence_type;
	unsigned int binding_level;
	uint8_t digest[KATLS_DIGEST_LEN];
	uint8_t measurement[KATLS_MEASUREMENT_MAX];
	size_t measurement_len;
	char policy[KATLS_POLICY_MAX];
};

struct katlsd_hs_result {
	int status;
	char reason[256];
	enum katlsd_settle settle;	/* failures only */
	struct katls_keys keys;	/* valid iff status == 0 */

	/*
	 * The server's evidence (status == 0): on the client the evidence
	 * it verified, on the server its own.  policy: the request's.
	 */
	struct katlsd_summary ev;

	/*
	 * issue 14 item 3, mutual attestation: the client's evidence (the
	 * server verified it / the client presented it), valid iff
	 * client_attested (status == 0).  policy: on the server the policy
	 * that judged it (require_client_evidence), on the client its own.
	 */
	bool client_attested;
	struct katlsd_summary client;
};

/* Run the handshake; returns r->status.  Keys are wiped unless 0. */
int katlsd_handshake(const struct katlsd_hs_params *p,
		     struct katlsd_hs_result *r);
void katlsd_hs_result_wipe(struct katlsd_hs_result *r);

/* Before a failure's DONE: bounded wait on the socket (handshake.c). */
void katlsd_settle(int fd, enum katlsd_settle how, long left_ms);

/* GnuTLS error code of a failed handshake -> positive errno. */
int katlsd_gnutls_errno(int gnutls_err);

#endif /* KATLSD_HANDSHAKE_H */
