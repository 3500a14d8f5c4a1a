// SPDX-License-Identifier: GPL-2.0
/*
 * binder.c - the one implementation of the katls binder (v1 and post),
 * used by the attester and by the verifier.  See Documentation/binder.rst.
 *
 * All primitives come from GnuTLS (HKDF-Expand, hashes).  Every buffer
 * that holds a value derived from htsc is wiped before returning.
 */
#include <errno.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include <katls/binder.h>

#define BINDER_V1_TAG	"katls binder v1"
#define POST_V1_TAG	"katls post v1"
#define TLS13_PREFIX	"tls13 "
#define MAX_HASH_LEN	48
/* uint16 length, label<7..255>, context<0..255> */
#define MAX_HKDF_LABEL	(2 + 1 + 255 + 1 + 255)

static size_t suite_hash_len(gnutls_mac_algorithm_t hash)
{
	switch (hash) {
	case GNUTLS_MAC_SHA256:
		return 32;
	case GNUTLS_MAC_SHA384:
		return 48;
	default:
		return 0;
	}
}

static gnutls_digest_algorithm_t suite_digest(gnutls_mac_algorithm_t hash)
{
	return hash == GNUTLS_MAC_SHA384 ? GNUTLS_DIG_SHA384 : GNUTLS_DIG_SHA256;
}

int katls_hkdf_expand_label(gnutls_mac_algorithm_t hash,
			    const uint8_t *secret, size_t secret_len,
			    const char *label,
			    const uint8_t *context, size_t context_len,
			    uint8_t *out, size_t out_len)
{
	uint8_t info[MAX_HKDF_LABEL];
	size_t hlen = suite_hash_len(hash), label_len, n = 0;
	gnutls_datum_t key, in;
	int ret;

	if (!hlen || !secret || secret_len != hlen || !label || !out ||
	    !out_len || out_len > 255 * hlen || out_len > 0xffff ||
	    (context_len && !context) || context_len > 255)
		return -EINVAL;
	label_len = strlen(label);
	if (sizeof(TLS13_PREFIX) - 1 + label_len > 255)
		return -EINVAL;

	info[n++] = out_len >> 8;
	info[n++] = out_len & 0xff;
	info[n++] = sizeof(TLS13_PREFIX) - 1 + label_len;
	memcpy(info + n, TLS13_PREFIX, sizeof(TLS13_PREFIX) - 1);
	n += sizeof(TLS13_PREFIX) - 1;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = context_len;
	if (context_len)
		memcpy(info + n, context, context_len);
	n += context_len;

	/* gnutls_datum_t is not const-correct; GnuTLS only reads these. */
	key.data = (unsigned char *)secret;
	key.size = secret_len;
	in.data = info;
	in.size = n;
	ret = gnutls_hkdf_expand(hash, &key, &in, out, out_len);
	if (ret < 0) {
		gnutls_memset(out, 0, out_len);
		return -EIO;
	}
	return 0;
}

static int hash_put16(gnutls_hash_hd_t h, const uint8_t *p, size_t len)
{
	uint8_t l16[2] = { len >> 8, len & 0xff };

	if (gnutls_hash(h, l16, sizeof(l16)) < 0 || gnutls_hash(h, p, len) < 0)
		return -EIO;
	return 0;
}

