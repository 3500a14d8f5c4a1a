// SPDX-License-Identifier: GPL-2.0
/*
 * test_broker.c - the quote broker's batching core (userspace/attest/
 * broker.c): at most one report in flight, waiters that arrive meanwhile
 * form the next batch up to the cap, every waiter's proof verifies
 * against the batch's report data, deadlines fail at once with
 * ETIMEDOUT, cancellation, a failed report, the queue limit.
 */
#include <errno.h>
#include <string.h>

#include <katls/broker.h>
#include "tap.h"

#define H KATLS_MERKLE_HASH_LEN

static void binder(unsigned int i, uint8_t b[H])
{
	memset(b, 0, H);
	b[0] = 0xb1;
	b[1] = i >> 8;
	b[2] = i;
}

/* Collect every result; check each proof against rd. */
static int drain(struct katls_broker *bk, const uint8_t rd[H],
		 const uint64_t *ids, const unsigned int *which,
		 unsigned int n, int want_status, unsigned int *got)
{
	struct katls_broker_result r;
	unsigned int bad = 0, k;
	uint8_t b[H];

	*got = 0;
	while (katls_broker_result(bk, &r) == 1) {
		(*got)++;
		for (k = 0; k < n && ids[k] != r.id; k++)
			;
		if (k == n || r.status != want_status) {
			bad++;
			continue;
		}
		binder(which[k], b);
		if (!want_status && katls_batch_check(b, &r.proof, rd, H))
			bad++;
	}
	return bad;
}

static void test_batching(void)
{
	struct katls_broker_opts o = { .max_batch = 4, .max_waiters = 64,
				       .initial_report_ms = 50 };
	struct katls_broker *bk = NULL;
	uint64_t ids[16];
	unsigned int which[16], i, got;
	uint8_t b[H], rd[H];
	uint32_t n;
	int ret;

	tap_ok(katls_broker_new(&o, &bk) == 0, "broker: created");
	if (!bk)
		return;
	binder(0, b);
	tap_ok(katls_broker_submit(bk, b, 0, 0, &ids[0]) == 0 && ids[0],
	       "submit: first waiter queued");
	which[0] = 0;
	tap_ok(katls_broker_start(bk, 0, rd, &n) == 1 && n == 1 &&
	       !memcmp(rd, b, H) && katls_broker_in_flight(bk) == 1,
	       "start: a lone waiter is a batch of one, report data = its binder (no artificial wait)");
	tap_ok(katls_broker_start(bk, 1, rd, &n) == 0,
	       "start: never a second report in flight");
	/* Six more arrive while the report is in flight. */
	for (i = 1; i <= 6; i++) {
		binder(i, b);
		which[i] = i;
		ret = katls_broker_submit(bk, b, 0, 10, &ids[i]);
		if (ret)
			break;
	}
	tap_ok(i == 7 && katls_broker_queued(bk) == 6,
	       "submit: waiters queue while a report is in flight");
	tap_ok(katls_broker_complete(bk, 40, 0) == 0 &&
	       !drain(bk, rd, ids, which, 1, 0, &got) && got == 1,
	       "complete: the waiter gets its proof (batch of one)");
	tap_ok(katls_broker_estimate_ms(bk) == 40,
	       "estimate: the first measured report replaces the assumption");
	tap_ok(katls_broker_start(bk, 40, rd, &n) == 1 && n == 4,
	       "start: the queued waiters form the next batch, capped at 4");
	tap_ok(katls_broker_complete(bk, 100, 0) == 0 &&
	       !drain(bk, rd, ids + 1, which + 1, 4, 0, &got) && got == 4,
	       "complete: 4 waiters, each proof verifies against the batch report data");
	tap_ok(katls_broker_estimate_ms(bk) == (3 * 40 + 60 + 3) / 4,
	       "estimate: EWMA of report durations (%u ms)",
	       katls_broker_estimate_ms(bk));
	tap_ok(katls_broker_start(bk, 100, rd, &n) == 1 && n == 2 &&
	       katls_broker_complete(bk, 150, 0) == 0 &&
	       !drain(bk, rd, ids + 5, which + 5, 2, 0, &got) && got == 2,
	       "start: the remaining 2 form the last batch");
	tap_ok(katls_broker_start(bk, 150, rd, &n) == 0 &&
	       katls_broker_queued(bk) == 0,
	       "start: nothing left to do");
	katls_broker_free(bk);
}

