// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the SEV-SNP auxblob (GHCB certificate table) parser,
 * then the whole SNP verifier with the input as auxblob of a real report.
 */
#include <stdio.h>
#include <stdlib.h>

#include <katls/verify.h>
#include "verify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t report[0x4a0];
static size_t report_len;

static void load_report(void)
{
	FILE *f = fopen(KATLS_EVIDENCE_DIR "/sev-snp/gsev_milan_v2_report.bin", "rb");

	if (!f)
		abort();
	report_len = fread(report, 1, sizeof(report), f);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct katls_verify_opts o = { .at = 1780272000, .aux = data,
				       .aux_len = size };
	struct kv_snp_cert ents[KV_SNP_CERTS_MAX];
	static struct katls_claims c;
	static struct katls_verdict v;
	char err[160];
	int n, i;

	if (!report_len)
		load_report();
	n = kv_snp_cert_table_parse(data, size, ents, KV_SNP_CERTS_MAX, err,
				    sizeof(err));
	for (i = 0; i < n; i++)	/* every entry must lie inside the blob */
		if (ents[i].offset > size || ents[i].len > size - ents[i].offset)
			__builtin_trap();
	katls_verdict_init(&v);
	katls_verify_snp(report, report_len, &o, &c, &v);
	return 0;
}
