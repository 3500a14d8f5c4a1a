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
 *       uint8 version;                        -- 1
 *       opaque media_type<1..127>;            -- printable ASCII
 *       opaque evidence<1..2^24-1>;           -- at most 32768 bytes
 *       opaque aux<0..2^24-1>;                -- at most 65536 bytes
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
	default:			return "unknown error";
	}
}

static int mode_valid(uint8_t mode)
{
	return mode == KATLS_EXT_MODE_BINDER_V1 ||
	       mode == KATLS_EXT_MODE_POST_V1;
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

size_t katls_ext_evidence_size(enum katls_evidence_type t, size_t ev_len,
			       size_t aux_len)
{
	const char *mt = katls_ext_media_type(t);
	size_t len;

	if (!mt || !ev_len || ev_len > KATLS_EXT_EVIDENCE_MAX ||
	    aux_len > KATLS_EXT_AUX_MAX)
		return 0;
	len = 1 + 1 + strlen(mt) + 3 + ev_len + 3 + aux_len;
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

int katls_ext_evidence_encode(enum katls_evidence_type t,
			      const uint8_t *ev, size_t ev_len,
			      const uint8_t *aux, size_t aux_len,
			      uint8_t *out, size_t cap)
{
	const char *mt = katls_ext_media_type(t);
	size_t mlen, n = 0;

	if (!out || !ev || (aux_len && !aux))
		return KATLS_EXT_E_ARG;
	if (!mt)
		return KATLS_EXT_E_MEDIA_UNKNOWN;
	if (!ev_len || ev_len > KATLS_EXT_EVIDENCE_MAX)
		return KATLS_EXT_E_EVIDENCE_LEN;
	if (aux_len > KATLS_EXT_AUX_MAX)
		return KATLS_EXT_E_AUX_LEN;
	if (!katls_ext_evidence_size(t, ev_len, aux_len))
		return KATLS_EXT_E_TOO_BIG;
	if (cap < katls_ext_evidence_size(t, ev_len, aux_len))
		return KATLS_EXT_E_NOSPACE;

	mlen = strlen(mt);
	out[n++] = KATLS_EXT_VERSION;
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
	return n;
}

int katls_ext_evidence_decode(const uint8_t *in, size_t len,
			      struct katls_ext_evidence *e)
{
	size_t n = 0, mlen, ev_len, aux_len, i;
	enum katls_evidence_type t;

	if (!e || (!in && len))
		return KATLS_EXT_E_ARG;
	memset(e, 0, sizeof(*e));
	if (len > KATLS_EXT_BODY_MAX)
		return KATLS_EXT_E_TOO_BIG;
	if (len < 1)
		return KATLS_EXT_E_TRUNCATED;
	if (in[n++] != KATLS_EXT_VERSION)
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
	if (n != len) {
		memset(e, 0, sizeof(*e));
		return KATLS_EXT_E_TRAILING;
	}
	e->type = t;
	e->evidence_len = ev_len;
	e->aux_len = aux_len;
	return KATLS_EXT_OK;

truncated:
	memset(e, 0, sizeof(*e));
	return KATLS_EXT_E_TRUNCATED;
}
