// SPDX-License-Identifier: GPL-2.0
/*
 * test_tdx.c - the TDX verifier over every TDX sample of
 * shared/testdata/evidence: positives verify with the values stated in
 * PROVENANCE.md (T1..T6), each negative fails on the check it targets.
 */
#include "vtest.h"

struct tdx_pos {
	const char *file;
	unsigned int version;
	bool debug;
	const char *mrtd, *report_data, *rtmr0, *mrconfigid, *mrseam;
	const char *tee_tcb_svn, *td_attributes, *xfam, *fmspc;
	size_t trailing;
};

static const struct tdx_pos pos[] = {
	{ "tdx/gtdx_v4_spr_e4_quote.dat", 4, false,
	  "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb",
	  "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113",
	  "2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a",
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656",
	  "03000400000000000000000000000000", "0000004000000000", "e71a060000000000",
	  "50806f000000", 39 },
	{ "tdx/gtdx_v5_quote.dat", 5, false,
	  "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876",
	  "945eaacf5abc1f719d8666a942fda03d1edcb4490277396093dc5a5289ab9f1e094aed63060cd4a4933a4dd537ed1255c9c79ecb3ed82cd1b486233e31c25c3a",
	  "5c8daf76063a71ac8fcef4067564661fc682ed7944c7a5d21dbbced02f61ceff4ba0678c6aef3bdae8cbc614cec24619",
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "7bf063280e94fb051f5dd7b1fc59ce9aac42bb961df8d44b709c9b0ff87a7b4df648657ba6d1189589feab1d5a3c9a9d",
	  "0b010400000000000000000000000000", "0000001000000000", "e702060000000000",
	  "90c06f000000", 0 },
	{ "tdx/gtdx_v4_gce_cos113_quote.dat", 4, false,
	  "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a",
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6",
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "ffc97a88587660fb04e1f7c851300c96ae0b5a463ac46d035d16c2d9f36d0ed1d23775bcbd27deb219e3a3cc28023895",
	  "04010700000000000000000000000000", "0000001000000000", "e700060000000000",
	  "00806f050000", 3065 },
	{ "tdx/trustee_v4_debug_quote.dat", 4, true,
	  "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
	  "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5f85b45c8a28fee1d3bdb38342bf96671501429",
	  "e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e63867eb41edd4b480fef0c59f496b288",
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656",
	  "03000500000000000000000000000000", "0100001000000000", "e742060000000000",
	  "50806f000000", 0 },
	{ "tdx/trustee_v4_quote6.dat", 4, false,
	  "21e8dead92d6c69d7cbba79816686c03a48485c7df0c11f6f04792d5e1d378f6b8c46615ba6946adccac6becffbb1e88",
	  "26cae1c77185617fb6a03fc29bf1f924596e52352b9b7594940b576ae126cd4a570cc3202a900c5d19a6eb0a95b32cfd00000000000000000000000000000000",
	  "395aefe7bac15b24c40f1cd7ba6f8fa48732be5c56c61485ed3cd9c8b16cce8ece64c331b99ce36d96605135c753aaa2",
	  "889abf4718f037e38d74464c11e7c91a6e9890b5546409e1e7df9de7a51ca93152bf847bd2440328e90adb18b150ed67",
	  "476a2997c62bccc78370913d0a80b956e3721b24272bc66c4d6307ced4be2865c40e26afac75f12df3425b03eb59ea7c",
	  "05030200000000000000000000000000", "0000001000000000", "e702060000000000",
	  "00a06d080000", 70 },
	{ "tdx/trustee_azure_v4_td_quote.bin", 4, false,
	  "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b",
	  "9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e5938390000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "360304d34a16aace0a18e09ad2d07d2b9fd3c174378e5bf108388079827f89ff62acc5f8c473dd40706324834e202946",
	  "02010600000000000000000000000000", "0000000000000000", "e718060000000000",
	  "00806f050000", 70 },
};

