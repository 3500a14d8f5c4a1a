// SPDX-License-Identifier: GPL-2.0
/*
 * test_privsep.c - the monitor/sandbox protocol and the sandbox itself
 * (issue 11 item 7).
 *
 *  - framing: short, oversized, mislabelled and fd-carrying packets;
 *  - payload decoders fed hostile lengths and unterminated strings;
 *  - the monitor's limits: one quote, one signature, only TLS 1.3
 *    CertificateVerify signatures, a protocol violation fails the request
 *    (DONE with EPROTO) instead of being served;
 *  - the sandbox: no capabilities, not root, other fds closed, and a
 *    forbidden system call kills it with SIGSYS.
 *
 * The whole handshake through monitor and sandbox is test_handshake's
 * "privsep:" scenarios and the VM e2e test.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/tls.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "log.h"
#include "privsep.h"
#include "sandbox.h"
#include "tap.h"

static uint8_t buf[KATLSD_IPC_MAX];

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* ---- framing ---- */

static void test_framing(void)
{
	struct katlsd_ipc_msg m;
	uint8_t pkt[16];
	int sp[2], ret;

	put32(pkt, KATLSD_IPC_ACK);
	put32(pkt + 4, 0);
	tap_ok(katlsd_ipc_parse(pkt, 8, &m) == 0 && m.type == KATLSD_IPC_ACK,
	       "framing: a bare ACK parses");
	tap_ok(katlsd_ipc_parse(pkt, 7, &m) == -EPROTO,
	       "framing: 7 bytes (short header) refused");
	put32(pkt + 4, 4);
	tap_ok(katlsd_ipc_parse(pkt, 8, &m) == -EPROTO,
	       "framing: length says 4, nothing follows: refused");
	tap_ok(katlsd_ipc_parse(pkt, 16, &m) == -EPROTO,
	       "framing: length says 4, 8 follow: refused");
	put32(pkt + 4, 0xffffffffu);
	tap_ok(katlsd_ipc_parse(pkt, 16, &m) == -EPROTO,
	       "framing: length 2^32-1 refused");
	put32(pkt, 0);
	put32(pkt + 4, 0);
	tap_ok(katlsd_ipc_parse(pkt, 8, &m) == -EPROTO,
	       "framing: type 0 refused");
	put32(pkt, KATLSD_IPC_TYPE_MAX + 1);
	tap_ok(katlsd_ipc_parse(pkt, 8, &m) == -EPROTO,
	       "framing: unknown type refused");

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp)) {
		tap_ok(0, "socketpair");
		return;
	}
	/* larger than the receiver's buffer: EMSGSIZE, not a truncation */
	tap_ok(katlsd_ipc_send(sp[0], KATLSD_IPC_RESULT, buf, 100, NULL, 0,
			       NULL, 0) == 0, "framing: 108-byte packet sent");
	tap_ok(katlsd_ipc_recv(sp[1], pkt, sizeof(pkt), &m) == -EMSGSIZE,
	       "framing: packet over the buffer: -EMSGSIZE");
	tap_ok(katlsd_ipc_send(sp[0], KATLSD_IPC_RESULT, buf,
			       KATLSD_IPC_MAX, NULL, 0, NULL, 0) == -EMSGSIZE,
	       "framing: sender refuses more than KATLSD_IPC_MAX");
	/* a file descriptor passed along: refused, and not installed */
	{
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { pkt, 8 };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		int devnull = open("/dev/null", O_RDONLY), probe;

		put32(pkt, KATLSD_IPC_ACK);
		put32(pkt + 4, 0);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &devnull, sizeof(int));
		ret = sendmsg(sp[0], &mh, 0) == 8 ? 0 : -1;
		close(devnull);
		tap_ok(!ret && katlsd_ipc_recv(sp[1], buf, sizeof(buf), &m) ==
			       -EPROTO,
		       "framing: a packet carrying a file descriptor is refused");
		probe = open("/dev/null", O_RDONLY);
		tap_ok(probe == devnull, "framing: the passed fd was not installed");
		close(probe);
	}
	close(sp[0]);
	tap_ok(katlsd_ipc_recv(sp[1], buf, sizeof(buf), &m) == -EPIPE,
	       "framing: peer gone: -EPIPE");
	close(sp[1]);
}

/* ---- payloads ---- */

static struct katlsd_ipc_msg msg_of(uint32_t type, const uint8_t *p,
				    size_t len)
{
	struct katlsd_ipc_msg m = { type, (uint32_t)len, p };

	return m;
}

