// SPDX-License-Identifier: GPL-2.0
/*
 * cose.c - strict CBOR loading and COSE_Sign1 (RFC 9052) verification,
 * the layer under the Arm CCA token verifier (cca.c).
 *
 * Parsing is strict.  Every CBOR document is pre-scanned with libcbor's
 * streaming decoder before it is loaded: definite lengths only, nesting
 * at most KV_CBOR_MAX_DEPTH, no element counts larger than the bytes left,
 * no trailing bytes.  Only then does cbor_load() build a tree, so neither
 * the allocator nor libcbor's recursive cbor_decref() can be driven by a
 * hostile length or depth.  Maps read through kv_cbor_map_ok() must have
 * unique integer keys.
 *
 * Signatures: COSE ES256/ES384/ES512 over the Sig_structure
 * ["Signature1", protected, h'', payload], which is encoded here with
 * libcbor; the raw r||s value is converted to DER with
 * gnutls_encode_rs_value() and checked with gnutls_pubkey_verify_data2().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "cose.h"

/* COSE tag, header labels and key parameters (RFC 9052, RFC 9053). */
#define COSE_TAG_SIGN1		18

#define COSE_HDR_ALG		1
#define COSE_HDR_CRIT		2

#define COSE_KEY_KTY		1
#define COSE_KEY_CRV		(-1)
#define COSE_KEY_X		(-2)
#define COSE_KEY_Y		(-3)
#define COSE_KTY_EC2		2

static const struct kv_cose_alg cose_algs[] = {
	{ -7, "ES256", GNUTLS_ECC_CURVE_SECP256R1, 32,
	  GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 1 },
	{ -35, "ES384", GNUTLS_ECC_CURVE_SECP384R1, 48,
	  GNUTLS_SIGN_ECDSA_SECP384R1_SHA384, 2 },
	{ -36, "ES512", GNUTLS_ECC_CURVE_SECP521R1, 66,
	  GNUTLS_SIGN_ECDSA_SECP521R1_SHA512, 3 },
};

static const struct kv_cose_alg *cose_alg_by_id(int64_t id)
{
	for (size_t i = 0; i < sizeof(cose_algs) / sizeof(cose_algs[0]); i++)
		if (cose_algs[i].id == id)
			return &cose_algs[i];
	return NULL;
}

/* ---- strict CBOR loading ---- */

enum scan_kind { SCAN_NONE, SCAN_ITEM, SCAN_ARRAY, SCAN_MAP, SCAN_TAG,
		 SCAN_INDEF };

struct scan_event {
	enum scan_kind kind;
	size_t count;
};

static void scan_set(void *ctx, enum scan_kind kind, size_t count)
{
	struct scan_event *e = ctx;

	e->kind = kind;
	e->count = count;
}

static void scan_u8(void *ctx, uint8_t x) { (void)x; scan_set(ctx, SCAN_ITEM, 0); }
static void scan_u16(void *ctx, uint16_t x) { (void)x; scan_set(ctx, SCAN_ITEM, 0); }
static void scan_u32(void *ctx, uint32_t x) { (void)x; scan_set(ctx, SCAN_ITEM, 0); }
static void scan_u64(void *ctx, uint64_t x) { (void)x; scan_set(ctx, SCAN_ITEM, 0); }
static void scan_str(void *ctx, cbor_data d, size_t n)
{
	(void)d;
	(void)n;
	scan_set(ctx, SCAN_ITEM, 0);
}
static void scan_f32(void *ctx, float x) { (void)x; scan_set(ctx, SCAN_ITEM, 0); }
static void scan_f64(void *ctx, double x) { (void)x; scan_set(ctx, SCAN_ITEM, 0); }
static void scan_bool(void *ctx, bool x) { (void)x; scan_set(ctx, SCAN_ITEM, 0); }
static void scan_simple(void *ctx) { scan_set(ctx, SCAN_ITEM, 0); }
static void scan_indef(void *ctx) { scan_set(ctx, SCAN_INDEF, 0); }
static void scan_array(void *ctx, size_t n) { scan_set(ctx, SCAN_ARRAY, n); }
static void scan_map(void *ctx, size_t n) { scan_set(ctx, SCAN_MAP, n); }
static void scan_tag(void *ctx, uint64_t t) { (void)t; scan_set(ctx, SCAN_TAG, 0); }

