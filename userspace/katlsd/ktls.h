/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktls.h - the TLS 1.3 traffic keys as kTLS wants them.
 *
 * katlsd never calls setsockopt(SOL_TLS) itself: the keys travel to the
 * katls module in KATLS_A_TX / KATLS_A_RX (one struct tls12_crypto_info_*
 * each) and the module installs them for that socket only.
 */
#ifndef KATLSD_KTLS_H
#define KATLSD_KTLS_H

#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include <linux/tls.h>

union katlsd_crypto_info {
	struct tls_crypto_info info;
	struct tls12_crypto_info_aes_gcm_128 aes128;
	struct tls12_crypto_info_aes_gcm_256 aes256;
	struct tls12_crypto_info_chacha20_poly1305 chacha;
};

struct katlsd_keys {
	union katlsd_crypto_info tx, rx;
	size_t len;			/* of each of tx and rx */
};

/*
 * Build a TLS 1.3 crypto_info from what gnutls_record_get_state() returns:
 * key, the 12-byte static IV and the 8-byte big-endian record sequence
 * number.  AES-GCM: salt = iv[0..3], iv = iv[4..11]; ChaCha20-Poly1305:
 * iv = the whole 12 bytes.  Returns the struct size, or -EOPNOTSUPP for
 * a cipher kTLS does not take, -EINVAL for wrong key/IV sizes.
 */
int katlsd_ktls_info(gnutls_cipher_algorithm_t cipher,
		     const gnutls_datum_t *key, const gnutls_datum_t *iv,
		     const unsigned char seq[8], union katlsd_crypto_info *out);

/* Both directions of an established session; 0 or a negative errno. */
int katlsd_ktls_keys(gnutls_session_t session, struct katlsd_keys *k);

void katlsd_keys_wipe(struct katlsd_keys *k);

#endif /* KATLSD_KTLS_H */
