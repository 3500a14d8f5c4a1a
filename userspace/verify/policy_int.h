/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy_int.h - the policy object shared by the parser (policy_parse.c)
 * and the evaluator (policy_eval.c); not installed.
 */
#ifndef KATLS_VERIFY_POLICY_INT_H
#define KATLS_VERIFY_POLICY_INT_H

#include "verify_int.h"

#define POL_MAX_VALUES	32

struct hexset {
	unsigned int n;
	int line;		/* first line that set it, 0 if unset */
	size_t len[POL_MAX_VALUES];
	uint8_t val[POL_MAX_VALUES][64];
};

struct strset {
	unsigned int n;
	int line;
	char val[POL_MAX_VALUES][64];
};

struct numset {
	unsigned int n;
	int line;
	uint32_t val[POL_MAX_VALUES];
};

struct minval {
	int line;
	uint32_t v;
};

struct katls_policy {
	char name[KATLS_POLICY_MAX];
	int name_line;
	unsigned int allowed;		/* bit per enum katls_evidence_type */
	int allow_line;
	int debug_line;
	bool debug_allowed;
	int pin_none_line;		/* "pin none": pins nothing on purpose */
	int ebk_line;			/* evidence_bound_key */
	bool ebk;
	int binding_line;		/* binding, default intra */
	enum katls_policy_binding binding;
	/* issue 14 item 3: mutual attestation */
	int cev_line;			/* require_client_evidence */
	char client_evidence[KATLS_POLICY_MAX];	/* "": off */
	int client_attest_line;		/* client_attest, default deny */
	bool client_attest;
	struct hexset measurement;
	struct strset tcb_status;

	struct {
		struct hexset rtmr[4], mrconfigid, mrowner, mrownerconfig,
			      mrseam, fmspc;
		struct hexset min_tee_tcb_svn;	/* one 16-byte value */
		uint64_t attr_require, attr_forbid, attr_named;
		int attr_line;
	} tdx;

	struct {
		struct hexset host_data, id_key_digest, author_key_digest,
			      family_id, image_id;
		struct numset vmpl;
		struct minval min_guest_svn;
		struct minval min_bl, min_tee, min_snp, min_ucode, min_fmc;
		int min_tcb_line;
		int migration_line, smt_line, key_line, product_line;
		bool migration_allowed, smt_allowed;
		unsigned int keys;		/* bit 0 VCEK, bit 1 VLEK */
		unsigned int products;		/* bit per product code */
	} snp;

	struct {
		struct hexset rem[4], personalization;
		struct strset profile;
	} cca;

	int max_age_line;		/* max_connection_age, default none */
	uint32_t max_age_ms;		/* 0: no limit */
};

/* TDATTRIBUTES bits a policy can name (bit 0, DEBUG, is the "debug" key). */
#define TDA_DEBUG		(1ull << 0)
#define TDA_SEPT_VE_DISABLE	(1ull << 28)
#define TDA_MIGRATABLE		(1ull << 29)
#define TDA_PKS			(1ull << 30)
#define TDA_KL			(1ull << 31)
#define TDA_PERFMON		(1ull << 63)

/* Name of one TDATTRIBUTES bit as the policy spells it ("bitN" if none). */
void kv_policy_td_attr_name(uint64_t bit, char *buf, size_t len);

#endif /* KATLS_VERIFY_POLICY_INT_H */
