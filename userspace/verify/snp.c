// SPDX-License-Identifier: GPL-2.0
/*
 * snp.c - AMD SEV-SNP attestation report v2, v3 and v5.
 *
 * The report (1184 bytes, exactly what configfs-tsm's sev_guest provider
 * returns) is signed with ECDSA P-384/SHA-384 over bytes [0, 0x2a0) by the
 * VCEK or the VLEK.  The chains are VCEK -> ASK -> ARK and VLEK -> ASVK ->
 * ARK, every link RSASSA-PSS; only a pinned ARK is trusted.  The signer
 * comes from the auxblob certificate table (GHCB GUID table) or from the
 * certificate directory.  Layout references: FORMATS.md section 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_int.h"

#define SNP_REPORT_LEN		0x4a0
#define SNP_SIGNED_LEN		0x2a0
#define SNP_SIG_ALGO_ECDSA_P384	1
#define SNP_POL_SMT		(1ull << 16)
#define SNP_POL_MIGRATE_MA	(1ull << 18)
#define SNP_POL_DEBUG		(1ull << 19)
#define SNP_KEY_VCEK		0
#define SNP_KEY_VLEK		1

enum { PROD_UNKNOWN, PROD_MILAN, PROD_GENOA, PROD_TURIN };
static const char *const prod_name[] = { "unknown", "Milan", "Genoa", "Turin" };

const uint8_t kv_guid_vcek[16] = {
	0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
	0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd
};
const uint8_t kv_guid_vlek[16] = {
	0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
	0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1
};
const uint8_t kv_guid_ask[16] = {
	0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
	0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82
};
const uint8_t kv_guid_ark[16] = {
	0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
	0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae
};

int kv_snp_cert_table_parse(const uint8_t *aux, size_t len,
			    struct kv_snp_cert *out, size_t max,
			    char *err, size_t errlen)
{
	size_t n = 0, off;

	for (off = 0;; off += 24) {
		const uint8_t *e = aux + off;
		struct kv_snp_cert ent;

		if (off > len || len - off < 24) {
			snprintf(err, errlen, "certificate table: no terminating entry in %zu bytes",
				 len);
			return -1;
		}
		if (kv_all_zero(e, 24))
			return (int)n;
		memcpy(ent.guid, e, 16);
		ent.offset = kv_le32(e + 16);
		ent.len = kv_le32(e + 20);
		if (ent.len == 0 || ent.offset > len || ent.len > len - ent.offset) {
			snprintf(err, errlen, "certificate table: entry %zu (offset %u, length %u) outside the %zu-byte blob",
				 n, ent.offset, ent.len, len);
			return -1;
		}
		if (n == max) {
			snprintf(err, errlen, "certificate table: more than %zu entries", max);
			return -1;
		}
		out[n++] = ent;
	}
}

/* Certificates of the auxblob: signer candidates and intermediates. */
static int snp_aux_certs(const struct katls_verify_opts *o, struct kv_certs *pool,
			 struct katls_verdict *v)
{
	struct kv_snp_cert ents[KV_SNP_CERTS_MAX];
	char err[160];
	int n, i;

	if (!o->aux || !o->aux_len)
		return 0;
	n = kv_snp_cert_table_parse(o->aux, o->aux_len, ents, KV_SNP_CERTS_MAX,
				    err, sizeof(err));
	if (n < 0) {
		katls_verdict_error(v, "auxblob: %s", err);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *what = !memcmp(ents[i].guid, kv_guid_vcek, 16) ? "VCEK" :
				   !memcmp(ents[i].guid, kv_guid_vlek, 16) ? "VLEK" :
				   !memcmp(ents[i].guid, kv_guid_ask, 16) ? "ASK" :
				   !memcmp(ents[i].guid, kv_guid_ark, 16) ? "ARK" : NULL;
		gnutls_datum_t d = { (unsigned char *)o->aux + ents[i].offset,
				     ents[i].len };
		gnutls_x509_crt_t crt;

		if (!what)
			continue;	/* other GUIDs: not ours to interpret */
		if (gnutls_x509_crt_init(&crt) < 0)
			return -1;
		if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crt);
			katls_verdict_error(v, "auxblob: %s entry is not a DER certificate",
					    what);
			return -1;
		}
		if (kv_certs_add(pool, crt) < 0)
			return -1;
	}
	katls_verdict_check(v, "checked: auxblob certificate table (%d entries)", n);
	return 0;
}

