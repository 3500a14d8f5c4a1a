// SPDX-License-Identifier: GPL-2.0
/*
 * merkle.c - binder v1 batch mode: a Merkle tree (RFC 9162 section 2.1
 * shape, SHA-512, domain-separated leaves and nodes) over the binders of
 * the handshakes that share one report.  Documentation/binder.rst.
 *
 * The attester side stores the tree level by level (level 0: the leaf
 * hashes; a node without a right sibling moves up unchanged), which gives
 * RFC 9162's Merkle Tree Hash for any size, and reads audit paths off the
 * levels.  The verifier side is RFC 9162 section 2.1.3.2 as written.  The
 * two are different algorithms on purpose: the unit tests check one
 * against the other, and both against the recursive definition in
 * tests/unit/attest/merkle_vectors.py.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include <katls/merkle.h>

#define HLEN		KATLS_MERKLE_HASH_LEN
#define LABEL_LEN	(sizeof(KATLS_BATCH_LABEL) - 1)
/* levels of a tree of at most 2^16 leaves: 0..16 */
#define MAX_LEVELS	(KATLS_MERKLE_MAX_PATH + 1)

struct katls_merkle_tree {
	uint32_t size;
	unsigned int nlevels;
	size_t off[MAX_LEVELS];		/* first node of level j in h */
	uint32_t count[MAX_LEVELS];	/* nodes on level j */
	uint8_t (*h)[HLEN];
	uint8_t rd[HLEN];		/* report data of the batch */
};

const char *katls_merkle_strerror(int err)
{
	switch (err) {
	case KATLS_MERKLE_OK:		return "success";
	case KATLS_MERKLE_E_ARG:	return "invalid argument";
	case KATLS_MERKLE_E_SIZE:	return "wrong tree size";
	case KATLS_MERKLE_E_INDEX:	return "leaf index out of range";
	case KATLS_MERKLE_E_PATH_SHORT:	return "audit path too short";
	case KATLS_MERKLE_E_PATH_LONG:	return "audit path too long";
	case KATLS_MERKLE_E_MISMATCH:	return "batch root mismatch";
	case KATLS_MERKLE_E_CRYPTO:	return "hash failed";
	case KATLS_MERKLE_E_NOMEM:	return "out of memory";
	default:			return "unknown error";
	}
}

void katls_merkle_proof_single(struct katls_merkle_proof *p)
{
	if (!p)
		return;
	memset(p, 0, sizeof(*p));
	p->tree_size = 1;
}

/* Largest power of two strictly below n (n >= 2). */
static uint32_t split_point(uint32_t n)
{
	uint32_t k = 1;

	while (k < n - k)	/* k * 2 < n without overflow */
		k <<= 1;
	return k;
}

int katls_merkle_path_len(uint32_t index, uint32_t size)
{
	int len = 0;

	if (!size || size > KATLS_MERKLE_MAX_LEAVES || index >= size)
		return -1;
	/* RFC 9162 2.1.3.1: one hash per split on the way down to the leaf. */
	while (size > 1) {
		uint32_t k = split_point(size);

		if (index < k) {
			size = k;
		} else {
			index -= k;
			size -= k;
		}
		len++;
	}
	return len;
}

int katls_merkle_proof_check(const struct katls_merkle_proof *p)
{
	int need;

	if (!p)
		return KATLS_MERKLE_E_ARG;
	if (!p->tree_size || p->tree_size > KATLS_MERKLE_MAX_LEAVES)
		return KATLS_MERKLE_E_SIZE;
	if (p->leaf_index >= p->tree_size)
		return KATLS_MERKLE_E_INDEX;
	need = katls_merkle_path_len(p->leaf_index, p->tree_size);
	if (need < 0)
		return KATLS_MERKLE_E_ARG;	/* not reached: checked above */
	if (p->path_len < (unsigned int)need)
		return KATLS_MERKLE_E_PATH_SHORT;
	if (p->path_len > (unsigned int)need)
		return KATLS_MERKLE_E_PATH_LONG;
	return KATLS_MERKLE_OK;
}

static int sha512(const void *in, size_t len, uint8_t out[HLEN])
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA512, in, len, out) < 0) {
		memset(out, 0, HLEN);
		return KATLS_MERKLE_E_CRYPTO;
	}
	return KATLS_MERKLE_OK;
}

