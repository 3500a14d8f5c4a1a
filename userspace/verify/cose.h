/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cose.h - strict CBOR loading and COSE_Sign1 verification (cose.c), used
 * by the Arm CCA token verifier (not installed).
 */
#ifndef KATLS_VERIFY_COSE_H
#define KATLS_VERIFY_COSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cbor.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <katls/verify.h>

/* Limits: generous for real tokens (about 1.2 KiB), small for attackers. */
#define KV_CBOR_MAX_DEPTH	16
#define KV_CBOR_MAP_MAX		64	/* entries in a header or claims map */

/* Bytes inside a CBOR item (not owned). */
struct kv_bytes {
	const uint8_t *p;
	size_t n;
};

/* ---- strict CBOR loading and item accessors ---- */

/*
 * Load p[0..len) as exactly one well-formed, definite-length CBOR data
 * item nested at most KV_CBOR_MAX_DEPTH deep.  NULL with *why on error;
 * the caller cbor_decref()s the item.
 */
cbor_item_t *kv_cbor_load_strict(const uint8_t *p, size_t len,
				 const char **why);
/* An unsigned or negative integer that fits in int64_t. */
bool kv_cbor_i64(const cbor_item_t *it, int64_t *out);
/* A map of at most KV_CBOR_MAP_MAX entries whose keys are unique integers. */
bool kv_cbor_map_ok(const cbor_item_t *map);
/* Value for an integer key of a map that passed kv_cbor_map_ok(), or NULL. */
const cbor_item_t *kv_cbor_map_get(const cbor_item_t *map, int64_t key);
/* A definite byte string (it may be NULL: false). */
bool kv_cbor_bstr(const cbor_item_t *it, struct kv_bytes *b);
bool kv_cbor_map_bstr(const cbor_item_t *map, int64_t key,
		      struct kv_bytes *b);
/* A text value: printable ASCII, not empty, shorter than bufsz. */
bool kv_cbor_map_tstr(const cbor_item_t *map, int64_t key, char *buf,
		      size_t bufsz);

/* ---- COSE_Sign1 ---- */

struct kv_cose_alg {
	int64_t id;
	const char *name;
	gnutls_ecc_curve_t curve;
	size_t coord_len;	/* bytes of r, s, x, y */
	gnutls_sign_algorithm_t sign;
	int cose_crv;		/* COSE_Key crv value */
};

struct kv_cose_sign1 {
	const char *name;		/* for messages: "<name> token: ..." */
	cbor_item_t *msg;		/* owns the handles below */
	cbor_item_t *claims_doc;	/* decoded payload */
	const cbor_item_t *claims;	/* claims map (inside claims_doc) */
	struct kv_bytes prot, payload, sig;
	const struct kv_cose_alg *alg;
};

/*
 * Parse COSE_Sign1_Tagged from in into s (s->name set by the caller, for
 * the messages): a supported alg and no crit in the protected header, a
 * payload that is a map of unique integer keys.  0, or -1 with an error
 * in v.  kv_cose_sign1_free() in either case.
 */
int kv_cose_sign1_parse(const struct kv_bytes *in, struct kv_cose_sign1 *s,
			struct katls_verdict *v);
void kv_cose_sign1_free(struct kv_cose_sign1 *s);
/* Verify s's signature with key.  NULL if good, or why not. */
const char *kv_cose_verify(const struct kv_cose_sign1 *s,
			   gnutls_pubkey_t key);
/* Import an uncompressed SEC1 point or a COSE_Key EC2 key.  NULL or why. */
const char *kv_cose_ec_key_import(gnutls_pubkey_t key,
				  const struct kv_bytes *rak);

#endif /* KATLS_VERIFY_COSE_H */
