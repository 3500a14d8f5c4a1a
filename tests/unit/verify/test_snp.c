// SPDX-License-Identifier: GPL-2.0
/*
 * test_snp.c - the SEV-SNP verifier over every SNP sample of
 * shared/testdata/evidence (PROVENANCE.md S1..S6, the negatives and the
 * negative pairings), and the auxblob certificate-table parser.
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "vtest.h"
#include "verify_int.h"

struct snp_pos {
	const char *report, *cert;
	time_t at;
	unsigned int version, vmpl, guest_svn, signing_key, product;
	uint64_t policy, reported_tcb;
	bool debug;
	const char *measurement, *report_data, *chip_id, *id_key_digest,
		   *family_id;
};

static const struct snp_pos pos[] = {
	{ "sev-snp/gsev_milan_v2_report.bin", "sev-snp/gsev_milan_vcek.der",
	  T_2026_06, 2, 0, 0, 0, 1, 0xb0000, 4901323769462652930ull, true,
	  "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
	  "01020304050000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d",
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "00000000000000000000000000000000" },
	{ "sev-snp/trustee_milan_v2_idblock_report.bin", "sev-snp/trustee_milan_vcek.der",
	  T_2026_06, 2, 0, 4, 0, 1, 0x3001f, 8288875114175397891ull, false,
	  "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c",
	  "ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e20000000000000000000000000000000000000000000000000000000000000000",
	  "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e",
	  "0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3",
	  "01000000000000000000000000000000" },
	{ "sev-snp/trustee_milan_v3_vlek_report.bin", "sev-snp/trustee_milan_vlek.der",
	  T_2025_06, 3, 1, 0, 1, 1, 0x30000, 15643253305671417860ull, false,
	  "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0",
	  "819770b7e6ea6df8dd8fd4dd146b073c0bf4f3ce5b0977ecac486e3a05ed1bd54e2a7ac1f5d1ca02e7d7d5ef9f73b8574fd9359e3a480d741a4478e8a7bc27ca",
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "00000000000000000000000000000000" },
	{ "sev-snp/teekit_gcp_milan_v5_report.bin", "sev-snp/teekit_gcp_milan_vcek.pem",
	  T_2026_06, 5, 0, 0, 0, 1, 0x30000, 16004385700791189508ull, false,
	  "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3",
	  "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "980cf7b61876cb37fd517cd44ce11c72d43c5408e66ab39138370ec59bc195e063254cb501d87d82f0b8b8dc774bcfe28019447711598f007390e4accc405361",
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "00000000000000000000000000000000" },
	{ "sev-snp/teekit_gcp_milan_v5_reportdata_report.bin", "sev-snp/teekit_gcp_milan_vcek.pem",
	  T_2026_06, 5, 1, 0, 0, 1, 0x30000, 16004385700791189508ull, false,
	  "b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3",
	  "32fc4f6c1971cbf91566231f8d6153eeb9d093aa94306cb48d39bcc4861a3d395f149876a37bc91332fe493f46294fd135d5b95d363ae96352b8c45f906079f5",
	  "980cf7b61876cb37fd517cd44ce11c72d43c5408e66ab39138370ec59bc195e063254cb501d87d82f0b8b8dc774bcfe28019447711598f007390e4accc405361",
	  "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
	  "00000000000000000000000000000000" },
	{ "sev-snp/azure_genoa_v3_report.bin", "sev-snp/azure_genoa_vcek.pem",
	  T_2026_06, 3, 0, 65547, 0, 2, 0x3001f, 6059311823650291722ull, false,
	  "f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae",
	  "b581f12e29a2d7d64e5e0b738d563879a78b51c644d0fa0cce02b48699f6bf5f0000000000000000000000000000000000000000000000000000000000000000",
	  "0506ffba875e939c2729d20c74eb72b4c5ba6bf7ea1faaa640141f12c6d64782fb487f68ce69dcd021e914cc0d9244327bc121f0242d6470903ad1d4aaea4ad1",
	  "942fd93ebde6ea7a96efadeafc60f1c6b3d10e703b1dafd7555b92f7f3d32d0e006767648cba5b102af3d65756af4177",
	  "01232000000000000000000000000000" },
};

static int verify_file(const char *report, const struct katls_verify_opts *o,
		       struct katls_claims *c, struct katls_verdict *v)
{
	size_t len;
	uint8_t *ev = vt_read(report, &len);
	int r;

	if (!ev) {
		katls_verdict_init(v);
		katls_verdict_error(v, "test: cannot read %s", report);
		return -2;
	}
	r = katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, o, c, v);
	free(ev);
	return r;
}

static void test_positive(const struct snp_pos *t)
{
	const char *files[] = { t->cert, NULL };
	struct katls_verify_opts o = { .at = t->at };
	struct katls_claims c;
	struct katls_verdict v;
	char *dir = vt_dir(files);

	o.certs_dir = dir;
	if (!tap_ok(dir && verify_file(t->report, &o, &c, &v) == 0 && v.valid,
		    "%s: valid with %s", t->report, t->cert))
		vt_dump(&v);
	tap_ok(c.tee == KATLS_EVIDENCE_SNP && c.version == t->version &&
	       c.snp.vmpl == t->vmpl && c.snp.guest_svn == t->guest_svn &&
	       c.snp.policy == t->policy && c.debug == t->debug,
	       "%s: version %u, VMPL %u, GUEST_SVN %u, policy 0x%llx, debug %d",
	       t->report, t->version, t->vmpl, t->guest_svn,
	       (unsigned long long)t->policy, t->debug);
	tap_ok(c.measurement_len == 48 &&
	       vt_eq_hex(c.measurement, 48, t->measurement) &&
	       vt_eq_hex(c.report_data, 64, t->report_data),
	       "%s: MEASUREMENT and REPORT_DATA", t->report);
	tap_ok(c.snp.reported_tcb == t->reported_tcb &&
	       c.snp.signing_key == t->signing_key && c.snp.product == t->product,
	       "%s: REPORTED_TCB %llu, %s, product %u", t->report,
	       (unsigned long long)t->reported_tcb,
	       t->signing_key ? "VLEK" : "VCEK", t->product);
	tap_ok(vt_eq_hex(c.snp.chip_id, 64, t->chip_id) &&
	       vt_eq_hex(c.snp.id_key_digest, 48, t->id_key_digest) &&
	       vt_eq_hex(c.snp.family_id, 16, t->family_id) &&
	       kv_all_zero(c.snp.host_data, 32) &&
	       kv_all_zero(c.snp.author_key_digest, 48),
	       "%s: CHIP_ID, ID_KEY_DIGEST, FAMILY_ID, HOST_DATA, AUTHOR_KEY_DIGEST",
	       t->report);
	tap_ok(vt_check(&v, "matches the signing certificate's SPLs") &&
	       vt_check(&v, "pinned root \"ARK-") &&
	       vt_check(&v, t->signing_key ? "not checked: CHIP_ID" :
					     "CHIP_ID equals the VCEK's hwID"),
	       "%s: TCB, chain and CHIP_ID reported", t->report);
	vt_rmdir(dir);
}

/* An auxblob: GUID table, terminator, then the DER certificates. */
static size_t make_aux(uint8_t *out, size_t max, uint8_t (*guid)[16],
		       const gnutls_datum_t *der, unsigned int n)
{
	size_t off = 24 * (n + 1), i;

	memset(out, 0, max);
	for (i = 0; i < n; i++) {
		if (off + der[i].size > max)
			return 0;
		memcpy(out + 24 * i, guid[i], 16);
		out[24 * i + 16] = off & 0xff;
		out[24 * i + 17] = (off >> 8) & 0xff;
		out[24 * i + 20] = der[i].size & 0xff;
		out[24 * i + 21] = (der[i].size >> 8) & 0xff;
		memcpy(out + off, der[i].data, der[i].size);
		off += der[i].size;
	}
	return off;
}