int katls_merkle_leaf_hash(const uint8_t binder[KATLS_MERKLE_BINDER_LEN],
			   uint8_t out[HLEN])
{
	uint8_t buf[1 + KATLS_MERKLE_BINDER_LEN];

	if (!binder || !out)
		return KATLS_MERKLE_E_ARG;
	buf[0] = 0x00;
	memcpy(buf + 1, binder, KATLS_MERKLE_BINDER_LEN);
	return sha512(buf, sizeof(buf), out);
}

int katls_merkle_node_hash(const uint8_t left[HLEN], const uint8_t right[HLEN],
			   uint8_t out[HLEN])
{
	uint8_t buf[1 + 2 * HLEN];

	if (!left || !right || !out)
		return KATLS_MERKLE_E_ARG;
	buf[0] = 0x01;
	memcpy(buf + 1, left, HLEN);
	memcpy(buf + 1 + HLEN, right, HLEN);
	return sha512(buf, sizeof(buf), out);
}

int katls_batch_root_report_data(uint32_t size, const uint8_t root[HLEN],
				 uint8_t rd[HLEN])
{
	uint8_t buf[LABEL_LEN + 4 + HLEN];

	if (!root || !rd)
		return KATLS_MERKLE_E_ARG;
	if (size < 2 || size > KATLS_MERKLE_MAX_LEAVES) {
		memset(rd, 0, HLEN);
		return KATLS_MERKLE_E_SIZE;
	}
	memcpy(buf, KATLS_BATCH_LABEL, LABEL_LEN);
	buf[LABEL_LEN] = size >> 24;
	buf[LABEL_LEN + 1] = size >> 16;
	buf[LABEL_LEN + 2] = size >> 8;
	buf[LABEL_LEN + 3] = size;
	memcpy(buf + LABEL_LEN + 4, root, HLEN);
	return sha512(buf, sizeof(buf), rd);
}

/* ---- attester ---- */

int katls_merkle_tree_build(const uint8_t (*binders)[KATLS_MERKLE_BINDER_LEN],
			    uint32_t n, struct katls_merkle_tree **out)
{
	struct katls_merkle_tree *t;
	size_t total = 0;
	uint32_t c, i;
	unsigned int j;
	int ret;

	if (!out)
		return KATLS_MERKLE_E_ARG;
	*out = NULL;
	if (!binders)
		return KATLS_MERKLE_E_ARG;
	if (!n || n > KATLS_MERKLE_MAX_LEAVES)
		return KATLS_MERKLE_E_SIZE;
	t = calloc(1, sizeof(*t));
	if (!t)
		return KATLS_MERKLE_E_NOMEM;
	t->size = n;
	for (c = n, j = 0;; c = (c + 1) / 2, j++) {
		t->off[j] = total;
		t->count[j] = c;
		total += c;
		if (c == 1)
			break;
	}
	t->nlevels = j + 1;
	t->h = calloc(total, HLEN);
	if (!t->h) {
		free(t);
		return KATLS_MERKLE_E_NOMEM;
	}
	for (i = 0; i < n; i++) {
		ret = katls_merkle_leaf_hash(binders[i], t->h[i]);
		if (ret)
			goto fail;
	}
	for (j = 1; j < t->nlevels; j++) {
		uint8_t (*lo)[HLEN] = t->h + t->off[j - 1];
		uint8_t (*up)[HLEN] = t->h + t->off[j];

		for (i = 0; i < t->count[j]; i++) {
			if (2 * i + 1 < t->count[j - 1]) {
				ret = katls_merkle_node_hash(lo[2 * i],
							     lo[2 * i + 1],
							     up[i]);
				if (ret)
					goto fail;
			} else {
				/* no right sibling: moves up unchanged */
				memcpy(up[i], lo[2 * i], HLEN);
			}
		}
	}
	if (n == 1)
		memcpy(t->rd, binders[0], HLEN);
	else if ((ret = katls_batch_root_report_data(n,
			t->h[t->off[t->nlevels - 1]], t->rd)))
		goto fail;
	*out = t;
	return KATLS_MERKLE_OK;
fail:
	katls_merkle_tree_free(t);
	return ret;
}

void katls_merkle_tree_free(struct katls_merkle_tree *t)
{
	if (!t)
		return;
	free(t->h);
	free(t);
}

uint32_t katls_merkle_tree_size(const struct katls_merkle_tree *t)
{
	return t ? t->size : 0;
}

