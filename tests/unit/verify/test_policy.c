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

	p = parse("allow tdx snp cca\npin none\n", err, sizeof(err));
	tap_ok(p && !katls_policy_allows(p, KATLS_EVIDENCE_SIM),
	       "sim is not allowed unless named");
	katls_policy_free(p);
	p = parse("allow sim\npin none\n", err, sizeof(err));
	tap_ok(p && katls_policy_allows(p, KATLS_EVIDENCE_SIM) &&
	       !katls_policy_allows(p, KATLS_EVIDENCE_TDX), "allow sim names sim only");
	katls_policy_free(p);

	p = NULL;
	tap_ok(kv_policy_parse("/etc/katls/policies/edge-tdx.policy", "allow tdx\npin none\n",
			       19, &p, err, sizeof(err)) == 0 &&
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
/* T1 (SPR E4, 2023) runs without SEPT_VE_DISABLE: say so by name. */
#define T1_ATTR "tdx.attributes sept_ve_disable=any\n"
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

	tap_ok(eval("allow tdx\nmeasurement " T1_MRTD "\n" T1_ATTR, &t1, &v) == 0 &&
	       vt_check(&v, "measurement is an accepted value"),
	       "T1 MRTD exact match accepted");
	tap_ok(eval("allow tdx\nmeasurement " ZERO48 " " T1_MRTD "\n" T1_ATTR, &t1, &v) == 0,
	       "T1 MRTD in a set accepted");
	tap_ok(eval("allow tdx\nmeasurement " ZERO48 "\n", &t1, &v) < 0 &&
	       vt_error(&v, "measurement 6363b804"), "other MRTD rejected");
	tap_ok(eval("allow snp\npin none\n", &t1, &v) == -1 &&
	       vt_error(&v, "tdx evidence not allowed"), "type not allowed rejected");
	tap_ok(eval("allow tdx\npin none\n", &t4, &v) == -1 &&
	       vt_error(&v, "debug mode forbidden"), "debug TD rejected by default");
	tap_ok(eval("allow tdx\ndebug allow\npin none\n", &t4, &v) == 0,
	       "debug TD accepted when the policy allows debug");
	tap_ok(eval("allow tdx\ntdx.mrconfigid " T5_MRCONFIGID "\n", &t5, &v) == 0 &&
	       eval("allow tdx\ntdx.mrconfigid " T5_MRCONFIGID "\n", &t1, &v) < 0,
	       "MRCONFIGID rule: T5 accepted, T1 (zero) rejected");
	tap_ok(eval("allow tdx\ntdx.rtmr3 " ZERO48 "\ntdx.fmspc 50806f000000\n" T1_ATTR, &t1, &v) == 0 &&
	       eval("allow tdx\npin none\ntdx.fmspc 50806f000000\n", &t5, &v) == -1,
	       "RTMR3 and FMSPC rules");
	tap_ok(eval("allow tdx\npin none\n" T1_ATTR "tdx.min_tee_tcb_svn 03000400000000000000000000000000\n",
		    &t1, &v) == 0 &&
	       eval("allow tdx\npin none\n" T1_ATTR "tdx.min_tee_tcb_svn 03000500000000000000000000000000\n",
		    &t1, &v) == -1 && vt_error(&v, "component 2 is 4 < minimum 5"),
	       "TEE_TCB_SVN minimum: equal accepted, one more rejected");
	tap_ok(eval("allow tdx\npin none\n" T1_ATTR "tcb_status UpToDate\n", &t1, &v) == -1 &&
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
	tap_ok(eval("allow snp\npin none\ndebug allow\nsnp.min_tcb bl=2 tee=0 snp=5 ucode=68\n",
		    &s1, &v) == 0, "S1: its own TCB as minimum accepted");
	tap_ok(eval("allow snp\npin none\ndebug allow\nsnp.min_tcb bl=2 tee=0 snp=5 ucode=69\n",
		    &s1, &v) == -1 && vt_error(&v, "REPORTED_TCB.ucode 68 < minimum 69"),
	       "S1: ucode minimum one higher rejected");
	tap_ok(eval("allow snp\nmeasurement " S1_MEAS "\n", &s1, &v) == -1 &&
	       vt_error(&v, "debug mode forbidden"), "S1 (DEBUG policy) rejected by default");
	tap_ok(eval("allow snp\ndebug allow\nmeasurement " S1_MEAS "\nsnp.vmpl 0\n"
		    "snp.host_data 0000000000000000000000000000000000000000000000000000000000000000\n"
		    "snp.product milan\nsnp.signing_key vcek\n", &s1, &v) == 0,
	       "S1: measurement, VMPL, host data, product, key accepted");
	tap_ok(eval("allow snp\npin none\ndebug allow\nsnp.smt deny\n", &s1, &v) == -1 &&
	       vt_error(&v, "allows SMT"), "SMT deny rejects an SMT policy");
	tap_ok(eval("allow snp\npin none\nsnp.vmpl 0\n", &s3, &v) == -1 &&
	       vt_error(&v, "VMPL 1 not accepted"), "S3 at VMPL 1 rejected by vmpl 0");
	tap_ok(eval("allow snp\npin none\nsnp.vmpl 1\nsnp.signing_key vcek\n", &s3, &v) == -1 &&
	       eval("allow snp\npin none\nsnp.vmpl 1\nsnp.signing_key vlek vcek\n", &s3, &v) == 0,
	       "signing key rule: VLEK report needs vlek");
	tap_ok(eval("allow snp\npin none\nsnp.vmpl 1\nsnp.min_guest_svn 1\n", &s3, &v) == -1 &&
	       eval("allow snp\npin none\nsnp.vmpl 1\nsnp.product genoa turin\n", &s3, &v) == -1,
	       "GUEST_SVN minimum and product rules reject");
	s3.snp.policy |= 1ull << 18;
	tap_ok(eval("allow snp\npin none\nsnp.vmpl 1\n", &s3, &v) == -1 &&
	       vt_error(&v, "migration agent") &&
	       eval("allow snp\npin none\nsnp.vmpl 1\nsnp.migration_agent allow\n", &s3, &v) == 0,
	       "migration agent forbidden unless allowed");
}

static void test_sim_claims(void)
{
	struct katls_claims c;
	struct katls_verdict v;

	memset(&c, 0, sizeof(c));
	c.tee = KATLS_EVIDENCE_SIM;
	c.measurement_len = 48;
	tap_ok(eval("allow tdx snp cca\npin none\n", &c, &v) == -1 &&
	       vt_error(&v, "sim evidence not allowed"),
	       "sim claims rejected unless the policy names sim");
	tap_ok(eval("allow sim\nmeasurement " ZERO48 "\n", &c, &v) == 0,
	       "sim claims accepted by a policy that names sim");
	c.tee = KATLS_EVIDENCE_NONE;
	tap_ok(eval("allow tdx snp cca\npin none\n", &c, &v) == -1,
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
	vt_write(d, "a.policy", "allow tdx\npin none\n", 19);
	vt_write(d, "b.policy", "name beta\nallow snp\npin none\n", 29);
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
	vt_write(d, "c.policy", "name beta\nallow cca\npin none\n", 29);
	tap_ok(katls_policy_load_dir(d, &s, err, sizeof(err)) < 0 && !s &&
	       strstr(err, "already defined"), "duplicate names rejected");
	snprintf(path, sizeof(path), "%s/a.policy", d);
	tap_ok(katls_policy_load_file(path, &p, err, sizeof(err)) == 0 && p &&
	       !strcmp(katls_policy_name(p), "a"), "single file loads");
	katls_policy_free(p);

	/* issue 14 item 3: the client policy a server names must exist */
	unlink(path);
	snprintf(path, sizeof(path), "%s/c.policy", d);
	unlink(path);
	vt_write(d, "m.policy", "allow sim\npin none\nrequire_client_evidence ghost\n",
		 49);
	tap_ok(katls_policy_load_dir(d, &s, err, sizeof(err)) < 0 && !s &&
	       strstr(err, "m.policy:3:") && strstr(err, "no policy \"ghost\""),
	       "require_client_evidence naming no loaded policy: the set fails");
	vt_write(d, "m.policy", "allow sim\npin none\nrequire_client_evidence beta\n",
		 48);
	tap_ok(katls_policy_load_dir(d, &s, err, sizeof(err)) == 0 &&
	       !strcmp(katls_policy_client_evidence(katls_policy_find(s, "m")),
		       "beta"),
	       "require_client_evidence naming a loaded policy");
	katls_policy_set_free(s);
	s = NULL;
	vt_rmdir(strdup(d));
}

/* issue 11 item 2: defaults that hold unless a policy names a weaker one. */
static void test_secure_defaults(void)
{
	struct katls_claims t1, t5, s3;
	struct katls_verdict v;
	struct katls_policy *p;
	char err[256];

	/* load-time rules */
	expect_error("allow sim tdx\nmeasurement " ZERO48 "\n", "t.policy:1:",
		     "sim (test-only evidence, public key) cannot be mixed");
	expect_error("allow tdx\nallow sim\nmeasurement " ZERO48 "\n", "t.policy:1:",
		     "cannot be mixed with a real evidence type");
	expect_error("allow tdx\n", "t.policy:0:",
		     "pins no tdx workload");
	expect_error("allow snp\nsnp.vmpl 0\nsnp.min_guest_svn 2\n", "t.policy:0:",
		     "pins no snp workload (measurement, snp.host_data");
	expect_error("allow tdx snp\ntdx.rtmr0 " ZERO48 "\n", "t.policy:0:",
		     "pins no snp workload");
	expect_error("allow cca\ncca.platform_profile x\n", "t.policy:0:",
		     "pins no cca workload");
	expect_error("allow sim\n", "t.policy:0:", "pins no sim workload");
	expect_error("allow tdx\npin none\nmeasurement " ZERO48 "\n", "t.policy:2:",
		     "pin none, but line 3 pins");
	expect_error("allow tdx\npin all\n", "t.policy:2:", "only value is \"none\"");
	expect_error("allow tdx\npin none\ntcb_status UpToDate Revoked\n", "t.policy:3:",
		     "Revoked is always refused");
	expect_error("allow tdx\npin none\ntcb_status Fine\n", "t.policy:3:",
		     "unknown TCB status");
	expect_error("allow tdx\npin none\ntdx.attributes debug=any\n", "t.policy:3:",
		     "\"debug\" key");
	expect_error("allow tdx\npin none\ntdx.attributes pks=maybe\n", "t.policy:3:",
		     "not require, forbid or any");
	expect_error("allow tdx\npin none\ntdx.attributes pks=any pks=forbid\n",
		     "t.policy:3:", "given twice");
	expect_error("allow tdx\npin none\ntdx.attributes bit64=any\n", "t.policy:3:",
		     "unknown attribute");
	expect_error("allow snp\npin none\ntdx.attributes pks=any\n", "t.policy:3:",
		     "tdx rule, but tdx is not allowed");
	expect_error("allow sim\npin none\nevidence_bound_key allow\n", "t.policy:3:",
		     "must pin the workload");
	p = parse("allow tdx\npin = none\n", err, sizeof(err));
	tap_ok(p != NULL, "\"pin = none\" (the issue's spelling) is \"pin none\"");
	katls_policy_free(p);
	p = parse("allow sim\nmeasurement " ZERO48 "\nevidence_bound_key allow\n",
		  err, sizeof(err));
	tap_ok(p && katls_policy_evidence_bound_key(p),
	       "evidence_bound_key allow on a pinned policy");
	katls_policy_free(p);
	p = parse("allow sim\nmeasurement " ZERO48 "\n", err, sizeof(err));
	tap_ok(p && !katls_policy_evidence_bound_key(p) &&
	       !katls_policy_evidence_bound_key(NULL),
	       "evidence-bound keys refused unless the policy says so");
	katls_policy_free(p);

	if (!tap_ok(verify_sample("tdx/gtdx_v4_spr_e4_quote.dat", NULL, T_2026_06, &t1) == 0 &&
		    verify_sample("tdx/trustee_v4_quote6.dat", NULL, T_2026_06, &t5) == 0 &&
		    verify_sample("sev-snp/trustee_milan_v3_vlek_report.bin",
				  "sev-snp/trustee_milan_vlek.der", T_2025_06, &s3) == 0,
		    "samples for the default rules verify"))
		return;

	/* TCB status */
	snprintf(t5.tcb_status, sizeof(t5.tcb_status), "Revoked");
	tap_ok(eval("allow tdx\npin none\n", &t5, &v) == -1 &&
	       vt_error(&v, "TCB status Revoked (always refused)") &&
	       eval("allow tdx\npin none\ntcb_status OutOfDate UpToDate\n", &t5, &v) == -1,
	       "TCB Revoked refused by default and under any tcb_status list");
	snprintf(t5.tcb_status, sizeof(t5.tcb_status), "OutOfDate");
	tap_ok(eval("allow tdx\npin none\n", &t5, &v) == -1 &&
	       vt_error(&v, "TCB status OutOfDate refused (default") &&
	       eval("allow tdx\npin none\ntcb_status UpToDate OutOfDate\n", &t5, &v) == 0,
	       "TCB OutOfDate refused by default, accepted when named");
	snprintf(t5.tcb_status, sizeof(t5.tcb_status), "ConfigurationNeeded");
	tap_ok(eval("allow tdx\npin none\n", &t5, &v) == -1 &&
	       eval("allow tdx\npin none\ntcb_status ConfigurationNeeded\n", &t5, &v) == 0,
	       "TCB ConfigurationNeeded refused by default, accepted when named");
	snprintf(t5.tcb_status, sizeof(t5.tcb_status), "UpToDate");
	tap_ok(eval("allow tdx\npin none\n", &t5, &v) == 0, "TCB UpToDate accepted by default");
	t5.tcb_status[0] = '\0';
	tap_ok(eval("allow tdx\npin none\n", &t5, &v) == 0 &&
	       vt_check(&v, "info: policy t: TCB status unknown (no collateral), not checked"),
	       "unknown TCB status (no collateral) said at info level");

	/* TD attributes */
	tap_ok(eval("allow tdx\nmeasurement " T1_MRTD "\n", &t1, &v) == -1 &&
	       vt_error(&v, "TD attribute sept_ve_disable required but not set"),
	       "T1 without SEPT_VE_DISABLE refused by default");
	tap_ok(eval("allow tdx\npin none\ntdx.attributes sept_ve_disable=any pks=forbid\n",
		    &t1, &v) == -1 && vt_error(&v, "TD attribute pks set but refused"),
	       "pks=forbid refuses T1 (PKS set)");
	tap_ok(eval("allow tdx\npin none\ntdx.attributes kl=require\n", &t5, &v) == -1 &&
	       vt_error(&v, "TD attribute kl required but not set") &&
	       eval("allow tdx\npin none\n", &t5, &v) == 0,
	       "kl=require refuses T5 (KL clear), default accepts it");
	t5.tdx.td_attributes |= 1ull << 29;
	tap_ok(eval("allow tdx\npin none\n", &t5, &v) == -1 &&
	       vt_error(&v, "TD attribute migratable set but refused") &&
	       eval("allow tdx\npin none\ntdx.attributes migratable=any\n", &t5, &v) == 0,
	       "MIGRATABLE refused by default, accepted when named");
	t5.tdx.td_attributes &= ~(1ull << 29);
	t5.tdx.td_attributes |= 1ull << 5;
	tap_ok(eval("allow tdx\npin none\n", &t5, &v) == -1 &&
	       vt_error(&v, "TD attribute bit5 set but refused") &&
	       eval("allow tdx\npin none\ntdx.attributes bit5=any\n", &t5, &v) == 0,
	       "an unnamed attribute bit refused by default, accepted as bitN=any");
	t5.tdx.td_attributes &= ~(1ull << 5);
	t5.tdx.td_attributes |= 1ull << 63;
	tap_ok(eval("allow tdx\npin none\n", &t5, &v) == 0 &&
	       eval("allow tdx\npin none\ntdx.attributes perfmon=forbid\n", &t5, &v) == -1,
	       "PERFMON accepted by default, refused by perfmon=forbid");

	/* SNP */
	tap_ok(eval("allow snp\npin none\n", &s3, &v) == -1 &&
	       vt_error(&v, "VMPL 1 not accepted (default: only VMPL 0"),
	       "VMPL 1 refused by default");
	s3.snp.vmpl = 0;
	tap_ok(eval("allow snp\npin none\n", &s3, &v) == 0, "VMPL 0 accepted by default");
	s3.snp.reported_tcb = 0;
	tap_ok(eval("allow snp\npin none\n", &s3, &v) == -1 &&
	       vt_error(&v, "REPORTED_TCB is all zero"),
	       "all-zero REPORTED_TCB refused");
}

/* issue 14 item 1: "binding = intra | post | both", default intra */
static void test_binding(void)
{
	static const struct {
		const char *v;
		enum katls_policy_binding b;
	} ok[] = {
		{ "intra", KATLS_POLICY_BINDING_INTRA },
		{ "post", KATLS_POLICY_BINDING_POST },
		{ "both", KATLS_POLICY_BINDING_BOTH },
	};
	struct katls_policy *p;
	char err[256], text[256];
	size_t i;

	p = parse("allow sim\nmeasurement " ZERO48 "\n", err, sizeof(err));
	tap_ok(p && katls_policy_binding(p) == KATLS_POLICY_BINDING_INTRA &&
	       katls_policy_binding(NULL) == KATLS_POLICY_BINDING_INTRA,
	       "binding: default intra");
	katls_policy_free(p);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text),
			 "allow sim\nmeasurement " ZERO48 "\nbinding = %s\n",
			 ok[i].v);
		p = parse(text, err, sizeof(err));
		tap_ok(p && katls_policy_binding(p) == ok[i].b &&
		       !strcmp(katls_policy_binding_name(ok[i].b), ok[i].v),
		       "binding = %s", ok[i].v);
		katls_policy_free(p);
	}
	expect_error("allow sim\npin none\nbinding late\n", "t.policy:3:",
		     "binding: expects intra, post or both");
	expect_error("allow sim\npin none\nbinding post both\n", "t.policy:3:",
		     "binding: expects intra, post or both");
	expect_error("allow sim\npin none\nbinding\n", "t.policy:3:",
		     "binding: expects intra, post or both");
	expect_error("allow sim\npin none\nbinding post\nbinding post\n",
		     "t.policy:4:", "already set on line 3");
	expect_error("allow sim\npin none\nbinding Post\n", "t.policy:3:",
		     "binding: expects intra, post or both");
}

