// SPDX-License-Identifier: GPL-2.0
/*
 * privsep.c - the monitor/sandbox protocol of one request (privsep.h has
 * the messages and the limits).
 *
 * Nothing here trusts the other side: every message is one packet of a
 * SOCK_SEQPACKET pair, read into a bounded buffer, its header checked
 * against what arrived, every field length checked exactly.  Buffers that
 * held keys, signatures or traffic secrets are wiped before they are
 * freed or go out of scope.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include <linux/tls.h>
#include <gnutls/crypto.h>
#include <katls/tsm.h>

#include "katlsd.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"

/* ---- framing ---- */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

int katlsd_ipc_send(int fd, uint32_t type, const void *a, size_t alen,
		    const void *b, size_t blen, const void *c, size_t clen)
{
	uint8_t hdr[KATLSD_IPC_HDR_LEN];
	struct iovec iov[4] = {
		{ hdr, sizeof(hdr) },
		{ (void *)a, alen },
		{ (void *)b, blen },
		{ (void *)c, clen },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 4 };
	size_t len = alen + blen + clen;
	ssize_t n;

	if (len > KATLSD_IPC_MAX - KATLSD_IPC_HDR_LEN)
		return -EMSGSIZE;
	put32(hdr, type);
	put32(hdr + 4, (uint32_t)len);
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len + sizeof(hdr) ? 0 : -EIO;
}

int katlsd_ipc_parse(const uint8_t *buf, size_t n, struct katlsd_ipc_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (n < KATLSD_IPC_HDR_LEN)
		return -EPROTO;
	m->type = get32(buf);
	m->len = get32(buf + 4);
	if (m->type < KATLSD_IPC_EVIDENCE_REQ || m->type > KATLSD_IPC_TYPE_MAX)
		return -EPROTO;
	if ((size_t)m->len != n - KATLSD_IPC_HDR_LEN)
		return -EPROTO;
	m->payload = buf + KATLSD_IPC_HDR_LEN;
	return 0;
}


int katlsd_ipc_send_fd(int fd, uint32_t type, const void *a, size_t alen,
		       int pass)
{
	uint8_t hdr[KATLSD_IPC_HDR_LEN];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)a, alen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2,
			     .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	struct cmsghdr *c;
	ssize_t n;

	if (alen > KATLSD_IPC_MAX - KATLSD_IPC_HDR_LEN || pass < 0)
		return -EINVAL;
	memset(&cm, 0, sizeof(cm));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pass, sizeof(int));
	put32(hdr, type);
	put32(hdr + 4, (uint32_t)alen);
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == alen + sizeof(hdr) ? 0 : -EIO;
}

int katlsd_ipc_recv_fd(int fd, uint8_t *buf, size_t cap,
		       struct katlsd_ipc_msg *m, int *pfd)
{
	/* room for two: a second one is refused, not silently dropped */
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	struct cmsghdr *c;
	int got = -1, bad = 0, ret;
	ssize_t n;

	*pfd = -1;
	memset(m, 0, sizeof(*m));
	if (cap < KATLSD_IPC_HDR_LEN)
		return -EINVAL;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k, nfd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < nfd; k++) {
			int x;

			memcpy(&x, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (got < 0 && !bad) {
				got = x;
			} else {
				close(x);
				bad = 1;
			}
		}
	}
	if (n == 0)
		ret = -EPIPE;
	else if (mh.msg_flags & MSG_TRUNC)
		ret = -EMSGSIZE;
	else if (bad || (mh.msg_flags & MSG_CTRUNC))
		ret = -EPROTO;
	else
		ret = katlsd_ipc_parse(buf, (size_t)n, m);
	if (ret) {
		if (got >= 0)
			close(got);
		return ret;
	}
	*pfd = got;
	return 0;
}

/* A message that may not carry a descriptor: one that does is EPROTO. */
int katlsd_ipc_recv(int fd, uint8_t *buf, size_t cap,
		    struct katlsd_ipc_msg *m)
{
	int pass, ret = katlsd_ipc_recv_fd(fd, buf, cap, m, &pass);

	if (ret || pass < 0)
		return ret;
	close(pass);
	memset(m, 0, sizeof(*m));
	return -EPROTO;
}

/* ---- the pool's control messages ---- */

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

void katlsd_ipc_enc_slot_req(const struct katlsd_ipc_slot_req *r,
			     uint8_t out[KATLSD_IPC_SLOT_REQ_LEN])
{
	put64(out, r->tag);
	put64(out + 8, r->deadline_ms);
	put32(out + 16, r->uid);
	put32(out + 20, r->peer.family);
	memcpy(out + 24, r->peer.addr, 16);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

int katlsd_ipc_dec_slot_req(const struct katlsd_ipc_msg *m,
			    struct katlsd_ipc_slot_req *r)
{
	const uint8_t *p = m->payload;

	memset(r, 0, sizeof(*r));
	if (m->type != KATLSD_IPC_SLOT_REQ || m->len != KATLSD_IPC_SLOT_REQ_LEN)
		return -EPROTO;
	r->tag = get64(p);
	r->deadline_ms = get64(p + 8);
	r->uid = get32(p + 16);
	r->peer.family = get32(p + 20);
	memcpy(r->peer.addr, p + 24, 16);
	if ((r->peer.family == 0 && !all_zero(r->peer.addr, 16)) ||
	    (r->peer.family == AF_INET && !all_zero(r->peer.addr + 4, 12)) ||
	    (r->peer.family != 0 && r->peer.family != AF_INET &&
	     r->peer.family != AF_INET6)) {
		memset(r, 0, sizeof(*r));
		return -EPROTO;
	}
	return 0;
}

void katlsd_ipc_enc_slot_rep(uint64_t tag, int32_t status,
			     uint8_t out[KATLSD_IPC_SLOT_REP_LEN])
{
	put64(out, tag);
	memcpy(out + 8, &status, 4);
}

int katlsd_ipc_dec_slot_rep(const struct katlsd_ipc_msg *m, uint64_t *tag,
			    int32_t *status)
{
	int32_t st;

	*tag = 0;
	*status = 0;
	if (m->type != KATLSD_IPC_SLOT_REP || m->len != KATLSD_IPC_SLOT_REP_LEN)
		return -EPROTO;
	memcpy(&st, m->payload + 8, 4);
	if (st != 0 && st != 1 && st != -EBUSY && st != -ETIMEDOUT)
		return -EPROTO;
	*tag = get64(m->payload);
	*status = st;
	return 0;
}

void katlsd_ipc_enc_start(const struct katlsd_ipc_start *s,
			  uint8_t out[KATLSD_IPC_START_LEN])
{
	memset(out, 0, KATLSD_IPC_START_LEN);
	put64(out, s->tag);
	put32(out + 8, s->role);
	put32(out + 12, s->timeout_ms);
	memcpy(out + 16, s->policy, KATLS_POLICY_MAX);
	out[16 + KATLS_POLICY_MAX - 1] = '\0';
	memcpy(out + 16 + KATLS_POLICY_MAX, s->peername, KATLS_PEERNAME_MAX);
	out[KATLSD_IPC_START_LEN - 1] = '\0';
}

int katlsd_ipc_dec_start(const struct katlsd_ipc_msg *m,
			 struct katlsd_ipc_start *s)
{
	const uint8_t *p = m->payload;

	memset(s, 0, sizeof(*s));
	if (m->type != KATLSD_IPC_START || m->len != KATLSD_IPC_START_LEN)
		return -EPROTO;
	s->tag = get64(p);
	s->role = get32(p + 8);
	s->timeout_ms = get32(p + 12);
	memcpy(s->policy, p + 16, KATLS_POLICY_MAX);
	memcpy(s->peername, p + 16 + KATLS_POLICY_MAX, KATLS_PEERNAME_MAX);
	if ((s->role != KATLS_ROLE_CLIENT && s->role != KATLS_ROLE_SERVER) ||
	    s->timeout_ms > KATLS_TIMEOUT_MAX_MS ||
	    !memchr(s->policy, '\0', KATLS_POLICY_MAX) || !s->policy[0] ||
	    !memchr(s->peername, '\0', KATLS_PEERNAME_MAX)) {
		memset(s, 0, sizeof(*s));
		return -EPROTO;
	}
	return 0;
}

/* ---- payloads ---- */

/* A fixed-size string field: NUL-terminated inside its bound. */
static bool str_ok(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

#define RES_LEN (4 + sizeof(((struct katlsd_hs_result *)0)->reason) + 4 + \
		 2 * sizeof(union katls_crypto_info) + RES_SUM_LEN + 4 + \
		 RES_CLIENT_LEN)
/* a summary: type, level, digest, measurement length and bytes, policy */
#define RES_SUM_LEN (4 + 4 + KATLS_DIGEST_LEN + 4 + KATLS_MEASUREMENT_MAX + \
		     KATLS_POLICY_MAX)
