// SPDX-License-Identifier: GPL-2.0
/*
 * test_tdx_collateral.c - TDX collateral: CRLs, TCB Info and QE Identity
 * (tests/unit/verify/data/tdx-collateral, Intel PCS responses kept by
 * go-tdx-guest), and the TCB level selection on hand-made TCB Info.
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "vtest.h"
#include "verify_int.h"

#define DATA KATLS_TOP_DIR "/tests/unit/verify/data/tdx-collateral"

static uint8_t *data_read(const char *name, size_t *len)
{
	char path[1024];
	uint8_t *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", DATA, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

/* A temp collateral directory with some data files, optionally mutated. */
static char *coll_dir(const char *const *names, const char *mutate,
		      size_t at_off, uint8_t xor)
{
	char tmpl[] = "/tmp/katls-coll.XXXXXX", *d = mkdtemp(tmpl);

	if (!d)
		return NULL;
	d = strdup(d);
	for (; d && *names; names++) {
		size_t len;
		uint8_t *b = data_read(*names, &len);

		if (!b)
			return NULL;
		if (mutate && !strcmp(mutate, *names) && at_off < len)
			b[at_off] ^= xor;
		vt_write(d, *names, b, len);
		free(b);
	}
	return d;
}

static const char *const all[] = {
	"pck_platform.crl", "root.crl", "tcb_info.json", "qe_identity.json",
	"tcb_signing.pem", NULL
};

static int verify_t1(const char *dir, time_t at, struct katls_claims *c,
		     struct katls_verdict *v)
{
	struct katls_verify_opts o = { .at = at, .collateral_dir = dir };
	size_t len;
	uint8_t *ev = vt_read("tdx/gtdx_v4_spr_e4_quote.dat", &len);
	int r = -2;

	if (ev)
		r = katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, len, &o, c, v);
	free(ev);
	return r;
}

