// SPDX-License-Identifier: GPL-2.0
/*
 * tdx.c - Intel TDX quote v4 / v5 (ECDSA-P256 attestation key, PCK chain).
 *
 * Every length comes from the quote's own fields and must be consistent:
 *
 *   header(48) | body | sig_data_len(4) | sig_data
 *   sig_data   = sig(64) | attkey(64) | type 6 (2) | m (4) | qe_cert_data(m)
 *   qe_cert_data = qe_report(384) | qe_sig(64) | a (2) | auth(a)
 *                  | type 5 (2) | c (4) | PEM chain(c)
 *
 * with sig_data_len == 0x86 + m and m == 0x1c8 + a + c.  Bytes after the
 * signature data are not part of the quote: they are reported and
 * ignored (configfs-tsm returns the exact quote; collected files carry
 * padding).  Layout references: FORMATS.md section 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "verify_int.h"

#define TDX_HDR_LEN		48
#define TDX_BODY10_LEN		584	/* TDX 1.0 TD report body */
#define TDX_BODY15_LEN		648	/* TDX 1.5: + TEE_TCB_SVN2, MRSERVICETD */
#define TDX_QE_REPORT_LEN	384
#define TDX_TEE_TYPE		0x81
#define TDX_AK_ECDSA_P256	2
#define TDX_CERT_QE_REPORT	6
#define TDX_CERT_PCK_CHAIN	5
#define TDX_ATTR_DEBUG		(1ull << 0)
#define SGX_ATTR_DEBUG		0x02	/* QE report ATTRIBUTES.flags bit 1 */

static const uint8_t intel_qe_vendor[16] = {
	0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
	0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07
};