static struct cbor_callbacks scan_callbacks(void)
{
	struct cbor_callbacks cb = {
		.uint8 = scan_u8, .uint16 = scan_u16,
		.uint32 = scan_u32, .uint64 = scan_u64,
		.negint8 = scan_u8, .negint16 = scan_u16,
		.negint32 = scan_u32, .negint64 = scan_u64,
		.byte_string = scan_str, .string = scan_str,
		.byte_string_start = scan_indef, .string_start = scan_indef,
		.indef_array_start = scan_indef,
		.indef_map_start = scan_indef,
		.indef_break = scan_indef,
		.array_start = scan_array, .map_start = scan_map,
		.tag = scan_tag,
		.float2 = scan_f32, .float4 = scan_f32, .float8 = scan_f64,
		.undefined = scan_simple, .null = scan_simple,
		.boolean = scan_bool,
	};

	return cb;
}

/*
 * Check that p[0..len) is exactly one well-formed, definite-length CBOR
 * data item nested at most KV_CBOR_MAX_DEPTH deep.  Returns NULL or why not.
 */
static const char *cbor_prescan(const uint8_t *p, size_t len)
{
	const struct cbor_callbacks cb = scan_callbacks();
	size_t left[KV_CBOR_MAX_DEPTH + 1];
	size_t depth = 0, off = 0;

	left[0] = 1;
	while (depth || left[0]) {
		struct scan_event e = { SCAN_NONE, 0 };
		struct cbor_decoder_result r;
		size_t want;

		if (off >= len)
			return "truncated";
		r = cbor_stream_decode(p + off, len - off, &cb, &e);
		if (r.status == CBOR_DECODER_NEDATA)
			return "truncated";
		if (r.status != CBOR_DECODER_FINISHED || !r.read ||
		    r.read > len - off)
			return "malformed item";
		off += r.read;
		if (e.kind == SCAN_INDEF)
			return "indefinite-length item";
		if (e.kind == SCAN_NONE)
			return "unsupported item";

		left[depth]--;
		want = 0;
		if (e.kind == SCAN_ARRAY) {
			want = e.count;
		} else if (e.kind == SCAN_MAP) {
			if (e.count > (len - off) / 2)
				return "map larger than its input";
			want = 2 * e.count;
		} else if (e.kind == SCAN_TAG) {
			want = 1;
		}
		/* Every element takes at least one byte. */
		if (want > len - off)
			return "array larger than its input";
		if (want) {
			if (depth == KV_CBOR_MAX_DEPTH)
				return "nested too deeply";
			left[++depth] = want;
		}
		while (depth && !left[depth])
			depth--;
	}
	if (off != len)
		return "trailing bytes";
	return NULL;
}

/* Load one CBOR document after cbor_prescan(); NULL with *why on error. */
cbor_item_t *kv_cbor_load_strict(const uint8_t *p, size_t len,
				 const char **why)
{
	struct cbor_load_result res;
	cbor_item_t *item;

	if (!len) {
		*why = "empty";
		return NULL;
	}
	*why = cbor_prescan(p, len);
	if (*why)
		return NULL;
	item = cbor_load(p, len, &res);
	if (!item || res.error.code != CBOR_ERR_NONE || res.read != len) {
		if (item)
			cbor_decref(&item);
		*why = res.error.code == CBOR_ERR_MEMERROR ? "out of memory"
							     : "malformed";
		return NULL;
	}
	return item;
}

/* ---- item accessors ---- */

bool kv_cbor_i64(const cbor_item_t *it, int64_t *out)
{
	uint64_t u;

	if (cbor_isa_uint(it)) {
		u = cbor_get_int(it);
		if (u > INT64_MAX)
			return false;
		*out = (int64_t)u;
		return true;
	}
	if (cbor_isa_negint(it)) {
		u = cbor_get_int(it);
		if (u > INT64_MAX)
			return false;
		*out = -1 - (int64_t)u;
		return true;
	}
	return false;
}