static void test_real_collateral(void)
{
	static const char *const crls[] = { "pck_platform.crl", "root.crl", NULL };
	struct katls_claims c;
	struct katls_verdict v;
	char *d = coll_dir(all, NULL, 0, 0);

	/* go-tdx-guest: "no matching TCB level found" for this quote */
	tap_ok(verify_t1(d, T_2023_07, &c, &v) < 0 &&
	       vt_check(&v, "tcb_info.json signed by Intel SGX TCB Signing") &&
	       vt_check(&v, "qe_identity.json signed by Intel SGX TCB Signing") &&
	       vt_check(&v, "QE identity (TD_QE, ISVSVN 4): UpToDate") &&
	       vt_error(&v, "below every TCB level") && v.nerrors == 1 &&
	       !c.tcb_status[0],
	       "T1 + PCS collateral at 2023-07-01: signed documents, QE UpToDate, no TCB level");
	tap_ok(vt_check(&v, "\"Intel SGX PCK Certificate\" not revoked by CRL of \"Intel SGX PCK Platform CA\"") &&
	       vt_check(&v, "\"Intel SGX PCK Platform CA\" not revoked by CRL of \"Intel SGX Root CA\"") &&
	       vt_check(&v, "\"Intel SGX TCB Signing\" not revoked"),
	       "PCK, Platform CA and TCB Signing certificates checked against the CRLs");
	vt_rmdir(d);

	d = coll_dir(all, NULL, 0, 0);
	tap_ok(verify_t1(d, 1691000000 /* 2023-08-02 */, &c, &v) < 0 &&
	       vt_error(&v, "collateral tcb_info.json: valid until") &&
	       vt_error(&v, "collateral qe_identity.json: valid until") &&
	       vt_error(&v, "CRL pck_platform.crl of \"Intel SGX PCK Platform CA\": expired"),
	       "stale TCB Info, QE Identity and CRL rejected");
	vt_rmdir(d);

	/* byte 300 of tcb_info.json lies inside "tcbInfo": a digit of an SVN */
	d = coll_dir(all, "tcb_info.json", 300, 0);
	{
		size_t len;
		uint8_t *b = data_read("tcb_info.json", &len);

		tap_ok(b && len > 300 && b[300] >= '0' && b[300] <= '8',
		       "tcb_info.json byte 300 is a digit");
		if (b && b[300] >= '0' && b[300] <= '8') {
			b[300]++;
			vt_write(d, "tcb_info.json", b, len);
		}
		free(b);
	}
	tap_ok(verify_t1(d, T_2023_07, &c, &v) < 0 &&
	       vt_error(&v, "collateral tcb_info.json: signature does not verify"),
	       "a changed SVN in TCB Info breaks its signature");
	vt_rmdir(d);

	d = coll_dir(all, "qe_identity.json", 600, 1);
	tap_ok(verify_t1(d, T_2023_07, &c, &v) < 0 &&
	       vt_error(&v, "collateral qe_identity.json:"),
	       "a changed QE Identity signature rejected");
	vt_rmdir(d);

	d = coll_dir(crls, NULL, 0, 0);
	tap_ok(verify_t1(d, T_2023_07, &c, &v) == 0 &&
	       vt_check(&v, "not checked: TCB Info (no tcb_info.json") &&
	       vt_check(&v, "not revoked by CRL of \"Intel SGX PCK Platform CA\""),
	       "CRLs only: valid, TCB Info reported as not checked");
	vt_dump(&v);
	vt_rmdir(d);

	/* issue 11 item 1: a QE Identity alone is still evaluated */
	{
		static const char *const qe_only[] = {
			"pck_platform.crl", "root.crl", "qe_identity.json",
			"tcb_signing.pem", NULL
		};

		d = coll_dir(qe_only, NULL, 0, 0);
		tap_ok(verify_t1(d, T_2023_07, &c, &v) == 0 &&
		       vt_check(&v, "QE identity (TD_QE, ISVSVN 4): UpToDate") &&
		       vt_check(&v, "TCB status needs TCB Info too") &&
		       !c.tcb_status[0],
		       "QE Identity without TCB Info: QE levels checked, no TCB status claimed");
		vt_dump(&v);
		vt_rmdir(d);
	}

	/* issue 11 item 3: a configured directory without the PCK CA's CRL */
	{
		static const char *const root_only[] = { "root.crl", NULL };
		static const char *const pck_only[] = { "pck_platform.crl", NULL };

		d = coll_dir(root_only, NULL, 0, 0);
		tap_ok(verify_t1(d, T_2023_07, &c, &v) < 0 &&
		       vt_error(&v, "has no CRL of the PCK CA \"Intel SGX PCK Platform CA\"") &&
		       !vt_check(&v, "not revoked by CRL of \"Intel SGX PCK Platform CA\""),
		       "collateral without the PCK CA's CRL: an error, not \"checked\"");
		vt_rmdir(d);
		d = coll_dir(pck_only, NULL, 0, 0);
		tap_ok(verify_t1(d, T_2023_07, &c, &v) == 0 &&
		       vt_check(&v, "not checked: revocation of \"Intel SGX PCK Platform CA\" (no CRL of the root"),
		       "collateral without the root's CRL: valid, said as not checked");
		vt_rmdir(d);
	}

	/* the last byte of a DER CRL is in its signature */
	d = coll_dir(crls, "pck_platform.crl", 2662, 1);
	tap_ok(verify_t1(d, T_2023_07, &c, &v) < 0 &&
	       vt_error(&v, "CRL pck_platform.crl: signature by \"Intel SGX PCK Platform CA\" does not verify"),
	       "CRL with a broken signature rejected");
	vt_rmdir(d);

	{
		static const char *const no_signer[] = {
			"tcb_info.json", "qe_identity.json", NULL
		};

		d = coll_dir(no_signer, NULL, 0, 0);
		tap_ok(verify_t1(d, T_2023_07, &c, &v) < 0 &&
		       vt_error(&v, "no valid Intel SGX TCB Signing certificate"),
		       "TCB Info without its signing certificate rejected");
		vt_rmdir(d);
	}
}

/* The tcb input of a quote file, with the PCK leaf's extension. */
struct qin {
	uint8_t *ev;
	struct kv_sgx_ext ext;
	struct kv_tdx_tcb_in in;
};