/* Intel's TD quoting enclave identity ("TD_QE" in the QE identity). */
static const uint8_t td_qe_mrsigner[32] = {
	0xdc, 0x9e, 0x2a, 0x7c, 0x6f, 0x94, 0x8f, 0x17,
	0x47, 0x4e, 0x34, 0xa7, 0xfc, 0x43, 0xed, 0x03,
	0x0f, 0x7c, 0x15, 0x63, 0xf1, 0xba, 0xbd, 0xdf,
	0x63, 0x40, 0xc8, 0x2e, 0x0e, 0x54, 0xa8, 0xc5
};
#define TD_QE_ISVPRODID		2
#define TD_QE_MISCSELECT	0x00000000u
#define TD_QE_MISCSELECT_MASK	0xffffffffu
/* attributes 11000000..., attributesMask FBFFFFFFFFFFFFFF0000... */
static const uint8_t td_qe_attr[16] = { 0x11 };
static const uint8_t td_qe_attr_mask[16] = {
	0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

struct tdx_quote {
	unsigned int version, body_type;
	const uint8_t *body;
	size_t body_len, signed_len, quote_len;
	const uint8_t *sig, *attkey;
	const uint8_t *qe_report, *qe_sig;
	const uint8_t *qe_auth;
	size_t qe_auth_len;
	const uint8_t *pck;
	size_t pck_len;
};

/* Parse the structure; claims are filled as soon as the body is known. */
static int tdx_parse(const uint8_t *ev, size_t len, struct tdx_quote *q,
		     struct katls_claims *c, struct katls_verdict *v)
{
	size_t off, sdl, m, a, cl, rest;
	const uint8_t *b, *sd, *qc;

	memset(q, 0, sizeof(*q));
	if (len < TDX_HDR_LEN) {
		katls_verdict_error(v, "TDX quote: %zu bytes, shorter than its header",
				    len);
		return -1;
	}
	q->version = kv_le16(ev);
	if (q->version != 4 && q->version != 5) {
		katls_verdict_error(v, "TDX quote: version %u not supported (4 or 5)",
				    q->version);
		return -1;
	}
	if (kv_le16(ev + 2) != TDX_AK_ECDSA_P256) {
		katls_verdict_error(v, "TDX quote: attestation key type %u not supported (2, ECDSA-P256)",
				    kv_le16(ev + 2));
		return -1;
	}
	if (kv_le32(ev + 4) != TDX_TEE_TYPE) {
		katls_verdict_error(v, "TDX quote: TEE type 0x%x is not TDX (0x81)",
				    kv_le32(ev + 4));
		return -1;
	}

	off = TDX_HDR_LEN;
	if (q->version == 4) {
		q->body_type = 2;
		q->body_len = TDX_BODY10_LEN;
	} else {
		if (len - off < 6) {
			katls_verdict_error(v, "TDX quote v5: truncated body descriptor");
			return -1;
		}
		q->body_type = kv_le16(ev + off);
		q->body_len = kv_le32(ev + off + 2);
		off += 6;
		if (q->body_type != 2 && q->body_type != 3) {
			katls_verdict_error(v, "TDX quote v5: body type %u not supported (2 or 3)",
					    q->body_type);
			return -1;
		}
		if (q->body_len != (q->body_type == 2 ? TDX_BODY10_LEN :
						       TDX_BODY15_LEN)) {
			katls_verdict_error(v, "TDX quote v5: body type %u with size %zu",
					    q->body_type, q->body_len);
			return -1;
		}
	}
	if (len - off < q->body_len + 4) {
		katls_verdict_error(v, "TDX quote: truncated body");
		return -1;
	}
	q->body = b = ev + off;
	off += q->body_len;
	q->signed_len = off;

	/* Claims (body offsets of the TDX 1.0 report body). */
	c->tee = KATLS_EVIDENCE_TDX;
	c->version = q->version;
	memcpy(c->tdx.tee_tcb_svn, b + 0x00, 16);
	memcpy(c->tdx.mrseam, b + 0x10, 48);
	memcpy(c->tdx.mrsignerseam, b + 0x40, 48);
	c->tdx.td_attributes = kv_le64(b + 0x78);
	c->tdx.xfam = kv_le64(b + 0x80);
	memcpy(c->measurement, b + 0x88, 48);
	c->measurement_len = 48;
	memcpy(c->tdx.mrconfigid, b + 0xb8, 48);
	memcpy(c->tdx.mrowner, b + 0xe8, 48);
	memcpy(c->tdx.mrownerconfig, b + 0x118, 48);
	for (int i = 0; i < 4; i++)
		memcpy(c->tdx.rtmr[i], b + 0x148 + 48 * i, 48);
	memcpy(c->report_data, b + 0x208, 64);
	c->debug = (c->tdx.td_attributes & TDX_ATTR_DEBUG) != 0;
	c->tdx.seam_attributes = kv_le64(b + 0x70);
	c->tdx.body_type = q->body_type;
	if (q->body_type == 3) {
		memcpy(c->tdx.tee_tcb_svn2, b + TDX_BODY10_LEN, 16);
		memcpy(c->tdx.mrservicetd, b + TDX_BODY10_LEN + 16, 48);
	}

	/* Signature data. */
	sdl = kv_le32(ev + off);
	off += 4;
	rest = len - off;
	if (sdl > rest) {
		katls_verdict_error(v, "TDX quote: signature data length %zu exceeds the %zu bytes left",
				    sdl, rest);
		return -1;
	}
	if (sdl < 0x86) {
		katls_verdict_error(v, "TDX quote: signature data length %zu too short", sdl);
		return -1;
	}
	sd = ev + off;
	q->sig = sd;
	q->attkey = sd + 0x40;
	if (kv_le16(sd + 0x80) != TDX_CERT_QE_REPORT) {
		katls_verdict_error(v, "TDX quote: certification data type %u not supported (6)",
				    kv_le16(sd + 0x80));
		return -1;
	}
	m = kv_le32(sd + 0x82);
	if (m != sdl - 0x86) {
		katls_verdict_error(v, "TDX quote: signature data length %zu != 0x86 + certification data size %zu",
				    sdl, m);
		return -1;
	}
	qc = sd + 0x86;
	if (m < 0x1c8) {
		katls_verdict_error(v, "TDX quote: QE certification data too short (%zu)", m);
		return -1;
	}
	q->qe_report = qc;
	q->qe_sig = qc + 0x180;
	a = kv_le16(qc + 0x1c0);
	if (a > m - 0x1c8) {
		katls_verdict_error(v, "TDX quote: QE authentication data size %zu exceeds its container",
				    a);
		return -1;
	}
	q->qe_auth = qc + 0x1c2;
	q->qe_auth_len = a;
	if (kv_le16(qc + 0x1c2 + a) != TDX_CERT_PCK_CHAIN) {
		katls_verdict_error(v, "TDX quote: inner certification data type %u not supported (5, PCK chain)",
				    kv_le16(qc + 0x1c2 + a));
		return -1;
	}
	cl = kv_le32(qc + 0x1c4 + a);
	if (cl != m - 0x1c8 - a) {
		katls_verdict_error(v, "TDX quote: QE certification data size %zu != 0x1c8 + %zu + PCK chain size %zu",
				    m, a, cl);
		return -1;
	}
	if (cl == 0) {
		katls_verdict_error(v, "TDX quote: empty PCK certificate chain");
		return -1;
	}
	q->pck = qc + 0x1c8 + a;
	q->pck_len = cl;
	q->quote_len = off + sdl;

	katls_verdict_check(v, "checked: TDX quote v%u structure (body type %u, %zu bytes signed, lengths consistent)",
			    q->version, q->body_type, q->signed_len);
	if (q->quote_len < len)
		katls_verdict_check(v, "note: %zu bytes after the %zu-byte quote ignored (not signed)",
				    len - q->quote_len, q->quote_len);
	return 0;
}

/* PEM chain (a trailing NUL is allowed), or DER certificates for diagnosis. */
static int tdx_chain_import(const struct tdx_quote *q, struct kv_certs *chain,
			    struct katls_verdict *v)
{
	const uint8_t *p = q->pck, *end = q->pck + q->pck_len;
	size_t n = q->pck_len;

	while (n && p[n - 1] == '\0')
		n--;
	if (n >= 10 && !memcmp(p, "-----BEGIN", 10)) {
		gnutls_datum_t d = { (unsigned char *)p, (unsigned int)n };
		gnutls_x509_crt_t *list = NULL;
		unsigned int cnt = 0, i;

		if (gnutls_x509_crt_list_import2(&list, &cnt, &d,
						 GNUTLS_X509_FMT_PEM, 0) < 0) {
			katls_verdict_error(v, "PCK chain: PEM certificates do not parse");
			return -1;
		}
		for (i = 0; i < cnt; i++)
			kv_certs_add(chain, list[i]);
		gnutls_free(list);
		return chain->n == cnt ? 0 : -1;
	}

	katls_verdict_error(v, "PCK chain: certification data type 5 is not PEM");
	/* Keep going on DER certificates so that the verdict says more. */
	while (p < end) {
		const uint8_t *start = p, *val;
		gnutls_x509_crt_t crt;
		gnutls_datum_t d;
		size_t vlen;
		uint8_t tag;

		if (kv_der_next(&p, end, &tag, &val, &vlen) < 0 || tag != 0x30)
			break;
		d.data = (unsigned char *)start;
		d.size = (unsigned int)(p - start);
		if (gnutls_x509_crt_init(&crt) < 0)
			break;
		if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crt);
			break;
		}
		if (kv_certs_add(chain, crt) < 0)
			break;
	}
	/* DER chains seen in the wild are root first: put the leaf first. */
	if (chain->n > 1 && kv_crt_self_signed_name(chain->crt[0])) {
		for (unsigned int i = 0; i < chain->n / 2; i++) {
			gnutls_x509_crt_t t = chain->crt[i];

			chain->crt[i] = chain->crt[chain->n - 1 - i];
			chain->crt[chain->n - 1 - i] = t;
		}
	}
	return chain->n ? 0 : -1;
}

