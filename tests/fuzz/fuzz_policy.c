// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the policy parser, then evaluation of whatever
 * parsed against claims of every type.
 */
#include <string.h>

#include <katls/verify.h>
#include "verify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct katls_policy *p = NULL;
	static struct katls_claims c;
	static struct katls_verdict v;
	char err[256];
	int t;

	if (kv_policy_parse("fuzz.policy", (const char *)data, size, &p, err,
			    sizeof(err)) < 0) {
		if (p || !memchr(err, ':', sizeof(err)))
			__builtin_trap();	/* errors are FILE:LINE, no policy */
		return 0;
	}
	for (t = KATLS_EVIDENCE_NONE; t <= KATLS_EVIDENCE_MAX; t++) {
		memset(&c, 0, sizeof(c));
		c.tee = (enum katls_evidence_type)t;
		c.measurement_len = size % 65;
		c.cca.rem_len = size % 70;
		c.snp.product = (uint8_t)(size % 4);
		c.debug = size & 1;
		if (size % 3 == 0)
			strcpy(c.tcb_status, "Revoked");
		katls_verdict_init(&v);
		if (katls_policy_eval(p, &c, &v) == 0 &&
		    !katls_policy_allows(p, c.tee))
			__builtin_trap();	/* never accept a disallowed type */
		/* issue 11 item 2: Revoked is never accepted */
		if (size % 3 == 0 && v.nerrors == 0 &&
		    katls_policy_allows(p, c.tee))
			__builtin_trap();
	}
	katls_policy_free(p);
	return 0;
}