/* issue 14 item 3: "require_client_evidence POLICY", "client_attest" */
static void test_mutual_keys(void)
{
	struct katls_policy *p;
	char err[256];

	p = parse("allow sim\nmeasurement " ZERO48 "\n", err, sizeof(err));
	tap_ok(p && !katls_policy_client_evidence(p) &&
	       !katls_policy_client_evidence(NULL),
	       "require_client_evidence: default off");
	tap_ok(p && !katls_policy_client_attest(p) &&
	       !katls_policy_client_attest(NULL),
	       "client_attest: default deny");
	katls_policy_free(p);
	p = parse("allow sim\nmeasurement " ZERO48
		  "\nrequire_client_evidence = sim-client\nclient_attest allow\n",
		  err, sizeof(err));
	tap_ok(p && katls_policy_client_evidence(p) &&
	       !strcmp(katls_policy_client_evidence(p), "sim-client") &&
	       katls_policy_client_attest(p),
	       "require_client_evidence = sim-client, client_attest allow");
	katls_policy_free(p);
	p = parse("allow sim\nmeasurement " ZERO48
		  "\nrequire_client_evidence none\nclient_attest deny\n",
		  err, sizeof(err));
	tap_ok(p && !katls_policy_client_evidence(p) &&
	       !katls_policy_client_attest(p),
	       "require_client_evidence none: off, on purpose");
	katls_policy_free(p);
	expect_error("allow sim\npin none\nrequire_client_evidence\n",
		     "t.policy:3:", "require_client_evidence: expects");
	expect_error("allow sim\npin none\nrequire_client_evidence a b\n",
		     "t.policy:3:", "require_client_evidence: expects");
	expect_error("allow sim\npin none\nrequire_client_evidence bad/name\n",
		     "t.policy:3:", "require_client_evidence: expects");
	expect_error("allow sim\npin none\nrequire_client_evidence a\n"
		     "require_client_evidence a\n", "t.policy:4:",
		     "already set on line 3");
	expect_error("allow sim\npin none\nclient_attest yes\n", "t.policy:3:",
		     "allow or deny");
}