int katls_merkle_tree_root(const struct katls_merkle_tree *t,
			   uint8_t root[HLEN])
{
	if (!t || !root)
		return KATLS_MERKLE_E_ARG;
	memcpy(root, t->h[t->off[t->nlevels - 1]], HLEN);
	return KATLS_MERKLE_OK;
}

int katls_merkle_tree_report_data(const struct katls_merkle_tree *t,
				  uint8_t rd[HLEN])
{
	if (!t || !rd)
		return KATLS_MERKLE_E_ARG;
	memcpy(rd, t->rd, HLEN);
	return KATLS_MERKLE_OK;
}

int katls_merkle_tree_proof(const struct katls_merkle_tree *t, uint32_t i,
			    struct katls_merkle_proof *p)
{
	uint32_t idx = i;
	unsigned int j;

	if (!t || !p)
		return KATLS_MERKLE_E_ARG;
	memset(p, 0, sizeof(*p));
	if (i >= t->size)
		return KATLS_MERKLE_E_INDEX;
	p->leaf_index = i;
	p->tree_size = t->size;
	for (j = 0; j + 1 < t->nlevels; j++, idx >>= 1) {
		uint32_t sib = idx ^ 1;

		if (sib >= t->count[j])
			continue;	/* moved up unchanged: no hash */
		if (p->path_len >= KATLS_MERKLE_MAX_PATH) {
			memset(p, 0, sizeof(*p));
			return KATLS_MERKLE_E_ARG;	/* not reached */
		}
		memcpy(p->path[p->path_len++], t->h[t->off[j] + sib], HLEN);
	}
	return KATLS_MERKLE_OK;
}

/* ---- verifier ---- */

int katls_merkle_root_from_proof(const uint8_t binder[KATLS_MERKLE_BINDER_LEN],
				 const struct katls_merkle_proof *p,
				 uint8_t root[HLEN])
{
	uint8_t r[HLEN];
	uint32_t fn, sn;
	unsigned int k;
	int ret;

	if (!binder || !p || !root)
		return KATLS_MERKLE_E_ARG;
	memset(root, 0, HLEN);
	ret = katls_merkle_proof_check(p);
	if (ret)
		return ret;
	ret = katls_merkle_leaf_hash(binder, r);
	if (ret)
		return ret;
	/* RFC 9162 section 2.1.3.2, steps 2 to 5. */
	fn = p->leaf_index;
	sn = p->tree_size - 1;
	for (k = 0; k < p->path_len; k++) {
		if (!sn)
			return KATLS_MERKLE_E_PATH_LONG;  /* not reached */
		if ((fn & 1) || fn == sn) {
			ret = katls_merkle_node_hash(p->path[k], r, r);
			if (!(fn & 1))
				while (fn && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			ret = katls_merkle_node_hash(r, p->path[k], r);
		}
		if (ret)
			return ret;
		fn >>= 1;
		sn >>= 1;
	}
	if (sn)
		return KATLS_MERKLE_E_PATH_SHORT;	/* not reached */
	memcpy(root, r, HLEN);
	return KATLS_MERKLE_OK;
}

int katls_batch_expected_report_data(const uint8_t binder[KATLS_MERKLE_BINDER_LEN],
				     const struct katls_merkle_proof *p,
				     uint8_t rd[HLEN])
{
	uint8_t root[HLEN];
	int ret;

	if (!binder || !p || !rd)
		return KATLS_MERKLE_E_ARG;
	memset(rd, 0, HLEN);
	ret = katls_merkle_proof_check(p);
	if (ret)
		return ret;
	if (p->tree_size == 1) {
		memcpy(rd, binder, HLEN);
		return KATLS_MERKLE_OK;
	}
	ret = katls_merkle_root_from_proof(binder, p, root);
	if (!ret)
		ret = katls_batch_root_report_data(p->tree_size, root, rd);
	if (ret)
		memset(rd, 0, HLEN);
	return ret;
}

int katls_batch_check(const uint8_t binder[KATLS_MERKLE_BINDER_LEN],
		      const struct katls_merkle_proof *p,
		      const uint8_t *found, size_t found_len)
{
	uint8_t rd[HLEN];
	int ret;

	if (!found || found_len != HLEN)
		return KATLS_MERKLE_E_ARG;
	ret = katls_batch_expected_report_data(binder, p, rd);
	if (ret)
		return ret;
	return gnutls_memcmp(rd, found, HLEN) ? KATLS_MERKLE_E_MISMATCH
					      : KATLS_MERKLE_OK;
}
