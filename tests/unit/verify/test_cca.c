// SPDX-License-Identifier: GPL-2.0
/*
 * test_cca.c - Arm CCA token verifier against the sample in
 * $KATLS_EVIDENCE_DIR/cca (default: <top>/../shared/testdata/evidence).
 *
 * Expected claim values are the ones PROVENANCE.md (section C1) states,
 * written out here, never taken from the verifier's own output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <cbor.h>

#include <katls/verify.h>
#include "tap.h"

#ifndef KATLS_EVIDENCE_DIR
#ifdef KATLS_TOP_DIR
#define KATLS_EVIDENCE_DIR KATLS_TOP_DIR "/../shared/testdata/evidence"
#else
#define KATLS_EVIDENCE_DIR "../shared/testdata/evidence"
#endif
#endif

#define TOKEN_FILE	"cca/veraison_tfrmm_cca_token.cbor"
#define CPAK_FILE	"cca/tfrmm_cpak_pub.pem"

/* PROVENANCE.md, files table and C1. */
#define TOKEN_SIZE	1222
#define TOKEN_SHA256 \
	"b40be114ea600d2149df6c44a1dddb512083d78d0111196bae378aafd8a4a222"
#define PLAT_CHALLENGE \
	"b5973cb68baa9fc55558786b7ec67f69e40df5ba5aa921cd0c27f40587a011ea"
#define PERSONALIZATION \
	"The quick brown fox jumps over 13 lazy dogs.The quick brown fox "
#define RAK_HEX \
	"0476f988091be585ed41801aecfab858548c63057e16b0e676120bbd0d2f9c29e0" \
	"56c5d41a0130eb9c21517899dc23146b28e1b062bd3ea4b315fd219f1cbb528cb6" \
	"e74ca49be16773734f61a1ca61031b2bbf3d918f2f94ffc4228e50919544ae"
#define IMPL_ID_HEX \
	"7f454c4602010100000000000000000003003e00010000005058000000000000"
#define PROFILE		"http://arm.com/CCA-SSD/1.0.0"
#define LIFECYCLE	12291

static char evdir[4096];
static char cpak_path[4200];
static uint8_t *token;
static size_t token_len;

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = strlen(hex) / 2;

	if (n > max)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			abort();
		out[i] = (uint8_t)b;
	}
	return n;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	long n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)n)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool has_line(char (*lines)[KATLS_VERDICT_LINE], unsigned int n,
		     const char *needle)
{
	for (unsigned int i = 0; i < n; i++)
		if (strstr(lines[i], needle))
			return true;
	return false;
}

static bool has_check(const struct katls_verdict *v, const char *s)
{
	return has_line((char (*)[KATLS_VERDICT_LINE])v->checks, v->nchecks, s);
}

static bool has_error(const struct katls_verdict *v, const char *s)
{
	return has_line((char (*)[KATLS_VERDICT_LINE])v->errors, v->nerrors, s);
}

static void dump(const struct katls_verdict *v)
{
	for (unsigned int i = 0; i < v->nchecks; i++)
		tap_diag("  %s", v->checks[i]);
	for (unsigned int i = 0; i < v->nerrors; i++)
		tap_diag("  error: %s", v->errors[i]);
}

/* Run the back end on buf with or without the CPAK. */
static int run(const uint8_t *buf, size_t len, const char *cpak,
	       const uint8_t *expected_rd, struct katls_claims *c,
	       struct katls_verdict *v)
{
	struct katls_verify_opts o = {
		.cpak_file = cpak,
		.expected_report_data = expected_rd,
	};

	katls_verdict_init(v);
	return katls_verify_cca(buf, len, &o, c, v);
}

static size_t find(const uint8_t *hay, size_t n, const uint8_t *needle,
		   size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return i;
	return (size_t)-1;
}

static uint8_t *copy_token(void)
{
	uint8_t *b = malloc(token_len);

	if (!b)
		abort();
	memcpy(b, token, token_len);
	return b;
}

