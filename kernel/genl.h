/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/katls.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_KATLS_GEN_H
#define _LINUX_KATLS_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/katls_genl.h>

/* Common nested types */
extern const struct nla_policy katls_summary_nl_policy[KATLS_SUMMARY_A_POLICY + 1];

/* Global operation policy for katls */
extern const struct nla_policy katls_nl_policy[KATLS_A_MAX_AGE_MS + 1];

/* Ops table for katls */
extern const struct genl_small_ops katls_nl_ops[3];

int katls_nl_accept_doit(struct sk_buff *skb, struct genl_info *info);
int katls_nl_done_doit(struct sk_buff *skb, struct genl_info *info);
int katls_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);

enum {
	KATLS_NLGRP_AGENT,
};

#endif /* _LINUX_KATLS_GEN_H */
