/* SPDX-License-Identifier: GPL-2.0 */
/*
 * privsep.h - the privilege-separated handshake (issue 11 item 7).
 *
 * One request is served by two processes:
 *
 *   monitor  the process that ACCEPTed the request.  It keeps the netlink
 *            socket (DONE must come from the accepting port and process,
 *            and genetlink checks CAP_NET_ADMIN at send time), configfs-
 *            tsm and the server's private key.  It never parses peer
 *            input (of a record it reads only the header's length, to
 *            stop at the record's end): it answers a few fixed-size
 *            questions of its sandbox and sends DONE.
 *   sandbox  a child with no capabilities, another uid, no_new_privs and
 *            a seccomp filter (sandbox.c).  It runs the whole GnuTLS
 *            handshake on the TCP socket: TLS, X.509, the katls extension,
 *            CBOR and evidence verification.
 *
 * They talk over an AF_UNIX SOCK_SEQPACKET socketpair: one message per
 * packet, a fixed 8-byte header (type, payload length, both u32 in host
 * order), at most KATLSD_IPC_MAX bytes in all.  Every decoder checks the
 * exact length of every field; anything else is -EPROTO.
 *
 *   sandbox -> monitor            monitor -> sandbox
 *   EVIDENCE_REQ  report_data[64]  EVIDENCE_REP  status, type, provider,
 *                                                evidence, aux
 *   SIGN_REQ      algo, kind, data SIGN_REP      status, signature
 *   FAILED        result           ACK           (DONE has been sent)
 *   RESULT        result           (none: the sandbox exits)
 *   RECORD_REQ    wait ms          RECORD_REP    status, one TLS record
 *   SEND_REQ      bytes            SEND_REP      bytes sent or -errno
 *
 * EVIDENCE_REP carries the batch proof (leaf index, tree size, audit
 * path) too.  The same framing links each worker to the parent's quote
 * broker (broker.h): BROKER_REQ binder[64] + deadline, EVIDENCE_REP back.
 *
 * The kernel lets only the accepting process touch a socket under
 * handshake, so the monitor moves the TLS records.  A RECORD_REQ waits
 * up to its wait (GNUTLS_INDEFINITE_TIMEOUT: no limit of its own) for
 * the socket to become readable, then reads exactly one TLS record:
 * the 5-byte header, then as many bytes as its length field says, never
 * a byte more, so the records after Finished stay queued for kTLS.  The
 * length field is the only thing the monitor reads in a record; over
 * KATLSD_IPC_RECORD_MAX it returns the header alone (GnuTLS refuses
 * it).  RECORD_REP's status: 0 the wait passed with nothing to read; 1
 * the bytes follow (none: the peer closed; fewer than a record: it
 * closed within one); -errno.  The sandbox keeps the record and hands
 * GnuTLS its pieces (the header, then the rest): one round trip per
 * record instead of a pull and a poll for each piece.  A SEND_REQ
 * carries every record GnuTLS has queued (a flight), up to
 * KATLSD_IPC_IO_MAX.  The monitor waits at most until the request's
 * deadline; past it a RECORD or SEND fails with EAGAIN.
 *
 * Limits the monitor enforces whatever the sandbox asks: one quote and
 * one signature per request, both only in the server role (a policy with
 * "binding = post" allows a second signature, for the Exported
 * Authenticator; "binding = both" a second signature and a second
 * quote: a trust decision, Documentation/threat-model.rst); a signature
 * only with a TLS 1.3 signature scheme and, for EdDSA (GnuTLS passes the
 * whole input), only over a server CertificateVerify input (RFC 8446
 * 4.4.3: 64 spaces, the context string, a zero byte, a transcript hash)
 * for the first signature and an Exported Authenticator one (RFC 9261:
 * the context "Exported Authenticator") for the second;
 * for ECDSA and RSA-PSS GnuTLS passes only the digest, so the monitor
 * checks its length and nothing more: a compromised sandbox obtains at
 * most one signature over a digest of its choice per request it serves.
 * A result's key lengths must match its cipher.
 *
 * A FAILED result also says what the monitor must wait for before its
 * DONE lets the kernel reset the connection (enum katlsd_settle: the
 * sandbox's alert acknowledged, or the peer's close after its alert);
 * the monitor waits on the socket it holds, bounded by the deadline
 * (katlsd_settle()), so that the peer learns why before the reset.
 */
#ifndef KATLSD_PRIVSEP_H
#define KATLSD_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <katls/merkle.h>
#include <katls/tsm.h>

#include "handshake.h"

