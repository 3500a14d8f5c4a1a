/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netlink.h - katlsd's DONE: a handshake result as the agent protocol's
 * DONE message (libkatlsagent, katls/agent.h, does the protocol).
 *
 * The parent listens to the "agent" multicast group for READY; each child
 * opens its own netlink socket, so that the request it ACCEPTs is tied to
 * its own port and process, and DONE comes from the same socket.
 */
#ifndef KATLSD_NETLINK_H
#define KATLSD_NETLINK_H

#include <stdint.h>
#include <katls/agent.h>

#include "handshake.h"

/*
 * The DONE for request id from r: the status, and on success the summary
 * and both crypto_infos.  The caller wipes d (katls_agent_done_wipe()).
 */
void katlsd_done_from_result(uint64_t id, const struct katlsd_hs_result *r,
			     struct katls_agent_done *d);
/*
 * The DONE message itself; NULL on failure.  The caller sends it and
 * wipes it with katls_agent_msg_wipe().
 */
struct nl_msg *katlsd_nl_build_done(int family, uint64_t id,
				    const struct katlsd_hs_result *r);
/*
 * Send DONE and wait for the kernel's answer.  0 or negative errno.  The
 * message is wiped after sending, the answer's buffer after reading.
 * max_age_ms: the request policy's max_connection_age (issue 14 item 7),
 * sent with a successful verdict only (KATLS_A_MAX_AGE_MS); 0 for none.
 * It comes from the monitor's copy of the policy, never from the
 * sandbox's result.
 */
int katlsd_nl_done(struct katls_agent *ag, uint64_t id,
		   const struct katlsd_hs_result *r, uint32_t max_age_ms);

#endif /* KATLSD_NETLINK_H */
