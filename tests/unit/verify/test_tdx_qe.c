// SPDX-License-Identifier: GPL-2.0
/*
 * test_tdx_qe.c - the TDX quoting enclave's identity (issue 11 item 1).
 *
 * Builds TDX v4 quotes from scratch with GnuTLS: a test root and PCK
 * certificate (pinned through opts.roots_dir, never the built-in Intel
 * root), an attestation key that signs header and body, and a QE report
 * signed by the test PCK key.  Only the QE report's identity fields
 * differ between the cases, so a rejection can only come from the QE
 * identity check: a host that runs its own enclave under the platform's
 * PCK key must not be able to sign quote bodies.
 */
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "vtest.h"
#include "verify_int.h"

/* Intel's TD_QE MRSIGNER and the SGX QE3 signer (not a TD quoting enclave). */
#define TD_QE_SIGNER "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5"
#define SGX_QE3_SIGNER "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff"

struct key {
	gnutls_x509_privkey_t x;
	gnutls_privkey_t k;
};

static int key_new(struct key *k)
{
	if (gnutls_x509_privkey_init(&k->x) < 0 ||
	    gnutls_x509_privkey_generate(k->x, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_privkey_init(&k->k) < 0 ||
	    gnutls_privkey_import_x509(k->k, k->x, 0) < 0)
		return -1;
	return 0;
}

static void key_free(struct key *k)
{
	if (k->k)
		gnutls_privkey_deinit(k->k);
	if (k->x)
		gnutls_x509_privkey_deinit(k->x);
}

/* ECDSA-P256/SHA-256 as raw big-endian r || s (64 bytes). */
static int sign_raw(struct key *k, const uint8_t *p, size_t n, uint8_t *out)
{
	gnutls_datum_t d = { (unsigned char *)p, (unsigned int)n }, sig, r, s;
	int ret = -1;

	if (gnutls_privkey_sign_data(k->k, GNUTLS_DIG_SHA256, 0, &d, &sig) < 0)
		return -1;
	if (gnutls_decode_rs_value(&sig, &r, &s) == 0) {
		const gnutls_datum_t *v[2] = { &r, &s };

		memset(out, 0, 64);
		ret = 0;
		for (int i = 0; i < 2; i++) {
			const unsigned char *b = v[i]->data;
			unsigned int l = v[i]->size;

			while (l > 32 && !*b) {
				b++;
				l--;
			}
			if (l > 32)
				ret = -1;
			else
				memcpy(out + 32 * i + 32 - l, b, l);
		}
		gnutls_free(r.data);
		gnutls_free(s.data);
	}
	gnutls_free(sig.data);
	return ret;
}

static gnutls_x509_crt_t cert_new(struct key *subj, const char *dn,
				  gnutls_x509_crt_t issuer, struct key *ikey,
				  bool ca, time_t now, unsigned char serial)
{
	gnutls_x509_crt_t c;
	const char *e;

	if (gnutls_x509_crt_init(&c) < 0)
		return NULL;
	if (gnutls_x509_crt_set_version(c, 3) < 0 ||
	    gnutls_x509_crt_set_serial(c, &serial, 1) < 0 ||
	    gnutls_x509_crt_set_dn(c, dn, &e) < 0 ||
	    gnutls_x509_crt_set_activation_time(c, now - 86400) < 0 ||
	    gnutls_x509_crt_set_expiration_time(c, now + 86400 * 365) < 0 ||
	    gnutls_x509_crt_set_key(c, subj->x) < 0 ||
	    gnutls_x509_crt_set_basic_constraints(c, ca, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(c, ca ? GNUTLS_KEY_KEY_CERT_SIGN |
					  GNUTLS_KEY_CRL_SIGN :
					  GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
	    gnutls_x509_crt_sign2(c, issuer ? issuer : c, ikey->x,
				  GNUTLS_DIG_SHA256, 0) < 0) {
		gnutls_x509_crt_deinit(c);
		return NULL;
	}
	return c;
}

struct qe_id {
	const char *mrsigner;
	uint16_t prodid, svn;
	uint8_t attr0;		/* ATTRIBUTES.flags byte 0 */
	uint32_t miscselect;
};

struct fixture {
	struct key root, pck, ak;
	gnutls_x509_crt_t root_crt, pck_crt;
	char *roots_dir, *other_dir;
	time_t now;
};

/* A complete, well-signed v4 quote whose QE report carries id. */
static uint8_t *quote_build(struct fixture *f, const struct qe_id *id,
			    size_t *len)
{
	static const uint8_t intel_vendor[16] = {
		0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
		0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07
	};
	gnutls_datum_t pem1 = { NULL, 0 }, pem2 = { NULL, 0 }, x, y, k;
	gnutls_ecc_curve_t curve;
	size_t chain_len, m, off, total;
	uint8_t *q = NULL, *qe, auth[32];
	gnutls_hash_hd_t hd;

	if (gnutls_x509_crt_export2(f->pck_crt, GNUTLS_X509_FMT_PEM, &pem1) < 0 ||
	    gnutls_x509_crt_export2(f->root_crt, GNUTLS_X509_FMT_PEM, &pem2) < 0)
		goto out;
	chain_len = pem1.size + pem2.size + 1;		/* trailing NUL */
	m = 384 + 64 + 2 + sizeof(auth) + 2 + 4 + chain_len;
	total = 48 + 584 + 4 + 0x86 + m;
	q = calloc(1, total);
	if (!q)
		goto out;

	/* header */
	q[0] = 4;		/* version */
	q[2] = 2;		/* ECDSA-P256 */
	q[4] = 0x81;		/* TDX */
	memcpy(q + 12, intel_vendor, 16);
	/* body: a recognisable MRTD, TDATTRIBUTES with SEPT_VE_DISABLE */
	memset(q + 48 + 0x88, 0x5a, 48);
	q[48 + 0x78 + 3] = 0x10;
	off = 48 + 584;
	q[off] = (uint8_t)((0x86 + m) & 0xff);
	q[off + 1] = (uint8_t)((0x86 + m) >> 8);
	off += 4;
	/* signature data: sig, attestation key, type 6, m */
	if (gnutls_privkey_export_ecc_raw2(f->ak.k, &curve, &x, &y, &k,
					   GNUTLS_EXPORT_FLAG_NO_LZ) < 0)
		goto fail;
	memset(q + off + 64, 0, 64);
	memcpy(q + off + 64 + 32 - x.size, x.data, x.size);
	memcpy(q + off + 96 + 32 - y.size, y.data, y.size);
	gnutls_memset(k.data, 0, k.size);
	gnutls_free(x.data);
	gnutls_free(y.data);
	gnutls_free(k.data);
	q[off + 0x80] = 6;
	q[off + 0x82] = (uint8_t)(m & 0xff);
	q[off + 0x83] = (uint8_t)(m >> 8);
	if (sign_raw(&f->ak, q, 48 + 584, q + off) < 0)
		goto fail;

	/* QE report: identity fields, report data over key and auth data */
	qe = q + off + 0x86;
	memset(auth, 0xa5, sizeof(auth));
	qe[0x10] = (uint8_t)id->miscselect;
	qe[0x11] = (uint8_t)(id->miscselect >> 8);
	qe[0x12] = (uint8_t)(id->miscselect >> 16);
	qe[0x13] = (uint8_t)(id->miscselect >> 24);
	qe[0x30] = id->attr0;
	qe[0x38] = 0xe7;	/* XFRM: not under the mask */
	memset(qe + 0x40, 0x11, 32);	/* MRENCLAVE */
	if (vt_unhex(id->mrsigner, qe + 0x80, 32) != 32)
		goto fail;
	qe[0x100] = (uint8_t)id->prodid;
	qe[0x101] = (uint8_t)(id->prodid >> 8);
	qe[0x102] = (uint8_t)id->svn;
	qe[0x103] = (uint8_t)(id->svn >> 8);
	if (gnutls_hash_init(&hd, GNUTLS_DIG_SHA256) < 0)
		goto fail;
	gnutls_hash(hd, q + off + 64, 64);
	gnutls_hash(hd, auth, sizeof(auth));
	gnutls_hash_deinit(hd, qe + 0x140);
	if (sign_raw(&f->pck, qe, 384, qe + 384) < 0)
		goto fail;
	qe[0x1c0] = sizeof(auth);
	memcpy(qe + 0x1c2, auth, sizeof(auth));
	qe[0x1c2 + sizeof(auth)] = 5;
	qe[0x1c4 + sizeof(auth)] = (uint8_t)(chain_len & 0xff);
	qe[0x1c5 + sizeof(auth)] = (uint8_t)(chain_len >> 8);
	memcpy(qe + 0x1c8 + sizeof(auth), pem1.data, pem1.size);
	memcpy(qe + 0x1c8 + sizeof(auth) + pem1.size, pem2.data, pem2.size);
	*len = total;
	goto out;
fail:
	free(q);
	q = NULL;
out:
	gnutls_free(pem1.data);
	gnutls_free(pem2.data);
	return q;
}

static int verify(struct fixture *f, const char *roots, const struct qe_id *id,
		  struct katls_claims *c, struct katls_verdict *v)
{
	struct katls_verify_opts o = { .roots_dir = roots, .at = f->now };
	size_t len = 0;
	uint8_t *q = quote_build(f, id, &len);
	int r;

	memset(c, 0, sizeof(*c));
	katls_verdict_init(v);
	if (!q) {
		tap_diag("cannot build the test quote");
		return -2;
	}
	r = katls_verify_evidence(KATLS_EVIDENCE_NONE, q, len, &o, c, v);
	free(q);
	return r;
}

static int fixture_init(struct fixture *f)
{
	struct key other = { 0 };
	gnutls_x509_crt_t other_crt;
	gnutls_datum_t pem = { NULL, 0 };
	char tmpl[] = "/tmp/katls-qe.XXXXXX", tmpl2[] = "/tmp/katls-qe.XXXXXX";
	int ret = -1;

	memset(f, 0, sizeof(*f));
	f->now = time(NULL);
	if (key_new(&f->root) < 0 || key_new(&f->pck) < 0 || key_new(&f->ak) < 0)
		return -1;
	f->root_crt = cert_new(&f->root, "CN=katls test PCK root", NULL,
			       &f->root, true, f->now, 1);
	if (!f->root_crt)
		return -1;
	f->pck_crt = cert_new(&f->pck, "CN=katls test PCK Certificate",
			      f->root_crt, &f->root, false, f->now, 2);
	if (!f->pck_crt || !mkdtemp(tmpl) || !mkdtemp(tmpl2))
		return -1;
	f->roots_dir = strdup(tmpl);
	f->other_dir = strdup(tmpl2);
	if (gnutls_x509_crt_export2(f->root_crt, GNUTLS_X509_FMT_PEM, &pem) < 0 ||
	    vt_write(f->roots_dir, "root.pem", pem.data, pem.size) < 0)
		goto out;
	gnutls_free(pem.data);
	pem.data = NULL;
	/* A second test root that does not sign the chain. */
	if (key_new(&other) < 0)
		goto out;
	other_crt = cert_new(&other, "CN=katls other root", NULL, &other, true,
			     f->now, 3);
	if (!other_crt)
		goto out;
	if (gnutls_x509_crt_export2(other_crt, GNUTLS_X509_FMT_PEM, &pem) == 0 &&
	    vt_write(f->other_dir, "root.pem", pem.data, pem.size) == 0)
		ret = 0;
	gnutls_x509_crt_deinit(other_crt);
out:
	gnutls_free(pem.data);
	key_free(&other);
	return ret;
}

static void fixture_free(struct fixture *f)
{
	if (f->root_crt)
		gnutls_x509_crt_deinit(f->root_crt);
	if (f->pck_crt)
		gnutls_x509_crt_deinit(f->pck_crt);
	key_free(&f->root);
	key_free(&f->pck);
	key_free(&f->ak);
	vt_rmdir(f->roots_dir);
	vt_rmdir(f->other_dir);
}

int main(void)
{
	static const struct qe_id intel = { TD_QE_SIGNER, 2, 4, 0x11, 0 };
	struct katls_claims c;
	struct katls_verdict v;
	struct fixture f;
	struct qe_id id;
	int r;

	gnutls_global_init();
	if (fixture_init(&f) < 0) {
		tap_ok(0, "test PCK chain and keys generated");
		fixture_free(&f);
		gnutls_global_deinit();
		return tap_done();
	}

	r = verify(&f, f.roots_dir, &intel, &c, &v);
	tap_ok(r == 0 && v.valid && c.tee == KATLS_EVIDENCE_TDX &&
	       vt_check(&v, "checked: QE report signature") &&
	       vt_check(&v, "checked: QE identity is Intel's TD quoting enclave") &&
	       vt_check(&v, "pinned root"),
	       "test chain, Intel TD_QE identity: accepted");
	vt_dump(&v);

	r = verify(&f, f.other_dir, &intel, &c, &v);
	tap_ok(r < 0 && vt_error(&v, "root pinning"),
	       "same quote under another pinned root: rejected (the chain matters)");

	id = intel;
	id.mrsigner = SGX_QE3_SIGNER;
	r = verify(&f, f.roots_dir, &id, &c, &v);
	tap_ok(r < 0 && !v.valid &&
	       vt_check(&v, "checked: QE report signature") &&
	       vt_error(&v, "QE identity: MRSIGNER 8c4f5775") &&
	       vt_error(&v, "not Intel's TD quoting enclave"),
	       "QE report of the SGX QE3 signer, validly signed by the PCK: rejected, reason names MRSIGNER");
	vt_dump(&v);

	id = intel;
	id.mrsigner = "0101010101010101010101010101010101010101010101010101010101010101";
	r = verify(&f, f.roots_dir, &id, &c, &v);
	tap_ok(r < 0 && vt_error(&v, "QE identity: MRSIGNER 01010101"),
	       "host's own enclave (foreign MRSIGNER): rejected");

	id = intel;
	id.prodid = 1;
	r = verify(&f, f.roots_dir, &id, &c, &v);
	tap_ok(r < 0 && vt_error(&v, "QE identity: ISVPRODID 1"),
	       "Intel signer but ISVPRODID 1 (the SGX QE): rejected");

	id = intel;
	id.attr0 = 0x13;	/* DEBUG */
	r = verify(&f, f.roots_dir, &id, &c, &v);
	tap_ok(r < 0 && vt_error(&v, "QE identity: ATTRIBUTES"),
	       "Intel TD_QE in debug mode: rejected");

	id = intel;
	id.attr0 = 0x15;	/* MODE64BIT is outside the mask */
	r = verify(&f, f.roots_dir, &id, &c, &v);
	tap_ok(r == 0, "ATTRIBUTES bit outside the published mask: accepted");
	vt_dump(&v);

	id = intel;
	id.miscselect = 1;
	r = verify(&f, f.roots_dir, &id, &c, &v);
	tap_ok(r < 0 && vt_error(&v, "QE identity: MISCSELECT"),
	       "MISCSELECT not 0: rejected");

	fixture_free(&f);
	gnutls_global_deinit();
	return tap_done();
}
