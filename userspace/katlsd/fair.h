/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fair.h - fair admission of handshakes to the worker pool (issue 13
 * item 3; Documentation/katlsd.rst, "Fairness").
 *
 * The parent admits every accepted request before its handshake starts.
 * Three limits, all counted over the handshakes that *run* (admitted and
 * not finished), across the whole pool:
 *
 *   total     [katlsd] concurrency
 *   per uid   [katlsd] max_per_uid: the local user that owns the socket
 *   per peer  [katlsd] max_per_peer: the remote IP address
 *
 * A request over a limit is not failed at once: it waits, in arrival
 * order, in one bounded queue ([katlsd] max_waiting).  When a handshake
 * ends, the oldest waiter that fits every limit starts (waiters of other
 * users and peers overtake a flooder's).  A request that finds the queue
 * full fails with EBUSY; one whose deadline passes while it waits fails
 * with ETIMEDOUT.  So a flood from one user or one address holds at most
 * its limit of the slots and fills the queue; everybody else keeps the
 * rest of the slots and overtakes it in the queue.
 *
 * Pure bookkeeping, no I/O (the unit tests drive it): entries are named
 * by (worker pid, tag), the tag being the kernel's request id.  Counts
 * per uid and per peer are kept in hash tables, so admitting and
 * finishing cost O(1), picking the next waiter O(waiters).
 */
#ifndef KATLSD_FAIR_H
#define KATLSD_FAIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** struct katlsd_peer - a remote address (family 0: unknown, one bucket) */
struct katlsd_peer {
	uint32_t family;		/* AF_INET, AF_INET6 or 0 */
	uint8_t addr[16];		/* AF_INET: the first 4 bytes */
};

/** struct katlsd_fair_req - one request as the admission sees it */
struct katlsd_fair_req {
	pid_t worker;
	uint64_t tag;
	uint32_t uid;
	struct katlsd_peer peer;
	uint64_t deadline_ms;		/* CLOCK_MONOTONIC ms, 0: none */
	int fd;				/* the caller's (broker line), opaque */
};

/** struct katlsd_fair_stats - counters (katlsd's status file, the log) */
struct katlsd_fair_stats {
	uint64_t admitted;		/* started at once */
	uint64_t queued;		/* had to wait */
	uint64_t dequeued;		/* started after waiting */
	uint64_t refused;		/* EBUSY: queue full */
	uint64_t expired;		/* ETIMEDOUT while waiting */
	uint32_t running, waiting;	/* now */
};

struct katlsd_fair;

/*
 * total, per_uid, per_peer, max_waiting: the limits (each at least 1,
 * per_uid and per_peer at most total).  0, -EINVAL or -ENOMEM.
 */
int katlsd_fair_new(unsigned int total, unsigned int per_uid,
		    unsigned int per_peer, unsigned int max_waiting,
		    struct katlsd_fair **out);
void katlsd_fair_free(struct katlsd_fair *f);

/*
 * A new request: 1 it runs now, 0 it waits, -EBUSY the queue is full,
 * -EEXIST (worker, tag) is known already, -ENOMEM.
 */
int katlsd_fair_submit(struct katlsd_fair *f, const struct katlsd_fair_req *r);

/*
 * A running handshake ended: its slot is free (waiters may now fit: call
 * katlsd_fair_next()).  0 or -ENOENT.
 */
int katlsd_fair_release(struct katlsd_fair *f, pid_t worker, uint64_t tag);

/*
 * The oldest waiter that fits every limit now starts running: 1 and *out,
 * or 0 if none fits.
 */
int katlsd_fair_next(struct katlsd_fair *f, struct katlsd_fair_req *out);

/*
 * A waiter whose deadline is at or before now_ms leaves the queue: 1 and
 * *out, or 0.  Call until 0.
 */
int katlsd_fair_expire(struct katlsd_fair *f, uint64_t now_ms,
		       struct katlsd_fair_req *out);

/* ms until the earliest waiter's deadline (0: passed), -1 if none. */
int katlsd_fair_timeout_ms(const struct katlsd_fair *f, uint64_t now_ms);

/*
 * A worker is gone: every entry of it, running or waiting, is removed;
 * fn (may be NULL) sees each first.  Returns how many.
 */
size_t katlsd_fair_drop_worker(struct katlsd_fair *f, pid_t worker,
			       void (*fn)(const struct katlsd_fair_req *r,
					  int running, void *arg),
			       void *arg);

/* Running handshakes of this uid / this peer (the tests, the log). */
unsigned int katlsd_fair_uid_count(const struct katlsd_fair *f, uint32_t uid);
unsigned int katlsd_fair_peer_count(const struct katlsd_fair *f,
				    const struct katlsd_peer *p);

void katlsd_fair_stats(const struct katlsd_fair *f,
		       struct katlsd_fair_stats *s);

/* "127.0.0.1", "::1", "unknown" into buf (at least 46 bytes). */
const char *katlsd_peer_str(const struct katlsd_peer *p, char *buf,
			    size_t len);

#endif /* KATLSD_FAIR_H */