static void test_sample(void)
{
	struct katls_claims c;
	struct katls_verdict v;
	uint8_t want[64], zero[64] = { 0 }, digest[32];
	int ret;

	ret = run(token, token_len, cpak_path, NULL, &c, &v);
	tap_ok(ret == 0 && v.valid && v.nerrors == 0,
	       "sample verifies with the CPAK");
	if (ret)
		dump(&v);
	tap_ok(has_check(&v, "checked: realm token signature (ES384)"),
	       "verdict lists the realm signature");
	tap_ok(has_check(&v, "checked: platform token signature (ES384) by the CPAK"),
	       "verdict lists the platform signature");
	tap_ok(has_check(&v, "checked: platform challenge = sha-256(realm public key)"),
	       "verdict lists the RAK binding");
	tap_ok(has_check(&v, "not checked: CPAK endorsement"),
	       "verdict says the CPAK itself is not endorsed");

	tap_ok(c.tee == KATLS_EVIDENCE_CCA && c.version == 1,
	       "tee cca, version 1");
	tap_ok(c.measurement_len == 32 && !memcmp(c.measurement, zero, 32),
	       "RIM = 32 zero bytes");
	memset(want, 0xab, 64);
	tap_ok(!memcmp(c.report_data, want, 64),
	       "report data = realm challenge = 64 x 0xab");
	tap_ok(!memcmp(c.cca.personalization, PERSONALIZATION, 64),
	       "personalization value");
	tap_ok(c.cca.rem_len == 32 && !memcmp(c.cca.rem[0], zero, 32) &&
	       !memcmp(c.cca.rem[1], zero, 32) &&
	       !memcmp(c.cca.rem[2], zero, 32) &&
	       !memcmp(c.cca.rem[3], zero, 32),
	       "REMs = 4 x 32 zero bytes");
	tap_ok(!strcmp(c.cca.hash_alg, "sha-256"), "hash algorithm sha-256");
	tap_ok(!strcmp(c.cca.platform_profile, PROFILE), "platform profile");
	unhex(IMPL_ID_HEX, want, sizeof(want));
	tap_ok(c.cca.platform_impl_id_len == 32 &&
	       !memcmp(c.cca.platform_impl_id, want, 32),
	       "implementation id");
	tap_ok(c.cca.platform_lifecycle == LIFECYCLE,
	       "lifecycle 0x%x", c.cca.platform_lifecycle);
	tap_ok(!c.debug, "lifecycle secured: not debug");
	unhex(TOKEN_SHA256, digest, sizeof(digest));
	tap_ok(!memcmp(c.evidence_digest, digest, 32),
	       "evidence digest = sha256 of the file");

	/* Through the dispatcher, with detection. */
	{
		struct katls_verify_opts o = { .cpak_file = cpak_path };

		ret = katls_verify_evidence(KATLS_EVIDENCE_NONE, token,
					    token_len, &o, &c, &v);
		tap_ok(ret == 0 && v.valid && c.tee == KATLS_EVIDENCE_CCA,
		       "dispatcher detects and verifies the sample");
		if (ret)
			dump(&v);
	}
}

static void test_no_cpak(void)
{
	struct katls_claims c;
	struct katls_verdict v;
	uint8_t want[64];
	int ret;

	ret = run(token, token_len, NULL, NULL, &c, &v);
	tap_ok(ret == -1 && !v.valid, "no CPAK: invalid");
	tap_ok(has_check(&v, "not checked: platform token signature (no CPAK supplied)"),
	       "no CPAK: says the platform signature was not checked");
	tap_ok(v.nerrors > 0, "no CPAK: an error explains why");
	tap_ok(has_check(&v, "checked: realm token signature"),
	       "no CPAK: the realm signature is still checked");
	memset(want, 0xab, 64);
	tap_ok(!memcmp(c.report_data, want, 64) && c.measurement_len == 32,
	       "no CPAK: claims are still filled in");

	katls_verdict_init(&v);
	ret = katls_verify_cca(token, token_len, NULL, &c, &v);
	tap_ok(ret == -1 && !v.valid, "NULL opts: invalid");

	ret = katls_verify_evidence(KATLS_EVIDENCE_CCA, token, token_len,
				    NULL, &c, &v);
	tap_ok(ret == -1 && !v.valid &&
	       has_check(&v, "not checked: platform token signature (no CPAK supplied)"),
	       "dispatcher without CPAK: invalid");
}

/* Write the public part of a fresh EC key of the given curve as PEM. */
static int write_other_key(const char *path, gnutls_ecc_curve_t curve)
{
	gnutls_privkey_t priv = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	FILE *f = NULL;
	int ret = -1;

	if (gnutls_privkey_init(&priv) < 0 ||
	    gnutls_privkey_generate(priv, GNUTLS_PK_ECDSA,
				    GNUTLS_CURVE_TO_BITS(curve), 0) < 0 ||
	    gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, priv, 0, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_PEM, &pem) < 0)
		goto out;
	f = fopen(path, "wb");
	if (f && fwrite(pem.data, 1, pem.size, f) == pem.size)
		ret = 0;
out:
	if (f && fclose(f))
		ret = -1;
	gnutls_free(pem.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (priv)
		gnutls_privkey_deinit(priv);
	return ret;
}

