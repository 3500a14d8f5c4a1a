// SPDX-License-Identifier: GPL-2.0
/*
 * ext.c - encoder and strict decoder of the katls TLS extension bodies.
 * The wire format is in Documentation/wire-format.rst; TLS presentation
 * language:
 *
 *   struct {
 *       uint8 version;                        -- 1
 *       uint8 mode;                           -- enum katls_ext_mode
 *       opaque nonce[32];
 *       uint16 types<2..2*16>;                -- uint8 length in bytes
 *   } KatlsAttestationRequest;                -- in ClientHello
 *
 *   struct {
 *       uint8 version;                        -- 1 single, 2 batch
 *       opaque media_type<1..127>;            -- printable ASCII
 *       opaque evidence<1..2^24-1>;           -- at most 32768 bytes
 *       opaque aux<0..2^24-1>;                -- at most 65536 bytes
 *       select (version) {
 *           case 1: struct {};
 *           case 2: uint32 leaf_index;        -- 0..tree_size-1
 *                   uint32 tree_size;         -- 2..65536
 *                   opaque audit_path<64..1024>;  -- 64-byte hashes,
 *                                             -- exactly as many as
 *                                             -- RFC 9162 needs
 *       };
 *   } KatlsEvidence;                          -- in EncryptedExtensions
 */
#include <string.h>

#include <katls/ext.h>

static const char *const media_types[] = {
	[KATLS_EVIDENCE_TDX] = "application/vnd.katls.tdx-quote",
	[KATLS_EVIDENCE_SNP] = "application/vnd.katls.snp-report",
	[KATLS_EVIDENCE_CCA] = "application/vnd.katls.cca-token",
	[KATLS_EVIDENCE_SIM] = "application/vnd.katls.sim-evidence",
};

const char *katls_ext_media_type(enum katls_evidence_type t)
{
	if ((unsigned int)t >= sizeof(media_types) / sizeof(media_types[0]))
		return NULL;
	return media_types[t];
}

const char *katls_ext_strerror(int err)
{
	switch (err) {
	case KATLS_EXT_OK:		return "success";
	case KATLS_EXT_E_ARG:		return "invalid argument";
	case KATLS_EXT_E_NOSPACE:	return "output buffer too small";
	case KATLS_EXT_E_TRUNCATED:	return "truncated";
	case KATLS_EXT_E_TRAILING:	return "trailing bytes";
	case KATLS_EXT_E_VERSION:	return "unknown version";
	case KATLS_EXT_E_MODE:		return "unknown binding mode";
	case KATLS_EXT_E_TYPES_LEN:	return "bad evidence type list length";
	case KATLS_EXT_E_TYPE:		return "evidence type 0";
	case KATLS_EXT_E_TYPE_DUP:	return "duplicate evidence type";
	case KATLS_EXT_E_MEDIA_LEN:	return "bad media type length";
	case KATLS_EXT_E_MEDIA_CHARS:	return "media type not printable ASCII";
	case KATLS_EXT_E_MEDIA_UNKNOWN:	return "unknown media type";
	case KATLS_EXT_E_EVIDENCE_LEN:	return "bad evidence length";
	case KATLS_EXT_E_AUX_LEN:	return "auxiliary data too long";
	case KATLS_EXT_E_TOO_BIG:	return "record too big for an extension";
	case KATLS_EXT_E_BATCH_SIZE:	return "wrong tree size";
	case KATLS_EXT_E_BATCH_OF_ONE:	return "batch of one sent as a batch";
	case KATLS_EXT_E_BATCH_INDEX:	return "leaf index out of range";
	case KATLS_EXT_E_PATH_LEN:	return "audit path length not a multiple of 64";
	case KATLS_EXT_E_PATH_SHORT:	return "audit path too short";
	case KATLS_EXT_E_PATH_LONG:	return "audit path too long";
	default:			return "unknown error";
	}
}

static int mode_valid(uint8_t mode)
{
	return mode == KATLS_EXT_MODE_BINDER_V1 ||
	       mode == KATLS_EXT_MODE_POST_V1 ||
	       mode == KATLS_EXT_MODE_BOTH_V1;
}

