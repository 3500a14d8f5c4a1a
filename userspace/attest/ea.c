// SPDX-License-Identifier: GPL-2.0
/*
 * ea.c - RFC 9261 Exported Authenticators with TEE evidence in the leaf
 * CertificateEntry (draft-fossati-seat-expat), and the report data that
 * binds the evidence to the request (binder ea v1).  API and wire format
 * in katls/ea.h; the construction, its deviations from the drafts and
 * test vectors in Documentation/binder.rst.
 *
 * TLS presentation language of what is built and parsed here:
 *
 *   struct {                                  -- type 13 or 17, u24 length
 *       opaque certificate_request_context<0..2^8-1>;
 *       Extension extensions<2..2^16-1>;
 *   } CertificateRequest / ClientCertificateRequest;
 *
 *   struct {                                  -- type 11
 *       opaque certificate_request_context<0..2^8-1>;
 *       CertificateEntry certificate_list<0..2^24-1>;
 *   } Certificate;
 *   struct {
 *       opaque cert_data<1..2^24-1>;
 *       Extension extensions<0..2^16-1>;       -- leaf: cmw_attestation
 *   } CertificateEntry;
 *   struct { opaque cmw_data<1..2^16-1>; } CMWAttestation;
 *
 *   struct {                                  -- type 15
 *       SignatureScheme algorithm;
 *       opaque signature<0..2^16-1>;
 *   } CertificateVerify;
 *
 *   opaque verify_data[Hash.length];          -- type 20, Finished
 *
 * Every value derived from the exporter is wiped after use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include <katls/binder.h>
#include <katls/ea.h>

#define EA_BINDER_TAG	"katls ea v1"
#define CV_CONTEXT	"Exported Authenticator"

static const char *const exporter_labels[2][2] = {
	[KATLS_EA_FROM_CLIENT] = {
		"EXPORTER-client authenticator handshake context",
		"EXPORTER-client authenticator finished key",
	},
	[KATLS_EA_FROM_SERVER] = {
		"EXPORTER-server authenticator handshake context",
		"EXPORTER-server authenticator finished key",
	},
};

/* The TLS 1.3 signature schemes katls offers and accepts. */
static const struct {
	uint16_t code;
	gnutls_sign_algorithm_t algo;
} schemes[] = {
	{ 0x0403, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256 },
	{ 0x0503, GNUTLS_SIGN_ECDSA_SECP384R1_SHA384 },
	{ 0x0603, GNUTLS_SIGN_ECDSA_SECP521R1_SHA512 },
	{ 0x0807, GNUTLS_SIGN_EDDSA_ED25519 },
	{ 0x0808, GNUTLS_SIGN_EDDSA_ED448 },
	{ 0x0804, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256 },
	{ 0x0805, GNUTLS_SIGN_RSA_PSS_RSAE_SHA384 },
	{ 0x0806, GNUTLS_SIGN_RSA_PSS_RSAE_SHA512 },
	{ 0x0809, GNUTLS_SIGN_RSA_PSS_SHA256 },
	{ 0x080a, GNUTLS_SIGN_RSA_PSS_SHA384 },
	{ 0x080b, GNUTLS_SIGN_RSA_PSS_SHA512 },
};
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

gnutls_sign_algorithm_t katls_ea_scheme_to_gnutls(uint16_t code)
{
	size_t i;

	for (i = 0; i < NSCHEMES; i++)
		if (schemes[i].code == code)
			return schemes[i].algo;
	return GNUTLS_SIGN_UNKNOWN;
}

const char *katls_ea_strerror(int err)
{
	switch (err) {
	case KATLS_EA_OK:		return "success";
	case KATLS_EA_E_ARG:		return "invalid argument";
	case KATLS_EA_E_NOSPACE:	return "output buffer too small";
	case KATLS_EA_E_TRUNCATED:	return "truncated";
	case KATLS_EA_E_TRAILING:	return "trailing bytes";
	case KATLS_EA_E_MSG_TYPE:	return "unexpected handshake message";
	case KATLS_EA_E_CTX_LEN:	return "request context too short";
	case KATLS_EA_E_EXT_DUP:	return "duplicate extension";
	case KATLS_EA_E_NO_SIGALGS:	return "no signature_algorithms in the request";
	case KATLS_EA_E_SIGALGS:	return "bad signature_algorithms";
	case KATLS_EA_E_NO_CMW_OFFER:	return "request does not offer cmw_attestation";
	case KATLS_EA_E_CONTEXT:	return "authenticator for another request context";
	case KATLS_EA_E_NO_CERT:	return "no certificate in the authenticator";
	case KATLS_EA_E_CERT:		return "leaf certificate does not parse";
	case KATLS_EA_E_KEY:		return "authenticator key is not the handshake's key";
	case KATLS_EA_E_EXT_UNSOLICITED: return "unsolicited certificate extension";
	case KATLS_EA_E_NO_CMW:		return "no evidence (cmw_attestation) in the leaf entry";
	case KATLS_EA_E_CMW_LEN:	return "bad cmw_attestation length";
	case KATLS_EA_E_SCHEME:		return "signature scheme not offered or not the key's";
	case KATLS_EA_E_SIGNATURE:	return "CertificateVerify does not verify";
	case KATLS_EA_E_FINISHED:	return "Finished does not verify";
	case KATLS_EA_E_EMPTY:		return "empty authenticator (the peer refused)";
	case KATLS_EA_E_CRYPTO:		return "cryptographic primitive failed";
	case KATLS_EA_E_TOO_BIG:	return "length out of bounds";
	case KATLS_EA_E_FRAME:		return "bad katls frame";
	default:			return "unknown error";
	}
}