/* Negative sample -> the error its mutation must cause (PROVENANCE.md). */
static const struct {
	const char *file, *error, *absent;
} neg[] = {
	{ "tdx/negative/gtdx_v4_neg_version_0x000.dat", "version 3 not supported", NULL },
	{ "tdx/negative/gtdx_v4_neg_sigdatalen_0x278.dat",
	  "signature data length 4112 != 0x86", NULL },
	{ "tdx/negative/gtdx_v4_neg_header_0x01E.dat", "quote signature:", "PCK chain" },
	{ "tdx/negative/gtdx_v4_neg_body_0x03C.dat", "quote signature:", "PCK chain" },
	{ "tdx/negative/gtdx_v4_neg_quotesig_0x27C.dat", "quote signature:", "QE" },
	{ "tdx/negative/gtdx_v4_neg_qereport_0x342.dat", "QE report signature:",
	  "quote signature" },
	{ "tdx/negative/gtdx_v4_neg_qeauth_0x4C4.dat", "QE binding:", "quote signature" },
	{ "tdx/negative/gtdx_v4_neg_pckleaf_0xB77.dat",
	  "\"Intel SGX PCK Certificate\" is not signed by", "root pinning" },
	{ "tdx/negative/gtdx_v4_neg_intermediate_0xF5F.dat",
	  "\"Intel SGX PCK Platform CA\" is not signed by \"Intel SGX Root CA\"",
	  "root pinning" },
	{ "tdx/negative/gtdx_v4_neg_root_0x1329.dat", "root pinning:", "quote signature" },
	{ "tdx/negative/teekit_synthetic_v4_quote_test_root.dat", "root pinning:", NULL },
};

static uint64_t le64_of_hex(const char *hex)
{
	uint8_t b[8];
	uint64_t x = 0;
	int i;

	if (vt_unhex(hex, b, 8) != 8)
		return ~0ull;
	for (i = 7; i >= 0; i--)
		x = x << 8 | b[i];
	return x;
}

static void test_positive(const struct tdx_pos *t)
{
	struct katls_verify_opts o = { .at = T_2026_06 };
	struct katls_claims c;
	struct katls_verdict v;
	size_t len;
	uint8_t *ev = vt_read(t->file, &len);
	int r;

	if (!tap_ok(ev != NULL, "%s: readable", t->file))
		return;
	tap_ok(katls_evidence_detect(ev, len) == KATLS_EVIDENCE_TDX,
	       "%s: detected as TDX", t->file);
	r = katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, &o, &c, &v);
	if (!tap_ok(r == 0 && v.valid && v.nerrors == 0, "%s: valid", t->file))
		vt_dump(&v);
	tap_ok(c.tee == KATLS_EVIDENCE_TDX && c.version == t->version &&
	       c.measurement_len == 48 &&
	       vt_eq_hex(c.measurement, 48, t->mrtd),
	       "%s: v%u, MRTD", t->file, t->version);
	tap_ok(vt_eq_hex(c.report_data, 64, t->report_data), "%s: REPORTDATA",
	       t->file);
	tap_ok(vt_eq_hex(c.tdx.rtmr[0], 48, t->rtmr0) &&
	       vt_eq_hex(c.tdx.mrconfigid, 48, t->mrconfigid) &&
	       vt_eq_hex(c.tdx.mrseam, 48, t->mrseam) &&
	       vt_eq_hex(c.tdx.tee_tcb_svn, 16, t->tee_tcb_svn),
	       "%s: RTMR0, MRCONFIGID, MRSEAM, TEE_TCB_SVN", t->file);
	tap_ok(c.tdx.td_attributes == le64_of_hex(t->td_attributes) &&
	       c.tdx.xfam == le64_of_hex(t->xfam) && c.debug == t->debug,
	       "%s: TDATTRIBUTES, XFAM, debug=%d", t->file, t->debug);
	tap_ok(c.tdx.fmspc_valid && vt_eq_hex(c.tdx.fmspc, 6, t->fmspc),
	       "%s: FMSPC %s", t->file, t->fmspc);
	tap_ok(vt_check(&v, "not checked: TCB collateral not supplied") &&
	       vt_check(&v, "checked: QE report data binds") &&
	       vt_check(&v, "pinned root"),
	       "%s: verdict lists checks and what was not checked", t->file);
	if (t->trailing) {
		char note[64];

		snprintf(note, sizeof(note), "note: %zu bytes after", t->trailing);
		tap_ok(vt_check(&v, note), "%s: %zu trailing bytes reported",
		       t->file, t->trailing);
	}
	free(ev);
}

