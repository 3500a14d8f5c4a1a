// SPDX-License-Identifier: GPL-2.0
/*
 * test_policy.c - policy files: parsing, FILE:LINE errors, directories,
 * and evaluation against the claims of real samples.
 */
#include "vtest.h"
#include "verify_int.h"

static struct katls_policy *parse(const char *text, char *err, size_t errlen)
{
	struct katls_policy *p = NULL;

	if (kv_policy_parse("t.policy", text, strlen(text), &p, err, errlen) < 0)
		return NULL;
	return p;
}

static void expect_error(const char *text, const char *where, const char *what)
{
	struct katls_policy *p;
	char err[256] = "";

	p = parse(text, err, sizeof(err));
	if (!tap_ok(!p && strstr(err, where) && strstr(err, what),
		    "rejected with \"%s ... %s\"", where, what))
		tap_diag("got: %s", err);
	katls_policy_free(p);
}

static void test_parse_errors(void)
{
	expect_error("allow tdx\nmeasurement 00\nbogus 1\n", "t.policy:3:",
		     "unknown key \"bogus\"");
	expect_error("# nothing\n\n", "t.policy:0:", "no \"allow\" line");
	expect_error("allow tdx vax\n", "t.policy:1:", "unknown evidence type");
	expect_error("allow all\n", "t.policy:1:", "unknown evidence type \"all\"");
	expect_error("allow tdx\ntdx.rtmr0 abcd\n", "t.policy:2:", "is not 48 bytes");
	expect_error("allow tdx\nmeasurement 0g\n", "t.policy:2:", "is not hex");
	expect_error("allow tdx\nmeasurement 012\n", "t.policy:2:", "1..64 bytes");
	expect_error("allow tdx\ndebug allow\ndebug deny\n", "t.policy:3:",
		     "already set on line 2");
	expect_error("allow tdx\ndebug maybe\n", "t.policy:2:", "allow or deny");
	expect_error("name a\nname b\nallow tdx\n", "t.policy:2:", "already set");
	expect_error("name bad/name\nallow tdx\n", "t.policy:1:", "name:");
	expect_error("allow tdx\n\n\nsnp.host_data "
		     "0000000000000000000000000000000000000000000000000000000000000000\n",
		     "t.policy:4:", "snp rule, but snp is not allowed");
	expect_error("allow snp\nsnp.min_tcb bl=2 xx=1\n", "t.policy:2:",
		     "unknown component");
	expect_error("allow snp\nsnp.min_tcb bl=256\n", "t.policy:2:", "0..255");
	expect_error("allow snp\nsnp.vmpl 4\n", "t.policy:2:", "VMPL 0..3");
	expect_error("allow snp\nsnp.min_guest_svn -1\n", "t.policy:2:", "not a number");
	expect_error("allow snp\nsnp.product epyc\n", "t.policy:2:", "unknown product");
	expect_error("allow cca\ntdx.mrowner " "00", "t.policy:2:", "48 bytes");
	{
		static const char nul[] = "allow tdx\nmeasure\0ment 00\n";
		struct katls_policy *p = NULL;
		char err[256] = "";

		tap_ok(kv_policy_parse("t.policy", nul, sizeof(nul) - 1, &p, err,
				       sizeof(err)) < 0 && strstr(err, "t.policy:2: NUL"),
		       "NUL byte rejected with its line");
		katls_policy_free(p);
	}
	{
		char *big = malloc(5000);
		char err[256] = "";

		memset(big, 'a', 5000);
		memcpy(big, "allow tdx\n#", 11);
		big[4999] = '\0';
		tap_ok(!parse(big, err, sizeof(err)) && strstr(err, "t.policy:2: line longer"),
		       "overlong line rejected");
		free(big);
	}
}

