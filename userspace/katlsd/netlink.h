/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netlink.h - katlsd's side of the "katls" generic netlink family.
 *
 * The parent listens to the "agent" multicast group for READY; each child
 * opens its own netlink socket, so that the request it ACCEPTs is tied to
 * its own port and process, and DONE comes from the same socket.
 */
#ifndef KATLSD_NETLINK_H
#define KATLSD_NETLINK_H

#include <stdint.h>
#include <netlink/msg.h>
#include <linux/katls.h>

#include "handshake.h"

struct katlsd_nl {
	struct nl_sock *sk;
	int family;
};

/** struct katlsd_request - an accepted request (the ACCEPT reply) */
struct katlsd_request {
	uint64_t id;
	int fd;				/* -1 if none */
	uint32_t role;
	uint32_t timeout_ms;
	char policy[KATLS_POLICY_MAX];
	char peername[KATLS_PEERNAME_MAX];
};

/* Parent: join the "agent" group, non-blocking.  0 or negative errno. */
int katlsd_nl_listen(struct katlsd_nl *nl);
int katlsd_nl_fd(const struct katlsd_nl *nl);
/*
 * Read every queued notification; *ready gets the number of READY seen.
 * Returns 0, or -ENOBUFS if notifications were lost (socket overrun),
 * or another negative errno.
 */
int katlsd_nl_drain(struct katlsd_nl *nl, unsigned int *ready);

/*
 * Parent: follow the generic netlink controller's "notify" group, so that
 * katlsd notices when katls.ko is unloaded (the family and its multicast
 * group vanish with it) and loaded again (issue 11 item 8).
 */
#define KATLSD_NL_FAMILY_NEW	0x1	/* the katls family (re)appeared */
#define KATLSD_NL_FAMILY_DEL	0x2	/* the katls family went away */
int katlsd_nl_ctrl_listen(struct katlsd_nl *nl);
/* *events gets KATLSD_NL_FAMILY_* bits.  0 or negative errno. */
int katlsd_nl_ctrl_drain(struct katlsd_nl *nl, unsigned int *events);

/* Child: a fresh socket for ACCEPT and DONE.  0 or negative errno. */
int katlsd_nl_connect(struct katlsd_nl *nl);
/* 0 with *req filled, -ENOENT if nothing is pending, or negative errno. */
int katlsd_nl_accept(struct katlsd_nl *nl, struct katlsd_request *req);
/*
 * Build the DONE message for request id from r (status, and on success
 * the summary and both crypto_infos).  NULL on allocation failure.  The
 * caller sends it and wipes it with katlsd_nl_msg_wipe().
 */
struct nl_msg *katlsd_nl_build_done(int family, uint64_t id,
				    const struct katlsd_hs_result *r);
/* Zero the whole message buffer (it may hold keys), then free it. */
void katlsd_nl_msg_wipe(struct nl_msg *msg);
/*
 * NETLINK_CAP_ACK on fd: error acks carry our header only, never the
 * payload (keys) of the message they refuse.  0 or negative errno.
 */
int katlsd_nl_cap_ack(int fd);
/*
 * Read until the NLMSG_ERROR/ack for seq; returns its error (0 for an
 * ack).  Uses buf (cap bytes) and wipes it before returning.
 */
int katlsd_nl_wait_ack(int fd, uint32_t seq, void *buf, size_t cap);
/*
 * Send DONE and wait for the kernel's answer.  0 or negative errno.  The
 * message is wiped after sending, the answer's buffer after reading.
 */
int katlsd_nl_done(struct katlsd_nl *nl, uint64_t id,
		   const struct katlsd_hs_result *r);

void katlsd_nl_close(struct katlsd_nl *nl);

#endif /* KATLSD_NETLINK_H */
