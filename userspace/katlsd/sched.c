// SPDX-License-Identifier: GPL-2.0
/*
 * sched.c - worker bookkeeping of the katlsd parent.
 */
#include "katlsd.h"
#include "sched.h"

static void owe(struct katlsd_sched *s, unsigned int n)
{
	s->backlog = n > KATLSD_BACKLOG_MAX - s->backlog ?
		     KATLSD_BACKLOG_MAX : s->backlog + n;
}

void katlsd_sched_init(struct katlsd_sched *s)
{
	s->running = 0;
	s->backlog = 1;
	s->probing = true;
}

void katlsd_sched_ready(struct katlsd_sched *s, unsigned int n)
{
	owe(s, n);
}

void katlsd_sched_overrun(struct katlsd_sched *s, unsigned int concurrency)
{
	s->probing = true;
	if (s->backlog < concurrency)
		s->backlog = concurrency;
}

void katlsd_sched_exit(struct katlsd_sched *s, int code)
{
	if (s->running)
		s->running--;
	switch (code) {
	case KATLSD_EXIT_EMPTY:
		/*
		 * The queue was empty: nothing was lost.  Outside probing this
		 * changes nothing -- another agent or worker took the request
		 * this worker was started for, and READYs still owed stay owed.
		 */
		s->probing = false;
		break;
	case KATLSD_EXIT_DONE:
	case KATLSD_EXIT_FAILED:
		/* A probe that found work: there may be more. */
		if (s->probing)
			owe(s, 1);
		break;
	default:
		break;
	}
}

bool katlsd_sched_next(struct katlsd_sched *s, unsigned int concurrency)
{
	if (!s->backlog || s->running >= concurrency)
		return false;
	s->backlog--;
	s->running++;
	return true;
}

void katlsd_sched_undo(struct katlsd_sched *s)
{
	s->running--;
	owe(s, 1);
}
