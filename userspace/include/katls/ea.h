/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katls/ea.h - RFC 9261 Exported Authenticators carrying TEE evidence
 * (post-handshake attestation, binding level 3; Documentation/binder.rst,
 * "Post-handshake attestation (binder ea v1)").
 *
 * The messages, exactly as RFC 9261 section 4 and 5 define them, built
 * from GnuTLS primitives (GnuTLS has no Exported Authenticator API):
 *
 *   authenticator request  CertificateRequest (13, from the server) or
 *                          ClientCertificateRequest (17, from the client):
 *                          certificate_request_context<0..255>,
 *                          extensions: signature_algorithms and an empty
 *                          cmw_attestation (draft-fossati-seat-expat)
 *   authenticator          Certificate (11) || CertificateVerify (15) ||
 *                          Finished (20), as TLS handshake messages; the
 *                          evidence is the cmw_attestation extension of
 *                          the leaf CertificateEntry
 *
 *   Handshake Context  = TLS-Exporter("EXPORTER-{client,server} authenticator
 *                        handshake context", "", Hash.length)
 *   Finished MAC Key   = TLS-Exporter("EXPORTER-{client,server} authenticator
 *                        finished key", "", Hash.length)
 *   CertificateVerify  = Sign(0x20 * 64 || "Exported Authenticator" || 0 ||
 *                        Hash(Handshake Context || request || Certificate))
 *   Finished           = HMAC(Finished MAC Key, Hash(Handshake Context ||
 *                        request || Certificate || CertificateVerify))
 *
 * The evidence's report data (binder ea v1):
 *
 *   bind        = TLS-Exporter("Attestation", certificate_request_context, 32)
 *   report_data = SHA-512("katls ea v1" || len8(ctx) || ctx ||
 *                         len16(spki) || spki || bind)
 *
 * Decoders are strict and never read past their input; every error has
 * its own code (enum katls_ea_err).  Nothing here touches the network:
 * katlsd's post.c moves the bytes in katls frames (katls_ea_frame_*).
 */
#ifndef KATLS_EA_H
#define KATLS_EA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

/* TLS handshake message types (RFC 8446 4, RFC 9261 8.1) */
#define KATLS_EA_HS_CERTIFICATE			11
#define KATLS_EA_HS_CERTIFICATE_REQUEST		13
#define KATLS_EA_HS_CERTIFICATE_VERIFY		15
#define KATLS_EA_HS_CLIENT_CERTIFICATE_REQUEST	17
#define KATLS_EA_HS_FINISHED			20

/* Extension types: signature_algorithms (RFC 8446), cmw_attestation. */
#define KATLS_EA_EXT_SIGNATURE_ALGORITHMS	13
/*
 * draft-fossati-seat-expat asks IANA for a code point ("TBD"); katls uses
 * one of the private-use range (RFC 8446 4.2) until then, next to its
 * handshake extension 0xff4b.
 */
#define KATLS_EA_EXT_CMW_ATTESTATION		0xff4c

#define KATLS_EA_CTX_LEN	32	/* the context of katls's requests */
#define KATLS_EA_CTX_MIN	16	/* the shortest context katls answers */
#define KATLS_EA_CTX_MAX	255
#define KATLS_EA_HASH_MAX	48	/* SHA-384 */
#define KATLS_EA_MAX_SCHEMES	16
/* cmw_data<1..2^16-1> inside extension_data<0..2^16-1> */
#define KATLS_EA_CMW_MAX	65533
#define KATLS_EA_CERT_MAX	16384	/* a leaf certificate */
#define KATLS_EA_SIG_MAX	1024
/* type+len, ctx, extensions: sigalgs (4 + 2 + 2n), cmw (4) */
#define KATLS_EA_REQUEST_MAX	(4 + 1 + KATLS_EA_CTX_MAX + 2 + 4 + 2 + \
				 2 * KATLS_EA_MAX_SCHEMES + 4)
/* Certificate, CertificateVerify, Finished around the bounds above */
#define KATLS_EA_AUTH_MAX	(4 + 1 + KATLS_EA_CTX_MAX + 3 + 3 + \
				 KATLS_EA_CERT_MAX + 2 + 6 + KATLS_EA_CMW_MAX + \
				 4 + 4 + KATLS_EA_SIG_MAX + 4 + KATLS_EA_HASH_MAX)

/* report data binding (draft-fossati-seat-expat, "Cryptographic Binding") */
#define KATLS_EA_BIND_LABEL	"Attestation"
#define KATLS_EA_BIND_LEN	32
#define KATLS_EA_REPORT_DATA_LEN 64