/* Checks shared by encoder and decoder. */
static int check_types(const uint16_t *types, unsigned int n)
{
	unsigned int i, j;

	if (!n || n > KATLS_EXT_MAX_TYPES)
		return KATLS_EXT_E_TYPES_LEN;
	for (i = 0; i < n; i++) {
		if (!types[i])
			return KATLS_EXT_E_TYPE;
		for (j = 0; j < i; j++)
			if (types[j] == types[i])
				return KATLS_EXT_E_TYPE_DUP;
	}
	return 0;
}

int katls_ext_request_encode(const struct katls_ext_request *r,
			     uint8_t *out, size_t cap)
{
	size_t len, n = 0;
	unsigned int i;
	int err;

	if (!r || !out)
		return KATLS_EXT_E_ARG;
	if (r->version != KATLS_EXT_VERSION)
		return KATLS_EXT_E_VERSION;
	if (!mode_valid(r->mode))
		return KATLS_EXT_E_MODE;
	err = check_types(r->types, r->ntypes);
	if (err)
		return err;
	len = 1 + 1 + KATLS_EXT_NONCE_LEN + 1 + 2 * r->ntypes;
	if (cap < len)
		return KATLS_EXT_E_NOSPACE;

	out[n++] = r->version;
	out[n++] = r->mode;
	memcpy(out + n, r->nonce, KATLS_EXT_NONCE_LEN);
	n += KATLS_EXT_NONCE_LEN;
	out[n++] = 2 * r->ntypes;
	for (i = 0; i < r->ntypes; i++) {
		out[n++] = r->types[i] >> 8;
		out[n++] = r->types[i] & 0xff;
	}
	return n;
}

int katls_ext_request_decode(const uint8_t *in, size_t len,
			     struct katls_ext_request *r)
{
	size_t n = 0, tlen;
	unsigned int i;
	int err;

	if (!r || (!in && len))
		return KATLS_EXT_E_ARG;
	memset(r, 0, sizeof(*r));
	if (len < 1)
		return KATLS_EXT_E_TRUNCATED;
	if (in[n++] != KATLS_EXT_VERSION)
		return KATLS_EXT_E_VERSION;
	if (len - n < 1)
		return KATLS_EXT_E_TRUNCATED;
	if (!mode_valid(in[n]))
		return KATLS_EXT_E_MODE;
	r->mode = in[n++];
	if (len - n < KATLS_EXT_NONCE_LEN + 1)
		return KATLS_EXT_E_TRUNCATED;
	memcpy(r->nonce, in + n, KATLS_EXT_NONCE_LEN);
	n += KATLS_EXT_NONCE_LEN;
	tlen = in[n++];
	if (!tlen || tlen % 2 || tlen > 2 * KATLS_EXT_MAX_TYPES)
		return KATLS_EXT_E_TYPES_LEN;
	if (len - n < tlen)
		return KATLS_EXT_E_TRUNCATED;
	r->ntypes = tlen / 2;
	for (i = 0; i < r->ntypes; i++, n += 2)
		r->types[i] = (uint16_t)(in[n] << 8 | in[n + 1]);
	err = check_types(r->types, r->ntypes);
	if (!err && n != len)
		err = KATLS_EXT_E_TRAILING;
	if (err) {
		memset(r, 0, sizeof(*r));
		return err;
	}
	r->version = KATLS_EXT_VERSION;
	return KATLS_EXT_OK;
}

int katls_ext_request_accepts(const struct katls_ext_request *r,
			      enum katls_evidence_type t)
{
	unsigned int i;

	if (!r || t == KATLS_EVIDENCE_NONE)
		return 0;
	for (i = 0; i < r->ntypes && i < KATLS_EXT_MAX_TYPES; i++)
		if (r->types[i] == (uint16_t)t)
			return 1;
	return 0;
}

/* A batch proof's fixed part: leaf_index, tree_size, path length. */
#define PROOF_FIXED	(4 + 4 + 2)

/*
 * Proof rules of a version 2 record (tree size 2..cap); a batch of one is
 * checked as such by the callers.
 */