static unsigned int product_of_cn(const char *cn)
{
	if (strstr(cn, "Milan"))
		return PROD_MILAN;
	if (strstr(cn, "Genoa"))
		return PROD_GENOA;
	if (strstr(cn, "Turin"))
		return PROD_TURIN;
	return PROD_UNKNOWN;
}

static unsigned int product_of_cpuid(const uint8_t *r)
{
	uint8_t fam = r[0x188], mod = r[0x189];

	if (fam == 0x19 && mod <= 0x0f)
		return PROD_MILAN;
	if (fam == 0x19 && (mod >> 4 == 1 || mod >> 4 == 0xa))
		return PROD_GENOA;
	if (fam == 0x1a && mod <= 0x1f)
		return PROD_TURIN;
	return PROD_UNKNOWN;
}

/* A VCEK extension holding a DER INTEGER. */
static int ext_uint(gnutls_x509_crt_t crt, const char *oid, uint32_t *out)
{
	uint8_t buf[16];
	size_t sz = sizeof(buf);
	const uint8_t *p = buf, *val;
	size_t vlen;
	uint8_t tag;

	if (gnutls_x509_crt_get_extension_by_oid(crt, oid, 0, buf, &sz, NULL) < 0)
		return -1;
	if (kv_der_next(&p, buf + sz, &tag, &val, &vlen) < 0 || tag != 0x02 ||
	    p != buf + sz)
		return -1;
	return kv_der_uint(val, vlen, out);
}

/* Reported TCB vs the SPL extensions of the VCEK / VLEK. */
static void snp_check_tcb(gnutls_x509_crt_t leaf, unsigned int prod,
			  const uint8_t *r, const struct katls_claims *c,
			  struct katls_verdict *v)
{
	static const char *const names[] = { "blSPL", "teeSPL", "snpSPL",
					     "ucodeSPL", "fmcSPL" };
	static const char *const oids[] = {
		"1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2",
		"1.3.6.1.4.1.3704.1.3.3", "1.3.6.1.4.1.3704.1.3.8",
		"1.3.6.1.4.1.3704.1.3.9",
	};
	const uint8_t *t = r + 0x180;
	uint8_t rep[5];
	unsigned int i, n = 4;
	bool ok = true;

	if (prod == PROD_TURIN) {
		rep[0] = t[1];
		rep[1] = t[2];
		rep[2] = t[3];
		rep[3] = t[7];
		rep[4] = t[0];
		n = 5;
	} else {
		rep[0] = t[0];
		rep[1] = t[1];
		rep[2] = t[6];
		rep[3] = t[7];
	}
	for (i = 0; i < n; i++) {
		uint32_t spl;

		if (ext_uint(leaf, oids[i], &spl) < 0) {
			katls_verdict_error(v, "TCB: signing certificate lacks a readable %s",
					    names[i]);
			ok = false;
		} else if (spl != rep[i]) {
			katls_verdict_error(v, "TCB: REPORTED_TCB %s %u != %u in the signing certificate",
					    names[i], rep[i], spl);
			ok = false;
		}
	}
	if (ok)
		katls_verdict_check(v, "checked: REPORTED_TCB %016llx matches the signing certificate's SPLs",
				    (unsigned long long)c->snp.reported_tcb);
}