/* ---- byte writer and reader ---- */

struct wbuf {
	uint8_t *p;
	size_t cap, n;
	bool err;
};

static void put(struct wbuf *w, const void *d, size_t len)
{
	if (w->err || len > w->cap - w->n) {
		w->err = true;
		return;
	}
	if (len)
		memcpy(w->p + w->n, d, len);
	w->n += len;
}

static void put_n(struct wbuf *w, uint32_t v, unsigned int bytes)
{
	uint8_t b[4];
	unsigned int i;

	for (i = 0; i < bytes; i++)
		b[i] = v >> (8 * (bytes - 1 - i));
	put(w, b, bytes);
}

/* Fill in a length field of @bytes at @at with everything after it. */
static void patch_len(struct wbuf *w, size_t at, unsigned int bytes)
{
	size_t len;
	unsigned int i;

	if (w->err)
		return;
	len = w->n - at - bytes;
	if (len >> (8 * bytes)) {
		w->err = true;
		return;
	}
	for (i = 0; i < bytes; i++)
		w->p[at + i] = len >> (8 * (bytes - 1 - i));
}

struct rbuf {
	const uint8_t *p;
	size_t len, off;
};

static int get_n(struct rbuf *r, unsigned int bytes, uint32_t *v)
{
	unsigned int i;

	if (r->len - r->off < bytes)
		return KATLS_EA_E_TRUNCATED;
	*v = 0;
	for (i = 0; i < bytes; i++)
		*v = *v << 8 | r->p[r->off++];
	return 0;
}

/* A vector with a @bytes length prefix: a sub-reader over its body. */
static int get_vec(struct rbuf *r, unsigned int bytes, struct rbuf *sub)
{
	uint32_t len;
	int ret = get_n(r, bytes, &len);

	if (ret)
		return ret;
	if (r->len - r->off < len)
		return KATLS_EA_E_TRUNCATED;
	sub->p = r->p + r->off;
	sub->len = len;
	sub->off = 0;
	r->off += len;
	return 0;
}

/* ---- keys ---- */

static size_t hash_len(gnutls_mac_algorithm_t h)
{
	return h == GNUTLS_MAC_SHA256 ? 32 : h == GNUTLS_MAC_SHA384 ? 48 : 0;
}

static gnutls_digest_algorithm_t dig(gnutls_mac_algorithm_t h)
{
	return h == GNUTLS_MAC_SHA384 ? GNUTLS_DIG_SHA384 : GNUTLS_DIG_SHA256;
}

void katls_ea_keys_wipe(struct katls_ea_keys *k)
{
	if (k)
		gnutls_memset(k, 0, sizeof(*k));
}

int katls_ea_keys_from_session(gnutls_session_t s, enum katls_ea_sender who,
			       struct katls_ea_keys *k)
{
	const char *hc, *fk;

	if (!k)
		return KATLS_EA_E_ARG;
	memset(k, 0, sizeof(*k));
	if (!s || (who != KATLS_EA_FROM_CLIENT && who != KATLS_EA_FROM_SERVER) ||
	    gnutls_protocol_get_version(s) != GNUTLS_TLS1_3)
		return KATLS_EA_E_ARG;
	switch (gnutls_prf_hash_get(s)) {
	case GNUTLS_DIG_SHA256:
		k->hash = GNUTLS_MAC_SHA256;
		break;
	case GNUTLS_DIG_SHA384:
		k->hash = GNUTLS_MAC_SHA384;
		break;
	default:
		return KATLS_EA_E_ARG;
	}
	k->hlen = hash_len(k->hash);
	hc = exporter_labels[who][0];
	fk = exporter_labels[who][1];
	/* RFC 9261: empty context, Hash.length bytes, exporter_master_secret */
	if (gnutls_prf_rfc5705(s, strlen(hc), hc, 0, NULL, k->hlen,
			       (char *)k->hs_context) < 0 ||
	    gnutls_prf_rfc5705(s, strlen(fk), fk, 0, NULL, k->hlen,
			       (char *)k->finished_key) < 0) {
		katls_ea_keys_wipe(k);
		return KATLS_EA_E_CRYPTO;
	}
	return 0;
}