static void test_wrong_cpak(void)
{
	char path[] = "/tmp/katls-test-cca-XXXXXX";
	struct katls_claims c;
	struct katls_verdict v;
	int fd, ret;

	fd = mkstemp(path);
	if (fd < 0) {
		tap_ok(0, "mkstemp");
		return;
	}
	close(fd);

	tap_ok(!write_other_key(path, GNUTLS_ECC_CURVE_SECP384R1),
	       "generated another P-384 key");
	ret = run(token, token_len, path, NULL, &c, &v);
	tap_ok(ret == -1 && !v.valid &&
	       has_error(&v, "platform token signature (ES384) by the CPAK: signature does not verify"),
	       "another P-384 CPAK: platform signature fails");

	tap_ok(!write_other_key(path, GNUTLS_ECC_CURVE_SECP256R1),
	       "generated a P-256 key");
	ret = run(token, token_len, path, NULL, &c, &v);
	tap_ok(ret == -1 && !v.valid &&
	       has_error(&v, "key does not match the COSE alg"),
	       "P-256 CPAK for an ES384 token: rejected");

	ret = run(token, token_len, "/nonexistent/cpak.pem", NULL, &c, &v);
	tap_ok(ret == -1 && !v.valid && has_error(&v, "/nonexistent/cpak.pem"),
	       "missing CPAK file: invalid, file named");

	/* A PEM that is not a public key at all. */
	{
		FILE *f = fopen(path, "w");

		if (f) {
			fputs("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", f);
			fclose(f);
		}
	}
	ret = run(token, token_len, path, NULL, &c, &v);
	tap_ok(ret == -1 && !v.valid && has_error(&v, "not a PEM or DER public key"),
	       "garbage CPAK file: invalid");
	unlink(path);
}

/* Flip one byte at off and expect an error containing each of errs. */
static void flip_test(size_t off, const char *what, const char *const *errs)
{
	struct katls_claims c;
	struct katls_verdict v;
	uint8_t *b = copy_token();
	bool all = true;
	int ret;

	if (off >= token_len) {
		tap_ok(0, "%s: offset not found", what);
		free(b);
		return;
	}
	b[off] ^= 0x01;
	ret = run(b, token_len, cpak_path, NULL, &c, &v);
	for (; *errs; errs++)
		if (!has_error(&v, *errs)) {
			tap_diag("missing error \"%s\"", *errs);
			all = false;
		}
	tap_ok(ret == -1 && !v.valid && all, "flipped byte in %s (0x%zx)",
	       what, off);
	if (!all)
		dump(&v);
	free(b);
}

static void test_flips(void)
{
	static const uint8_t realm_hdr[] = { 0x19, 0xac, 0xd1, 0x59 };
	uint8_t rak[97], chal[32], rchal[64];
	size_t realm_start, off;

	/* The platform token ends where the realm token's map key starts. */
	realm_start = find(token, token_len, realm_hdr, sizeof(realm_hdr));

	{
		static const char *const e[] = {
			"realm token signature (ES384) by the realm public key: signature does not verify",
			NULL };
		flip_test(token_len - 10, "the realm signature", e);
	}
	{
		static const char *const e[] = {
			"platform token signature (ES384) by the CPAK: signature does not verify",
			NULL };
		flip_test(realm_start == (size_t)-1 ? token_len : realm_start - 10,
			  "the platform signature", e);
	}
	unhex(RAK_HEX, rak, sizeof(rak));
	off = find(token, token_len, rak, sizeof(rak));
	{
		static const char *const e[] = {
			"realm token signature", "platform challenge is not sha-256",
			NULL };
		flip_test(off == (size_t)-1 ? token_len : off + 20,
			  "the RAK", e);
	}
	unhex(PLAT_CHALLENGE, chal, sizeof(chal));
	off = find(token, token_len, chal, sizeof(chal));
	{
		static const char *const e[] = {
			"platform challenge is not sha-256",
			"platform token signature (ES384) by the CPAK: signature does not verify",
			NULL };
		flip_test(off == (size_t)-1 ? token_len : off + 5,
			  "the platform challenge", e);
	}
	memset(rchal, 0xab, sizeof(rchal));
	off = find(token, token_len, rchal, sizeof(rchal));
	{
		static const char *const e[] = {
			"realm token signature (ES384) by the realm public key: signature does not verify",
			NULL };
		flip_test(off == (size_t)-1 ? token_len : off + 63,
			  "the realm challenge", e);
	}
}

/* No single flipped bit anywhere is accepted; nothing crashes. */
static void test_every_byte(void)
{
	struct katls_claims c;
	struct katls_verdict v;
	uint8_t *b = copy_token();
	size_t accepted = 0;

	for (size_t i = 0; i < token_len; i++) {
		b[i] ^= 0x01;
		if (run(b, token_len, cpak_path, NULL, &c, &v) == 0 || v.valid) {
			tap_diag("accepted with byte 0x%zx flipped", i);
			accepted++;
		}
		b[i] ^= 0x01;
	}
	tap_ok(accepted == 0, "every single-bit change (%zu) is rejected",
	       token_len);
	free(b);
}

static void test_truncated(void)
{
	struct katls_claims c;
	struct katls_verdict v;
	size_t accepted = 0, silent = 0;
	uint8_t *b;

	for (size_t n = 0; n < token_len; n++) {
		/* An exact-size copy, so that ASan sees any overread. */
		b = malloc(n ? n : 1);
		if (!b)
			abort();
		memcpy(b, token, n);
		if (run(b, n, cpak_path, NULL, &c, &v) == 0 || v.valid)
			accepted++;
		if (!v.nerrors)
			silent++;
		free(b);
	}
	tap_ok(accepted == 0 && silent == 0,
	       "every truncation (0..%zu bytes) is rejected with an error",
	       token_len - 1);

	b = malloc(token_len + 1);
	if (!b)
		abort();
	memcpy(b, token, token_len);
	b[token_len] = 0;
	tap_ok(run(b, token_len + 1, cpak_path, NULL, &c, &v) == -1 &&
	       has_error(&v, "trailing bytes"), "trailing byte rejected");
	free(b);

	tap_ok(run(NULL, 0, cpak_path, NULL, &c, &v) == -1 && !v.valid,
	       "NULL evidence rejected");
}

