// SPDX-License-Identifier: GPL-2.0
/*
 * test_binder.c - binder v1 and post v1 against the published vectors
 * (binder_vectors.txt, computed independently by binder_vectors.py), the
 * RFC 8448 HKDF-Expand-Label value, and negative tests: every input
 * changed changes the output, every bad argument is refused.
 *
 * usage: test_binder VECTORS_FILE
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include <katls/binder.h>
#include "tap.h"
#include "vecfile.h"

#define MAXV 256

struct vec {
	char name[64];
	char hash[16];
	uint8_t htsc[MAXV], nonce[MAXV], spki[MAXV], ik[MAXV], cb[MAXV];
	uint8_t rd[MAXV], exporter[MAXV];
	size_t htsc_len, nonce_len, spki_len, ik_len, cb_len, rd_len;
	size_t exporter_len;
};

static int load(const char *path, struct vec *v, int max)
{
	char line[1024], key[32];
	int n = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *val;
		uint8_t *dst = NULL;
		size_t *dlen = NULL;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] == '[') {
			if (++n == max)
				break;
			memset(&v[n], 0, sizeof(v[n]));
			sscanf(line, "[%63[^]]]", v[n].name);
			continue;
		}
		val = strstr(line, " = ");
		if (n < 0 || !val || sscanf(line, "%31s", key) != 1)
			goto bad;
		val += 3;
		if (!strcmp(key, "hash")) {
			sscanf(val, "%15s", v[n].hash);
			continue;
		}
#define FIELD(k, f) if (!strcmp(key, k)) { dst = v[n].f; dlen = &v[n].f##_len; }
		FIELD("htsc", htsc) FIELD("nonce", nonce) FIELD("spki", spki)
		FIELD("ik", ik) FIELD("cb", cb) FIELD("report_data", rd)
		FIELD("exporter", exporter)
#undef FIELD
		if (!dst || vec_unhex(val, dst, MAXV, dlen))
			goto bad;
	}
	fclose(f);
	return n + 1;
bad:
	fclose(f);
	return -1;
}

static void test_rfc8448(void)
{
	/* RFC 8448 §3: early secret, then Derive-Secret(., "derived", "") */
	static const uint8_t derived[32] = {
		0x6f, 0x26, 0x15, 0xa1, 0x08, 0xc7, 0x02, 0xc5,
		0x67, 0x8f, 0x54, 0xfc, 0x9d, 0xba, 0xb6, 0x97,
		0x16, 0xc0, 0x76, 0x18, 0x9c, 0x48, 0x25, 0x0c,
		0xeb, 0xea, 0xc3, 0x57, 0x6c, 0x36, 0x11, 0xba,
	};
	uint8_t zero[32] = { 0 }, es[32], empty_hash[32], out[32];
	gnutls_datum_t k = { zero, 32 }, salt = { zero, 32 };

	tap_ok(gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &k, &salt, es) == 0 &&
	       gnutls_hash_fast(GNUTLS_DIG_SHA256, "", 0, empty_hash) == 0 &&
	       katls_hkdf_expand_label(GNUTLS_MAC_SHA256, es, 32, "derived",
				       empty_hash, 32, out, 32) == 0 &&
	       !memcmp(out, derived, 32),
	       "HKDF-Expand-Label reproduces RFC 8448 'derived' secret");
}