static void tdx_check_chain(const struct katls_verify_opts *o,
			    struct kv_certs *chain, time_t at,
			    struct katls_verdict *v)
{
	gnutls_x509_trust_list_t tl = NULL;
	struct kv_certs roots = { 0 };
	char cn[128], icn[128], why[128], err[256];
	unsigned int i, status = 0, nanchors = 0;
	gnutls_x509_crt_t root;
	bool links_ok = true, pinned = false, times_ok = true;

	if (chain->n < 2) {
		katls_verdict_error(v, "PCK chain: %u certificate(s), need leaf to root",
				    chain->n);
		return;
	}
	for (i = 0; i + 1 < chain->n; i++) {
		kv_crt_cn(chain->crt[i], cn, sizeof(cn));
		kv_crt_cn(chain->crt[i + 1], icn, sizeof(icn));
		if (!kv_crt_signed_by(chain->crt[i], chain->crt[i + 1])) {
			katls_verdict_error(v, "PCK chain: \"%s\" is not signed by \"%s\"",
					    cn, icn);
			links_ok = false;
		}
	}
	root = chain->crt[chain->n - 1];
	kv_crt_cn(root, cn, sizeof(cn));
	if (!kv_crt_signed_by(root, root)) {
		katls_verdict_error(v, "PCK chain: root \"%s\" is not self-signed", cn);
		links_ok = false;
	}
	if (links_ok)
		katls_verdict_check(v, "checked: PCK chain signatures (%u certificates, ECDSA)",
				    chain->n);

