// SPDX-License-Identifier: GPL-2.0
/*
 * test_ktls.c - crypto_info construction from the values that
 * gnutls_record_get_state() returns (key, 12-byte IV, big-endian seq).
 */
#include <errno.h>
#include <string.h>

#include <katls/gnutls.h>
#include "tap.h"

static unsigned char keybuf[32], ivbuf[12];
static const unsigned char seq[8] = { 0, 0, 0, 0, 0, 0, 0x01, 0x02 };

static void fill(void)
{
	for (unsigned int i = 0; i < sizeof(keybuf); i++)
		keybuf[i] = 0xa0 + i;
	for (unsigned int i = 0; i < sizeof(ivbuf); i++)
		ivbuf[i] = 0x10 + i;
}

int main(void)
{
	gnutls_datum_t key = { keybuf, 16 }, iv = { ivbuf, 12 };
	union katls_crypto_info ci;
	int ret;

	fill();
	tap_plan(19);

	ret = katls_gnutls_crypto_info(GNUTLS_CIPHER_AES_128_GCM, &key, &iv, seq, &ci);
	tap_ok(ret == (int)sizeof(struct tls12_crypto_info_aes_gcm_128),
	       "AES-128-GCM size %d", ret);
	tap_ok(ci.info.version == TLS_1_3_VERSION &&
	       ci.info.cipher_type == TLS_CIPHER_AES_GCM_128,
	       "AES-128-GCM version and cipher_type");
	tap_ok(!memcmp(ci.aes128.key, keybuf, 16), "AES-128-GCM key");
	tap_ok(!memcmp(ci.aes128.salt, ivbuf, 4), "AES-128-GCM salt = iv[0..3]");
	tap_ok(!memcmp(ci.aes128.iv, ivbuf + 4, 8), "AES-128-GCM iv = iv[4..11]");
	tap_ok(!memcmp(ci.aes128.rec_seq, seq, 8), "AES-128-GCM rec_seq big-endian");

	key.size = 32;
	ret = katls_gnutls_crypto_info(GNUTLS_CIPHER_AES_256_GCM, &key, &iv, seq, &ci);
	tap_ok(ret == (int)sizeof(struct tls12_crypto_info_aes_gcm_256) &&
	       ci.info.cipher_type == TLS_CIPHER_AES_GCM_256 &&
	       ci.info.version == TLS_1_3_VERSION, "AES-256-GCM header");
	tap_ok(!memcmp(ci.aes256.key, keybuf, 32) &&
	       !memcmp(ci.aes256.salt, ivbuf, 4) &&
	       !memcmp(ci.aes256.iv, ivbuf + 4, 8) &&
	       !memcmp(ci.aes256.rec_seq, seq, 8), "AES-256-GCM fields");

	ret = katls_gnutls_crypto_info(GNUTLS_CIPHER_CHACHA20_POLY1305, &key, &iv, seq,
			       &ci);
	tap_ok(ret == (int)sizeof(struct tls12_crypto_info_chacha20_poly1305) &&
	       ci.info.cipher_type == TLS_CIPHER_CHACHA20_POLY1305 &&
	       ci.info.version == TLS_1_3_VERSION, "ChaCha20-Poly1305 header");
	tap_ok(!memcmp(ci.chacha.key, keybuf, 32), "ChaCha20-Poly1305 key");
	tap_ok(!memcmp(ci.chacha.iv, ivbuf, 12), "ChaCha20-Poly1305 iv = whole 12 bytes");
	tap_ok(!memcmp(ci.chacha.rec_seq, seq, 8), "ChaCha20-Poly1305 rec_seq");

	/* Wrong sizes and ciphers kTLS does not take. */
	key.size = 32;
	tap_ok(katls_gnutls_crypto_info(GNUTLS_CIPHER_AES_128_GCM, &key, &iv, seq, &ci) ==
	       -EINVAL, "AES-128-GCM with a 32-byte key: EINVAL");
	key.size = 16;
	tap_ok(katls_gnutls_crypto_info(GNUTLS_CIPHER_AES_256_GCM, &key, &iv, seq, &ci) ==
	       -EINVAL, "AES-256-GCM with a 16-byte key: EINVAL");
	tap_ok(katls_gnutls_crypto_info(GNUTLS_CIPHER_CHACHA20_POLY1305, &key, &iv, seq,
				&ci) == -EINVAL, "ChaCha with a 16-byte key: EINVAL");
	iv.size = 8;
	tap_ok(katls_gnutls_crypto_info(GNUTLS_CIPHER_AES_128_GCM, &key, &iv, seq, &ci) ==
	       -EINVAL, "8-byte IV: EINVAL");
	iv.size = 12;
	tap_ok(katls_gnutls_crypto_info(GNUTLS_CIPHER_AES_128_CCM, &key, &iv, seq, &ci) ==
	       -EOPNOTSUPP, "AES-128-CCM: EOPNOTSUPP");
	tap_ok(katls_gnutls_crypto_info(GNUTLS_CIPHER_AES_128_CBC, &key, &iv, seq, &ci) ==
	       -EOPNOTSUPP, "AES-128-CBC: EOPNOTSUPP");
	{
		static const unsigned char zero[sizeof(ci)];

		tap_ok(!memcmp(&ci, zero, sizeof(ci)),
		       "output zeroed on failure");
	}
	return tap_done();
}