static void expect_error(const uint8_t *b, size_t n, const char *err,
			 const char *what)
{
	struct katls_claims c;
	struct katls_verdict v;
	int ret = run(b, n, cpak_path, NULL, &c, &v);

	tap_ok(ret == -1 && !v.valid && has_error(&v, err), "%s", what);
	if (!has_error(&v, err))
		dump(&v);
}

static void test_tags(void)
{
	static const uint8_t sign1[] = { 0xd2, 0x84, 0x44, 0xa1, 0x01, 0x38 };
	uint8_t *b = copy_token();
	size_t off;

	b[2] = 0x90;		/* tag 399 -> 400 */
	expect_error(b, token_len, "not a CBOR tag 399 collection",
		     "collection tag 400 rejected");
	memcpy(b, token, token_len);

	off = find(b, token_len, sign1, sizeof(sign1));	/* platform */
	if (off != (size_t)-1) {
		b[off] = 0xd1;	/* tag 18 -> 17 (COSE_Mac0) */
		expect_error(b, token_len,
			     "platform token: not a tagged COSE_Sign1",
			     "platform COSE tag 17 rejected");
		memcpy(b, token, token_len);
		off = find(b + off + 1, token_len - off - 1, sign1,
			   sizeof(sign1)) + off + 1;	/* realm */
		b[off] = 0xd1;
		expect_error(b, token_len, "realm token: not a tagged COSE_Sign1",
			     "realm COSE tag 17 rejected");
		memcpy(b, token, token_len);
		/* protected alg -35 (ES384) -> -36 (ES512) */
		b[off + 6] = 0x23;
		expect_error(b, token_len, "realm public key: key does not match the COSE alg",
			     "realm alg ES512 with a P-384 RAK rejected");
		memcpy(b, token, token_len);
		b[off + 6] = 0x20;	/* alg -33: not supported */
		expect_error(b, token_len, "unsupported COSE alg -33",
			     "unsupported COSE alg rejected");
	} else {
		tap_ok(0, "COSE_Sign1 header not found");
	}
	free(b);

	/* The bare collection map, without tag 399. */
	expect_error(token + 3, token_len - 3, "not a CBOR tag 399 collection",
		     "untagged collection rejected");
}

