/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katls/ext.h - the katls TLS 1.3 extension (Documentation/wire-format.rst).
 *
 * One extension type from the private-use range, carried in two messages:
 *
 *   ClientHello          KatlsAttestationRequest: version, binding mode,
 *                        32-byte nonce, evidence types the client accepts
 *   EncryptedExtensions  KatlsEvidence: a CMW-style record (media type,
 *                        evidence, auxiliary data); version 2 adds the
 *                        batch proof (leaf index, tree size, audit path)
 *                        of binder v1 batch mode (katls/merkle.h)
 *
 * The server answers only a ClientHello that carried the extension (RFC 8446
 * §4.2); EncryptedExtensions are covered by the server's CertificateVerify.
 * Decoders are strict: every malformed input gets its own error code, no
 * trailing bytes, every length bounded.  They never read past len.
 */
#ifndef KATLS_EXT_H
#define KATLS_EXT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/katls.h>	/* enum katls_evidence_type */
#include <katls/merkle.h>	/* struct katls_merkle_proof */

/* RFC 8446 §4.2: 0xff00..0xffff is reserved for private use. */
#define KATLS_EXT_TYPE			0xff4b	/* "K" */
#define KATLS_EXT_NAME			"katls_attestation"

#define KATLS_EXT_VERSION		1
/*
 * KatlsEvidence version 2: the evidence vouches for a batch of 2 or more
 * binders and the record carries this handshake's proof.  A batch of one
 * is always sent as version 1 (report data = the binder, as before
 * batching); version 1 decoders refuse version 2 (unknown version).
 */
#define KATLS_EXT_EVIDENCE_VERSION_BATCH 2
#define KATLS_EXT_NONCE_LEN		32
#define KATLS_EXT_MAX_TYPES		16
#define KATLS_EXT_MEDIA_MAX		127
#define KATLS_EXT_EVIDENCE_MAX		32768	/* configfs-tsm outblob cap */
#define KATLS_EXT_AUX_MAX		65536
/* An extension body is opaque extension_data<0..2^16-1>. */
#define KATLS_EXT_BODY_MAX		65535
/* version, mode, nonce, types length, types */
#define KATLS_EXT_REQUEST_MAX	(1 + 1 + KATLS_EXT_NONCE_LEN + 1 + \
				 2 * KATLS_EXT_MAX_TYPES)

/* Binding mode requested by the client. */
enum katls_ext_mode {
	KATLS_EXT_MODE_BINDER_V1 = 1,	/* intra-handshake, level 2 */
	KATLS_EXT_MODE_POST_V1 = 2,	/* post-handshake, level 3 */
	KATLS_EXT_MODE_BOTH_V1 = 3,	/* binder v1, then post-handshake */
};

enum katls_ext_err {
	KATLS_EXT_OK = 0,
	KATLS_EXT_E_ARG = -1,		/* NULL pointer or bad caller input */
	KATLS_EXT_E_NOSPACE = -2,	/* output buffer too small */
	KATLS_EXT_E_TRUNCATED = -3,	/* input ends inside a field */
	KATLS_EXT_E_TRAILING = -4,	/* bytes after the last field */
	KATLS_EXT_E_VERSION = -5,	/* unknown version */
	KATLS_EXT_E_MODE = -6,		/* unknown binding mode */
	KATLS_EXT_E_TYPES_LEN = -7,	/* types list empty, odd or too long */
	KATLS_EXT_E_TYPE = -8,		/* type value 0 (unknown values are kept) */
	KATLS_EXT_E_TYPE_DUP = -9,	/* a type listed twice */
	KATLS_EXT_E_MEDIA_LEN = -10,	/* media type empty or too long */
	KATLS_EXT_E_MEDIA_CHARS = -11,	/* media type not printable ASCII */
	KATLS_EXT_E_MEDIA_UNKNOWN = -12, /* media type of no known evidence */
	KATLS_EXT_E_EVIDENCE_LEN = -13,	/* evidence empty or over 32 KiB */
	KATLS_EXT_E_AUX_LEN = -14,	/* aux over 64 KiB */
	KATLS_EXT_E_TOO_BIG = -15,	/* record over 65535 bytes */
	/* version 2 (batch) records */
	KATLS_EXT_E_BATCH_SIZE = -16,	/* tree size 0 or over the cap */
	KATLS_EXT_E_BATCH_OF_ONE = -17,	/* tree size 1: must be a version 1 record */
	KATLS_EXT_E_BATCH_INDEX = -18,	/* leaf index not below tree size */
	KATLS_EXT_E_PATH_LEN = -19,	/* path length not a multiple of 64 */
	KATLS_EXT_E_PATH_SHORT = -20,	/* fewer hashes than (index, size) need */
	KATLS_EXT_E_PATH_LONG = -21,	/* more hashes than (index, size) need */
};

