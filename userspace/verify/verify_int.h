/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verify_int.h - helpers shared by the verifier back ends (not installed).
 *
 * Everything that touches a signature, a certificate or a hash goes
 * through GnuTLS; the helpers here only move bytes and report.
 */
#ifndef KATLS_VERIFY_INT_H
#define KATLS_VERIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
#include <katls/verify.h>

/* Largest file any verifier reads (evidence, certificate, CRL, policy). */
#define KV_MAX_FILE	(1u << 20)

/* PEM text of every data/roots .pem file, generated at build time. */
extern const char kv_builtin_roots_pem[];

static inline uint16_t kv_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t kv_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t kv_le64(const uint8_t *p)
{
	return (uint64_t)kv_le32(p) | (uint64_t)kv_le32(p + 4) << 32;
}

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void kv_hex(char *out, const uint8_t *p, size_t n);
bool kv_all_zero(const uint8_t *p, size_t n);

/* Whole file into a malloc'd buffer (at most max bytes).  0 or -errno. */
int kv_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);

/* A growable list of certificates we own. */
struct kv_certs {
	gnutls_x509_crt_t *crt;
	unsigned int n, cap;
};

void kv_certs_free(struct kv_certs *l);
/* Append (takes ownership).  0 or -1. */
int kv_certs_add(struct kv_certs *l, gnutls_x509_crt_t c);
/* Import PEM (any number) or one DER certificate from memory; 0 or -1. */
int kv_certs_import(struct kv_certs *l, const uint8_t *p, size_t n);
/* Every regular file of dir ending in .pem/.crt/.cer/.der; 0 or -1. */
int kv_certs_load_dir(struct kv_certs *l, const char *dir, char *err,
		      size_t errlen);
/* Pinned roots and pinned intermediates: opts->roots_dir or built-in. */
int kv_roots_load(const struct katls_verify_opts *o, struct kv_certs *l,
		  char *err, size_t errlen);

bool kv_crt_self_signed_name(gnutls_x509_crt_t c);
bool kv_crt_equal(gnutls_x509_crt_t a, gnutls_x509_crt_t b);
/* Subject CN into buf ("" if none). */
void kv_crt_cn(gnutls_x509_crt_t c, char *buf, size_t len);
/* Does issuer's key verify c's signature (and is the issuer DN right)? */
bool kv_crt_signed_by(gnutls_x509_crt_t c, gnutls_x509_crt_t issuer);
/* Is c valid at time at?  Writes a reason into why otherwise. */
bool kv_crt_valid_at(gnutls_x509_crt_t c, time_t at, char *why,
		     size_t whylen);

/*
 * ECDSA signature given as big-endian r and s of n bytes each, over data,
 * with the hash of alg.  true only if GnuTLS says the signature verifies.
 */
bool kv_ecdsa_verify(gnutls_pubkey_t key, gnutls_sign_algorithm_t alg,
		     const uint8_t *data, size_t len,
		     const uint8_t *r, const uint8_t *s, size_t n);

/*
 * CRLs of opts->collateral_dir (*.crl, *.pem with X509 CRL blocks, DER)
 * against a chain (chain[0] leaf ... chain[n-1] root).  Appends checks and
 * errors.  Returns the number of CRLs that applied to the chain; if
 * issuers is not NULL, bit i is set when a CRL issued by chain[i] applied.
 */
int kv_crl_check(const struct katls_verify_opts *o,
		 gnutls_x509_crt_t *chain, unsigned int n, time_t at,
		 struct katls_verdict *v, unsigned int *issuers);

time_t kv_opts_time(const struct katls_verify_opts *o);
const char *kv_time_str(time_t t, char *buf, size_t len);

/* ---- parsers exported for tests and fuzzers ---- */

/* One entry of the SEV-SNP GHCB certificate table (auxblob). */
struct kv_snp_cert {
	uint8_t guid[16];
	uint32_t offset, len;
};

#define KV_SNP_CERTS_MAX	32

/*
 * Parse the certificate table.  Entries up to the all-zero terminator;
 * every entry must lie inside aux.  Returns the number of entries (0 for
 * an empty table) or -1 with a message in err.
 */
int kv_snp_cert_table_parse(const uint8_t *aux, size_t len,
			    struct kv_snp_cert *out, size_t max,
			    char *err, size_t errlen);

extern const uint8_t kv_guid_vcek[16], kv_guid_vlek[16], kv_guid_ask[16],
		     kv_guid_ark[16];

/* Parse a policy from memory (the file parser uses it); see policy_parse.c. */
int kv_policy_parse(const char *file, const char *text, size_t len,
		    struct katls_policy **out, char *err, size_t errlen);

/*
 * Minimal DER reader used on certificate extension values.  Reads one
 * TLV at *p (bounded by end); definite lengths only.  0 or -1.
 */
int kv_der_next(const uint8_t **p, const uint8_t *end, uint8_t *tag,
		const uint8_t **val, size_t *vlen);
/* DER INTEGER (non-negative, fits in 32 bits) of a value; 0 or -1. */
int kv_der_uint(const uint8_t *val, size_t vlen, uint32_t *out);


/* ---- Intel TDX: PCK certificate extensions and TCB collateral ---- */

struct kv_sgx_ext {
	bool have_fmspc, have_pceid, have_tcb;
	uint8_t fmspc[6], pceid[2];
	uint8_t comp[16];		/* SGX TCB component SVNs 1..16 */
	uint32_t pcesvn;
};

/* Parse the SGX extension (1.2.840.113741.1.13.1) of a PCK certificate. */
int kv_sgx_ext_parse(gnutls_x509_crt_t pck, struct kv_sgx_ext *e);

struct kv_tdx_tcb_in {
	const uint8_t *tee_tcb_svn;	/* 16 bytes of the TD body */
	const uint8_t *mrsignerseam;	/* 48 */
	uint64_t seam_attributes;
	const uint8_t *qe_report;	/* 384-byte SGX report of the QE */
	const struct kv_sgx_ext *ext;
};

/*
 * TCB Info (tcb_info.json) and QE Identity (qe_identity.json) from
 * o->collateral_dir, signed by "Intel SGX TCB Signing" (a certificate
 * file in the same directory) under a pinned root.  Sets c->tcb_status.
 */
/* Evaluation alone (no signature, no dates), for tests and fuzzing. */
int kv_tdx_tcb_eval(const char *tcb_json, size_t tlen, const char *qe_json,
		    size_t qlen, const struct kv_tdx_tcb_in *in,
		    struct katls_claims *c, struct katls_verdict *v);
void kv_tdx_collateral(const struct katls_verify_opts *o,
		       const struct kv_tdx_tcb_in *in, time_t at,
		       struct katls_claims *c, struct katls_verdict *v);

#endif /* KATLS_VERIFY_INT_H */
