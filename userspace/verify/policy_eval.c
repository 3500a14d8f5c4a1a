// SPDX-License-Identifier: GPL-2.0
/*
 * policy_eval.c - claims against a named policy (Documentation/policy.rst).
 *
 * Evaluation only ever adds rules: an empty rule set is satisfied, an
 * unknown claim is not.  The policy comes from policy_parse.c.
 */
#include <stdio.h>
#include <string.h>

#include "policy_int.h"

static bool in_hexset(const struct hexset *s, const uint8_t *v, size_t n)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->len[i] == n && !memcmp(s->val[i], v, n))
			return true;
	return false;
}

static int rule_hex(const struct katls_policy *p, const char *what,
		    const struct hexset *s, const uint8_t *v, size_t n,
		    struct katls_verdict *vd)
{
	char hex[129];

	if (!s->n)
		return 0;
	if (in_hexset(s, v, n)) {
		katls_verdict_check(vd, "policy %s: %s is an accepted value",
				    p->name, what);
		return 0;
	}
	kv_hex(hex, v, n > 64 ? 64 : n);
	katls_verdict_error(vd, "policy %s: %s %.96s%s not accepted", p->name, what,
			    hex, strlen(hex) > 96 ? "..." : "");
	return -1;
}

static int rule_min(const struct katls_policy *p, const char *what,
		    const struct minval *m, uint32_t have,
		    struct katls_verdict *vd)
{
	if (!m->line)
		return 0;
	if (have >= m->v) {
		katls_verdict_check(vd, "policy %s: %s %u >= %u", p->name, what,
				    have, m->v);
		return 0;
	}
	katls_verdict_error(vd, "policy %s: %s %u < minimum %u", p->name, what,
			    have, m->v);
	return -1;
}

static int eval_tdx(const struct katls_policy *p, const struct katls_claims *c,
		    struct katls_verdict *vd)
{
	int r = 0, i;

	for (i = 0; i < 4; i++) {
		char what[16];

		snprintf(what, sizeof(what), "RTMR%d", i);
		r |= rule_hex(p, what, &p->tdx.rtmr[i], c->tdx.rtmr[i], 48, vd);
	}
	r |= rule_hex(p, "MRCONFIGID", &p->tdx.mrconfigid, c->tdx.mrconfigid, 48, vd);
	r |= rule_hex(p, "MROWNER", &p->tdx.mrowner, c->tdx.mrowner, 48, vd);
	r |= rule_hex(p, "MROWNERCONFIG", &p->tdx.mrownerconfig,
		      c->tdx.mrownerconfig, 48, vd);
	r |= rule_hex(p, "MRSEAM", &p->tdx.mrseam, c->tdx.mrseam, 48, vd);
	if (p->tdx.fmspc.n && !c->tdx.fmspc_valid) {
		katls_verdict_error(vd, "policy %s: FMSPC unknown", p->name);
		r = -1;
	} else {
		r |= rule_hex(p, "FMSPC", &p->tdx.fmspc, c->tdx.fmspc, 6, vd);
	}
	{
		uint64_t a = c->tdx.td_attributes, miss, bad;
		char name[24];

		miss = p->tdx.attr_require & ~a;
		bad = p->tdx.attr_forbid & a & ~TDA_DEBUG;
		for (i = 0; i < 64; i++) {
			uint64_t bit = 1ull << i;

			if (!((miss | bad) & bit))
				continue;
			kv_policy_td_attr_name(bit, name, sizeof(name));
			katls_verdict_error(vd, "policy %s: TD attribute %s %s (tdx.attributes %s=any to accept)",
					    p->name, name, miss & bit ?
					    "required but not set" : "set but refused",
					    name);
			r = -1;
		}
		if (!miss && !bad)
			katls_verdict_check(vd, "policy %s: TD attributes %016llx accepted (required %016llx)",
					    p->name, (unsigned long long)a,
					    (unsigned long long)p->tdx.attr_require);
	}
	if (p->tdx.min_tee_tcb_svn.n) {
		const uint8_t *min = p->tdx.min_tee_tcb_svn.val[0];

		for (i = 0; i < 16; i++)
			if (c->tdx.tee_tcb_svn[i] < min[i])
				break;
		if (i == 16) {
			katls_verdict_check(vd, "policy %s: TEE_TCB_SVN >= minimum (every component)",
					    p->name);
		} else {
			katls_verdict_error(vd, "policy %s: TEE_TCB_SVN component %d is %u < minimum %u",
					    p->name, i, c->tdx.tee_tcb_svn[i], min[i]);
			r = -1;
		}
	}
	return r;
}