enum katls_ea_err {
	KATLS_EA_OK = 0,
	KATLS_EA_E_ARG = -1,		/* NULL pointer or bad caller input */
	KATLS_EA_E_NOSPACE = -2,	/* output buffer too small */
	KATLS_EA_E_TRUNCATED = -3,	/* input ends inside a field */
	KATLS_EA_E_TRAILING = -4,	/* bytes after the last field */
	KATLS_EA_E_MSG_TYPE = -5,	/* unexpected handshake message */
	KATLS_EA_E_CTX_LEN = -6,	/* context shorter than CTX_MIN */
	KATLS_EA_E_EXT_DUP = -7,	/* an extension twice */
	KATLS_EA_E_NO_SIGALGS = -8,	/* request without signature_algorithms */
	KATLS_EA_E_SIGALGS = -9,	/* malformed or over-long scheme list */
	KATLS_EA_E_NO_CMW_OFFER = -10,	/* request without cmw_attestation */
	KATLS_EA_E_CONTEXT = -11,	/* authenticator for another request */
	KATLS_EA_E_NO_CERT = -12,	/* Certificate without entries */
	KATLS_EA_E_CERT = -13,		/* leaf certificate does not parse */
	KATLS_EA_E_KEY = -14,		/* leaf key is not the expected key */
	KATLS_EA_E_EXT_UNSOLICITED = -15, /* extension that was not offered */
	KATLS_EA_E_NO_CMW = -16,	/* no evidence in the leaf entry */
	KATLS_EA_E_CMW_LEN = -17,	/* cmw_data empty or too long */
	KATLS_EA_E_SCHEME = -18,	/* scheme not offered or not the key's */
	KATLS_EA_E_SIGNATURE = -19,	/* CertificateVerify does not verify */
	KATLS_EA_E_FINISHED = -20,	/* Finished does not verify */
	KATLS_EA_E_EMPTY = -21,		/* an empty authenticator: refusal */
	KATLS_EA_E_CRYPTO = -22,	/* a GnuTLS primitive failed */
	KATLS_EA_E_TOO_BIG = -23,	/* a length over the bounds above */
	KATLS_EA_E_FRAME = -24,		/* bad katls frame header */
};

/** enum katls_ea_sender - who sends the authenticator (the attester) */
enum katls_ea_sender {
	KATLS_EA_FROM_CLIENT = 0,
	KATLS_EA_FROM_SERVER = 1,
};

/**
 * struct katls_ea_keys - RFC 9261 section 5.1 ("Authenticator Keys")
 * @hash: the authenticator hash (GNUTLS_MAC_SHA256 or GNUTLS_MAC_SHA384)
 * @hlen: its length; both values are @hlen bytes long
 */
struct katls_ea_keys {
	gnutls_mac_algorithm_t hash;
	size_t hlen;
	uint8_t hs_context[KATLS_EA_HASH_MAX];
	uint8_t finished_key[KATLS_EA_HASH_MAX];
};

/**
 * struct katls_ea_request - a decoded authenticator request
 * @type: KATLS_EA_HS_CERTIFICATE_REQUEST or _CLIENT_CERTIFICATE_REQUEST
 * @schemes: signature_algorithms, in the peer's order
 * @cmw_offered: the empty cmw_attestation extension was present
 */
struct katls_ea_request {
	uint8_t type;
	uint8_t ctx[KATLS_EA_CTX_MAX];
	size_t ctx_len;
	uint16_t schemes[KATLS_EA_MAX_SCHEMES];
	unsigned int nschemes;
	bool cmw_offered;
};

/**
 * struct katls_ea_verified - what a verified authenticator carried; the
 * pointers point into the caller's authenticator buffer
 */
struct katls_ea_verified {
	const uint8_t *cert_der;
	size_t cert_len;
	const uint8_t *cmw;
	size_t cmw_len;
	uint16_t scheme;
};

/* Both exporter values for authenticators sent by @who (empty context). */
int katls_ea_keys_from_session(gnutls_session_t s, enum katls_ea_sender who,
			       struct katls_ea_keys *k);
void katls_ea_keys_wipe(struct katls_ea_keys *k);

/*
 * A fresh request of @type: KATLS_EA_CTX_LEN random bytes of context,
 * every TLS 1.3 signature scheme katls verifies, cmw_attestation offered.
 */
int katls_ea_request_new(uint8_t type, struct katls_ea_request *r);
/* Returns the encoded length or a negative enum katls_ea_err. */
int katls_ea_request_encode(const struct katls_ea_request *r, uint8_t *out,
			    size_t cap);
/*
 * Strict decoder.  Unknown extensions are ignored (RFC 9261 5.2.1); a
 * request without signature_algorithms, a duplicate extension, a context
 * shorter than KATLS_EA_CTX_MIN or more than KATLS_EA_MAX_SCHEMES schemes
 * is refused.  A request without cmw_attestation decodes (cmw_offered
 * false); katls_ea_authenticator_create() refuses to answer it.
 */
