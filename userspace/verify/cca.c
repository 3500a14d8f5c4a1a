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
 * CBOR and COSE are cose.c's: strict loading (definite lengths, bounded
 * depth, no trailing bytes) and COSE_Sign1 ES256/ES384/ES512 signatures.
 * This file holds the CCA token itself.  Claims are checked for type and
 * length, and claim maps must have unique integer keys.
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
#include "cose.h"
#include "json.h"

/* CBOR tags and map keys (draft-ffm-rats-cca-token, RMM spec DEN0137). */
#define CCA_TAG_COLLECTION	399

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

/* Limits: generous for real tokens (about 1.2 KiB), small for attackers. */
#define CCA_TOKEN_MAX		(64 * 1024)
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

/* ---- the CPAK ---- */

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
	struct kv_bytes rak;
	const struct hash_alg *rak_hash;
};

static int realm_claims(const cbor_item_t *m, struct katls_claims *c,
			struct realm_info *ri, struct katls_verdict *v)
{
	const struct hash_alg *mh;
	const cbor_item_t *rems;
	char alg[16], profile[64];
	struct kv_bytes b;
	int ret = 0;

	if (kv_cbor_map_get(m, CCA_CLAIM_PROFILE)) {
		if (!kv_cbor_map_tstr(m, CCA_CLAIM_PROFILE, profile,
				      sizeof(profile)) ||
		    strcmp(profile, CCA_REALM_PROFILE)) {
			katls_verdict_error(v, "realm token: unsupported realm profile");
			ret = -1;
		}
	}

	if (!kv_cbor_map_bstr(m, CCA_CLAIM_CHALLENGE, &b) || b.n != CCA_CHALLENGE_LEN) {
		katls_verdict_error(v, "realm token: challenge (10) missing or not %d bytes",
				    CCA_CHALLENGE_LEN);
		ret = -1;
	} else {
		memcpy(c->report_data, b.p, CCA_CHALLENGE_LEN);
	}

	if (!kv_cbor_map_bstr(m, REALM_PERSONALIZATION, &b) || b.n != CCA_PERSO_LEN) {
		katls_verdict_error(v, "realm token: personalization value (44235) missing or not %d bytes",
				    CCA_PERSO_LEN);
		ret = -1;
	} else {
		memcpy(c->cca.personalization, b.p, CCA_PERSO_LEN);
	}