	if (kv_roots_load(o, &roots, err, sizeof(err)) < 0) {
		katls_verdict_error(v, "trust anchors: %s", err);
		goto out;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		katls_verdict_error(v, "trust list: out of memory");
		goto out;
	}
	for (i = 0; i < roots.n; i++) {
		if (!kv_crt_self_signed_name(roots.crt[i]))
			continue;
		nanchors++;
		if (kv_crt_equal(roots.crt[i], root))
			pinned = true;
		gnutls_x509_trust_list_add_cas(tl, &roots.crt[i], 1, 0);
	}
	if (!pinned) {
		katls_verdict_error(v, "root pinning: \"%s\" in the quote is not one of the %u pinned roots",
				    cn, nanchors);
	} else {
		katls_verdict_check(v, "checked: root \"%s\" is the pinned root (exact certificate)",
				    cn);
		if (gnutls_x509_trust_list_verify_crt2(tl, chain->crt, chain->n,
				NULL, 0,
				GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
				GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
				&status, NULL) < 0 || status) {
			gnutls_datum_t txt = { NULL, 0 };

			gnutls_certificate_verification_status_print(status,
				GNUTLS_CRT_X509, &txt, 0);
			katls_verdict_error(v, "PCK chain: GnuTLS path validation failed: %s",
					    txt.data ? (char *)txt.data : "?");
			gnutls_free(txt.data);
		} else {
			katls_verdict_check(v, "checked: PCK chain path validation to the pinned root (GnuTLS)");
		}
	}

	for (i = 0; i < chain->n; i++) {
		kv_crt_cn(chain->crt[i], cn, sizeof(cn));
		if (!kv_crt_valid_at(chain->crt[i], at, why, sizeof(why))) {
			katls_verdict_error(v, "validity: \"%s\" %s", cn, why);
			times_ok = false;
		}
	}
	if (times_ok)
		katls_verdict_check(v, "checked: every PCK chain certificate valid at %s",
				    kv_time_str(at, why, sizeof(why)));

	/*
	 * A configured collateral directory must revoke the PCK certificate:
	 * without the PCK CA's CRL the verdict would claim a check it did
	 * not make.  The root CA's CRL (covering the PCK CA) is reported.
	 */
	if (o->collateral_dir) {
		unsigned int issuers = 0;

		kv_crl_check(o, chain->crt, chain->n, at, v, &issuers);
		kv_crt_cn(chain->crt[1], icn, sizeof(icn));
		if (!(issuers & 2u))
			katls_verdict_error(v, "revocation: the collateral directory %s has no CRL of the PCK CA \"%s\"",
					    o->collateral_dir, icn);
		if (chain->n > 2 && !(issuers & 1u << (chain->n - 1)))
			katls_verdict_check(v, "not checked: revocation of \"%s\" (no CRL of the root in %s)",
					    icn, o->collateral_dir);
	} else {
		katls_verdict_check(v, "not checked: revocation (no CRL supplied)");
	}
out:
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 0);
	kv_certs_free(&roots);
}