enum katlsd_ipc_type {
	KATLSD_IPC_EVIDENCE_REQ = 1,
	KATLSD_IPC_EVIDENCE_REP,
	KATLSD_IPC_SIGN_REQ,
	KATLSD_IPC_SIGN_REP,
	KATLSD_IPC_FAILED,
	KATLSD_IPC_ACK,
	KATLSD_IPC_RESULT,
	KATLSD_IPC_RECORD_REQ,
	KATLSD_IPC_RECORD_REP,
	KATLSD_IPC_SEND_REQ,
	KATLSD_IPC_SEND_REP,
	KATLSD_IPC_BROKER_REQ,		/* worker -> parent (broker.h) */
	KATLSD_IPC_SLOT_REQ,		/* pool worker -> parent (+ an fd) */
	KATLSD_IPC_SLOT_REP,		/* parent -> pool worker */
	KATLSD_IPC_START,		/* pool worker -> its sandbox (+ an fd) */
	KATLSD_IPC_TYPE_MAX = KATLSD_IPC_START,
};

#define KATLSD_IPC_HDR_LEN	8
#define KATLSD_IPC_SIG_MAX	1024	/* RSA-8192 is 1024 bytes */
#define KATLSD_IPC_IO_MAX	65536	/* one SEND */
/*
 * One record: the header and the largest ciphertext of any TLS version
 * (RFC 5246 6.2.3: 2^14 + 2048; TLS 1.3's bound is lower).
 */
#define KATLSD_TLS_HDR_LEN	5
#define KATLSD_IPC_RECORD_MAX	(KATLSD_TLS_HDR_LEN + 16384 + 2048)
#define KATLSD_IPC_SIGN_DATA_MAX 256	/* a CertificateVerify input */
/*
 * The largest message: an EVIDENCE_REP with the longest audit path and
 * both blobs at their bound.
 */
#define KATLSD_IPC_MAX		(KATLSD_IPC_HDR_LEN + 4 + 4 + 64 + 4 + 4 + \
				 4 + 4 + KATLS_MERKLE_MAX_PATH * \
				 KATLS_MERKLE_HASH_LEN + \
				 KATLS_TSM_OUTBLOB_MAX + KATLS_TSM_AUXBLOB_MAX)
_Static_assert(KATLSD_IPC_HDR_LEN + 4 + KATLSD_IPC_RECORD_MAX <= KATLSD_IPC_MAX &&
	       KATLSD_IPC_HDR_LEN + KATLSD_IPC_IO_MAX <= KATLSD_IPC_MAX,
	       "a record or a SEND fits in one IPC message");

/** struct katlsd_ipc_msg - one received message (payload points into buf) */
struct katlsd_ipc_msg {
	uint32_t type;
	uint32_t len;
	const uint8_t *payload;
};

/*
 * Framing.  katlsd_ipc_send: 0 or negative errno.  katlsd_ipc_recv reads
 * one packet into buf (capacity cap, at least KATLSD_IPC_HDR_LEN) and
 * checks the header against what arrived: 0, -EPIPE at end of stream,
 * -EMSGSIZE if the packet was longer than cap, -EPROTO for a bad header,
 * an unknown type or passed file descriptors.  The caller wipes buf.
 */
int katlsd_ipc_send(int fd, uint32_t type, const void *a, size_t alen,
		    const void *b, size_t blen, const void *c, size_t clen);
int katlsd_ipc_recv(int fd, uint8_t *buf, size_t cap,
		    struct katlsd_ipc_msg *m);
/* The same header check on a buffer of n bytes (unit tests use it). */
int katlsd_ipc_parse(const uint8_t *buf, size_t n, struct katlsd_ipc_msg *m);

/*
 * The same with at most one passed descriptor (the pool's control lines,
 * below): *pfd is the descriptor or -1.  Two or more, or a truncated
 * control message: every descriptor that came is closed, -EPROTO.  On
 * any error *pfd is -1; otherwise the caller owns it.
 */
int katlsd_ipc_recv_fd(int fd, uint8_t *buf, size_t cap,
		       struct katlsd_ipc_msg *m, int *pfd);
/* katlsd_ipc_send() with one descriptor passed along (SCM_RIGHTS). */
int katlsd_ipc_send_fd(int fd, uint32_t type, const void *a, size_t alen,
		       int pass);

/* Payload codecs: decoders return 0 or -EPROTO and check every length. */
int katlsd_ipc_enc_result(const struct katlsd_hs_result *r, uint8_t *out,
			  size_t cap);
int katlsd_ipc_dec_result(const struct katlsd_ipc_msg *m,
			  struct katlsd_hs_result *r);
/*
 * EVIDENCE_REP carries the batch proof with the evidence (leaf index,
 * tree size, exactly the audit path those need); status != 0 carries
 * nothing else.  Sent by the monitor to its sandbox and by the quote
 * broker (broker.h) to a worker.  The encoder: 0 or negative errno
 * (-EINVAL for a status or evidence out of bounds).
 */
int katlsd_ipc_send_evidence_rep(int fd, int32_t st,
				 const struct katlsd_evidence *ev);