	mh = NULL;
	if (!kv_cbor_map_tstr(m, REALM_HASH_ALG, alg, sizeof(alg))) {
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

	if (!kv_cbor_map_bstr(m, REALM_RIM, &b) || !b.n ||
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

	rems = kv_cbor_map_get(m, REALM_REMS);
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
			if (!kv_cbor_bstr(el[i], &b) || !b.n ||
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

	if (!kv_cbor_map_bstr(m, REALM_PUB_KEY, &ri->rak) || !ri->rak.n) {
		katls_verdict_error(v, "realm token: public key (44237) missing or not a byte string");
		ret = -1;
	} else if (ri->rak.n <= sizeof(c->cca.realm_pub_key)) {
		memcpy(c->cca.realm_pub_key, ri->rak.p, ri->rak.n);
		c->cca.realm_pub_key_len = ri->rak.n;
	}

	if (!kv_cbor_map_tstr(m, REALM_PUB_KEY_HASH_ALG, alg, sizeof(alg)) ||
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
			   struct kv_bytes *challenge, struct katls_verdict *v)
{
	const cbor_item_t *it;
	char text[64];
	struct kv_bytes b;
	uint64_t lc;
	int ret = 0;
	bool known = false;

	if (!kv_cbor_map_tstr(m, CCA_CLAIM_PROFILE, c->cca.platform_profile,
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

	if (!kv_cbor_map_bstr(m, CCA_CLAIM_CHALLENGE, challenge) ||
	    (challenge->n != 32 && challenge->n != 48 && challenge->n != 64)) {
		katls_verdict_error(v, "platform token: challenge (10) missing or not 32, 48 or 64 bytes");
		challenge->n = 0;
		ret = -1;
	}

	if (!kv_cbor_map_bstr(m, PLAT_IMPLEMENTATION_ID, &b) ||
	    b.n != CCA_IMPL_ID_LEN) {
		katls_verdict_error(v, "platform token: implementation id (2396) missing or not %d bytes",
				    CCA_IMPL_ID_LEN);
		ret = -1;
	} else {
		memcpy(c->cca.platform_impl_id, b.p, b.n);
		c->cca.platform_impl_id_len = b.n;
	}

	if (!kv_cbor_map_bstr(m, PLAT_INSTANCE_ID, &b) ||
	    b.n != CCA_INSTANCE_ID_LEN || b.p[0] != 0x01) {
		katls_verdict_error(v, "platform token: instance id (256) is not a 33-byte RAND UEID");
		ret = -1;
	} else {
		memcpy(c->cca.platform_instance_id, b.p, b.n);
		c->cca.platform_instance_id_len = b.n;
	}

	if (!kv_cbor_map_bstr(m, PLAT_CONFIG, &b)) {
		katls_verdict_error(v, "platform token: configuration (2401) missing or not a byte string");
		ret = -1;
	}

	it = kv_cbor_map_get(m, PLAT_LIFECYCLE);
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

	it = kv_cbor_map_get(m, PLAT_SW_COMPONENTS);
	if (!it || !cbor_isa_array(it) || !cbor_array_size(it)) {
		katls_verdict_error(v, "platform token: software components (2399) missing or empty");
		ret = -1;
	} else {
		cbor_item_t **el = cbor_array_handle(it);

		c->cca.platform_sw_components = (unsigned int)cbor_array_size(it);
		for (size_t i = 0; i < cbor_array_size(it); i++) {
			if (!kv_cbor_map_ok(el[i])) {
				katls_verdict_error(v, "platform token: software component %zu is not a claims map",
						    i);
				ret = -1;
				break;
			}
		}
	}

	if (!kv_cbor_map_tstr(m, PLAT_HASH_ALG, text, sizeof(text))) {
		katls_verdict_error(v, "platform token: hash algorithm (2402) missing or not text");
		ret = -1;
	} else if (strlen(text) < sizeof(c->cca.platform_hash_alg)) {
		memcpy(c->cca.platform_hash_alg, text, strlen(text) + 1);
	}

	it = kv_cbor_map_get(m, PLAT_VERIFICATION_SVC);
	if (it && (!cbor_isa_string(it) || !cbor_string_length(it))) {
		katls_verdict_error(v, "platform token: verification service (2400) is not text");
		ret = -1;
	} else if (it && !kv_cbor_map_tstr(m, PLAT_VERIFICATION_SVC,
				   c->cca.verification_service,
				   sizeof(c->cca.verification_service))) {
		c->cca.verification_service[0] = '\0';
	}
	return ret;
}

/* ---- top level ---- */

/* Split 399({44234: bstr, 44241: bstr}) into its two tokens. */
static int cca_collection(const uint8_t *ev, size_t len, cbor_item_t **root,
			  struct kv_bytes *plat, struct kv_bytes *realm,
			  struct katls_verdict *v)
{
	cbor_item_t *map = NULL;
	const char *why;
	int ret = -1;

	*root = kv_cbor_load_strict(ev, len, &why);
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
	if (!kv_cbor_map_ok(map) || cbor_map_size(map) != 2) {
		katls_verdict_error(v, "CCA token: collection is not a map of two tokens");
		goto out;
	}
	if (!kv_cbor_map_bstr(map, CCA_KEY_PLATFORM, plat) ||
	    !kv_cbor_map_bstr(map, CCA_KEY_REALM, realm)) {
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
	struct kv_cose_sign1 plat = { .name = "platform" };
	struct kv_cose_sign1 realm = { .name = "realm" };
	struct realm_info ri = { { NULL, 0 }, NULL };
	struct kv_bytes plat_tok, realm_tok, challenge = { NULL, 0 };
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
	if (kv_cose_sign1_parse(&realm_tok, &realm, v) ||
	    kv_cose_sign1_parse(&plat_tok, &plat, v))
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
	why = kv_cose_ec_key_import(rak, &ri.rak);
	if (!why)
		why = kv_cose_verify(&realm, rak);
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
		} else if ((why = kv_cose_verify(&plat, cpak))) {
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
	kv_cose_sign1_free(&plat);
	kv_cose_sign1_free(&realm);
	if (root)
		cbor_decref(&root);
	if (ok)
		ok = v->nerrors == 0;
	v->valid = ok;
	return ok ? 0 : -1;
}
