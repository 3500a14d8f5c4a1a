/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sched.h - when the parent starts a worker (main.c has the why).
 *
 * Pure bookkeeping, no processes: each READY is matched by exactly one
 * worker, never more than `concurrency` run at once, and when READYs may
 * have been lost the parent probes until a worker finds nothing pending.
 */
#ifndef KATLSD_SCHED_H
#define KATLSD_SCHED_H

#include <stdbool.h>

#define KATLSD_BACKLOG_MAX	(1u << 20)

struct katlsd_sched {
	unsigned int running;	/* workers alive */
	unsigned int backlog;	/* workers owed (READYs, probes) */
	bool probing;		/* READYs may have been lost */
};

/* Start-up: requests may predate us, so probe once. */
void katlsd_sched_init(struct katlsd_sched *s);
/* n READY notifications arrived. */
void katlsd_sched_ready(struct katlsd_sched *s, unsigned int n);
/* The multicast socket overran: notifications were lost. */
void katlsd_sched_overrun(struct katlsd_sched *s, unsigned int concurrency);
/*
 * A worker ended: code is its exit status (KATLSD_EXIT_*), or -1 if it
 * was killed by a signal.
 */
void katlsd_sched_exit(struct katlsd_sched *s, int code);
/* Should one more worker start now?  If so, it is counted as running. */
bool katlsd_sched_next(struct katlsd_sched *s, unsigned int concurrency);
/* The worker katlsd_sched_next() granted could not be started. */
void katlsd_sched_undo(struct katlsd_sched *s);

#endif /* KATLSD_SCHED_H */
