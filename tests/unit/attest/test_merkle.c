// SPDX-License-Identifier: GPL-2.0
/*
 * test_merkle.c - binder v1 batch mode (userspace/attest/merkle.c):
 *
 *  - the published vectors (merkle_vectors.txt, computed by the recursive
 *    RFC 9162 definitions in merkle_vectors.py): root, report data and
 *    every leaf's audit path of batches of 1, 2, 3, 5 and 8, the batch
 *    report data of every size 1..64, and a batch of one over the binder
 *    v1 vector giving that value unchanged;
 *  - every tree size 1..64 and every leaf: the tree's proof verifies with
 *    the RFC 9162 2.1.3.2 verifier, has the path length 2.1.3.1 gives,
 *    and fails against every other leaf's binder (a proof replayed
 *    across connections);
 *  - each malformed proof kind fails with its own error.
 *
 * usage: test_merkle VECTORS_FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include <katls/merkle.h>
#include "tap.h"
#include "vecfile.h"

#define H KATLS_MERKLE_HASH_LEN
#define MAXLEAF 8
#define MAXSEC 16

struct sec {
	char name[64];
	unsigned int size;
	uint8_t binder[MAXLEAF][H];
	uint8_t root[H], rd[H];
	struct katls_merkle_proof path[MAXLEAF];
	unsigned int nbinders, npaths;
	uint8_t all_rd[64][H];		/* [batch-report-data-1-64] */
	unsigned int nall;
};

static struct sec secs[MAXSEC];

static int load_path(const char *val, struct katls_merkle_proof *p)
{
	memset(p, 0, sizeof(*p));
	if (!strncmp(val, "-", 1))
		return 0;
	while (*val && *val != '\n') {
		if (p->path_len == KATLS_MERKLE_MAX_PATH ||
		    vec_unhex_exact(val, p->path[p->path_len++], H))
			return -1;
		val += 2 * H;
		if (*val == ' ')
			val++;
	}
	return 0;
}

static int load(const char *file)
{
	static char line[16384];
	char key[32];
	unsigned int i;
	int n = -1;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *val;
		struct sec *s;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] == '[') {
			if (++n == MAXSEC)
				goto bad;
			memset(&secs[n], 0, sizeof(secs[n]));
			sscanf(line, "[%63[^]]]", secs[n].name);
			continue;
		}
		val = strstr(line, " = ");
		if (n < 0 || !val || sscanf(line, "%31s", key) != 1)
			goto bad;
		val += 3;
		s = &secs[n];
		if (!strcmp(key, "size")) {
			s->size = (unsigned int)strtoul(val, NULL, 10);
		} else if (sscanf(key, "binder.%u", &i) == 1 && i < MAXLEAF) {
			if (vec_unhex_exact(val, s->binder[i], H))
				goto bad;
			s->nbinders++;
		} else if (!strcmp(key, "root")) {
			if (vec_unhex_exact(val, s->root, H))
				goto bad;
		} else if (!strcmp(key, "report_data")) {
			if (vec_unhex_exact(val, s->rd, H))
				goto bad;
		} else if (sscanf(key, "path.%u", &i) == 1 && i < MAXLEAF) {
			if (load_path(val, &s->path[i]))
				goto bad;
			s->path[i].leaf_index = i;
			s->path[i].tree_size = s->size;
			s->npaths++;
		} else if (sscanf(key, "report_data.%u", &i) == 1 && i >= 1 &&
			   i <= 64) {
			if (vec_unhex_exact(val, s->all_rd[i - 1], H))
				goto bad;
			s->nall++;
		} else {
			goto bad;
		}
	}
	fclose(f);
	return n + 1;
bad:
	fclose(f);
	return -1;
}

/* binder(i) = SHA-512("katls test binder" || u32(i)), as in the .py */
static void test_binder(uint32_t i, uint8_t out[H])
{
	uint8_t in[17 + 4];

	memcpy(in, "katls test binder", 17);
	in[17] = i >> 24;
	in[18] = i >> 16;
	in[19] = i >> 8;
	in[20] = i;
	gnutls_hash_fast(GNUTLS_DIG_SHA512, in, sizeof(in), out);
}