static void test_negative(const char *file, const char *error,
			  const char *absent)
{
	struct katls_verify_opts o = { .at = T_2026_06 };
	struct katls_claims c;
	struct katls_verdict v;
	size_t len;
	uint8_t *ev = vt_read(file, &len);
	int r;

	if (!tap_ok(ev != NULL, "%s: readable", file))
		return;
	r = katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, &o, &c, &v);
	if (!tap_ok(r == -1 && !v.valid && vt_error(&v, error),
		    "%s: invalid, \"%s\"", file, error))
		vt_dump(&v);
	if (absent && !tap_ok(!vt_error(&v, absent),
			      "%s: other checks pass (no \"%s\")", file, absent))
		vt_dump(&v);
	free(ev);
}

static void test_times(void)
{
	struct katls_verify_opts o = { .at = T_2023_07 };
	struct katls_claims c;
	struct katls_verdict v;
	size_t len;
	uint8_t *ev = vt_read("tdx/gtdx_v4_spr_e4_quote.dat", &len);
	uint8_t *ev5;
	size_t len5;

	if (!ev)
		return;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_TDX, ev, len, &o, &c, &v) == 0,
	       "T1 valid at 2023-07-01 (go-tdx-guest's clock)");
	o.at = 1884643200;	/* 2029-09-21, after the PCK leaf expired */
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_TDX, ev, len, &o, &c, &v) < 0 &&
	       vt_error(&v, "validity: \"Intel SGX PCK Certificate\""),
	       "T1 invalid once the PCK leaf expired");
	free(ev);

	ev5 = vt_read("tdx/gtdx_v5_quote.dat", &len5);
	if (!ev5)
		return;
	o.at = T_2023_07;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_TDX, ev5, len5, &o, &c, &v) < 0 &&
	       vt_error(&v, "validity:"),
	       "T2 invalid before its PCK leaf was issued");
	free(ev5);
}

static void test_fake_root(void)
{
	static const char *const files[] = {
		"tdx/negative/teekit_test_root_ca_same_dn.pem", NULL
	};
	static const char *const intel[] = { "roots/intel_sgx_root_ca.pem", NULL };
	struct katls_verify_opts o = { .at = T_2026_06 };
	struct katls_claims c;
	struct katls_verdict v;
	char *fake = vt_dir(files), *real = vt_dir(intel);
	size_t len;
	uint8_t *ev = vt_read("tdx/gtdx_v4_spr_e4_quote.dat", &len);
	uint8_t *syn;
	size_t slen;

	if (!ev || !fake || !real)
		goto out;
	o.roots_dir = fake;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, &o, &c, &v) < 0 &&
	       vt_error(&v, "root pinning:"),
	       "real quote fails with only the same-DN test root pinned");
	o.roots_dir = real;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, &o, &c, &v) == 0,
	       "real quote valid with roots_dir holding the Intel root");

	/* The synthetic quote is fine up to its own root... */
	syn = vt_read("tdx/negative/teekit_synthetic_v4_quote_test_root.dat", &slen);
	if (syn) {
		o.roots_dir = NULL;
		katls_verify_evidence(KATLS_EVIDENCE_NONE, syn, slen, &o, &c, &v);
		tap_ok(!v.valid && vt_check(&v, "checked: quote signature") &&
		       vt_check(&v, "checked: QE report signature") &&
		       vt_error(&v, "not PEM") && vt_error(&v, "root pinning:"),
		       "synthetic quote: signatures fine, non-PEM chain and fake root rejected");
		/* ...and even pinning the fake root does not fix the non-PEM chain. */
		o.roots_dir = fake;
		tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, syn, slen, &o,
					     &c, &v) < 0 && vt_error(&v, "not PEM"),
		       "synthetic quote invalid even when its own root is pinned");
		free(syn);
	}