static bool keys_ok(const struct katls_ea_keys *k)
{
	return k && k->hlen && k->hlen == hash_len(k->hash);
}

/* ---- the request ---- */

int katls_ea_request_new(uint8_t type, struct katls_ea_request *r)
{
	size_t i;

	if (!r)
		return KATLS_EA_E_ARG;
	memset(r, 0, sizeof(*r));
	if (type != KATLS_EA_HS_CERTIFICATE_REQUEST &&
	    type != KATLS_EA_HS_CLIENT_CERTIFICATE_REQUEST)
		return KATLS_EA_E_ARG;
	r->type = type;
	r->ctx_len = KATLS_EA_CTX_LEN;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, r->ctx, r->ctx_len))
		return KATLS_EA_E_CRYPTO;
	for (i = 0; i < NSCHEMES && i < KATLS_EA_MAX_SCHEMES; i++)
		r->schemes[r->nschemes++] = schemes[i].code;
	r->cmw_offered = true;
	return 0;
}

int katls_ea_request_encode(const struct katls_ea_request *r, uint8_t *out,
			    size_t cap)
{
	struct wbuf w = { .p = out, .cap = cap };
	size_t body, exts, sa;
	unsigned int i;

	if (!r || !out)
		return KATLS_EA_E_ARG;
	if ((r->type != KATLS_EA_HS_CERTIFICATE_REQUEST &&
	     r->type != KATLS_EA_HS_CLIENT_CERTIFICATE_REQUEST) ||
	    r->ctx_len > KATLS_EA_CTX_MAX)
		return KATLS_EA_E_ARG;
	if (r->ctx_len < KATLS_EA_CTX_MIN)
		return KATLS_EA_E_CTX_LEN;
	if (!r->nschemes || r->nschemes > KATLS_EA_MAX_SCHEMES)
		return KATLS_EA_E_SIGALGS;

	put_n(&w, r->type, 1);
	body = w.n;
	put_n(&w, 0, 3);
	put_n(&w, r->ctx_len, 1);
	put(&w, r->ctx, r->ctx_len);
	exts = w.n;
	put_n(&w, 0, 2);
	put_n(&w, KATLS_EA_EXT_SIGNATURE_ALGORITHMS, 2);
	sa = w.n;
	put_n(&w, 0, 2);
	put_n(&w, 2 * r->nschemes, 2);
	for (i = 0; i < r->nschemes; i++)
		put_n(&w, r->schemes[i], 2);
	patch_len(&w, sa, 2);
	if (r->cmw_offered) {
		put_n(&w, KATLS_EA_EXT_CMW_ATTESTATION, 2);
		put_n(&w, 0, 2);
	}
	patch_len(&w, exts, 2);
	patch_len(&w, body, 3);
	return w.err ? KATLS_EA_E_NOSPACE : (int)w.n;
}

static int decode_sigalgs(struct rbuf *d, struct katls_ea_request *r)
{
	struct rbuf l;
	uint32_t v = 0;
	int ret;

	ret = get_vec(d, 2, &l);
	if (ret)
		return KATLS_EA_E_SIGALGS;
	if (d->off != d->len || l.len < 2 || l.len % 2 ||
	    l.len / 2 > KATLS_EA_MAX_SCHEMES)
		return KATLS_EA_E_SIGALGS;
	while (l.off < l.len) {
		if (get_n(&l, 2, &v))
			return KATLS_EA_E_SIGALGS;
		r->schemes[r->nschemes++] = v;
	}
	return 0;
}

int katls_ea_request_decode(const uint8_t *in, size_t len,
			    struct katls_ea_request *r)
{
	struct rbuf b = { .p = in, .len = len }, body, ctx, exts;
	bool seen_sa = false;
	uint32_t type;
	int ret;

