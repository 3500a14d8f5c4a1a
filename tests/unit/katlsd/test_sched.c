// SPDX-License-Identifier: GPL-2.0
/*
 * test_sched.c - the parent's worker bookkeeping: one worker per READY,
 * never more than `concurrency` at once, probing after start-up and
 * overruns, and no READY dropped by a worker that found nothing.
 */
#include "katlsd.h"
#include "sched.h"
#include "tap.h"

/* Start as many workers as allowed; returns how many. */
static unsigned int drain(struct katlsd_sched *s, unsigned int conc)
{
	unsigned int n = 0;

	while (katlsd_sched_next(s, conc))
		n++;
	return n;
}

int main(void)
{
	struct katlsd_sched s;
	unsigned int n, max;

	tap_plan(15);

	katlsd_sched_init(&s);
	tap_ok(drain(&s, 4) == 1 && s.running == 1,
	       "start-up: exactly one probe");
	katlsd_sched_exit(&s, KATLSD_EXIT_DONE);
	tap_ok(drain(&s, 4) == 1,
	       "a probe that found a request is followed by another");
	katlsd_sched_exit(&s, KATLSD_EXIT_EMPTY);
	tap_ok(!s.probing && drain(&s, 4) == 0 && s.running == 0,
	       "a probe that found nothing ends probing");

	/* READYs beyond concurrency wait, and are served as slots free. */
	katlsd_sched_ready(&s, 10);
	tap_ok(drain(&s, 4) == 4 && s.running == 4 && s.backlog == 6,
	       "10 READY, concurrency 4: 4 running, 6 owed");
	max = s.running;
	n = 4;
	while (s.running) {
		katlsd_sched_exit(&s, KATLSD_EXIT_FAILED);
		n += drain(&s, 4);
		if (s.running > max)
			max = s.running;
	}
	tap_ok(n == 10 && max == 4 && s.backlog == 0,
	       "each READY got exactly one worker (%u), never more than 4 (%u)",
	       n, max);

	/* The race: a READY counted, then an unrelated ENOENT. */
	katlsd_sched_ready(&s, 1);
	tap_ok(drain(&s, 1) == 1, "READY at concurrency 1: worker started");
	katlsd_sched_ready(&s, 1);
	tap_ok(drain(&s, 1) == 0 && s.backlog == 1,
	       "second READY waits for the slot");
	katlsd_sched_exit(&s, KATLSD_EXIT_EMPTY);
	tap_ok(s.backlog == 1 && drain(&s, 1) == 1,
	       "a worker that found nothing does not drop an owed READY");
	katlsd_sched_exit(&s, KATLSD_EXIT_DONE);
	tap_ok(!s.probing && drain(&s, 1) == 0,
	       "outside probing, a finished worker is not followed by a probe");

	/* Crashes free their slot and nothing else. */
	katlsd_sched_ready(&s, 2);
	drain(&s, 2);
	katlsd_sched_exit(&s, -1);
	tap_ok(s.running == 1 && s.backlog == 0 && drain(&s, 2) == 0,
	       "a killed worker frees its slot, owes nothing");
	katlsd_sched_exit(&s, KATLSD_EXIT_DONE);

	/* Overrun: probe with every slot, continue while probes find work. */
	katlsd_sched_overrun(&s, 3);
	tap_ok(s.probing && drain(&s, 3) == 3, "overrun: 3 probes at once");
	katlsd_sched_exit(&s, KATLSD_EXIT_DONE);
	katlsd_sched_exit(&s, KATLSD_EXIT_DONE);
	tap_ok(drain(&s, 3) == 2, "probes that found work are replaced");
	katlsd_sched_exit(&s, KATLSD_EXIT_EMPTY);
	katlsd_sched_exit(&s, KATLSD_EXIT_DONE);
	tap_ok(!s.probing && drain(&s, 3) == 0,
	       "after an empty probe, no more probes");

	/* fork() failure: the slot and the debt come back. */
	katlsd_sched_ready(&s, 1);
	katlsd_sched_next(&s, 3);
	katlsd_sched_undo(&s);
	tap_ok(s.backlog == 1 && drain(&s, 3) == 1, "undo restores the debt");

	/* Memory bound: the backlog is a saturating counter. */
	katlsd_sched_ready(&s, KATLSD_BACKLOG_MAX);
	katlsd_sched_ready(&s, KATLSD_BACKLOG_MAX);
	tap_ok(s.backlog == KATLSD_BACKLOG_MAX, "backlog saturates at %u",
	       KATLSD_BACKLOG_MAX);
	return tap_done();
}