/* issue 14 item 3: attested, then the client's summary */
#define RES_CLIENT_LEN (4 + RES_SUM_LEN)

static void enc_summary(uint8_t *p, const struct katlsd_summary *s)
{
	put32(p, s->evidence_type);
	put32(p + 4, s->binding_level);
	p += 8;
	memcpy(p, s->digest, KATLS_DIGEST_LEN);
	p += KATLS_DIGEST_LEN;
	put32(p, (uint32_t)(s->measurement_len <= KATLS_MEASUREMENT_MAX ?
			    s->measurement_len : 0));
	memcpy(p + 4, s->measurement, KATLS_MEASUREMENT_MAX);
	p += 4 + KATLS_MEASUREMENT_MAX;
	memcpy(p, s->policy, KATLS_POLICY_MAX);
	p[KATLS_POLICY_MAX - 1] = '\0';
}

static int dec_summary(const uint8_t *p, struct katlsd_summary *s)
{
	uint32_t mlen;

	s->evidence_type = get32(p);
	s->binding_level = get32(p + 4);
	p += 8;
	memcpy(s->digest, p, KATLS_DIGEST_LEN);
	p += KATLS_DIGEST_LEN;
	mlen = get32(p);
	if (mlen > KATLS_MEASUREMENT_MAX)
		return -EPROTO;
	s->measurement_len = mlen;
	memcpy(s->measurement, p + 4, KATLS_MEASUREMENT_MAX);
	p += 4 + KATLS_MEASUREMENT_MAX;
	memcpy(s->policy, p, KATLS_POLICY_MAX);
	return str_ok(s->policy, KATLS_POLICY_MAX) ? 0 : -EPROTO;
}

int katlsd_ipc_enc_result(const struct katlsd_hs_result *r, uint8_t *out,
			  size_t cap)
{
	uint8_t *p = out;

	if (cap < RES_LEN)
		return -EMSGSIZE;
	memset(out, 0, RES_LEN);
	put32(p, (uint32_t)r->status);
	p += 4;
	memcpy(p, r->reason, sizeof(r->reason));
	p[sizeof(r->reason) - 1] = '\0';
	p += sizeof(r->reason);
	if (!r->status) {
		put32(p, (uint32_t)r->keys.len);
		memcpy(p + 4, &r->keys.tx, sizeof(r->keys.tx));
		memcpy(p + 4 + sizeof(r->keys.tx), &r->keys.rx,
		       sizeof(r->keys.rx));
	}
	p += 4 + 2 * sizeof(union katls_crypto_info);
	enc_summary(p, &r->ev);
	p += RES_SUM_LEN;
	put32(p, r->status ? (uint32_t)r->settle : 0);
	p += 4;
	/* issue 14 item 3: the client's evidence (success only) */
	if (!r->status && r->client_attested) {
		put32(p, 1);
		enc_summary(p + 4, &r->client);
	}
	p += RES_CLIENT_LEN;
	return (int)(p - out);
}

int katlsd_ipc_dec_result(const struct katlsd_ipc_msg *m,
			  struct katlsd_hs_result *r)
{
	const uint8_t *p = m->payload;
	uint32_t status, klen, settle;

	memset(r, 0, sizeof(*r));
	if (m->len != RES_LEN)
		return -EPROTO;
	status = get32(p);
	/* 0, or a positive errno. */
	if (status > 4095)
		goto bad;
	r->status = (int)status;
	p += 4;
	memcpy(r->reason, p, sizeof(r->reason));
	if (!str_ok(r->reason, sizeof(r->reason)))
		goto bad;
	p += sizeof(r->reason);
	klen = get32(p);
	if (!r->status) {
		memcpy(&r->keys.tx, p + 4, sizeof(r->keys.tx));
		memcpy(&r->keys.rx, p + 4 + sizeof(r->keys.tx),
		       sizeof(r->keys.rx));
		r->keys.len = klen;
		if (!klen || klen != katls_crypto_info_len(&r->keys.tx) ||
		    r->keys.rx.info.cipher_type != r->keys.tx.info.cipher_type ||
		    r->keys.rx.info.version != TLS_1_3_VERSION)
			goto bad;
	} else if (klen) {
		goto bad;
	}
	p += 4 + 2 * sizeof(union katls_crypto_info);
	if (dec_summary(p, &r->ev))
		goto bad;
	p += RES_SUM_LEN;
	settle = get32(p);
	if (settle > KATLSD_SETTLE_PEER_CLOSED || (settle && !r->status))
		goto bad;
	r->settle = (enum katlsd_settle)settle;
	p += 4;
	/* issue 14 item 3: the client's evidence */
	switch (get32(p)) {
	case 0:
		break;
	case 1:
		if (r->status)
			goto bad;
		r->client_attested = true;
		if (dec_summary(p + 4, &r->client) ||
		    r->client.evidence_type <= KATLS_EVIDENCE_NONE ||
		    r->client.evidence_type > KATLS_EVIDENCE_MAX ||
		    r->client.binding_level != KATLS_BINDING_L3)
			goto bad;
		break;
	default:
		goto bad;
	}
	return 0;
bad:
	katlsd_hs_result_wipe(r);
	memset(r, 0, sizeof(*r));
	return -EPROTO;
}

/*
 * EVIDENCE_REP: i32 status, u32 type, provider[64], u32 evidence length,
 * u32 aux length, u32 leaf index, u32 tree size, then the audit path
 * (exactly katls_merkle_path_len(index, size) hashes), the evidence and
 * the aux blob.  A failure carries zeros and nothing after the fixed part.
 */
#define EVREP_FIXED	(4 + 4 + 64 + 4 + 4 + 4 + 4)