	if (!in || !r)
		return KATLS_EA_E_ARG;
	memset(r, 0, sizeof(*r));
	if ((ret = get_n(&b, 1, &type)))
		return ret;
	if (type != KATLS_EA_HS_CERTIFICATE_REQUEST &&
	    type != KATLS_EA_HS_CLIENT_CERTIFICATE_REQUEST)
		return KATLS_EA_E_MSG_TYPE;
	r->type = type;
	if ((ret = get_vec(&b, 3, &body)))
		return ret;
	if (b.off != b.len)
		return KATLS_EA_E_TRAILING;
	if ((ret = get_vec(&body, 1, &ctx)))
		return ret;
	if (ctx.len < KATLS_EA_CTX_MIN)
		return KATLS_EA_E_CTX_LEN;
	memcpy(r->ctx, ctx.p, ctx.len);
	r->ctx_len = ctx.len;
	if ((ret = get_vec(&body, 2, &exts)))
		return ret;
	if (body.off != body.len)
		return KATLS_EA_E_TRAILING;
	/* extensions<2..2^16-1> */
	if (exts.len < 2)
		return KATLS_EA_E_NO_SIGALGS;
	while (exts.off < exts.len) {
		uint32_t et;
		struct rbuf d;

		if ((ret = get_n(&exts, 2, &et)) || (ret = get_vec(&exts, 2, &d)))
			return ret;
		if (et == KATLS_EA_EXT_SIGNATURE_ALGORITHMS) {
			if (seen_sa)
				return KATLS_EA_E_EXT_DUP;
			seen_sa = true;
			if ((ret = decode_sigalgs(&d, r)))
				return ret;
		} else if (et == KATLS_EA_EXT_CMW_ATTESTATION) {
			if (r->cmw_offered)
				return KATLS_EA_E_EXT_DUP;
			/* the offer is empty */
			if (d.len)
				return KATLS_EA_E_CMW_LEN;
			r->cmw_offered = true;
		}
		/* anything else: ignored (RFC 9261 5.2.1) */
	}
	if (!seen_sa)
		return KATLS_EA_E_NO_SIGALGS;
	return 0;
}

/* ---- the authenticator ---- */

/* Hash(hc || req || a || b) with the authenticator hash. */
static int transcript(const struct katls_ea_keys *k, const uint8_t *req,
		      size_t req_len, const uint8_t *a, size_t a_len,
		      const uint8_t *b, size_t b_len, uint8_t *out)
{
	gnutls_hash_hd_t h;
	int ret = 0;

	if (gnutls_hash_init(&h, dig(k->hash)) < 0)
		return KATLS_EA_E_CRYPTO;
	if (gnutls_hash(h, k->hs_context, k->hlen) < 0 ||
	    gnutls_hash(h, req, req_len) < 0 ||
	    (a_len && gnutls_hash(h, a, a_len) < 0) ||
	    (b_len && gnutls_hash(h, b, b_len) < 0))
		ret = KATLS_EA_E_CRYPTO;
	gnutls_hash_deinit(h, out);
	return ret;
}

/* 64 spaces || "Exported Authenticator" || 0 || th */
static size_t cv_input(const uint8_t *th, size_t hlen, uint8_t *out)
{
	memset(out, 0x20, 64);
	memcpy(out + 64, CV_CONTEXT, sizeof(CV_CONTEXT));	/* with the 0 */
	memcpy(out + 64 + sizeof(CV_CONTEXT), th, hlen);
	return 64 + sizeof(CV_CONTEXT) + hlen;
}

/*
 * May @code sign with @pub?  ECDSA: the curve's scheme; EdDSA: its
 * scheme; RSA: RSA-PSS-RSAE; RSA-PSS keys: RSA-PSS-PSS.
 */
static bool scheme_fits(gnutls_pubkey_t pub, uint16_t code)
{
	unsigned int bits = 0;
	int pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);

	switch (pk) {
	case GNUTLS_PK_ECDSA:
		return (code == 0x0403 && bits == 256) ||
		       (code == 0x0503 && bits == 384) ||
		       (code == 0x0603 && bits == 521);
	case GNUTLS_PK_EDDSA_ED25519:
		return code == 0x0807;
	case GNUTLS_PK_EDDSA_ED448:
		return code == 0x0808;
	case GNUTLS_PK_RSA:
		return code >= 0x0804 && code <= 0x0806;
	case GNUTLS_PK_RSA_PSS:
		return code >= 0x0809 && code <= 0x080b;
	default:
		return false;
	}
}

static bool offered(const struct katls_ea_request *r, uint16_t code)
{
	unsigned int i;

	for (i = 0; i < r->nschemes; i++)
		if (r->schemes[i] == code)
			return true;
	return false;
}

static int pubkey_from_der(const uint8_t *der, size_t len,
			   gnutls_pubkey_t *pub)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)der, len };
	int ret = KATLS_EA_E_CERT;

	*pub = NULL;
	if (gnutls_x509_crt_init(&crt) < 0)
		return KATLS_EA_E_CRYPTO;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_pubkey_init(pub) >= 0) {
		if (gnutls_pubkey_import_x509(*pub, crt, 0) >= 0) {
			ret = 0;
		} else {
			gnutls_pubkey_deinit(*pub);
			*pub = NULL;
		}
	}
	gnutls_x509_crt_deinit(crt);
	return ret;
}