static void good_result(struct katlsd_hs_result *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->reason, sizeof(r->reason), "fine");
	r->keys.len = sizeof(struct tls12_crypto_info_aes_gcm_128);
	r->keys.tx.info.version = TLS_1_3_VERSION;
	r->keys.tx.info.cipher_type = TLS_CIPHER_AES_GCM_128;
	r->keys.rx.info = r->keys.tx.info;
	memset(r->keys.tx.aes128.key, 0x11, sizeof(r->keys.tx.aes128.key));
	r->ev.evidence_type = KATLS_EVIDENCE_SIM;
	r->ev.binding_level = KATLS_BINDING_L2;
	r->ev.measurement_len = 48;
	snprintf(r->ev.policy, sizeof(r->ev.policy), "sim-demo");
}

/* Offsets in the RESULT payload (privsep.c's layout). */
#define OFF_REASON	4
#define OFF_KLEN	(4 + 256)
#define OFF_TX		(OFF_KLEN + 4)
#define OFF_MLEN	(OFF_TX + 2 * sizeof(union katls_crypto_info) + 8 + \
			 KATLS_DIGEST_LEN)
#define OFF_POLICY	(OFF_MLEN + 4 + KATLS_MEASUREMENT_MAX)
#define OFF_SETTLE	(OFF_POLICY + KATLS_POLICY_MAX)

static void test_result(void)
{
	struct katlsd_hs_result r, out;
	struct katlsd_ipc_msg m;
	uint8_t enc[2048], bad[2048];
	int n;

	good_result(&r);
	n = katlsd_ipc_enc_result(&r, enc, sizeof(enc));
	tap_ok(n > 0, "result: encodes (%d bytes)", n);
	if (n <= 0)
		return;
	m = msg_of(KATLSD_IPC_RESULT, enc, (size_t)n);
	tap_ok(katlsd_ipc_dec_result(&m, &out) == 0 && out.status == 0 &&
	       out.keys.len == r.keys.len &&
	       !memcmp(&out.keys.tx, &r.keys.tx, r.keys.len) &&
	       out.ev.measurement_len == 48 && !strcmp(out.ev.policy, "sim-demo"),
	       "result: round trip");
	katlsd_hs_result_wipe(&out);

	m = msg_of(KATLSD_IPC_RESULT, enc, (size_t)n - 1);
	tap_ok(katlsd_ipc_dec_result(&m, &out) == -EPROTO,
	       "result: one byte short refused");
#define MUTATE(what, off, val)						\
	do {								\
		memcpy(bad, enc, (size_t)n);				\
		put32(bad + (off), (val));				\
		m = msg_of(KATLSD_IPC_RESULT, bad, (size_t)n);		\
		tap_ok(katlsd_ipc_dec_result(&m, &out) == -EPROTO &&	\
		       out.keys.len == 0, "result: %s refused", what);	\
	} while (0)
	MUTATE("status 4096 (not an errno)", 0, 4096);
	MUTATE("negative status", 0, 0xffffffffu);
	MUTATE("key length not the cipher's", OFF_KLEN, 56);
	MUTATE("key length 0 with status 0", OFF_KLEN, 0);
	MUTATE("TLS 1.2 crypto_info", OFF_TX, TLS_1_2_VERSION);
	MUTATE("measurement length over the maximum", OFF_MLEN,
	       KATLS_MEASUREMENT_MAX + 1);
	MUTATE("a settle request with status 0", OFF_SETTLE,
	       KATLSD_SETTLE_ACKED);
#undef MUTATE
	memcpy(bad, enc, (size_t)n);
	memset(bad + OFF_REASON, 'A', 256);
	m = msg_of(KATLSD_IPC_RESULT, bad, (size_t)n);
	tap_ok(katlsd_ipc_dec_result(&m, &out) == -EPROTO,
	       "result: unterminated reason refused");
	memcpy(bad, enc, (size_t)n);
	memset(bad + OFF_POLICY, 'B', KATLS_POLICY_MAX);
	m = msg_of(KATLSD_IPC_RESULT, bad, (size_t)n);
	tap_ok(katlsd_ipc_dec_result(&m, &out) == -EPROTO,
	       "result: unterminated policy refused");
	/* a failure carrying keys */
	r.status = EACCES;
	n = katlsd_ipc_enc_result(&r, enc, sizeof(enc));
	put32(enc + OFF_KLEN, 40);
	m = msg_of(KATLSD_IPC_RESULT, enc, (size_t)n);
	tap_ok(katlsd_ipc_dec_result(&m, &out) == -EPROTO,
	       "result: a failure with a key length refused");
	put32(enc + OFF_KLEN, 0);
	tap_ok(katlsd_ipc_dec_result(&m, &out) == 0 && out.status == EACCES &&
	       out.keys.len == 0, "result: a failure decodes without keys");
	/* what the monitor waits for before DONE (alert before the reset) */
	r.status = EACCES;
	r.settle = KATLSD_SETTLE_PEER_CLOSED;
	n = katlsd_ipc_enc_result(&r, enc, sizeof(enc));
	m = msg_of(KATLSD_IPC_FAILED, enc, (size_t)n);
	tap_ok(katlsd_ipc_dec_result(&m, &out) == 0 &&
	       out.settle == KATLSD_SETTLE_PEER_CLOSED,
	       "result: a failure carries what to settle");
	put32(enc + OFF_SETTLE, KATLSD_SETTLE_PEER_CLOSED + 1);
	tap_ok(katlsd_ipc_dec_result(&m, &out) == -EPROTO,
	       "result: an unknown settle value refused");
}

