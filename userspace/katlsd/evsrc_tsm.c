// SPDX-License-Identifier: GPL-2.0
/*
 * evsrc_tsm.c - the daemon's only evidence source: configfs-tsm.
 *
 * The bytes handed to the TLS extension are exactly what the kernel's
 * TSM provider returned for our report data; nothing here builds
 * evidence.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <katls/tsm.h>

#include "evsrc_tsm.h"
#include "log.h"

static int tsm_get(void *arg, const uint8_t report_data[64],
		   struct katlsd_evidence *ev)
{
	const struct katls_tsm_opts *o = arg;
	struct katls_tsm_report r;
	int ret;

	memset(ev, 0, sizeof(*ev));
	memset(&r, 0, sizeof(r));
	ret = katls_tsm_get_report(o, report_data, &r);
	if (ret < 0) {
		kwarn("configfs-tsm: %s", strerror(-ret));
		switch (-ret) {
		case ENOENT:	/* no configfs-tsm at all */
		case ENXIO:	/* no provider registered */
			return -ENODEV;
		case EBUSY:
		case EAGAIN:
		case ESTALE:
			return -EBUSY;
		case ENOMEM:
			return -ENOMEM;
		default:
			return -EIO;
		}
	}
	if (r.type == KATLS_EVIDENCE_NONE) {
		kwarn("configfs-tsm: unknown provider \"%s\"", r.provider);
		katls_tsm_report_free(&r);
		return -ENODEV;
	}
	if (r.attempts > 1)
		kinfo("configfs-tsm: report after %u attempts", r.attempts);
	ev->type = r.type;
	ev->evidence = r.outblob;
	ev->evidence_len = r.outblob_len;
	ev->aux = r.auxblob;
	ev->aux_len = r.auxblob_len;
	snprintf(ev->provider, sizeof(ev->provider), "%s", r.provider);
	/* Ownership of the blobs moved to ev (freed with free()). */
	r.outblob = NULL;
	r.auxblob = NULL;
	katls_tsm_report_free(&r);
	return 0;
}

void katlsd_evsrc_tsm_init(struct katlsd_evidence_source *src,
			   struct katls_tsm_opts *opts, const char *root)
{
	memset(opts, 0, sizeof(*opts));
	opts->root = root;	/* NULL: KATLS_TSM_DEFAULT_ROOT */
	src->get = tsm_get;
	src->arg = opts;
}
