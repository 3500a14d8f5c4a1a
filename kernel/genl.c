// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/katls.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "genl.h"

#include <uapi/linux/katls_genl.h>

/* Common nested types */
const struct nla_policy katls_summary_nl_policy[KATLS_SUMMARY_A_POLICY + 1] = {
	[KATLS_SUMMARY_A_EVIDENCE_TYPE] = NLA_POLICY_RANGE(NLA_U32, 1, 4),
	[KATLS_SUMMARY_A_BINDING_LEVEL] = NLA_POLICY_RANGE(NLA_U32, 1, 3),
	[KATLS_SUMMARY_A_DIGEST] = NLA_POLICY_EXACT_LEN(32),
	[KATLS_SUMMARY_A_MEASUREMENT] = { .type = NLA_BINARY, },
	[KATLS_SUMMARY_A_POLICY] = { .type = NLA_NUL_STRING, .len = 63, },
};

/* Global operation policy for katls */
const struct nla_policy katls_nl_policy[KATLS_A_MAX_AGE_MS + 1] = {
	[KATLS_A_REQ_ID] = { .type = NLA_U64, },
	[KATLS_A_STATUS] = NLA_POLICY_MAX(NLA_U32, 4094),
	[KATLS_A_SUMMARY] = NLA_POLICY_NESTED(katls_summary_nl_policy),
	[KATLS_A_TX] = { .type = NLA_BINARY, },
	[KATLS_A_RX] = { .type = NLA_BINARY, },
	[KATLS_A_CLIENT_SUMMARY] = NLA_POLICY_NESTED(katls_summary_nl_policy),
	[KATLS_A_MAX_AGE_MS] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* Ops table for katls */
const struct genl_small_ops katls_nl_ops[3] = {
	{
		.cmd	= KATLS_CMD_ACCEPT,
		.doit	= katls_nl_accept_doit,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd		= KATLS_CMD_DONE,
		.validate	= GENL_DONT_VALIDATE_STRICT | GENL_DONT_VALIDATE_DUMP,
		.doit		= katls_nl_done_doit,
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd	= KATLS_CMD_GET,
		.dumpit	= katls_nl_get_dumpit,
		.flags	= GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group katls_nl_mcgrps[] = {
	[KATLS_NLGRP_AGENT] = { "agent", },
};