static void test_evidence_rep(void)
{
	struct katlsd_evidence ev, out;
	struct katlsd_ipc_msg m;
	uint8_t p[88 + 16 + 2 * 64];
	int st, sp[2];

	memset(p, 0, sizeof(p));
	put32(p + 4, KATLS_EVIDENCE_SIM);
	memcpy(p + 8, "katls_sim", 10);
	put32(p + 72, 16);
	put32(p + 76, 0);
	put32(p + 80, 0);
	put32(p + 84, 1);
	m = msg_of(KATLSD_IPC_EVIDENCE_REP, p, 88 + 16);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == 0 && st == 0 &&
	       ev.evidence_len == 16 && !strcmp(ev.provider, "katls_sim") &&
	       ev.proof.tree_size == 1 && ev.proof.path_len == 0,
	       "evidence: 16 bytes decode, a batch of one");
	katlsd_evidence_free(&ev);
	put32(p + 84, 0);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == -EPROTO,
	       "evidence: tree size 0 refused");
	put32(p + 80, 1);
	put32(p + 84, 3);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == -EPROTO,
	       "evidence: leaf 1 of 3 without its 2-hash path refused");
	m = msg_of(KATLSD_IPC_EVIDENCE_REP, p, sizeof(p));
	memset(p + 88, 0xab, 2 * 64);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == 0 && st == 0 &&
	       ev.proof.leaf_index == 1 && ev.proof.tree_size == 3 &&
	       ev.proof.path_len == 2 && ev.proof.path[1][63] == 0xab &&
	       ev.evidence_len == 16,
	       "evidence: leaf 1 of 3 with its path decodes");
	katlsd_evidence_free(&ev);
	put32(p + 84, 2);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == -EPROTO,
	       "evidence: a path longer than (index, size) need refused");
	put32(p + 80, 0);
	put32(p + 84, 1);
	m = msg_of(KATLSD_IPC_EVIDENCE_REP, p, 88 + 16);
	put32(p + 72, 17);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == -EPROTO,
	       "evidence: length one past the packet refused");
	put32(p + 72, 0xfffffff0u);
	put32(p + 76, 0x20);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == -EPROTO,
	       "evidence: lengths that wrap around refused");
	put32(p + 72, 16);
	put32(p + 76, 0);
	memset(p + 8, 'x', 64);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == -EPROTO,
	       "evidence: unterminated provider refused");
	put32(p, 5);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == -EPROTO,
	       "evidence: positive status refused");
	memset(p, 0, 88);
	st = -ETIMEDOUT;
	memcpy(p, &st, 4);
	m = msg_of(KATLSD_IPC_EVIDENCE_REP, p, 88);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == 0 &&
	       st == -ETIMEDOUT, "evidence: a failure status decodes");
	put32(p + 84, 1);
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == -EPROTO,
	       "evidence: a failure with a proof refused");
	m = msg_of(KATLSD_IPC_SIGN_REP, p, sizeof(p));
	tap_ok(katlsd_ipc_dec_evidence_rep(&m, &st, &ev) == -EPROTO,
	       "evidence: wrong message type refused");

	/* the encoder: a round trip, and a proof that does not fit refused */
	memset(&ev, 0, sizeof(ev));
	ev.type = KATLS_EVIDENCE_SIM;
	ev.evidence = p;
	ev.evidence_len = 16;
	ev.proof.leaf_index = 4;
	ev.proof.tree_size = 5;
	ev.proof.path_len = 1;
	memset(ev.proof.path[0], 0x11, 64);
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp);
	st = katlsd_ipc_send_evidence_rep(sp[0], 0, &ev);
	st = st ? st : katlsd_ipc_recv(sp[1], buf, sizeof(buf), &m);
	st = st ? st : katlsd_ipc_dec_evidence_rep(&m, &st, &out);
	tap_ok(st == 0 && out.proof.leaf_index == 4 &&
	       out.proof.tree_size == 5 && out.proof.path_len == 1 &&
	       out.proof.path[0][0] == 0x11 && out.evidence_len == 16,
	       "evidence: encoder round trip with leaf 4 of 5");
	katlsd_evidence_free(&out);
	ev.proof.path_len = 2;
	tap_ok(katlsd_ipc_send_evidence_rep(sp[0], 0, &ev) == -EINVAL,
	       "evidence: encoder refuses a path that does not fit (index, size)");
	close(sp[0]);
	close(sp[1]);
}

/* ---- the monitor's limits ---- */

static gnutls_privkey_t mkey;