static int eval_snp(const struct katls_policy *p, const struct katls_claims *c,
		    struct katls_verdict *vd)
{
	uint64_t t = c->snp.reported_tcb;
	uint32_t bl, tee, snp, ucode, fmc = 0;
	int r = 0;
	unsigned int i;

	r |= rule_hex(p, "HOST_DATA", &p->snp.host_data, c->snp.host_data, 32, vd);
	r |= rule_hex(p, "ID_KEY_DIGEST", &p->snp.id_key_digest,
		      c->snp.id_key_digest, 48, vd);
	r |= rule_hex(p, "AUTHOR_KEY_DIGEST", &p->snp.author_key_digest,
		      c->snp.author_key_digest, 48, vd);
	r |= rule_hex(p, "FAMILY_ID", &p->snp.family_id, c->snp.family_id, 16, vd);
	r |= rule_hex(p, "IMAGE_ID", &p->snp.image_id, c->snp.image_id, 16, vd);
	r |= rule_min(p, "GUEST_SVN", &p->snp.min_guest_svn, c->snp.guest_svn, vd);

	if (!t) {
		katls_verdict_error(vd, "policy %s: REPORTED_TCB is all zero", p->name);
		r = -1;
	}
	if (!p->snp.vmpl.n) {
		/* Default: only VMPL 0, the guest's most privileged level. */
		if (c->snp.vmpl == 0) {
			katls_verdict_check(vd, "policy %s: VMPL 0 (default: only VMPL 0)",
					    p->name);
		} else {
			katls_verdict_error(vd, "policy %s: VMPL %u not accepted (default: only VMPL 0; snp.vmpl to accept others)",
					    p->name, c->snp.vmpl);
			r = -1;
		}
	} else {
		for (i = 0; i < p->snp.vmpl.n; i++)
			if (p->snp.vmpl.val[i] == c->snp.vmpl)
				break;
		if (i < p->snp.vmpl.n) {
			katls_verdict_check(vd, "policy %s: VMPL %u accepted", p->name,
					    c->snp.vmpl);
		} else {
			katls_verdict_error(vd, "policy %s: VMPL %u not accepted",
					    p->name, c->snp.vmpl);
			r = -1;
		}
	}
	if (c->snp.policy & (1ull << 18) && !p->snp.migration_allowed) {
		katls_verdict_error(vd, "policy %s: guest policy allows a migration agent",
				    p->name);
		r = -1;
	}
	if (c->snp.policy & (1ull << 16) && !p->snp.smt_allowed) {
		katls_verdict_error(vd, "policy %s: guest policy allows SMT", p->name);
		r = -1;
	}
	if (p->snp.keys) {
		unsigned int bit = c->snp.signing_key == 1 ? 2 : 1;

		if (p->snp.keys & bit) {
			katls_verdict_check(vd, "policy %s: signing key accepted", p->name);
		} else {
			katls_verdict_error(vd, "policy %s: %s-signed reports not accepted",
					    p->name, bit == 2 ? "VLEK" : "VCEK");
			r = -1;
		}
	}
	if (p->snp.products) {
		if (c->snp.product && p->snp.products & 1u << c->snp.product) {
			katls_verdict_check(vd, "policy %s: product accepted", p->name);
		} else {
			katls_verdict_error(vd, "policy %s: product not accepted", p->name);
			r = -1;
		}
	}
	if (p->snp.min_tcb_line) {
		if (c->snp.product == 0) {
			katls_verdict_error(vd, "policy %s: TCB layout unknown (product unknown)",
					    p->name);
			return -1;
		}
		if (c->snp.product == 3) {	/* Turin */
			fmc = t & 0xff;
			bl = (t >> 8) & 0xff;
			tee = (t >> 16) & 0xff;
			snp = (t >> 24) & 0xff;
		} else {
			bl = t & 0xff;
			tee = (t >> 8) & 0xff;
			snp = (t >> 48) & 0xff;
		}
		ucode = (t >> 56) & 0xff;
		r |= rule_min(p, "REPORTED_TCB.bl", &p->snp.min_bl, bl, vd);
		r |= rule_min(p, "REPORTED_TCB.tee", &p->snp.min_tee, tee, vd);
		r |= rule_min(p, "REPORTED_TCB.snp", &p->snp.min_snp, snp, vd);
		r |= rule_min(p, "REPORTED_TCB.ucode", &p->snp.min_ucode, ucode, vd);
		if (c->snp.product == 3)
			r |= rule_min(p, "REPORTED_TCB.fmc", &p->snp.min_fmc, fmc, vd);
	}
	return r;
}