static int quote_in(const char *rel, size_t body_off, struct qin *q)
{
	size_t len;
	const uint8_t *pem;
	gnutls_x509_crt_t *list = NULL;
	unsigned int n = 0, i;
	gnutls_datum_t d;
	int r = -1;

	q->ev = vt_read(rel, &len);
	if (!q->ev)
		return -1;
	pem = memmem(q->ev, len, "-----BEGIN", 10);
	if (!pem)
		return -1;
	d.data = (unsigned char *)pem;
	d.size = (unsigned int)(len - (size_t)(pem - q->ev));
	if (gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM, 0) < 0)
		return -1;
	if (n && kv_sgx_ext_parse(list[0], &q->ext) == 0)
		r = 0;
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	q->in.tee_tcb_svn = q->ev + body_off;
	q->in.mrsignerseam = q->ev + body_off + 0x40;
	q->in.seam_attributes = 0;
	/* QE report: after sig data header; v4 0x302, v5 type 3: 0x348 */
	q->in.qe_report = q->ev + (body_off == 0x30 ? 0x302 : 0x348);
	q->in.ext = &q->ext;
	return r;
}

static void test_pck_extension(void)
{
	struct qin q = { 0 };

	if (!tap_ok(quote_in("tdx/gtdx_v4_spr_e4_quote.dat", 0x30, &q) == 0,
		    "PCK SGX extension parses"))
		goto out;
	tap_ok(q.ext.have_fmspc && vt_eq_hex(q.ext.fmspc, 6, "50806f000000") &&
	       q.ext.have_pceid && vt_eq_hex(q.ext.pceid, 2, "0000") &&
	       q.ext.have_tcb && q.ext.pcesvn == 11 &&
	       vt_eq_hex(q.ext.comp, 16, "03030202020100020000000000000000"),
	       "T1 PCK: FMSPC, PCE-ID 0000, PCESVN 11, CPUSVN components (go-tdx-guest values)");
out:
	free(q.ev);
}

/* Hand-made TCB Info around T1's values: the selection rule, exactly. */
static const char tcb_fmt[] =
	"{\"tcbInfo\":{\"id\":\"TDX\",\"version\":3,\"fmspc\":\"50806F000000\","
	"\"pceId\":\"0000\",\"tdxModule\":{\"mrsigner\":\"%096d\","
	"\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},"
	"\"tcbLevels\":["
	"{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":%d,\"tdxtcbcomponents\":[%s]},"
	"\"tcbStatus\":\"UpToDate\"},"
	"{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":5,\"tdxtcbcomponents\":[%s]},"
	"\"tcbStatus\":\"OutOfDate\"}]},\"signature\":\"00\"}";

static void comps(char *out, size_t n, const char *hex)
{
	uint8_t b[16];
	size_t off = 0;
	int i;

	vt_unhex(hex, b, 16);
	for (i = 0; i < 16; i++)
		off += (size_t)snprintf(out + off, n - off, "%s{\"svn\":%u}",
					i ? "," : "", b[i]);
}