static void test_deadlines(void)
{
	struct katls_broker_opts o = { .max_batch = 2, .max_waiters = 8,
				       .initial_report_ms = 50 };
	struct katls_broker_result r;
	struct katls_broker *bk = NULL;
	uint64_t id, id2, id3, id4;
	uint8_t b[H], rd[H];
	uint32_t n;

	if (katls_broker_new(&o, &bk)) {
		tap_ok(0, "deadlines: broker");
		return;
	}
	binder(1, b);
	tap_ok(katls_broker_submit(bk, b, 49, 0, &id) == -ETIMEDOUT && !id,
	       "submit: a deadline before an idle report could finish: ETIMEDOUT at once");
	tap_ok(katls_broker_submit(bk, b, 50, 0, &id) == 0,
	       "submit: a deadline the report can meet is queued");
	tap_ok(katls_broker_start(bk, 0, rd, &n) == 1 && n == 1,
	       "start: report in flight at t=0");
	tap_ok(katls_broker_submit(bk, b, 90, 10, &id2) == -ETIMEDOUT,
	       "submit: in flight until ~50, next report until ~100: deadline 90 fails at once");
	tap_ok(katls_broker_submit(bk, b, 100, 10, &id2) == 0 &&
	       katls_broker_submit(bk, b, 100, 10, &id3) == 0,
	       "submit: deadline 100 can join the next batch");
	tap_ok(katls_broker_submit(bk, b, 149, 10, &id4) == -ETIMEDOUT && !id4,
	       "submit: a full batch ahead: deadline 149 would need a third report");
	/* The report in flight is slow: at t=70 the next cannot meet 100. */
	tap_ok(katls_broker_complete(bk, 70, 0) == 0 &&
	       katls_broker_result(bk, &r) == 1 && r.id == id && !r.status &&
	       katls_broker_result(bk, &r) == 0,
	       "complete at t=70: the first waiter succeeds");
	tap_ok(katls_broker_start(bk, 70, rd, &n) == 0 &&
	       katls_broker_result(bk, &r) == 1 && r.status == -ETIMEDOUT &&
	       r.id == id2 && katls_broker_result(bk, &r) == 1 &&
	       r.status == -ETIMEDOUT && r.id == id3 &&
	       katls_broker_result(bk, &r) == 0 && katls_broker_queued(bk) == 0,
	       "start: waiters whose deadline would pass fail with ETIMEDOUT, no report started");
	katls_broker_free(bk);
}

static void test_failures(void)
{
	struct katls_broker_opts o = { .max_batch = 8, .max_waiters = 3,
				       .initial_report_ms = 0 };
	struct katls_broker_result r;
	struct katls_broker *bk = NULL;
	uint64_t id[4];
	uint8_t b[H], rd[H];
	uint32_t n;
	int i, seen;

	if (katls_broker_new(&o, &bk)) {
		tap_ok(0, "failures: broker");
		return;
	}
	for (i = 0; i < 3; i++) {
		binder(i, b);
		katls_broker_submit(bk, b, 0, 0, &id[i]);
	}
	binder(3, b);
	tap_ok(katls_broker_submit(bk, b, 0, 0, &id[3]) == -EBUSY,
	       "submit: more than max_waiters: EBUSY");
	tap_ok(katls_broker_cancel(bk, id[1]) == 0 && katls_broker_queued(bk) == 2,
	       "cancel: a queued waiter leaves the queue");
	tap_ok(katls_broker_start(bk, 0, rd, &n) == 1 && n == 2,
	       "start: the cancelled waiter is not in the batch");
	tap_ok(katls_broker_in_flight_live(bk) == 2,
	       "in flight: 2 live waiters");
	tap_ok(katls_broker_cancel(bk, id[2]) == 0 &&
	       katls_broker_cancel(bk, id[2]) == -ENOENT &&
	       katls_broker_cancel(bk, 999) == -ENOENT,
	       "cancel: an in-flight waiter, once; unknown ids refused");
	tap_ok(katls_broker_in_flight_live(bk) == 1,
	       "in flight: 1 live waiter after the cancel");

	tap_ok(katls_broker_complete(bk, 5, -EIO) == 0, "complete: report failed");
	seen = 0;
	while (katls_broker_result(bk, &r) == 1)
		seen += r.id == id[0] && r.status == -EIO ? 1 : 100;
	tap_ok(seen == 1,
	       "a failed report fails its waiters with its errno; the cancelled one gets nothing");
	tap_ok(katls_broker_complete(bk, 6, 0) == -EINVAL,
	       "complete: nothing in flight refused");
	katls_broker_free(bk);

	o.max_batch = 0;
	tap_ok(katls_broker_new(&o, &bk) == -EINVAL && !bk,
	       "opts: max_batch 0 refused");
	o.max_batch = KATLS_MERKLE_MAX_LEAVES + 1;
	tap_ok(katls_broker_new(&o, &bk) == -EINVAL && !bk,
	       "opts: max_batch over the tree cap refused");
	o.max_batch = 1;
	o.max_waiters = 4;
	if (!katls_broker_new(&o, &bk)) {
		uint64_t a, c;
		uint8_t b2[H];

		binder(7, b);
		binder(8, b2);
		katls_broker_submit(bk, b, 0, 0, &a);
		katls_broker_submit(bk, b2, 0, 0, &c);
		tap_ok(katls_broker_start(bk, 0, rd, &n) == 1 && n == 1 &&
		       !memcmp(rd, b, H) && katls_broker_complete(bk, 1, 0) == 0 &&
		       katls_broker_result(bk, &r) == 1 && r.proof.tree_size == 1 &&
		       katls_broker_result(bk, &r) == 0 &&
		       katls_broker_start(bk, 1, rd, &n) == 1 && !memcmp(rd, b2, H),
		       "max_batch 1: batching off, one binder per report");
		katls_broker_free(bk);
	}
}

int main(void)
{
	tap_plan_lazy();
	test_batching();
	test_deadlines();
	test_failures();
	return tap_done();
}
