/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KATLSD_EVSRC_TSM_H
#define KATLSD_EVSRC_TSM_H

#include <katls/tsm.h>

#include "handshake.h"

/* Point src at configfs-tsm under root (NULL: the default root). */
void katlsd_evsrc_tsm_init(struct katlsd_evidence_source *src,
			   struct katls_tsm_opts *opts, const char *root);

#endif /* KATLSD_EVSRC_TSM_H */
