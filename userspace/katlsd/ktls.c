// SPDX-License-Identifier: GPL-2.0
/*
 * ktls.c - TLS 1.3 keys from GnuTLS into kTLS's crypto_info structs.
 */
#include <errno.h>
#include <string.h>

#include "ktls.h"

#define SET(ci, ver, type, k, i, s, salt_from, iv_from) do {		\
	(ci).info.version = (ver);					\
	(ci).info.cipher_type = (type);					\
	memcpy((ci).key, (k)->data, sizeof((ci).key));			\
	memcpy((ci).salt, (i)->data + (salt_from), sizeof((ci).salt));	\
	memcpy((ci).iv, (i)->data + (iv_from), sizeof((ci).iv));	\
	memcpy((ci).rec_seq, (s), sizeof((ci).rec_seq));		\
} while (0)

int katlsd_ktls_info(gnutls_cipher_algorithm_t cipher,
		     const gnutls_datum_t *key, const gnutls_datum_t *iv,
		     const unsigned char seq[8], union katlsd_crypto_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!key || !iv || !key->data || !iv->data || iv->size != 12)
		return -EINVAL;

	switch (cipher) {
	case GNUTLS_CIPHER_AES_128_GCM:
		if (key->size != TLS_CIPHER_AES_GCM_128_KEY_SIZE)
			return -EINVAL;
		SET(out->aes128, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128,
		    key, iv, seq, 0, TLS_CIPHER_AES_GCM_128_SALT_SIZE);
		return sizeof(out->aes128);
	case GNUTLS_CIPHER_AES_256_GCM:
		if (key->size != TLS_CIPHER_AES_GCM_256_KEY_SIZE)
			return -EINVAL;
		SET(out->aes256, TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_256,
		    key, iv, seq, 0, TLS_CIPHER_AES_GCM_256_SALT_SIZE);
		return sizeof(out->aes256);
	case GNUTLS_CIPHER_CHACHA20_POLY1305:
		if (key->size != TLS_CIPHER_CHACHA20_POLY1305_KEY_SIZE)
			return -EINVAL;
		/* salt is zero-length for ChaCha20-Poly1305 */
		out->chacha.info.version = TLS_1_3_VERSION;
		out->chacha.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
		memcpy(out->chacha.key, key->data, sizeof(out->chacha.key));
		memcpy(out->chacha.iv, iv->data, sizeof(out->chacha.iv));
		memcpy(out->chacha.rec_seq, seq, sizeof(out->chacha.rec_seq));
		return sizeof(out->chacha);
	default:
		return -EOPNOTSUPP;
	}
}

static int one_direction(gnutls_session_t s, int read,
			 union katlsd_crypto_info *out)
{
	gnutls_datum_t key = { 0 }, iv = { 0 };
	unsigned char seq[8];
	int ret;

	/*
	 * The returned datums point into GnuTLS's own record state (no copy
	 * to wipe here); gnutls_deinit() wipes those.
	 */
	ret = gnutls_record_get_state(s, read, NULL, &iv, &key, seq);
	if (ret < 0)
		return -EIO;
	ret = katlsd_ktls_info(gnutls_cipher_get(s), &key, &iv, seq, out);
	gnutls_memset(seq, 0, sizeof(seq));
	return ret;
}

int katlsd_ktls_keys(gnutls_session_t session, struct katlsd_keys *k)
{
	int tx, rx;

	memset(k, 0, sizeof(*k));
	tx = one_direction(session, 0, &k->tx);
	if (tx < 0)
		goto fail;
	rx = one_direction(session, 1, &k->rx);
	if (rx < 0) {
		tx = rx;
		goto fail;
	}
	if (tx != rx) {
		tx = -EIO;
		goto fail;
	}
	k->len = (size_t)tx;
	return 0;
fail:
	katlsd_keys_wipe(k);
	return tx;
}

void katlsd_keys_wipe(struct katlsd_keys *k)
{
	gnutls_memset(k, 0, sizeof(*k));
}