static int same_proof(const struct katls_merkle_proof *a,
		      const struct katls_merkle_proof *b)
{
	return a->leaf_index == b->leaf_index &&
	       a->tree_size == b->tree_size && a->path_len == b->path_len &&
	       !memcmp(a->path, b->path, (size_t)a->path_len * H);
}

static void test_vectors(int nsec)
{
	unsigned int nbatch = 0, nleaves = 0, i;
	int k;

	for (k = 0; k < nsec; k++) {
		struct sec *s = &secs[k];
		struct katls_merkle_tree *t = NULL;
		struct katls_merkle_proof p;
		uint8_t root[H], rd[H];
		int ok;

		if (s->nall) {
			uint8_t (*b)[H] = calloc(64, H);

			ok = b && s->nall == 64;
			for (i = 0; ok && i < 64; i++)
				test_binder(i, b[i]);
			for (i = 1; ok && i <= 64; i++) {
				ok = !katls_merkle_tree_build(b, i, &t) &&
				     !katls_merkle_tree_report_data(t, rd) &&
				     !memcmp(rd, s->all_rd[i - 1], H);
				katls_merkle_tree_free(t);
				t = NULL;
			}
			tap_ok(ok, "[%s]: C batch report data of sizes 1..64 match python",
			       s->name);
			free(b);
			continue;
		}
		if (!s->size || s->size > MAXLEAF || s->nbinders != s->size ||
		    s->npaths != s->size) {
			tap_ok(0, "[%s]: section complete", s->name);
			continue;
		}
		nbatch++;
		ok = !katls_merkle_tree_build((const uint8_t (*)[H])s->binder,
					      s->size, &t) &&
		     !katls_merkle_tree_root(t, root) &&
		     !katls_merkle_tree_report_data(t, rd);
		tap_ok(ok && !memcmp(root, s->root, H),
		       "[%s]: C root matches python", s->name);
		tap_ok(ok && !memcmp(rd, s->rd, H),
		       "[%s]: C report data matches python", s->name);
		for (i = 0; i < s->size; i++, nleaves++) {
			tap_ok(t && !katls_merkle_tree_proof(t, i, &p) &&
			       same_proof(&p, &s->path[i]),
			       "[%s]: C audit path of leaf %u matches python",
			       s->name, i);
			tap_ok(!katls_batch_check(s->binder[i], &s->path[i],
						  s->rd, H),
			       "[%s]: python's proof of leaf %u verifies in C",
			       s->name, i);
		}
		katls_merkle_tree_free(t);
	}
	tap_ok(nbatch >= 6 && nleaves >= 1 + 1 + 2 + 3 + 5 + 8,
	       "vectors cover batches of 1, 2, 3, 5, 8 (%u batches, %u leaves)",
	       nbatch, nleaves);
}

/* Batch of one = the v1 binder: the v1 report_data is unchanged. */
static void test_single(void)
{
	/* binder_vectors.txt [binder-v1-sha256] report_data */
	static const char v1[] =
		"c0e21809f5e0a836642eb2880d5d1d1dd1e4f49f26c644c7f2c36a884324af90"
		"52764cbc0c47d1eb6fb5ca61fbc3d2ec7ed11e743686ef44b7e2f90f5614815d";
	struct katls_merkle_tree *t = NULL;
	struct katls_merkle_proof p, single;
	uint8_t b[1][H], rd[H];

	vec_unhex_exact(v1, b[0], H);
	katls_merkle_proof_single(&single);
	tap_ok(!katls_merkle_tree_build(b, 1, &t) &&
	       !katls_merkle_tree_report_data(t, rd) && !memcmp(rd, b[0], H),
	       "batch of one: report data is the v1 binder, unchanged");
	tap_ok(t && !katls_merkle_tree_proof(t, 0, &p) && same_proof(&p, &single),
	       "batch of one: proof is index 0, size 1, empty path");
	tap_ok(!katls_batch_expected_report_data(b[0], &single, rd) &&
	       !memcmp(rd, b[0], H) && !katls_batch_check(b[0], &single, b[0], H),
	       "batch of one: the verifier expects the binder itself");
	katls_merkle_tree_free(t);
}