/** struct katls_ext_request - ClientHello contents */
struct katls_ext_request {
	uint8_t version;			/* KATLS_EXT_VERSION */
	uint8_t mode;				/* enum katls_ext_mode */
	uint8_t nonce[KATLS_EXT_NONCE_LEN];
	unsigned int ntypes;			/* 1..KATLS_EXT_MAX_TYPES */
	uint16_t types[KATLS_EXT_MAX_TYPES];	/* preference order */
};

/**
 * struct katls_ext_evidence - EncryptedExtensions contents.
 * After decoding, the pointers point into the caller's input buffer;
 * the proof is copied.  A version 1 record decodes with the proof of a
 * batch of one (index 0, size 1, no path).
 */
struct katls_ext_evidence {
	uint8_t version;			/* 1 (single) or 2 (batch) */
	enum katls_evidence_type type;		/* from the media type */
	char media_type[KATLS_EXT_MEDIA_MAX + 1];
	const uint8_t *evidence;
	size_t evidence_len;			/* 1..KATLS_EXT_EVIDENCE_MAX */
	const uint8_t *aux;
	size_t aux_len;				/* 0..KATLS_EXT_AUX_MAX */
	struct katls_merkle_proof proof;	/* tree_size 1 for version 1 */
};

/*
 * Encoders write into out (capacity cap) and return the number of bytes
 * written, or a negative enum katls_ext_err.  The request encoder checks
 * r with the same rules as the decoder.
 */
int katls_ext_request_encode(const struct katls_ext_request *r,
			     uint8_t *out, size_t cap);
int katls_ext_request_decode(const uint8_t *in, size_t len,
			     struct katls_ext_request *r);
/* True if r lists evidence type t. */
int katls_ext_request_accepts(const struct katls_ext_request *r,
			      enum katls_evidence_type t);

/*
 * Encode evidence of type t (the media type comes from t).  Returns the
 * length or a negative enum katls_ext_err.
 */
int katls_ext_evidence_encode(enum katls_evidence_type t,
			      const uint8_t *ev, size_t ev_len,
			      const uint8_t *aux, size_t aux_len,
			      uint8_t *out, size_t cap);
/* Encoded size of such a record, or 0 if the lengths are out of bounds. */
size_t katls_ext_evidence_size(enum katls_evidence_type t, size_t ev_len,
			       size_t aux_len);
int katls_ext_evidence_decode(const uint8_t *in, size_t len,
			      struct katls_ext_evidence *e);

/*
 * The same with the batch proof p: a version 1 record if p is NULL or a
 * batch of one (tree size 1, then index 0 and no path), else version 2.
 * The proof is checked with the decoder's rules (no hashing).  Returns
 * the length or a negative enum katls_ext_err.
 */
int katls_ext_evidence_encode_batch(enum katls_evidence_type t,
				    const uint8_t *ev, size_t ev_len,
				    const uint8_t *aux, size_t aux_len,
				    const struct katls_merkle_proof *p,
				    uint8_t *out, size_t cap);
/* Encoded size of such a record, or 0 if out of bounds or p is bad. */
size_t katls_ext_evidence_size_batch(enum katls_evidence_type t,
				     size_t ev_len, size_t aux_len,
				     const struct katls_merkle_proof *p);

/* Media type of an evidence type ("application/vnd.katls.sim"), or NULL. */
const char *katls_ext_media_type(enum katls_evidence_type t);
/* Static description of an error code. */
const char *katls_ext_strerror(int err);

#endif /* KATLS_EXT_H */
