/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katls/binder.h - the katls binder: report data that ties TEE evidence
 * to one TLS 1.3 handshake (Documentation/binder.rst).
 *
 * Binder v1 (intra-handshake, level 2), rooted in the client handshake
 * traffic secret htsc:
 *
 *   ik          = HKDF-Expand-Label(htsc, "katls binder", "", Hash.length)
 *   cb          = HKDF-Expand-Label(ik, "exporter", Hash(nonce), Hash.length)
 *   report_data = SHA-512("katls binder v1" || len16(nonce) || nonce ||
 *                         len16(cb) || cb || len16(spki) || spki)
 *
 * Post-handshake variant (level 3):
 *
 *   report_data = SHA-512("katls post v1" || exporter || spki)
 *   exporter    = TLS-Exporter("katls attestation", nonce, 64)
 *
 * Both roles call the same functions: the attester to build the configfs-tsm
 * inblob, the verifier to recompute the value it expects in the evidence.
 */
#ifndef KATLS_BINDER_H
#define KATLS_BINDER_H

#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>

#define KATLS_BINDER_NONCE_LEN		32
#define KATLS_REPORT_DATA_LEN		64
#define KATLS_POST_EXPORTER_LEN		64
#define KATLS_POST_EXPORTER_LABEL	"katls attestation"

/*
 * HKDF-Expand-Label(secret, label, context, out_len) of RFC 8446 §7.1
 * (label gets the "tls13 " prefix).  hash is GNUTLS_MAC_SHA256 or
 * GNUTLS_MAC_SHA384.  Returns 0 or -EINVAL / -EIO.
 */
int katls_hkdf_expand_label(gnutls_mac_algorithm_t hash,
			    const uint8_t *secret, size_t secret_len,
			    const char *label,
			    const uint8_t *context, size_t context_len,
			    uint8_t *out, size_t out_len);

/*
 * Binder v1.  hash is the cipher suite's hash (GNUTLS_MAC_SHA256 or
 * GNUTLS_MAC_SHA384) and htsc_len must equal its output length.  spki is
 * the DER SubjectPublicKeyInfo of the server certificate (1..65535 bytes).
 * Intermediate secrets are wiped.  Returns 0, or -EINVAL on a bad
 * argument, -EIO if GnuTLS fails; report_data is zeroed on error.
 */
int katls_binder_v1(gnutls_mac_algorithm_t hash,
		    const uint8_t *htsc, size_t htsc_len,
		    const uint8_t nonce[KATLS_BINDER_NONCE_LEN],
		    const uint8_t *spki, size_t spki_len,
		    uint8_t report_data[KATLS_REPORT_DATA_LEN]);

/*
 * Post-handshake variant.  exporter is the 64-byte value of
 * gnutls_prf_rfc5705(session, strlen(KATLS_POST_EXPORTER_LABEL),
 * KATLS_POST_EXPORTER_LABEL, 32, nonce, 64, exporter).  Same return
 * convention as katls_binder_v1().
 */
int katls_binder_post_v1(const uint8_t exporter[KATLS_POST_EXPORTER_LEN],
			 const uint8_t *spki, size_t spki_len,
			 uint8_t report_data[KATLS_REPORT_DATA_LEN]);

/*
 * Constant-time check of the report data found in evidence against the
 * value recomputed locally.  Returns 0 if equal, -1 otherwise.
 */
int katls_binder_check(const uint8_t expected[KATLS_REPORT_DATA_LEN],
		       const uint8_t *found, size_t found_len);

/*
 * The DER SubjectPublicKeyInfo of a DER X.509 certificate, as used for
 * "spki" above.  On success returns 0 and *spki holds memory the caller
 * releases with gnutls_free(spki->data).  Returns -EINVAL if the
 * certificate does not parse, -EIO on other GnuTLS errors.
 */
int katls_spki_from_cert_der(const uint8_t *der, size_t der_len,
			     gnutls_datum_t *spki);

#endif /* KATLS_BINDER_H */
