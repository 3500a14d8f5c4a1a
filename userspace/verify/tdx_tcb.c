// SPDX-License-Identifier: GPL-2.0
/*
 * tdx_tcb.c - PCK certificate extensions and Intel TDX TCB collateral.
 *
 * The collateral directory may hold what Intel's PCS returns:
 *
 *   tcb_info.json     GET /tdx/certification/v4/tcb?fmspc=...   (body)
 *   qe_identity.json  GET /tdx/certification/v4/qe/identity     (body)
 *   *.pem             the "Intel SGX TCB Signing" certificate (the
 *                     Tcb-Info-Issuer-Chain header, URL-decoded)
 *   *.crl, ...        CRLs (pki.c)
 *
 * Both JSON documents are {"<member>": {...}, "signature": "<r||s hex>"},
 * the ECDSA-P256/SHA-256 signature covering the exact bytes of the member
 * value.  The TCB level is selected as Intel specifies for TDX: the first
 * level whose SGX components and PCESVN are covered by the PCK
 * certificate and whose TDX components are covered by TEE_TCB_SVN (from
 * index 2 when the TDX module's major version, TEE_TCB_SVN[1], is not 0:
 * then the module's identity "TDX_<major>" in tdxModuleIdentities rates
 * the module by TEE_TCB_SVN[0]).  The reported status is the worse of
 * the platform level, the module identity level and the QE identity level.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "verify_int.h"

#define OID_SGX_EXT	"1.2.840.113741.1.13.1"
/* DER of 1.2.840.113741.1.13.1 without tag and length */
static const uint8_t sgx_arc[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01
};

/* One SEQUENCE { OID, value } of the SGX extension. */
static int sgx_member(const uint8_t *val, size_t vlen, const uint8_t **oid,
		      size_t *olen, uint8_t *tag, const uint8_t **v, size_t *len)
{
	const uint8_t *q = val, *qe = val + vlen;
	uint8_t t;

	if (kv_der_next(&q, qe, &t, oid, olen) < 0 || t != 0x06)
		return -1;
	if (kv_der_next(&q, qe, tag, v, len) < 0 || q != qe)
		return -1;
	return 0;
}

static bool sgx_oid(const uint8_t *oid, size_t olen, uint8_t a, uint8_t b)
{
	size_t want = sizeof(sgx_arc) + (b ? 2 : 1);

	return olen == want && !memcmp(oid, sgx_arc, sizeof(sgx_arc)) &&
	       oid[sizeof(sgx_arc)] == a && (!b || oid[sizeof(sgx_arc) + 1] == b);
}

static int sgx_tcb(const uint8_t *p, size_t n, struct kv_sgx_ext *e)
{
	const uint8_t *end = p + n, *val, *oid, *v;
	size_t vlen, olen, len;
	unsigned int seen = 0;
	uint8_t tag;

	while (p < end) {
		uint32_t x;
		unsigned int i;

		if (kv_der_next(&p, end, &tag, &val, &vlen) < 0 || tag != 0x30 ||
		    sgx_member(val, vlen, &oid, &olen, &tag, &v, &len) < 0)
			return -1;
		for (i = 1; i <= 18; i++)
			if (sgx_oid(oid, olen, 2, (uint8_t)i))
				break;
		if (i <= 16 || i == 17) {
			if (tag != 0x02 || kv_der_uint(v, len, &x) < 0 ||
			    (i <= 16 && x > 255) || (i == 17 && x > 65535))
				return -1;
			if (i <= 16)
				e->comp[i - 1] = (uint8_t)x;
			else
				e->pcesvn = x;
			seen |= 1u << i;
		}
	}
	if (seen != 0x3fffeu)	/* components 1..16 and PCESVN */
		return -1;
	e->have_tcb = true;
	return 0;
}