int katlsd_ipc_send_evidence_rep(int fd, int32_t st,
				 const struct katlsd_evidence *ev)
{
	uint8_t fixed[EVREP_FIXED + KATLS_MERKLE_MAX_PATH *
		      KATLS_MERKLE_HASH_LEN];
	struct katls_merkle_proof single;
	const struct katls_merkle_proof *pr;
	size_t plen;
	int n;

	if (st > 0 || st < -4095)
		return -EINVAL;
	memset(fixed, 0, EVREP_FIXED);
	memcpy(fixed, &st, 4);
	if (st)
		return katlsd_ipc_send(fd, KATLSD_IPC_EVIDENCE_REP, fixed,
				       EVREP_FIXED, NULL, 0, NULL, 0);
	if (!ev || !ev->evidence_len ||
	    ev->evidence_len > KATLS_TSM_OUTBLOB_MAX ||
	    ev->aux_len > KATLS_TSM_AUXBLOB_MAX)
		return -EINVAL;
	/* A source that does not batch: a batch of one. */
	pr = &ev->proof;
	if (!pr->tree_size) {
		katls_merkle_proof_single(&single);
		pr = &single;
	}
	n = katls_merkle_path_len(pr->leaf_index, pr->tree_size);
	if (n < 0 || (unsigned int)n != pr->path_len)
		return -EINVAL;
	plen = (size_t)n * KATLS_MERKLE_HASH_LEN;
	put32(fixed + 4, ev->type);
	memcpy(fixed + 8, ev->provider, 64);
	fixed[8 + 63] = '\0';
	put32(fixed + 72, (uint32_t)ev->evidence_len);
	put32(fixed + 76, (uint32_t)ev->aux_len);
	put32(fixed + 80, pr->leaf_index);
	put32(fixed + 84, pr->tree_size);
	memcpy(fixed + EVREP_FIXED, pr->path, plen);
	n = katlsd_ipc_send(fd, KATLSD_IPC_EVIDENCE_REP, fixed,
			    EVREP_FIXED + plen, ev->evidence,
			    ev->evidence_len, ev->aux, ev->aux_len);
	explicit_bzero(fixed, sizeof(fixed));
	return n;
}

int katlsd_ipc_dec_evidence_rep(const struct katlsd_ipc_msg *m, int *status,
				struct katlsd_evidence *ev)
{
	const uint8_t *p = m->payload;
	uint32_t evlen, auxlen, leaf, size;
	size_t plen;
	int32_t st;
	int n;

	memset(ev, 0, sizeof(*ev));
	if (m->type != KATLSD_IPC_EVIDENCE_REP || m->len < EVREP_FIXED)
		return -EPROTO;
	memcpy(&st, p, 4);
	evlen = get32(p + 72);
	auxlen = get32(p + 76);
	leaf = get32(p + 80);
	size = get32(p + 84);
	if (st > 0 || st < -4095)
		return -EPROTO;
	if (st) {
		*status = st;
		return evlen || auxlen || leaf || size ||
		       m->len != EVREP_FIXED ? -EPROTO : 0;
	}
	n = katls_merkle_path_len(leaf, size);
	if (n < 0)
		return -EPROTO;
	plen = (size_t)n * KATLS_MERKLE_HASH_LEN;
	if (evlen > KATLS_TSM_OUTBLOB_MAX || auxlen > KATLS_TSM_AUXBLOB_MAX ||
	    !evlen)
		return -EPROTO;
	if ((size_t)evlen + auxlen + plen != m->len - EVREP_FIXED)
		return -EPROTO;
	*status = 0;
	ev->type = get32(p + 4);
	memcpy(ev->provider, p + 8, 64);
	if (!str_ok(ev->provider, sizeof(ev->provider)))
		return -EPROTO;
	ev->proof.leaf_index = leaf;
	ev->proof.tree_size = size;
	ev->proof.path_len = (unsigned int)n;
	memcpy(ev->proof.path, p + EVREP_FIXED, plen);
	p += EVREP_FIXED + plen;
	ev->evidence = malloc(evlen);
	ev->aux = auxlen ? malloc(auxlen) : NULL;
	if (!ev->evidence || (auxlen && !ev->aux)) {
		katlsd_evidence_free(ev);
		*status = -ENOMEM;
		return 0;
	}
	memcpy(ev->evidence, p, evlen);
	ev->evidence_len = evlen;
	if (auxlen)
		memcpy(ev->aux, p + evlen, auxlen);
	ev->aux_len = auxlen;
	return 0;
}

int katlsd_ipc_dec_broker_req(const struct katlsd_ipc_msg *m,
			      uint8_t binder[KATLS_MERKLE_BINDER_LEN],
			      uint64_t *deadline_ms)
{
	if (m->type != KATLSD_IPC_BROKER_REQ ||
	    m->len != KATLS_MERKLE_BINDER_LEN + 8)
		return -EPROTO;
	memcpy(binder, m->payload, KATLS_MERKLE_BINDER_LEN);
	memcpy(deadline_ms, m->payload + KATLS_MERKLE_BINDER_LEN, 8);
	return 0;
}

int katlsd_ipc_dec_sign_req(const struct katlsd_ipc_msg *m, uint32_t *algo,
			    uint32_t *kind, gnutls_datum_t *data)
{
	if (m->type != KATLSD_IPC_SIGN_REQ || m->len < 9 ||
	    m->len > 8 + KATLSD_IPC_SIGN_DATA_MAX)
		return -EPROTO;
	*algo = get32(m->payload);
	*kind = get32(m->payload + 4);
	if (*kind != KATLSD_SIGN_DATA && *kind != KATLSD_SIGN_HASH)
		return -EPROTO;
	data->data = (unsigned char *)m->payload + 8;
	data->size = m->len - 8;
	return 0;
}

/* The signature schemes of TLS 1.3 (RFC 8446 4.2.3) that kTLS peers use. */
static const gnutls_sign_algorithm_t tls13_algos[] = {
	GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, GNUTLS_SIGN_ECDSA_SECP384R1_SHA384,
	GNUTLS_SIGN_ECDSA_SECP521R1_SHA512, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256,
	GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, GNUTLS_SIGN_RSA_PSS_RSAE_SHA512,
	GNUTLS_SIGN_RSA_PSS_SHA256, GNUTLS_SIGN_RSA_PSS_SHA384,
	GNUTLS_SIGN_RSA_PSS_SHA512, GNUTLS_SIGN_EDDSA_ED25519,
	GNUTLS_SIGN_EDDSA_ED448,
};

static bool sign_ok(uint32_t algo, uint32_t kind, const gnutls_datum_t *data,
		    bool ea);

bool katlsd_ipc_sign_ok(uint32_t algo, uint32_t kind,
			const gnutls_datum_t *data)
{
	return sign_ok(algo, kind, data, false);
}

bool katlsd_ipc_sign_ok_ea(uint32_t algo, uint32_t kind,
			   const gnutls_datum_t *data)
{
	return sign_ok(algo, kind, data, true);
}

static bool sign_ok(uint32_t algo, uint32_t kind, const gnutls_datum_t *data,
		    bool ea)
{
	gnutls_sign_algorithm_t a = (gnutls_sign_algorithm_t)algo;
	bool known = false;
	size_t i;

	for (i = 0; i < sizeof(tls13_algos) / sizeof(tls13_algos[0]); i++)
		known |= tls13_algos[i] == a;
	if (!known)
		return false;
	if (a == GNUTLS_SIGN_EDDSA_ED25519 || a == GNUTLS_SIGN_EDDSA_ED448)
		/* not prehashed: the whole input, which we can check */
		return kind == KATLSD_SIGN_DATA &&
		       (ea ? katlsd_ipc_ea_cv_input_ok(data->data, data->size) :
			katlsd_ipc_cv_input_ok(data->data, data->size));
	/* prehashed: exactly one digest of the scheme's hash */
	return kind == KATLSD_SIGN_HASH &&
	       data->size == gnutls_hash_get_len(
				     (gnutls_digest_algorithm_t)
				     gnutls_sign_get_hash_algorithm(a));
}