static int to_der(const char *rel, unsigned int idx, gnutls_datum_t *out)
{
	size_t len;
	uint8_t *buf = vt_read(rel, &len);
	gnutls_datum_t in = { buf, (unsigned int)len };
	gnutls_x509_crt_t *list = NULL;
	unsigned int n = 0, i;
	int r = -1;

	if (!buf)
		return -1;
	if (gnutls_x509_crt_list_import2(&list, &n, &in,
			memmem(buf, len, "-----BEGIN", 10) ? GNUTLS_X509_FMT_PEM :
							   GNUTLS_X509_FMT_DER,
			0) >= 0 && idx < n)
		r = gnutls_x509_crt_export2(list[idx], GNUTLS_X509_FMT_DER, out);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	free(buf);
	return r < 0 ? -1 : 0;
}

static void test_aux(void)
{
	static const char *const ark_only[] = { "roots/amd_milan_ark.pem", NULL };
	uint8_t guids[2][16];
	gnutls_datum_t der[2] = { { NULL, 0 }, { NULL, 0 } };
	struct katls_verify_opts o = { .at = T_2026_06 };
	struct katls_claims c;
	struct katls_verdict v;
	static uint8_t aux[8192];
	char *roots = vt_dir(ark_only);
	size_t n;

	memcpy(guids[0], kv_guid_vcek, 16);
	memcpy(guids[1], kv_guid_ask, 16);
	if (to_der("sev-snp/teekit_gcp_milan_vcek.pem", 0, &der[0]) < 0 ||
	    to_der("roots/amd_milan_ask_ark.pem", 0, &der[1]) < 0 || !roots) {
		tap_ok(0, "aux: test certificates convert");
		goto out;
	}
	n = make_aux(aux, sizeof(aux), guids, der, 1);
	o.aux = aux;
	o.aux_len = n;
	if (!tap_ok(verify_file("sev-snp/teekit_gcp_milan_v5_reportdata_report.bin",
				&o, &c, &v) == 0 &&
		    vt_check(&v, "auxblob certificate table (1 entries)"),
		    "v5 report valid with the VCEK from the auxblob"))
		vt_dump(&v);

	/* Only the ARK pinned: the ASK must come from the table. */
	o.roots_dir = roots;
	tap_ok(verify_file("sev-snp/teekit_gcp_milan_v5_reportdata_report.bin",
			   &o, &c, &v) < 0 &&
	       vt_error(&v, "no ASK/ASVK certificate"),
	       "ARK-only roots and no ASK in the table: chain fails");
	n = make_aux(aux, sizeof(aux), guids, der, 2);
	o.aux_len = n;
	if (!tap_ok(verify_file("sev-snp/teekit_gcp_milan_v5_reportdata_report.bin",
				&o, &c, &v) == 0,
		    "ARK-only roots, ASK from the table: valid"))
		vt_dump(&v);

	/* An entry that points outside the blob makes the auxblob unusable. */
	aux[24 + 20] = 0xff;
	aux[24 + 21] = 0xff;
	tap_ok(verify_file("sev-snp/teekit_gcp_milan_v5_reportdata_report.bin",
			   &o, &c, &v) < 0 && vt_error(&v, "auxblob: certificate table"),
	       "malformed auxblob rejected");

	/* The VCEK of another chip in the table. */
	gnutls_free(der[0].data);
	der[0].data = NULL;
	if (to_der("sev-snp/gsev_milan_vcek.der", 0, &der[0]) == 0) {
		o.aux_len = make_aux(aux, sizeof(aux), guids, der, 2);
		tap_ok(verify_file("sev-snp/teekit_gcp_milan_v5_report.bin", &o,
				   &c, &v) < 0 &&
		       vt_error(&v, "report signature: does not verify"),
		       "another chip's VCEK in the table: signature fails");
	}
out:
	gnutls_free(der[0].data);
	gnutls_free(der[1].data);
	vt_rmdir(roots);
}

