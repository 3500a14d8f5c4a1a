/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katls/broker.h - the quote broker's batching core (issue 13 item 2,
 * Documentation/binder.rst "Batched evidence").
 *
 * The one process that owns configfs-tsm keeps at most one report in
 * flight.  Every binder submitted while a report is in flight waits for
 * the next one; when the report in flight completes, the waiters form the
 * next batch (FIFO, at most max_batch of them, no artificial delay) and
 * one report vouches for all of them.  Each waiter then gets
 * {status, leaf index, tree size, audit path}; the caller hands the
 * shared evidence with it.
 *
 * Deadline-aware: a waiter whose deadline would pass before the report it
 * could join completes is failed at once with ETIMEDOUT -- at submission
 * and again when its batch would start -- so that it never holds a slot.
 * The completion time is estimated from the last reports (EWMA).
 *
 * This is the state machine only: no I/O, no clock, no threads.  The
 * caller passes the time (CLOCK_MONOTONIC, milliseconds), performs the
 * report with the report data katls_broker_start() gives, and calls
 * katls_broker_complete().  Not thread-safe: one event loop owns it.
 *
 *   submit(binder, deadline) -> id            per handshake
 *   start(now) -> report data                 when idle and waiters queue
 *   ... configfs-tsm report ...
 *   complete(now, status)                     when the report returns
 *   result() -> {id, status, proof}           until none left
 */
#ifndef KATLS_BROKER_H
#define KATLS_BROKER_H

#include <stdint.h>
#include <katls/merkle.h>

/**
 * struct katls_broker_opts - broker limits
 * @max_batch: binders per report, 1..KATLS_MERKLE_MAX_LEAVES; 1 turns
 *	batching off (every report is a batch of one, version 1 records).
 * @max_waiters: queued plus in-flight waiters; more is EBUSY.
 * @initial_report_ms: report duration assumed before any was measured.
 */
struct katls_broker_opts {
	uint32_t max_batch;
	uint32_t max_waiters;
	uint32_t initial_report_ms;
};

/** struct katls_broker_result - one waiter's outcome */
struct katls_broker_result {
	uint64_t id;
	int status;		/* 0, -ETIMEDOUT, or the report's -errno */
	struct katls_merkle_proof proof;	/* valid iff status == 0 */
};

struct katls_broker;

/* 0, -EINVAL (opts out of range) or -ENOMEM. */
int katls_broker_new(const struct katls_broker_opts *o,
		     struct katls_broker **out);
void katls_broker_free(struct katls_broker *b);

/*
 * Queue @binder.  @deadline_ms is absolute (0: none).  Returns 0 and *id
 * (never 0), -ETIMEDOUT if the deadline would pass before the report the
 * waiter could join completes, -EBUSY if max_waiters wait already,
 * -EINVAL.
 */
int katls_broker_submit(struct katls_broker *b, const uint8_t binder[64],
			uint64_t deadline_ms, uint64_t now_ms, uint64_t *id);

/*
 * The waiter's handshake is gone: drop it.  A queued waiter leaves the
 * queue; an in-flight one stays in its tree (the report is already
 * requested) but gets no result.  0 or -ENOENT.
 */
int katls_broker_cancel(struct katls_broker *b, uint64_t id);

/*
 * If no report is in flight, no result is waiting to be collected and
 * waiters queue: fail the queued waiters whose deadline would pass before
 * a report started now completes (ETIMEDOUT results), then take up to
 * max_batch of the rest, build their tree and return 1 with the report
 * data to request.  0 if there is nothing to start, -ENOMEM / -EIO.
 */
int katls_broker_start(struct katls_broker *b, uint64_t now_ms,
		       uint8_t report_data[KATLS_MERKLE_HASH_LEN],
		       uint32_t *batch_size);

/*
 * The report in flight returned: @status 0 (the caller holds the
 * evidence for every waiter of the batch) or a negative errno (all of
 * them fail with it).  Updates the duration estimate.  0 or -EINVAL if
 * nothing was in flight.
 */
int katls_broker_complete(struct katls_broker *b, uint64_t now_ms,
			  int status);

/* Next result: 1 and *r, or 0 if none is waiting. */
int katls_broker_result(struct katls_broker *b,
			struct katls_broker_result *r);

/* Observability. */
uint32_t katls_broker_queued(const struct katls_broker *b);
uint32_t katls_broker_in_flight(const struct katls_broker *b);
/* In-flight waiters not cancelled: 0 means nobody waits for the report. */
uint32_t katls_broker_in_flight_live(const struct katls_broker *b);
uint32_t katls_broker_estimate_ms(const struct katls_broker *b);

#endif /* KATLS_BROKER_H */
