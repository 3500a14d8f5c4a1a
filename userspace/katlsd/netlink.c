// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - a handshake result as DONE (the protocol: libkatlsagent).
 */
#include <errno.h>
#include <string.h>

#include "netlink.h"

void katlsd_done_from_result(uint64_t id, const struct katlsd_hs_result *r,
			     struct katls_agent_done *d)
{
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->status = (uint32_t)r->status;
	if (r->status)
		return;
	d->summary.evidence_type = r->evidence_type;
	d->summary.binding_level = r->binding_level;
	memcpy(d->summary.digest, r->digest, KATLS_DIGEST_LEN);
	d->summary.measurement_len = r->measurement_len;
	if (r->measurement_len <= KATLS_MEASUREMENT_MAX)
		memcpy(d->summary.measurement, r->measurement,
		       r->measurement_len);
	memcpy(d->summary.policy, r->policy, KATLS_POLICY_MAX);
	d->keys = r->keys;
	/* issue 14 item 3: the client's evidence (mutual attestation) */
	if (r->client_attested) {
		d->has_client = true;
		d->client.evidence_type = r->client.evidence_type;
		d->client.binding_level = r->client.binding_level;
		memcpy(d->client.digest, r->client.digest, KATLS_DIGEST_LEN);
		d->client.measurement_len =
			r->client.measurement_len <= KATLS_MEASUREMENT_MAX ?
			r->client.measurement_len : 0;
		memcpy(d->client.measurement, r->client.measurement,
		       d->client.measurement_len);
		memcpy(d->client.policy, r->client.policy, KATLS_POLICY_MAX);
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