/* A map of at most KV_CBOR_MAP_MAX entries whose keys are unique integers. */
bool kv_cbor_map_ok(const cbor_item_t *map)
{
	struct cbor_pair *kv;
	size_t n;

	if (!cbor_isa_map(map) || !cbor_map_is_definite(map))
		return false;
	n = cbor_map_size(map);
	if (n > KV_CBOR_MAP_MAX)
		return false;
	kv = cbor_map_handle(map);
	for (size_t i = 0; i < n; i++) {
		int64_t ki, kj;

		if (!kv_cbor_i64(kv[i].key, &ki))
			return false;
		for (size_t j = 0; j < i; j++)
			if (kv_cbor_i64(kv[j].key, &kj) && ki == kj)
				return false;
	}
	return true;
}

/* Value for an integer key of a map that passed kv_cbor_map_ok(). */
const cbor_item_t *kv_cbor_map_get(const cbor_item_t *map, int64_t key)
{
	struct cbor_pair *kv = cbor_map_handle(map);
	size_t n = cbor_map_size(map);
	int64_t k;

	for (size_t i = 0; i < n; i++)
		if (kv_cbor_i64(kv[i].key, &k) && k == key)
			return kv[i].value;
	return NULL;
}

bool kv_cbor_bstr(const cbor_item_t *it, struct kv_bytes *b)
{
	if (!it || !cbor_isa_bytestring(it) ||
	    !cbor_bytestring_is_definite(it))
		return false;
	b->n = cbor_bytestring_length(it);
	b->p = b->n ? cbor_bytestring_handle(it) : NULL;
	return true;
}

bool kv_cbor_map_bstr(const cbor_item_t *map, int64_t key,
		      struct kv_bytes *b)
{
	return kv_cbor_bstr(kv_cbor_map_get(map, key), b);
}