int kv_sgx_ext_parse(gnutls_x509_crt_t pck, struct kv_sgx_ext *e)
{
	uint8_t buf[4096];
	size_t sz = sizeof(buf), vlen, olen, len;
	const uint8_t *p = buf, *end, *val, *oid, *v;
	uint8_t tag;

	memset(e, 0, sizeof(*e));
	if (gnutls_x509_crt_get_extension_by_oid(pck, OID_SGX_EXT, 0, buf, &sz,
						 NULL) < 0)
		return -1;
	end = buf + sz;
	if (kv_der_next(&p, end, &tag, &val, &vlen) < 0 || tag != 0x30 ||
	    p != end)
		return -1;
	p = val;
	end = val + vlen;
	while (p < end) {
		if (kv_der_next(&p, end, &tag, &val, &vlen) < 0 || tag != 0x30 ||
		    sgx_member(val, vlen, &oid, &olen, &tag, &v, &len) < 0)
			return -1;
		if (sgx_oid(oid, olen, 4, 0)) {
			if (tag != 0x04 || len != 6)
				return -1;
			memcpy(e->fmspc, v, 6);
			e->have_fmspc = true;
		} else if (sgx_oid(oid, olen, 3, 0)) {
			if (tag != 0x04 || len != 2)
				return -1;
			memcpy(e->pceid, v, 2);
			e->have_pceid = true;
		} else if (sgx_oid(oid, olen, 2, 0)) {
			if (tag != 0x30 || sgx_tcb(v, len, e) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- collateral documents ---- */

/* "YYYY-MM-DDThh:mm:ssZ" exactly. */
static int parse_date(const struct kv_json *j, int n, time_t *out)
{
	char s[32];
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se, k = 0;

	if (kv_json_str(j, n, s, sizeof(s)) < 0 || strlen(s) != 20 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &se,
		   &k) != 6 || k != 20)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

struct signed_doc {
	uint8_t *buf;
	struct kv_json *j;
	int body;		/* the signed member's node */
};

static void doc_free(struct signed_doc *d)
{
	kv_json_free(d->j);
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

/*
 * Load DIR/name, check the signature by signer over the member's exact
 * bytes and its issue / next-update dates.  1 loaded, 0 absent, -1 error.
 */
static int doc_load(const struct katls_verify_opts *o, const char *name,
		    const char *member, gnutls_pubkey_t signer, time_t at,
		    struct signed_doc *d, struct katls_verdict *v)
{
	char path[4096], ts[32];
	uint8_t sig[64];
	size_t len;
	time_t issued, next;
	int r, s;

	memset(d, 0, sizeof(*d));
	snprintf(path, sizeof(path), "%s/%s", o->collateral_dir, name);
	r = kv_read_file(path, KV_MAX_FILE, &d->buf, &len);
	if (r < 0) {
		if (r == -ENOENT)
			return 0;
		katls_verdict_error(v, "collateral %s: unreadable", name);
		return -1;
	}
	d->j = kv_json_parse((const char *)d->buf, len);
	if (!d->j) {
		katls_verdict_error(v, "collateral %s: not valid JSON", name);
		goto fail;
	}
	d->body = kv_json_get(d->j, 0, member);
	s = kv_json_get(d->j, 0, "signature");
	if (d->body < 0 || d->j->node[d->body].type != KV_JSON_OBJECT ||
	    kv_json_hex(d->j, s, sig, sizeof(sig)) < 0) {
		katls_verdict_error(v, "collateral %s: no \"%s\" object and signature",
				    name, member);
		goto fail;
	}
	if (!signer) {
		katls_verdict_error(v, "collateral %s: no valid Intel SGX TCB Signing certificate",
				    name);
		goto fail;
	}
	if (!kv_ecdsa_verify(signer, GNUTLS_SIGN_ECDSA_SHA256,
			     d->buf + d->j->node[d->body].start,
			     d->j->node[d->body].end - d->j->node[d->body].start,
			     sig, sig + 32, 32)) {
		katls_verdict_error(v, "collateral %s: signature does not verify", name);
		goto fail;
	}
	if (parse_date(d->j, kv_json_get(d->j, d->body, "issueDate"), &issued) < 0 ||
	    parse_date(d->j, kv_json_get(d->j, d->body, "nextUpdate"), &next) < 0) {
		katls_verdict_error(v, "collateral %s: bad issueDate / nextUpdate", name);
		goto fail;
	}
	if (at < issued || at > next) {
		katls_verdict_error(v, "collateral %s: valid until %s, not at %s", name,
				    kv_time_str(next, ts, sizeof(ts)),
				    kv_time_str(at, (char[32]){ 0 }, 32));
		goto fail;
	}
	katls_verdict_check(v, "checked: %s signed by Intel SGX TCB Signing, current (next update %s)",
			    name, kv_time_str(next, ts, sizeof(ts)));
	return 1;
fail:
	doc_free(d);
	return -1;
}

/* The TCB signing certificate: CN, pinned issuer, validity, CRLs. */
static gnutls_pubkey_t tcb_signer(const struct katls_verify_opts *o, time_t at,
				  struct katls_verdict *v)
{
	struct kv_certs certs = { 0 }, roots = { 0 };
	char cn[128], why[128], err[256], path[4096];
	gnutls_pubkey_t key = NULL;
	gnutls_x509_crt_t chain[2] = { NULL, NULL };
	unsigned int i, k;
	static const char *const names[] = { "tcb_signing.pem", "tcb_info_issuer_chain.pem" };

	for (k = 0; k < 2; k++) {
		uint8_t *buf;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", o->collateral_dir, names[k]);
		if (kv_read_file(path, KV_MAX_FILE, &buf, &len) < 0)
			continue;
		if (kv_certs_import(&certs, buf, len) < 0)
			katls_verdict_error(v, "collateral %s: not a certificate", names[k]);
		free(buf);
	}
	if (kv_roots_load(o, &roots, err, sizeof(err)) < 0) {
		katls_verdict_error(v, "trust anchors: %s", err);
		goto out;
	}
	for (i = 0; i < certs.n && !chain[0]; i++) {
		kv_crt_cn(certs.crt[i], cn, sizeof(cn));
		if (strcmp(cn, "Intel SGX TCB Signing"))
			continue;
		for (k = 0; k < roots.n; k++)
			if (kv_crt_self_signed_name(roots.crt[k]) &&
			    kv_crt_signed_by(certs.crt[i], roots.crt[k])) {
				chain[0] = certs.crt[i];
				chain[1] = roots.crt[k];
				break;
			}
	}
	if (!chain[0]) {
		if (certs.n)
			katls_verdict_error(v, "collateral: no \"Intel SGX TCB Signing\" certificate signed by a pinned root");
		goto out;
	}
	if (!kv_crt_valid_at(chain[0], at, why, sizeof(why))) {
		katls_verdict_error(v, "validity: \"Intel SGX TCB Signing\" %s", why);
		goto out;
	}
	kv_crl_check(o, chain, 2, at, v, NULL);
	if (gnutls_pubkey_init(&key) < 0 ||
	    gnutls_pubkey_import_x509(key, chain[0], 0) < 0) {
		if (key)
			gnutls_pubkey_deinit(key);
		key = NULL;
	}
out:
	kv_certs_free(&certs);
	kv_certs_free(&roots);
	return key;
}

static int status_rank(const char *s)
{
	static const char *const order[] = {
		"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
		"ConfigurationAndSWHardeningNeeded", "OutOfDate",
		"OutOfDateConfigurationNeeded", "Revoked",
	};
	unsigned int i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (!strcmp(s, order[i]))
			return (int)i;
	return 100;	/* unknown: worst */
}

static void set_status(struct katls_claims *c, const char *s)
{
	if (!c->tcb_status[0] || status_rank(s) > status_rank(c->tcb_status))
		snprintf(c->tcb_status, sizeof(c->tcb_status), "%s", s);
}

/* The svn of element i of an array of {"svn": N, ...}; -1 if malformed. */
static int comp_svn(const struct kv_json *j, int arr, unsigned int i)
{
	long long x;

	if (kv_json_int(j, kv_json_get(j, kv_json_index(j, arr, i), "svn"), &x) < 0 ||
	    x < 0 || x > 255)
		return -1;
	return (int)x;
}

static int eval_module(const struct kv_json *j, int info,
		       const struct kv_tdx_tcb_in *in, struct katls_claims *c,
		       struct katls_verdict *v)
{
	int ids = kv_json_get(j, info, "tdxModuleIdentities"), id, levels, lv;
	uint8_t mrsigner[48], attr[8], mask[8];
	char want[16], st[40];
	unsigned int i, k;
	long long isvsvn;
	uint64_t a = 0, m = 0;

	snprintf(want, sizeof(want), "TDX_%02X", in->tee_tcb_svn[1]);
	for (i = 0; (id = kv_json_index(j, ids, i)) >= 0; i++)
		if (kv_json_str_is(j, kv_json_get(j, id, "id"), want))
			break;
	if (id < 0) {
		katls_verdict_error(v, "TCB Info: no identity %s for the TDX module", want);
		return -1;
	}
	if (kv_json_hex(j, kv_json_get(j, id, "mrsigner"), mrsigner, 48) < 0 ||
	    kv_json_hex(j, kv_json_get(j, id, "attributes"), attr, 8) < 0 ||
	    kv_json_hex(j, kv_json_get(j, id, "attributesMask"), mask, 8) < 0) {
		katls_verdict_error(v, "TCB Info: malformed %s identity", want);
		return -1;
	}
	for (k = 0; k < 8; k++) {	/* JSON hex is the byte string */
		a |= (uint64_t)attr[k] << (8 * k);
		m |= (uint64_t)mask[k] << (8 * k);
	}
	if (memcmp(mrsigner, in->mrsignerseam, 48) || (in->seam_attributes & m) != a) {
		katls_verdict_error(v, "TCB Info: TDX module does not match identity %s", want);
		return -1;
	}
	levels = kv_json_get(j, id, "tcbLevels");
	for (i = 0; (lv = kv_json_index(j, levels, i)) >= 0; i++) {
		if (kv_json_int(j, kv_json_get(j, kv_json_get(j, lv, "tcb"), "isvsvn"),
				&isvsvn) < 0)
			break;
		if (isvsvn <= in->tee_tcb_svn[0]) {
			if (kv_json_str(j, kv_json_get(j, lv, "tcbStatus"), st,
					sizeof(st)) < 0)
				break;
			katls_verdict_check(v, "checked: TDX module %s SVN %u: %s", want,
					    in->tee_tcb_svn[0], st);
			set_status(c, st);
			return 0;
		}
	}
	katls_verdict_error(v, "TCB Info: TDX module %s SVN %u below every TCB level",
			    want, in->tee_tcb_svn[0]);
	return -1;
}

static void eval_tcb_info(const struct signed_doc *d,
			  const struct kv_tdx_tcb_in *in, struct katls_claims *c,
			  struct katls_verdict *v)
{
	const struct kv_json *j = d->j;
	int info = d->body, levels, lv;
	uint8_t fmspc[6], pceid[2], mrsigner[48], attr[8], mask[8];
	unsigned int i, k, first;
	long long ver;
	char st[40];

	if (!kv_json_str_is(j, kv_json_get(j, info, "id"), "TDX") ||
	    kv_json_int(j, kv_json_get(j, info, "version"), &ver) < 0 || ver != 3) {
		katls_verdict_error(v, "TCB Info: not a TDX TCB Info version 3");
		return;
	}
	if (kv_json_hex(j, kv_json_get(j, info, "fmspc"), fmspc, 6) < 0 ||
	    !in->ext->have_fmspc || memcmp(fmspc, in->ext->fmspc, 6)) {
		katls_verdict_error(v, "TCB Info: FMSPC differs from the PCK certificate's");
		return;
	}
	if (kv_json_hex(j, kv_json_get(j, info, "pceId"), pceid, 2) < 0 ||
	    !in->ext->have_pceid || memcmp(pceid, in->ext->pceid, 2)) {
		katls_verdict_error(v, "TCB Info: PCE ID differs from the PCK certificate's");
		return;
	}
	if (!in->ext->have_tcb) {
		katls_verdict_error(v, "TCB Info: PCK certificate has no TCB components");
		return;
	}
	/* TDX module: MRSIGNERSEAM and SEAMATTRIBUTES */
	{
		int mod = kv_json_get(j, info, "tdxModule");
		uint64_t a = 0, m = 0;

		if (kv_json_hex(j, kv_json_get(j, mod, "mrsigner"), mrsigner, 48) < 0 ||
		    kv_json_hex(j, kv_json_get(j, mod, "attributes"), attr, 8) < 0 ||
		    kv_json_hex(j, kv_json_get(j, mod, "attributesMask"), mask, 8) < 0) {
			katls_verdict_error(v, "TCB Info: malformed tdxModule");
			return;
		}
		for (k = 0; k < 8; k++) {
			a |= (uint64_t)attr[k] << (8 * k);
			m |= (uint64_t)mask[k] << (8 * k);
		}
		if (memcmp(mrsigner, in->mrsignerseam, 48) ||
		    (in->seam_attributes & m) != a) {
			katls_verdict_error(v, "TCB Info: MRSIGNERSEAM / SEAMATTRIBUTES do not match tdxModule");
			return;
		}
	}
	first = in->tee_tcb_svn[1] ? 2 : 0;
	levels = kv_json_get(j, info, "tcbLevels");
	for (i = 0; (lv = kv_json_index(j, levels, i)) >= 0; i++) {
		int tcb = kv_json_get(j, lv, "tcb");
		int sgx = kv_json_get(j, tcb, "sgxtcbcomponents");
		int tdx = kv_json_get(j, tcb, "tdxtcbcomponents");
		long long pcesvn;
		bool ok = true;

		if (kv_json_int(j, kv_json_get(j, tcb, "pcesvn"), &pcesvn) < 0 ||
		    sgx < 0 || tdx < 0 || j->node[sgx].count != 16 ||
		    j->node[tdx].count != 16) {
			katls_verdict_error(v, "TCB Info: malformed TCB level %u", i);
			return;
		}
		for (k = 0; k < 16 && ok; k++) {
			int s = comp_svn(j, sgx, k), t = comp_svn(j, tdx, k);

			if (s < 0 || t < 0) {
				katls_verdict_error(v, "TCB Info: malformed TCB level %u", i);
				return;
			}
			if (in->ext->comp[k] < s || (k >= first && in->tee_tcb_svn[k] < t))
				ok = false;
		}
		if (!ok || (long long)in->ext->pcesvn < pcesvn)
			continue;
		if (kv_json_str(j, kv_json_get(j, lv, "tcbStatus"), st, sizeof(st)) < 0) {
			katls_verdict_error(v, "TCB Info: TCB level %u has no status", i);
			return;
		}
		katls_verdict_check(v, "checked: platform TCB level %u of TCB Info for FMSPC %02x%02x%02x%02x%02x%02x: %s",
				    i, fmspc[0], fmspc[1], fmspc[2], fmspc[3],
				    fmspc[4], fmspc[5], st);
		set_status(c, st);
		if (first)
			eval_module(j, info, in, c, v);
		return;
	}
	katls_verdict_error(v, "TCB Info: the platform is below every TCB level (TCB not supported)");
}

static void eval_qe_identity(const struct signed_doc *d,
			     const struct kv_tdx_tcb_in *in,
			     struct katls_claims *c, struct katls_verdict *v)
{
	const struct kv_json *j = d->j;
	int id = d->body, levels, lv;
	const uint8_t *qe = in->qe_report;
	uint8_t mrsigner[32], misc[4], miscmask[4], attr[16], amask[16];
	long long ver, prodid, svn;
	unsigned int i, k;
	uint16_t isvsvn = kv_le16(qe + 0x102);
	char st[40];

	if (!kv_json_str_is(j, kv_json_get(j, id, "id"), "TD_QE") ||
	    kv_json_int(j, kv_json_get(j, id, "version"), &ver) < 0 || ver != 2) {
		katls_verdict_error(v, "QE Identity: not a TD_QE identity version 2");
		return;
	}
	if (kv_json_hex(j, kv_json_get(j, id, "mrsigner"), mrsigner, 32) < 0 ||
	    kv_json_hex(j, kv_json_get(j, id, "miscselect"), misc, 4) < 0 ||
	    kv_json_hex(j, kv_json_get(j, id, "miscselectMask"), miscmask, 4) < 0 ||
	    kv_json_hex(j, kv_json_get(j, id, "attributes"), attr, 16) < 0 ||
	    kv_json_hex(j, kv_json_get(j, id, "attributesMask"), amask, 16) < 0 ||
	    kv_json_int(j, kv_json_get(j, id, "isvprodid"), &prodid) < 0) {
		katls_verdict_error(v, "QE Identity: malformed");
		return;
	}
	if (memcmp(mrsigner, qe + 0x80, 32) || prodid != kv_le16(qe + 0x100)) {
		katls_verdict_error(v, "QE Identity: QE MRSIGNER / ISVPRODID do not match");
		return;
	}
	/* MISCSELECT is a little-endian u32 in the report, big-endian hex here */
	for (k = 0; k < 4; k++)
		if ((qe[0x10 + k] & miscmask[3 - k]) != misc[3 - k])
			break;
	for (i = 0; k == 4 && i < 16; i++)
		if ((qe[0x30 + i] & amask[i]) != attr[i])
			break;
	if (k != 4 || i != 16) {
		katls_verdict_error(v, "QE Identity: QE MISCSELECT / ATTRIBUTES do not match");
		return;
	}
	levels = kv_json_get(j, id, "tcbLevels");
	for (i = 0; (lv = kv_json_index(j, levels, i)) >= 0; i++) {
		if (kv_json_int(j, kv_json_get(j, kv_json_get(j, lv, "tcb"), "isvsvn"),
				&svn) < 0)
			break;
		if (svn <= isvsvn) {
			if (kv_json_str(j, kv_json_get(j, lv, "tcbStatus"), st,
					sizeof(st)) < 0)
				break;
			katls_verdict_check(v, "checked: QE identity (TD_QE, ISVSVN %u): %s",
					    isvsvn, st);
			set_status(c, st);
			return;
		}
	}
	katls_verdict_error(v, "QE Identity: QE ISVSVN %u below every TCB level", isvsvn);
}

int kv_tdx_tcb_eval(const char *tcb_json, size_t tlen, const char *qe_json,
		    size_t qlen, const struct kv_tdx_tcb_in *in,
		    struct katls_claims *c, struct katls_verdict *v)
{
	struct signed_doc tcb = { 0 }, qe = { 0 };
	bool was_valid = v->valid;

	tcb.j = kv_json_parse(tcb_json, tlen);
	tcb.body = tcb.j ? kv_json_get(tcb.j, 0, "tcbInfo") : -1;
	if (tcb.body < 0 || tcb.j->node[tcb.body].type != KV_JSON_OBJECT) {
		katls_verdict_error(v, "TCB Info: not a {\"tcbInfo\": {...}} document");
		goto out;
	}
	eval_tcb_info(&tcb, in, c, v);
	if (qe_json) {
		qe.j = kv_json_parse(qe_json, qlen);
		qe.body = qe.j ? kv_json_get(qe.j, 0, "enclaveIdentity") : -1;
		if (qe.body < 0 || qe.j->node[qe.body].type != KV_JSON_OBJECT) {
			katls_verdict_error(v, "QE Identity: not an {\"enclaveIdentity\": {...}} document");
			goto out;
		}
		eval_qe_identity(&qe, in, c, v);
	}
out:
	kv_json_free(tcb.j);
	kv_json_free(qe.j);
	return was_valid && v->valid ? 0 : -1;
}

void kv_tdx_collateral(const struct katls_verify_opts *o,
		       const struct kv_tdx_tcb_in *in, time_t at,
		       struct katls_claims *c, struct katls_verdict *v)
{
	struct signed_doc tcb, qe;
	gnutls_pubkey_t signer;
	int rt, rq;

	if (!o->collateral_dir) {
		katls_verdict_check(v, "not checked: TCB collateral not supplied (TCB status unknown)");
		return;
	}
	signer = tcb_signer(o, at, v);
	rt = doc_load(o, "tcb_info.json", "tcbInfo", signer, at, &tcb, v);
	rq = doc_load(o, "qe_identity.json", "enclaveIdentity", signer, at, &qe, v);
	if (rt == 0)
		katls_verdict_check(v, "not checked: TCB Info (no tcb_info.json in the collateral; TCB status unknown)");
	if (rq == 0)
		katls_verdict_check(v, "not checked: QE Identity (no qe_identity.json in the collateral)");
	if (rt > 0)
		eval_tcb_info(&tcb, in, c, v);
	/* The QE identity's levels (minimum ISVSVN) apply whenever given. */
	if (rq > 0)
		eval_qe_identity(&qe, in, c, v);
	if (rt > 0 && rq <= 0) {
		/* A platform status without the QE's would overstate it. */
		c->tcb_status[0] = '\0';
		katls_verdict_check(v, "not checked: TCB status needs QE Identity too");
	} else if (rq > 0 && rt <= 0) {
		/* ... and so would the QE's without the platform's. */
		c->tcb_status[0] = '\0';
		katls_verdict_check(v, "not checked: TCB status needs TCB Info too (QE identity checked)");
	}
	if (rt > 0)
		doc_free(&tcb);
	if (rq > 0)
		doc_free(&qe);
	if (!v->valid)
		c->tcb_status[0] = '\0';
	if (signer)
		gnutls_pubkey_deinit(signer);
}