out:
	free(ev);
	vt_rmdir(fake);
	vt_rmdir(real);
}

static void test_report_data(void)
{
	struct katls_verify_opts o = { .at = T_2026_06 };
	struct katls_claims c;
	struct katls_verdict v;
	uint8_t rd[64];
	size_t len;
	uint8_t *ev = vt_read("tdx/trustee_v4_quote6.dat", &len);

	if (!ev)
		return;
	vt_unhex(pos[4].report_data, rd, sizeof(rd));
	o.expected_report_data = rd;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, &o, &c, &v) == 0 &&
	       vt_check(&v, "report data equals the expected value"),
	       "expected report data accepted");
	rd[63] ^= 1;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, &o, &c, &v) < 0 &&
	       vt_error(&v, "report data differs"),
	       "different report data rejected");
	free(ev);
}

/* Every truncation is rejected without reading past the end. */
static void test_truncation(void)
{
	struct katls_verify_opts o = { .at = T_2026_06 };
	struct katls_claims c;
	struct katls_verdict v;
	size_t len, n, bad = 0;
	uint8_t *ev = vt_read("tdx/trustee_v4_debug_quote.dat", &len);
	uint8_t *copy;

	if (!ev)
		return;
	for (n = 0; n < len; n++) {
		copy = malloc(n ? n : 1);	/* exact size: ASan sees overreads */
		memcpy(copy, ev, n);
		memset(&c, 0, sizeof(c));
		katls_verdict_init(&v);
		if (katls_verify_tdx(copy, n, &o, &c, &v) == 0 || v.valid)
			bad++;
		free(copy);
	}
	tap_ok(bad == 0, "all %zu truncations of a 4936-byte quote rejected", len);
	free(ev);
}

/*
 * A flipped byte anywhere before the PEM chain (header, body, signature,
 * attestation key, QE report, its signature, QE auth data, the length
 * fields) breaks the quote.  The PEM armour itself is GnuTLS's to parse
 * and changes no certificate, so it is not part of this sweep.
 */
static void test_bitflips(void)
{
	struct katls_verify_opts o = { .at = T_2026_06 };
	struct katls_claims c;
	struct katls_verdict v;
	size_t len, i, accepted = 0, tried = 0;
	uint8_t *ev = vt_read("tdx/gtdx_v5_quote.dat", &len);

	if (!ev)
		return;
	/* v5, body type 3: PEM at 0x2c2 + 0x86 + 0x1c8 + 32 bytes of auth data */
	for (i = 0; i < 0x530 && i < len; i += 3) {
		ev[i] ^= 0x10;
		if (katls_verify_evidence(KATLS_EVIDENCE_TDX, ev, len, &o, &c, &v) == 0) {
			accepted++;
			tap_diag("accepted with byte 0x%zx flipped", i);
		}
		ev[i] ^= 0x10;
		tried++;
	}
	tap_ok(accepted == 0, "%zu single-byte mutations before the v5 PEM chain all rejected",
	       tried);
	free(ev);
}

int main(void)
{
	size_t i;

	tap_plan_lazy();
	for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++)
		test_positive(&pos[i]);
	for (i = 0; i < sizeof(neg) / sizeof(neg[0]); i++)
		test_negative(neg[i].file, neg[i].error, neg[i].absent);
	test_times();
	test_fake_root();
	test_report_data();
	test_truncation();
	test_bitflips();
	return tap_done();
}
