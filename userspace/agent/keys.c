// SPDX-License-Identifier: GPL-2.0
/*
 * keys.c - the kTLS keys of katls/agent.h: their size, and wiping them.
 * Apart from netlink.c so that a GnuTLS-only user needs no libnl.
 */
#include <string.h>

#include <katls/agent.h>

/**
 * katls_keys_wipe() - zero both directions' keys
 * @k: the keys; may be NULL.
 */
void katls_keys_wipe(struct katls_keys *k)
{
	if (k)
		explicit_bzero(k, sizeof(*k));
}

/**
 * katls_agent_done_wipe() - zero a DONE (its keys above all)
 * @d: the DONE; may be NULL.
 */
void katls_agent_done_wipe(struct katls_agent_done *d)
{
	if (d)
		explicit_bzero(d, sizeof(*d));
}

/**
 * katls_crypto_info_len() - size of a TLS 1.3 crypto_info by its cipher
 * @ci: the crypto_info.
 *
 * Return: sizeof the tls12_crypto_info_* struct of @ci's cipher_type,
 * or 0 if @ci is not a TLS 1.3 key for AES-128-GCM, AES-256-GCM or
 * ChaCha20-Poly1305 (the ciphers katls hands over).
 */
size_t katls_crypto_info_len(const union katls_crypto_info *ci)
{
	if (ci->info.version != TLS_1_3_VERSION)
		return 0;
	switch (ci->info.cipher_type) {
	case TLS_CIPHER_AES_GCM_128:
		return sizeof(ci->aes128);
	case TLS_CIPHER_AES_GCM_256:
		return sizeof(ci->aes256);
	case TLS_CIPHER_CHACHA20_POLY1305:
		return sizeof(ci->chacha);
	default:
		return 0;
	}
}