int katlsd_ipc_dec_status_rep(const struct katlsd_ipc_msg *m, uint32_t type,
			      int32_t max_status, size_t max_data,
			      int *status, gnutls_datum_t *data)
{
	int32_t st;

	data->data = NULL;
	data->size = 0;
	if (m->type != type || m->len < 4)
		return -EPROTO;
	memcpy(&st, m->payload, 4);
	if (st > max_status || st < -4095)
		return -EPROTO;
	if (m->len > 4 && (st != max_status || m->len - 4 > max_data))
		return -EPROTO;
	*status = st;
	data->data = (unsigned char *)m->payload + 4;
	data->size = m->len - 4;
	return 0;
}

/*
 * A CertificateVerify signing input: 64 spaces, the context string with
 * its zero byte, a SHA-256/384/512 transcript hash.
 */
static bool cv_input_ok(const uint8_t *data, size_t len, const char *context,
			size_t context_size)
{
	size_t pre = 64 + context_size;
	size_t i;

	if (len != pre + 32 && len != pre + 48 && len != pre + 64)
		return false;
	for (i = 0; i < 64; i++)
		if (data[i] != 0x20)
			return false;
	return !memcmp(data + 64, context, context_size);
}

/* RFC 8446 4.4.3: what a TLS 1.3 server signs in CertificateVerify. */
static const char cv_context[] = "TLS 1.3, server CertificateVerify";

bool katlsd_ipc_cv_input_ok(const uint8_t *data, size_t len)
{
	return cv_input_ok(data, len, cv_context, sizeof(cv_context));
}

/* RFC 9261 5.2.2: what an Exported Authenticator's CertificateVerify signs. */
static const char ea_cv_context[] = "Exported Authenticator";

bool katlsd_ipc_ea_cv_input_ok(const uint8_t *data, size_t len)
{
	return cv_input_ok(data, len, ea_cv_context, sizeof(ea_cv_context));
}

/* ---- monitor ---- */

/*
 * issue 14: what a request may ask of the monitor.  binding = post adds
 * the Exported Authenticator's signature, both also its quote.
 */
static unsigned int max_quotes(const struct katlsd_monitor *m)
{
	/* issue 14 item 3: a client quotes once, if its policy consents */
	if (!m->server)
		return m->client_attest ? 1 : 0;
	return m->binding == KATLS_POLICY_BINDING_BOTH ? 2 : 1;
}

static unsigned int max_signatures(const struct katlsd_monitor *m)
{
	return m->binding == KATLS_POLICY_BINDING_INTRA ? 1 : 2;
}

static int send_status(int ipc, uint32_t type, int32_t st)
{
	return katlsd_ipc_send(ipc, type, &st, 4, NULL, 0, NULL, 0);
}

static int serve_evidence(struct katlsd_monitor *m, int ipc,
			  const struct katlsd_ipc_msg *msg)
{
	struct katlsd_evidence ev = { 0 };
	int32_t st;
	int ret;

	if (!m->evsrc) {
		st = -ENODEV;
	} else {
		st = m->evsrc->get(m->evsrc->arg, msg->payload, &ev);
		if (!st && (!ev.evidence_len ||
			    ev.evidence_len > KATLS_TSM_OUTBLOB_MAX ||
			    ev.aux_len > KATLS_TSM_AUXBLOB_MAX))
			st = -EFBIG;
		/*
		 * The proof goes with the evidence (a batch of 2+ becomes a
		 * KatlsEvidence version 2 record in the sandbox); one that
		 * does not fit its (index, size) is the source's bug.
		 */
		if (!st && ev.proof.tree_size &&
		    katls_merkle_proof_check(&ev.proof))
			st = -EIO;
		if (st > 0 || st < -4095)
			st = -EIO;
	}
	ret = katlsd_ipc_send_evidence_rep(ipc, st, st ? NULL : &ev);
	katlsd_evidence_free(&ev);
	return ret;
}

static int serve_sign(struct katlsd_monitor *m, int ipc,
		      const struct katlsd_ipc_msg *msg)
{
	gnutls_datum_t data, sig = { NULL, 0 };
	uint32_t algo, kind;
	int32_t st = 0;
	int ret;

	if (katlsd_ipc_dec_sign_req(msg, &algo, &kind, &data))
		return -EPROTO;
	/* the second signature is the Exported Authenticator's (issue 14) */
	if (!sign_ok(algo, kind, &data, m->signatures > 1)) {
		kerr("sandbox asked for a signature that is not a TLS 1.3 CertificateVerify");
		return -EPROTO;
	}
	if (kind == KATLSD_SIGN_HASH)
		ret = gnutls_privkey_sign_hash2(m->key,
						(gnutls_sign_algorithm_t)algo,
						0, &data, &sig);
	else
		ret = gnutls_privkey_sign_data2(m->key,
						(gnutls_sign_algorithm_t)algo,
						0, &data, &sig);
	if (ret < 0) {
		kwarn("signature (%s): %s",
		      gnutls_sign_get_name((gnutls_sign_algorithm_t)algo),
		      gnutls_strerror(ret));
		st = -EKEYREJECTED;
	} else if (!sig.size || sig.size > KATLSD_IPC_SIG_MAX) {
		st = -EMSGSIZE;
	}
	if (st)
		ret = send_status(ipc, KATLSD_IPC_SIGN_REP, st);
	else
		ret = katlsd_ipc_send(ipc, KATLSD_IPC_SIGN_REP, &st, 4,
				      sig.data, sig.size, NULL, 0);
	if (sig.data) {
		explicit_bzero(sig.data, sig.size);
		gnutls_free(sig.data);
	}
	return ret;
}

