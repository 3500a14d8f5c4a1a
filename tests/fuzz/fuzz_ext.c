// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ext.c - libFuzzer harness for the katls extension decoders and the
 * batch proof (binder v1 batch mode) verifier.
 *
 *   make -C userspace/verify build/fuzzers/fuzz_ext
 *   userspace/verify/build/fuzzers/fuzz_ext -max_len=70000
 *
 * The rule links userspace/attest/ext.c and merkle.c, built with the
 * fuzzing flags (their only dependency is GnuTLS's SHA-512), through the
 * public headers katls/ext.h and katls/merkle.h.
 *
 * The first input byte selects:
 *   odd        the ClientHello request decoder;
 *   0 mod 4    the EncryptedExtensions evidence decoder (versions 1 and 2),
 *              then the batch verifier on the decoded proof;
 *   2 mod 4    the batch verifier on a raw proof: u32 index, u32 size,
 *              u8 path length, 64-byte binder, 64-byte report data, path.
 * Properties: no out-of-bounds read (ASan), anything a decoder accepts
 * re-encodes to exactly the same bytes (the encoding is canonical), a
 * decoded proof passes the structural check, and the verifier accepts a
 * proof only if it is well formed and the report data is what it gives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <katls/ext.h>
#include <katls/merkle.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void check_proof(const uint8_t *binder, const uint8_t *found,
			const struct katls_merkle_proof *p)
{
	uint8_t rd[KATLS_MERKLE_HASH_LEN];
	int ret, exp;

	ret = katls_batch_check(binder, p, found, KATLS_MERKLE_HASH_LEN);
	exp = katls_batch_expected_report_data(binder, p, rd);
	if (ret == KATLS_MERKLE_OK &&
	    (exp || katls_merkle_proof_check(p) ||
	     memcmp(rd, found, KATLS_MERKLE_HASH_LEN)))
		abort();
	if (ret == KATLS_MERKLE_E_MISMATCH &&
	    (exp || !memcmp(rd, found, KATLS_MERKLE_HASH_LEN)))
		abort();
	if (ret != KATLS_MERKLE_OK && ret != KATLS_MERKLE_E_MISMATCH &&
	    ret != katls_merkle_proof_check(p))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[KATLS_EXT_BODY_MAX];
	static const uint8_t zero[KATLS_MERKLE_HASH_LEN];
	struct katls_merkle_proof p;
	struct katls_ext_evidence e;
	struct katls_ext_request r;
	int n;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (katls_ext_request_decode(data + 1, size - 1, &r))
			return 0;
		n = katls_ext_request_encode(&r, out, sizeof(out));
	} else if (!(data[0] & 2)) {
		if (katls_ext_evidence_decode(data + 1, size - 1, &e))
			return 0;
		if (e.evidence < data + 1 ||
		    e.evidence + e.evidence_len > data + size ||
		    (e.aux_len && e.aux + e.aux_len > data + size) ||
		    (e.version != 1 && e.version != 2) ||
		    katls_merkle_proof_check(&e.proof) ||
		    (e.version == 1) != (e.proof.tree_size == 1))
			abort();
		n = katls_ext_evidence_encode_batch(e.type, e.evidence,
						    e.evidence_len, e.aux,
						    e.aux_len, &e.proof, out,
						    sizeof(out));
		/* the evidence's first bytes as binder and report data */
		check_proof(e.evidence_len >= 64 ? e.evidence : zero,
			    e.aux_len >= 64 ? e.aux : zero, &e.proof);
	} else {
		size_t need = 1 + 4 + 4 + 1 + 64 + 64, plen;

		if (size < need)
			return 0;
		memset(&p, 0, sizeof(p));
		p.leaf_index = get32(data + 1);
		p.tree_size = get32(data + 5);
		p.path_len = data[9];
		plen = size - need;
		if (plen > sizeof(p.path))
			plen = sizeof(p.path);
		memcpy(p.path, data + need, plen);
		check_proof(data + 10, data + 74, &p);
		return 0;
	}
	if (n < 0 || (size_t)n != size - 1 || memcmp(out, data + 1, n))
		abort();
	return 0;
}
