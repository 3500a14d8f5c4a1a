/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KATLSD_EVSRC_TSM_H
#define KATLSD_EVSRC_TSM_H

#include <stdint.h>
#include <sys/types.h>
#include <katls/broker.h>
#include <katls/tsm.h>

#include "handshake.h"

/* Point src at configfs-tsm under root (NULL: the default root). */
void katlsd_evsrc_tsm_init(struct katlsd_evidence_source *src,
			   struct katls_tsm_opts *opts, const char *root);

/*
 * One quote broker round against configfs-tsm, for the process that owns
 * it: if the broker starts a report (katls_broker_start()), request it
 * (blocking), complete it and return 1 with the shared evidence in @ev
 * (no proof: each waiter's comes from katls_broker_result(), which the
 * caller drains next) and the batch size.  0 if there was nothing to
 * start; a negative errno if the report failed (its waiters' results
 * carry it too).
 */
int katlsd_evsrc_tsm_round(struct katls_broker *b,
			   const struct katls_tsm_opts *o,
			   struct katlsd_evidence *ev, uint32_t *batch_size);

/*
 * Async-signal-safe: remove the configfs-tsm report entry of the quote in
 * flight, if any (the worker's alarm backstop calls it before exiting).
 */
void katlsd_evsrc_tsm_abort(void);

/*
 * Parent: remove the report entries a worker that died abnormally left
 * behind (katls-PID-*; the pid is still unused: just reaped).
 */
void katlsd_evsrc_tsm_sweep(const char *root, pid_t pid);

/*
 * Start-up: remove every katls-PID-SEQ entry under root whose process no
 * longer exists (each removal is logged).
 */
void katlsd_evsrc_tsm_sweep_stale(const char *root);

/*
 * The quoter, a child of the parent and the only process that touches
 * configfs-tsm: for every EVIDENCE_REQ (report data) on fd, one report,
 * answered with an EVIDENCE_REP (no proof: the parent adds each
 * waiter's).  Returns when the parent closes fd (0) or on a protocol
 * error (1).
 */
int katlsd_quoter_main(int fd, const char *root);

/*
 * A worker's evidence source: the parent's quote broker on fd (qbroker.h)
 * with this handshake's deadline (CLOCK_MONOTONIC ms, 0: none).  get()
 * returns -ETIMEDOUT when the deadline would pass before the next report.
 */
void katlsd_evsrc_broker_init(struct katlsd_evidence_source *src, int fd,
			      uint64_t deadline_ms);

/*
 * The same for one request of a pool worker (many requests at once, each
 * with its own line to the broker): c must outlive src.
 */
struct katlsd_broker_client {
	int fd;
	uint64_t deadline_ms;
};
void katlsd_evsrc_broker_bind(struct katlsd_evidence_source *src,
			      struct katlsd_broker_client *c);

#endif /* KATLSD_EVSRC_TSM_H */