static void test_selection(void)
{
	struct qin q = { 0 };
	struct katls_claims c;
	struct katls_verdict v;
	char json[4096], s_eq[512], s_hi[512], t_eq[512], t_hi[512], low[512];
	size_t qlen;
	char *qe = (char *)data_read("qe_identity.json", &qlen);

	if (!qe || quote_in("tdx/gtdx_v4_spr_e4_quote.dat", 0x30, &q) < 0) {
		tap_ok(0, "selection test inputs");
		goto out;
	}
	comps(s_eq, sizeof(s_eq), "03030202020100020000000000000000");
	comps(s_hi, sizeof(s_hi), "03030202020100030000000000000000");
	comps(t_eq, sizeof(t_eq), "03000400000000000000000000000000");
	comps(t_hi, sizeof(t_hi), "03000500000000000000000000000000");
	comps(low, sizeof(low), "00000000000000000000000000000000");

#define EVAL(sgx, pce, tdx)						\
	(snprintf(json, sizeof(json), tcb_fmt, 0, sgx, pce, tdx, low, low), \
	 memset(&c, 0, sizeof(c)), katls_verdict_init(&v),		\
	 kv_tdx_tcb_eval(json, strlen(json), qe, qlen, &q.in, &c, &v))

	tap_ok(EVAL(s_eq, 11, t_eq) == 0 && !strcmp(c.tcb_status, "UpToDate"),
	       "components equal to the first level: UpToDate");
	tap_ok(EVAL(s_hi, 11, t_eq) == 0 && !strcmp(c.tcb_status, "OutOfDate"),
	       "one SGX component higher in level 0: level 1, OutOfDate");
	tap_ok(EVAL(s_eq, 12, t_eq) == 0 && !strcmp(c.tcb_status, "OutOfDate"),
	       "PCESVN higher in level 0: OutOfDate");
	tap_ok(EVAL(s_eq, 11, t_hi) == 0 && !strcmp(c.tcb_status, "OutOfDate"),
	       "TEE_TCB_SVN component higher in level 0: OutOfDate");
	vt_dump(&v);

	snprintf(json, sizeof(json), tcb_fmt, 0, s_hi, 11, t_eq, s_hi, t_eq);
	memset(&c, 0, sizeof(c));
	katls_verdict_init(&v);
	tap_ok(kv_tdx_tcb_eval(json, strlen(json), qe, qlen, &q.in, &c, &v) < 0 &&
	       vt_error(&v, "below every TCB level"), "no level matches: rejected");

	/* FMSPC of another platform */
	snprintf(json, sizeof(json), tcb_fmt, 0, s_eq, 11, t_eq, low, low);
	memcpy(strstr(json, "50806F"), "90C06F", 6);
	katls_verdict_init(&v);
	tap_ok(kv_tdx_tcb_eval(json, strlen(json), qe, qlen, &q.in, &c, &v) < 0 &&
	       vt_error(&v, "FMSPC differs"), "TCB Info of another FMSPC rejected");

	/* a QE below its identity's levels */
	{
		char *q2 = strdup(qe), *p = strstr(q2, "\"isvsvn\":4");

		if (p) {
			p[9] = '5';
			katls_verdict_init(&v);
			snprintf(json, sizeof(json), tcb_fmt, 0, s_eq, 11, t_eq, low, low);
			tap_ok(kv_tdx_tcb_eval(json, strlen(json), q2, qlen, &q.in,
					       &c, &v) < 0 &&
			       vt_error(&v, "QE ISVSVN 4 below every TCB level"),
			       "QE SVN below every QE identity level rejected");
		}
		free(q2);
	}

	/* malformed documents are errors, never a status */
	katls_verdict_init(&v);
	memset(&c, 0, sizeof(c));
	tap_ok(kv_tdx_tcb_eval("{\"tcbInfo\":[]}", 14, NULL, 0, &q.in, &c, &v) < 0 &&
	       !c.tcb_status[0], "tcbInfo not an object: rejected");
	katls_verdict_init(&v);
	tap_ok(kv_tdx_tcb_eval("{\"tcbInfo\":{}} x", 16, NULL, 0, &q.in, &c, &v) < 0,
	       "trailing garbage after the JSON: rejected");
#undef EVAL
out:
	free(qe);
	free(q.ev);
}

static void test_v5(void)
{
	struct qin q = { 0 };
	struct katls_claims c;
	struct katls_verdict v;
	size_t tlen;
	char *tcb = (char *)data_read("tcb_info_v5.json", &tlen);

	if (!tcb || quote_in("tdx/gtdx_v5_quote.dat", 0x36, &q) < 0) {
		tap_ok(0, "v5 inputs");
		goto out;
	}
	memset(&c, 0, sizeof(c));
	katls_verdict_init(&v);
	tap_ok(kv_tdx_tcb_eval(tcb, tlen, NULL, 0, &q.in, &c, &v) == 0 &&
	       vt_check(&v, "TDX module TDX_01 SVN 11: UpToDate") &&
	       !strcmp(c.tcb_status, "UpToDate"),
	       "T2 (TDX 1.5) against the v5 TCB Info: platform and module TDX_01 UpToDate");
	vt_dump(&v);
out:
	free(tcb);
	free(q.ev);
}

int main(void)
{
	tap_plan_lazy();
	test_pck_extension();
	test_real_collateral();
	test_selection();
	test_v5();
	return tap_done();
}