static void test_negative(const char *report, const char *cert,
			  const char *root, time_t at, const char *error,
			  const char *what)
{
	const char *files[] = { cert, NULL };
	const char *rfiles[] = { root, NULL };
	struct katls_verify_opts o = { .at = at };
	struct katls_claims c;
	struct katls_verdict v;
	char *dir = cert ? vt_dir(files) : NULL;
	char *rdir = root ? vt_dir(rfiles) : NULL;

	o.certs_dir = dir;
	o.roots_dir = rdir;
	if (!tap_ok(verify_file(report, &o, &c, &v) == -1 && !v.valid &&
		    vt_error(&v, error), "%s: %s", what, error))
		vt_dump(&v);
	vt_rmdir(dir);
	vt_rmdir(rdir);
}

static void test_cert_table(void)
{
	struct kv_snp_cert e[4];
	uint8_t t[24 * 6];
	char err[160];

	memset(t, 0, sizeof(t));
	tap_ok(kv_snp_cert_table_parse(t, 24, e, 4, err, sizeof(err)) == 0,
	       "cert table: a lone terminator is an empty table");
	tap_ok(kv_snp_cert_table_parse(t, 23, e, 4, err, sizeof(err)) < 0,
	       "cert table: 23 bytes hold no terminator");
	tap_ok(kv_snp_cert_table_parse(t, 0, e, 4, err, sizeof(err)) < 0,
	       "cert table: empty blob rejected");
	memcpy(t, kv_guid_vcek, 16);
	t[16] = 48;		/* offset 48, length 8: inside a 56-byte blob */
	t[20] = 8;
	tap_ok(kv_snp_cert_table_parse(t, 56, e, 4, err, sizeof(err)) == 1 &&
	       e[0].offset == 48 && e[0].len == 8 && !memcmp(e[0].guid, kv_guid_vcek, 16),
	       "cert table: one entry parsed");
	tap_ok(kv_snp_cert_table_parse(t, 55, e, 4, err, sizeof(err)) < 0,
	       "cert table: entry one byte past the end rejected");
	t[16] = 0xff;
	t[17] = 0xff;
	t[18] = 0xff;
	t[19] = 0xff;		/* offset 0xffffffff + 8 wraps in 32 bits */
	tap_ok(kv_snp_cert_table_parse(t, sizeof(t), e, 4, err, sizeof(err)) < 0,
	       "cert table: wrapping offset rejected");
	memset(t, 0, sizeof(t));
	for (int i = 0; i < 5; i++) {
		t[24 * i] = (uint8_t)(i + 1);
		t[24 * i + 16] = 0;
		t[24 * i + 20] = 1;
	}
	tap_ok(kv_snp_cert_table_parse(t, sizeof(t), e, 4, err, sizeof(err)) < 0 &&
	       strstr(err, "more than 4"), "cert table: more entries than room rejected");
	memset(t + 24, 0, 24);
	t[20] = 0;		/* zero length */
	tap_ok(kv_snp_cert_table_parse(t, sizeof(t), e, 4, err, sizeof(err)) < 0,
	       "cert table: zero-length entry rejected");
}