static int count_done(void *arg, const struct katlsd_hs_result *r)
{
	int *status = arg;

	*status = r->status;
	return 0;
}

static bool fake_batch;	/* fake_evidence: leaf 1 of 3 */

static int fake_evidence(void *arg, const uint8_t rd[64],
			 struct katlsd_evidence *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (fake_batch) {
		ev->proof.leaf_index = 1;
		ev->proof.tree_size = 3;
		ev->proof.path_len = 2;
		memset(ev->proof.path, 0x77, 2 * 64);
	}
	ev->type = KATLS_EVIDENCE_SIM;
	ev->evidence = malloc(64);
	if (!ev->evidence)
		return -ENOMEM;
	memcpy(ev->evidence, rd, 64);
	ev->evidence_len = 64;
	snprintf(ev->provider, sizeof(ev->provider), "test");
	return 0;
}

/*
 * A monitor in a child process; returns the ipc end for the "sandbox"
 * and, through *pid, the child.  The child exits with the DONE status.
 */
/* issue 14: the binding of the request's policy (monitor limits) */
static enum katls_policy_binding mon_binding;

static int start_monitor_peer(bool server, pid_t *pid, int *peer)
{
	static const struct katlsd_evidence_source src = { fake_evidence, NULL };
	int sp[2], tcp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, tcp))
		return -1;
	fflush(stdout);
	*pid = fork();
	if (*pid == 0) {
		struct katlsd_monitor m = {
			.fd = tcp[0], .timeout_ms = 2000, .evsrc = &src,
			.key = mkey, .server = server, .done = count_done,
			.binding = mon_binding,
		};
		int status = -1;

		m.done_arg = &status;
		close(sp[0]);
		katlsd_monitor_serve(&m, sp[1]);
		_exit(status);
	}
	close(sp[1]);
	close(tcp[0]);
	if (peer)
		*peer = tcp[1];
	else
		close(tcp[1]);
	return sp[0];
}

static int start_monitor(bool server, pid_t *pid)
{
	return start_monitor_peer(server, pid, NULL);
}

