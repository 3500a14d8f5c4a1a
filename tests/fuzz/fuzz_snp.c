// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: SEV-SNP report parser and verifier, with the sample
 * VCEKs available so that mutated reports reach the certificate checks.
 */
#include <katls/verify.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct katls_verify_opts o = {
		.at = 1780272000,
		.certs_dir = KATLS_EVIDENCE_DIR "/sev-snp",
	};
	static struct katls_claims c;
	static struct katls_verdict v;

	katls_verdict_init(&v);
	if (katls_verify_snp(data, size, &o, &c, &v) == 0 && !v.valid)
		__builtin_trap();
	return 0;
}