/* The Certificate message: our context, one entry with the evidence. */
static int encode_certificate(const struct katls_ea_request *r,
			      const uint8_t *cert, size_t cert_len,
			      const uint8_t *cmw, size_t cmw_len,
			      struct wbuf *w)
{
	size_t body, list, exts, ext;

	put_n(w, KATLS_EA_HS_CERTIFICATE, 1);
	body = w->n;
	put_n(w, 0, 3);
	put_n(w, r->ctx_len, 1);
	put(w, r->ctx, r->ctx_len);
	list = w->n;
	put_n(w, 0, 3);
	put_n(w, cert_len, 3);
	put(w, cert, cert_len);
	exts = w->n;
	put_n(w, 0, 2);
	put_n(w, KATLS_EA_EXT_CMW_ATTESTATION, 2);
	ext = w->n;
	put_n(w, 0, 2);
	put_n(w, cmw_len, 2);
	put(w, cmw, cmw_len);
	patch_len(w, ext, 2);
	patch_len(w, exts, 2);
	patch_len(w, list, 3);
	patch_len(w, body, 3);
	return w->err ? KATLS_EA_E_NOSPACE : 0;
}

int katls_ea_authenticator_create(const struct katls_ea_keys *k,
				  const uint8_t *req, size_t req_len,
				  const struct katls_ea_request *r,
				  const uint8_t *cert_der, size_t cert_len,
				  gnutls_privkey_t key,
				  const uint8_t *cmw, size_t cmw_len,
				  uint8_t **out, size_t *out_len)
{
	uint8_t th[KATLS_EA_HASH_MAX], mac[KATLS_EA_HASH_MAX];
	uint8_t tbs[64 + sizeof(CV_CONTEXT) + KATLS_EA_HASH_MAX];
	gnutls_datum_t data, sig = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	struct wbuf w = { 0 };
	gnutls_hmac_hd_t hm;
	uint16_t code = 0;
	size_t cv_at, fin_at, i;
	int ret;

	if (!out || !out_len)
		return KATLS_EA_E_ARG;
	*out = NULL;
	*out_len = 0;
	if (!keys_ok(k) || !req || !req_len || !r || !cert_der || !key ||
	    !cmw || r->ctx_len > KATLS_EA_CTX_MAX)
		return KATLS_EA_E_ARG;
	if (!r->cmw_offered)
		return KATLS_EA_E_NO_CMW_OFFER;
	if (r->ctx_len < KATLS_EA_CTX_MIN)
		return KATLS_EA_E_CTX_LEN;
	if (!cmw_len || cmw_len > KATLS_EA_CMW_MAX)
		return KATLS_EA_E_CMW_LEN;
	if (!cert_len || cert_len > KATLS_EA_CERT_MAX)
		return KATLS_EA_E_TOO_BIG;

	ret = pubkey_from_der(cert_der, cert_len, &pub);
	if (ret)
		return ret;
	/* our key's scheme, the first that the request offers */
	for (i = 0; i < NSCHEMES && !code; i++)
		if (scheme_fits(pub, schemes[i].code) &&
		    offered(r, schemes[i].code))
			code = schemes[i].code;
	gnutls_pubkey_deinit(pub);
	if (!code)
		return KATLS_EA_E_SCHEME;

	w.cap = KATLS_EA_AUTH_MAX;
	w.p = malloc(w.cap);
	if (!w.p)
		return KATLS_EA_E_ARG;
	ret = encode_certificate(r, cert_der, cert_len, cmw, cmw_len, &w);
	if (ret)
		goto out;

	/* CertificateVerify */
	ret = transcript(k, req, req_len, w.p, w.n, NULL, 0, th);
	if (ret)
		goto out;
	data.data = tbs;
	data.size = cv_input(th, k->hlen, tbs);
	if (gnutls_privkey_sign_data2(key, katls_ea_scheme_to_gnutls(code), 0,
				      &data, &sig) < 0 ||
	    !sig.size || sig.size > KATLS_EA_SIG_MAX) {
		ret = KATLS_EA_E_CRYPTO;
		goto out;
	}
	cv_at = w.n;
	put_n(&w, KATLS_EA_HS_CERTIFICATE_VERIFY, 1);
	put_n(&w, 4 + sig.size, 3);
	put_n(&w, code, 2);
	put_n(&w, sig.size, 2);
	put(&w, sig.data, sig.size);

	/* Finished */
	fin_at = w.n;
	ret = transcript(k, req, req_len, w.p, cv_at, w.p + cv_at,
			 fin_at - cv_at, th);
	if (ret)
		goto out;
	if (gnutls_hmac_init(&hm, k->hash, k->finished_key, k->hlen) < 0) {
		ret = KATLS_EA_E_CRYPTO;
		goto out;
	}
	if (gnutls_hmac(hm, th, k->hlen) < 0)
		ret = KATLS_EA_E_CRYPTO;
	gnutls_hmac_deinit(hm, mac);
	if (ret)
		goto out;
	put_n(&w, KATLS_EA_HS_FINISHED, 1);
	put_n(&w, k->hlen, 3);
	put(&w, mac, k->hlen);
	ret = w.err ? KATLS_EA_E_NOSPACE : 0;
out:
	gnutls_free(sig.data);
	gnutls_memset(th, 0, sizeof(th));
	gnutls_memset(mac, 0, sizeof(mac));
	gnutls_memset(tbs, 0, sizeof(tbs));
	if (ret) {
		free(w.p);
		return ret;
	}
	*out = w.p;
	*out_len = w.n;
	return 0;
}