/* ms until the deadline (at least 0), or -1 without one. */
static int left_ms(const struct katlsd_monitor *m)
{
	struct timespec now;
	long long ms;

	if (!m->timeout_ms)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(m->deadline.tv_sec - now.tv_sec) * 1000 +
	     (m->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* poll the TCP socket: 1 ready, 0 timeout, -errno */
static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	int n;

	do
		n = poll(&pfd, 1, ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n;
}

/* The wait of a RECORD_REQ, bounded by the deadline; -1: none. */
static int wait_bound(const struct katlsd_monitor *m, uint32_t ms)
{
	int left = left_ms(m);

	if (ms != GNUTLS_INDEFINITE_TIMEOUT && ms <= INT32_MAX &&
	    (left < 0 || (int)ms < left))
		left = (int)ms;
	return left;
}

/*
 * Read one TLS record into buf: the header, then what its length field
 * says (the header alone if that is over KATLSD_IPC_RECORD_MAX).  Never
 * a byte past the record.  1 with *have bytes (fewer than a record, 0
 * included: the peer closed), or -errno (-EAGAIN: the deadline passed).
 */
static int read_record(struct katlsd_monitor *m, uint8_t *buf, size_t *have)
{
	size_t want = KATLSD_TLS_HDR_LEN;
	ssize_t n;
	int st;

	*have = 0;
	while (*have < want) {
		n = recv(m->fd, buf + *have, want - *have, MSG_DONTWAIT);
		if (n == 0)
			return 1;
		if (n > 0) {
			*have += (size_t)n;
			if (*have == KATLSD_TLS_HDR_LEN) {
				size_t len = (size_t)buf[3] << 8 | buf[4];

				if (KATLSD_TLS_HDR_LEN + len <=
				    KATLSD_IPC_RECORD_MAX)
					want += len;
			}
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		st = wait_fd(m->fd, POLLIN, left_ms(m));
		if (st <= 0)
			return st ? st : -EAGAIN;
	}
	return 1;
}

static int serve_record(struct katlsd_monitor *m, int ipc,
			const struct katlsd_ipc_msg *msg, uint8_t *buf)
{
	size_t have = 0;
	int32_t st;

	if (msg->len != 4)
		return -EPROTO;
	st = wait_fd(m->fd, POLLIN, wait_bound(m, get32(msg->payload)));
	if (st > 0)
		st = read_record(m, buf, &have);
	if (st != 1)
		have = 0;
	return katlsd_ipc_send(ipc, KATLSD_IPC_RECORD_REP, &st, 4, buf, have,
			       NULL, 0);
}

static int serve_send(struct katlsd_monitor *m, int ipc,
		      const struct katlsd_ipc_msg *msg)
{
	size_t off = 0;
	int32_t st = 0;

	if (!msg->len || msg->len > KATLSD_IPC_IO_MAX)
		return -EPROTO;
	while (off < msg->len) {
		ssize_t n = send(m->fd, msg->payload + off, msg->len - off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			st = -errno;
			break;
		}
		st = wait_fd(m->fd, POLLOUT, left_ms(m));
		if (st <= 0) {
			st = st ? st : -EAGAIN;
			break;
		}
		st = 0;
	}
	if (!st || off)
		st = (int32_t)off;
	return katlsd_ipc_send(ipc, KATLSD_IPC_SEND_REP, &st, 4, NULL, 0,
			       NULL, 0);
}

static void monitor_done(struct katlsd_monitor *m,
			 const struct katlsd_hs_result *r)
{
	if (m->done_sent)
		return;
	m->done_ret = m->done(m->done_arg, r);
	m->done_sent = true;
}

/* DONE with a failure the monitor decided on itself. */
static int monitor_fail(struct katlsd_monitor *m, int status,
			const char *why)
{
	struct katlsd_hs_result r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	snprintf(r.reason, sizeof(r.reason), "%s", why);
	if (!m->done_sent)
		knotice("sandbox: %s", why);
	monitor_done(m, &r);
	return status;
}

int katlsd_monitor_serve(struct katlsd_monitor *m, int ipc)
{
	struct katlsd_hs_result r;
	struct katlsd_ipc_msg msg;
	uint8_t *buf;
	int ret, status, one = 1;

	buf = malloc(KATLSD_IPC_MAX);
	if (!buf)
		return monitor_fail(m, ENOMEM, "out of memory");
	clock_gettime(CLOCK_MONOTONIC, &m->deadline);
	m->deadline.tv_sec += m->timeout_ms / 1000;
	m->deadline.tv_nsec += (long)(m->timeout_ms % 1000) * 1000000;
	if (m->deadline.tv_nsec >= 1000000000) {
		m->deadline.tv_sec++;
		m->deadline.tv_nsec -= 1000000000;
	}
	for (;;) {
		ret = katlsd_ipc_recv(ipc, buf, KATLSD_IPC_MAX, &msg);
		if (ret == -EPIPE || ret == -ECONNRESET) {
			status = monitor_fail(m, ECONNABORTED,
					      "the sandbox went away without a result");
			break;
		}
		if (ret) {
			status = monitor_fail(m, EPROTO, "malformed message");
			break;
		}
		switch (msg.type) {
		case KATLSD_IPC_EVIDENCE_REQ:
			if (msg.len != KATLS_TSM_INBLOB_LEN ||
			    m->quotes++ >= max_quotes(m)) {
				ret = -EPROTO;
				break;
			}
			ret = serve_evidence(m, ipc, &msg);
			break;
		case KATLSD_IPC_SIGN_REQ:
			if (!m->server || !m->key ||
			    m->signatures++ >= max_signatures(m)) {
				ret = -EPROTO;
				break;
			}
			ret = serve_sign(m, ipc, &msg);
			break;
		case KATLSD_IPC_RECORD_REQ:
			m->io_calls++;
			ret = serve_record(m, ipc, &msg,
					   buf + KATLSD_IPC_HDR_LEN);
			break;
		case KATLSD_IPC_SEND_REQ:
			m->io_calls++;
			ret = serve_send(m, ipc, &msg);
			break;
		case KATLSD_IPC_FAILED:
			if (m->done_sent || katlsd_ipc_dec_result(&msg, &r) ||
			    !r.status) {
				ret = -EPROTO;
				break;
			}
			/*
			 * Our alert reaches the peer before DONE's reset:
			 * push it past Nagle (enabling TCP_NODELAY pushes
			 * what is queued), then wait, bounded.
			 */
			if (r.settle == KATLSD_SETTLE_ACKED)
				(void)setsockopt(m->fd, IPPROTO_TCP, TCP_NODELAY,
						 &one, sizeof(one));
			katlsd_settle(m->fd, r.settle, left_ms(m));
			monitor_done(m, &r);
			katlsd_hs_result_wipe(&r);
			ret = katlsd_ipc_send(ipc, KATLSD_IPC_ACK, NULL, 0,
					      NULL, 0, NULL, 0);
			break;
		case KATLSD_IPC_RESULT:
			if (katlsd_ipc_dec_result(&msg, &r)) {
				ret = -EPROTO;
				break;
			}
			/* After FAILED, DONE is out: nothing can undo it. */
			if (m->done_sent && !r.status)
				r.status = EPROTO;
			status = r.status;
			monitor_done(m, &r);
			katlsd_hs_result_wipe(&r);
			goto out;
		default:
			ret = -EPROTO;
		}
		if (ret == -EPROTO) {
			status = monitor_fail(m, EPROTO,
					      "protocol violation, request refused");
			break;
		}
		if (ret) {
			status = monitor_fail(m, ECONNABORTED,
					      "cannot answer the sandbox");
			break;
		}
	}
out:
	explicit_bzero(buf, KATLSD_IPC_MAX);
	free(buf);
	return status;
}

/* ---- sandbox ---- */

/* The largest valid status reply carrying n bytes of data. */
#define STATUS_REP_CAP(n)	(KATLSD_IPC_HDR_LEN + 4 + (n))

/*
 * One request, its answer of type want into a fresh buffer of cap bytes:
 * the largest answer of that type that can be valid.  A longer one is
 * cut by the SEQPACKET socket and refused (EPROTO).  Sized per call, as
 * every transport call of a handshake comes here: a buffer of
 * KATLSD_IPC_MAX each time (about 100 KiB, allocated and wiped) was a
 * tenth of the sandbox's time at 64 handshakes in flight
 * (Documentation/performance.rst).
 */
static int ask(int ipc, uint32_t type, const void *a, size_t alen,
	       const void *b, size_t blen, uint32_t want, size_t cap,
	       uint8_t **buf, struct katlsd_ipc_msg *msg)
{
	int ret;

	*buf = malloc(cap);
	if (!*buf)
		return -ENOMEM;
	ret = katlsd_ipc_send(ipc, type, a, alen, b, blen, NULL, 0);
	if (!ret)
		ret = katlsd_ipc_recv(ipc, *buf, cap, msg);
	if (!ret && msg->type != want)
		ret = -EPROTO;
	return ret;
}

static void ask_free(uint8_t *buf, size_t cap)
{
	if (buf) {
		explicit_bzero(buf, cap);
		free(buf);
	}
}

static int remote_evidence(void *arg, const uint8_t report_data[64],
			   struct katlsd_evidence *ev)
{
	struct katlsd_remote *rm = arg;
	struct katlsd_ipc_msg msg;
	uint8_t *buf = NULL;
	int ret, status = -EIO;

	memset(ev, 0, sizeof(*ev));
	ret = ask(rm->ipc, KATLSD_IPC_EVIDENCE_REQ, report_data,
		  KATLS_TSM_INBLOB_LEN, NULL, 0, KATLSD_IPC_EVIDENCE_REP,
		  KATLSD_IPC_MAX, &buf, &msg);
	if (!ret)
		ret = katlsd_ipc_dec_evidence_rep(&msg, &status, ev);
	ask_free(buf, KATLSD_IPC_MAX);
	if (ret) {
		kerr("evidence from the monitor: %s", strerror(-ret));
		return -EIO;
	}
	return status;
}

/*
 * The pool's sandbox shares one set of server credentials between its
 * handshake threads; a signature goes to the monitor on the line of the
 * request that the calling thread serves (GnuTLS signs in the thread
 * that runs the handshake).
 */
static __thread struct katlsd_remote *current_rm;

static int remote_sign_kind(struct katlsd_remote *rm, uint32_t kind,
			    gnutls_sign_algorithm_t algo,
			    const gnutls_datum_t *data, gnutls_datum_t *sig)
{
	struct katlsd_ipc_msg msg;
	gnutls_datum_t s;
	uint8_t *buf = NULL;
	uint8_t head[8];
	int ret, status = -EIO;

	if (current_rm)
		rm = current_rm;
	if (data->size > KATLSD_IPC_SIGN_DATA_MAX)
		return GNUTLS_E_PK_SIGN_FAILED;
	put32(head, (uint32_t)algo);
	put32(head + 4, kind);
	ret = ask(rm->ipc, KATLSD_IPC_SIGN_REQ, head, sizeof(head),
		  data->data, data->size, KATLSD_IPC_SIGN_REP,
		  STATUS_REP_CAP(KATLSD_IPC_SIG_MAX), &buf, &msg);
	if (!ret)
		ret = katlsd_ipc_dec_status_rep(&msg, KATLSD_IPC_SIGN_REP, 0,
						KATLSD_IPC_SIG_MAX, &status,
						&s);
	if (!ret && !status && !s.size)
		ret = -EPROTO;
	if (!ret && !status) {
		sig->data = gnutls_malloc(s.size);
		if (sig->data) {
			memcpy(sig->data, s.data, s.size);
			sig->size = s.size;
		} else {
			status = -ENOMEM;
		}
	}
	ask_free(buf, STATUS_REP_CAP(KATLSD_IPC_SIG_MAX));
	if (ret || status) {
		kerr("signature from the monitor: %s",
		     strerror(ret ? -ret : -status));
		return GNUTLS_E_PK_SIGN_FAILED;
	}
	return 0;
}

/* Ed25519/Ed448: GnuTLS hands over the whole CertificateVerify input. */
static int remote_sign(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
		       void *userdata, unsigned int flags,
		       const gnutls_datum_t *data, gnutls_datum_t *sig)
{
	(void)key;
	(void)flags;
	return remote_sign_kind(userdata, KATLSD_SIGN_DATA, algo, data, sig);
}

/* ECDSA, RSA-PSS: GnuTLS hashes first and hands over the digest. */
static int remote_sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t algo,
			    void *userdata, unsigned int flags,
			    const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
	(void)key;
	(void)flags;
	return remote_sign_kind(userdata, KATLSD_SIGN_HASH, algo, hash, sig);
}

static int remote_info(gnutls_privkey_t key, unsigned int flags,
		       void *userdata)
{
	struct katlsd_remote *rm = userdata;

	(void)key;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
		return gnutls_sign_supports_pk_algorithm(
			(gnutls_sign_algorithm_t)GNUTLS_FLAGS_TO_SIGN_ALGO(flags),
			rm->pk) ? 1 : 0;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return (int)rm->bits;
	if (flags & GNUTLS_PRIVKEY_INFO_SIGN_ALGO)
		return 0;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return (int)rm->pk;
	return GNUTLS_E_UNKNOWN_PK_ALGORITHM;
}

static ssize_t remote_send(struct katlsd_remote *rm, const void *a,
			   size_t alen)
{
	struct katlsd_ipc_msg msg;
	gnutls_datum_t none;
	uint8_t *buf = NULL;
	int ret, st = -EIO;

	ret = ask(rm->ipc, KATLSD_IPC_SEND_REQ, a, alen, NULL, 0,
		  KATLSD_IPC_SEND_REP, STATUS_REP_CAP(0), &buf, &msg);
	if (!ret)
		ret = katlsd_ipc_dec_status_rep(&msg, KATLSD_IPC_SEND_REP,
						(int32_t)alen, 0, &st, &none);
	ask_free(buf, STATUS_REP_CAP(0));
	if (ret || st <= 0) {
		errno = ret ? EIO : st ? -st : EIO;
		return -1;
	}
	return st;
}

static ssize_t remote_push(gnutls_transport_ptr_t ptr, const void *data,
			   size_t len)
{
	if (len > KATLSD_IPC_IO_MAX)
		len = KATLSD_IPC_IO_MAX;
	return remote_send(ptr, data, len);
}

/*
 * Every record GnuTLS has queued (a whole flight) in one SEND, up to
 * KATLSD_IPC_IO_MAX; GnuTLS pushes what a short write left over again.
 */
static ssize_t remote_vec_push(gnutls_transport_ptr_t ptr,
			       const giovec_t *iov, int iovcnt)
{
	uint8_t *flight;
	size_t len = 0;
	ssize_t n;
	int i;

	if (iovcnt == 1)
		return remote_push(ptr, iov[0].iov_base, iov[0].iov_len);
	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > KATLSD_IPC_IO_MAX)
		len = KATLSD_IPC_IO_MAX;
	if (!len)
		return 0;
	flight = malloc(len);
	if (!flight) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0, n = 0; i < iovcnt && (size_t)n < len; i++) {
		size_t k = iov[i].iov_len;

		if (k > len - (size_t)n)
			k = len - (size_t)n;
		memcpy(flight + n, iov[i].iov_base, k);
		n += (ssize_t)k;
	}
	n = remote_send(ptr, flight, len);
	explicit_bzero(flight, len);
	free(flight);
	return n;
}