static void test_path_len(void)
{
	static const struct { uint32_t i, n; int len; } kat[] = {
		{ 0, 1, 0 }, { 0, 2, 1 }, { 1, 2, 1 }, { 0, 3, 2 },
		{ 2, 3, 1 }, { 0, 5, 3 }, { 4, 5, 1 }, { 6, 7, 2 },
		{ 7, 8, 3 }, { 0, 65536, 16 }, { 65535, 65536, 16 },
		{ 65534, 65535, 15 }, { 0, 65535, 16 },
		{ 0, 0, -1 }, { 1, 1, -1 }, { 3, 3, -1 },
		{ 0, 65537, -1 }, { 0xffffffffu, 0xffffffffu, -1 },
	};
	unsigned int k, bad = 0;

	for (k = 0; k < sizeof(kat) / sizeof(kat[0]); k++)
		if (katls_merkle_path_len(kat[k].i, kat[k].n) != kat[k].len) {
			bad++;
			printf("# path_len(%u, %u) = %d, want %d\n", kat[k].i,
			       kat[k].n, katls_merkle_path_len(kat[k].i, kat[k].n),
			       kat[k].len);
		}
	tap_ok(!bad, "path lengths of RFC 9162 2.1.3.1 (%u cases)", k);
}

/* Every size 1..64, every leaf. */
static void test_roundtrip(void)
{
	uint8_t (*b)[H] = calloc(64, H);
	unsigned int n, i, j, fails = 0, replay = 0, leaves = 0;

	for (i = 0; b && i < 64; i++)
		test_binder(1000 + i, b[i]);
	for (n = 1; b && n <= 64; n++) {
		struct katls_merkle_tree *t = NULL;
		struct katls_merkle_proof p;
		uint8_t root[H], root2[H], rd[H];

		if (katls_merkle_tree_build(b, n, &t) ||
		    katls_merkle_tree_size(t) != n ||
		    katls_merkle_tree_root(t, root) ||
		    katls_merkle_tree_report_data(t, rd)) {
			fails++;
			katls_merkle_tree_free(t);
			continue;
		}
		for (i = 0; i < n; i++, leaves++) {
			if (katls_merkle_tree_proof(t, i, &p) ||
			    (int)p.path_len != katls_merkle_path_len(i, n) ||
			    katls_merkle_proof_check(&p) ||
			    (n > 1 && (katls_merkle_root_from_proof(b[i], &p, root2) ||
				       memcmp(root, root2, H))) ||
			    katls_batch_check(b[i], &p, rd, H))
				fails++;
			/* Another connection's binder with this proof. */
			for (j = 0; j < n; j++)
				if (j != i && katls_batch_check(b[j], &p, rd, H) !=
				    KATLS_MERKLE_E_MISMATCH)
					replay++;
		}
		tap_ok(katls_merkle_tree_proof(t, n, &p) == KATLS_MERKLE_E_INDEX,
		       "size %u: no proof for leaf %u", n, n);
		katls_merkle_tree_free(t);
	}
	tap_ok(b && !fails && leaves == 64 * 65 / 2,
	       "sizes 1..64: all %u leaves round-trip (tree proof verifies, path length exact)",
	       leaves);
	tap_ok(b && !replay,
	       "sizes 1..64: every proof fails for every other leaf's binder (replay across connections)");
	free(b);
}

static void test_max(void)
{
	uint32_t n = KATLS_MERKLE_MAX_LEAVES;
	uint8_t (*b)[H] = calloc(n + 1, H);
	struct katls_merkle_tree *t = NULL;
	struct katls_merkle_proof p;
	uint8_t rd[H];
	uint32_t i;
	int ok;

	for (i = 0; b && i <= n; i++)
		b[i][i % H] = i >> 8, b[i][(i + 1) % H] = i & 0xff;
	ok = b && !katls_merkle_tree_build(b, n, &t) &&
	     !katls_merkle_tree_report_data(t, rd) &&
	     !katls_merkle_tree_proof(t, n - 1, &p) && p.path_len == 16 &&
	     !katls_batch_check(b[n - 1], &p, rd, H) &&
	     !katls_merkle_tree_proof(t, 12345, &p) &&
	     !katls_batch_check(b[12345], &p, rd, H);
	tap_ok(ok, "largest batch (%u leaves): proofs of 16 hashes verify", n);
	katls_merkle_tree_free(t);
	t = NULL;
	tap_ok(b && katls_merkle_tree_build(b, n + 1, &t) == KATLS_MERKLE_E_SIZE &&
	       !t, "a batch over the cap is refused");
	tap_ok(katls_merkle_tree_build(b, 0, &t) == KATLS_MERKLE_E_SIZE && !t,
	       "an empty batch is refused");
	free(b);
}

