// SPDX-License-Identifier: GPL-2.0
/*
 * test_core.c - verdict lists, type detection, the dispatcher's evidence
 * digest and its fail-closed paths.
 */
#include "vtest.h"

static void test_verdict(void)
{
	struct katls_verdict v;
	int i;

	katls_verdict_init(&v);
	tap_ok(v.valid && v.nchecks == 0 && v.nerrors == 0, "init: valid, empty");
	katls_verdict_check(&v, "checked: %d", 1);
	tap_ok(v.valid && v.nchecks == 1 && !strcmp(v.checks[0], "checked: 1"),
	       "a check keeps valid");
	for (i = 0; i < 100; i++)
		katls_verdict_error(&v, "error %d", i);
	tap_ok(!v.valid && v.nerrors == KATLS_VERDICT_MAX_LINES &&
	       !strcmp(v.errors[0], "error 0") &&
	       strstr(v.errors[KATLS_VERDICT_MAX_LINES - 1], "omitted"),
	       "errors beyond the list end in a marker, valid cleared");
	katls_verdict_init(&v);
	for (i = 0; i < KATLS_VERDICT_MAX_LINES + 5; i++)
		katls_verdict_check(&v, "%0300d", i);
	tap_ok(v.valid && v.nchecks == KATLS_VERDICT_MAX_LINES &&
	       strlen(v.checks[0]) == KATLS_VERDICT_LINE - 1,
	       "long lines truncated, checks bounded");
}

static void test_detect(void)
{
	static const struct {
		const char *file;
		enum katls_evidence_type t;
	} s[] = {
		{ "tdx/gtdx_v4_spr_e4_quote.dat", KATLS_EVIDENCE_TDX },
		{ "tdx/gtdx_v5_quote.dat", KATLS_EVIDENCE_TDX },
		{ "tdx/negative/gtdx_v4_neg_version_0x000.dat", KATLS_EVIDENCE_TDX },
		{ "sev-snp/gsev_milan_v2_report.bin", KATLS_EVIDENCE_SNP },
		{ "sev-snp/trustee_milan_v3_vlek_report.bin", KATLS_EVIDENCE_SNP },
		{ "sev-snp/teekit_gcp_milan_v5_report.bin", KATLS_EVIDENCE_SNP },
		{ "cca/veraison_tfrmm_cca_token.cbor", KATLS_EVIDENCE_CCA },
		{ "sev-snp/gsev_milan_vcek.der", KATLS_EVIDENCE_NONE },
	};
	uint8_t sim[160] = "KATLSSIM";
	size_t i, len;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		uint8_t *ev = vt_read(s[i].file, &len);

		tap_ok(ev && katls_evidence_detect(ev, len) == s[i].t,
		       "detect %s: %s", s[i].file, katls_evidence_name(s[i].t));
		free(ev);
	}
	tap_ok(katls_evidence_detect(sim, sizeof(sim)) == KATLS_EVIDENCE_SIM,
	       "detect sim magic");
	tap_ok(katls_evidence_detect(NULL, 10) == KATLS_EVIDENCE_NONE &&
	       katls_evidence_detect(sim, 0) == KATLS_EVIDENCE_NONE,
	       "detect: nothing from nothing");
	tap_ok(!strcmp(katls_evidence_name(KATLS_EVIDENCE_TDX), "tdx") &&
	       !strcmp(katls_evidence_name(KATLS_EVIDENCE_SNP), "snp") &&
	       !strcmp(katls_evidence_name(KATLS_EVIDENCE_CCA), "cca") &&
	       !strcmp(katls_evidence_name(KATLS_EVIDENCE_SIM), "sim") &&
	       !strcmp(katls_evidence_name((enum katls_evidence_type)99), "unknown"),
	       "evidence names");
}

static void test_dispatch(void)
{
	struct katls_verify_opts o = { .at = T_2026_06 };
	struct katls_claims c;
	struct katls_verdict v;
	uint8_t junk[300];
	size_t len;
	uint8_t *ev = vt_read("tdx/gtdx_v4_spr_e4_quote.dat", &len);

	if (!ev)
		return;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, &o, &c, &v) == 0 &&
	       vt_eq_hex(c.evidence_digest, 32,
			 "6dde5548bec99147fef832643301f113df99931547be26df8ac376c4eaa5b5a7"),
	       "evidence digest is SHA-256 of the whole file (PROVENANCE sha256)");
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_SNP, ev, len, &o, &c, &v) < 0 &&
	       vt_error(&v, "SNP report:"), "TDX quote forced through SNP: invalid");
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, NULL, &c, &v) == 0 ||
	       vt_error(&v, "validity"), "NULL options mean defaults (now)");
	memset(junk, 0x5a, sizeof(junk));
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, junk, sizeof(junk), &o, &c, &v) < 0 &&
	       vt_error(&v, "evidence type not detected") &&
	       vt_error(&v, "expected: TDX quote (version 4/5, key type 2, TEE type 0x81), SEV-SNP report (1184 bytes), CCA token"),
	       "unknown bytes rejected, saying what was expected");
	/* issue 11 item 4: near misses are named */
	{
		uint8_t snp[1184] = { 0 }, tdx[64] = { 0 }, *pad;

		snp[0] = 9;
		tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, snp, sizeof(snp), &o, &c, &v) < 0 &&
		       vt_error(&v, "SEV-SNP? 1184 bytes, but version 9 / signature algorithm 0"),
		       "1184 bytes of another version: the SNP fields named");
		tdx[0] = 4;
		tdx[2] = 7;
		tdx[4] = 0x81;
		tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, tdx, sizeof(tdx), &o, &c, &v) < 0 &&
		       vt_error(&v, "TDX? TEE type 0x81, but attestation key type 7"),
		       "TDX header with another key type: named");
		pad = calloc(1, 1188);
		if (pad) {
			pad[0] = 2;
			pad[0x34] = 1;
			tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, pad, 1188, &o, &c, &v) < 0 &&
			       vt_error(&v, "a report is exactly 1184 bytes, this is 1188"),
			       "a padded SNP report: the length named");
			free(pad);
		}
	}
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, junk, 0, &o, &c, &v) < 0 &&
	       vt_error(&v, "no evidence"), "empty evidence rejected");
	tap_ok(katls_verify_evidence((enum katls_evidence_type)42, ev, len, &o, &c, &v) < 0,
	       "unknown type number rejected");
	free(ev);
}

int main(void)
{
	tap_plan_lazy();
	test_verdict();
	test_detect();
	test_dispatch();
	return tap_done();
}
