/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katls/gnutls.h - the GnuTLS glue every katls TLS peer shares
 * (libkatlsagent, userspace/agent/gnutls.c): katlsd, the attack tools,
 * the benchmarks and the tests.
 *
 *	priority	TLS 1.3 only, no session tickets (nothing may arrive
 *			after Finished that kTLS would not understand), only
 *			the AEADs kTLS implements
 *	PRF		the handshake hash as the MAC the binder's HKDF uses
 *	keylog		the client handshake traffic secret (binder v1)
 *	extension	the katls TLS extension (katls/ext.h), registered for
 *			ClientHello and EncryptedExtensions
 *	key export	TLS 1.3 traffic keys into struct tls12_crypto_info_*
 *			(union katls_crypto_info, katls/agent.h), wiped on
 *			every failure
 *
 * Error convention: negative errno.
 */
#ifndef KATLS_GNUTLS_H
#define KATLS_GNUTLS_H

#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include <katls/agent.h>

/* The keylog label of the secret binder v1 binds to. */
#define KATLS_GNUTLS_HTSC_LABEL	"CLIENT_HANDSHAKE_TRAFFIC_SECRET"

/* The longest handshake secret (SHA-384). */
#define KATLS_GNUTLS_SECRET_MAX	48

/* What katlsd negotiates: every AEAD kTLS can take over. */
#define KATLS_GNUTLS_PRIORITY	"NORMAL:-VERS-ALL:+VERS-TLS1.3:%NO_TICKETS:" \
				"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:" \
				"+CHACHA20-POLY1305"

/* A buffer of this size holds any katls_gnutls_priority() result. */
#define KATLS_GNUTLS_PRIORITY_MAX	256

int katls_gnutls_priority(char *buf, size_t cap, const char *cipher,
			  const char *extra);
gnutls_mac_algorithm_t katls_gnutls_prf_mac(gnutls_session_t s, size_t *len);
int katls_gnutls_keylog_htsc(const char *label, const gnutls_datum_t *secret,
			     uint8_t *out, size_t cap, size_t *out_len);
int katls_gnutls_ext_register(gnutls_session_t s, gnutls_ext_recv_func recv,
			      gnutls_ext_send_func send);
int katls_gnutls_crypto_info(gnutls_cipher_algorithm_t cipher,
			     const gnutls_datum_t *key,
			     const gnutls_datum_t *iv,
			     const unsigned char seq[8],
			     union katls_crypto_info *out);
int katls_gnutls_export_keys(gnutls_session_t s, struct katls_keys *k);

#endif /* KATLS_GNUTLS_H */