static void test_hostile_cbor(void)
{
	static const uint8_t huge_array[] = { 0xd9, 0x01, 0x8f, 0x9b, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	static const uint8_t huge_bstr[] = { 0xd9, 0x01, 0x8f, 0x5b, 0x00,
		0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t indef[] = { 0xd9, 0x01, 0x8f, 0xbf, 0x19, 0xac,
		0xca, 0x40, 0xff };
	static const uint8_t empty_map[] = { 0xd9, 0x01, 0x8f, 0xa0 };
	size_t n = 20000;
	uint8_t *deep = malloc(n);

	if (!deep)
		abort();
	deep[0] = 0xd9;
	deep[1] = 0x01;
	deep[2] = 0x8f;
	memset(deep + 3, 0x81, n - 4);	/* [[[[...]]]] */
	deep[n - 1] = 0x00;
	expect_error(deep, n, "nested too deeply", "20000-deep nesting rejected");
	memset(deep + 3, 0xd8, n - 3);	/* tag chain, also nesting */
	expect_error(deep, n, "CCA token: not CBOR", "tag chain rejected");
	free(deep);

	expect_error(huge_array, sizeof(huge_array), "array larger than its input",
		     "array of 2^64-1 elements rejected");
	expect_error(huge_bstr, sizeof(huge_bstr), "truncated",
		     "bstr of 2^40 bytes rejected");
	expect_error(indef, sizeof(indef), "indefinite-length item",
		     "indefinite-length map rejected");
	expect_error(empty_map, sizeof(empty_map), "not a map of two tokens",
		     "empty collection rejected");
}

/* ---- synthetic tokens: fresh keys, other algorithms and claim values ---- */

struct gen {
	bool raw_rak;			/* RAK as a raw point, not a COSE_Key */
	bool es384_platform;		/* P-384 CPAK, else P-256 (ES256) */
	unsigned int lifecycle;
	const char *plat_profile;
	const char *realm_profile;	/* NULL: no realm profile claim */
	size_t rim_len;
	const char *rak_hash;		/* realm claim 44240 */
	gnutls_digest_algorithm_t bind;	/* hash actually in the challenge */
	bool dup_claim;			/* realm claim 44235 twice */
	bool crit;			/* crit in the platform header */
};

static const struct gen gen_default = {
	.lifecycle = 0x3000,
	.plat_profile = "tag:arm.com,2023:cca_platform#1.0.0",
	.realm_profile = "tag:arm.com,2023:realm#1.0.0",
	.rim_len = 32,
	.rak_hash = "sha-512",
	.bind = GNUTLS_DIG_SHA512,
};

/* Shortest-form integer item, as a COSE encoder would write it. */
static cbor_item_t *cint(int64_t v)
{
	uint64_t u = v >= 0 ? (uint64_t)v : (uint64_t)(-1 - v);
	cbor_item_t *it;

	if (u < 256)
		it = v >= 0 ? cbor_build_uint8((uint8_t)u) :
			      cbor_build_negint8((uint8_t)u);
	else if (u < 65536)
		it = v >= 0 ? cbor_build_uint16((uint16_t)u) :
			      cbor_build_negint16((uint16_t)u);
	else
		it = v >= 0 ? cbor_build_uint32((uint32_t)u) :
			      cbor_build_negint32((uint32_t)u);
	if (!it)
		abort();
	return it;
}

static void madd(cbor_item_t *m, int64_t key, cbor_item_t *val)
{
	if (!val || !cbor_map_add(m, (struct cbor_pair){
			.key = cbor_move(cint(key)),
			.value = cbor_move(val) }))
		abort();
}

static cbor_item_t *bstr(const uint8_t *p, size_t n)
{
	static const uint8_t none[1];

	return cbor_build_bytestring(n ? p : none, n);
}

static cbor_item_t *filled(uint8_t byte, size_t n)
{
	uint8_t buf[128];

	memset(buf, byte, n);
	return bstr(buf, n);
}

/* Serialize and drop the item. */
static uint8_t *ser(cbor_item_t *it, size_t *len)
{
	unsigned char *buf = NULL;
	size_t sz;

	*len = cbor_serialize_alloc(it, &buf, &sz);
	cbor_decref(&it);
	if (!*len)
		abort();
	return buf;
}

/* Big-endian integer into exactly n bytes (left-padded). */
static void fixed(uint8_t *out, size_t n, const gnutls_datum_t *d)
{
	size_t off = 0;

	while (off < d->size && !d->data[off])
		off++;
	if (d->size - off > n)
		abort();
	memset(out, 0, n);
	memcpy(out + n - (d->size - off), d->data + off, d->size - off);
}

/* COSE_Sign1_Tagged over payload, signed by key. */
static uint8_t *cose_sign(gnutls_privkey_t key, int64_t alg, size_t coord,
			  gnutls_sign_algorithm_t salg, bool crit,
			  const uint8_t *payload, size_t plen, size_t *outlen)
{
	gnutls_datum_t tbs, der = { NULL, 0 }, r = { NULL, 0 },
		       s = { NULL, 0 };
	cbor_item_t *hdr = cbor_new_definite_map(2), *a, *msg;
	uint8_t *prot, *tbsbuf, *body, *out, sig[132];
	size_t prot_len, tbs_len, body_len;

	madd(hdr, 1, cint(alg));
	if (crit) {
		cbor_item_t *l = cbor_new_definite_array(1);

		if (!cbor_array_push(l, cbor_move(cint(1))))
			abort();
		madd(hdr, 2, l);
	}
	prot = ser(hdr, &prot_len);

	a = cbor_new_definite_array(4);
	if (!cbor_array_push(a, cbor_move(cbor_build_string("Signature1"))) ||
	    !cbor_array_push(a, cbor_move(bstr(prot, prot_len))) ||
	    !cbor_array_push(a, cbor_move(bstr(NULL, 0))) ||
	    !cbor_array_push(a, cbor_move(bstr(payload, plen))))
		abort();
	tbsbuf = ser(a, &tbs_len);
	tbs.data = tbsbuf;
	tbs.size = tbs_len;
	if (gnutls_privkey_sign_data2(key, salg, 0, &tbs, &der) < 0 ||
	    gnutls_decode_rs_value(&der, &r, &s) < 0)
		abort();
	fixed(sig, coord, &r);
	fixed(sig + coord, coord, &s);

	msg = cbor_new_definite_array(4);
	if (!cbor_array_push(msg, cbor_move(bstr(prot, prot_len))) ||
	    !cbor_array_push(msg, cbor_move(cbor_new_definite_map(0))) ||
	    !cbor_array_push(msg, cbor_move(bstr(payload, plen))) ||
	    !cbor_array_push(msg, cbor_move(bstr(sig, 2 * coord))))
		abort();
	body = ser(msg, &body_len);
	out = malloc(body_len + 1);
	if (!out)
		abort();
	out[0] = 0xd2;		/* tag 18 */
	memcpy(out + 1, body, body_len);
	*outlen = body_len + 1;

	free(prot);
	free(tbsbuf);
	free(body);
	gnutls_free(der.data);
	gnutls_free(r.data);
	gnutls_free(s.data);
	return out;
}

static gnutls_privkey_t genkey(gnutls_ecc_curve_t curve)
{
	gnutls_privkey_t k;

	if (gnutls_privkey_init(&k) < 0 ||
	    gnutls_privkey_generate(k, GNUTLS_PK_ECDSA,
				    GNUTLS_CURVE_TO_BITS(curve), 0) < 0)
		abort();
	return k;
}

static void write_pub(gnutls_privkey_t k, const char *path)
{
	gnutls_pubkey_t pub;
	gnutls_datum_t pem = { NULL, 0 };
	FILE *f;

	if (gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, k, 0, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_PEM, &pem) < 0)
		abort();
	f = fopen(path, "wb");
	if (!f || fwrite(pem.data, 1, pem.size, f) != pem.size || fclose(f))
		abort();
	gnutls_free(pem.data);
	gnutls_pubkey_deinit(pub);
}

/*
 * A realm token per g, signed by rak; *rakb (malloc'd) gets the bytes of
 * the RAK claim, which the platform challenge must hash.
 */
static uint8_t *build_realm(const struct gen *g, gnutls_privkey_t rak,
			    uint8_t **rakb, size_t *rak_len, size_t *realm_len)
{
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	uint8_t xb[48], yb[48], *pl, *realm;
	cbor_item_t *m, *rems;
	size_t pl_len;

	if (gnutls_privkey_export_ecc_raw2(rak, &curve, &x, &y, NULL, 0) < 0)
		abort();
	fixed(xb, 48, &x);
	fixed(yb, 48, &y);
	gnutls_free(x.data);
	gnutls_free(y.data);
	if (g->raw_rak) {
		*rak_len = 97;
		*rakb = malloc(*rak_len);
		if (!*rakb)
			abort();
		(*rakb)[0] = 0x04;
		memcpy(*rakb + 1, xb, 48);
		memcpy(*rakb + 49, yb, 48);
	} else {
		cbor_item_t *k = cbor_new_definite_map(4);

		madd(k, 1, cint(2));		/* kty EC2 */
		madd(k, -1, cint(2));		/* crv P-384 */
		madd(k, -2, bstr(xb, 48));
		madd(k, -3, bstr(yb, 48));
		*rakb = ser(k, rak_len);
	}

	m = cbor_new_definite_map(9);
	if (g->realm_profile)
		madd(m, 265, cbor_build_string(g->realm_profile));
	madd(m, 10, filled(0xab, 64));
	madd(m, 44235, filled(0x50, 64));
	if (g->dup_claim)
		madd(m, 44235, filled(0x51, 64));
	madd(m, 44236, cbor_build_string("sha-256"));
	madd(m, 44237, bstr(*rakb, *rak_len));
	madd(m, 44238, filled(0x11, g->rim_len));
	rems = cbor_new_definite_array(4);
	for (int i = 0; i < 4; i++)
		if (!cbor_array_push(rems, cbor_move(filled(0x21 + i, g->rim_len))))
			abort();
	madd(m, 44239, rems);
	madd(m, 44240, cbor_build_string(g->rak_hash));
	pl = ser(m, &pl_len);
	realm = cose_sign(rak, -35, 48, GNUTLS_SIGN_ECDSA_SHA384, false, pl,
			  pl_len, realm_len);
	free(pl);
	return realm;
}

static uint8_t *build_collection(const uint8_t *plat, size_t plat_len,
				 const uint8_t *realm, size_t realm_len,
				 size_t *len)
{
	cbor_item_t *coll = cbor_new_definite_map(2);

	madd(coll, 44234, bstr(plat, plat_len));
	madd(coll, 44241, bstr(realm, realm_len));
	return ser(cbor_build_tag(399, cbor_move(coll)), len);
}

/* Build a token per g, write its CPAK to cpak, verify it. */
static int gen_run(const struct gen *g, const char *cpak,
		   struct katls_claims *c, struct katls_verdict *v)
{
	gnutls_privkey_t rak = genkey(GNUTLS_ECC_CURVE_SECP384R1);
	gnutls_privkey_t cp = genkey(g->es384_platform ?
				     GNUTLS_ECC_CURVE_SECP384R1 :
				     GNUTLS_ECC_CURVE_SECP256R1);
	uint8_t h[64], *rakb, *pl, *realm, *plat, *tok;
	size_t rak_len, pl_len, realm_len, plat_len, tok_len;
	cbor_item_t *m, *sw, *swc;
	int ret;

	realm = build_realm(g, rak, &rakb, &rak_len, &realm_len);

	/* platform token */
	if (gnutls_hash_fast(g->bind, rakb, rak_len, h) < 0)
		abort();
	m = cbor_new_definite_map(9);
	madd(m, 265, cbor_build_string(g->plat_profile));
	madd(m, 10, bstr(h, gnutls_hash_get_len(g->bind)));
	{
		uint8_t inst[33];

		memset(inst, 0x33, sizeof(inst));
		inst[0] = 0x01;
		madd(m, 256, bstr(inst, sizeof(inst)));
	}
	madd(m, 2396, filled(0x77, 32));
	madd(m, 2395, cint(g->lifecycle));
	sw = cbor_new_definite_array(1);
	swc = cbor_new_definite_map(2);
	madd(swc, 1, cbor_build_string("BL"));
	madd(swc, 2, filled(0x42, 32));
	if (!cbor_array_push(sw, cbor_move(swc)))
		abort();
	madd(m, 2399, sw);
	madd(m, 2401, filled(0x0c, 4));
	madd(m, 2402, cbor_build_string("sha-256"));
	pl = ser(m, &pl_len);
	plat = g->es384_platform ?
		cose_sign(cp, -35, 48, GNUTLS_SIGN_ECDSA_SHA384, g->crit, pl,
			  pl_len, &plat_len) :
		cose_sign(cp, -7, 32, GNUTLS_SIGN_ECDSA_SHA256, g->crit, pl,
			  pl_len, &plat_len);
	free(pl);

	tok = build_collection(plat, plat_len, realm, realm_len, &tok_len);

	write_pub(cp, cpak);
	ret = run(tok, tok_len, cpak, NULL, c, v);

	free(tok);
	free(plat);
	free(realm);
	free(rakb);
	gnutls_privkey_deinit(rak);
	gnutls_privkey_deinit(cp);
	return ret;
}

static void test_synthetic(void)
{
	char path[] = "/tmp/katls-test-cca-XXXXXX";
	struct katls_claims c;
	struct katls_verdict v;
	struct gen g;
	uint8_t want[64];
	int fd, ret;

	fd = mkstemp(path);
	if (fd < 0) {
		tap_ok(0, "mkstemp");
		return;
	}
	close(fd);

	g = gen_default;
	ret = gen_run(&g, path, &c, &v);
	tap_ok(ret == 0 && v.valid, "synthetic: COSE_Key RAK, sha-512 binding, ES256 platform");
	if (ret)
		dump(&v);
	tap_ok(has_check(&v, "checked: platform challenge = sha-512(realm public key)") &&
	       has_check(&v, "checked: platform token signature (ES256)"),
	       "synthetic: verdict names sha-512 and ES256");
	memset(want, 0x11, 32);
	tap_ok(c.measurement_len == 32 && !memcmp(c.measurement, want, 32) &&
	       !strcmp(c.cca.platform_profile, gen_default.plat_profile) &&
	       c.cca.platform_lifecycle == 0x3000 && !c.debug &&
	       c.cca.rem_len == 32 && c.cca.rem[3][0] == 0x24,
	       "synthetic: claims as built");

	g = gen_default;
	g.raw_rak = true;
	g.es384_platform = true;
	g.realm_profile = NULL;
	g.rak_hash = "sha-256";
	g.bind = GNUTLS_DIG_SHA256;
	ret = gen_run(&g, path, &c, &v);
	tap_ok(ret == 0 && v.valid, "synthetic: raw RAK, sha-256 binding, ES384 platform, no realm profile");
	if (ret)
		dump(&v);

	{
		static const struct { unsigned int lc; int valid, debug; } lcs[] = {
			{ 0x30ff, 1, 0 }, { 0x0000, 1, 1 }, { 0x1000, 1, 1 },
			{ 0x2000, 1, 1 }, { 0x4000, 1, 1 }, { 0x50ff, 1, 1 },
			{ 0x6000, 1, 1 }, { 0x0100, 0, 1 }, { 0x7000, 0, 1 },
			{ 0x10000, 0, 1 },
		};

		for (size_t i = 0; i < sizeof(lcs) / sizeof(lcs[0]); i++) {
			g = gen_default;
			g.lifecycle = lcs[i].lc;
			ret = gen_run(&g, path, &c, &v);
			tap_ok((ret == 0) == lcs[i].valid && c.debug == lcs[i].debug &&
			       (lcs[i].valid || has_error(&v, "lifecycle (2395)")),
			       "synthetic: lifecycle 0x%04x -> %s, debug %d",
			       lcs[i].lc, lcs[i].valid ? "valid" : "invalid",
			       lcs[i].debug);
		}
	}

	g = gen_default;
	g.dup_claim = true;
	ret = gen_run(&g, path, &c, &v);
	tap_ok(ret == -1 && has_error(&v, "realm token: claims are not a map of unique integer keys"),
	       "synthetic: duplicate realm claim rejected");

	g = gen_default;
	g.realm_profile = "tag:arm.com,2099:realm#9.0.0";
	ret = gen_run(&g, path, &c, &v);
	tap_ok(ret == -1 && has_error(&v, "unsupported realm profile"),
	       "synthetic: unknown realm profile rejected");

	g = gen_default;
	g.plat_profile = "http://arm.com/psa/2.0.0";
	ret = gen_run(&g, path, &c, &v);
	tap_ok(ret == -1 && has_error(&v, "platform token: unsupported profile"),
	       "synthetic: unknown platform profile rejected");

	g = gen_default;
	g.rim_len = 48;
	ret = gen_run(&g, path, &c, &v);
	tap_ok(ret == -1 && has_error(&v, "RIM is 48 bytes, sha-256 needs 32"),
	       "synthetic: RIM size must match its hash algorithm");

	g = gen_default;
	g.bind = GNUTLS_DIG_SHA256;	/* claim says sha-512 */
	ret = gen_run(&g, path, &c, &v);
	tap_ok(ret == -1 && has_error(&v, "platform challenge is not sha-512(realm public key)"),
	       "synthetic: challenge made with another hash than 44240 says");

	g = gen_default;
	g.crit = true;
	ret = gen_run(&g, path, &c, &v);
	tap_ok(ret == -1 && has_error(&v, "critical header parameters are not supported"),
	       "synthetic: crit header rejected");

	unlink(path);
}

/*
 * The attack the binding stops: a realm token of the attacker's own (own
 * RAK, same challenge) next to the genuine platform token.  Both
 * signatures verify; only the binding catches it.
 */
static void test_splice(void)
{
	static const uint8_t realm_hdr[] = { 0x19, 0xac, 0xd1, 0x59 };
	gnutls_privkey_t rak = genkey(GNUTLS_ECC_CURVE_SECP384R1);
	struct gen g = gen_default;
	struct katls_claims c;
	struct katls_verdict v;
	uint8_t *rakb, *realm, *tok;
	size_t rak_len, realm_len, tok_len, plat_off, plat_end;
	int ret;

	/* d9 018f a2 19 acca 59 LLLL <platform token> 19 acd1 ... */
	plat_off = 10;
	plat_end = find(token, token_len, realm_hdr, sizeof(realm_hdr));
	if (token[3] != 0xa2 || token[4] != 0x19 || token[5] != 0xac ||
	    token[6] != 0xca || token[7] != 0x59 ||
	    plat_end == (size_t)-1 ||
	    plat_end - plat_off != (size_t)(token[8] << 8 | token[9])) {
		tap_ok(0, "splice: sample layout not as expected");
		gnutls_privkey_deinit(rak);
		return;
	}

	g.raw_rak = true;
	g.realm_profile = NULL;
	g.rak_hash = "sha-256";
	realm = build_realm(&g, rak, &rakb, &rak_len, &realm_len);
	tok = build_collection(token + plat_off, plat_end - plat_off, realm,
			       realm_len, &tok_len);
	ret = run(tok, tok_len, cpak_path, NULL, &c, &v);
	tap_ok(ret == -1 && !v.valid &&
	       has_check(&v, "checked: realm token signature") &&
	       has_check(&v, "checked: platform token signature") &&
	       has_error(&v, "platform challenge is not sha-256(realm public key)"),
	       "spliced realm token with its own RAK: rejected by the binding");
	if (ret == 0)
		dump(&v);

	free(tok);
	free(realm);
	free(rakb);
	gnutls_privkey_deinit(rak);
}

/* Expected report data is checked by the dispatcher (and the back end). */
static void test_report_data(void)
{
	struct katls_verify_opts o = { .cpak_file = cpak_path };
	struct katls_claims c;
	struct katls_verdict v;
	uint8_t rd[64];
	int ret;

	memset(rd, 0xab, sizeof(rd));
	o.expected_report_data = rd;
	ret = katls_verify_evidence(KATLS_EVIDENCE_CCA, token, token_len, &o,
				    &c, &v);
	tap_ok(ret == 0 && v.valid && has_check(&v, "checked: report data"),
	       "dispatcher: matching expected report data");
	if (ret)
		dump(&v);

	rd[63] ^= 1;
	ret = katls_verify_evidence(KATLS_EVIDENCE_CCA, token, token_len, &o,
				    &c, &v);
	tap_ok(ret == -1 && !v.valid &&
	       has_error(&v, "realm challenge does not match the expected report data"),
	       "dispatcher: expected report data mismatch");

	ret = run(token, token_len, cpak_path, rd, &c, &v);
	tap_ok(ret == -1 && !v.valid &&
	       has_error(&v, "realm challenge does not match the expected report data"),
	       "back end alone: expected report data mismatch");
	rd[63] ^= 1;
	ret = run(token, token_len, cpak_path, rd, &c, &v);
	tap_ok(ret == 0 && v.valid, "back end alone: matching report data");
}

int main(void)
{
	const char *dir = getenv("KATLS_EVIDENCE_DIR");
	char path[4200];

	snprintf(evdir, sizeof(evdir), "%s",
		 dir && *dir ? dir : KATLS_EVIDENCE_DIR);
	snprintf(path, sizeof(path), "%s/%s", evdir, TOKEN_FILE);
	snprintf(cpak_path, sizeof(cpak_path), "%s/%s", evdir, CPAK_FILE);

	tap_plan_lazy();
	token = read_file(path, &token_len);
	if (!tap_ok(token && token_len == TOKEN_SIZE, "read %s (%d bytes)",
		    path, TOKEN_SIZE))
		return tap_done();

	test_sample();
	test_no_cpak();
	test_wrong_cpak();
	test_flips();
	test_tags();
	test_hostile_cbor();
	test_truncated();
	test_report_data();
	test_synthetic();
	test_splice();
	test_every_byte();

	free(token);
	return tap_done();
}
