// SPDX-License-Identifier: GPL-2.0
/*
 * cca.c - Arm CCA attestation token verifier.
 *
 * The token is what configfs-tsm's arm-cca-guest provider returns in
 * outblob: a CBOR collection (tag 399) of two COSE_Sign1 messages,
 *
 *	399({ 44234: bstr .cbor platform token,
 *	      44241: bstr .cbor realm token })
 *
 * and is verified in three steps:
 *
 *  1. the realm token is signed by the Realm Attestation Key (RAK), whose
 *     public half is the realm claim 44237 (a raw EC point, or a COSE_Key
 *     in newer RMMs);
 *  2. the platform token's challenge (claim 10) is the hash of that claim's
 *     bytes, with the hash named by realm claim 44240: this binds the RAK,
 *     and through it the realm token, to the platform token;
 *  3. the platform token is signed by the CCA Platform Attestation Key
 *     (CPAK), supplied by the caller as a PEM public key.  Without a CPAK
 *     nothing vouches for the platform, and the evidence is never valid.
 *
 * Parsing is strict.  Every CBOR document is pre-scanned with libcbor's
 * streaming decoder before it is loaded: definite lengths only, nesting
 * at most CCA_MAX_DEPTH, no element counts larger than the bytes left,
 * no trailing bytes.  Only then does cbor_load() build a tree, so neither
 * the allocator nor libcbor's recursive cbor_decref() can be driven by a
 * hostile length or depth.  Claims are checked for type and length, and
 * claim maps must have unique integer keys.
 *
 * Signatures: COSE ES256/ES384/ES512 over the Sig_structure
 * ["Signature1", protected, h'', payload], which is encoded here with
 * libcbor; the raw r||s value is converted to DER with
 * gnutls_encode_rs_value() and checked with gnutls_pubkey_verify_data2().
 *
 * Documentation/verification-cca.rst describes the checks and claims.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include <katls/verify.h>
#include "json.h"

/* CBOR tags and map keys (draft-ffm-rats-cca-token, RMM spec DEN0137). */
#define CCA_TAG_COLLECTION	399
#define COSE_TAG_SIGN1		18

#define CCA_KEY_PLATFORM	44234
#define CCA_KEY_REALM		44241

#define CCA_CLAIM_CHALLENGE	10
#define CCA_CLAIM_PROFILE	265

#define REALM_PERSONALIZATION	44235
#define REALM_HASH_ALG		44236
#define REALM_PUB_KEY		44237
#define REALM_RIM		44238
#define REALM_REMS		44239
#define REALM_PUB_KEY_HASH_ALG	44240

#define PLAT_INSTANCE_ID	256
#define PLAT_LIFECYCLE		2395
#define PLAT_IMPLEMENTATION_ID	2396
#define PLAT_SW_COMPONENTS	2399
#define PLAT_VERIFICATION_SVC	2400
#define PLAT_CONFIG		2401
#define PLAT_HASH_ALG		2402

#define COSE_HDR_ALG		1
#define COSE_HDR_CRIT		2

#define COSE_KEY_KTY		1
#define COSE_KEY_CRV		(-1)
#define COSE_KEY_X		(-2)
#define COSE_KEY_Y		(-3)
#define COSE_KTY_EC2		2

/* Limits: generous for real tokens (about 1.2 KiB), small for attackers. */
#define CCA_TOKEN_MAX		(64 * 1024)
#define CCA_MAX_DEPTH		16
#define CCA_MAP_MAX		64	/* entries in a header or claims map */
#define CCA_CPAK_FILE_MAX	(64 * 1024)

#define CCA_CHALLENGE_LEN	64
#define CCA_PERSO_LEN		64
#define CCA_IMPL_ID_LEN		32
#define CCA_INSTANCE_ID_LEN	33
#define CCA_NUM_REMS		4

static const char *const cca_platform_profiles[] = {
	"http://arm.com/CCA-SSD/1.0.0",
	"tag:arm.com,2023:cca_platform#1.0.0",
};

#define CCA_REALM_PROFILE	"tag:arm.com,2023:realm#1.0.0"

struct cose_alg {
	int64_t id;
	const char *name;
	gnutls_ecc_curve_t curve;
	size_t coord_len;	/* bytes of r, s, x, y */
	gnutls_sign_algorithm_t sign;
	int cose_crv;		/* COSE_Key crv value */
};