/* Each malformed proof kind, against a batch of 5. */
static void test_malformed(void)
{
	uint8_t b[8][H], rd[H], rd8[H], root[H], out[H];
	struct katls_merkle_tree *t = NULL, *t8 = NULL, *tx = NULL;
	struct katls_merkle_proof good, p, single;
	unsigned int i;

	for (i = 0; i < 8; i++)
		test_binder(i, b[i]);
	if (katls_merkle_tree_build(b, 5, &t) ||
	    katls_merkle_tree_build(b, 8, &t8) ||
	    katls_merkle_tree_report_data(t, rd) ||
	    katls_merkle_tree_report_data(t8, rd8) ||
	    katls_merkle_tree_root(t, root) ||
	    katls_merkle_tree_proof(t, 1, &good)) {
		tap_ok(0, "malformed proofs: set-up");
		goto out;
	}
	katls_merkle_proof_single(&single);

	tap_ok(!katls_batch_check(b[1], &good, rd, H), "good proof verifies");

	p = good;
	p.tree_size = 0;
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_SIZE,
	       "tree size 0: %s", katls_merkle_strerror(KATLS_MERKLE_E_SIZE));
	p = good;
	p.tree_size = KATLS_MERKLE_MAX_LEAVES + 1;
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_SIZE,
	       "tree size over the cap: wrong tree size");
	p = good;
	p.tree_size = 6;	/* same path length for leaf 1: 3 */
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_MISMATCH,
	       "wrong tree size with a path of fitting length: %s",
	       katls_merkle_strerror(KATLS_MERKLE_E_MISMATCH));
	p = good;
	p.tree_size = 2;	/* leaf 1 of 2 needs 1 hash, has 3 */
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_PATH_LONG,
	       "smaller tree size: path too long");
	p = good;
	p.leaf_index = 5;
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_INDEX,
	       "leaf index = tree size: %s",
	       katls_merkle_strerror(KATLS_MERKLE_E_INDEX));
	p = good;
	p.leaf_index = 0xffffffffu;
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_INDEX,
	       "leaf index 2^32-1: index out of range");
	p = good;
	p.leaf_index = 0;	/* leaf 0 also has 3 hashes: wrong position */
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_MISMATCH,
	       "wrong leaf index: root mismatch");
	p = good;
	p.path_len--;
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_PATH_SHORT,
	       "truncated path: %s",
	       katls_merkle_strerror(KATLS_MERKLE_E_PATH_SHORT));
	p = good;
	p.path_len = 0;
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_PATH_SHORT,
	       "empty path in a batch: path too short");
	p = good;
	memcpy(p.path[p.path_len++], root, H);
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_PATH_LONG,
	       "extended path: %s",
	       katls_merkle_strerror(KATLS_MERKLE_E_PATH_LONG));
	p = good;
	p.path_len = 0xffffffffu;
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_PATH_LONG &&
	       katls_merkle_root_from_proof(b[1], &p, out) ==
	       KATLS_MERKLE_E_PATH_LONG,
	       "path length beyond the array: path too long, nothing read");
	for (i = 0; i < good.path_len; i++) {
		p = good;
		p.path[i][7] ^= 0x40;
		if (katls_batch_check(b[1], &p, rd, H) != KATLS_MERKLE_E_MISMATCH)
			break;
	}
	tap_ok(i == good.path_len, "a bit flipped in any path hash: root mismatch");
	p = good;
	memcpy(p.path[0], p.path[1], H);
	tap_ok(katls_batch_check(b[1], &p, rd, H) == KATLS_MERKLE_E_MISMATCH,
	       "a path hash replaced: root mismatch");
	tap_ok(katls_batch_check(b[1], &good, rd8, H) == KATLS_MERKLE_E_MISMATCH,
	       "proof against another batch's report data: root mismatch");
	/* batch root presented as a single binder, and the reverse */
	tap_ok(katls_batch_check(b[1], &single, rd, H) == KATLS_MERKLE_E_MISMATCH,
	       "batch report data with a single-binder proof: mismatch");
	tap_ok(katls_batch_check(root, &single, rd, H) == KATLS_MERKLE_E_MISMATCH,
	       "batch root presented as a single binder: mismatch");
	tap_ok(katls_batch_check(b[1], &good, b[1], H) == KATLS_MERKLE_E_MISMATCH,
	       "single binder (report data = binder) presented as a batch: mismatch");
	p = single;
	p.path_len = 1;
	memcpy(p.path[0], b[0], H);
	tap_ok(katls_batch_check(b[1], &p, b[1], H) == KATLS_MERKLE_E_PATH_LONG,
	       "batch of one with a path: path too long");
	/* a node passed off as a leaf: domain separation */
	if (!katls_merkle_tree_proof(t8, 0, &p)) {
		struct katls_merkle_proof q = { .leaf_index = 0, .tree_size = 4,
						.path_len = 2 };
		uint8_t n01[H], n0123[H], lh[2][H];

		/*
		 * Tree of 8: the pair node over leaves 0, 1 as the "binder"
		 * of a tree of 4 with the upper path: same hashes, one level
		 * up; rejected since leaves are hashed with 0x00.
		 */
		katls_merkle_leaf_hash(b[0], lh[0]);
		katls_merkle_leaf_hash(b[1], lh[1]);
		katls_merkle_node_hash(lh[0], lh[1], n01);
		memcpy(q.path[0], p.path[1], H);
		memcpy(q.path[1], p.path[2], H);
		katls_merkle_node_hash(n01, q.path[0], n0123);
		tap_ok(katls_batch_check(n01, &q, rd8, H) != KATLS_MERKLE_OK &&
		       memcmp(n01, lh[0], H),
		       "an inner node presented as a leaf binder: rejected (leaf and node hashes differ)");
	}
	tap_ok(katls_batch_check(b[1], &good, rd, H - 1) == KATLS_MERKLE_E_ARG &&
	       katls_batch_check(b[1], NULL, rd, H) == KATLS_MERKLE_E_ARG &&
	       katls_batch_check(NULL, &good, rd, H) == KATLS_MERKLE_E_ARG &&
	       katls_batch_check(b[1], &good, NULL, H) == KATLS_MERKLE_E_ARG &&
	       katls_merkle_tree_build(NULL, 1, &tx) == KATLS_MERKLE_E_ARG && !tx &&
	       katls_merkle_tree_build(b, 1, NULL) == KATLS_MERKLE_E_ARG &&
	       katls_merkle_proof_check(NULL) == KATLS_MERKLE_E_ARG &&
	       katls_batch_root_report_data(1, root, out) == KATLS_MERKLE_E_SIZE,
	       "bad arguments refused");
	tap_ok(katls_batch_expected_report_data(b[1], &single, out) == 0 &&
	       (p = good, p.path_len++,
		katls_batch_expected_report_data(b[1], &p, out) ==
		KATLS_MERKLE_E_PATH_LONG) && !memcmp(out, (uint8_t[H]){ 0 }, H),
	       "expected report data is zeroed on error");
out:
	katls_merkle_tree_free(t);
	katls_merkle_tree_free(t8);
}

int main(int argc, char **argv)
{
	int n;

	tap_plan_lazy();
	n = argc == 2 ? load(argv[1]) : -1;
	if (!tap_ok(n >= 7, "load vectors from %s",
		    argc == 2 ? argv[1] : "(no file given)"))
		return tap_done();
	test_vectors(n);
	test_single();
	test_path_len();
	test_roundtrip();
	test_max();
	test_malformed();
	return tap_done();
}