static void test_structure(void)
{
	const char *files[] = { "sev-snp/gsev_milan_vcek.der", NULL };
	struct katls_verify_opts o = { .at = T_2026_06 };
	struct katls_claims c;
	struct katls_verdict v;
	char *dir = vt_dir(files);
	size_t len;
	uint8_t *ev = vt_read("sev-snp/gsev_milan_v2_report.bin", &len);
	uint8_t rd[64] = { 1, 2, 3, 4, 5 };

	if (!ev || !dir)
		goto out;
	o.certs_dir = dir;
	o.expected_report_data = rd;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_SNP, ev, len, &o, &c, &v) == 0,
	       "S1 with expected report data 0102030405 00.. valid");
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_SNP, ev, len - 1, &o, &c, &v) < 0 &&
	       vt_error(&v, "1183 bytes"), "short report rejected");
	ev[0] = 4;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_SNP, ev, len, &o, &c, &v) < 0 &&
	       vt_error(&v, "version 4 not supported"), "version 4 rejected");
	ev[0] = 2;
	ev[0x34] = 2;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_SNP, ev, len, &o, &c, &v) < 0 &&
	       vt_error(&v, "signature algorithm 2"), "signature algorithm 2 rejected");
	ev[0x34] = 1;
	ev[0x2a0 + 60] = 1;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_SNP, ev, len, &o, &c, &v) < 0 &&
	       vt_error(&v, "wider than 48 bytes"), "R wider than 48 bytes rejected");
	ev[0x2a0 + 60] = 0;
	ev[0x48] = 2 << 2;	/* SIGNING_KEY 2: reserved */
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_SNP, ev, len, &o, &c, &v) < 0 &&
	       vt_error(&v, "neither VCEK nor VLEK"), "reserved signing key rejected");
	ev[0x48] = 0;
	o.certs_dir = NULL;
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_SNP, ev, len, &o, &c, &v) < 0 &&
	       vt_error(&v, "no VCEK supplied"), "no VCEK anywhere: invalid");
out:
	free(ev);
	vt_rmdir(dir);
}

/* issue 11 item 3: a configured collateral directory without a CRL. */
static void test_collateral_without_crl(void)
{
	static const char *const files[] = { "sev-snp/gsev_milan_vcek.der", NULL };
	static const char *const none[] = { NULL };
	struct katls_verify_opts o = { .at = T_2026_06 };
	struct katls_claims c;
	struct katls_verdict v;
	char *dir = vt_dir(files), *coll = vt_dir(none);

	o.certs_dir = dir;
	o.collateral_dir = coll;
	tap_ok(dir && coll &&
	       verify_file("sev-snp/gsev_milan_v2_report.bin", &o, &c, &v) < 0 &&
	       vt_error(&v, "has no CRL of \"ARK-Milan\""),
	       "SNP: collateral directory without the ARK's CRL is an error");
	vt_rmdir(dir);
	vt_rmdir(coll);
}

