// SPDX-License-Identifier: GPL-2.0
/*
 * gnutls.c - the GnuTLS glue of katls/gnutls.h: priority strings, the
 * PRF hash, the handshake secret, the katls extension, key export.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <katls/ext.h>
#include <katls/gnutls.h>

#define PRIORITY_BASE	"NORMAL:-VERS-ALL:+VERS-TLS1.3:%NO_TICKETS:-CIPHER-ALL:"
#define KTLS_CIPHERS	"+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"

/**
 * katls_gnutls_priority() - a TLS 1.3 priority string for katls peers
 * @buf: receives the string.
 * @cap: size of @buf (KATLS_GNUTLS_PRIORITY_MAX always suffices for
 *	names of up to 64 characters).
 * @cipher: a GnuTLS cipher name ("AES-256-GCM") to allow only that one,
 *	or NULL for every AEAD kTLS takes (then, without @extra, the string
 *	is KATLS_GNUTLS_PRIORITY).
 * @extra: further priority elements appended after a ':' (for example
 *	"-GROUP-ALL:+GROUP-X25519"), or NULL.
 *
 * Always TLS 1.3 only and without session tickets.
 *
 * Return: the length of the string, -EINVAL for a @cipher or @extra that
 * is empty or holds a ':' where one element is meant (@cipher), or
 * -ENAMETOOLONG if it does not fit.
 */
int katls_gnutls_priority(char *buf, size_t cap, const char *cipher,
			  const char *extra)
{
	int n;

	if ((cipher && (!cipher[0] || strchr(cipher, ':'))) ||
	    (extra && !extra[0]))
		return -EINVAL;
	n = snprintf(buf, cap, "%s%s%s%s%s", PRIORITY_BASE,
		     cipher ? "+" : "", cipher ? cipher : KTLS_CIPHERS,
		     extra ? ":" : "", extra ? extra : "");
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return n;
}

/**
 * katls_gnutls_prf_mac() - the session's handshake hash as an HMAC
 * @s: the session (after the ServerHello).
 * @len: set to the hash length (the length of the handshake secrets).
 *
 * Return: GNUTLS_MAC_SHA256 or GNUTLS_MAC_SHA384, or GNUTLS_MAC_UNKNOWN
 * with *@len 0 for any other hash (no TLS 1.3 suite katls allows).
 */
gnutls_mac_algorithm_t katls_gnutls_prf_mac(gnutls_session_t s, size_t *len)
{
	switch (gnutls_prf_hash_get(s)) {
	case GNUTLS_DIG_SHA256:
		*len = 32;
		return GNUTLS_MAC_SHA256;
	case GNUTLS_DIG_SHA384:
		*len = 48;
		return GNUTLS_MAC_SHA384;
	default:
		*len = 0;
		return GNUTLS_MAC_UNKNOWN;
	}
}

/**
 * katls_gnutls_keylog_htsc() - keep the client handshake traffic secret
 * @label: the keylog label GnuTLS passes.
 * @secret: the secret GnuTLS passes.
 * @out: where the secret goes.
 * @cap: size of @out.
 * @out_len: set to the secret's length when it is taken.
 *
 * For a gnutls_keylog_func: the secret binder v1 binds to is copied,
 * every other label is ignored.
 *
 * Return: 1 if the secret was taken, 0 for another label, -EMSGSIZE if
 * it does not fit @out (nothing copied).
 */
int katls_gnutls_keylog_htsc(const char *label, const gnutls_datum_t *secret,
			     uint8_t *out, size_t cap, size_t *out_len)
{
	if (strcmp(label, KATLS_GNUTLS_HTSC_LABEL))
		return 0;
	if (secret->size > cap)
		return -EMSGSIZE;
	memcpy(out, secret->data, secret->size);
	*out_len = secret->size;
	return 1;
}

/**
 * katls_gnutls_ext_register() - register the katls TLS extension
 * @s: the session, before the handshake.
 * @recv: called with the peer's extension body (ClientHello on the
 *	server, EncryptedExtensions on the client).
 * @send: called to append ours.
 *
 * The extension (KATLS_EXT_TYPE, katls/ext.h) is TLS-only and travels in
 * ClientHello and EncryptedExtensions; the callbacks find their state
 * with gnutls_session_get_ptr().
 *
 * Return: 0 or -EIO (GnuTLS refused it).
 */