static void snp_check_hwid(gnutls_x509_crt_t leaf, unsigned int prod,
			   const struct katls_claims *c, struct katls_verdict *v)
{
	uint8_t buf[128];
	size_t sz = sizeof(buf), want = prod == PROD_TURIN ? 8 : 64;

	if (c->snp.signing_key == SNP_KEY_VLEK) {
		katls_verdict_check(v, "not checked: CHIP_ID (a VLEK has no hwID)");
		return;
	}
	if (kv_all_zero(c->snp.chip_id, 64)) {
		katls_verdict_check(v, "not checked: CHIP_ID (masked to zero)");
		return;
	}
	if (gnutls_x509_crt_get_extension_by_oid(leaf, "1.3.6.1.4.1.3704.1.4", 0,
						 buf, &sz, NULL) < 0) {
		katls_verdict_error(v, "VCEK: no hwID extension");
		return;
	}
	if (sz != want) {
		katls_verdict_error(v, "VCEK: hwID is %zu bytes, expected %zu", sz, want);
		return;
	}
	if (memcmp(buf, c->snp.chip_id, want))
		katls_verdict_error(v, "VCEK: hwID differs from the report's CHIP_ID");
	else
		katls_verdict_check(v, "checked: CHIP_ID equals the VCEK's hwID");
}

static bool snp_sig_verify(gnutls_x509_crt_t crt, const uint8_t *r)
{
	uint8_t rb[48], sb[48];
	gnutls_pubkey_t key;
	bool ok = false;
	int i;

	for (i = 0; i < 48; i++) {
		rb[i] = r[0x2a0 + 47 - i];
		sb[i] = r[0x2e8 + 47 - i];
	}
	if (gnutls_pubkey_init(&key) < 0)
		return false;
	if (gnutls_pubkey_import_x509(key, crt, 0) >= 0)
		ok = kv_ecdsa_verify(key, GNUTLS_SIGN_ECDSA_SHA384, r,
				     SNP_SIGNED_LEN, rb, sb, 48);
	gnutls_pubkey_deinit(key);
	return ok;
}

static void snp_claims(const uint8_t *r, struct katls_claims *c)
{
	c->tee = KATLS_EVIDENCE_SNP;
	c->version = kv_le32(r);
	c->snp.guest_svn = kv_le32(r + 0x04);
	c->snp.policy = kv_le64(r + 0x08);
	memcpy(c->snp.family_id, r + 0x10, 16);
	memcpy(c->snp.image_id, r + 0x20, 16);
	c->snp.vmpl = kv_le32(r + 0x30);
	c->snp.current_tcb = kv_le64(r + 0x38);
	c->snp.signing_key = (kv_le32(r + 0x48) >> 2) & 7;
	memcpy(c->report_data, r + 0x50, 64);
	memcpy(c->measurement, r + 0x90, 48);
	c->measurement_len = 48;
	memcpy(c->snp.host_data, r + 0xc0, 32);
	memcpy(c->snp.id_key_digest, r + 0xe0, 48);
	memcpy(c->snp.author_key_digest, r + 0x110, 48);
	c->snp.reported_tcb = kv_le64(r + 0x180);
	memcpy(c->snp.chip_id, r + 0x1a0, 64);
	c->snp.committed_tcb = kv_le64(r + 0x1e0);
	c->snp.launch_tcb = kv_le64(r + 0x1f0);
	c->snp.platform_info = kv_le64(r + 0x40);
	c->snp.author_key_en = r[0x48] & 1;
	c->snp.mask_chip_key = (r[0x48] >> 1) & 1;
	memcpy(c->snp.report_id, r + 0x140, 32);
	memcpy(c->snp.report_id_ma, r + 0x160, 32);
	if (c->version >= 3) {
		c->snp.cpuid_fam = r[0x188];
		c->snp.cpuid_mod = r[0x189];
		c->snp.cpuid_step = r[0x18a];
	}
	/* CURRENT_BUILD, _MINOR, _MAJOR at 0x1e8; COMMITTED_* at 0x1ec */
	for (int i = 0; i < 3; i++) {
		c->snp.current_version[i] = r[0x1ea - i];
		c->snp.committed_version[i] = r[0x1ee - i];
	}
	if (c->version >= 5) {
		c->snp.launch_mit_vector = kv_le64(r + 0x1f8);
		c->snp.current_mit_vector = kv_le64(r + 0x200);
	}
	c->debug = (c->snp.policy & SNP_POL_DEBUG) != 0;
}