static int end_monitor(int ipc, pid_t pid)
{
	int status;

	close(ipc);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* One SIGN_REQ; returns the SIGN_REP status, or -EPIPE if the monitor quit. */
static int sign_once(int ipc, uint32_t algo, uint32_t kind, const void *d,
		     size_t len, gnutls_datum_t *sig)
{
	struct katlsd_ipc_msg m;
	uint8_t head[8];
	int st, ret;

	put32(head, algo);
	put32(head + 4, kind);
	if (katlsd_ipc_send(ipc, KATLSD_IPC_SIGN_REQ, head, 8, d, len, NULL, 0))
		return -EPIPE;
	ret = katlsd_ipc_recv(ipc, buf, sizeof(buf), &m);
	if (ret)
		return ret;
	if (katlsd_ipc_dec_status_rep(&m, KATLSD_IPC_SIGN_REP, 0,
				      KATLSD_IPC_SIG_MAX, &st, sig))
		return -EPROTO;
	return st;
}

static void test_monitor(void)
{
	uint8_t digest[32], rd[64];
	gnutls_datum_t sig, dd = { digest, 32 };
	gnutls_pubkey_t pub;
	struct katlsd_ipc_msg m;
	pid_t pid;
	int ipc, st;

	if (!tap_ok(gnutls_privkey_init(&mkey) == 0 &&
		    gnutls_privkey_generate(mkey, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
			0) == 0 &&
		    gnutls_pubkey_init(&pub) == 0 &&
		    gnutls_pubkey_import_privkey(pub, mkey, 0, 0) == 0,
		    "monitor: test key"))
		return;
	memset(digest, 0x5a, sizeof(digest));

	/* the one signature: a SHA-256 digest for ECDSA P-256 */
	ipc = start_monitor(true, &pid);
	st = sign_once(ipc, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
		       KATLSD_SIGN_HASH, digest, 32, &sig);
	tap_ok(st == 0 && sig.size &&
	       gnutls_pubkey_verify_hash2(pub,
					  GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
					  0, &dd, &sig) >= 0,
	       "monitor: signs one TLS 1.3 digest, the signature verifies");
	st = sign_once(ipc, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
		       KATLSD_SIGN_HASH, digest, 32, &sig);
	tap_ok(st == -EPIPE, "monitor: a second signature is refused (%d)",
	       st);
	tap_ok(end_monitor(ipc, pid) == EPROTO,
	       "monitor: ... and the request fails with EPROTO");

	ipc = start_monitor(true, &pid);
	st = sign_once(ipc, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
		       KATLSD_SIGN_HASH, digest, 31, &sig);
	tap_ok(st == -EPIPE && end_monitor(ipc, pid) == EPROTO,
	       "monitor: a digest of the wrong length is refused");

	ipc = start_monitor(true, &pid);
	st = sign_once(ipc, GNUTLS_SIGN_RSA_SHA256, KATLSD_SIGN_HASH, digest,
		       32, &sig);
	tap_ok(st == -EPIPE && end_monitor(ipc, pid) == EPROTO,
	       "monitor: a non-TLS 1.3 scheme (RSA PKCS#1) is refused");

	ipc = start_monitor(true, &pid);
	st = sign_once(ipc, GNUTLS_SIGN_EDDSA_ED25519, KATLSD_SIGN_DATA,
		       "not a CertificateVerify input", 29, &sig);
	tap_ok(st == -EPIPE && end_monitor(ipc, pid) == EPROTO,
	       "monitor: EdDSA over anything but a CertificateVerify input is refused");

	ipc = start_monitor(false, &pid);
	st = sign_once(ipc, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
		       KATLSD_SIGN_HASH, digest, 32, &sig);
	tap_ok(st == -EPIPE && end_monitor(ipc, pid) == EPROTO,
	       "monitor: no signature in the client role");

	/* one quote, then no more */
	memset(rd, 0x42, sizeof(rd));
	ipc = start_monitor(true, &pid);
	st = katlsd_ipc_send(ipc, KATLSD_IPC_EVIDENCE_REQ, rd, 64, NULL, 0,
			     NULL, 0);
	st = st ? st : katlsd_ipc_recv(ipc, buf, sizeof(buf), &m);
	tap_ok(st == 0 && m.type == KATLSD_IPC_EVIDENCE_REP && m.len == 88 + 64 &&
	       !memcmp(m.payload + 88, rd, 64),
	       "monitor: one quote over the sandbox's report data");
	st = katlsd_ipc_send(ipc, KATLSD_IPC_EVIDENCE_REQ, rd, 64, NULL, 0,
			     NULL, 0);
	st = st ? st : katlsd_ipc_recv(ipc, buf, sizeof(buf), &m);
	tap_ok(st == -EPIPE && end_monitor(ipc, pid) == EPROTO,
	       "monitor: a second quote is refused, the request fails");

	/* issue 13 item 2: a batch proof goes to the sandbox (was EOPNOTSUPP) */
	fake_batch = true;
	ipc = start_monitor(true, &pid);
	fake_batch = false;
	st = katlsd_ipc_send(ipc, KATLSD_IPC_EVIDENCE_REQ, rd, 64, NULL, 0,
			     NULL, 0);
	st = st ? st : katlsd_ipc_recv(ipc, buf, sizeof(buf), &m);
	{
		struct katlsd_evidence bev;
		int bst = -1;

		st = st ? st : katlsd_ipc_dec_evidence_rep(&m, &bst, &bev);
		tap_ok(st == 0 && bst == 0 && bev.proof.leaf_index == 1 &&
		       bev.proof.tree_size == 3 && bev.proof.path_len == 2 &&
		       bev.proof.path[1][0] == 0x77,
		       "monitor: evidence for a batch reaches the sandbox with its proof (leaf 1 of 3)");
		katlsd_evidence_free(&bev);
	}
	end_monitor(ipc, pid);

	ipc = start_monitor(true, &pid);
	katlsd_ipc_send(ipc, KATLSD_IPC_EVIDENCE_REQ, rd, 63, NULL, 0, NULL, 0);
	tap_ok(katlsd_ipc_recv(ipc, buf, sizeof(buf), &m) == -EPIPE &&
	       end_monitor(ipc, pid) == EPROTO,
	       "monitor: 63 bytes of report data refused");

	/*
	 * issue 14: binding = post | both adds the Exported Authenticator's
	 * signature (and, for both, its quote); EdDSA's second input must be
	 * an Exported Authenticator CertificateVerify input.
	 */
	mon_binding = KATLS_POLICY_BINDING_POST;
	ipc = start_monitor(true, &pid);
	st = sign_once(ipc, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
		       KATLSD_SIGN_HASH, digest, 32, &sig);
	st = st ? st : sign_once(ipc, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
				 KATLSD_SIGN_HASH, digest, 32, &sig);
	tap_ok(st == 0, "monitor, binding post: two signatures (%d)", st);
	st = sign_once(ipc, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
		       KATLSD_SIGN_HASH, digest, 32, &sig);
	tap_ok(st == -EPIPE && end_monitor(ipc, pid) == EPROTO,
	       "monitor, binding post: a third signature is refused");
	{
		uint8_t cv[64 + 34 + 32], ea[64 + 23 + 32];

		memset(cv, 0x20, 64);
		memcpy(cv + 64, "TLS 1.3, server CertificateVerify", 34);
		memset(cv + 98, 0x11, 32);
		memset(ea, 0x20, 64);
		memcpy(ea + 64, "Exported Authenticator", 23);
		memset(ea + 87, 0x11, 32);
		tap_ok(katlsd_ipc_ea_cv_input_ok(ea, sizeof(ea)) &&
		       !katlsd_ipc_ea_cv_input_ok(cv, sizeof(cv)) &&
		       !katlsd_ipc_ea_cv_input_ok(ea, sizeof(ea) - 1) &&
		       !katlsd_ipc_cv_input_ok(ea, sizeof(ea)),
		       "an Exported Authenticator CertificateVerify input is told apart");
		ipc = start_monitor(true, &pid);
		st = sign_once(ipc, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
			       KATLSD_SIGN_HASH, digest, 32, &sig);
		st = st ? st : sign_once(ipc, GNUTLS_SIGN_EDDSA_ED25519,
					 KATLSD_SIGN_DATA, cv, sizeof(cv),
					 &sig);
		tap_ok(st == -EPIPE && end_monitor(ipc, pid) == EPROTO,
		       "monitor, binding post: EdDSA's second input must be an authenticator's");
		ipc = start_monitor(true, &pid);
		st = sign_once(ipc, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
			       KATLSD_SIGN_HASH, digest, 32, &sig);
		st = st ? st : sign_once(ipc, GNUTLS_SIGN_EDDSA_ED25519,
					 KATLSD_SIGN_DATA, ea, sizeof(ea),
					 &sig);
		/* allowed; the P-256 key then cannot sign Ed25519 */
		tap_ok(st == -EKEYREJECTED,
		       "monitor, binding post: EdDSA over an authenticator's input passes the check (%d)",
		       st);
		end_monitor(ipc, pid);
	}
	mon_binding = KATLS_POLICY_BINDING_BOTH;
	ipc = start_monitor(true, &pid);
	for (int q = 0; q < 3; q++) {
		st = katlsd_ipc_send(ipc, KATLSD_IPC_EVIDENCE_REQ, rd, 64, NULL,
				     0, NULL, 0);
		st = st ? st : katlsd_ipc_recv(ipc, buf, sizeof(buf), &m);
		if (q < 2)
			tap_ok(st == 0 && m.type == KATLSD_IPC_EVIDENCE_REP,
			       "monitor, binding both: quote %d", q + 1);
	}
	tap_ok(st == -EPIPE && end_monitor(ipc, pid) == EPROTO,
	       "monitor, binding both: a third quote is refused");
	mon_binding = KATLS_POLICY_BINDING_POST;
	ipc = start_monitor(true, &pid);
	st = katlsd_ipc_send(ipc, KATLSD_IPC_EVIDENCE_REQ, rd, 64, NULL, 0,
			     NULL, 0);
	st = st ? st : katlsd_ipc_recv(ipc, buf, sizeof(buf), &m);
	st = st ? st : katlsd_ipc_send(ipc, KATLSD_IPC_EVIDENCE_REQ, rd, 64,
				       NULL, 0, NULL, 0);
	st = st ? st : katlsd_ipc_recv(ipc, buf, sizeof(buf), &m);
	tap_ok(st == -EPIPE && end_monitor(ipc, pid) == EPROTO,
	       "monitor, binding post: still one quote");
	mon_binding = KATLS_POLICY_BINDING_INTRA;

	/* a reply type sent to the monitor; then the sandbox just goes */
	ipc = start_monitor(true, &pid);
	katlsd_ipc_send(ipc, KATLSD_IPC_ACK, NULL, 0, NULL, 0, NULL, 0);
	tap_ok(katlsd_ipc_recv(ipc, buf, sizeof(buf), &m) == -EPIPE &&
	       end_monitor(ipc, pid) == EPROTO,
	       "monitor: a message of the wrong direction fails the request");
	ipc = start_monitor(true, &pid);
	tap_ok(end_monitor(ipc, pid) == ECONNABORTED,
	       "monitor: a sandbox gone without a result: ECONNABORTED");
	/* a RECORD_REQ whose wait is not a u32 */
	ipc = start_monitor(true, &pid);
	katlsd_ipc_send(ipc, KATLSD_IPC_RECORD_REQ, "abc", 3, NULL, 0, NULL, 0);
	tap_ok(katlsd_ipc_recv(ipc, buf, sizeof(buf), &m) == -EPIPE &&
	       end_monitor(ipc, pid) == EPROTO,
	       "monitor: a malformed RECORD_REQ fails the request");
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(mkey);
}

/*
 * One RECORD_REQ waiting ms; returns the RECORD_REP status (-EPIPE: the
 * monitor quit) and the record in rec[*len].
 */
static int record_once(int ipc, uint32_t ms, uint8_t *rec, size_t *len)
{
	struct katlsd_ipc_msg m;
	gnutls_datum_t d;
	int st, ret;

	*len = 0;
	if (katlsd_ipc_send(ipc, KATLSD_IPC_RECORD_REQ, &ms, 4, NULL, 0,
			    NULL, 0))
		return -EPIPE;
	ret = katlsd_ipc_recv(ipc, buf, sizeof(buf), &m);
	if (ret)
		return ret;
	if (katlsd_ipc_dec_status_rep(&m, KATLSD_IPC_RECORD_REP, 1,
				      KATLSD_IPC_RECORD_MAX, &st, &d))
		return -EPROTO;
	memcpy(rec, d.data, d.size);
	*len = d.size;
	return st;
}

/*
 * The monitor's side of the record relay: exactly one TLS record per
 * RECORD_REQ, never a byte of the next (what follows Finished must stay
 * in the socket for kTLS), a record that arrives in pieces, the wait,
 * an oversized length, the peer's close.
 */
static void test_record(void)
{
	static const uint8_t a[] = { 0x16, 3, 1, 0, 3, 'a', 'b', 'c' };
	static const uint8_t b[] = { 0x17, 3, 3, 0, 2, 'd', 'e' };
	static const uint8_t c[] = { 0x17, 3, 3, 0, 4, 'w', 'x', 'y', 'z' };
	static const uint8_t big[] = { 0x17, 3, 3, 0xff, 0xff };
	uint8_t two[sizeof(a) + sizeof(b)], rec[KATLSD_IPC_RECORD_MAX];
	size_t len;
	int ipc, peer, st;
	pid_t pid;

	ipc = start_monitor_peer(true, &pid, &peer);
	memcpy(two, a, sizeof(a));
	memcpy(two + sizeof(a), b, sizeof(b));
	if (!tap_ok(ipc >= 0 && write(peer, two, sizeof(two)) ==
			(ssize_t)sizeof(two), "record relay: set up"))
		return;
	st = record_once(ipc, GNUTLS_INDEFINITE_TIMEOUT, rec, &len);
	tap_ok(st == 1 && len == sizeof(a) && !memcmp(rec, a, len),
	       "record relay: the first of two queued records, alone (status %d, %zu bytes)",
	       st, len);
	st = record_once(ipc, GNUTLS_INDEFINITE_TIMEOUT, rec, &len);
	tap_ok(st == 1 && len == sizeof(b) && !memcmp(rec, b, len),
	       "record relay: then the second (status %d, %zu bytes)", st,
	       len);
	st = record_once(ipc, 50, rec, &len);
	tap_ok(st == 0 && len == 0,
	       "record relay: nothing within the wait: status 0, no bytes (status %d)",
	       st);
	/* a record in three pieces: header split, then the rest later */
	st = katlsd_ipc_send(ipc, KATLSD_IPC_RECORD_REQ,
			     &(uint32_t){ 1000 }, 4, NULL, 0, NULL, 0);
	if (!st && write(peer, c, 3) == 3) {
		usleep(30000);
		if (write(peer, c + 3, 4) != 4)
			st = -EIO;
		usleep(30000);
		if (write(peer, c + 7, sizeof(c) - 7) != sizeof(c) - 7)
			st = -EIO;
	}
	if (!st) {
		struct katlsd_ipc_msg m;
		gnutls_datum_t d;
		int rst = -1;

		st = katlsd_ipc_recv(ipc, buf, sizeof(buf), &m);
		st = st ? st : katlsd_ipc_dec_status_rep(&m, KATLSD_IPC_RECORD_REP,
							 1, KATLSD_IPC_RECORD_MAX,
							 &rst, &d);
		tap_ok(!st && rst == 1 && d.size == sizeof(c) &&
		       !memcmp(d.data, c, sizeof(c)),
		       "record relay: a record that arrives in three pieces comes whole");
	} else {
		tap_ok(0, "record relay: a record that arrives in three pieces comes whole (%d)",
		       st);
	}
	/* a length over any TLS record: the header alone, nothing more */
	if (write(peer, big, sizeof(big)) != sizeof(big) ||
	    write(peer, b, sizeof(b)) != sizeof(b))
		st = -EIO;
	st = record_once(ipc, GNUTLS_INDEFINITE_TIMEOUT, rec, &len);
	tap_ok(st == 1 && len == sizeof(big) && !memcmp(rec, big, len),
	       "record relay: a length over %d bytes: the header alone (status %d, %zu bytes)",
	       KATLSD_IPC_RECORD_MAX, st, len);
	st = record_once(ipc, GNUTLS_INDEFINITE_TIMEOUT, rec, &len);
	tap_ok(st == 1 && len == sizeof(b) && !memcmp(rec, b, len),
	       "record relay: ... and the bytes after it stay queued until asked (status %d, %zu bytes)",
	       st, len);
	shutdown(peer, SHUT_WR);
	st = record_once(ipc, GNUTLS_INDEFINITE_TIMEOUT, rec, &len);
	tap_ok(st == 1 && len == 0,
	       "record relay: the peer's close: status 1, no bytes (status %d)",
	       st);
	close(peer);
	end_monitor(ipc, pid);
}

/* ---- the sandbox ---- */

enum probe {
	PROBE_CHECKS,		/* exit 0 iff confined as documented */
	PROBE_NETLINK,		/* socket(AF_NETLINK): must die */
	PROBE_MKDIR,		/* a configfs-tsm entry: must die */
	PROBE_OPEN_WRITE,	/* open for writing: must die */
	PROBE_EXECVE,
	PROBE_KILL,
	PROBE_SETUID,
	PROBE_PTRACE,
	PROBE_THREAD,		/* the pool sandbox's threads: exit 0 */
	PROBE_FORK,		/* clone without CLONE_THREAD: must die */
};

static void *probe_thread(void *arg)
{
	return arg;
}

static int sandboxed(enum probe what)
{
	struct katlsd_sandbox sb = { 0 };
	int secret, status, keep;
	pid_t pid;

	secret = open("/dev/null", O_RDONLY);	/* stands for netlink/tsm */
	keep = open("/dev/null", O_RDONLY);	/* stands for the ipc */
	if (katlsd_sandbox_user(&sb))
		return -2;
	sb.keep_fds = &keep;
	sb.n_keep = 1;
	sb.parent = getpid();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (katlsd_sandbox_enter(&sb))
			_exit(100);
		switch (what) {
		case PROBE_CHECKS: {
			struct __user_cap_header_struct h = {
				.version = _LINUX_CAPABILITY_VERSION_3,
			};
			struct __user_cap_data_struct d[2];

			if (syscall(SYS_capget, &h, d) || d[0].effective ||
			    d[0].permitted || d[1].effective || d[1].permitted)
				_exit(1);
			if (sb.change_user && (getuid() == 0 || geteuid() == 0))
				_exit(2);
			if (fcntl(secret, F_GETFD) != -1 || errno != EBADF)
				_exit(3);
			if (fcntl(keep, F_GETFD) < 0)
				_exit(4);
			/* reading stays possible (roots, collateral) */
			if (open("/dev/null", O_RDONLY) < 0)
				_exit(5);
			_exit(0);
		}
		case PROBE_NETLINK:
			socket(AF_NETLINK, SOCK_RAW, 16);
			break;
		case PROBE_MKDIR:
			mkdir("/tmp/katlsd-sandbox-must-not", 0700);
			break;
		case PROBE_OPEN_WRITE:
			open("/dev/null", O_WRONLY);
			break;
		case PROBE_EXECVE:
			execl("/bin/true", "true", (char *)NULL);
			break;
		case PROBE_KILL:
			kill(getppid(), 0);
			break;
		case PROBE_SETUID:
			if (setuid(0) == 0)
				_exit(98);
			break;
		case PROBE_PTRACE:
			syscall(SYS_ptrace, 0, 0, 0, 0);
			break;
		case PROBE_THREAD: {
			pthread_t t[4];
			void *r;

			/* several, each joined: clone, futex, stacks */
			for (int i = 0; i < 4; i++)
				if (pthread_create(&t[i], NULL, probe_thread,
						   (void *)(long)(i + 1)))
					_exit(1);
			for (int i = 0; i < 4; i++)
				if (pthread_join(t[i], &r) || r != (void *)(long)(i + 1))
					_exit(2);
			_exit(0);
		}
		case PROBE_FORK:
			if (fork() == 0)
				_exit(0);
			break;
		}
		_exit(99);	/* the call returned: not confined */
	}
	close(secret);
	close(keep);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -3;
	return status;
}