static int proof_err(const struct katls_merkle_proof *p)
{
	int need;

	if (!p->tree_size || p->tree_size > KATLS_MERKLE_MAX_LEAVES)
		return KATLS_EXT_E_BATCH_SIZE;
	if (p->leaf_index >= p->tree_size)
		return KATLS_EXT_E_BATCH_INDEX;
	need = katls_merkle_path_len(p->leaf_index, p->tree_size);
	if (need < 0)
		return KATLS_EXT_E_BATCH_SIZE;
	if (p->path_len < (unsigned int)need)
		return KATLS_EXT_E_PATH_SHORT;
	if (p->path_len > (unsigned int)need)
		return KATLS_EXT_E_PATH_LONG;
	return 0;
}

/* 0: version 1 record; 1: version 2; or a negative error. */
static int batch_kind(const struct katls_merkle_proof *p)
{
	int err;

	if (!p)
		return 0;
	err = proof_err(p);
	if (err)
		return err;
	return p->tree_size > 1;
}

size_t katls_ext_evidence_size(enum katls_evidence_type t, size_t ev_len,
			       size_t aux_len)
{
	return katls_ext_evidence_size_batch(t, ev_len, aux_len, NULL);
}

size_t katls_ext_evidence_size_batch(enum katls_evidence_type t,
				     size_t ev_len, size_t aux_len,
				     const struct katls_merkle_proof *p)
{
	int kind = batch_kind(p);
	const char *mt = katls_ext_media_type(t);
	size_t len;

	if (!mt || !ev_len || ev_len > KATLS_EXT_EVIDENCE_MAX ||
	    aux_len > KATLS_EXT_AUX_MAX)
		return 0;
	if (kind < 0)
		return 0;
	len = 1 + 1 + strlen(mt) + 3 + ev_len + 3 + aux_len;
	if (kind)
		len += PROOF_FIXED + (size_t)p->path_len * KATLS_MERKLE_HASH_LEN;
	return len > KATLS_EXT_BODY_MAX ? 0 : len;
}

static void put24(uint8_t *p, size_t v)
{
	p[0] = v >> 16;
	p[1] = v >> 8;
	p[2] = v;
}