int katlsd_ipc_dec_evidence_rep(const struct katlsd_ipc_msg *m, int *status,
				struct katlsd_evidence *ev);
/* BROKER_REQ: binder[64], u64 deadline (CLOCK_MONOTONIC ms, 0: none). */
int katlsd_ipc_dec_broker_req(const struct katlsd_ipc_msg *m,
			      uint8_t binder[KATLS_MERKLE_BINDER_LEN],
			      uint64_t *deadline_ms);
#define KATLSD_SIGN_DATA	1	/* the whole input (EdDSA) */
#define KATLSD_SIGN_HASH	2	/* its digest (ECDSA, RSA-PSS) */
int katlsd_ipc_dec_sign_req(const struct katlsd_ipc_msg *m, uint32_t *algo,
			    uint32_t *kind, gnutls_datum_t *data);
/*
 * Would the monitor sign this?  A TLS 1.3 signature scheme; EdDSA over a
 * whole CertificateVerify input, anything else over exactly one digest of
 * the scheme's hash.
 */
bool katlsd_ipc_sign_ok(uint32_t algo, uint32_t kind,
			const gnutls_datum_t *data);
/*
 * A reply "i32 status, then data": status in -4095..max_status; data only
 * with status max_status (SIGN_REP: 0, RECORD_REP: 1) and at most
 * max_data bytes.
 */
int katlsd_ipc_dec_status_rep(const struct katlsd_ipc_msg *m, uint32_t type,
			      int32_t max_status, size_t max_data,
			      int *status, gnutls_datum_t *data);
/* Is data exactly a TLS 1.3 server CertificateVerify input? */
bool katlsd_ipc_cv_input_ok(const uint8_t *data, size_t len);
/* ... an RFC 9261 Exported Authenticator CertificateVerify input? */
bool katlsd_ipc_ea_cv_input_ok(const uint8_t *data, size_t len);
/* katlsd_ipc_sign_ok() for the Exported Authenticator's signature */
bool katlsd_ipc_sign_ok_ea(uint32_t algo, uint32_t kind,
			   const gnutls_datum_t *data);

/*
 * ---- the worker pool's control lines (issue 13 item 3) ----
 *
 * worker -> parent   SLOT_REQ  u64 tag (the kernel's request id), u64
 *                              deadline (CLOCK_MONOTONIC ms, 0: none),
 *                              u32 uid, u32 family, u8 addr[16]; passes
 *                              the request's line to the quote broker
 * parent -> worker   SLOT_REP  u64 tag, i32 status: 0 run now, 1 wait
 *                              (another SLOT_REP follows), -EBUSY (wait
 *                              queue full), -ETIMEDOUT (deadline passed
 *                              while waiting)
 * worker -> sandbox  START     u64 tag, u32 role, u32 timeout_ms,
 *                              policy[KATLS_POLICY_MAX],
 *                              peername[KATLS_PEERNAME_MAX]; passes the
 *                              request's own monitor/sandbox line
 *
 * Each request then has its own SEQPACKET line between its monitor
 * thread and its sandbox thread, with exactly the messages above (one
 * request per line, so the per-request limits stay as they are).
 */
#include "fair.h"

struct katlsd_ipc_slot_req {
	uint64_t tag;
	uint64_t deadline_ms;
	uint32_t uid;
	struct katlsd_peer peer;
};

struct katlsd_ipc_start {
	uint64_t tag;
	uint32_t role;
	uint32_t timeout_ms;
	char policy[KATLS_POLICY_MAX];
	char peername[KATLS_PEERNAME_MAX];
};

#define KATLSD_IPC_SLOT_REQ_LEN	(8 + 8 + 4 + 4 + 16)
#define KATLSD_IPC_SLOT_REP_LEN	(8 + 4)
#define KATLSD_IPC_START_LEN	(8 + 4 + 4 + KATLS_POLICY_MAX + \
				 KATLS_PEERNAME_MAX)

void katlsd_ipc_enc_slot_req(const struct katlsd_ipc_slot_req *r,
			     uint8_t out[KATLSD_IPC_SLOT_REQ_LEN]);
/* family 0 (unknown: all zero), AF_INET (bytes 4..15 zero) or AF_INET6. */
int katlsd_ipc_dec_slot_req(const struct katlsd_ipc_msg *m,
			    struct katlsd_ipc_slot_req *r);
void katlsd_ipc_enc_slot_rep(uint64_t tag, int32_t status,
			     uint8_t out[KATLSD_IPC_SLOT_REP_LEN]);
/* status one of 0, 1, -EBUSY, -ETIMEDOUT. */
int katlsd_ipc_dec_slot_rep(const struct katlsd_ipc_msg *m, uint64_t *tag,
			    int32_t *status);