static void test_vector(const struct vec *v)
{
	gnutls_mac_algorithm_t mac;
	uint8_t ik[48], cb[48], nh[48], rd[64], spki2[MAXV], htsc2[48];
	uint8_t nonce2[32];
	size_t hlen;
	unsigned int i, all_bits = 1;

	mac = !strcmp(v->hash, "sha256") ? GNUTLS_MAC_SHA256 :
	      !strcmp(v->hash, "sha384") ? GNUTLS_MAC_SHA384 :
					   GNUTLS_MAC_UNKNOWN;
	hlen = gnutls_hmac_get_len(mac);
	if (!tap_ok(mac != GNUTLS_MAC_UNKNOWN && v->htsc_len == hlen &&
		    v->nonce_len == 32 && v->rd_len == 64 &&
		    v->ik_len == hlen && v->cb_len == hlen,
		    "%s: vector well-formed", v->name))
		return;

	tap_ok(katls_hkdf_expand_label(mac, v->htsc, hlen, "katls binder",
				       NULL, 0, ik, hlen) == 0 &&
	       !memcmp(ik, v->ik, hlen), "%s: ik", v->name);
	gnutls_hash_fast((gnutls_digest_algorithm_t)mac, v->nonce, 32, nh);
	tap_ok(katls_hkdf_expand_label(mac, ik, hlen, "exporter", nh, hlen,
				       cb, hlen) == 0 &&
	       !memcmp(cb, v->cb, hlen), "%s: cb", v->name);
	tap_ok(katls_binder_v1(mac, v->htsc, hlen, v->nonce, v->spki,
			       v->spki_len, rd) == 0 &&
	       !memcmp(rd, v->rd, 64), "%s: report_data", v->name);
	tap_ok(katls_binder_check(v->rd, rd, 64) == 0,
	       "%s: katls_binder_check accepts equal value", v->name);

	/* Each input changed in each bit position of its first/last byte. */
	memcpy(htsc2, v->htsc, hlen);
	for (i = 0; i < hlen * 8; i += 7) {
		htsc2[i / 8] ^= 1u << (i % 8);
		katls_binder_v1(mac, htsc2, hlen, v->nonce, v->spki,
				v->spki_len, rd);
		all_bits &= !!memcmp(rd, v->rd, 64);
		htsc2[i / 8] ^= 1u << (i % 8);
	}
	tap_ok(all_bits, "%s: any htsc bit flip changes report_data", v->name);

	all_bits = 1;
	memcpy(nonce2, v->nonce, 32);
	for (i = 0; i < 256; i += 5) {
		nonce2[i / 8] ^= 1u << (i % 8);
		katls_binder_v1(mac, v->htsc, hlen, nonce2, v->spki,
				v->spki_len, rd);
		all_bits &= !!memcmp(rd, v->rd, 64);
		tap_ok(katls_binder_check(v->rd, rd, 64) != 0 || !all_bits,
		       "%s: check rejects nonce bit %u", v->name, i);
		nonce2[i / 8] ^= 1u << (i % 8);
	}
	tap_ok(all_bits, "%s: any nonce bit flip changes report_data",
	       v->name);

	all_bits = 1;
	memcpy(spki2, v->spki, v->spki_len);
	for (i = 0; i < v->spki_len * 8; i += 11) {
		spki2[i / 8] ^= 1u << (i % 8);
		katls_binder_v1(mac, v->htsc, hlen, v->nonce, spki2,
				v->spki_len, rd);
		all_bits &= !!memcmp(rd, v->rd, 64);
		spki2[i / 8] ^= 1u << (i % 8);
	}
	tap_ok(all_bits, "%s: any spki bit flip changes report_data", v->name);

	/* Truncated / extended spki (length prefix matters). */
	katls_binder_v1(mac, v->htsc, hlen, v->nonce, v->spki,
			v->spki_len - 1, rd);
	tap_ok(memcmp(rd, v->rd, 64) != 0, "%s: truncated spki differs",
	       v->name);
	spki2[v->spki_len] = 0;
	katls_binder_v1(mac, v->htsc, hlen, v->nonce, spki2, v->spki_len + 1,
			rd);
	tap_ok(memcmp(rd, v->rd, 64) != 0, "%s: extended spki differs",
	       v->name);

	/* The other hash with a same-length prefix of htsc gives another value. */
	if (mac == GNUTLS_MAC_SHA384) {
		katls_binder_v1(GNUTLS_MAC_SHA256, v->htsc, 32, v->nonce,
				v->spki, v->spki_len, rd);
		tap_ok(memcmp(rd, v->rd, 64) != 0,
		       "%s: SHA-256 over the same inputs differs", v->name);
	}

	/* Bad arguments: refused, output zeroed. */
	memset(rd, 0xaa, 64);
	tap_ok(katls_binder_v1(mac, v->htsc, hlen - 1, v->nonce, v->spki,
			       v->spki_len, rd) == -EINVAL &&
	       !memcmp(rd, (uint8_t[64]){ 0 }, 64),
	       "%s: htsc of wrong length refused, output zeroed", v->name);
	tap_ok(katls_binder_v1(GNUTLS_MAC_SHA512, v->htsc, hlen, v->nonce,
			       v->spki, v->spki_len, rd) == -EINVAL &&
	       katls_binder_v1(GNUTLS_MAC_MD5, v->htsc, hlen, v->nonce,
			       v->spki, v->spki_len, rd) == -EINVAL,
	       "%s: hash other than SHA-256/384 refused", v->name);
	tap_ok(katls_binder_v1(mac, v->htsc, hlen, v->nonce, v->spki, 0,
			       rd) == -EINVAL &&
	       katls_binder_v1(mac, v->htsc, hlen, v->nonce, NULL, 1, rd) ==
	       -EINVAL &&
	       katls_binder_v1(mac, NULL, hlen, v->nonce, v->spki,
			       v->spki_len, rd) == -EINVAL &&
	       katls_binder_v1(mac, v->htsc, hlen, NULL, v->spki,
			       v->spki_len, rd) == -EINVAL &&
	       katls_binder_v1(mac, v->htsc, hlen, v->nonce, v->spki,
			       0x10000, rd) == -EINVAL,
	       "%s: empty, missing or oversized inputs refused", v->name);
}

