// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * result.c - names of katls enum values, the one-line result summary and
 * katls' meaning of errno values.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <katls/katls.h>

static const char *const state_names[] = {
	[KATLS_STATE_IDLE]	= "idle",
	[KATLS_STATE_PENDING]	= "pending",
	[KATLS_STATE_ACCEPTED]	= "accepted",
	[KATLS_STATE_HANDOVER]	= "handover",
	[KATLS_STATE_OPEN]	= "open",
	[KATLS_STATE_FAILED]	= "failed",
	[KATLS_STATE_EXPIRED]	= "expired",
};

static const char *const evidence_names[] = {
	[KATLS_EVIDENCE_NONE]	= "none",
	[KATLS_EVIDENCE_TDX]	= "tdx",
	[KATLS_EVIDENCE_SNP]	= "snp",
	[KATLS_EVIDENCE_CCA]	= "cca",
	[KATLS_EVIDENCE_SIM]	= "sim",
};

static const char *const binding_names[] = {
	[KATLS_BINDING_NONE]	= "none",
	[KATLS_BINDING_L1]	= "L1",
	[KATLS_BINDING_L2]	= "L2",
	[KATLS_BINDING_L3]	= "L3",
};

static const char *const role_names[] = {
	[KATLS_ROLE_UNSPEC]	= "unspec",
	[KATLS_ROLE_CLIENT]	= "client",
	[KATLS_ROLE_SERVER]	= "server",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Every enum value up to its _MAX has a name. */
_Static_assert(ARRAY_SIZE(state_names) == __KATLS_STATE_MAX, "state names");
_Static_assert(ARRAY_SIZE(evidence_names) == __KATLS_EVIDENCE_MAX,
	       "evidence names");
_Static_assert(ARRAY_SIZE(binding_names) == __KATLS_BINDING_MAX,
	       "binding names");
_Static_assert(ARRAY_SIZE(role_names) == __KATLS_ROLE_MAX, "role names");

static const char *lookup(const char *const *names, size_t n, unsigned int v)
{
	return v < n ? names[v] : "unknown";
}

const char *katls_state_name(unsigned int state)
{
	return lookup(state_names, ARRAY_SIZE(state_names), state);
}

const char *katls_evidence_type_name(unsigned int type)
{
	return lookup(evidence_names, ARRAY_SIZE(evidence_names), type);
}

const char *katls_binding_level_name(unsigned int level)
{
	return lookup(binding_names, ARRAY_SIZE(binding_names), level);
}

const char *katls_role_name(unsigned int role)
{
	return lookup(role_names, ARRAY_SIZE(role_names), role);
}

/* Output cursor with snprintf(3) semantics: counts what does not fit. */
struct out {
	char *buf;
	size_t len;
	size_t pos;	/* length of the full output so far */
};

__attribute__((format(printf, 2, 3)))
static void out_printf(struct out *o, const char *fmt, ...)
{
	char *dst = NULL;
	size_t room = 0;
	va_list ap;
	int n;

	if (o->pos < o->len) {
		dst = o->buf + o->pos;
		room = o->len - o->pos;
	}
	va_start(ap, fmt);
	n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static void out_hex(struct out *o, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out_printf(o, "%02x", p[i]);
}

/*
 * The policy name comes from the kernel and should only hold
 * [A-Za-z0-9._-]; print anything else as '?' so that the summary stays
 * one line of printable text whatever the field holds.
 */
static void out_name(struct out *o, const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		out_printf(o, "%c", c > 0x20 && c < 0x7f ? c : '?');
	}
}

int katls_format_result(const struct katls_result *r, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	size_t mlen;

	if (!r || (!buf && len)) {
		errno = EINVAL;
		return -1;
	}
	if (len)
		buf[0] = '\0';

	out_printf(&o, "state=%s", katls_state_name(r->state));
	if (r->status) {
		const char *name = strerrorname_np((int)r->status);
		const char *desc = strerrordesc_np((int)r->status);

		if (name)
			out_printf(&o, " status=%s (%s)", name, desc);
		else
			out_printf(&o, " status=%u", r->status);
	}
	if (r->state != KATLS_STATE_OPEN &&
	    r->evidence_type == KATLS_EVIDENCE_NONE && !r->measurement_len &&
	    !r->policy[0])
		goto out;

	out_printf(&o, " evidence=%s binding=%s",
		   katls_evidence_type_name(r->evidence_type),
		   katls_binding_level_name(r->binding_level));
	mlen = r->measurement_len;
	if (mlen > KATLS_MEASUREMENT_MAX)
		mlen = KATLS_MEASUREMENT_MAX;
	out_printf(&o, " measurement=");
	if (mlen)
		out_hex(&o, r->measurement, mlen);
	else
		out_printf(&o, "-");
	out_printf(&o, " digest=");
	out_hex(&o, r->evidence_digest, KATLS_DIGEST_LEN);
	out_printf(&o, " policy=");
	if (r->policy[0])
		out_name(&o, r->policy, sizeof(r->policy));
	else
		out_printf(&o, "-");
	/* issue 14 item 3: the client's evidence (mutual attestation) */
	if (r->client_evidence_type != KATLS_EVIDENCE_NONE) {
		mlen = r->client_measurement_len;
		if (mlen > KATLS_MEASUREMENT_MAX)
			mlen = KATLS_MEASUREMENT_MAX;
		out_printf(&o, " client_evidence=%s client_binding=%s client_measurement=",
			   katls_evidence_type_name(r->client_evidence_type),
			   katls_binding_level_name(r->client_binding_level));
		if (mlen)
			out_hex(&o, r->client_measurement, mlen);
		else
			out_printf(&o, "-");
		out_printf(&o, " client_digest=");
		out_hex(&o, r->client_evidence_digest, KATLS_DIGEST_LEN);
		out_printf(&o, " client_policy=");
		if (r->client_policy[0])
			out_name(&o, r->client_policy, sizeof(r->client_policy));
		else
			out_printf(&o, "-");
	}
out:
	/* Bounded by the fixed-size fields: always < KATLS_RESULT_STR_MAX. */
	return (int)o.pos;
}

const char *katls_strerror(int err)
{
	const char *s;

	switch (err) {
	case 0:
		return "success";
	/* The meanings of Documentation/katlsd.rst's status table. */
	case ENOPROTOOPT:
		return "katls not available (kernel module not loaded, or socket not opted in)";
	case ESRCH:
		return "no katls agent (katlsd) is running";
	case ETIMEDOUT:
		return "attested handshake or connection timed out";
	case ECONNABORTED:
		return "the katls agent went away during the handshake";
	case EKEYREJECTED:
		return "evidence not bound to this handshake (relay, replay, or another key)";
	case EACCES:
		return "evidence or certificate rejected by the policy, or no common evidence type";
	case ENODEV:
		return "no TEE evidence provider (configfs-tsm) on the attesting host";
	case ENOKEY:
		return "katlsd has no usable certificate and key";
	case EPROTO:
		return "TLS protocol error, or the peer aborted the attested handshake";
	case EINPROGRESS:
		return "attested handshake still in progress";
	case ENXIO:
		return "host or service name could not be resolved";
	}
	s = strerrordesc_np(err);
	return s ? s : "unknown error";
}
