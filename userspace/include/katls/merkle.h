/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katls/merkle.h - batched evidence, binder v1 batch mode
 * (Documentation/binder.rst, "Batched evidence").
 *
 * One configfs-tsm report vouches for n handshakes: a Merkle tree in the
 * shape of RFC 9162 section 2.1 (with SHA-512) over their 64-byte binders
 *
 *   leaf         = SHA-512(0x00 || binder)
 *   node         = SHA-512(0x01 || left || right)
 *   report_data  = binder                                       n == 1
 *                = SHA-512("katls batch v1" || u32(n) || root)  n >= 2
 *
 * The attester (the quote broker) builds the tree over the binders that
 * wait for the next report, asks for one report with the batch's report
 * data and hands each waiter the evidence plus its proof (leaf index,
 * tree size, audit path).  The verifier recomputes its own binder, the
 * root from the proof, then report_data, and compares in constant time.
 *
 * Every proof is checked before any hash is computed: tree size
 * 1..KATLS_MERKLE_MAX_LEAVES, index below the size, and a path of exactly
 * the length RFC 9162 section 2.1.3.1 gives for (index, size).  Each kind
 * of malformed proof gets its own error.
 */
#ifndef KATLS_MERKLE_H
#define KATLS_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define KATLS_MERKLE_HASH_LEN		64	/* SHA-512 */
#define KATLS_MERKLE_BINDER_LEN		64	/* = KATLS_REPORT_DATA_LEN */
/* The largest batch; its audit paths have at most 16 hashes. */
#define KATLS_MERKLE_MAX_LEAVES		65536u
#define KATLS_MERKLE_MAX_PATH		16
#define KATLS_BATCH_LABEL		"katls batch v1"

enum katls_merkle_err {
	KATLS_MERKLE_OK = 0,
	KATLS_MERKLE_E_ARG = -1,	/* NULL pointer or bad caller input */
	KATLS_MERKLE_E_SIZE = -2,	/* tree size 0 or over the cap */
	KATLS_MERKLE_E_INDEX = -3,	/* leaf index not below tree size */
	KATLS_MERKLE_E_PATH_SHORT = -4,	/* fewer hashes than (index, size) need */
	KATLS_MERKLE_E_PATH_LONG = -5,	/* more hashes than (index, size) need */
	KATLS_MERKLE_E_MISMATCH = -6,	/* report data does not match */
	KATLS_MERKLE_E_CRYPTO = -7,	/* the hash failed */
	KATLS_MERKLE_E_NOMEM = -8,	/* out of memory */
};

/**
 * struct katls_merkle_proof - what a waiter gets with the shared evidence
 * @leaf_index: position of its binder, 0..tree_size-1
 * @tree_size: number of binders in the batch, 1..KATLS_MERKLE_MAX_LEAVES;
 *	1 means the report data is the binder itself
 * @path_len: number of hashes in @path, katls_merkle_path_len(index, size)
 * @path: the audit path of RFC 9162 section 2.1.3.1, leaf's sibling first
 */
struct katls_merkle_proof {
	uint32_t leaf_index;
	uint32_t tree_size;
	unsigned int path_len;
	uint8_t path[KATLS_MERKLE_MAX_PATH][KATLS_MERKLE_HASH_LEN];
};

/* The proof of a batch of one: index 0, size 1, no path. */
void katls_merkle_proof_single(struct katls_merkle_proof *p);

/*
 * Number of hashes in the audit path of leaf @index in a tree of @size
 * leaves (RFC 9162 section 2.1.3.1), or -1 if size is 0 or over the cap
 * or index >= size.
 */
int katls_merkle_path_len(uint32_t index, uint32_t size);

/*
 * Structural check of a proof, no hashing: E_SIZE, E_INDEX, E_PATH_SHORT,
 * E_PATH_LONG or OK.
 */
int katls_merkle_proof_check(const struct katls_merkle_proof *p);

/* The domain-separated hashes.  Return OK or E_ARG / E_CRYPTO. */
int katls_merkle_leaf_hash(const uint8_t binder[KATLS_MERKLE_BINDER_LEN],
			   uint8_t out[KATLS_MERKLE_HASH_LEN]);
int katls_merkle_node_hash(const uint8_t left[KATLS_MERKLE_HASH_LEN],
			   const uint8_t right[KATLS_MERKLE_HASH_LEN],
			   uint8_t out[KATLS_MERKLE_HASH_LEN]);
/* SHA-512("katls batch v1" || u32(size) || root), size 2..cap. */
int katls_batch_root_report_data(uint32_t size,
				 const uint8_t root[KATLS_MERKLE_HASH_LEN],
				 uint8_t rd[KATLS_MERKLE_HASH_LEN]);

/* ---- attester: the tree over one batch ---- */

struct katls_merkle_tree;

/*
 * Build the tree over n binders (1..KATLS_MERKLE_MAX_LEAVES), in the order
 * given (binder i is leaf i).  Returns OK and *out, or E_ARG, E_SIZE,
 * E_NOMEM, E_CRYPTO.
 */
int katls_merkle_tree_build(const uint8_t (*binders)[KATLS_MERKLE_BINDER_LEN],
			    uint32_t n, struct katls_merkle_tree **out);
void katls_merkle_tree_free(struct katls_merkle_tree *t);
uint32_t katls_merkle_tree_size(const struct katls_merkle_tree *t);
/* The Merkle Tree Hash (for n == 1: the leaf hash). */
int katls_merkle_tree_root(const struct katls_merkle_tree *t,
			   uint8_t root[KATLS_MERKLE_HASH_LEN]);
/* The configfs-tsm inblob for the batch (n == 1: the binder). */
int katls_merkle_tree_report_data(const struct katls_merkle_tree *t,
				  uint8_t rd[KATLS_MERKLE_HASH_LEN]);
/* The proof of leaf i; E_INDEX if i >= size. */
int katls_merkle_tree_proof(const struct katls_merkle_tree *t, uint32_t i,
			    struct katls_merkle_proof *p);

/* ---- verifier ---- */

/*
 * The root a proof gives for @binder (RFC 9162 section 2.1.3.2), after
 * katls_merkle_proof_check().  OK or its error.
 */
int katls_merkle_root_from_proof(const uint8_t binder[KATLS_MERKLE_BINDER_LEN],
				 const struct katls_merkle_proof *p,
				 uint8_t root[KATLS_MERKLE_HASH_LEN]);

/*
 * The report data the evidence must carry if it vouches for @binder with
 * proof @p: the binder for a batch of one, else the batch report data of
 * the root the path gives.  On error rd is zeroed.
 */
int katls_batch_expected_report_data(const uint8_t binder[KATLS_MERKLE_BINDER_LEN],
				     const struct katls_merkle_proof *p,
				     uint8_t rd[KATLS_MERKLE_HASH_LEN]);

/*
 * The whole check: katls_batch_expected_report_data() compared in
 * constant time with @found.  OK, a proof error, or E_MISMATCH.
 */
int katls_batch_check(const uint8_t binder[KATLS_MERKLE_BINDER_LEN],
		      const struct katls_merkle_proof *p,
		      const uint8_t *found, size_t found_len);

/* Static description of an error code. */
const char *katls_merkle_strerror(int err);

#endif /* KATLS_MERKLE_H */