static void test_sandbox(void)
{
	static const struct {
		enum probe p;
		const char *name;
	} forbidden[] = {
		{ PROBE_NETLINK, "socket(AF_NETLINK)" },
		{ PROBE_MKDIR, "mkdir (a configfs-tsm entry)" },
		{ PROBE_OPEN_WRITE, "open for writing" },
		{ PROBE_EXECVE, "execve" },
		{ PROBE_KILL, "kill" },
		{ PROBE_SETUID, "setuid" },
		{ PROBE_PTRACE, "ptrace" },
		{ PROBE_FORK, "fork (clone without CLONE_THREAD)" },
	};
	int st = sandboxed(PROBE_CHECKS);

	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "sandbox: no capabilities, %s, other fds closed, kept fd open, read-only open allowed (status 0x%x)",
	       geteuid() == 0 ? "not root" : "(not run as root)", st);
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		st = sandboxed(forbidden[i].p);
		tap_ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
		       "sandbox: %s kills it with SIGSYS (status 0x%x)",
		       forbidden[i].name, st);
	}
	rmdir("/tmp/katlsd-sandbox-must-not");
	st = sandboxed(PROBE_THREAD);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "sandbox: threads can be created and joined (the pool sandbox, issue 13 item 3) (status 0x%x)",
	       st);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	tap_plan_lazy();
	katlsd_log_open(true, LOG_CRIT);
	if (gnutls_global_init() < 0)
		return 1;
	test_framing();
	test_result();
	test_evidence_rep();
	test_monitor();
	test_record();
	test_sandbox();
	gnutls_global_deinit();
	return tap_done();
}