/* A text claim: printable ASCII, shorter than bufsz. */
bool kv_cbor_map_tstr(const cbor_item_t *map, int64_t key, char *buf,
		      size_t bufsz)
{
	const cbor_item_t *it = kv_cbor_map_get(map, key);
	const unsigned char *s;
	size_t n;

	if (!it || !cbor_isa_string(it) || !cbor_string_is_definite(it))
		return false;
	n = cbor_string_length(it);
	if (!n || n >= bufsz)
		return false;
	s = cbor_string_handle(it);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

/* ---- COSE_Sign1 ---- */

void kv_cose_sign1_free(struct kv_cose_sign1 *s)
{
	if (s->claims_doc)
		cbor_decref(&s->claims_doc);
	if (s->msg)
		cbor_decref(&s->msg);
	s->claims = NULL;
}

/* Decode the protected header: a map with a supported alg and no crit. */
static int cose_protected(struct kv_cose_sign1 *s, struct katls_verdict *v)
{
	const cbor_item_t *alg;
	cbor_item_t *hdr;
	const char *why;
	int64_t id;
	int ret = -1;

	hdr = kv_cbor_load_strict(s->prot.p, s->prot.n, &why);
	if (!hdr) {
		katls_verdict_error(v, "%s token: protected header: %s",
				    s->name, why);
		return -1;
	}
	if (!kv_cbor_map_ok(hdr)) {
		katls_verdict_error(v, "%s token: protected header is not a map of unique integer labels",
				    s->name);
		goto out;
	}
	if (kv_cbor_map_get(hdr, COSE_HDR_CRIT)) {
		katls_verdict_error(v, "%s token: critical header parameters are not supported",
				    s->name);
		goto out;
	}
	alg = kv_cbor_map_get(hdr, COSE_HDR_ALG);
	if (!alg || !kv_cbor_i64(alg, &id)) {
		katls_verdict_error(v, "%s token: no integer alg in the protected header",
				    s->name);
		goto out;
	}
	s->alg = cose_alg_by_id(id);
	if (!s->alg) {
		katls_verdict_error(v, "%s token: unsupported COSE alg %lld",
				    s->name, (long long)id);
		goto out;
	}
	ret = 0;
out:
	cbor_decref(&hdr);
	return ret;
}

/*
 * Parse COSE_Sign1_Tagged = 18([protected: bstr, unprotected: map,
 * payload: bstr, signature: bstr]) and its claims map.
 *
 * libcbor 0.8 (Debian 12) rejects the one-byte tags 6..20 as reserved, so
 * the usual encoding of tag 18, the single byte 0xd2, is taken off here;
 * any other encoding of the tag goes through libcbor.
 */
int kv_cose_sign1_parse(const struct kv_bytes *in, struct kv_cose_sign1 *s,
			struct katls_verdict *v)
{
	const uint8_t *p = in->p;
	size_t n = in->n;
	cbor_item_t *arr, **el;
	const char *why;
	bool tagged = false;

	if (n && p[0] == 0xd2) {
		tagged = true;
		p++;
		n--;
	} else if (n && p[0] >= 0xc0 && p[0] < 0xd8) {
		/* another one-byte tag */
		katls_verdict_error(v, "%s token: not a tagged COSE_Sign1 (tag %d)",
				    s->name, COSE_TAG_SIGN1);
		return -1;
	}
	s->msg = kv_cbor_load_strict(p, n, &why);
	if (!s->msg) {
		katls_verdict_error(v, "%s token: not CBOR: %s", s->name, why);
		return -1;
	}
	arr = s->msg;
	if (!tagged && cbor_isa_tag(s->msg) &&
	    cbor_tag_value(s->msg) == COSE_TAG_SIGN1) {
		cbor_item_t *t = cbor_tag_item(s->msg);

		/* It lives on in s->msg; drop the reference just taken. */
		tagged = true;
		arr = t;
		cbor_decref(&t);
	}
	if (!tagged) {
		katls_verdict_error(v, "%s token: not a tagged COSE_Sign1 (tag %d)",
				    s->name, COSE_TAG_SIGN1);
		return -1;
	}
	if (!cbor_isa_array(arr) || !cbor_array_is_definite(arr) ||
	    cbor_array_size(arr) != 4) {
		katls_verdict_error(v, "%s token: COSE_Sign1 is not an array of 4",
				    s->name);
		return -1;
	}
	el = cbor_array_handle(arr);
	if (!kv_cbor_bstr(el[0], &s->prot) || !cbor_isa_map(el[1]) ||
	    !kv_cbor_bstr(el[2], &s->payload) ||
	    !kv_cbor_bstr(el[3], &s->sig)) {
		katls_verdict_error(v, "%s token: COSE_Sign1 element of the wrong type",
				    s->name);
		return -1;
	}

	if (cose_protected(s, v))
		return -1;

	s->claims_doc = kv_cbor_load_strict(s->payload.p, s->payload.n, &why);
	if (!s->claims_doc) {
		katls_verdict_error(v, "%s token: claims are not CBOR: %s",
				    s->name, why);
		return -1;
	}
	if (!kv_cbor_map_ok(s->claims_doc)) {
		katls_verdict_error(v, "%s token: claims are not a map of unique integer keys",
				    s->name);
		return -1;
	}
	s->claims = s->claims_doc;
	return 0;
}

/* Sig_structure = ["Signature1", body_protected, external_aad, payload] */
static int cose_tbs(const struct kv_cose_sign1 *s, unsigned char **buf,
		    size_t *len)
{
	static const uint8_t empty[1];
	cbor_item_t *a, *e[4];
	size_t bufsz = 0;
	bool ok;

	*buf = NULL;
	a = cbor_new_definite_array(4);
	e[0] = cbor_build_string("Signature1");
	e[1] = cbor_build_bytestring(s->prot.n ? s->prot.p : empty, s->prot.n);
	e[2] = cbor_build_bytestring(empty, 0);
	e[3] = cbor_build_bytestring(s->payload.n ? s->payload.p : empty,
				     s->payload.n);
	ok = a != NULL;
	for (int i = 0; i < 4; i++) {
		if (ok && e[i])
			ok = cbor_array_push(a, e[i]);
		else
			ok = false;
		if (e[i])
			cbor_decref(&e[i]);
	}
	*len = ok ? cbor_serialize_alloc(a, buf, &bufsz) : 0;
	if (a)
		cbor_decref(&a);
	if (!*len) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

static int pubkey_curve(gnutls_pubkey_t key, gnutls_ecc_curve_t *curve)
{
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	int ret;

	if (gnutls_pubkey_get_pk_algorithm(key, NULL) != GNUTLS_PK_ECDSA)
		return -1;
	ret = gnutls_pubkey_export_ecc_raw2(key, curve, &x, &y, 0);
	gnutls_free(x.data);
	gnutls_free(y.data);
	return ret < 0 ? -1 : 0;
}

/* Verify s's signature with key.  NULL if good, or why not. */
const char *kv_cose_verify(const struct kv_cose_sign1 *s,
			   gnutls_pubkey_t key)
{
	gnutls_datum_t r, sv, der = { NULL, 0 }, tbs;
	gnutls_ecc_curve_t curve;
	unsigned char *buf;
	size_t len;
	const char *why = NULL;
	int ret;

	if (pubkey_curve(key, &curve) || curve != s->alg->curve)
		return "key does not match the COSE alg";
	if (s->sig.n != 2 * s->alg->coord_len)
		return "signature has the wrong length";
	if (cose_tbs(s, &buf, &len))
		return "cannot encode Sig_structure";

	r.data = (unsigned char *)s->sig.p;
	r.size = s->alg->coord_len;
	sv.data = (unsigned char *)s->sig.p + s->alg->coord_len;
	sv.size = s->alg->coord_len;
	tbs.data = buf;
	tbs.size = len;
	if (gnutls_encode_rs_value(&der, &r, &sv) < 0) {
		why = "cannot encode the signature";
		goto out;
	}
	ret = gnutls_pubkey_verify_data2(key, s->alg->sign, 0, &tbs, &der);
	if (ret < 0)
		why = ret == GNUTLS_E_PK_SIG_VERIFY_FAILED ?
			"signature does not verify" : gnutls_strerror(ret);
out:
	gnutls_free(der.data);
	free(buf);
	return why;
}

/* ---- EC keys ---- */

static int import_ec_point(gnutls_pubkey_t key, const struct kv_cose_alg *a,
			   const uint8_t *x, const uint8_t *y)
{
	const gnutls_datum_t dx = { (unsigned char *)x, a->coord_len };
	const gnutls_datum_t dy = { (unsigned char *)y, a->coord_len };

	return gnutls_pubkey_import_ecc_raw(key, a->curve, &dx, &dy) < 0 ?
		-1 : 0;
}

/*
 * An EC public key given either as an uncompressed SEC1 point
 * (0x04 || X || Y) or as a CBOR COSE_Key {1: 2 (EC2), -1: crv, -2: x, -3: y}.
 */
const char *kv_cose_ec_key_import(gnutls_pubkey_t key,
				  const struct kv_bytes *rak)
{
	const cbor_item_t *kty, *crv;
	struct kv_bytes x, y;
	cbor_item_t *ck;
	const char *why;
	int64_t n;

	if (rak->n && rak->p[0] == 0x04) {
		for (size_t i = 0; i < sizeof(cose_algs) / sizeof(cose_algs[0]); i++) {
			const struct kv_cose_alg *a = &cose_algs[i];

			if (rak->n != 1 + 2 * a->coord_len)
				continue;
			if (import_ec_point(key, a, rak->p + 1,
					    rak->p + 1 + a->coord_len))
				return "not a valid EC point";
			return NULL;
		}
		return "EC point of unsupported size";
	}

	ck = kv_cbor_load_strict(rak->p, rak->n, &why);
	if (!ck)
		return "neither an EC point nor a COSE_Key";
	why = "COSE_Key is not a supported EC2 key";
	if (!kv_cbor_map_ok(ck))
		goto out;
	kty = kv_cbor_map_get(ck, COSE_KEY_KTY);
	crv = kv_cbor_map_get(ck, COSE_KEY_CRV);
	if (!kty || !kv_cbor_i64(kty, &n) || n != COSE_KTY_EC2 ||
	    !crv || !kv_cbor_i64(crv, &n) ||
	    !kv_cbor_map_bstr(ck, COSE_KEY_X, &x) ||
	    !kv_cbor_map_bstr(ck, COSE_KEY_Y, &y))
		goto out;
	for (size_t i = 0; i < sizeof(cose_algs) / sizeof(cose_algs[0]); i++) {
		const struct kv_cose_alg *a = &cose_algs[i];

		if (a->cose_crv != n)
			continue;
		if (x.n != a->coord_len || y.n != a->coord_len)
			break;
		why = import_ec_point(key, a, x.p, y.p) ?
			"COSE_Key is not a valid EC point" : NULL;
		break;
	}
out:
	cbor_decref(&ck);
	return why;
}