/*
 * The quoting enclave must be Intel's TD quoting enclave, built in and
 * checked without collateral: any enclave the host runs can obtain a
 * report signed by the platform's PCK key, so a QE report signature
 * alone proves nothing about who signed the quote body.  Values of
 * Intel's QE identity collateral for "TD_QE" (the SGX QE3 signer
 * 8c4f5775... is a different enclave and is refused).  The QE identity
 * document's TCB levels (minimum ISVSVN) are applied by tdx_tcb.c when
 * collateral is configured.
 */
static void tdx_check_qe_identity(const uint8_t *qe, struct katls_verdict *v)
{
	char hex[65];
	uint16_t prodid = kv_le16(qe + 0x100), svn = kv_le16(qe + 0x102);
	uint32_t misc = kv_le32(qe + 0x10);
	bool ok = true;
	unsigned int i;

	kv_hex(hex, qe + 0x80, 32);
	if (memcmp(qe + 0x80, td_qe_mrsigner, 32)) {
		katls_verdict_error(v, "QE identity: MRSIGNER %s is not Intel's TD quoting enclave (TD_QE %.8s...)",
				    hex, "dc9e2a7c6f948f17");
		ok = false;
	}
	if (prodid != TD_QE_ISVPRODID) {
		katls_verdict_error(v, "QE identity: ISVPRODID %u is not Intel's TD quoting enclave (%u)",
				    prodid, TD_QE_ISVPRODID);
		ok = false;
	}
	if ((misc & TD_QE_MISCSELECT_MASK) != TD_QE_MISCSELECT) {
		katls_verdict_error(v, "QE identity: MISCSELECT 0x%08x differs from TD_QE's 0x%08x (mask 0x%08x)",
				    misc, TD_QE_MISCSELECT, TD_QE_MISCSELECT_MASK);
		ok = false;
	}
	for (i = 0; i < 16; i++)
		if ((qe[0x30 + i] & td_qe_attr_mask[i]) != td_qe_attr[i])
			break;
	if (i < 16) {
		kv_hex(hex, qe + 0x30, 16);
		katls_verdict_error(v, "QE identity: ATTRIBUTES %s differ from TD_QE's under its mask%s",
				    hex, qe[0x30] & SGX_ATTR_DEBUG ?
				    " (the quoting enclave runs in debug mode)" : "");
		ok = false;
	}
	if (ok)
		katls_verdict_check(v, "checked: QE identity is Intel's TD quoting enclave (TD_QE MRSIGNER, ISVPRODID 2, MISCSELECT, ATTRIBUTES; ISVSVN %u)",
				    svn);
}

int katls_verify_tdx(const uint8_t *ev, size_t len,
		     const struct katls_verify_opts *o,
		     struct katls_claims *c, struct katls_verdict *v)
{
	static const struct katls_verify_opts none;
	struct kv_certs chain = { 0 };
	struct kv_sgx_ext ext = { 0 };
	struct kv_tdx_tcb_in tin;
	gnutls_pubkey_t ak = NULL, pck = NULL;
	gnutls_datum_t x, y;
	struct tdx_quote q;
	uint8_t h[32];
	time_t at;
	int ret = -1;

	if (!o)
		o = &none;
	at = kv_opts_time(o);
	c->tee = KATLS_EVIDENCE_TDX;
	if (!ev || tdx_parse(ev, len, &q, c, v) < 0)
		return -1;

	if (memcmp(ev + 0x0c, intel_qe_vendor, 16))
		katls_verdict_check(v, "note: QE vendor ID is not Intel's");

