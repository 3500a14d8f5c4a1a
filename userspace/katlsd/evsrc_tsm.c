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
 * each binder's proof back with the evidence, all through the broker's
 * batching core (katls/broker.h).  The daemon runs one broker for all
 * handshakes in its parent (qbroker.h): workers reach it through
 * katlsd_evsrc_broker_init(), and the parent's quoter child is the only
 * process that makes reports (katlsd_quoter_main()).  The stand-alone
 * source (katlsd_evsrc_tsm_init()) makes a batch of one per call.
 */
#include <dirent.h>
#include <poll.h>
#include <stdlib.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <katls/broker.h>
#include <katls/merkle.h>
#include <katls/tsm.h>

#include "evsrc_tsm.h"
#include "log.h"
#include "privsep.h"

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

/* One configfs-tsm report for @report_data, without a proof. */
static int tsm_report(const struct katls_tsm_opts *o,
		      const uint8_t report_data[KATLS_MERKLE_HASH_LEN],
		      struct katlsd_evidence *ev)
{
	struct katls_tsm_report r;
	int ret;

	memset(ev, 0, sizeof(*ev));
	memset(&r, 0, sizeof(r));
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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int katlsd_evsrc_tsm_round(struct katls_broker *b,
			   const struct katls_tsm_opts *o,
			   struct katlsd_evidence *ev, uint32_t *batch_size)
{
	uint8_t rd[KATLS_MERKLE_HASH_LEN];
	int ret, st;

	memset(ev, 0, sizeof(*ev));
	ret = katls_broker_start(b, now_ms(), rd, batch_size);
	if (ret <= 0)
		return ret;
	st = tsm_report(o, rd, ev);
	ret = katls_broker_complete(b, now_ms(), st);
	if (ret || st) {
		katlsd_evidence_free(ev);
		return ret ? ret : st;
	}
	return 1;
}

/*
 * The evidence source: the broker with batches of one, one broker per
 * call (a worker runs one handshake).  The report data is the binder,
 * as before batching.
 */
static int tsm_get(void *arg, const uint8_t binder[64],
		   struct katlsd_evidence *ev)
{
	static const struct katls_broker_opts bo = {
		.max_batch = 1, .max_waiters = 1,
	};
	const struct katls_tsm_opts *o = arg;
	struct katls_broker_result r;
	struct katls_broker *b = NULL;
	uint64_t id;
	int ret, got;

	memset(ev, 0, sizeof(*ev));
	ret = katls_broker_new(&bo, &b);
	if (!ret)
		ret = katls_broker_submit(b, binder, 0, now_ms(), &id);
	if (!ret)
		ret = katlsd_evsrc_tsm_round(b, o, ev, NULL);
	if (ret < 0)
		goto out;
	/* The round's results: exactly ours, with its proof. */
	got = katls_broker_result(b, &r);
	if (ret != 1 || got != 1 || r.id != id || r.status) {
		katlsd_evidence_free(ev);
		ret = got == 1 && r.status ? r.status : -EIO;
		goto out;
	}
	ev->proof = r.proof;
	ret = katls_broker_result(b, &r) ? -EIO : 0;
	if (ret)
		katlsd_evidence_free(ev);
out:
	katls_broker_free(b);
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

/*
 * Start-up: remove the report entries of katlsd processes that are gone
 * (katls-PID-SEQ whose PID does not exist).  An entry of a live process
 * may be another agent's report in flight: kept.
 */
void katlsd_evsrc_tsm_sweep_stale(const char *root)
{
	char path[PATH_MAX], *end;
	struct dirent *de;
	long pid;
	DIR *d;

	if (!root)
		root = KATLS_TSM_DEFAULT_ROOT;
	d = opendir(root);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "katls-", 6))
			continue;
		errno = 0;
		pid = strtol(de->d_name + 6, &end, 10);
		if (errno || pid <= 0 || pid > INT_MAX || *end != '-')
			continue;
		if (!kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", root, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (rmdir(path))
			kwarn("configfs-tsm: cannot remove stale %s: %s", path,
			      strerror(errno));
		else
			knotice("configfs-tsm: removed stale %s (process %ld is gone)",
				path, pid);
	}
	closedir(d);
}

int katlsd_quoter_main(int fd, const char *root)
{
	struct katls_tsm_opts o;
	struct katlsd_evidence ev;
	struct katlsd_ipc_msg m;
	uint8_t buf[KATLSD_IPC_HDR_LEN + KATLS_TSM_INBLOB_LEN + 1];
	int ret, st;

	memset(&o, 0, sizeof(o));
	o.root = root;
	o.hook = track_entry;
	for (;;) {
		ret = katlsd_ipc_recv(fd, buf, sizeof(buf), &m);
		if (ret == -EPIPE)
			return 0;	/* the parent stopped */
		if (ret || m.type != KATLSD_IPC_EVIDENCE_REQ ||
		    m.len != KATLS_TSM_INBLOB_LEN) {
			kerr("quoter: bad request from the parent: %s",
			     strerror(ret ? -ret : EPROTO));
			return 1;
		}
		st = tsm_report(&o, m.payload, &ev);
		if (!st && (!ev.evidence_len ||
			    ev.evidence_len > KATLS_TSM_OUTBLOB_MAX ||
			    ev.aux_len > KATLS_TSM_AUXBLOB_MAX))
			st = -EFBIG;
		ret = katlsd_ipc_send_evidence_rep(fd, st, st ? NULL : &ev);
		katlsd_evidence_free(&ev);
		if (ret) {
			kerr("quoter: to the parent: %s", strerror(-ret));
			return 1;
		}
	}
}

static struct katlsd_broker_client broker_client;

/* The worker's source: ask the parent's broker, wait for its answer. */
static int broker_get(void *arg, const uint8_t binder[64],
		      struct katlsd_evidence *ev)
{
	struct katlsd_broker_client *c = arg;
	struct katlsd_ipc_msg m;
	uint8_t *buf;
	int ret, st = -EIO;

	memset(ev, 0, sizeof(*ev));
	if (c->fd < 0)
		return -ENODEV;
	ret = katlsd_ipc_send(c->fd, KATLSD_IPC_BROKER_REQ, binder, 64,
			      &c->deadline_ms, 8, NULL, 0);
	if (ret) {
		kerr("quote broker: %s", strerror(-ret));
		return -EIO;
	}
	buf = malloc(KATLSD_IPC_MAX);
	if (!buf)
		return -ENOMEM;
	/* The parent answers every request; the alarm backstop bounds it. */
	ret = katlsd_ipc_recv(c->fd, buf, KATLSD_IPC_MAX, &m);
	if (!ret)
		ret = katlsd_ipc_dec_evidence_rep(&m, &st, ev);
	explicit_bzero(buf, KATLSD_IPC_MAX);
	free(buf);
	if (ret) {
		kerr("quote broker: %s", strerror(-ret));
		return -EIO;
	}
	return st;
}

void katlsd_evsrc_broker_init(struct katlsd_evidence_source *src, int fd,
			      uint64_t deadline_ms)
{
	broker_client.fd = fd;
	broker_client.deadline_ms = deadline_ms;
	src->get = broker_get;
	src->arg = &broker_client;
}

void katlsd_evsrc_broker_bind(struct katlsd_evidence_source *src,
			      struct katlsd_broker_client *c)
{
	src->get = broker_get;
	src->arg = c;
}