/* Leaf -> ASK/ASVK -> pinned ARK, validity, revocation. */
static unsigned int snp_check_chain(const struct katls_verify_opts *o,
				    gnutls_x509_crt_t leaf, struct kv_certs *pool,
				    time_t at, struct katls_verdict *v)
{
	struct kv_certs roots = { 0 };
	gnutls_x509_crt_t chain[3] = { leaf, NULL, NULL };
	char cn[128], icn[128], why[128], err[256];
	unsigned int i, prod = PROD_UNKNOWN;
	bool times_ok = true;

	kv_crt_cn(leaf, cn, sizeof(cn));
	if (kv_roots_load(o, &roots, err, sizeof(err)) < 0) {
		katls_verdict_error(v, "trust anchors: %s", err);
		goto out;
	}
	/* The intermediate may come from the host (untrusted) or the pins. */
	for (i = 0; i < pool->n + roots.n && !chain[1]; i++) {
		gnutls_x509_crt_t x = i < pool->n ? pool->crt[i] :
						    roots.crt[i - pool->n];

		if (x != leaf && !kv_crt_self_signed_name(x) &&
		    kv_crt_signed_by(leaf, x))
			chain[1] = x;
	}
	if (!chain[1]) {
		katls_verdict_error(v, "chain: no ASK/ASVK certificate supplied or pinned signs \"%s\"",
				    cn);
		goto out;
	}
	kv_crt_cn(chain[1], icn, sizeof(icn));
	katls_verdict_check(v, "checked: \"%s\" signed by \"%s\" (RSASSA-PSS)", cn, icn);
	for (i = 0; i < roots.n && !chain[2]; i++)
		if (kv_crt_self_signed_name(roots.crt[i]) &&
		    kv_crt_signed_by(chain[1], roots.crt[i]) &&
		    kv_crt_signed_by(roots.crt[i], roots.crt[i]))
			chain[2] = roots.crt[i];
	if (!chain[2]) {
		katls_verdict_error(v, "chain: \"%s\" is not signed by a pinned ARK", icn);
		goto out;
	}
	kv_crt_cn(chain[2], cn, sizeof(cn));
	prod = product_of_cn(cn);
	katls_verdict_check(v, "checked: \"%s\" signed by the pinned root \"%s\"", icn, cn);

	for (i = 0; i < 3; i++) {
		kv_crt_cn(chain[i], cn, sizeof(cn));
		if (!kv_crt_valid_at(chain[i], at, why, sizeof(why))) {
			katls_verdict_error(v, "validity: \"%s\" %s", cn, why);
			times_ok = false;
		}
	}
	if (times_ok)
		katls_verdict_check(v, "checked: every certificate of the chain valid at %s",
				    kv_time_str(at, why, sizeof(why)));
	/* A configured collateral directory must hold the ARK's CRL. */
	if (o->collateral_dir) {
		unsigned int issuers = 0;

		kv_crl_check(o, chain, 3, at, v, &issuers);
		kv_crt_cn(chain[2], cn, sizeof(cn));
		if (!(issuers & 4u))
			katls_verdict_error(v, "revocation: the collateral directory %s has no CRL of \"%s\"",
					    o->collateral_dir, cn);
	} else {
		katls_verdict_check(v, "not checked: revocation (no CRL supplied)");
	}
out:
	kv_certs_free(&roots);
	return prod;
}

int katls_verify_snp(const uint8_t *ev, size_t len,
		     const struct katls_verify_opts *o,
		     struct katls_claims *c, struct katls_verdict *v)
{
	static const struct katls_verify_opts none;
	const char *want_cn, *key_name;
	struct kv_certs pool = { 0 };
	gnutls_x509_crt_t signer = NULL;
	unsigned int i, ncand = 0, prod, chain_prod;
	uint32_t version;
	char err[256];
	time_t at;