static size_t get24(const uint8_t *p)
{
	return (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int katls_ext_evidence_encode(enum katls_evidence_type t,
			      const uint8_t *ev, size_t ev_len,
			      const uint8_t *aux, size_t aux_len,
			      uint8_t *out, size_t cap)
{
	return katls_ext_evidence_encode_batch(t, ev, ev_len, aux, aux_len,
					       NULL, out, cap);
}

int katls_ext_evidence_encode_batch(enum katls_evidence_type t,
				    const uint8_t *ev, size_t ev_len,
				    const uint8_t *aux, size_t aux_len,
				    const struct katls_merkle_proof *p,
				    uint8_t *out, size_t cap)
{
	const char *mt = katls_ext_media_type(t);
	size_t mlen, n = 0, size;
	int kind = batch_kind(p);

	if (!out || !ev || (aux_len && !aux))
		return KATLS_EXT_E_ARG;
	if (kind < 0)
		return kind;
	if (!mt)
		return KATLS_EXT_E_MEDIA_UNKNOWN;
	if (!ev_len || ev_len > KATLS_EXT_EVIDENCE_MAX)
		return KATLS_EXT_E_EVIDENCE_LEN;
	if (aux_len > KATLS_EXT_AUX_MAX)
		return KATLS_EXT_E_AUX_LEN;
	size = katls_ext_evidence_size_batch(t, ev_len, aux_len, p);
	if (!size)
		return KATLS_EXT_E_TOO_BIG;
	if (cap < size)
		return KATLS_EXT_E_NOSPACE;

	mlen = strlen(mt);
	out[n++] = kind ? KATLS_EXT_EVIDENCE_VERSION_BATCH : KATLS_EXT_VERSION;
	out[n++] = mlen;
	memcpy(out + n, mt, mlen);
	n += mlen;
	put24(out + n, ev_len);
	n += 3;
	memcpy(out + n, ev, ev_len);
	n += ev_len;
	put24(out + n, aux_len);
	n += 3;
	if (aux_len)
		memcpy(out + n, aux, aux_len);
	n += aux_len;
	if (kind) {
		size_t plen = (size_t)p->path_len * KATLS_MERKLE_HASH_LEN;

		put32(out + n, p->leaf_index);
		put32(out + n + 4, p->tree_size);
		out[n + 8] = plen >> 8;
		out[n + 9] = plen & 0xff;
		n += PROOF_FIXED;
		memcpy(out + n, p->path, plen);
		n += plen;
	}
	return n;
}

int katls_ext_evidence_decode(const uint8_t *in, size_t len,
			      struct katls_ext_evidence *e)
{
	size_t n = 0, mlen, ev_len, aux_len, i, plen;
	enum katls_evidence_type t;
	uint8_t version;
	int err;

	if (!e || (!in && len))
		return KATLS_EXT_E_ARG;
	memset(e, 0, sizeof(*e));
	if (len > KATLS_EXT_BODY_MAX)
		return KATLS_EXT_E_TOO_BIG;
	if (len < 1)
		return KATLS_EXT_E_TRUNCATED;
	version = in[n++];
	if (version != KATLS_EXT_VERSION &&
	    version != KATLS_EXT_EVIDENCE_VERSION_BATCH)
		return KATLS_EXT_E_VERSION;

	if (len - n < 1)
		return KATLS_EXT_E_TRUNCATED;
	mlen = in[n++];
	if (!mlen || mlen > KATLS_EXT_MEDIA_MAX)
		return KATLS_EXT_E_MEDIA_LEN;
	if (len - n < mlen)
		return KATLS_EXT_E_TRUNCATED;
	for (i = 0; i < mlen; i++)
		if (in[n + i] < 0x20 || in[n + i] > 0x7e)
			return KATLS_EXT_E_MEDIA_CHARS;
	memcpy(e->media_type, in + n, mlen);
	e->media_type[mlen] = '\0';
	n += mlen;
	for (t = KATLS_EVIDENCE_NONE + 1; t <= KATLS_EVIDENCE_MAX; t++) {
		const char *mt = katls_ext_media_type(t);

		if (mt && !strcmp(mt, e->media_type))
			break;
	}
	if (t > KATLS_EVIDENCE_MAX) {
		memset(e, 0, sizeof(*e));
		return KATLS_EXT_E_MEDIA_UNKNOWN;
	}

	if (len - n < 3)
		goto truncated;
	ev_len = get24(in + n);
	n += 3;
	if (!ev_len || ev_len > KATLS_EXT_EVIDENCE_MAX) {
		memset(e, 0, sizeof(*e));
		return KATLS_EXT_E_EVIDENCE_LEN;
	}
	if (len - n < ev_len)
		goto truncated;
	e->evidence = in + n;
	n += ev_len;

	if (len - n < 3)
		goto truncated;
	aux_len = get24(in + n);
	n += 3;
	if (aux_len > KATLS_EXT_AUX_MAX) {
		memset(e, 0, sizeof(*e));
		return KATLS_EXT_E_AUX_LEN;
	}
	if (len - n < aux_len)
		goto truncated;
	e->aux = aux_len ? in + n : NULL;
	n += aux_len;
	katls_merkle_proof_single(&e->proof);
	if (version == KATLS_EXT_EVIDENCE_VERSION_BATCH) {
		if (len - n < PROOF_FIXED)
			goto truncated;
		e->proof.leaf_index = get32(in + n);
		e->proof.tree_size = get32(in + n + 4);
		plen = (size_t)in[n + 8] << 8 | in[n + 9];
		n += PROOF_FIXED;
		err = 0;
		if (e->proof.tree_size == 1)
			err = KATLS_EXT_E_BATCH_OF_ONE;
		else if (plen % KATLS_MERKLE_HASH_LEN)
			err = KATLS_EXT_E_PATH_LEN;
		if (!err) {
			/* path_len is what the length field claims */
			e->proof.path_len = plen / KATLS_MERKLE_HASH_LEN;
			err = proof_err(&e->proof);
		}
		if (err) {
			memset(e, 0, sizeof(*e));
			return err;
		}
		if (len - n < plen)
			goto truncated;
		memcpy(e->proof.path, in + n, plen);
		n += plen;
	}
	if (n != len) {
		memset(e, 0, sizeof(*e));
		return KATLS_EXT_E_TRAILING;
	}
	e->version = version;
	e->type = t;
	e->evidence_len = ev_len;
	e->aux_len = aux_len;
	return KATLS_EXT_OK;

truncated:
	memset(e, 0, sizeof(*e));
	return KATLS_EXT_E_TRUNCATED;
}