/*
 * Ask the monitor for the next record, waiting at most ms: 1 a record
 * (or the peer's close) is kept, 0 the wait passed, -1 with errno.
 */
static int remote_record(struct katlsd_remote *rm, uint32_t ms)
{
	struct katlsd_ipc_msg msg;
	gnutls_datum_t got;
	uint8_t *buf = NULL;
	int ret, st = -EIO;

	ret = ask(rm->ipc, KATLSD_IPC_RECORD_REQ, &ms, 4, NULL, 0,
		  KATLSD_IPC_RECORD_REP, STATUS_REP_CAP(KATLSD_IPC_RECORD_MAX),
		  &buf, &msg);
	if (!ret)
		ret = katlsd_ipc_dec_status_rep(&msg, KATLSD_IPC_RECORD_REP, 1,
						KATLSD_IPC_RECORD_MAX, &st,
						&got);
	if (!ret && st == 1) {
		memcpy(rm->rec, got.data, got.size);
		rm->rec_off = 0;
		rm->rec_len = got.size;
		rm->rec_eof = !got.size;
	}
	ask_free(buf, STATUS_REP_CAP(KATLSD_IPC_RECORD_MAX));
	if (ret || st < 0) {
		errno = ret ? EIO : -st;
		return -1;
	}
	return st;
}