int main(void)
{
	size_t i;

	tap_plan_lazy();
	for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++)
		test_positive(&pos[i]);
	test_aux();
	test_collateral_without_crl();

	test_negative("sev-snp/negative/trustee_milan_v2_neg_byte042.bin",
		      "sev-snp/trustee_milan_vcek.der", NULL, T_2026_06,
		      "report signature: does not verify", "IMAGE_ID byte changed");
	test_negative("sev-snp/negative/trustee_milan_v2_neg_byte384.bin",
		      "sev-snp/trustee_milan_vcek.der", NULL, T_2026_06,
		      "report signature: does not verify", "REPORTED_TCB byte changed");
	test_negative("sev-snp/negative/trustee_milan_v2_neg_byte384.bin",
		      "sev-snp/trustee_milan_vcek.der", NULL, T_2026_06,
		      "REPORTED_TCB blSPL 4 != 3", "REPORTED_TCB byte changed");
	test_negative("sev-snp/negative/gsev_milan_v2_neg_sig_r_0x2A0.bin",
		      "sev-snp/gsev_milan_vcek.der", NULL, T_2026_06,
		      "report signature: does not verify", "R changed");
	test_negative("sev-snp/negative/gsev_milan_v2_neg_reportdata_0x050.bin",
		      "sev-snp/gsev_milan_vcek.der", NULL, T_2026_06,
		      "report signature: does not verify", "REPORT_DATA changed");
	test_negative("sev-snp/trustee_milan_v2_idblock_report.bin",
		      "sev-snp/negative/trustee_vcek_tampered_hwid_legacy.der", NULL,
		      T_2026_06, "no ASK/ASVK certificate",
		      "tampered VCEK (hwID) fails under ASK-Milan");
	test_negative("sev-snp/trustee_milan_v2_idblock_report.bin",
		      "sev-snp/negative/trustee_vcek_tampered_hwid_legacy.der", NULL,
		      T_2026_06, "report signature: does not verify",
		      "tampered VCEK (hwID) does not verify the report");
	test_negative("sev-snp/trustee_milan_v2_idblock_report.bin",
		      "sev-snp/negative/trustee_vcek_tampered_hwid_octetstring.der",
		      NULL, T_2026_06, "hwID is 66 bytes, expected 64",
		      "hwID in an OCTET STRING is not a CHIP_ID");
	test_negative("sev-snp/trustee_milan_v2_idblock_report.bin",
		      "sev-snp/negative/trustee_vcek_tampered_hwid_octetstring.der",
		      NULL, T_2026_06, "no ASK/ASVK certificate",
		      "tampered VCEK (OCTET STRING hwID) fails under ASK-Milan");
	test_negative("sev-snp/gsev_milan_v2_report.bin",
		      "sev-snp/trustee_milan_vcek.der", NULL, T_2026_06,
		      "report signature: does not verify", "wrong VCEK");
	test_negative("sev-snp/gsev_milan_v2_report.bin",
		      "sev-snp/gsev_milan_vcek.der", "roots/amd_genoa_ask_ark.pem",
		      T_2026_06, "no ASK/ASVK certificate", "Milan VCEK under Genoa roots");
	test_negative("sev-snp/trustee_milan_v3_vlek_report.bin",
		      "sev-snp/trustee_milan_vlek.der", "roots/amd_milan_ask_ark.pem",
		      T_2025_06, "no ASK/ASVK certificate",
		      "VLEK under the ASK (not the ASVK)");
	test_negative("sev-snp/trustee_milan_v3_vlek_report.bin",
		      "sev-snp/trustee_milan_vlek.der", NULL, T_2026_06,
		      "validity: \"SEV-VLEK\"", "VLEK expired on 2025-12-10");
	test_negative("sev-snp/teekit_gcp_milan_v5_report.bin",
		      "sev-snp/teekit_gcp_milan_vcek.pem", NULL, T_2025_06,
		      "validity: \"SEV-VCEK\"", "VCEK not yet valid");
	test_negative("sev-snp/trustee_milan_v3_vlek_report.bin",
		      "sev-snp/trustee_milan_vcek.der", NULL, T_2025_06,
		      "no VLEK supplied", "VLEK-signed report with only a VCEK");
	test_cert_table();
	test_structure();
	return tap_done();
}