static const struct cose_alg cose_algs[] = {
	{ -7, "ES256", GNUTLS_ECC_CURVE_SECP256R1, 32,
	  GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 1 },
	{ -35, "ES384", GNUTLS_ECC_CURVE_SECP384R1, 48,
	  GNUTLS_SIGN_ECDSA_SECP384R1_SHA384, 2 },
	{ -36, "ES512", GNUTLS_ECC_CURVE_SECP521R1, 66,
	  GNUTLS_SIGN_ECDSA_SECP521R1_SHA512, 3 },
};

static const struct cose_alg *cose_alg_by_id(int64_t id)
{
	for (size_t i = 0; i < sizeof(cose_algs) / sizeof(cose_algs[0]); i++)
		if (cose_algs[i].id == id)
			return &cose_algs[i];
	return NULL;
}

struct hash_alg {
	const char *name;	/* IANA Named Information registry */
	gnutls_digest_algorithm_t dig;
	size_t len;
};

static const struct hash_alg hash_algs[] = {
	{ "sha-256", GNUTLS_DIG_SHA256, 32 },
	{ "sha-384", GNUTLS_DIG_SHA384, 48 },
	{ "sha-512", GNUTLS_DIG_SHA512, 64 },
};

static const struct hash_alg *hash_alg_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(hash_algs) / sizeof(hash_algs[0]); i++)
		if (!strcmp(hash_algs[i].name, name))
			return &hash_algs[i];
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
 * data item nested at most CCA_MAX_DEPTH deep.  Returns NULL or why not.
 */