static ssize_t remote_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct katlsd_remote *rm = ptr;
	size_t n;

	if (rm->rec_off == rm->rec_len && !rm->rec_eof &&
	    remote_record(rm, GNUTLS_INDEFINITE_TIMEOUT) < 0)
		return -1;
	n = rm->rec_len - rm->rec_off;
	if (n > len)
		n = len;
	memcpy(data, rm->rec + rm->rec_off, n);
	rm->rec_off += n;
	if (rm->rec_off == rm->rec_len) {
		explicit_bzero(rm->rec, rm->rec_len);
		rm->rec_off = rm->rec_len = 0;
	}
	return (ssize_t)n;	/* 0: the peer closed */
}

static int remote_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct katlsd_remote *rm = ptr;

	if (rm->rec_off < rm->rec_len || rm->rec_eof)
		return 1;
	return remote_record(rm, ms);
}

/* Bytes of the last record GnuTLS has not taken: 0 after a whole record. */
static size_t remote_pending(gnutls_transport_ptr_t ptr)
{
	const struct katlsd_remote *rm = ptr;

	return rm->rec_len - rm->rec_off;
}

void katlsd_remote_init(struct katlsd_remote *rm, int ipc)
{
	memset(rm, 0, sizeof(*rm));
	rm->ipc = ipc;
	rm->evsrc.get = remote_evidence;
	rm->evsrc.arg = rm;
	rm->transport.push = remote_push;
	rm->transport.vec_push = remote_vec_push;
	rm->transport.pending = remote_pending;
	rm->transport.pull = remote_pull;
	rm->transport.pull_timeout = remote_pull_timeout;
	rm->transport.ptr = rm;
}

#define CHAIN_MAX 16