int katls_gnutls_ext_register(gnutls_session_t s, gnutls_ext_recv_func recv,
			      gnutls_ext_send_func send)
{
	int ret;

	ret = gnutls_session_ext_register(s, KATLS_EXT_NAME, KATLS_EXT_TYPE,
					  GNUTLS_EXT_TLS, recv, send,
					  NULL, NULL, NULL,
					  GNUTLS_EXT_FLAG_TLS |
					  GNUTLS_EXT_FLAG_CLIENT_HELLO |
					  GNUTLS_EXT_FLAG_EE);
	return ret < 0 ? -EIO : 0;
}

#define SET(ci, type, k, i, s, salt_from, iv_from) do {			\
	(ci).info.version = TLS_1_3_VERSION;				\
	(ci).info.cipher_type = (type);					\
	memcpy((ci).key, (k)->data, sizeof((ci).key));			\
	memcpy((ci).salt, (i)->data + (salt_from), sizeof((ci).salt));	\
	memcpy((ci).iv, (i)->data + (iv_from), sizeof((ci).iv));	\
	memcpy((ci).rec_seq, (s), sizeof((ci).rec_seq));		\
} while (0)

/**
 * katls_gnutls_crypto_info() - a TLS 1.3 crypto_info for kTLS
 * @cipher: the session's cipher.
 * @key: the traffic key.
 * @iv: the 12-byte static IV.
 * @seq: the 8-byte big-endian record sequence number.
 * @out: zeroed, then filled in.
 *
 * As gnutls_record_get_state() returns them.  AES-GCM: salt = iv[0..3],
 * iv = iv[4..11]; ChaCha20-Poly1305: iv = the whole 12 bytes, no salt.
 *
 * Return: the struct size, -EOPNOTSUPP for a cipher kTLS does not take,
 * -EINVAL for wrong key or IV sizes (@out is then all zero).
 */
int katls_gnutls_crypto_info(gnutls_cipher_algorithm_t cipher,
			     const gnutls_datum_t *key,
			     const gnutls_datum_t *iv,
			     const unsigned char seq[8],
			     union katls_crypto_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!key || !iv || !key->data || !iv->data || iv->size != 12)
		return -EINVAL;

	switch (cipher) {
	case GNUTLS_CIPHER_AES_128_GCM:
		if (key->size != TLS_CIPHER_AES_GCM_128_KEY_SIZE)
			return -EINVAL;
		SET(out->aes128, TLS_CIPHER_AES_GCM_128, key, iv, seq, 0,
		    TLS_CIPHER_AES_GCM_128_SALT_SIZE);
		return sizeof(out->aes128);
	case GNUTLS_CIPHER_AES_256_GCM:
		if (key->size != TLS_CIPHER_AES_GCM_256_KEY_SIZE)
			return -EINVAL;
		SET(out->aes256, TLS_CIPHER_AES_GCM_256, key, iv, seq, 0,
		    TLS_CIPHER_AES_GCM_256_SALT_SIZE);
		return sizeof(out->aes256);
	case GNUTLS_CIPHER_CHACHA20_POLY1305:
		if (key->size != TLS_CIPHER_CHACHA20_POLY1305_KEY_SIZE)
			return -EINVAL;
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
			 union katls_crypto_info *out)
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
	ret = katls_gnutls_crypto_info(gnutls_cipher_get(s), &key, &iv, seq,
				       out);
	explicit_bzero(seq, sizeof(seq));
	return ret;
}

/**
 * katls_gnutls_export_keys() - both directions of an established session
 * @s: the session, handshake complete.
 * @k: filled in; all zero on failure.
 *
 * Return: 0, or a negative errno (-EOPNOTSUPP: a cipher kTLS does not
 * take; -EIO: GnuTLS has no record state, or the directions disagree).
 */
int katls_gnutls_export_keys(gnutls_session_t s, struct katls_keys *k)
{
	int tx, rx;

	memset(k, 0, sizeof(*k));
	tx = one_direction(s, 0, &k->tx);
	if (tx < 0)
		goto fail;
	rx = one_direction(s, 1, &k->rx);
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
	katls_keys_wipe(k);
	return tx;
}
