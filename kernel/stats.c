// SPDX-License-Identifier: GPL-2.0
/*
 * katls - counters, shown in /proc/net/katls_stat (one "name value" line
 * each).  Counters are module-wide; the file exists in every network
 * namespace.
 */

#include <linux/atomic.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "katls.h"

static atomic64_t katls_stats[__KATLS_STAT_MAX];

static const char *const katls_stat_names[__KATLS_STAT_MAX] = {
	[KATLS_STAT_OPTED_IN]		= "opted_in",
	[KATLS_STAT_PENDING]		= "pending",
	[KATLS_STAT_IN_PROGRESS]	= "in_progress",
	[KATLS_STAT_REQUESTED]		= "requested",
	[KATLS_STAT_ACCEPTED]		= "accepted",
	[KATLS_STAT_VERIFIED]		= "verified",
	[KATLS_STAT_REJECTED]		= "rejected",
	[KATLS_STAT_TIMED_OUT]		= "timed_out",
	[KATLS_STAT_AGENT_LOST]		= "agent_lost",
	[KATLS_STAT_NO_AGENT]		= "no_agent",
	[KATLS_STAT_CLOSED]		= "closed",
	[KATLS_STAT_HANDOVER_FAILED]	= "handover_failed",
	[KATLS_STAT_GATE_REFUSED]	= "gate_refused",
	[KATLS_STAT_NO_PAD_FAILED]	= "no_pad_failed",
	[KATLS_STAT_EXPIRED]		= "expired",
};

void katls_stat_inc(enum katls_stat_item i)
{
	atomic64_inc(&katls_stats[i]);
}

void katls_stat_dec(enum katls_stat_item i)
{
	atomic64_dec(&katls_stats[i]);
}

s64 katls_stat_read(enum katls_stat_item i)
{
	return atomic64_read(&katls_stats[i]);
}

static int katls_stat_show(struct seq_file *seq, void *v)
{
	int i;

	for (i = 0; i < __KATLS_STAT_MAX; i++)
		seq_printf(seq, "%-16s%lld\n", katls_stat_names[i],
			   atomic64_read(&katls_stats[i]));
	return 0;
}

static int __net_init katls_stats_net_init(struct net *net)
{
	if (!proc_create_net_single("katls_stat", 0444, net->proc_net,
				    katls_stat_show, NULL))
		return -ENOMEM;
	return 0;
}

static void __net_exit katls_stats_net_exit(struct net *net)
{
	remove_proc_entry("katls_stat", net->proc_net);
}

unsigned int katls_net_id __read_mostly;

/* The proc file and struct katls_net (the pending count), per namespace. */
static struct pernet_operations katls_stats_net_ops = {
	.init = katls_stats_net_init,
	.exit = katls_stats_net_exit,
	.id = &katls_net_id,
	.size = sizeof(struct katls_net),
};

int katls_stats_init(void)
{
	return register_pernet_subsys(&katls_stats_net_ops);
}

void katls_stats_exit(void)
{
	unregister_pernet_subsys(&katls_stats_net_ops);
}