void katlsd_ipc_enc_start(const struct katlsd_ipc_start *s,
			  uint8_t out[KATLSD_IPC_START_LEN]);
/*
 * role client or server, timeout_ms at most KATLS_TIMEOUT_MAX_MS, policy
 * NUL-terminated and not empty, peername NUL-terminated.
 */
int katlsd_ipc_dec_start(const struct katlsd_ipc_msg *m,
			 struct katlsd_ipc_start *s);

/* ---- monitor ---- */

/**
 * struct katlsd_monitor - what the monitor serves for one request
 * @evsrc: the real evidence source (configfs-tsm); NULL: none
 * @key: the server's private key; NULL in the client role
 * @done: send DONE for r (called at most once); 0 or negative errno
 * @binding: the request's policy binding: post and both allow a second
 *	signature (the Exported Authenticator's), both a second quote
 * @quotes, @signatures: how many were served
 * @done_sent, @done_ret: what @done returned
 */
struct katlsd_monitor {
	int fd;				/* the TCP socket */
	unsigned int timeout_ms;	/* 0: no deadline */
	const struct katlsd_evidence_source *evsrc;
	gnutls_privkey_t key;
	bool server;
	bool client_attest;	/* issue 14 item 3: the client may quote once */
	enum katls_policy_binding binding;
	int (*done)(void *arg, const struct katlsd_hs_result *r);
	void *done_arg;

	unsigned int quotes, signatures;
	unsigned int io_calls;	/* RECORD and SEND requests served */
	bool done_sent;
	int done_ret;
	struct timespec deadline;	/* set by katlsd_monitor_serve */
};

/*
 * Serve the sandbox on ipc until its RESULT or until it goes away.  DONE
 * is sent exactly once: with the sandbox's result, or, if the sandbox
 * died or broke the protocol, with status ECONNABORTED or EPROTO.  Returns
 * the status that DONE carried (0 on success).
 */
int katlsd_monitor_serve(struct katlsd_monitor *m, int ipc);

/* ---- sandbox ---- */

/**
 * struct katlsd_remote - the sandbox's handles on the monitor: an
 * evidence source and a private key whose operations are IPC requests.
 */
struct katlsd_remote {
	int ipc;
	gnutls_pk_algorithm_t pk;
	unsigned int bits;
	struct katlsd_evidence_source evsrc;
	struct katlsd_transport transport;
	/* the record the monitor read last; GnuTLS pulls it in pieces */
	size_t rec_off, rec_len;
	bool rec_eof;			/* the peer closed */
	uint8_t rec[KATLSD_IPC_RECORD_MAX];
};

void katlsd_remote_init(struct katlsd_remote *rm, int ipc);
/* A private key that signs through the monitor (post.c's authenticator). */
int katlsd_remote_key(struct katlsd_remote *rm, gnutls_privkey_t *out);
/*
 * Server credentials for the sandbox: the certificate chain of creds
 * (public) with a private key that signs through the monitor.  pk and
 * bits are the real key's (the monitor reads them before the fork).
 */
int katlsd_remote_creds(struct katlsd_remote *rm,
			gnutls_certificate_credentials_t creds,
			gnutls_pk_algorithm_t pk, unsigned int bits,
			gnutls_certificate_credentials_t *out);
/* on_failure callback of the handshake: FAILED, wait for the ACK. */
void katlsd_remote_failed(void *arg, const struct katlsd_hs_result *r);
/* The final result.  0 or negative errno. */
int katlsd_remote_result(struct katlsd_remote *rm,
			 const struct katlsd_hs_result *r);

struct katlsd_sandbox;

#define KATLSD_SANDBOX_EXIT_SETUP	6	/* = KATLSD_EXIT_SANDBOX */

/*
 * The sandbox child, right after the fork: build the remote key and
 * evidence source, free the real credentials (*real_creds, which hold
 * the private key), confine itself (sandbox.h), run the handshake of p,
 * send the RESULT, exit.  Never returns.
 */
struct katlsd_state;

/*
 * The pool's sandbox (issue 13 item 3), right after the fork: like
 * katlsd_sandbox_main(), but for many requests: confined once, it reads
 * START messages on ctl and runs each handshake in a thread of its own,
 * on the request's own line, until ctl closes (then it waits for its
 * handshakes and exits).  Never returns.
 */
void katlsd_sandbox_pool_main(struct katlsd_state *st, int ctl,
			      const struct katlsd_sandbox *sb,
			      gnutls_pk_algorithm_t pk, unsigned int bits)
	__attribute__((noreturn));

void katlsd_sandbox_main(struct katlsd_hs_params *p,
			 gnutls_certificate_credentials_t *real_creds,
			 int ipc, const struct katlsd_sandbox *sb,
			 gnutls_pk_algorithm_t pk, unsigned int bits)
	__attribute__((noreturn));

#endif /* KATLSD_PRIVSEP_H */