	if (!o)
		o = &none;
	at = kv_opts_time(o);
	c->tee = KATLS_EVIDENCE_SNP;
	if (!ev || len != SNP_REPORT_LEN) {
		katls_verdict_error(v, "SNP report: %zu bytes, expected %u", len,
				    SNP_REPORT_LEN);
		return -1;
	}
	version = kv_le32(ev);
	if (version != 2 && version != 3 && version != 5) {
		katls_verdict_error(v, "SNP report: version %u not supported (2, 3, 5)",
				    version);
		return -1;
	}
	if (kv_le32(ev + 0x34) != SNP_SIG_ALGO_ECDSA_P384) {
		katls_verdict_error(v, "SNP report: signature algorithm %u not supported (1, ECDSA P-384)",
				    kv_le32(ev + 0x34));
		return -1;
	}
	snp_claims(ev, c);
	if (c->snp.signing_key != SNP_KEY_VCEK && c->snp.signing_key != SNP_KEY_VLEK) {
		katls_verdict_error(v, "SNP report: signing key %u is neither VCEK nor VLEK",
				    c->snp.signing_key);
		return -1;
	}
	if (!kv_all_zero(ev + 0x2a0 + 48, 24) || !kv_all_zero(ev + 0x2e8 + 48, 24)) {
		katls_verdict_error(v, "SNP report: signature R or S wider than 48 bytes");
		return -1;
	}
	key_name = c->snp.signing_key == SNP_KEY_VLEK ? "VLEK" : "VCEK";
	want_cn = c->snp.signing_key == SNP_KEY_VLEK ? "SEV-VLEK" : "SEV-VCEK";
	katls_verdict_check(v, "checked: SNP report v%u structure (signed by the %s)",
			    version, key_name);

	/* Candidate signing certificates. */
	if (snp_aux_certs(o, &pool, v) < 0)
		goto out;
	if (o->certs_dir &&
	    kv_certs_load_dir(&pool, o->certs_dir, err, sizeof(err)) < 0) {
		katls_verdict_error(v, "certificates: %s", err);
		goto out;
	}
	for (i = 0; i < pool.n; i++) {
		char cn[64];

		kv_crt_cn(pool.crt[i], cn, sizeof(cn));
		if (strcmp(cn, want_cn))
			continue;
		ncand++;
		if (!signer)
			signer = pool.crt[i];
		if (snp_sig_verify(pool.crt[i], ev)) {
			signer = pool.crt[i];
			break;
		}
	}
	if (!signer) {
		katls_verdict_error(v, "report signature: no %s supplied (auxblob certificate table or certificate directory)",
				    key_name);
		goto out;
	}
	if (i == pool.n)
		katls_verdict_error(v, "report signature: does not verify with the %u %s certificate(s) supplied",
				    ncand, key_name);
	else
		katls_verdict_check(v, "checked: report signature (ECDSA-P384/SHA-384 by the %s)",
				    key_name);

	chain_prod = snp_check_chain(o, signer, &pool, at, v);
	prod = version >= 3 ? product_of_cpuid(ev) : PROD_UNKNOWN;
	if (prod == PROD_UNKNOWN)
		prod = chain_prod;
	else if (chain_prod != PROD_UNKNOWN && chain_prod != prod)
		katls_verdict_error(v, "product: CPUID says %s, the chain is %s's",
				    prod_name[prod], prod_name[chain_prod]);
	c->snp.product = (uint8_t)prod;
	if (prod == PROD_UNKNOWN)
		katls_verdict_error(v, "product: unknown (no CPUID, no pinned chain)");

	snp_check_tcb(signer, prod, ev, c, v);
	snp_check_hwid(signer, prod, c, v);
	katls_verdict_check(v, "not checked: TCB status (no AMD TCB collateral; use a policy's snp.min_tcb)");
	katls_verdict_check(v, "claim: guest policy 0x%llx: debug %s, migration agent %s, SMT %s; VMPL %u",
			    (unsigned long long)c->snp.policy,
			    c->debug ? "ALLOWED" : "off",
			    c->snp.policy & SNP_POL_MIGRATE_MA ? "allowed" : "off",
			    c->snp.policy & SNP_POL_SMT ? "allowed" : "off",
			    c->snp.vmpl);
out:
	kv_certs_free(&pool);
	return v->valid ? 0 : -1;
}
