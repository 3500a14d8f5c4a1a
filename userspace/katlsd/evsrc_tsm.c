// SPDX-License-Identifier: GPL-2.0
/*
 * evsrc_tsm.c - the daemon's only evidence source: configfs-tsm.
 *
 * The bytes handed to the TLS extension are exactly what the kernel's
 * TSM provider returned for our report data; nothing here builds
 * evidence.
 *
 * Report data comes from binder v1 batch mode (katls/merkle.h): the tree
 * over the binders that share this report, its report data as inblob,
 * each binder's proof back with the evidence.  Until the quote broker
 * (issue 13 item 2) collects waiters, every call is a batch of one, whose
 * report data is the binder itself -- the same inblob as before batching.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <katls/merkle.h>
#include <katls/tsm.h>

#include "evsrc_tsm.h"
#include "log.h"

/*
 * The report entry of the quote in flight, for the alarm backstop
 * (issue 11 item 9): a worker killed by its backstop while the provider
 * still generates the quote would otherwise leave the entry behind in
 * configfs.  Set at the MKDIR step, cleared when the call returns.
 */
static char inflight[PATH_MAX];
static volatile sig_atomic_t inflight_set;

static int track_entry(enum katls_tsm_step step, const char *entry,
		       void *arg)
{
	(void)arg;
	if (step == KATLS_TSM_STEP_MKDIR) {
		inflight_set = 0;
		atomic_signal_fence(memory_order_seq_cst);
		snprintf(inflight, sizeof(inflight), "%s", entry);
		atomic_signal_fence(memory_order_seq_cst);
		inflight_set = 1;
	}
	return 0;
}

void katlsd_evsrc_tsm_abort(void)
{
	/* rmdir(2) is async-signal-safe; ENOENT if already removed. */
	if (inflight_set)
		rmdir(inflight);
	inflight_set = 0;
}

void katlsd_evsrc_tsm_sweep(const char *root, pid_t pid)
{
	char prefix[32], path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n;

	if (!root)
		root = KATLS_TSM_DEFAULT_ROOT;
	n = snprintf(prefix, sizeof(prefix), "katls-%ld-", (long)pid);
	d = opendir(root);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, (size_t)n))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", root, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (rmdir(path))
			kwarn("configfs-tsm: cannot remove %s: %s", path,
			      strerror(errno));
		else
			kinfo("configfs-tsm: removed %s of worker %ld", path,
			      (long)pid);
	}
	closedir(d);
}

/*
 * One configfs-tsm report for the batch @t: the provider's evidence in
 * @ev, without a proof (the caller adds each waiter's).
 */
static int tsm_report(const struct katls_tsm_opts *o,
		      const struct katls_merkle_tree *t,
		      struct katlsd_evidence *ev)
{
	uint8_t report_data[KATLS_MERKLE_HASH_LEN];
	struct katls_tsm_report r;
	int ret;

	memset(ev, 0, sizeof(*ev));
	memset(&r, 0, sizeof(r));
	if (katls_merkle_tree_report_data(t, report_data))
		return -EINVAL;
	ret = katls_tsm_get_report(o, report_data, &r);
	inflight_set = 0;
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

/* The evidence source: a batch of one, through the batch code path. */
static int tsm_get(void *arg, const uint8_t binder[64],
		   struct katlsd_evidence *ev)
{
	const struct katls_tsm_opts *o = arg;
	struct katls_merkle_tree *t = NULL;
	int ret;

	memset(ev, 0, sizeof(*ev));
	ret = katls_merkle_tree_build((const uint8_t (*)[64])binder, 1, &t);
	if (ret)
		return ret == KATLS_MERKLE_E_NOMEM ? -ENOMEM : -EINVAL;
	ret = tsm_report(o, t, ev);
	if (!ret && katls_merkle_tree_proof(t, 0, &ev->proof)) {
		katlsd_evidence_free(ev);
		ret = -EINVAL;
	}
	katls_merkle_tree_free(t);
	return ret;
}

void katlsd_evsrc_tsm_init(struct katlsd_evidence_source *src,
			   struct katls_tsm_opts *opts, const char *root)
{
	memset(opts, 0, sizeof(*opts));
	opts->root = root;	/* NULL: KATLS_TSM_DEFAULT_ROOT */
	opts->hook = track_entry;
	src->get = tsm_get;
	src->arg = opts;
}