int katls_ea_empty_authenticator_create(const struct katls_ea_keys *k,
					const uint8_t *req, size_t req_len,
					uint8_t **out, size_t *out_len)
{
	uint8_t th[KATLS_EA_HASH_MAX], mac[KATLS_EA_HASH_MAX];
	struct wbuf w = { 0 };
	int ret;

	if (!out || !out_len)
		return KATLS_EA_E_ARG;
	*out = NULL;
	*out_len = 0;
	if (!keys_ok(k) || !req || !req_len)
		return KATLS_EA_E_ARG;
	/* Finished = HMAC(Finished MAC Key, Hash(Handshake Context || request)) */
	ret = transcript(k, req, req_len, NULL, 0, NULL, 0, th);
	if (!ret && gnutls_hmac_fast(k->hash, k->finished_key, k->hlen, th,
				     k->hlen, mac) < 0)
		ret = KATLS_EA_E_CRYPTO;
	if (!ret) {
		w.cap = 4 + k->hlen;
		w.p = malloc(w.cap);
		if (!w.p)
			ret = KATLS_EA_E_ARG;
	}
	if (!ret) {
		put_n(&w, KATLS_EA_HS_FINISHED, 1);
		put_n(&w, k->hlen, 3);
		put(&w, mac, k->hlen);
		ret = w.err ? KATLS_EA_E_NOSPACE : 0;
	}
	gnutls_memset(th, 0, sizeof(th));
	gnutls_memset(mac, 0, sizeof(mac));
	if (ret) {
		free(w.p);
		return ret;
	}
	*out = w.p;
	*out_len = w.n;
	return 0;
}

/* One handshake message of @type: its body. */
static int get_msg(struct rbuf *b, uint8_t want, struct rbuf *body)
{
	uint32_t type;
	int ret;

	if ((ret = get_n(b, 1, &type)))
		return ret;
	if (type != want)
		return KATLS_EA_E_MSG_TYPE;
	return get_vec(b, 3, body);
}

/*
 * Parse the Certificate body: context, entries; the leaf and its
 * cmw_attestation.  Other entries may follow (a chain) with no
 * extensions: we offered none for them.
 */
static int parse_certificate(struct rbuf *c, const struct katls_ea_request *r,
			     struct katls_ea_verified *v)
{
	struct rbuf ctx, list;
	bool leaf = true;
	int ret;

	if ((ret = get_vec(c, 1, &ctx)))
		return ret;
	if ((ret = get_vec(c, 3, &list)))
		return ret;
	if (c->off != c->len)
		return KATLS_EA_E_TRAILING;
	if (ctx.len != r->ctx_len || memcmp(ctx.p, r->ctx, ctx.len))
		return KATLS_EA_E_CONTEXT;
	if (!list.len)
		return KATLS_EA_E_NO_CERT;
	while (list.off < list.len) {
		struct rbuf cert, exts;

		if ((ret = get_vec(&list, 3, &cert)) ||
		    (ret = get_vec(&list, 2, &exts)))
			return ret;
		if (!cert.len)
			return KATLS_EA_E_CERT;
		if (leaf) {
			if (cert.len > KATLS_EA_CERT_MAX)
				return KATLS_EA_E_TOO_BIG;
			v->cert_der = cert.p;
			v->cert_len = cert.len;
		}
		while (exts.off < exts.len) {
			uint32_t et;
			struct rbuf d, cmw;

			if ((ret = get_n(&exts, 2, &et)) ||
			    (ret = get_vec(&exts, 2, &d)))
				return ret;
			if (et != KATLS_EA_EXT_CMW_ATTESTATION || !leaf)
				return KATLS_EA_E_EXT_UNSOLICITED;
			if (v->cmw)
				return KATLS_EA_E_EXT_DUP;
			if (get_vec(&d, 2, &cmw) || d.off != d.len || !cmw.len)
				return KATLS_EA_E_CMW_LEN;
			v->cmw = cmw.p;
			v->cmw_len = cmw.len;
		}
		leaf = false;
	}
	if (!v->cmw)
		return KATLS_EA_E_NO_CMW;
	return 0;
}