static void test_parse_ok(void)
{
	struct katls_policy *p;
	char err[256] = "";

	p = parse("# a TDX and SNP policy\n"
		  "name prod-1   # trailing comment\n"
		  "allow tdx\r\n"
		  "allow snp\n"
		  "measurement 00 0102\n"
		  "measurement 03\n"
		  "tcb_status UpToDate\n"
		  "snp.min_tcb bl=2 tee=0 snp=5 ucode=68\n", err, sizeof(err));
	if (!tap_ok(p != NULL, "valid policy parses"))
		tap_diag("%s", err);
	if (!p)
		return;
	tap_ok(!strcmp(katls_policy_name(p), "prod-1"), "name from the file");
	tap_ok(katls_policy_allows(p, KATLS_EVIDENCE_TDX) &&
	       katls_policy_allows(p, KATLS_EVIDENCE_SNP) &&
	       !katls_policy_allows(p, KATLS_EVIDENCE_CCA) &&
	       !katls_policy_allows(p, KATLS_EVIDENCE_SIM) &&
	       !katls_policy_allows(p, KATLS_EVIDENCE_NONE),
	       "allows exactly tdx and snp");
	katls_policy_free(p);

	p = parse("allow tdx snp cca\n", err, sizeof(err));
	tap_ok(p && !katls_policy_allows(p, KATLS_EVIDENCE_SIM),
	       "sim is not allowed unless named");
	katls_policy_free(p);
	p = parse("allow sim\n", err, sizeof(err));
	tap_ok(p && katls_policy_allows(p, KATLS_EVIDENCE_SIM) &&
	       !katls_policy_allows(p, KATLS_EVIDENCE_TDX), "allow sim names sim only");
	katls_policy_free(p);

	p = NULL;
	tap_ok(kv_policy_parse("/etc/katls/policies/edge-tdx.policy", "allow tdx\n",
			       10, &p, err, sizeof(err)) == 0 &&
	       !strcmp(katls_policy_name(p), "edge-tdx"),
	       "default name is the file name without .policy");
	katls_policy_free(p);
	tap_ok(!katls_policy_allows(NULL, KATLS_EVIDENCE_TDX) &&
	       !strcmp(katls_policy_name(NULL), "(none)"), "NULL policy allows nothing");
}

static int verify_sample(const char *rel, const char *cert, time_t at,
			 struct katls_claims *c)
{
	const char *files[] = { cert, NULL };
	struct katls_verify_opts o = { .at = at };
	struct katls_verdict v;
	char *dir = cert ? vt_dir(files) : NULL;
	size_t len;
	uint8_t *ev = vt_read(rel, &len);
	int r = -1;

	o.certs_dir = dir;
	if (ev)
		r = katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, &o, c, &v);
	free(ev);
	vt_rmdir(dir);
	return r;
}

static int eval(const char *text, const struct katls_claims *c,
		struct katls_verdict *v)
{
	struct katls_policy *p;
	char err[256];
	int r;

	katls_verdict_init(v);
	p = parse(text, err, sizeof(err));
	if (!p) {
		tap_diag("policy does not parse: %s", err);
		return -2;
	}
	r = katls_policy_eval(p, c, v);
	katls_policy_free(p);
	return r;
}