int katls_ea_request_decode(const uint8_t *in, size_t len,
			    struct katls_ea_request *r);

/*
 * The authenticator for the request (raw bytes @req as sent, decoded @r)
 * with the leaf certificate @cert_der, whose private key is @key, and the
 * evidence @cmw in the leaf entry's cmw_attestation extension.  The
 * signature scheme is the one of the certificate's key, which must be in
 * the request.  On success *out is malloc'd (the caller frees it) and the
 * return value is 0.
 */
int katls_ea_authenticator_create(const struct katls_ea_keys *k,
				  const uint8_t *req, size_t req_len,
				  const struct katls_ea_request *r,
				  const uint8_t *cert_der, size_t cert_len,
				  gnutls_privkey_t key,
				  const uint8_t *cmw, size_t cmw_len,
				  uint8_t **out, size_t *out_len);

/*
 * Verify an authenticator against our own request (@req as we sent it,
 * @r decoded): the structure; the context echoed; the leaf's
 * SubjectPublicKeyInfo equal to @expected_spki (the key that authenticated
 * the handshake; NULL accepts any key: mutual attestation, where the
 * client's key is bound only through its evidence's report data, which
 * the caller checks); cmw_attestation present in the leaf only, no other
 * extension; the Finished MAC (constant time); the CertificateVerify
 * signature with a scheme we offered that fits the key.  Returns 0 and
 * fills @v, or a negative enum katls_ea_err (KATLS_EA_E_EMPTY for an
 * empty authenticator, the peer's refusal).
 */
int katls_ea_authenticator_verify(const struct katls_ea_keys *k,
				  const uint8_t *req, size_t req_len,
				  const struct katls_ea_request *r,
				  const uint8_t *auth, size_t auth_len,
				  const uint8_t *expected_spki,
				  size_t spki_len,
				  struct katls_ea_verified *v);

/*
 * The empty authenticator (RFC 9261 5.2.4: a refusal): a lone Finished,
 * HMAC(Finished MAC Key, Hash(Handshake Context || request)).  *out is
 * malloc'd.  katls_ea_authenticator_verify() reports it as
 * KATLS_EA_E_EMPTY.
 */
int katls_ea_empty_authenticator_create(const struct katls_ea_keys *k,
					const uint8_t *req, size_t req_len,
					uint8_t **out, size_t *out_len);

/* TLS-Exporter("Attestation", ctx, 32) of the established session. */
int katls_ea_bind_exporter(gnutls_session_t s, const uint8_t *ctx,
			   size_t ctx_len,
			   uint8_t out[KATLS_EA_BIND_LEN]);
/*
 * report_data = SHA-512("katls ea v1" || len8(ctx) || ctx || len16(spki) ||
 * spki || bind).  ctx 0..255 bytes, spki 1..65535.  Zeroed on error.
 */
int katls_ea_binder(const uint8_t *ctx, size_t ctx_len,
		    const uint8_t *spki, size_t spki_len,
		    const uint8_t bind[KATLS_EA_BIND_LEN],
		    uint8_t report_data[KATLS_EA_REPORT_DATA_LEN]);

/*
 * katls frames (Documentation/wire-format.rst, "Post-handshake frames"):
 * the request, the authenticator and the verifier's acceptance travel as
 * TLS application_data, each behind an 8-byte header: "kEA1", u8 frame
 * type, u24 body length.
 */
#define KATLS_EA_FRAME_HDR_LEN	8
#define KATLS_EA_FRAME_MAGIC	"kEA1"
#define KATLS_EA_FRAME_REQUEST	1
#define KATLS_EA_FRAME_AUTH	2
/* the verifier accepted the authenticator: body one zero byte */
#define KATLS_EA_FRAME_ACCEPT	3

void katls_ea_frame_hdr(uint8_t type, size_t len,
			uint8_t hdr[KATLS_EA_FRAME_HDR_LEN]);
/*
 * Check a header: magic, @want type, length 1..max.  Returns the body
 * length, or KATLS_EA_E_FRAME / KATLS_EA_E_MSG_TYPE / KATLS_EA_E_TOO_BIG.
 */
int katls_ea_frame_parse(const uint8_t hdr[KATLS_EA_FRAME_HDR_LEN],
			 uint8_t want, size_t max);

/* TLS SignatureScheme code point <-> GnuTLS; GNUTLS_SIGN_UNKNOWN / 0. */
gnutls_sign_algorithm_t katls_ea_scheme_to_gnutls(uint16_t scheme);
/* Static description of an error code. */
const char *katls_ea_strerror(int err);

#endif /* KATLS_EA_H */