static int check_key(gnutls_pubkey_t pub, const uint8_t *spki,
		     size_t spki_len)
{
	gnutls_datum_t d = { NULL, 0 };
	int ret = KATLS_EA_E_KEY;

	if (gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &d) < 0)
		return KATLS_EA_E_CRYPTO;
	if (d.size == spki_len && !gnutls_memcmp(d.data, spki, spki_len))
		ret = 0;
	gnutls_free(d.data);
	return ret;
}

int katls_ea_authenticator_verify(const struct katls_ea_keys *k,
				  const uint8_t *req, size_t req_len,
				  const struct katls_ea_request *r,
				  const uint8_t *auth, size_t auth_len,
				  const uint8_t *expected_spki,
				  size_t spki_len,
				  struct katls_ea_verified *v)
{
	uint8_t th[KATLS_EA_HASH_MAX], mac[KATLS_EA_HASH_MAX];
	uint8_t tbs[64 + sizeof(CV_CONTEXT) + KATLS_EA_HASH_MAX];
	struct rbuf b = { .p = auth, .len = auth_len }, cert, cv, fin, sig;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t data, sd;
	size_t cert_end, cv_end;
	uint32_t code;
	int ret;

	if (!v)
		return KATLS_EA_E_ARG;
	memset(v, 0, sizeof(*v));
	/* NULL: any key (the caller binds it through the evidence) */
	if (!keys_ok(k) || !req || !req_len || !r || !auth ||
	    (expected_spki && !spki_len))
		return KATLS_EA_E_ARG;
	if (auth_len > KATLS_EA_AUTH_MAX)
		return KATLS_EA_E_TOO_BIG;
	/* An empty authenticator is a lone Finished: the peer's refusal. */
	if (auth_len && auth[0] == KATLS_EA_HS_FINISHED)
		return KATLS_EA_E_EMPTY;

	if ((ret = get_msg(&b, KATLS_EA_HS_CERTIFICATE, &cert)))
		return ret;
	cert_end = b.off;
	if ((ret = get_msg(&b, KATLS_EA_HS_CERTIFICATE_VERIFY, &cv)))
		return ret;
	cv_end = b.off;
	if ((ret = get_msg(&b, KATLS_EA_HS_FINISHED, &fin)))
		return ret;
	if (b.off != b.len)
		return KATLS_EA_E_TRAILING;
	ret = parse_certificate(&cert, r, v);
	if (ret)
		goto fail;
	if ((ret = get_n(&cv, 2, &code)) || (ret = get_vec(&cv, 2, &sig)))
		goto fail;
	if (cv.off != cv.len) {
		ret = KATLS_EA_E_TRAILING;
		goto fail;
	}
	if (!sig.len || sig.len > KATLS_EA_SIG_MAX) {
		ret = KATLS_EA_E_TOO_BIG;
		goto fail;
	}
	if (fin.len != k->hlen) {
		ret = KATLS_EA_E_FINISHED;
		goto fail;
	}

	/* Finished first: it fails for an authenticator of another connection */
	ret = transcript(k, req, req_len, auth, cert_end, auth + cert_end,
			 cv_end - cert_end, th);
	if (ret)
		goto fail;
	if (gnutls_hmac_fast(k->hash, k->finished_key, k->hlen, th, k->hlen,
			     mac) < 0) {
		ret = KATLS_EA_E_CRYPTO;
		goto fail;
	}
	if (gnutls_memcmp(mac, fin.p, k->hlen)) {
		ret = KATLS_EA_E_FINISHED;
		goto fail;
	}

