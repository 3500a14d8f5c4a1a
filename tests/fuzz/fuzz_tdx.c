// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness: TDX quote parser and verifier. */
#include <katls/verify.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct katls_verify_opts o = { .at = 1780272000 };
	static struct katls_claims c;
	static struct katls_verdict v;

	katls_verdict_init(&v);
	if (katls_verify_tdx(data, size, &o, &c, &v) == 0 && !v.valid)
		__builtin_trap();	/* success must mean valid */
	katls_verify_evidence(KATLS_EVIDENCE_NONE, data, size, &o, &c, &v);
	return 0;
}