/*
 * issue 14 item 7: "max_connection_age DURATION | none", default none
 * (no limit); DURATION is a number with a unit ms, s, m, h or d, 1 ms to
 * 4294967295 ms (the kernel attribute is a u32 of milliseconds).
 */
static void test_max_connection_age(void)
{
	static const struct {
		const char *v;
		uint32_t ms;
	} ok[] = {
		{ "none", 0 },
		{ "1ms", 1 },
		{ "250ms", 250 },
		{ "30s", 30000 },
		{ "15m", 900000 },
		{ "12h", 43200000 },
		{ "7d", 604800000 },
		{ "49d", 4233600000u },
		{ "4294967295ms", 4294967295u },
	};
	static const char *const bad[] = {
		"0s", "0ms", "10", "10 s", "-1s", "1.5h", "s", "10y",
		"50d", "4294967296ms", "99999999999999999999s", "1hh", "",
	};
	struct katls_policy *p;
	char err[256], text[256];
	size_t i;

	p = parse("allow sim\nmeasurement " ZERO48 "\n", err, sizeof(err));
	tap_ok(p && katls_policy_max_age_ms(p) == 0 &&
	       katls_policy_max_age_ms(NULL) == 0,
	       "max_connection_age: default none (no limit)");
	katls_policy_free(p);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text),
			 "allow sim\nmeasurement " ZERO48
			 "\nmax_connection_age = %s\n", ok[i].v);
		p = parse(text, err, sizeof(err));
		if (!tap_ok(p && katls_policy_max_age_ms(p) == ok[i].ms,
			    "max_connection_age = %s -> %u ms", ok[i].v,
			    ok[i].ms))
			tap_diag("got: %s", p ? "another value" : err);
		katls_policy_free(p);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "allow sim\npin none\nmax_connection_age %s\n", bad[i]);
		expect_error(text, "t.policy:3:", "max_connection_age: expects");
	}
	expect_error("allow sim\npin none\nmax_connection_age 1h 2h\n",
		     "t.policy:3:", "max_connection_age: expects");
	expect_error("allow sim\npin none\nmax_connection_age 1h\n"
		     "max_connection_age 2h\n", "t.policy:4:",
		     "already set on line 3");
}

int main(void)
{
	tap_plan_lazy();
	test_max_connection_age();
	test_parse_errors();
	test_parse_ok();
	test_binding();
	test_mutual_keys();
	test_eval_tdx();
	test_eval_snp();
	test_sim_claims();
	test_secure_defaults();
	test_files();
	return tap_done();
}