#define T1_MRTD "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb"
#define T5_MRCONFIGID "889abf4718f037e38d74464c11e7c91a6e9890b5546409e1e7df9de7a51ca93152bf847bd2440328e90adb18b150ed67"
#define S1_MEAS "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"
#define ZERO48 "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static void test_eval_tdx(void)
{
	struct katls_claims t1, t4, t5;
	struct katls_verdict v;

	if (!tap_ok(verify_sample("tdx/gtdx_v4_spr_e4_quote.dat", NULL, T_2026_06, &t1) == 0 &&
		    verify_sample("tdx/trustee_v4_debug_quote.dat", NULL, T_2026_06, &t4) == 0 &&
		    verify_sample("tdx/trustee_v4_quote6.dat", NULL, T_2026_06, &t5) == 0,
		    "TDX samples for policy tests verify"))
		return;

	tap_ok(eval("allow tdx\nmeasurement " T1_MRTD "\n", &t1, &v) == 0 &&
	       vt_check(&v, "measurement is an accepted value"),
	       "T1 MRTD exact match accepted");
	tap_ok(eval("allow tdx\nmeasurement " ZERO48 " " T1_MRTD "\n", &t1, &v) == 0,
	       "T1 MRTD in a set accepted");
	tap_ok(eval("allow tdx\nmeasurement " ZERO48 "\n", &t1, &v) < 0 &&
	       vt_error(&v, "measurement 6363b804"), "other MRTD rejected");
	tap_ok(eval("allow snp\n", &t1, &v) < 0 &&
	       vt_error(&v, "tdx evidence not allowed"), "type not allowed rejected");
	tap_ok(eval("allow tdx\n", &t4, &v) < 0 &&
	       vt_error(&v, "debug mode forbidden"), "debug TD rejected by default");
	tap_ok(eval("allow tdx\ndebug allow\n", &t4, &v) == 0,
	       "debug TD accepted when the policy allows debug");
	tap_ok(eval("allow tdx\ntdx.mrconfigid " T5_MRCONFIGID "\n", &t5, &v) == 0 &&
	       eval("allow tdx\ntdx.mrconfigid " T5_MRCONFIGID "\n", &t1, &v) < 0,
	       "MRCONFIGID rule: T5 accepted, T1 (zero) rejected");
	tap_ok(eval("allow tdx\ntdx.rtmr3 " ZERO48 "\ntdx.fmspc 50806f000000\n", &t1, &v) == 0 &&
	       eval("allow tdx\ntdx.fmspc 50806f000000\n", &t5, &v) < 0,
	       "RTMR3 and FMSPC rules");
	tap_ok(eval("allow tdx\ntdx.min_tee_tcb_svn 03000400000000000000000000000000\n",
		    &t1, &v) == 0 &&
	       eval("allow tdx\ntdx.min_tee_tcb_svn 03000500000000000000000000000000\n",
		    &t1, &v) < 0 && vt_error(&v, "component 2 is 4 < minimum 5"),
	       "TEE_TCB_SVN minimum: equal accepted, one more rejected");
	tap_ok(eval("allow tdx\ntcb_status UpToDate\n", &t1, &v) < 0 &&
	       vt_error(&v, "TCB status unknown not accepted"),
	       "a TCB status rule fails closed without collateral");
	tap_ok(katls_policy_eval(NULL, &t1, &v) < 0, "NULL policy never accepts");
}

static void test_eval_snp(void)
{
	struct katls_claims s1, s3;
	struct katls_verdict v;

	if (!tap_ok(verify_sample("sev-snp/gsev_milan_v2_report.bin",
				  "sev-snp/gsev_milan_vcek.der", T_2026_06, &s1) == 0 &&
		    verify_sample("sev-snp/trustee_milan_v3_vlek_report.bin",
				  "sev-snp/trustee_milan_vlek.der", T_2025_06, &s3) == 0,
		    "SNP samples for policy tests verify"))
		return;
	/* go-sev-guest: minimum TCB 0x4405000000000002 accepted, +1 rejected */
	tap_ok(eval("allow snp\ndebug allow\nsnp.min_tcb bl=2 tee=0 snp=5 ucode=68\n",
		    &s1, &v) == 0, "S1: its own TCB as minimum accepted");
	tap_ok(eval("allow snp\ndebug allow\nsnp.min_tcb bl=2 tee=0 snp=5 ucode=69\n",
		    &s1, &v) < 0 && vt_error(&v, "REPORTED_TCB.ucode 68 < minimum 69"),
	       "S1: ucode minimum one higher rejected");
	tap_ok(eval("allow snp\nmeasurement " S1_MEAS "\n", &s1, &v) < 0 &&
	       vt_error(&v, "debug mode forbidden"), "S1 (DEBUG policy) rejected by default");
	tap_ok(eval("allow snp\ndebug allow\nmeasurement " S1_MEAS "\nsnp.vmpl 0\n"
		    "snp.host_data 0000000000000000000000000000000000000000000000000000000000000000\n"
		    "snp.product milan\nsnp.signing_key vcek\n", &s1, &v) == 0,
	       "S1: measurement, VMPL, host data, product, key accepted");
	tap_ok(eval("allow snp\ndebug allow\nsnp.smt deny\n", &s1, &v) < 0 &&
	       vt_error(&v, "allows SMT"), "SMT deny rejects an SMT policy");
	tap_ok(eval("allow snp\nsnp.vmpl 0\n", &s3, &v) < 0 &&
	       vt_error(&v, "VMPL 1 not accepted"), "S3 at VMPL 1 rejected by vmpl 0");
	tap_ok(eval("allow snp\nsnp.signing_key vcek\n", &s3, &v) < 0 &&
	       eval("allow snp\nsnp.signing_key vlek vcek\n", &s3, &v) == 0,
	       "signing key rule: VLEK report needs vlek");
	tap_ok(eval("allow snp\nsnp.min_guest_svn 1\n", &s3, &v) < 0 &&
	       eval("allow snp\nsnp.product genoa turin\n", &s3, &v) < 0,
	       "GUEST_SVN minimum and product rules reject");
	s3.snp.policy |= 1ull << 18;
	tap_ok(eval("allow snp\n", &s3, &v) < 0 && vt_error(&v, "migration agent") &&
	       eval("allow snp\nsnp.migration_agent allow\n", &s3, &v) == 0,
	       "migration agent forbidden unless allowed");
}

