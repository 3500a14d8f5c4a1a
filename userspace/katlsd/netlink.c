// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - a handshake result as DONE (the protocol: libkatlsagent).
 */
#include <errno.h>
#include <string.h>

#include "netlink.h"

static void done_summary(const struct katlsd_summary *s,
			 struct katls_agent_summary *d)
{
	d->evidence_type = s->evidence_type;
	d->binding_level = s->binding_level;
	memcpy(d->digest, s->digest, KATLS_DIGEST_LEN);
	d->measurement_len = s->measurement_len <= KATLS_MEASUREMENT_MAX ?
			     s->measurement_len : 0;
	memcpy(d->measurement, s->measurement, d->measurement_len);
	memcpy(d->policy, s->policy, KATLS_POLICY_MAX);
}

void katlsd_done_from_result(uint64_t id, const struct katlsd_hs_result *r,
			     struct katls_agent_done *d)
{
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->status = (uint32_t)r->status;
	if (r->status)
		return;
	done_summary(&r->ev, &d->summary);
	d->keys = r->keys;
	/* issue 14 item 3: the client's evidence (mutual attestation) */
	if (r->client_attested) {
		d->has_client = true;
		done_summary(&r->client, &d->client);
	}
}

struct nl_msg *katlsd_nl_build_done(int family, uint64_t id,
				    const struct katlsd_hs_result *r)
{
	struct katls_agent_done d;
	struct nl_msg *msg;

	katlsd_done_from_result(id, r, &d);
	msg = katls_agent_done_msg(family, &d);
	katls_agent_done_wipe(&d);
	return msg;
}

int katlsd_nl_done(struct katls_agent *ag, uint64_t id,
		   const struct katlsd_hs_result *r, uint32_t max_age_ms)
{
	struct katls_agent_done d;
	int ret;

	katlsd_done_from_result(id, r, &d);
	if (!r->status)
		d.max_age_ms = max_age_ms;
	ret = katls_agent_done(ag, &d);
	katls_agent_done_wipe(&d);
	return ret;
}
