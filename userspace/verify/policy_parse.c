// SPDX-License-Identifier: GPL-2.0
/*
 * policy_parse.c - named policies of reference values
 * (Documentation/policy.rst): the parser, the loaders and the accessors.
 *
 * A policy file is a list of lines "key value...", '#' starts a comment.
 * Set-valued keys may repeat (values accumulate); scalar keys may not.
 * Every error is "FILE:LINE: message", and a file with an error yields no
 * policy at all.  policy_eval.c judges claims against a parsed policy.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

#define POL_MAX_LINE	4096
#define POL_MAX_FILES	256

struct katls_policy_set {
	unsigned int n;
	struct katls_policy **p;
};

/* ---- parser ---- */

struct parser {
	const char *file;
	int line;
	char *err;
	size_t errlen;
	struct katls_policy *p;
};

__attribute__((format(printf, 2, 3)))
static int perr(struct parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->file, ps->line, msg);
	return -1;
}

static int hexdigit(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* want == 0: any length 1..64 bytes. */
static int add_hex(struct parser *ps, const char *key, struct hexset *s,
		   char **vals, int nvals, size_t want)
{
	int i;

	if (nvals == 0)
		return perr(ps, "%s: expects at least one hex value", key);
	for (i = 0; i < nvals; i++) {
		size_t n = strlen(vals[i]), j;
		uint8_t *out;

		if (n % 2 || n == 0 || n > 128 || (want && n != 2 * want))
			return want ? perr(ps, "%s: \"%.40s\" is not %zu bytes of hex",
					   key, vals[i], want) :
				      perr(ps, "%s: \"%.40s\" is not 1..64 bytes of hex",
					   key, vals[i]);
		if (s->n == POL_MAX_VALUES)
			return perr(ps, "%s: more than %d values", key,
				    POL_MAX_VALUES);
		out = s->val[s->n];
		for (j = 0; j < n / 2; j++) {
			int hi = hexdigit(vals[i][2 * j]);
			int lo = hexdigit(vals[i][2 * j + 1]);

			if (hi < 0 || lo < 0)
				return perr(ps, "%s: \"%.40s\" is not hex", key,
					    vals[i]);
			out[j] = (uint8_t)(hi << 4 | lo);
		}
		s->len[s->n++] = n / 2;
	}
	if (!s->line)
		s->line = ps->line;
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int set_min(struct parser *ps, const char *key, struct minval *m,
		   const char *val, uint32_t max)
{
	if (m->line)
		return perr(ps, "%s: already set on line %d", key, m->line);
	if (parse_u32(val, &m->v) < 0 || m->v > max)
		return perr(ps, "%s: \"%.40s\" is not a number 0..%u", key, val,
			    max);
	m->line = ps->line;
	return 0;
}

static int yes_no(struct parser *ps, const char *key, int *line, bool *out,
		  char **vals, int nvals)
{
	if (*line)
		return perr(ps, "%s: already set on line %d", key, *line);
	if (nvals != 1)
		return perr(ps, "%s: expects allow or deny", key);
	if (!strcmp(vals[0], "allow"))
		*out = true;
	else if (!strcmp(vals[0], "deny"))
		*out = false;
	else
		return perr(ps, "%s: expects allow or deny, not \"%.40s\"", key,
			    vals[0]);
	*line = ps->line;
	return 0;
}

static int add_str(struct parser *ps, const char *key, struct strset *s,
		   char **vals, int nvals)
{
	int i;

	if (nvals == 0)
		return perr(ps, "%s: expects at least one value", key);
	for (i = 0; i < nvals; i++) {
		if (strlen(vals[i]) >= sizeof(s->val[0]))
			return perr(ps, "%s: value too long", key);
		if (s->n == POL_MAX_VALUES)
			return perr(ps, "%s: more than %d values", key,
				    POL_MAX_VALUES);
		strcpy(s->val[s->n++], vals[i]);
	}
	if (!s->line)
		s->line = ps->line;
	return 0;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= KATLS_POLICY_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return false;
	return true;
}

static int type_of(const char *s)
{
	if (!strcmp(s, "tdx"))
		return KATLS_EVIDENCE_TDX;
	if (!strcmp(s, "snp"))
		return KATLS_EVIDENCE_SNP;
	if (!strcmp(s, "cca"))
		return KATLS_EVIDENCE_CCA;
	if (!strcmp(s, "sim"))
		return KATLS_EVIDENCE_SIM;
	return -1;
}

/* TDATTRIBUTES bits by the names a policy gives them (see policy_int.h). */
static const struct {
	const char *name;
	uint64_t bit;
} td_attrs[] = {
	{ "sept_ve_disable", TDA_SEPT_VE_DISABLE },
	{ "migratable", TDA_MIGRATABLE },
	{ "pks", TDA_PKS },
	{ "kl", TDA_KL },
	{ "perfmon", TDA_PERFMON },
};
#define N_TD_ATTRS (sizeof(td_attrs) / sizeof(td_attrs[0]))

/*
 * Defaults: SEPT_VE_DISABLE required (otherwise the host can make the TD
 * take #VE on private memory), MIGRATABLE and every bit without a name
 * refused, PKS, KL and PERFMON accepted.  DEBUG is the "debug" key.
 */
static void td_attr_defaults(struct katls_policy *p)
{
	uint64_t known = TDA_DEBUG;
	unsigned int i;

	for (i = 0; i < N_TD_ATTRS; i++)
		known |= td_attrs[i].bit;
	p->tdx.attr_require = TDA_SEPT_VE_DISABLE;
	p->tdx.attr_forbid = TDA_MIGRATABLE | ~known;
}

void kv_policy_td_attr_name(uint64_t bit, char *buf, size_t len)
{
	unsigned int i;

	for (i = 0; i < N_TD_ATTRS; i++)
		if (td_attrs[i].bit == bit) {
			snprintf(buf, len, "%s", td_attrs[i].name);
			return;
		}
	for (i = 0; i < 64; i++)
		if (bit == 1ull << i)
			break;
	snprintf(buf, len, "bit%u", i);
}

static int tdx_attributes(struct parser *ps, const char *k, char **vals,
			  int nvals)
{
	struct katls_policy *p = ps->p;
	int i;

	if (nvals == 0)
		return perr(ps, "%s: expects NAME=require|forbid|any (sept_ve_disable, migratable, pks, kl, perfmon, bitN)",
			    k);
	for (i = 0; i < nvals; i++) {
		char *eq = strchr(vals[i], '=');
		uint64_t bit = 0;
		unsigned int j;

		if (!eq)
			return perr(ps, "%s: \"%.40s\" is not NAME=require|forbid|any",
				    k, vals[i]);
		*eq++ = '\0';
		if (!strcmp(vals[i], "debug"))
			return perr(ps, "%s: DEBUG is set with the \"debug\" key", k);
		for (j = 0; j < N_TD_ATTRS; j++)
			if (!strcmp(vals[i], td_attrs[j].name))
				bit = td_attrs[j].bit;
		if (!bit && !strncmp(vals[i], "bit", 3)) {
			uint32_t n;

			if (parse_u32(vals[i] + 3, &n) == 0 && n >= 1 && n <= 63)
				bit = 1ull << n;
		}
		if (!bit)
			return perr(ps, "%s: unknown attribute \"%.20s\" (sept_ve_disable, migratable, pks, kl, perfmon, bit1..bit63)",
				    k, vals[i]);
		if (p->tdx.attr_named & bit)
			return perr(ps, "%s: %s given twice", k, vals[i]);
		p->tdx.attr_named |= bit;
		p->tdx.attr_require &= ~bit;
		p->tdx.attr_forbid &= ~bit;
		if (!strcmp(eq, "require"))
			p->tdx.attr_require |= bit;
		else if (!strcmp(eq, "forbid"))
			p->tdx.attr_forbid |= bit;
		else if (strcmp(eq, "any"))
			return perr(ps, "%s: %s=\"%.20s\" is not require, forbid or any",
				    k, vals[i], eq);
	}
	if (!p->tdx.attr_line)
		p->tdx.attr_line = ps->line;
	return 0;
}

/* TCB status names (Intel's); Revoked can never be accepted. */
static const char *const tcb_names[] = {
	"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
	"ConfigurationAndSWHardeningNeeded", "OutOfDate",
	"OutOfDateConfigurationNeeded",
};

static int tcb_status(struct parser *ps, const char *k, char **vals, int nv)
{
	int i;

	for (i = 0; i < nv; i++) {
		unsigned int j;

		if (!strcmp(vals[i], "Revoked"))
			return perr(ps, "%s: Revoked is always refused and cannot be allowed", k);
		for (j = 0; j < sizeof(tcb_names) / sizeof(tcb_names[0]); j++)
			if (!strcmp(vals[i], tcb_names[j]))
				break;
		if (j == sizeof(tcb_names) / sizeof(tcb_names[0]))
			return perr(ps, "%s: unknown TCB status \"%.40s\" (UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded)",
				    k, vals[i]);
	}
	return add_str(ps, k, &ps->p->tcb_status, vals, nv);
}

static int snp_min_tcb(struct parser *ps, char **vals, int nvals)
{
	struct katls_policy *p = ps->p;
	int i;

	if (p->snp.min_tcb_line)
		return perr(ps, "snp.min_tcb: already set on line %d",
			    p->snp.min_tcb_line);
	if (nvals == 0)
		return perr(ps, "snp.min_tcb: expects bl=N tee=N snp=N ucode=N [fmc=N]");
	for (i = 0; i < nvals; i++) {
		char *eq = strchr(vals[i], '=');
		struct minval *m;

		if (!eq)
			return perr(ps, "snp.min_tcb: \"%.40s\" is not NAME=N", vals[i]);
		*eq = '\0';
		if (!strcmp(vals[i], "bl"))
			m = &p->snp.min_bl;
		else if (!strcmp(vals[i], "tee"))
			m = &p->snp.min_tee;
		else if (!strcmp(vals[i], "snp"))
			m = &p->snp.min_snp;
		else if (!strcmp(vals[i], "ucode"))
			m = &p->snp.min_ucode;
		else if (!strcmp(vals[i], "fmc"))
			m = &p->snp.min_fmc;
		else
			return perr(ps, "snp.min_tcb: unknown component \"%.20s\" (bl, tee, snp, ucode, fmc)",
				    vals[i]);
		if (set_min(ps, "snp.min_tcb", m, eq + 1, 255) < 0)
			return -1;
	}
	p->snp.min_tcb_line = ps->line;
	return 0;
}

/*
 * "max_connection_age none | DURATION": DURATION is a decimal number
 * directly followed by ms, s, m, h or d, 1 ms to UINT32_MAX ms (the
 * kernel's KATLS_A_MAX_AGE_MS is a u32 of milliseconds, about 49.7 days).
 */
static int max_connection_age(struct parser *ps, char **vals, int nv)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	struct katls_policy *p = ps->p;
	const char *s, *end;
	uint64_t n = 0;
	size_t i;

	if (p->max_age_line)
		return perr(ps, "max_connection_age: already set on line %d",
			    p->max_age_line);
	if (nv != 1)
		goto bad;
	s = vals[0];
	if (!strcmp(s, "none")) {
		p->max_age_ms = 0;
		p->max_age_line = ps->line;
		return 0;
	}
	for (end = s; *end >= '0' && *end <= '9'; end++) {
		n = n * 10 + (uint64_t)(*end - '0');
		if (n > UINT32_MAX)
			goto bad;
	}
	if (end == s)
		goto bad;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		goto bad;
	n *= units[i].ms;
	if (!n || n > UINT32_MAX)
		goto bad;
	p->max_age_ms = (uint32_t)n;
	p->max_age_line = ps->line;
	return 0;
bad:
	return perr(ps, "max_connection_age: expects none or a duration of 1ms to 4294967295ms with a unit ms, s, m, h or d (e.g. 12h)");
}

static int directive(struct parser *ps, char **t, int nt)
{
	struct katls_policy *p = ps->p;
	const char *k = t[0];
	char **vals = t + 1;
	int nv = nt - 1, i;

	if (!strcmp(k, "name")) {
		if (p->name_line)
			return perr(ps, "name: already set on line %d", p->name_line);
		if (nv != 1 || !valid_name(vals[0]))
			return perr(ps, "name: expects one name of 1..%d characters [A-Za-z0-9._-]",
				    KATLS_POLICY_MAX - 1);
		strcpy(p->name, vals[0]);
		p->name_line = ps->line;
		return 0;
	}
	if (!strcmp(k, "allow")) {
		if (nv == 0)
			return perr(ps, "allow: expects evidence types (tdx snp cca sim)");
		for (i = 0; i < nv; i++) {
			int ty = type_of(vals[i]);

			if (ty < 0)
				return perr(ps, "allow: unknown evidence type \"%.40s\" (tdx snp cca sim)",
					    vals[i]);
			p->allowed |= 1u << ty;
		}
		if (!p->allow_line)
			p->allow_line = ps->line;
		return 0;
	}
	if (!strcmp(k, "debug"))
		return yes_no(ps, k, &p->debug_line, &p->debug_allowed, vals, nv);
	if (!strcmp(k, "evidence_bound_key"))
		return yes_no(ps, k, &p->ebk_line, &p->ebk, vals, nv);
	if (!strcmp(k, "binding")) {
		enum katls_policy_binding b;

		if (p->binding_line)
			return perr(ps, "binding: already set on line %d",
				    p->binding_line);
		for (b = KATLS_POLICY_BINDING_INTRA;
		     b <= KATLS_POLICY_BINDING_BOTH; b++)
			if (nv == 1 && !strcmp(vals[0], katls_policy_binding_name(b)))
				break;
		if (b > KATLS_POLICY_BINDING_BOTH)
			return perr(ps, "binding: expects intra, post or both");
		p->binding = b;
		p->binding_line = ps->line;
		return 0;
	}
	/*
	 * issue 14 item 3: a server's demand for the client's evidence,
	 * judged by the named policy; "none" says off on purpose.  The name
	 * must be a policy of the same set (katls_policy_load_dir()).
	 */
	if (!strcmp(k, "require_client_evidence")) {
		if (p->cev_line)
			return perr(ps, "require_client_evidence: already set on line %d",
				    p->cev_line);
		if (nv != 1 || !valid_name(vals[0]))
			return perr(ps, "require_client_evidence: expects the name of the policy that judges the client's evidence, or none");
		if (strcmp(vals[0], "none"))
			strcpy(p->client_evidence, vals[0]);
		p->cev_line = ps->line;
		return 0;
	}
	/* a client's consent to attest when a server asks for it */
	if (!strcmp(k, "client_attest"))
		return yes_no(ps, k, &p->client_attest_line, &p->client_attest,
			      vals, nv);
	if (!strcmp(k, "pin")) {
		if (p->pin_none_line)
			return perr(ps, "pin: already set on line %d", p->pin_none_line);
		if (nv != 1 || strcmp(vals[0], "none"))
			return perr(ps, "pin: the only value is \"none\" (the policy pins no workload on purpose)");
		p->pin_none_line = ps->line;
		return 0;
	}
	if (!strcmp(k, "max_connection_age"))
		return max_connection_age(ps, vals, nv);
	if (!strcmp(k, "measurement"))
		return add_hex(ps, k, &p->measurement, vals, nv, 0);
	if (!strcmp(k, "tcb_status"))
		return tcb_status(ps, k, vals, nv);

	if (!strncmp(k, "tdx.", 4)) {
		const char *f = k + 4;

		if (!strncmp(f, "rtmr", 4) && f[4] >= '0' && f[4] <= '3' && !f[5])
			return add_hex(ps, k, &p->tdx.rtmr[f[4] - '0'], vals, nv, 48);
		if (!strcmp(f, "mrconfigid"))
			return add_hex(ps, k, &p->tdx.mrconfigid, vals, nv, 48);
		if (!strcmp(f, "mrowner"))
			return add_hex(ps, k, &p->tdx.mrowner, vals, nv, 48);
		if (!strcmp(f, "mrownerconfig"))
			return add_hex(ps, k, &p->tdx.mrownerconfig, vals, nv, 48);
		if (!strcmp(f, "mrseam"))
			return add_hex(ps, k, &p->tdx.mrseam, vals, nv, 48);
		if (!strcmp(f, "fmspc"))
			return add_hex(ps, k, &p->tdx.fmspc, vals, nv, 6);
		if (!strcmp(f, "attributes"))
			return tdx_attributes(ps, k, vals, nv);
		if (!strcmp(f, "min_tee_tcb_svn")) {
			if (p->tdx.min_tee_tcb_svn.line)
				return perr(ps, "%s: already set on line %d", k,
					    p->tdx.min_tee_tcb_svn.line);
			if (nv != 1)
				return perr(ps, "%s: expects one 16-byte hex value", k);
			return add_hex(ps, k, &p->tdx.min_tee_tcb_svn, vals, nv, 16);
		}
	} else if (!strncmp(k, "snp.", 4)) {
		const char *f = k + 4;

		if (!strcmp(f, "host_data"))
			return add_hex(ps, k, &p->snp.host_data, vals, nv, 32);
		if (!strcmp(f, "id_key_digest"))
			return add_hex(ps, k, &p->snp.id_key_digest, vals, nv, 48);
		if (!strcmp(f, "author_key_digest"))
			return add_hex(ps, k, &p->snp.author_key_digest, vals, nv, 48);
		if (!strcmp(f, "family_id"))
			return add_hex(ps, k, &p->snp.family_id, vals, nv, 16);
		if (!strcmp(f, "image_id"))
			return add_hex(ps, k, &p->snp.image_id, vals, nv, 16);
		if (!strcmp(f, "min_guest_svn")) {
			if (nv != 1)
				return perr(ps, "%s: expects one number", k);
			return set_min(ps, k, &p->snp.min_guest_svn, vals[0],
				       UINT32_MAX);
		}
		if (!strcmp(f, "min_tcb"))
			return snp_min_tcb(ps, vals, nv);
		if (!strcmp(f, "vmpl")) {
			if (nv == 0)
				return perr(ps, "%s: expects VMPL numbers 0..3", k);
			for (i = 0; i < nv; i++) {
				uint32_t x;

				if (parse_u32(vals[i], &x) < 0 || x > 3)
					return perr(ps, "%s: \"%.40s\" is not a VMPL 0..3",
						    k, vals[i]);
				if (p->snp.vmpl.n == POL_MAX_VALUES)
					return perr(ps, "%s: too many values", k);
				p->snp.vmpl.val[p->snp.vmpl.n++] = x;
			}
			if (!p->snp.vmpl.line)
				p->snp.vmpl.line = ps->line;
			return 0;
		}
		if (!strcmp(f, "migration_agent"))
			return yes_no(ps, k, &p->snp.migration_line,
				      &p->snp.migration_allowed, vals, nv);
		if (!strcmp(f, "smt"))
			return yes_no(ps, k, &p->snp.smt_line, &p->snp.smt_allowed,
				      vals, nv);
		if (!strcmp(f, "signing_key")) {
			if (nv == 0)
				return perr(ps, "%s: expects vcek and/or vlek", k);
			for (i = 0; i < nv; i++) {
				if (!strcmp(vals[i], "vcek"))
					p->snp.keys |= 1;
				else if (!strcmp(vals[i], "vlek"))
					p->snp.keys |= 2;
				else
					return perr(ps, "%s: \"%.40s\" is not vcek or vlek",
						    k, vals[i]);
			}
			if (!p->snp.key_line)
				p->snp.key_line = ps->line;
			return 0;
		}
		if (!strcmp(f, "product")) {
			static const char *const names[] = { NULL, "milan",
							     "genoa", "turin" };

			if (nv == 0)
				return perr(ps, "%s: expects milan, genoa and/or turin", k);
			for (i = 0; i < nv; i++) {
				unsigned int j;

				for (j = 1; j < 4; j++)
					if (!strcmp(vals[i], names[j]))
						break;
				if (j == 4)
					return perr(ps, "%s: unknown product \"%.40s\"",
						    k, vals[i]);
				p->snp.products |= 1u << j;
			}
			if (!p->snp.product_line)
				p->snp.product_line = ps->line;
			return 0;
		}
	} else if (!strncmp(k, "cca.", 4)) {
		const char *f = k + 4;

		if (!strncmp(f, "rem", 3) && f[3] >= '0' && f[3] <= '3' && !f[4])
			return add_hex(ps, k, &p->cca.rem[f[3] - '0'], vals, nv, 0);
		if (!strcmp(f, "personalization"))
			return add_hex(ps, k, &p->cca.personalization, vals, nv, 64);
		if (!strcmp(f, "platform_profile"))
			return add_str(ps, k, &p->cca.profile, vals, nv);
	}
	return perr(ps, "unknown key \"%.60s\"", k);
}

/* First line of a rule that pins the workload of evidence type t, or 0. */
static int pin_line(const struct katls_policy *p, int t)
{
	int i;

	if (p->measurement.line)
		return p->measurement.line;
	switch (t) {
	case KATLS_EVIDENCE_TDX:
		for (i = 0; i < 4; i++)
			if (p->tdx.rtmr[i].line)
				return p->tdx.rtmr[i].line;
		return p->tdx.mrconfigid.line ? p->tdx.mrconfigid.line :
		       p->tdx.mrowner.line ? p->tdx.mrowner.line :
		       p->tdx.mrownerconfig.line;
	case KATLS_EVIDENCE_SNP:
		return p->snp.host_data.line ? p->snp.host_data.line :
		       p->snp.id_key_digest.line ? p->snp.id_key_digest.line :
		       p->snp.author_key_digest.line;
	case KATLS_EVIDENCE_CCA:
		for (i = 0; i < 4; i++)
			if (p->cca.rem[i].line)
				return p->cca.rem[i].line;
		return p->cca.personalization.line;
	default:
		return 0;
	}
}

static const char *const pin_keys[] = {
	[KATLS_EVIDENCE_TDX] = "measurement, tdx.rtmrN, tdx.mrconfigid, tdx.mrowner or tdx.mrownerconfig",
	[KATLS_EVIDENCE_SNP] = "measurement, snp.host_data, snp.id_key_digest or snp.author_key_digest",
	[KATLS_EVIDENCE_CCA] = "measurement, cca.remN or cca.personalization",
	[KATLS_EVIDENCE_SIM] = "measurement",
};

/*
 * Every allowed evidence type needs a rule that pins the workload, or
 * the policy says "pin none" and then pins nothing at all.  A policy
 * that trusts an evidence-bound key must pin: the key is accepted on the
 * evidence alone.
 */
static int check_pins(struct parser *ps)
{
	struct katls_policy *p = ps->p;
	int t, line;

	for (t = KATLS_EVIDENCE_TDX; t <= KATLS_EVIDENCE_SIM; t++) {
		if (!(p->allowed & 1u << t))
			continue;
		line = pin_line(p, t);
		if (p->pin_none_line && line) {
			ps->line = p->pin_none_line;
			return perr(ps, "pin none, but line %d pins a %s workload",
				    line, katls_evidence_name(t));
		}
		if (!p->pin_none_line && !line) {
			ps->line = 0;
			return perr(ps, "the policy pins no %s workload (%s); write \"pin none\" to accept any",
				    katls_evidence_name(t), pin_keys[t]);
		}
	}
	if (p->ebk && p->pin_none_line) {
		ps->line = p->ebk_line;
		return perr(ps, "evidence_bound_key allow trusts the key on the evidence alone: the policy must pin the workload, not \"pin none\"");
	}
	return 0;
}

/* Rules for a type the policy does not allow are a mistake: say so. */
static int check_scope(struct parser *ps)
{
	struct katls_policy *p = ps->p;
	int tdx_line = 0, snp_line = 0, cca_line = 0, i;

	for (i = 0; i < 4; i++)
		if (p->tdx.rtmr[i].line && !tdx_line)
			tdx_line = p->tdx.rtmr[i].line;
	tdx_line = tdx_line ? tdx_line : p->tdx.mrconfigid.line ? p->tdx.mrconfigid.line :
		   p->tdx.mrowner.line ? p->tdx.mrowner.line :
		   p->tdx.mrownerconfig.line ? p->tdx.mrownerconfig.line :
		   p->tdx.mrseam.line ? p->tdx.mrseam.line :
		   p->tdx.fmspc.line ? p->tdx.fmspc.line :
		   p->tdx.min_tee_tcb_svn.line ? p->tdx.min_tee_tcb_svn.line :
		   p->tdx.attr_line;
	snp_line = p->snp.host_data.line ? p->snp.host_data.line :
		   p->snp.id_key_digest.line ? p->snp.id_key_digest.line :
		   p->snp.author_key_digest.line ? p->snp.author_key_digest.line :
		   p->snp.family_id.line ? p->snp.family_id.line :
		   p->snp.image_id.line ? p->snp.image_id.line :
		   p->snp.vmpl.line ? p->snp.vmpl.line :
		   p->snp.min_guest_svn.line ? p->snp.min_guest_svn.line :
		   p->snp.min_tcb_line ? p->snp.min_tcb_line :
		   p->snp.migration_line ? p->snp.migration_line :
		   p->snp.smt_line ? p->snp.smt_line :
		   p->snp.key_line ? p->snp.key_line : p->snp.product_line;
	for (i = 0; i < 4; i++)
		if (p->cca.rem[i].line && !cca_line)
			cca_line = p->cca.rem[i].line;
	cca_line = cca_line ? cca_line : p->cca.personalization.line ?
		   p->cca.personalization.line : p->cca.profile.line;

	if (!p->allowed) {
		ps->line = 0;
		return perr(ps, "no \"allow\" line: the policy would accept nothing");
	}
	if (tdx_line && !(p->allowed & 1u << KATLS_EVIDENCE_TDX)) {
		ps->line = tdx_line;
		return perr(ps, "tdx rule, but tdx is not allowed");
	}
	if (snp_line && !(p->allowed & 1u << KATLS_EVIDENCE_SNP)) {
		ps->line = snp_line;
		return perr(ps, "snp rule, but snp is not allowed");
	}
	if (cca_line && !(p->allowed & 1u << KATLS_EVIDENCE_CCA)) {
		ps->line = cca_line;
		return perr(ps, "cca rule, but cca is not allowed");
	}
	if (p->allowed & 1u << KATLS_EVIDENCE_SIM &&
	    p->allowed & ~(1u << KATLS_EVIDENCE_SIM)) {
		ps->line = p->allow_line;
		return perr(ps, "allow: sim (test-only evidence, public key) cannot be mixed with a real evidence type");
	}
	return check_pins(ps);
}

static void default_name(struct katls_policy *p, const char *file)
{
	const char *b = strrchr(file, '/');
	size_t n;

	b = b ? b + 1 : file;
	n = strlen(b);
	if (n > 7 && !strcmp(b + n - 7, ".policy"))
		n -= 7;
	if (n >= sizeof(p->name))
		n = sizeof(p->name) - 1;
	memcpy(p->name, b, n);
	p->name[n] = '\0';
}

int kv_policy_parse(const char *file, const char *text, size_t len,
		    struct katls_policy **out, char *err, size_t errlen)
{
	struct parser ps = { file, 0, err, errlen, NULL };
	char line[POL_MAX_LINE + 1];
	size_t pos = 0;

	*out = NULL;
	ps.p = calloc(1, sizeof(*ps.p));
	if (!ps.p) {
		snprintf(err, errlen, "%s: out of memory", file);
		return -1;
	}
	ps.p->snp.smt_allowed = true;
	td_attr_defaults(ps.p);
	while (pos < len) {
		char *tok[64], *s, *save = NULL;
		size_t n = 0;
		int nt = 0;

		ps.line++;
		while (pos < len && text[pos] != '\n') {
			if (text[pos] == '\0') {
				perr(&ps, "NUL byte");
				goto fail;
			}
			if (n == POL_MAX_LINE) {
				perr(&ps, "line longer than %d bytes", POL_MAX_LINE);
				goto fail;
			}
			line[n++] = text[pos++];
		}
		pos++;		/* the newline */
		line[n] = '\0';
		s = strchr(line, '#');
		if (s)
			*s = '\0';
		for (s = strtok_r(line, " \t\r\f\v", &save); s;
		     s = strtok_r(NULL, " \t\r\f\v", &save)) {
			if (nt == 64) {
				perr(&ps, "more than 63 values on one line");
				goto fail;
			}
			tok[nt++] = s;
		}
		/* "key = value" reads as "key value" */
		if (nt >= 2 && !strcmp(tok[1], "=")) {
			memmove(tok + 1, tok + 2, (size_t)(nt - 2) * sizeof(tok[0]));
			nt--;
		}
		if (nt && directive(&ps, tok, nt) < 0)
			goto fail;
	}
	if (check_scope(&ps) < 0)
		goto fail;
	if (!ps.p->name_line) {
		default_name(ps.p, file);
		if (!valid_name(ps.p->name)) {
			ps.line = 0;
			perr(&ps, "file name gives no valid policy name; add a \"name\" line");
			goto fail;
		}
	}
	*out = ps.p;
	return 0;
fail:
	free(ps.p);
	return -1;
}

int katls_policy_load_file(const char *path, struct katls_policy **out,
			   char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int r;

	*out = NULL;
	r = kv_read_file(path, KV_MAX_FILE, &buf, &len);
	if (r < 0) {
		errno = -r;
		snprintf(err, errlen, "%s:0: %m", path);
		return -1;
	}
	r = kv_policy_parse(path, (const char *)buf, len, out, err, errlen);
	free(buf);
	return r;
}

static bool policy_file_name(const char *n)
{
	size_t l = strlen(n);

	return n[0] != '.' && l > 7 && !strcmp(n + l - 7, ".policy");
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int katls_policy_load_dir(const char *dir, struct katls_policy_set **out,
			  char *err, size_t errlen)
{
	struct katls_policy_set *s;
	char *names[POL_MAX_FILES], path[4096];
	unsigned int nn = 0, i, j;
	struct dirent *de;
	DIR *d;
	int ret = -1;

	*out = NULL;
	d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s:0: %m", dir);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!policy_file_name(de->d_name))
			continue;
		if (nn == POL_MAX_FILES) {
			snprintf(err, errlen, "%s:0: more than %d policy files", dir,
				 POL_MAX_FILES);
			goto out_names;
		}
		names[nn] = strdup(de->d_name);
		if (!names[nn]) {
			snprintf(err, errlen, "%s:0: out of memory", dir);
			goto out_names;
		}
		nn++;
	}
	qsort(names, nn, sizeof(names[0]), strp_cmp);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->p = calloc(nn ? nn : 1, sizeof(*s->p)))) {
		free(s);
		snprintf(err, errlen, "%s:0: out of memory", dir);
		goto out_names;
	}
	for (i = 0; i < nn; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (katls_policy_load_file(path, &s->p[s->n], err, errlen) < 0) {
			katls_policy_set_free(s);
			goto out_names;
		}
		for (j = 0; j < s->n; j++)
			if (!strcmp(s->p[j]->name, s->p[s->n]->name)) {
				snprintf(err, errlen, "%s:%d: policy \"%s\" already defined by %s/%s",
					 path, s->p[s->n]->name_line,
					 s->p[s->n]->name, dir, names[j]);
				s->n++;
				katls_policy_set_free(s);
				goto out_names;
			}
		s->n++;
	}
	/* issue 14 item 3: the client policy a server names must be loaded */
	for (i = 0; i < s->n; i++) {
		const struct katls_policy *q = s->p[i];

		if (q->client_evidence[0] &&
		    !katls_policy_find(s, q->client_evidence)) {
			snprintf(err, errlen, "%s/%s:%d: require_client_evidence: no policy \"%s\" in %s",
				 dir, names[i], q->cev_line,
				 q->client_evidence, dir);
			katls_policy_set_free(s);
			goto out_names;
		}
	}
	*out = s;
	ret = 0;