static void test_sim_claims(void)
{
	struct katls_claims c;
	struct katls_verdict v;

	memset(&c, 0, sizeof(c));
	c.tee = KATLS_EVIDENCE_SIM;
	c.measurement_len = 48;
	tap_ok(eval("allow tdx snp cca\n", &c, &v) < 0 &&
	       vt_error(&v, "sim evidence not allowed"),
	       "sim claims rejected unless the policy names sim");
	tap_ok(eval("allow sim\nmeasurement " ZERO48 "\n", &c, &v) == 0,
	       "sim claims accepted by a policy that names sim");
	c.tee = KATLS_EVIDENCE_NONE;
	tap_ok(eval("allow tdx snp cca sim\n", &c, &v) < 0,
	       "claims without a type never accepted");
}

static void test_files(void)
{
	char tmpl[] = "/tmp/katls-pol.XXXXXX", path[512], err[512] = "";
	struct katls_policy_set *s = NULL;
	struct katls_policy *p = NULL;
	char *d = mkdtemp(tmpl);

	if (!tap_ok(d != NULL, "temp dir"))
		return;
	vt_write(d, "a.policy", "allow tdx\n", 10);
	vt_write(d, "b.policy", "name beta\nallow snp\n", 20);
	vt_write(d, "notes.txt", "garbage\n", 8);
	tap_ok(katls_policy_load_dir(d, &s, err, sizeof(err)) == 0 &&
	       katls_policy_find(s, "a") && katls_policy_find(s, "beta") &&
	       !katls_policy_find(s, "b") && !katls_policy_find(s, "notes"),
	       "directory: *.policy loaded, names from file or name line");
	katls_policy_set_free(s);
	s = NULL;

	vt_write(d, "c.policy", "allow tdx\n\nmeasurement zz\n", 25);
	snprintf(path, sizeof(path), "%s/c.policy:3:", d);
	tap_ok(katls_policy_load_dir(d, &s, err, sizeof(err)) < 0 && !s &&
	       strstr(err, path), "one broken file fails the whole set, FILE:LINE");
	tap_ok(katls_policy_load_file(path, &p, err, sizeof(err)) < 0 && !p,
	       "missing file is an error");
	snprintf(path, sizeof(path), "%s/c.policy", d);
	vt_write(d, "c.policy", "name beta\nallow cca\n", 20);
	tap_ok(katls_policy_load_dir(d, &s, err, sizeof(err)) < 0 && !s &&
	       strstr(err, "already defined"), "duplicate names rejected");
	snprintf(path, sizeof(path), "%s/a.policy", d);
	tap_ok(katls_policy_load_file(path, &p, err, sizeof(err)) == 0 && p &&
	       !strcmp(katls_policy_name(p), "a"), "single file loads");
	katls_policy_free(p);
	vt_rmdir(strdup(d));
}

int main(void)
{
	tap_plan_lazy();
	test_parse_errors();
	test_parse_ok();
	test_eval_tdx();
	test_eval_snp();
	test_sim_claims();
	test_files();
	return tap_done();
}
