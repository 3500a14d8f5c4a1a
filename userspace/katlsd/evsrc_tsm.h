/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KATLSD_EVSRC_TSM_H
#define KATLSD_EVSRC_TSM_H

#include <sys/types.h>
#include <katls/tsm.h>

#include "handshake.h"

/* Point src at configfs-tsm under root (NULL: the default root). */
void katlsd_evsrc_tsm_init(struct katlsd_evidence_source *src,
			   struct katls_tsm_opts *opts, const char *root);

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

#endif /* KATLSD_EVSRC_TSM_H */