static int eval_cca(const struct katls_policy *p, const struct katls_claims *c,
		    struct katls_verdict *vd)
{
	size_t rl = c->cca.rem_len <= 64 ? c->cca.rem_len : 64;
	int r = 0, i;

	for (i = 0; i < 4; i++) {
		char what[16];

		snprintf(what, sizeof(what), "REM%d", i);
		r |= rule_hex(p, what, &p->cca.rem[i], c->cca.rem[i], rl, vd);
	}
	r |= rule_hex(p, "personalization value", &p->cca.personalization,
		      c->cca.personalization, 64, vd);
	if (p->cca.profile.n) {
		unsigned int j;

		for (j = 0; j < p->cca.profile.n; j++)
			if (!strcmp(p->cca.profile.val[j], c->cca.platform_profile))
				break;
		if (j < p->cca.profile.n) {
			katls_verdict_check(vd, "policy %s: platform profile accepted",
					    p->name);
		} else {
			katls_verdict_error(vd, "policy %s: platform profile \"%.60s\" not accepted",
					    p->name, c->cca.platform_profile);
			r = -1;
		}
	}
	return r;
}

int katls_policy_eval(const struct katls_policy *p,
		      const struct katls_claims *c, struct katls_verdict *v)
{
	int r = 0;
	unsigned int i;

	if (!p || !c) {
		katls_verdict_error(v, "policy: none loaded");
		return -1;
	}
	if (!katls_policy_allows(p, c->tee)) {
		katls_verdict_error(v, "policy %s: %s evidence not allowed", p->name,
				    katls_evidence_name(c->tee));
		return -1;
	}
	katls_verdict_check(v, "policy %s: %s evidence allowed", p->name,
			    katls_evidence_name(c->tee));
	if (c->debug && !p->debug_allowed) {
		katls_verdict_error(v, "policy %s: debug mode forbidden", p->name);
		r = -1;
	} else {
		katls_verdict_check(v, "policy %s: debug %s", p->name,
				    c->debug ? "on, allowed by the policy" : "off");
	}
	if (p->measurement.n)
		r |= rule_hex(p, "measurement", &p->measurement, c->measurement,
			      c->measurement_len, v);
	if (c->tcb_status[0] && !strcmp(c->tcb_status, "Revoked")) {
		katls_verdict_error(v, "policy %s: TCB status Revoked (always refused)",
				    p->name);
		r = -1;
	} else if (!p->tcb_status.n) {
		/* Default: UpToDate and SWHardeningNeeded; unknown is not refused. */
		if (!c->tcb_status[0]) {
			katls_verdict_check(v, "info: policy %s: TCB status unknown (no collateral), not checked",
					    p->name);
		} else if (!strcmp(c->tcb_status, "UpToDate") ||
			   !strcmp(c->tcb_status, "SWHardeningNeeded")) {
			katls_verdict_check(v, "policy %s: TCB status %s accepted (default)",
					    p->name, c->tcb_status);
		} else {
			katls_verdict_error(v, "policy %s: TCB status %s refused (default: UpToDate, SWHardeningNeeded; tcb_status to allow it by name)",
					    p->name, c->tcb_status);
			r = -1;
		}
	} else {
		for (i = 0; i < p->tcb_status.n; i++)
			if (c->tcb_status[0] &&
			    !strcmp(p->tcb_status.val[i], c->tcb_status))
				break;
		if (i < p->tcb_status.n) {
			katls_verdict_check(v, "policy %s: TCB status %s accepted",
					    p->name, c->tcb_status);
		} else {
			katls_verdict_error(v, "policy %s: TCB status %s not accepted",
					    p->name, c->tcb_status[0] ?
					    c->tcb_status : "unknown");
			r = -1;
		}
	}
	switch (c->tee) {
	case KATLS_EVIDENCE_TDX:
		r |= eval_tdx(p, c, v);
		break;
	case KATLS_EVIDENCE_SNP:
		r |= eval_snp(p, c, v);
		break;
	case KATLS_EVIDENCE_CCA:
		r |= eval_cca(p, c, v);
		break;
	default:
		break;
	}
	return r ? -1 : 0;
}