	/* the key: exactly the handshake's */
	ret = pubkey_from_der(v->cert_der, v->cert_len, &pub);
	if (ret)
		goto fail;
	ret = expected_spki ? check_key(pub, expected_spki, spki_len) : 0;
	if (ret)
		goto fail;
	if (!offered(r, code) || !scheme_fits(pub, code) ||
	    katls_ea_scheme_to_gnutls(code) == GNUTLS_SIGN_UNKNOWN) {
		ret = KATLS_EA_E_SCHEME;
		goto fail;
	}
	ret = transcript(k, req, req_len, auth, cert_end, NULL, 0, th);
	if (ret)
		goto fail;
	data.data = tbs;
	data.size = cv_input(th, k->hlen, tbs);
	sd.data = (unsigned char *)sig.p;
	sd.size = sig.len;
	if (gnutls_pubkey_verify_data2(pub, katls_ea_scheme_to_gnutls(code), 0,
				       &data, &sd) < 0) {
		ret = KATLS_EA_E_SIGNATURE;
		goto fail;
	}
	v->scheme = code;
	ret = 0;
	goto out;
fail:
	memset(v, 0, sizeof(*v));
out:
	if (pub)
		gnutls_pubkey_deinit(pub);
	gnutls_memset(th, 0, sizeof(th));
	gnutls_memset(mac, 0, sizeof(mac));
	gnutls_memset(tbs, 0, sizeof(tbs));
	return ret;
}

/* ---- binder ea v1 ---- */

int katls_ea_bind_exporter(gnutls_session_t s, const uint8_t *ctx,
			   size_t ctx_len, uint8_t out[KATLS_EA_BIND_LEN])
{
	if (!out)
		return KATLS_EA_E_ARG;
	memset(out, 0, KATLS_EA_BIND_LEN);
	if (!s || (!ctx && ctx_len) || ctx_len > KATLS_EA_CTX_MAX ||
	    gnutls_protocol_get_version(s) != GNUTLS_TLS1_3)
		return KATLS_EA_E_ARG;
	if (gnutls_prf_rfc5705(s, strlen(KATLS_EA_BIND_LABEL),
			       KATLS_EA_BIND_LABEL, ctx_len,
			       (const char *)ctx, KATLS_EA_BIND_LEN,
			       (char *)out) < 0) {
		gnutls_memset(out, 0, KATLS_EA_BIND_LEN);
		return KATLS_EA_E_CRYPTO;
	}
	return 0;
}

int katls_ea_binder(const uint8_t *ctx, size_t ctx_len,
		    const uint8_t *spki, size_t spki_len,
		    const uint8_t bind[KATLS_EA_BIND_LEN],
		    uint8_t report_data[KATLS_EA_REPORT_DATA_LEN])
{
	uint8_t l8 = ctx_len, l16[2] = { spki_len >> 8, spki_len & 0xff };
	gnutls_hash_hd_t h;
	int ret = KATLS_EA_E_CRYPTO;

	if (!report_data)
		return KATLS_EA_E_ARG;
	memset(report_data, 0, KATLS_EA_REPORT_DATA_LEN);
	if ((!ctx && ctx_len) || ctx_len > KATLS_EA_CTX_MAX || !spki ||
	    !spki_len || spki_len > 0xffff || !bind)
		return KATLS_EA_E_ARG;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA512) < 0)
		return KATLS_EA_E_CRYPTO;
	if (gnutls_hash(h, EA_BINDER_TAG, sizeof(EA_BINDER_TAG) - 1) >= 0 &&
	    gnutls_hash(h, &l8, 1) >= 0 &&
	    (!ctx_len || gnutls_hash(h, ctx, ctx_len) >= 0) &&
	    gnutls_hash(h, l16, 2) >= 0 &&
	    gnutls_hash(h, spki, spki_len) >= 0 &&
	    gnutls_hash(h, bind, KATLS_EA_BIND_LEN) >= 0)
		ret = 0;
	gnutls_hash_deinit(h, report_data);
	if (ret)
		gnutls_memset(report_data, 0, KATLS_EA_REPORT_DATA_LEN);
	return ret;
}

/* ---- katls frames ---- */

void katls_ea_frame_hdr(uint8_t type, size_t len,
			uint8_t hdr[KATLS_EA_FRAME_HDR_LEN])
{
	memcpy(hdr, KATLS_EA_FRAME_MAGIC, 4);
	hdr[4] = type;
	hdr[5] = len >> 16;
	hdr[6] = len >> 8;
	hdr[7] = len;
}

int katls_ea_frame_parse(const uint8_t hdr[KATLS_EA_FRAME_HDR_LEN],
			 uint8_t want, size_t max)
{
	size_t len;

	if (!hdr || memcmp(hdr, KATLS_EA_FRAME_MAGIC, 4))
		return KATLS_EA_E_FRAME;
	if (hdr[4] != want)
		return KATLS_EA_E_MSG_TYPE;
	len = (size_t)hdr[5] << 16 | (size_t)hdr[6] << 8 | hdr[7];
	if (!len || len > max || len > 0x7fffffff)
		return KATLS_EA_E_TOO_BIG;
	return (int)len;
}