static void test_post(const struct vec *v)
{
	uint8_t rd[64], exp2[64], spki2[MAXV];
	unsigned int i, all_bits = 1;

	if (!tap_ok(v->exporter_len == 64 && v->rd_len == 64,
		    "%s: vector well-formed", v->name))
		return;
	tap_ok(katls_binder_post_v1(v->exporter, v->spki, v->spki_len, rd) ==
	       0 && !memcmp(rd, v->rd, 64), "%s: report_data", v->name);

	memcpy(exp2, v->exporter, 64);
	for (i = 0; i < 512; i += 3) {
		exp2[i / 8] ^= 1u << (i % 8);
		katls_binder_post_v1(exp2, v->spki, v->spki_len, rd);
		all_bits &= !!memcmp(rd, v->rd, 64);
		exp2[i / 8] ^= 1u << (i % 8);
	}
	tap_ok(all_bits, "%s: any exporter bit flip changes report_data",
	       v->name);
	all_bits = 1;
	memcpy(spki2, v->spki, v->spki_len);
	for (i = 0; i < v->spki_len * 8; i += 11) {
		spki2[i / 8] ^= 1u << (i % 8);
		katls_binder_post_v1(v->exporter, spki2, v->spki_len, rd);
		all_bits &= !!memcmp(rd, v->rd, 64);
		spki2[i / 8] ^= 1u << (i % 8);
	}
	tap_ok(all_bits, "%s: any spki bit flip changes report_data", v->name);
	tap_ok(katls_binder_post_v1(v->exporter, v->spki, 0, rd) == -EINVAL &&
	       katls_binder_post_v1(NULL, v->spki, v->spki_len, rd) ==
	       -EINVAL, "%s: bad arguments refused", v->name);
}

static void test_check(void)
{
	uint8_t a[64] = { 1, 2, 3 }, b[65];

	memcpy(b, a, 64);
	b[64] = 0;
	tap_ok(katls_binder_check(a, b, 64) == 0, "check: equal accepted");
	tap_ok(katls_binder_check(a, b, 65) == -1 &&
	       katls_binder_check(a, b, 63) == -1 &&
	       katls_binder_check(a, NULL, 64) == -1,
	       "check: wrong length or NULL rejected");
	b[63] ^= 0x80;
	tap_ok(katls_binder_check(a, b, 64) == -1, "check: last bit differs");
}

/* A throw-away self-signed ECDSA P-256 certificate, DER. */
static int make_cert(gnutls_datum_t *der, gnutls_datum_t *spki)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	int ok = -1;

	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
					 0) < 0 ||
	    gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, "\x01", 1) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, 1700000000) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, 1900000000) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  "katls test", 10) < 0 ||
	    gnutls_x509_crt_set_key(crt, key) < 0 ||
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der) < 0 ||
	    gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, spki) < 0)
		goto out;
	ok = 0;
out:
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return ok;
}

static void test_spki(void)
{
	/* DER SEQUENCE { SEQUENCE { OID id-ecPublicKey, OID prime256v1 } ...} */
	static const uint8_t ec_alg[] = {
		0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
		0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
		0x07,
	};
	gnutls_datum_t der = { NULL, 0 }, want = { NULL, 0 }, got;
	uint8_t junk[64];

	if (!tap_ok(make_cert(&der, &want) == 0, "spki: test certificate"))
		return;
	tap_ok(katls_spki_from_cert_der(der.data, der.size, &got) == 0 &&
	       got.size == want.size && !memcmp(got.data, want.data, got.size),
	       "spki: equals the certificate's public key export");
	tap_ok(got.size == 91 && got.data[0] == 0x30 &&
	       !memcmp(got.data + 2, ec_alg, sizeof(ec_alg)),
	       "spki: a P-256 SubjectPublicKeyInfo (91 bytes, id-ecPublicKey)");
	gnutls_free(got.data);
	tap_ok(katls_spki_from_cert_der(der.data, der.size - 1, &got) ==
	       -EINVAL && !got.data,
	       "spki: truncated certificate refused");
	memset(junk, 0x30, sizeof(junk));
	tap_ok(katls_spki_from_cert_der(junk, sizeof(junk), &got) == -EINVAL &&
	       katls_spki_from_cert_der(NULL, 10, &got) == -EINVAL &&
	       katls_spki_from_cert_der(der.data, 0, &got) == -EINVAL,
	       "spki: garbage, NULL or empty input refused");
	gnutls_free(der.data);
	gnutls_free(want.data);
}

int main(int argc, char **argv)
{
	struct vec v[8];
	int n, i, nbinder = 0, npost = 0;

	tap_plan_lazy();
	n = argc == 2 ? load(argv[1], v, 8) : -1;
	if (!tap_ok(n >= 3, "load vectors from %s",
		    argc == 2 ? argv[1] : "(no file given)"))
		return tap_done();
	test_rfc8448();
	for (i = 0; i < n; i++) {
		if (!strncmp(v[i].name, "binder-v1-", 10)) {
			test_vector(&v[i]);
			nbinder++;
		} else if (!strcmp(v[i].name, "post-v1")) {
			test_post(&v[i]);
			npost++;
		}
	}
	tap_ok(nbinder == 2 && npost == 1,
	       "vectors cover SHA-256, SHA-384 and post (%d, %d)", nbinder,
	       npost);
	test_check();
	test_spki();
	return tap_done();
}
