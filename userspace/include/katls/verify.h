/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katls/verify.h - evidence verification and policy evaluation.
 *
 * One entry point per evidence type (userspace/verify/<type>.c), a
 * dispatcher, and policies of reference values.  Everything here is
 * pure: no network, no global state beyond what the caller passes in.
 * Cryptography, X.509 and hashes come from GnuTLS/nettle.
 *
 * A verdict lists what was checked and what was not; "valid" never
 * stands alone.
 */
#ifndef KATLS_VERIFY_H
#define KATLS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <linux/katls.h>	/* enum katls_evidence_type */

#define KATLS_VERDICT_MAX_LINES	48
#define KATLS_VERDICT_LINE	160

/** struct katls_verdict - what was checked, what failed, what was not checked */
struct katls_verdict {
	bool valid;			/* evidence valid (not: policy) */
	unsigned int nchecks, nerrors;
	char checks[KATLS_VERDICT_MAX_LINES][KATLS_VERDICT_LINE];
	char errors[KATLS_VERDICT_MAX_LINES][KATLS_VERDICT_LINE];
};

void katls_verdict_init(struct katls_verdict *v);
/* Append a line ("checked: ..." / "not checked: ..."), printf-style. */
void katls_verdict_check(struct katls_verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append an error and clear v->valid. */
void katls_verdict_error(struct katls_verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** struct katls_claims - what the evidence says, common part first */
struct katls_claims {
	enum katls_evidence_type tee;
	unsigned int version;		/* quote / report / token version */
	uint8_t measurement[64];	/* MRTD, SNP MEASUREMENT, CCA RIM, sim */
	size_t measurement_len;
	uint8_t report_data[64];	/* REPORTDATA / challenge */
	bool debug;			/* TEE debug mode enabled */
	uint8_t evidence_digest[32];	/* SHA-256 over the whole evidence */
	char tcb_status[32];		/* "UpToDate", ..., or "" if unknown */

	/* Intel TDX */
	struct {
		uint8_t rtmr[4][48];
		uint8_t mrconfigid[48], mrowner[48], mrownerconfig[48];
		uint8_t mrseam[48], mrsignerseam[48];
		uint64_t td_attributes, xfam;
		uint8_t tee_tcb_svn[16];
		uint8_t fmspc[6];
		bool fmspc_valid;
		uint64_t seam_attributes;
		unsigned int body_type;		/* 2 TDX 1.0, 3 TDX 1.5 */
		uint8_t tee_tcb_svn2[16];	/* TDX 1.5 only */
		uint8_t mrservicetd[48];	/* TDX 1.5 only */
		/* the quoting enclave (QE report) */
		uint8_t qe_mrsigner[32];
		uint16_t qe_isvprodid, qe_isvsvn;
	} tdx;

	/* AMD SEV-SNP */
	struct {
		uint64_t policy;
		uint32_t vmpl, guest_svn, signing_key;	/* 0 VCEK, 1 VLEK */
		uint64_t current_tcb, reported_tcb, committed_tcb, launch_tcb;
		uint8_t host_data[32];
		uint8_t id_key_digest[48], author_key_digest[48];
		uint8_t family_id[16], image_id[16];
		uint8_t chip_id[64];
		uint8_t product;		/* 0 unknown, 1 Milan, 2 Genoa, 3 Turin */
		uint64_t platform_info;
		bool author_key_en, mask_chip_key;
		uint8_t report_id[32], report_id_ma[32];
		uint8_t cpuid_fam, cpuid_mod, cpuid_step;	/* v3 and later */
		uint8_t current_version[3], committed_version[3]; /* major.minor.build */
		uint64_t launch_mit_vector, current_mit_vector;	/* v5 and later */
	} snp;

	/* Arm CCA */
	struct {
		uint8_t rem[4][64];
		size_t rem_len;
		uint8_t personalization[64];
		char hash_alg[16];
		char platform_profile[64];
		uint8_t platform_impl_id[64];
		size_t platform_impl_id_len;
		uint32_t platform_lifecycle;
		uint8_t platform_instance_id[33];
		size_t platform_instance_id_len;
		char platform_hash_alg[16];
		char verification_service[128];	/* "" if absent */
		unsigned int platform_sw_components;
		uint8_t realm_pub_key[128];
		size_t realm_pub_key_len;
		char realm_pub_key_hash_alg[16];
	} cca;

	/* simulated provider (tests only) */
	struct {
		uint16_t flags;
	} sim;
};

/** struct katls_verify_opts - inputs beyond the evidence itself */
struct katls_verify_opts {
	const uint8_t *aux;		/* configfs-tsm auxblob (SNP cert table) */
	size_t aux_len;
	const char *certs_dir;		/* extra certificates (VCEK, ASK, ...) */
	const char *collateral_dir;	/* TCB Info, QE Identity, CRLs */
	const char *roots_dir;		/* pinned roots; NULL: built-in default */
	const char *cpak_file;		/* CCA platform key (PEM) */
	time_t at;			/* validity time; 0: now */
	const uint8_t *expected_report_data;	/* 64 bytes, or NULL */
};

/*
 * Verify one piece of evidence.  type KATLS_EVIDENCE_NONE means detect it
 * from the bytes.  Fills *c with every claim it could parse (even when
 * invalid) and *v with the checks made.  Returns 0 if the evidence is
 * valid (signatures, chain, expected report data), -1 otherwise.  Never
 * reads past len.
 */
int katls_verify_evidence(enum katls_evidence_type type,
			  const uint8_t *ev, size_t len,
			  const struct katls_verify_opts *o,
			  struct katls_claims *c, struct katls_verdict *v);

/* Per-type back ends, same contract; called by the dispatcher. */
int katls_verify_tdx(const uint8_t *ev, size_t len,
		     const struct katls_verify_opts *o,
		     struct katls_claims *c, struct katls_verdict *v);
int katls_verify_snp(const uint8_t *ev, size_t len,
		     const struct katls_verify_opts *o,
		     struct katls_claims *c, struct katls_verdict *v);
int katls_verify_cca(const uint8_t *ev, size_t len,
		     const struct katls_verify_opts *o,
		     struct katls_claims *c, struct katls_verdict *v);
int katls_verify_sim(const uint8_t *ev, size_t len,
		     const struct katls_verify_opts *o,
		     struct katls_claims *c, struct katls_verdict *v);

/* Guess the type from the bytes; KATLS_EVIDENCE_NONE if unknown. */
enum katls_evidence_type katls_evidence_detect(const uint8_t *ev, size_t len);
const char *katls_evidence_name(enum katls_evidence_type t);	/* "tdx", ... */

/* ---- policies ---- */

struct katls_policy;		/* one named policy */
struct katls_policy_set;	/* all policies of a directory */

/*
 * Load one policy file / every "*.policy" file of a directory.  On error
 * returns -1 and writes "FILE:LINE: message" into err.  A policy set with
 * an error is never partially used.
 */
int katls_policy_load_file(const char *path, struct katls_policy **out,
			   char *err, size_t errlen);
int katls_policy_load_dir(const char *dir, struct katls_policy_set **out,
			  char *err, size_t errlen);
const struct katls_policy *
katls_policy_find(const struct katls_policy_set *s, const char *name);
const char *katls_policy_name(const struct katls_policy *p);
/* May this policy accept evidence of type t at all? */
bool katls_policy_allows(const struct katls_policy *p,
			 enum katls_evidence_type t);
/*
 * May a client under this policy accept the server's key on the evidence
 * alone ("evidence_bound_key allow"), without a trust store vouching for
 * the certificate?  false for NULL.  Such a policy always pins the
 * workload (checked when it is loaded).
 */
bool katls_policy_evidence_bound_key(const struct katls_policy *p);

/**
 * enum katls_policy_binding - "binding = intra | post | both"
 * (Documentation/policy.rst; issue 14 item 1)
 * @KATLS_POLICY_BINDING_INTRA: binder v1 in the handshake (level 2), the
 *	default
 * @KATLS_POLICY_BINDING_POST: an RFC 9261 Exported Authenticator after
 *	the handshake, before any application byte (level 3)
 * @KATLS_POLICY_BINDING_BOTH: both, each with its own evidence
 */
enum katls_policy_binding {
	KATLS_POLICY_BINDING_INTRA = 0,
	KATLS_POLICY_BINDING_POST,
	KATLS_POLICY_BINDING_BOTH,
};
/* The policy's binding; KATLS_POLICY_BINDING_INTRA for NULL. */
enum katls_policy_binding katls_policy_binding(const struct katls_policy *p);
/* "intra", "post", "both", or NULL for another value. */
const char *katls_policy_binding_name(enum katls_policy_binding b);
/*
 * issue 14 item 3, mutual attestation (Documentation/policy.rst):
 * "require_client_evidence POLICY" (server role): the client must attest
 * after the handshake, and its evidence is judged by the policy named
 * POLICY of the same set; NULL when off (the default, or "none").
 * "client_attest allow" (client role): consent to present this host's
 * evidence when a server asks for it; false (deny) by default and for
 * NULL.
 */
const char *katls_policy_client_evidence(const struct katls_policy *p);
bool katls_policy_client_attest(const struct katls_policy *p);
/*
 * The policy's max_connection_age in milliseconds (issue 14 item 7,
 * Documentation/policy.rst); 0 for none (no limit, the default) or NULL.
 * katlsd passes it to the kernel with the verdict (KATLS_A_MAX_AGE_MS).
 */
uint32_t katls_policy_max_age_ms(const struct katls_policy *p);
void katls_policy_free(struct katls_policy *p);
void katls_policy_set_free(struct katls_policy_set *s);

/*
 * Evaluate claims of valid evidence against a policy.  Appends a line per
 * rule to v (checks or errors).  Returns 0 if every rule holds.
 */
int katls_policy_eval(const struct katls_policy *p,
		      const struct katls_claims *c, struct katls_verdict *v);

#endif /* KATLS_VERIFY_H */
