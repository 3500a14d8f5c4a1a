// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_cca.c - libFuzzer harness for the Arm CCA token verifier.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *	-Iinclude/uapi -Iuserspace/include \
 *	-DKATLS_EVIDENCE_DIR='"../shared/testdata/evidence"' \
 *	tests/fuzz/fuzz_cca.c userspace/verify/build/libkatlsverify.a \
 *	$(pkg-config --libs gnutls) -lcbor -o fuzz_cca
 *   ./fuzz_cca -max_len=8192 CORPUS $KATLS_EVIDENCE_DIR/cca
 *
 * The options are fixed: the sample's CPAK ($KATLS_EVIDENCE_DIR, default
 * from the build, /cca/tfrmm_cpak_pub.pem), so that mutated samples reach
 * both signature checks, and no expected report data.  Properties: no
 * out-of-bounds access or undefined behaviour (ASan/UBSan), the return
 * value agrees with the verdict, a rejection always says why, and the
 * claims stay within their arrays.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <katls/verify.h>

#ifndef KATLS_EVIDENCE_DIR
#define KATLS_EVIDENCE_DIR "../shared/testdata/evidence"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char cpak_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("KATLS_EVIDENCE_DIR");

	(void)argc;
	(void)argv;
	snprintf(cpak_path, sizeof(cpak_path), "%s/cca/tfrmm_cpak_pub.pem",
		 dir && *dir ? dir : KATLS_EVIDENCE_DIR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct katls_verify_opts o = { .cpak_file = cpak_path };
	static struct katls_claims c;
	static struct katls_verdict v;
	int ret;

	katls_verdict_init(&v);
	ret = katls_verify_cca(data, size, &o, &c, &v);

	if (ret != 0 && ret != -1)
		abort();
	if ((ret == 0) != (v.valid && v.nerrors == 0))
		abort();
	if (ret == -1 && (v.valid || !v.nerrors))
		abort();
	if (c.tee != KATLS_EVIDENCE_CCA ||
	    c.measurement_len > sizeof(c.measurement) ||
	    c.cca.rem_len > sizeof(c.cca.rem[0]) ||
	    c.cca.platform_impl_id_len > sizeof(c.cca.platform_impl_id) ||
	    !memchr(c.cca.hash_alg, 0, sizeof(c.cca.hash_alg)) ||
	    !memchr(c.cca.platform_profile, 0, sizeof(c.cca.platform_profile)))
		abort();
	/* Valid evidence always has a RIM and never claims debug wrongly. */
	if (ret == 0 && (!c.measurement_len ||
			 c.debug != ((c.cca.platform_lifecycle & 0xff00) != 0x3000)))
		abort();
	return 0;
}