static const char *cbor_prescan(const uint8_t *p, size_t len)
{
	const struct cbor_callbacks cb = scan_callbacks();
	size_t left[CCA_MAX_DEPTH + 1];
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
			if (depth == CCA_MAX_DEPTH)
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
static cbor_item_t *cbor_load_strict(const uint8_t *p, size_t len,
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

static bool item_i64(const cbor_item_t *it, int64_t *out)
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

/* A map of at most CCA_MAP_MAX entries whose keys are unique integers. */
static bool map_int_keys_ok(const cbor_item_t *map)
{
	struct cbor_pair *kv;
	size_t n;

	if (!cbor_isa_map(map) || !cbor_map_is_definite(map))
		return false;
	n = cbor_map_size(map);
	if (n > CCA_MAP_MAX)
		return false;
	kv = cbor_map_handle(map);
	for (size_t i = 0; i < n; i++) {
		int64_t ki, kj;

		if (!item_i64(kv[i].key, &ki))
			return false;
		for (size_t j = 0; j < i; j++)
			if (item_i64(kv[j].key, &kj) && ki == kj)
				return false;
	}
	return true;
}

/* Value for an integer key of a map that passed map_int_keys_ok(). */
static const cbor_item_t *map_get(const cbor_item_t *map, int64_t key)
{
	struct cbor_pair *kv = cbor_map_handle(map);
	size_t n = cbor_map_size(map);
	int64_t k;

	for (size_t i = 0; i < n; i++)
		if (item_i64(kv[i].key, &k) && k == key)
			return kv[i].value;
	return NULL;
}

struct bytes {
	const uint8_t *p;
	size_t n;
};

static bool item_bstr(const cbor_item_t *it, struct bytes *b)
{
	if (!it || !cbor_isa_bytestring(it) ||
	    !cbor_bytestring_is_definite(it))
		return false;
	b->n = cbor_bytestring_length(it);
	b->p = b->n ? cbor_bytestring_handle(it) : NULL;
	return true;
}

static bool map_bstr(const cbor_item_t *map, int64_t key, struct bytes *b)
{
	return item_bstr(map_get(map, key), b);
}

/* A text claim: printable ASCII, shorter than bufsz. */
static bool map_tstr(const cbor_item_t *map, int64_t key, char *buf,
		     size_t bufsz)
{
	const cbor_item_t *it = map_get(map, key);
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

struct cose_sign1 {
	const char *name;		/* "platform" or "realm" */
	cbor_item_t *msg;		/* owns the handles below */
	cbor_item_t *claims_doc;	/* decoded payload */
	const cbor_item_t *claims;	/* claims map (inside claims_doc) */
	struct bytes prot, payload, sig;
	const struct cose_alg *alg;
};

static void cose_sign1_free(struct cose_sign1 *s)
{
	if (s->claims_doc)
		cbor_decref(&s->claims_doc);
	if (s->msg)
		cbor_decref(&s->msg);
	s->claims = NULL;
}

/* Decode the protected header: a map with a supported alg and no crit. */
static int cose_protected(struct cose_sign1 *s, struct katls_verdict *v)
{
	const cbor_item_t *alg;
	cbor_item_t *hdr;
	const char *why;
	int64_t id;
	int ret = -1;

	hdr = cbor_load_strict(s->prot.p, s->prot.n, &why);
	if (!hdr) {
		katls_verdict_error(v, "%s token: protected header: %s",
				    s->name, why);
		return -1;
	}
	if (!map_int_keys_ok(hdr)) {
		katls_verdict_error(v, "%s token: protected header is not a map of unique integer labels",
				    s->name);
		goto out;
	}
	if (map_get(hdr, COSE_HDR_CRIT)) {
		katls_verdict_error(v, "%s token: critical header parameters are not supported",
				    s->name);
		goto out;
	}
	alg = map_get(hdr, COSE_HDR_ALG);
	if (!alg || !item_i64(alg, &id)) {
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
static int cose_sign1_parse(const struct bytes *in, struct cose_sign1 *s,
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
	s->msg = cbor_load_strict(p, n, &why);
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
	if (!item_bstr(el[0], &s->prot) || !cbor_isa_map(el[1]) ||
	    !item_bstr(el[2], &s->payload) || !item_bstr(el[3], &s->sig)) {
		katls_verdict_error(v, "%s token: COSE_Sign1 element of the wrong type",
				    s->name);
		return -1;
	}

	if (cose_protected(s, v))
		return -1;

	s->claims_doc = cbor_load_strict(s->payload.p, s->payload.n, &why);
	if (!s->claims_doc) {
		katls_verdict_error(v, "%s token: claims are not CBOR: %s",
				    s->name, why);
		return -1;
	}
	if (!map_int_keys_ok(s->claims_doc)) {
		katls_verdict_error(v, "%s token: claims are not a map of unique integer keys",
				    s->name);
		return -1;
	}
	s->claims = s->claims_doc;
	return 0;
}

/* Sig_structure = ["Signature1", body_protected, external_aad, payload] */
static int cose_tbs(const struct cose_sign1 *s, unsigned char **buf,
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
static const char *cose_verify(const struct cose_sign1 *s, gnutls_pubkey_t key)
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

/* ---- keys ---- */

static int import_ec_point(gnutls_pubkey_t key, const struct cose_alg *a,
			   const uint8_t *x, const uint8_t *y)
{
	const gnutls_datum_t dx = { (unsigned char *)x, a->coord_len };
	const gnutls_datum_t dy = { (unsigned char *)y, a->coord_len };

	return gnutls_pubkey_import_ecc_raw(key, a->curve, &dx, &dy) < 0 ?
		-1 : 0;
}

/*
 * The RAK claim is either an uncompressed SEC1 point (0x04 || X || Y, as
 * in the RMM 1.0 beta tokens and the sample) or a CBOR COSE_Key
 * {1: 2 (EC2), -1: crv, -2: x, -3: y}.
 */
static const char *rak_import(gnutls_pubkey_t key, const struct bytes *rak)
{
	const cbor_item_t *kty, *crv;
	struct bytes x, y;
	cbor_item_t *ck;
	const char *why;
	int64_t n;

	if (rak->n && rak->p[0] == 0x04) {
		for (size_t i = 0; i < sizeof(cose_algs) / sizeof(cose_algs[0]); i++) {
			const struct cose_alg *a = &cose_algs[i];

			if (rak->n != 1 + 2 * a->coord_len)
				continue;
			if (import_ec_point(key, a, rak->p + 1,
					    rak->p + 1 + a->coord_len))
				return "not a valid EC point";
			return NULL;
		}
		return "EC point of unsupported size";
	}

	ck = cbor_load_strict(rak->p, rak->n, &why);
	if (!ck)
		return "neither an EC point nor a COSE_Key";
	why = "COSE_Key is not a supported EC2 key";
	if (!map_int_keys_ok(ck))
		goto out;
	kty = map_get(ck, COSE_KEY_KTY);
	crv = map_get(ck, COSE_KEY_CRV);
	if (!kty || !item_i64(kty, &n) || n != COSE_KTY_EC2 ||
	    !crv || !item_i64(crv, &n) ||
	    !map_bstr(ck, COSE_KEY_X, &x) || !map_bstr(ck, COSE_KEY_Y, &y))
		goto out;
	for (size_t i = 0; i < sizeof(cose_algs) / sizeof(cose_algs[0]); i++) {
		const struct cose_alg *a = &cose_algs[i];

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

/* base64url without padding (RFC 7515 appendix C); -1 if malformed. */
static int b64url_decode(const char *s, uint8_t *out, size_t max)
{
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;

	for (; *s; s++) {
		int v;

		if (*s >= 'A' && *s <= 'Z')
			v = *s - 'A';
		else if (*s >= 'a' && *s <= 'z')
			v = *s - 'a' + 26;
		else if (*s >= '0' && *s <= '9')
			v = *s - '0' + 52;
		else if (*s == '-')
			v = 62;
		else if (*s == '_')
			v = 63;
		else
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
		acc &= (1u << bits) - 1;
	}
	if (bits >= 6 || acc)		/* a dangling character or bits */
		return -1;
	return (int)n;
}

/* An EC JWK (RFC 7517/7518): {"kty":"EC","crv":"P-384","x":..,"y":..}. */
static const char *cpak_import_jwk(gnutls_pubkey_t key, const char *text,
				   size_t len)
{
	static const struct {
		const char *name;
		gnutls_ecc_curve_t curve;
		int size;
	} curves[] = {
		{ "P-256", GNUTLS_ECC_CURVE_SECP256R1, 32 },
		{ "P-384", GNUTLS_ECC_CURVE_SECP384R1, 48 },
		{ "P-521", GNUTLS_ECC_CURVE_SECP521R1, 66 },
	};
	struct kv_json *j = kv_json_parse(text, len);
	char crv[16], xs[128], ys[128];
	uint8_t x[66], y[66];
	const char *why = NULL;
	gnutls_datum_t dx, dy;
	size_t i;

	if (!j || j->node[0].type != KV_JSON_OBJECT)
		why = "not a JWK (JSON object)";
	else if (!kv_json_str_is(j, kv_json_get(j, 0, "kty"), "EC"))
		why = "JWK: kty is not \"EC\"";
	else if (kv_json_str(j, kv_json_get(j, 0, "crv"), crv, sizeof(crv)) < 0)
		why = "JWK: no crv";
	else if (kv_json_str(j, kv_json_get(j, 0, "x"), xs, sizeof(xs)) < 0 ||
		 kv_json_str(j, kv_json_get(j, 0, "y"), ys, sizeof(ys)) < 0)
		why = "JWK: no x and y";
	kv_json_free(j);
	if (why)
		return why;
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (!strcmp(crv, curves[i].name))
			break;
	if (i == sizeof(curves) / sizeof(curves[0]))
		return "JWK: crv is not P-256, P-384 or P-521";
	if (b64url_decode(xs, x, sizeof(x)) != curves[i].size ||
	    b64url_decode(ys, y, sizeof(y)) != curves[i].size)
		return "JWK: x or y is not a base64url coordinate of the curve";
	dx.data = x;
	dx.size = (unsigned int)curves[i].size;
	dy.data = y;
	dy.size = (unsigned int)curves[i].size;
	if (gnutls_pubkey_import_ecc_raw(key, curves[i].curve, &dx, &dy) < 0 ||
	    gnutls_pubkey_verify_params(key) < 0)
		return "JWK: not a point of the curve";
	return NULL;
}

static const char *cpak_import(gnutls_pubkey_t key, const char *path)
{
	unsigned char *buf;
	gnutls_datum_t d;
	size_t n;
	FILE *f;
	int ret;

	f = fopen(path, "rb");
	if (!f)
		return "cannot open";
	buf = malloc(CCA_CPAK_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return "out of memory";
	}
	n = fread(buf, 1, CCA_CPAK_FILE_MAX + 1, f);
	ret = ferror(f);
	fclose(f);
	if (ret || !n || n > CCA_CPAK_FILE_MAX) {
		free(buf);
		return ret ? "read error" : "empty or too large";
	}
	{
		size_t k = 0;

		while (k < n && (buf[k] == ' ' || buf[k] == '\t' ||
				 buf[k] == '\r' || buf[k] == '\n'))
			k++;
		if (k < n && buf[k] == '{') {
			const char *why = cpak_import_jwk(key, (const char *)buf, n);

			free(buf);
			if (why)
				return why;
			return NULL;
		}
	}
	d.data = buf;
	d.size = n;
	ret = gnutls_pubkey_import(key, &d, GNUTLS_X509_FMT_PEM);
	if (ret < 0)
		ret = gnutls_pubkey_import(key, &d, GNUTLS_X509_FMT_DER);
	free(buf);
	if (ret < 0)
		return "not a PEM or DER public key, nor an EC JWK";
	if (gnutls_pubkey_get_pk_algorithm(key, NULL) != GNUTLS_PK_ECDSA)
		return "not an EC public key";
	return NULL;
}

/* ---- claims ---- */

struct realm_info {
	struct bytes rak;
	const struct hash_alg *rak_hash;
};

static int realm_claims(const cbor_item_t *m, struct katls_claims *c,
			struct realm_info *ri, struct katls_verdict *v)
{
	const struct hash_alg *mh;
	const cbor_item_t *rems;
	char alg[16], profile[64];
	struct bytes b;
	int ret = 0;

	if (map_get(m, CCA_CLAIM_PROFILE)) {
		if (!map_tstr(m, CCA_CLAIM_PROFILE, profile, sizeof(profile)) ||
		    strcmp(profile, CCA_REALM_PROFILE)) {
			katls_verdict_error(v, "realm token: unsupported realm profile");
			ret = -1;
		}
	}

	if (!map_bstr(m, CCA_CLAIM_CHALLENGE, &b) || b.n != CCA_CHALLENGE_LEN) {
		katls_verdict_error(v, "realm token: challenge (10) missing or not %d bytes",
				    CCA_CHALLENGE_LEN);
		ret = -1;
	} else {
		memcpy(c->report_data, b.p, CCA_CHALLENGE_LEN);
	}

	if (!map_bstr(m, REALM_PERSONALIZATION, &b) || b.n != CCA_PERSO_LEN) {
		katls_verdict_error(v, "realm token: personalization value (44235) missing or not %d bytes",
				    CCA_PERSO_LEN);
		ret = -1;
	} else {
		memcpy(c->cca.personalization, b.p, CCA_PERSO_LEN);
	}

	mh = NULL;
	if (!map_tstr(m, REALM_HASH_ALG, alg, sizeof(alg))) {
		katls_verdict_error(v, "realm token: measurement hash algorithm (44236) missing or not text");
		ret = -1;
	} else {
		snprintf(c->cca.hash_alg, sizeof(c->cca.hash_alg), "%s", alg);
		mh = hash_alg_by_name(alg);
		if (!mh) {
			katls_verdict_error(v, "realm token: unsupported measurement hash algorithm \"%s\"",
					    alg);
			ret = -1;
		}
	}

	if (!map_bstr(m, REALM_RIM, &b) || !b.n ||
	    b.n > sizeof(c->measurement)) {
		katls_verdict_error(v, "realm token: RIM (44238) missing or of a bad size");
		ret = -1;
	} else {
		memcpy(c->measurement, b.p, b.n);
		c->measurement_len = b.n;
		if (mh && b.n != mh->len) {
			katls_verdict_error(v, "realm token: RIM is %zu bytes, %s needs %zu",
					    b.n, mh->name, mh->len);
			ret = -1;
		}
	}

	rems = map_get(m, REALM_REMS);
	if (!rems || !cbor_isa_array(rems) ||
	    cbor_array_size(rems) != CCA_NUM_REMS) {
		katls_verdict_error(v, "realm token: REMs (44239) missing or not an array of %d",
				    CCA_NUM_REMS);
		ret = -1;
	} else {
		cbor_item_t **el = cbor_array_handle(rems);
		size_t want = c->measurement_len;
		int i;

		for (i = 0; i < CCA_NUM_REMS; i++) {
			if (!item_bstr(el[i], &b) || !b.n ||
			    b.n > sizeof(c->cca.rem[i]) || b.n != want) {
				katls_verdict_error(v, "realm token: REM%d is not a byte string of the RIM's size",
						    i);
				ret = -1;
				break;
			}
			memcpy(c->cca.rem[i], b.p, b.n);
		}
		if (i == CCA_NUM_REMS)
			c->cca.rem_len = want;
	}

	if (!map_bstr(m, REALM_PUB_KEY, &ri->rak) || !ri->rak.n) {
		katls_verdict_error(v, "realm token: public key (44237) missing or not a byte string");
		ret = -1;
	} else if (ri->rak.n <= sizeof(c->cca.realm_pub_key)) {
		memcpy(c->cca.realm_pub_key, ri->rak.p, ri->rak.n);
		c->cca.realm_pub_key_len = ri->rak.n;
	}

	if (!map_tstr(m, REALM_PUB_KEY_HASH_ALG, alg, sizeof(alg)) ||
	    !(ri->rak_hash = hash_alg_by_name(alg))) {
		katls_verdict_error(v, "realm token: public key hash algorithm (44240) missing or unsupported");
		ret = -1;
	} else {
		snprintf(c->cca.realm_pub_key_hash_alg,
			 sizeof(c->cca.realm_pub_key_hash_alg), "%s", alg);
	}
	return ret;
}

static const char *lifecycle_name(uint32_t lc)
{
	switch (lc >> 8) {
	case 0x00: return "unknown";
	case 0x10: return "assembly-and-test";
	case 0x20: return "cca-platform-rot-provisioning";
	case 0x30: return "secured";
	case 0x40: return "non-cca-platform-rot-debug";
	case 0x50: return "recoverable-cca-platform-rot-debug";
	case 0x60: return "decommissioned";
	default: return NULL;
	}
}

static int platform_claims(const cbor_item_t *m, struct katls_claims *c,
			   struct bytes *challenge, struct katls_verdict *v)
{
	const cbor_item_t *it;
	char text[64];
	struct bytes b;
	uint64_t lc;
	int ret = 0;
	bool known = false;

	if (!map_tstr(m, CCA_CLAIM_PROFILE, c->cca.platform_profile,
		      sizeof(c->cca.platform_profile))) {
		katls_verdict_error(v, "platform token: profile (265) missing or not text");
		ret = -1;
	} else {
		for (size_t i = 0; i < sizeof(cca_platform_profiles) /
				       sizeof(cca_platform_profiles[0]); i++)
			if (!strcmp(c->cca.platform_profile,
				    cca_platform_profiles[i]))
				known = true;
		if (!known) {
			katls_verdict_error(v, "platform token: unsupported profile \"%s\"",
					    c->cca.platform_profile);
			ret = -1;
		}
		/* Both known profiles are version 1.0.0 of the token format. */
		c->version = 1;
	}

	if (!map_bstr(m, CCA_CLAIM_CHALLENGE, challenge) ||
	    (challenge->n != 32 && challenge->n != 48 && challenge->n != 64)) {
		katls_verdict_error(v, "platform token: challenge (10) missing or not 32, 48 or 64 bytes");
		challenge->n = 0;
		ret = -1;
	}

	if (!map_bstr(m, PLAT_IMPLEMENTATION_ID, &b) ||
	    b.n != CCA_IMPL_ID_LEN) {
		katls_verdict_error(v, "platform token: implementation id (2396) missing or not %d bytes",
				    CCA_IMPL_ID_LEN);
		ret = -1;
	} else {
		memcpy(c->cca.platform_impl_id, b.p, b.n);
		c->cca.platform_impl_id_len = b.n;
	}

	if (!map_bstr(m, PLAT_INSTANCE_ID, &b) ||
	    b.n != CCA_INSTANCE_ID_LEN || b.p[0] != 0x01) {
		katls_verdict_error(v, "platform token: instance id (256) is not a 33-byte RAND UEID");
		ret = -1;
	} else {
		memcpy(c->cca.platform_instance_id, b.p, b.n);
		c->cca.platform_instance_id_len = b.n;
	}

	if (!map_bstr(m, PLAT_CONFIG, &b)) {
		katls_verdict_error(v, "platform token: configuration (2401) missing or not a byte string");
		ret = -1;
	}

	it = map_get(m, PLAT_LIFECYCLE);
	if (!it || !cbor_isa_uint(it) || (lc = cbor_get_int(it)) > 0xffff ||
	    !lifecycle_name((uint32_t)lc)) {
		katls_verdict_error(v, "platform token: lifecycle (2395) missing or out of range");
		ret = -1;
		c->debug = true;
	} else {
		c->cca.platform_lifecycle = (uint32_t)lc;
		/* Anything but "secured" may have debug access open. */
		c->debug = (lc & 0xff00) != 0x3000;
	}

	it = map_get(m, PLAT_SW_COMPONENTS);
	if (!it || !cbor_isa_array(it) || !cbor_array_size(it)) {
		katls_verdict_error(v, "platform token: software components (2399) missing or empty");
		ret = -1;
	} else {
		cbor_item_t **el = cbor_array_handle(it);

		c->cca.platform_sw_components = (unsigned int)cbor_array_size(it);
		for (size_t i = 0; i < cbor_array_size(it); i++) {
			if (!map_int_keys_ok(el[i])) {
				katls_verdict_error(v, "platform token: software component %zu is not a claims map",
						    i);
				ret = -1;
				break;
			}
		}
	}

	if (!map_tstr(m, PLAT_HASH_ALG, text, sizeof(text))) {
		katls_verdict_error(v, "platform token: hash algorithm (2402) missing or not text");
		ret = -1;
	} else if (strlen(text) < sizeof(c->cca.platform_hash_alg)) {
		memcpy(c->cca.platform_hash_alg, text, strlen(text) + 1);
	}

	it = map_get(m, PLAT_VERIFICATION_SVC);
	if (it && (!cbor_isa_string(it) || !cbor_string_length(it))) {
		katls_verdict_error(v, "platform token: verification service (2400) is not text");
		ret = -1;
	} else if (it && !map_tstr(m, PLAT_VERIFICATION_SVC,
				   c->cca.verification_service,
				   sizeof(c->cca.verification_service))) {
		c->cca.verification_service[0] = '\0';
	}
	return ret;
}

/* ---- top level ---- */

/* Split 399({44234: bstr, 44241: bstr}) into its two tokens. */
static int cca_collection(const uint8_t *ev, size_t len, cbor_item_t **root,
			  struct bytes *plat, struct bytes *realm,
			  struct katls_verdict *v)
{
	cbor_item_t *map = NULL;
	const char *why;
	int ret = -1;

	*root = cbor_load_strict(ev, len, &why);
	if (!*root) {
		katls_verdict_error(v, "CCA token: not CBOR: %s", why);
		return -1;
	}
	if (!cbor_isa_tag(*root) ||
	    cbor_tag_value(*root) != CCA_TAG_COLLECTION) {
		katls_verdict_error(v, "CCA token: not a CBOR tag %d collection",
				    CCA_TAG_COLLECTION);
		return -1;
	}
	map = cbor_tag_item(*root);
	if (!map_int_keys_ok(map) || cbor_map_size(map) != 2) {
		katls_verdict_error(v, "CCA token: collection is not a map of two tokens");
		goto out;
	}
	if (!map_bstr(map, CCA_KEY_PLATFORM, plat) ||
	    !map_bstr(map, CCA_KEY_REALM, realm)) {
		katls_verdict_error(v, "CCA token: platform (44234) or realm (44241) token missing or not a byte string");
		goto out;
	}
	ret = 0;
out:
	cbor_decref(&map);
	return ret;
}

int katls_verify_cca(const uint8_t *ev, size_t len,
		     const struct katls_verify_opts *o,
		     struct katls_claims *c, struct katls_verdict *v)
{
	struct cose_sign1 plat = { .name = "platform" };
	struct cose_sign1 realm = { .name = "realm" };
	struct realm_info ri = { { NULL, 0 }, NULL };
	struct bytes plat_tok, realm_tok, challenge = { NULL, 0 };
	gnutls_pubkey_t rak = NULL, cpak = NULL;
	cbor_item_t *root = NULL;
	const char *why;
	bool ok = false, claims_ok = true;

	memset(c, 0, sizeof(*c));
	c->tee = KATLS_EVIDENCE_CCA;
	c->debug = true;	/* until the lifecycle claim says otherwise */

	if (!ev || !len || len > CCA_TOKEN_MAX) {
		katls_verdict_error(v, "CCA token: size %zu out of range (1..%d)",
				    ev ? len : 0, CCA_TOKEN_MAX);
		goto out;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, ev, len, c->evidence_digest) < 0) {
		katls_verdict_error(v, "CCA token: cannot hash the evidence");
		goto out;
	}

	if (cca_collection(ev, len, &root, &plat_tok, &realm_tok, v))
		goto out;
	if (cose_sign1_parse(&realm_tok, &realm, v) ||
	    cose_sign1_parse(&plat_tok, &plat, v))
		goto out;
	katls_verdict_check(v, "checked: CCA token structure (tag 399 collection of platform and realm COSE_Sign1)");

	/* Fill every claim we can before judging any of them. */
	if (realm_claims(realm.claims, c, &ri, v))
		claims_ok = false;
	if (platform_claims(plat.claims, c, &challenge, v))
		claims_ok = false;
	if (!claims_ok)
		goto out;
	ok = true;

	/* 1. The realm token is signed by the RAK it carries. */
	if (gnutls_pubkey_init(&rak) < 0) {
		katls_verdict_error(v, "CCA: out of memory");
		ok = false;
		goto out;
	}
	why = rak_import(rak, &ri.rak);
	if (!why)
		why = cose_verify(&realm, rak);
	if (why) {
		katls_verdict_error(v, "realm token signature (%s) by the realm public key: %s",
				    realm.alg->name, why);
		ok = false;
	} else {
		katls_verdict_check(v, "checked: realm token signature (%s) by the realm public key",
				    realm.alg->name);
	}

	/* 2. The platform challenge is the hash of the RAK claim. */
	{
		uint8_t h[64];

		if (challenge.n != ri.rak_hash->len ||
		    gnutls_hash_fast(ri.rak_hash->dig, ri.rak.p, ri.rak.n, h) < 0 ||
		    memcmp(h, challenge.p, challenge.n)) {
			katls_verdict_error(v, "platform challenge is not %s(realm public key): realm token not bound to the platform",
					    ri.rak_hash->name);
			ok = false;
		} else {
			katls_verdict_check(v, "checked: platform challenge = %s(realm public key)",
					    ri.rak_hash->name);
		}
	}

	/* 3. The platform token is signed by the CPAK. */
	if (!o || !o->cpak_file) {
		katls_verdict_check(v, "not checked: platform token signature (no CPAK supplied)");
		katls_verdict_error(v, "platform token not verified: no CPAK supplied");
		ok = false;
	} else if (gnutls_pubkey_init(&cpak) < 0) {
		katls_verdict_error(v, "CCA: out of memory");
		ok = false;
	} else {
		why = cpak_import(cpak, o->cpak_file);
		if (why) {
			katls_verdict_error(v, "CPAK %s: %s", o->cpak_file, why);
			ok = false;
		} else if ((why = cose_verify(&plat, cpak))) {
			katls_verdict_error(v, "platform token signature (%s) by the CPAK: %s",
					    plat.alg->name, why);
			ok = false;
		} else {
			katls_verdict_check(v, "checked: platform token signature (%s) by the CPAK from %s",
					    plat.alg->name, o->cpak_file);
			katls_verdict_check(v, "not checked: CPAK endorsement (the supplied CPAK is trusted as is)");
		}
	}

	/*
	 * The realm challenge is the report data (configfs-tsm inblob).  The
	 * dispatcher compares it with the expected value and reports that;
	 * a mismatch is also an error here, so that a direct caller of this
	 * back end fails closed too.
	 */
	if (o && o->expected_report_data &&
	    memcmp(o->expected_report_data, c->report_data,
		   sizeof(c->report_data))) {
		katls_verdict_error(v, "realm challenge does not match the expected report data");
		ok = false;
	}

	katls_verdict_check(v, "checked: platform lifecycle 0x%04x (%s): %s",
			    c->cca.platform_lifecycle,
			    lifecycle_name(c->cca.platform_lifecycle),
			    c->debug ? "debug possible" : "not debug");
	katls_verdict_check(v, "not checked: platform software components and realm measurements against reference values (policy)");
out:
	if (rak)
		gnutls_pubkey_deinit(rak);
	if (cpak)
		gnutls_pubkey_deinit(cpak);
	cose_sign1_free(&plat);
	cose_sign1_free(&realm);
	if (root)
		cbor_decref(&root);
	if (ok)
		ok = v->nerrors == 0;
	v->valid = ok;
	return ok ? 0 : -1;
}