int katls_binder_v1(gnutls_mac_algorithm_t hash,
		    const uint8_t *htsc, size_t htsc_len,
		    const uint8_t nonce[KATLS_BINDER_NONCE_LEN],
		    const uint8_t *spki, size_t spki_len,
		    uint8_t report_data[KATLS_REPORT_DATA_LEN])
{
	uint8_t ik[MAX_HASH_LEN], cb[MAX_HASH_LEN], nonce_hash[MAX_HASH_LEN];
	size_t hlen = suite_hash_len(hash);
	gnutls_hash_hd_t h = NULL;
	int ret;

	if (!report_data)
		return -EINVAL;
	memset(report_data, 0, KATLS_REPORT_DATA_LEN);
	if (!hlen || !htsc || htsc_len != hlen || !nonce || !spki ||
	    !spki_len || spki_len > 0xffff)
		return -EINVAL;

	if (gnutls_hash_fast(suite_digest(hash), nonce,
			     KATLS_BINDER_NONCE_LEN, nonce_hash) < 0)
		return -EIO;

	ret = katls_hkdf_expand_label(hash, htsc, htsc_len, "katls binder",
				      NULL, 0, ik, hlen);
	if (ret)
		goto out;
	ret = katls_hkdf_expand_label(hash, ik, hlen, "exporter",
				      nonce_hash, hlen, cb, hlen);
	if (ret)
		goto out;

	ret = -EIO;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA512) < 0) {
		h = NULL;
		goto out;
	}
	if (gnutls_hash(h, BINDER_V1_TAG, sizeof(BINDER_V1_TAG) - 1) < 0 ||
	    hash_put16(h, nonce, KATLS_BINDER_NONCE_LEN) ||
	    hash_put16(h, cb, hlen) ||
	    hash_put16(h, spki, spki_len))
		goto out;
	ret = 0;
out:
	if (h) {
		/* Always finish the context so GnuTLS drops its copy of cb. */
		gnutls_hash_deinit(h, report_data);
		if (ret)
			gnutls_memset(report_data, 0, KATLS_REPORT_DATA_LEN);
	}
	gnutls_memset(ik, 0, sizeof(ik));
	gnutls_memset(cb, 0, sizeof(cb));
	gnutls_memset(nonce_hash, 0, sizeof(nonce_hash));
	return ret;
}

int katls_binder_post_v1(const uint8_t exporter[KATLS_POST_EXPORTER_LEN],
			 const uint8_t *spki, size_t spki_len,
			 uint8_t report_data[KATLS_REPORT_DATA_LEN])
{
	gnutls_hash_hd_t h;
	int ret = -EIO;

	if (!report_data)
		return -EINVAL;
	memset(report_data, 0, KATLS_REPORT_DATA_LEN);
	if (!exporter || !spki || !spki_len || spki_len > 0xffff)
		return -EINVAL;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA512) < 0)
		return -EIO;
	if (gnutls_hash(h, POST_V1_TAG, sizeof(POST_V1_TAG) - 1) >= 0 &&
	    gnutls_hash(h, exporter, KATLS_POST_EXPORTER_LEN) >= 0 &&
	    gnutls_hash(h, spki, spki_len) >= 0)
		ret = 0;
	gnutls_hash_deinit(h, report_data);
	if (ret)
		gnutls_memset(report_data, 0, KATLS_REPORT_DATA_LEN);
	return ret;
}

int katls_binder_check(const uint8_t expected[KATLS_REPORT_DATA_LEN],
		       const uint8_t *found, size_t found_len)
{
	if (!expected || !found || found_len != KATLS_REPORT_DATA_LEN)
		return -1;
	return gnutls_memcmp(expected, found, KATLS_REPORT_DATA_LEN) ? -1 : 0;
}

int katls_spki_from_cert_der(const uint8_t *der, size_t der_len,
			     gnutls_datum_t *spki)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t in;
	int ret = -EIO;

	if (!der || !der_len || der_len > 0xffffffffu || !spki)
		return -EINVAL;
	spki->data = NULL;
	spki->size = 0;
	in.data = (unsigned char *)der;
	in.size = der_len;

	if (gnutls_x509_crt_init(&crt) < 0)
		return -EIO;
	if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_DER) < 0) {
		ret = -EINVAL;
		goto out;
	}
	if (gnutls_pubkey_init(&pub) < 0) {
		pub = NULL;
		goto out;
	}
	if (gnutls_pubkey_import_x509(pub, crt, 0) < 0) {
		ret = -EINVAL;
		goto out;
	}
	/* gnutls_pubkey_export2 writes the SubjectPublicKeyInfo in DER. */
	if (gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, spki) < 0)
		goto out;
	ret = 0;
out:
	if (pub)
		gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	return ret;
}
