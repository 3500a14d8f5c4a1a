// SPDX-License-Identifier: GPL-2.0
/*
 * dispatch.c - katls_verify_evidence(): type detection, the evidence
 * digest, the per-type back end and the expected report data.
 */
#include <string.h>
#include <gnutls/crypto.h>

#include <katls/sim_evidence.h>
#include "verify_int.h"

const char *katls_evidence_name(enum katls_evidence_type t)
{
	switch (t) {
	case KATLS_EVIDENCE_NONE:
		return "none";
	case KATLS_EVIDENCE_TDX:
		return "tdx";
	case KATLS_EVIDENCE_SNP:
		return "snp";
	case KATLS_EVIDENCE_CCA:
		return "cca";
	case KATLS_EVIDENCE_SIM:
		return "sim";
	default:
		return "unknown";
	}
}

/*
 * Detection only routes the bytes to a parser; the parser decides.  A
 * TDX header is recognised by its TEE type and key type whatever its
 * version, so that an unsupported version gets a precise error.
 */
enum katls_evidence_type katls_evidence_detect(const uint8_t *ev, size_t len)
{
	if (!ev)
		return KATLS_EVIDENCE_NONE;
	if (len >= 8 && !memcmp(ev, KATLS_SIM_MAGIC, 8))
		return KATLS_EVIDENCE_SIM;
	/* CBOR tag 399 (0xd9 0x01 0x8f): the CCA token collection */
	if (len >= 3 && ev[0] == 0xd9 && ev[1] == 0x01 && ev[2] == 0x8f)
		return KATLS_EVIDENCE_CCA;
	if (len >= 48 && kv_le32(ev + 4) == 0x81 &&
	    (kv_le16(ev + 2) == 2 || kv_le16(ev + 2) == 3))
		return KATLS_EVIDENCE_TDX;
	if (len == 0x4a0 && kv_le32(ev) >= 2 && kv_le32(ev) <= 5 &&
	    kv_le32(ev + 0x34) == 1)
		return KATLS_EVIDENCE_SNP;
	return KATLS_EVIDENCE_NONE;
}

/*
 * Say what was expected and what came closest, one line each: the
 * verdict's lines are short, and "unknown format" helps nobody.
 */
static void detect_failed(const uint8_t *ev, size_t len,
			  struct katls_verdict *v)
{
	char head[17];

	kv_hex(head, ev, len < 8 ? len : 8);
	katls_verdict_error(v, "evidence type not detected: %zu bytes starting %s",
			    len, head);
	if (len >= 48 && kv_le32(ev + 4) == 0x81)
		katls_verdict_error(v, "TDX? TEE type 0x81, but attestation key type %u (expected 2, ECDSA-P256)",
				    kv_le16(ev + 2));
	else if (len >= 8 && len < 48 && kv_le32(ev + 4) == 0x81)
		katls_verdict_error(v, "TDX? TEE type 0x81, but %zu bytes are shorter than a quote header (48)",
				    len);
	else if (len > 0x4a0 + 8 && kv_le16(ev) == 3 && kv_le32(ev + 4) == 0)
		katls_verdict_error(v, "an SGX quote (version 3, TEE type 0), not a TDX quote (TEE type 0x81)");
	else if (len == 0x4a0)
		katls_verdict_error(v, "SEV-SNP? 1184 bytes, but version %u / signature algorithm %u (expected 2..5 / 1)",
				    kv_le32(ev), kv_le32(ev + 0x34));
	else if (len >= 0x4a0 && len <= 0x4a0 + 8 && kv_le32(ev) >= 2 &&
		 kv_le32(ev) <= 5 && kv_le32(ev + 0x34) == 1)
		katls_verdict_error(v, "SEV-SNP? a report is exactly 1184 bytes, this is %zu (strip the padding)",
				    len);
	else if (len >= 1 && (ev[0] == 0xd9 || ev[0] == 0xd2 || ev[0] == 0xd8))
		katls_verdict_error(v, "CBOR tag, but not 399 (d9 01 8f), the Arm CCA token collection");
	katls_verdict_error(v, "expected: TDX quote (version 4/5, key type 2, TEE type 0x81), SEV-SNP report (1184 bytes), CCA token (CBOR tag 399); or give the type");
}

int katls_verify_evidence(enum katls_evidence_type type,
			  const uint8_t *ev, size_t len,
			  const struct katls_verify_opts *o,
			  struct katls_claims *c, struct katls_verdict *v)
{
	static const struct katls_verify_opts none;
	int ret;

	memset(c, 0, sizeof(*c));
	katls_verdict_init(v);
	if (!o)
		o = &none;
	if (!ev || !len) {
		katls_verdict_error(v, "no evidence");
		return -1;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, ev, len, c->evidence_digest) < 0) {
		katls_verdict_error(v, "SHA-256 of the evidence failed");
		return -1;
	}
	if (type == KATLS_EVIDENCE_NONE) {
		type = katls_evidence_detect(ev, len);
		if (type == KATLS_EVIDENCE_NONE) {
			detect_failed(ev, len, v);
			return -1;
		}
		katls_verdict_check(v, "detected: %s evidence",
				    katls_evidence_name(type));
	}

	switch (type) {
	case KATLS_EVIDENCE_TDX:
		ret = katls_verify_tdx(ev, len, o, c, v);
		break;
	case KATLS_EVIDENCE_SNP:
		ret = katls_verify_snp(ev, len, o, c, v);
		break;
	case KATLS_EVIDENCE_CCA:
		ret = katls_verify_cca(ev, len, o, c, v);
		break;
	case KATLS_EVIDENCE_SIM:
		ret = katls_verify_sim(ev, len, o, c, v);
		break;
	default:
		katls_verdict_error(v, "evidence type %d not supported", type);
		return -1;
	}
	if (c->tee == KATLS_EVIDENCE_NONE)
		c->tee = type;

	if (o->expected_report_data) {
		if (ret == 0 && !memcmp(c->report_data, o->expected_report_data,
					sizeof(c->report_data)))
			katls_verdict_check(v, "checked: report data equals the expected value");
		else if (ret == 0)
			katls_verdict_error(v, "report data differs from the expected value");
		else
			katls_verdict_check(v, "not checked: expected report data (evidence invalid)");
	} else {
		katls_verdict_check(v, "not checked: report data (no expected value given)");
	}

	/* Fail closed whatever the back end returned. */
	if (ret == 0 && v->nerrors == 0 && v->valid)
		return 0;
	if (v->nerrors == 0)
		katls_verdict_error(v, "%s verifier failed without a reason",
				    katls_evidence_name(type));
	v->valid = false;
	return -1;
}