int katlsd_remote_creds(struct katlsd_remote *rm,
			gnutls_certificate_credentials_t creds,
			gnutls_pk_algorithm_t pk, unsigned int bits,
			gnutls_certificate_credentials_t *out)
{
	gnutls_pcert_st pcerts[CHAIN_MAX];
	gnutls_privkey_t pkey = NULL;
	unsigned int n, i;
	int ret;

	*out = NULL;
	rm->pk = pk;
	rm->bits = bits;
	for (n = 0; n < CHAIN_MAX; n++) {
		gnutls_datum_t der;

		ret = gnutls_certificate_get_crt_raw(creds, 0, n, &der);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			goto fail;
		ret = gnutls_pcert_import_x509_raw(&pcerts[n], &der,
						   GNUTLS_X509_FMT_DER, 0);
		if (ret < 0)
			goto fail;
	}
	if (!n) {
		ret = GNUTLS_E_NO_CERTIFICATE_FOUND;
		goto fail;
	}
	ret = gnutls_privkey_init(&pkey);
	if (ret < 0)
		goto fail;
	ret = gnutls_privkey_import_ext4(pkey, rm, remote_sign,
					 remote_sign_hash, NULL, NULL,
					 remote_info, 0);
	if (ret < 0)
		goto fail;
	ret = gnutls_certificate_allocate_credentials(out);
	if (ret < 0)
		goto fail;
	/*
	 * The key matches the certificate: the monitor's real key was
	 * loaded and checked with it.  Checking again would sign test data,
	 * which the monitor refuses.
	 */
	gnutls_certificate_set_flags(*out, GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
	/* The credentials take over the certificates and the key. */
	ret = gnutls_certificate_set_key(*out, NULL, 0, pcerts, n, pkey);
	if (ret < 0) {
		gnutls_certificate_free_credentials(*out);
		*out = NULL;
		goto fail;
	}
	return 0;
fail:
	kerr("sandbox credentials: %s", gnutls_strerror(ret));
	for (i = 0; i < n; i++)
		gnutls_pcert_deinit(&pcerts[i]);
	if (pkey)
		gnutls_privkey_deinit(pkey);
	return -EIO;
}

int katlsd_remote_key(struct katlsd_remote *rm, gnutls_privkey_t *out)
{
	int ret;

	*out = NULL;
	ret = gnutls_privkey_init(out);
	if (ret >= 0)
		ret = gnutls_privkey_import_ext4(*out, rm, remote_sign,
						 remote_sign_hash, NULL, NULL,
						 remote_info, 0);
	if (ret < 0) {
		if (*out)
			gnutls_privkey_deinit(*out);
		*out = NULL;
		return -EIO;
	}
	return 0;
}

static int send_result(struct katlsd_remote *rm, uint32_t type,
		       const struct katlsd_hs_result *r)
{
	uint8_t buf[RES_LEN];
	int n, ret;

	n = katlsd_ipc_enc_result(r, buf, sizeof(buf));
	ret = n < 0 ? n : katlsd_ipc_send(rm->ipc, type, buf, (size_t)n,
					  NULL, 0, NULL, 0);
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

void katlsd_remote_failed(void *arg, const struct katlsd_hs_result *r)
{
	struct katlsd_remote *rm = arg;
	struct katlsd_ipc_msg msg;
	uint8_t buf[KATLSD_IPC_HDR_LEN + 16];
	int ret;

	ret = send_result(rm, KATLSD_IPC_FAILED, r);
	if (!ret)
		ret = katlsd_ipc_recv(rm->ipc, buf, sizeof(buf), &msg);
	if (!ret && msg.type != KATLSD_IPC_ACK)
		ret = -EPROTO;
	if (ret)
		kerr("failure report to the monitor: %s", strerror(-ret));
}

int katlsd_remote_result(struct katlsd_remote *rm,
			 const struct katlsd_hs_result *r)
{
	return send_result(rm, KATLSD_IPC_RESULT, r);
}

void katlsd_sandbox_main(struct katlsd_hs_params *p,
			 gnutls_certificate_credentials_t *real_creds,
			 int ipc, const struct katlsd_sandbox *sb0,
			 gnutls_pk_algorithm_t pk, unsigned int bits)
{
	gnutls_certificate_credentials_t creds = NULL;
	struct katlsd_sandbox sb = *sb0;
	struct katlsd_remote rm;
	struct katlsd_hs_result r;
	int keep[1] = { ipc };
	int ret;

	katlsd_remote_init(&rm, ipc);
	if (p->role == KATLS_ROLE_SERVER && *real_creds &&
	    katlsd_remote_creds(&rm, *real_creds, pk, bits, &creds))
		_exit(KATLSD_SANDBOX_EXIT_SETUP);
	/*
	 * The real key: GnuTLS zeroizes it when the credentials go, before
	 * any peer input is read.
	 */
	if (*real_creds)
		gnutls_certificate_free_credentials(*real_creds);
	*real_creds = NULL;
	p->server_creds = creds;
	/* issue 14: the Exported Authenticator signs through the monitor too */
	if (creds && katlsd_remote_key(&rm, &p->server_key))
		_exit(KATLSD_SANDBOX_EXIT_SETUP);
	p->evsrc = &rm.evsrc;
	p->on_failure = katlsd_remote_failed;
	p->on_failure_arg = &rm;
	/* Not even the TCP socket: the monitor moves the records. */
	p->transport = &rm.transport;
	p->fd = -1;

	sb.keep_fds = keep;
	sb.n_keep = 1;
	katlsd_log_detach();
	ret = katlsd_sandbox_enter(&sb);
	katlsd_log_reopen();
	if (ret) {
		kerr("sandbox: %s", strerror(-ret));
		_exit(KATLSD_SANDBOX_EXIT_SETUP);
	}
	if (p->ops && p->ops->sandbox_entered)
		p->ops->sandbox_entered(p);
	katlsd_handshake(p, &r);
	ret = katlsd_remote_result(&rm, &r);
	katlsd_hs_result_wipe(&r);
	if (ret)
		kerr("sandbox: result to the monitor: %s", strerror(-ret));
	_exit(ret ? KATLSD_SANDBOX_EXIT_SETUP : 0);
}

/* ---- the pool's sandbox (issue 13 item 3) ---- */

/* Thread stacks: GnuTLS and the verifiers need far less; virtual anyway. */
#define JOB_STACK	(1024 * 1024)

struct sb_pool {
	struct katlsd_state *st;
	gnutls_certificate_credentials_t creds;	/* NULL: no server role */
	struct katlsd_remote keyrm;	/* pk and bits of the remote key */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned int active;
};

struct sb_job {
	struct sb_pool *pool;
	struct katlsd_ipc_start s;
	struct katlsd_remote rm;
	struct katlsd_hs_params p;
};

static void *job_main(void *arg)
{
	struct sb_job *j = arg;
	struct sb_pool *pool = j->pool;
	struct katlsd_hs_result r;

	current_rm = &j->rm;
	katlsd_handshake(&j->p, &r);
	if (katlsd_remote_result(&j->rm, &r))
		kerr("sandbox: request %llu: result to the monitor failed",
		     (unsigned long long)j->s.tag);
	katlsd_hs_result_wipe(&r);
	current_rm = NULL;
	if (j->p.server_key)
		gnutls_privkey_deinit(j->p.server_key);
	close(j->rm.ipc);
	free(j);
	pthread_mutex_lock(&pool->lock);
	if (!--pool->active)
		pthread_cond_signal(&pool->idle);
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

static void job_setup(struct sb_pool *pool, struct sb_job *j, int ipc)
{
	struct katlsd_state *st = pool->st;
	struct katlsd_hs_params *p = &j->p;

	j->pool = pool;
	katlsd_remote_init(&j->rm, ipc);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->role = (enum katls_role)j->s.role;
	p->timeout_ms = j->s.timeout_ms;
	p->policy_name = j->s.policy;
	p->peername = j->s.peername;
	p->client_creds = st->client_creds;
	p->have_truststore = st->have_truststore;
	p->policy = katls_policy_find(st->policies, j->s.policy);
	p->evidence_bound_key = katls_policy_evidence_bound_key(p->policy);
	/* issue 14 item 3: NULL with require_client_evidence fails closed */
	p->client_policy = katls_policy_find(st->policies,
		katls_policy_client_evidence(p->policy));
	p->vopts.roots_dir = st->cfg.roots_dir;
	p->vopts.certs_dir = st->cfg.certs_dir;
	p->vopts.collateral_dir = st->cfg.collateral_dir;
	p->vopts.cpak_file = st->cfg.cpak_file;
	p->server_creds = j->s.role == KATLS_ROLE_SERVER ? pool->creds : NULL;
	/*
	 * issue 14: the Exported Authenticator signs through this
	 * request's monitor, like the handshake's CertificateVerify: the
	 * key's algorithm is the pool's (keyrm), the line is the thread's
	 * (current_rm, set by job_main()).
	 */
	if (p->server_creds && katlsd_remote_key(&pool->keyrm, &p->server_key))
		p->server_key = NULL;	/* post mode then fails closed */
	p->evsrc = &j->rm.evsrc;
	p->on_failure = katlsd_remote_failed;
	p->on_failure_arg = &j->rm;
	p->transport = &j->rm.transport;
}

/* No thread for it: the request fails at once (ENOMEM). */
static void job_refuse(struct sb_job *j)
{
	struct katlsd_hs_result r;

	memset(&r, 0, sizeof(r));
	r.status = ENOMEM;
	snprintf(r.reason, sizeof(r.reason), "no handshake thread");
	(void)katlsd_remote_result(&j->rm, &r);
	close(j->rm.ipc);
	free(j);
}

void katlsd_sandbox_pool_main(struct katlsd_state *st, int ctl,
			      const struct katlsd_sandbox *sb0,
			      gnutls_pk_algorithm_t pk, unsigned int bits)
{
	static struct sb_pool pool = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.idle = PTHREAD_COND_INITIALIZER,
	};
	struct katlsd_sandbox sb = *sb0;
	uint8_t buf[KATLSD_IPC_HDR_LEN + KATLSD_IPC_START_LEN];
	struct katlsd_ipc_msg m;
	pthread_attr_t attr;
	int keep[1] = { ctl };
	int ret, ipc;

	pool.st = st;
	katlsd_remote_init(&pool.keyrm, -1);
	if (st->server_creds &&
	    katlsd_remote_creds(&pool.keyrm, st->server_creds, pk, bits,
				&pool.creds))
		_exit(KATLSD_SANDBOX_EXIT_SETUP);
	/* The real key goes before any peer input is read (zeroized). */
	if (st->server_creds)
		gnutls_certificate_free_credentials(st->server_creds);
	st->server_creds = NULL;

	sb.keep_fds = keep;
	sb.n_keep = 1;
	katlsd_log_detach();
	ret = katlsd_sandbox_enter(&sb);
	katlsd_log_reopen();
	if (ret) {
		kerr("sandbox: %s", strerror(-ret));
		_exit(KATLSD_SANDBOX_EXIT_SETUP);
	}
	if (pthread_attr_init(&attr) ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) ||
	    pthread_attr_setstacksize(&attr, JOB_STACK))
		_exit(KATLSD_SANDBOX_EXIT_SETUP);
	for (;;) {
		struct sb_job *j;
		pthread_t t;

		ret = katlsd_ipc_recv_fd(ctl, buf, sizeof(buf), &m, &ipc);
		if (ret == -EPIPE || ret == -ECONNRESET)
			break;
		if (!ret && ipc < 0)
			ret = -EPROTO;
		if (ret) {
			/* The monitor is trusted: a broken line is a bug. */
			kerr("sandbox: control line: %s", strerror(-ret));
			if (ipc >= 0)
				close(ipc);
			_exit(KATLSD_SANDBOX_EXIT_SETUP);
		}
		j = calloc(1, sizeof(*j));
		if (!j) {
			close(ipc);
			continue;	/* its monitor sees the line close */
		}
		if (katlsd_ipc_dec_start(&m, &j->s)) {
			kerr("sandbox: malformed START");
			close(ipc);
			free(j);
			_exit(KATLSD_SANDBOX_EXIT_SETUP);
		}
		job_setup(&pool, j, ipc);
		pthread_mutex_lock(&pool.lock);
		pool.active++;
		pthread_mutex_unlock(&pool.lock);
		if (pthread_create(&t, &attr, job_main, j)) {
			pthread_mutex_lock(&pool.lock);
			pool.active--;
			pthread_mutex_unlock(&pool.lock);
			job_refuse(j);
		}
	}
	/* The monitor stops: let the running handshakes end. */
	pthread_mutex_lock(&pool.lock);
	while (pool.active)
		pthread_cond_wait(&pool.idle, &pool.lock);
	pthread_mutex_unlock(&pool.lock);
	_exit(0);
}