	/* 1. The attestation key signs header and body. */
	x.data = (unsigned char *)q.attkey;
	x.size = 32;
	y.data = (unsigned char *)q.attkey + 32;
	y.size = 32;
	if (gnutls_pubkey_init(&ak) < 0 ||
	    gnutls_pubkey_import_ecc_raw(ak, GNUTLS_ECC_CURVE_SECP256R1, &x, &y) < 0)
		katls_verdict_error(v, "attestation key: not a P-256 point");
	else if (!kv_ecdsa_verify(ak, GNUTLS_SIGN_ECDSA_SHA256, ev, q.signed_len,
				  q.sig, q.sig + 32, 32))
		katls_verdict_error(v, "quote signature: attestation key signature over header and body does not verify");
	else
		katls_verdict_check(v, "checked: quote signature (ECDSA-P256/SHA-256 by the attestation key)");

	/* 2. The QE report binds the attestation key and QE auth data. */
	{
		gnutls_hash_hd_t hd;

		if (gnutls_hash_init(&hd, GNUTLS_DIG_SHA256) < 0) {
			katls_verdict_error(v, "QE binding: SHA-256 unavailable");
		} else {
			gnutls_hash(hd, q.attkey, 64);
			gnutls_hash(hd, q.qe_auth, q.qe_auth_len);
			gnutls_hash_deinit(hd, h);
			if (memcmp(q.qe_report + 0x140, h, 32) ||
			    !kv_all_zero(q.qe_report + 0x160, 32))
				katls_verdict_error(v, "QE binding: QE report data != SHA-256(attestation key || QE authentication data)");
			else
				katls_verdict_check(v, "checked: QE report data binds the attestation key (SHA-256, %zu bytes of QE auth data)",
						    q.qe_auth_len);
		}
	}
	memcpy(c->tdx.qe_mrsigner, q.qe_report + 0x80, 32);
	c->tdx.qe_isvprodid = kv_le16(q.qe_report + 0x100);
	c->tdx.qe_isvsvn = kv_le16(q.qe_report + 0x102);
	tdx_check_qe_identity(q.qe_report, v);

	/* 3. The PCK certificate signs the QE report; 4. its chain. */
	if (tdx_chain_import(&q, &chain, v) < 0 || chain.n == 0) {
		if (v->valid)
			katls_verdict_error(v, "PCK chain: no certificate");
		goto out;
	}
	if (gnutls_pubkey_init(&pck) < 0 ||
	    gnutls_pubkey_import_x509(pck, chain.crt[0], 0) < 0)
		katls_verdict_error(v, "PCK certificate: public key unusable");
	else if (!kv_ecdsa_verify(pck, GNUTLS_SIGN_ECDSA_SHA256, q.qe_report,
				  TDX_QE_REPORT_LEN, q.qe_sig, q.qe_sig + 32, 32))
		katls_verdict_error(v, "QE report signature: does not verify with the PCK certificate key");
	else
		katls_verdict_check(v, "checked: QE report signature (ECDSA-P256/SHA-256 by the PCK key)");

	if (kv_sgx_ext_parse(chain.crt[0], &ext) < 0 || !ext.have_fmspc) {
		katls_verdict_check(v, "not checked: FMSPC (PCK certificate without a well-formed SGX extension)");
	} else {
		memcpy(c->tdx.fmspc, ext.fmspc, 6);
		c->tdx.fmspc_valid = true;
	}
	tdx_check_chain(o, &chain, at, v);

	/* 5. TCB collateral: TCB Info and QE Identity. */
	tin.tee_tcb_svn = q.body;
	tin.mrsignerseam = q.body + 0x40;
	tin.seam_attributes = kv_le64(q.body + 0x70);
	tin.qe_report = q.qe_report;
	tin.ext = &ext;
	kv_tdx_collateral(o, &tin, at, c, v);

	if (c->debug)
		katls_verdict_check(v, "claim: TD is in DEBUG mode (TDATTRIBUTES bit 0)");
	ret = v->valid ? 0 : -1;
out:
	if (ak)
		gnutls_pubkey_deinit(ak);
	if (pck)
		gnutls_pubkey_deinit(pck);
	kv_certs_free(&chain);
	return ret;
}