out_names:
	closedir(d);
	for (i = 0; i < nn; i++)
		free(names[i]);
	return ret;
}

const struct katls_policy *
katls_policy_find(const struct katls_policy_set *s, const char *name)
{
	unsigned int i;

	if (!s || !name)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->p[i]->name, name))
			return s->p[i];
	return NULL;
}

const char *katls_policy_name(const struct katls_policy *p)
{
	return p ? p->name : "(none)";
}

bool katls_policy_allows(const struct katls_policy *p,
			 enum katls_evidence_type t)
{
	if (!p || t <= KATLS_EVIDENCE_NONE || t > KATLS_EVIDENCE_MAX)
		return false;
	return (p->allowed & 1u << t) != 0;
}

bool katls_policy_evidence_bound_key(const struct katls_policy *p)
{
	return p && p->ebk;
}

enum katls_policy_binding katls_policy_binding(const struct katls_policy *p)
{
	return p ? p->binding : KATLS_POLICY_BINDING_INTRA;
}

const char *katls_policy_client_evidence(const struct katls_policy *p)
{
	return p && p->client_evidence[0] ? p->client_evidence : NULL;
}

bool katls_policy_client_attest(const struct katls_policy *p)
{
	return p && p->client_attest;
}

uint32_t katls_policy_max_age_ms(const struct katls_policy *p)
{
	return p ? p->max_age_ms : 0;
}

const char *katls_policy_binding_name(enum katls_policy_binding b)
{
	switch (b) {
	case KATLS_POLICY_BINDING_INTRA:
		return "intra";
	case KATLS_POLICY_BINDING_POST:
		return "post";
	case KATLS_POLICY_BINDING_BOTH:
		return "both";
	}
	return NULL;
}

void katls_policy_free(struct katls_policy *p)
{
	free(p);
}

void katls_policy_set_free(struct katls_policy_set *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->p[i]);
	free(s->p);
	free(s);
}
