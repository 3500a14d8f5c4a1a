/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qbroker.h - the quote broker of the katlsd parent (issue 13 item 2).
 *
 * The parent is the only owner of configfs-tsm.  Each worker (the
 * request's monitor) sends its binder and its handshake's deadline over
 * its own SOCK_SEQPACKET socketpair, created before the fork, with the
 * framing of privsep.h (BROKER_REQ), and waits for one EVIDENCE_REP: the
 * shared evidence plus its own batch proof, or a status (ETIMEDOUT: the
 * deadline would pass before the next report; EBUSY; EIO).
 *
 * The parent runs the batching core (katls/broker.h) from its event loop:
 * at most one report in flight, binders that arrive meanwhile form the
 * next batch (no artificial delay, at most max_batch).  The report itself
 * is made by the quoter, a dedicated child of the parent
 * (katlsd_quoter_main(), evsrc_tsm.h) that gets report data over another
 * socketpair and answers with the evidence, so that a slow quote never
 * blocks ACCEPT dispatch or child reaping.
 *
 * Nothing here blocks except the sends of one bounded message to a
 * worker or the quoter, each of which holds at most one message unread.
 */
#ifndef KATLSD_QBROKER_H
#define KATLSD_QBROKER_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

/* Default and range of [evidence] max_batch (katlsd.conf). */
#define KATLSD_DEFAULT_MAX_BATCH	64
#define KATLSD_MAX_MAX_BATCH		4096

/** struct katlsd_qbroker_stats - counters, logged at stop */
struct katlsd_qbroker_stats {
	uint64_t reports;		/* reports requested */
	uint64_t failed;		/* of which failed */
	uint64_t served;		/* waiters that got evidence */
	uint64_t timeouts;		/* waiters failed with ETIMEDOUT */
	uint32_t largest;		/* largest batch */
};

struct katlsd_qbroker;

/* 0, -EINVAL or -ENOMEM. */
int katlsd_qbroker_new(uint32_t max_batch, uint32_t max_waiters,
		       struct katlsd_qbroker **out);
/* Closes every descriptor it holds. */
void katlsd_qbroker_free(struct katlsd_qbroker *qb);

/*
 * The quoter's end (the broker owns it from now on), or -1 when the
 * quoter died: a report in flight then fails with EIO for its batch.
 * Until a quoter is set, waiters queue.
 */
void katlsd_qbroker_set_quoter(struct katlsd_qbroker *qb, int fd);
/* Is a quoter set? */
int katlsd_qbroker_has_quoter(const struct katlsd_qbroker *qb);

/* A worker's end of its socketpair (owned by the broker).  0 or -ENOMEM. */
int katlsd_qbroker_add(struct katlsd_qbroker *qb, int fd, pid_t pid);
/*
 * The worker pool (issue 13 item 3): one line per request, named by the
 * worker and its tag (the kernel's request id).  When the line goes (the
 * request ended: its worker closed it; the worker died; a protocol
 * error), release(arg, pid, tag) is called: the pool frees the request's
 * admission slot (fair.h).  The callback must not add or remove lines.
 */
int katlsd_qbroker_add_tagged(struct katlsd_qbroker *qb, int fd, pid_t pid,
			      uint64_t tag);
void katlsd_qbroker_set_release(struct katlsd_qbroker *qb,
				void (*fn)(void *arg, pid_t pid, uint64_t tag),
				void *arg);
/* The worker was reaped: cancel its waiters, close its ends. */
void katlsd_qbroker_remove(struct katlsd_qbroker *qb, pid_t pid);

/*
 * Fill pfd (capacity cap) with the descriptors to poll: the quoter's,
 * then each worker's.  Returns how many.
 */
size_t katlsd_qbroker_pollfds(const struct katlsd_qbroker *qb,
			      struct pollfd *pfd, size_t cap);
/* Handle what poll() reported on the entries pollfds() gave. */
void katlsd_qbroker_handle(struct katlsd_qbroker *qb,
			   const struct pollfd *pfd, size_t n);

/* In a freshly forked child: close the parent's broker descriptors. */
void katlsd_qbroker_close_in_child(struct katlsd_qbroker *qb);

/*
 * ms until the report in flight has run over max_ms (0: it has: the
 * caller stops the quoter), or -1 if none is in flight.
 */
int katlsd_qbroker_overdue_ms(const struct katlsd_qbroker *qb,
			      uint32_t max_ms);

/*
 * A report is in flight and every worker of its batch went away: the
 * caller stops the quoter and removes its entry (nobody would use it).
 */
int katlsd_qbroker_abandoned(const struct katlsd_qbroker *qb);

void katlsd_qbroker_stats(const struct katlsd_qbroker *qb,
			  struct katlsd_qbroker_stats *s);

#endif /* KATLSD_QBROKER_H */
