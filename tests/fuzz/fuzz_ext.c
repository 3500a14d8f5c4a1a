// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ext.c - libFuzzer harness for the katls extension decoders.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *	-Iinclude/uapi -Iuserspace/include tests/fuzz/fuzz_ext.c -o fuzz_ext
 *   ./fuzz_ext -max_len=70000
 *
 * The codec is compiled into this translation unit (it has no other
 * dependency), so the harness builds with whatever library a fuzz build
 * rule links; do not link libkatlsattest.a as well.
 *
 * The first input byte selects the decoder.  Properties: no decoder reads
 * out of bounds (ASan), and anything a decoder accepts re-encodes to
 * exactly the same bytes (the encoding is canonical).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <katls/ext.h>
#include "../../userspace/attest/ext.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[KATLS_EXT_BODY_MAX];
	struct katls_ext_evidence e;
	struct katls_ext_request r;
	int n;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (katls_ext_request_decode(data + 1, size - 1, &r))
			return 0;
		n = katls_ext_request_encode(&r, out, sizeof(out));
	} else {
		if (katls_ext_evidence_decode(data + 1, size - 1, &e))
			return 0;
		if (e.evidence < data + 1 ||
		    e.evidence + e.evidence_len > data + size ||
		    (e.aux_len && e.aux + e.aux_len > data + size))
			abort();
		n = katls_ext_evidence_encode(e.type, e.evidence,
					      e.evidence_len, e.aux,
					      e.aux_len, out, sizeof(out));
	}
	if (n < 0 || (size_t)n != size - 1 || memcmp(out, data + 1, n))
		abort();
	return 0;
}
