// SPDX-License-Identifier: GPL-2.0
/*
 * qbroker.c - the parent's quote broker: workers' binders in, one report
 * per batch through the quoter, each worker's evidence and proof out.
 * See qbroker.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <katls/broker.h>
#include <katls/merkle.h>

#include "log.h"
#include "privsep.h"
#include "qbroker.h"

struct client {
	int fd;				/* -1: free slot */
	pid_t pid;
	uint64_t id;			/* the broker waiter, 0: none */
	uint64_t tag;			/* the pool's request (qbroker.h) */
};

struct katlsd_qbroker {
	struct katls_broker *core;
	int quoter;			/* -1: none */
	int in_flight;			/* a report was sent to the quoter */
	uint32_t batch;			/* its size */
	uint64_t started;
	struct client *cl;
	size_t ncl;
	struct katlsd_qbroker_stats st;
	uint8_t *buf;			/* KATLSD_IPC_MAX */
	void (*release)(void *arg, pid_t pid, uint64_t tag);
	void *release_arg;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int katlsd_qbroker_new(uint32_t max_batch, uint32_t max_waiters,
		       struct katlsd_qbroker **out)
{
	struct katls_broker_opts o = {
		.max_batch = max_batch,
		.max_waiters = max_waiters,
		/* until one is measured, assume a quote is quick */
		.initial_report_ms = 0,
	};
	struct katlsd_qbroker *qb;
	int ret;

	*out = NULL;
	if (!max_batch || max_batch > KATLSD_MAX_MAX_BATCH)
		return -EINVAL;
	qb = calloc(1, sizeof(*qb));
	if (!qb)
		return -ENOMEM;
	qb->quoter = -1;
	qb->buf = malloc(KATLSD_IPC_MAX);
	if (!qb->buf) {
		free(qb);
		return -ENOMEM;
	}
	ret = katls_broker_new(&o, &qb->core);
	if (ret) {
		free(qb->buf);
		free(qb);
		return ret;
	}
	*out = qb;
	return 0;
}

void katlsd_qbroker_free(struct katlsd_qbroker *qb)
{
	size_t i;

	if (!qb)
		return;
	for (i = 0; i < qb->ncl; i++)
		if (qb->cl[i].fd >= 0)
			close(qb->cl[i].fd);
	if (qb->quoter >= 0)
		close(qb->quoter);
	katls_broker_free(qb->core);
	explicit_bzero(qb->buf, KATLSD_IPC_MAX);
	free(qb->buf);
	free(qb->cl);
	free(qb);
}

void katlsd_qbroker_close_in_child(struct katlsd_qbroker *qb)
{
	size_t i;

	for (i = 0; i < qb->ncl; i++)
		if (qb->cl[i].fd >= 0)
			close(qb->cl[i].fd);
	if (qb->quoter >= 0)
		close(qb->quoter);
}

void katlsd_qbroker_stats(const struct katlsd_qbroker *qb,
			  struct katlsd_qbroker_stats *s)
{
	*s = qb->st;
}

int katlsd_qbroker_has_quoter(const struct katlsd_qbroker *qb)
{
	return qb->quoter >= 0;
}

static struct client *by_id(struct katlsd_qbroker *qb, uint64_t id)
{
	size_t i;

	for (i = 0; i < qb->ncl; i++)
		if (qb->cl[i].fd >= 0 && qb->cl[i].id == id)
			return &qb->cl[i];
	return NULL;
}

static void drop(struct katlsd_qbroker *qb, struct client *c)
{
	if (c->id) {
		kinfo("quote broker: worker %d went away while waiting for evidence",
		      (int)c->pid);
		katls_broker_cancel(qb->core, c->id);
	}
	c->id = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (qb->release)
		qb->release(qb->release_arg, c->pid, c->tag);
	c->pid = 0;
	c->tag = 0;
}

/* Hand every waiting result to its worker. */
static void deliver(struct katlsd_qbroker *qb, const struct katlsd_evidence *shared)
{
	struct katls_broker_result r;
	struct katlsd_evidence ev;
	struct client *c;
	int ret;

	while (katls_broker_result(qb->core, &r) == 1) {
		c = by_id(qb, r.id);
		if (!c)
			continue;	/* its worker went away */
		c->id = 0;
		if (!r.status && shared) {
			ev = *shared;
			ev.proof = r.proof;
			kdebug("quote broker: worker %d gets leaf %u of %u",
			       (int)c->pid, r.proof.leaf_index,
			       r.proof.tree_size);
			ret = katlsd_ipc_send_evidence_rep(c->fd, 0, &ev);
			qb->st.served++;
		} else {
			if (!r.status)
				r.status = -EIO;
			if (r.status == -ETIMEDOUT) {
				qb->st.timeouts++;
				kinfo("quote broker: worker %d: its deadline passes before the next report: ETIMEDOUT",
				      (int)c->pid);
			}
			ret = katlsd_ipc_send_evidence_rep(c->fd, r.status,
							   NULL);
		}
		explicit_bzero(&r, sizeof(r));
		if (ret) {
			kwarn("quote broker: worker %d: %s", (int)c->pid,
			      strerror(-ret));
			drop(qb, c);
		}
	}
}

/*
 * If idle, start the next batch.  Without a quoter (the parent starts a
 * new one within a second) waiters queue; their deadlines are checked
 * when the batch starts.
 */
static void kick(struct katlsd_qbroker *qb)
{
	uint8_t rd[KATLS_MERKLE_HASH_LEN];
	uint32_t n;
	int ret;

	while (!qb->in_flight && qb->quoter >= 0) {
		ret = katls_broker_start(qb->core, now_ms(), rd, &n);
		/* ETIMEDOUT results of the waiters start() dropped */
		if (ret <= 0) {
			if (ret < 0)
				kerr("quote broker: %s", strerror(-ret));
			deliver(qb, NULL);
			return;
		}
		qb->st.reports++;
		if (n > qb->st.largest)
			qb->st.largest = n;
		ret = katlsd_ipc_send(qb->quoter, KATLSD_IPC_EVIDENCE_REQ, rd,
				      sizeof(rd), NULL, 0, NULL, 0);
		if (!ret) {
			qb->in_flight = 1;
			qb->batch = n;
			qb->started = now_ms();
			kinfo("quote broker: report for a batch of %u", n);
			deliver(qb, NULL);
			return;
		}
		kerr("quote broker: to the quoter: %s: a batch of %u fails",
		     strerror(-ret), n);
		qb->st.failed++;
		katls_broker_complete(qb->core, now_ms(), -EIO);
		deliver(qb, NULL);
	}
}

void katlsd_qbroker_set_quoter(struct katlsd_qbroker *qb, int fd)
{
	if (qb->quoter >= 0)
		close(qb->quoter);
	qb->quoter = fd;
	if (qb->in_flight) {
		/* The quoter died with a report in flight. */
		kerr("quote broker: the quoter went away during a report: a batch of %u fails",
		     qb->batch);
		qb->in_flight = 0;
		qb->st.failed++;
		katls_broker_complete(qb->core, now_ms(), -EIO);
		deliver(qb, NULL);
	}
	if (fd >= 0)
		kick(qb);
}

int katlsd_qbroker_add(struct katlsd_qbroker *qb, int fd, pid_t pid)
{
	return katlsd_qbroker_add_tagged(qb, fd, pid, 0);
}

void katlsd_qbroker_set_release(struct katlsd_qbroker *qb,
				void (*fn)(void *arg, pid_t pid, uint64_t tag),
				void *arg)
{
	qb->release = fn;
	qb->release_arg = arg;
}

int katlsd_qbroker_add_tagged(struct katlsd_qbroker *qb, int fd, pid_t pid,
			      uint64_t tag)
{
	struct client *n;
	size_t i;

	for (i = 0; i < qb->ncl; i++)
		if (qb->cl[i].fd < 0)
			break;
	if (i == qb->ncl) {
		n = realloc(qb->cl, (qb->ncl + 16) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		qb->cl = n;
		for (i = qb->ncl; i < qb->ncl + 16; i++)
			qb->cl[i].fd = -1;
		i = qb->ncl;
		qb->ncl += 16;
	}
	qb->cl[i].fd = fd;
	qb->cl[i].pid = pid;
	qb->cl[i].id = 0;
	qb->cl[i].tag = tag;
	return 0;
}

void katlsd_qbroker_remove(struct katlsd_qbroker *qb, pid_t pid)
{
	size_t i;

	for (i = 0; i < qb->ncl; i++)
		if (qb->cl[i].fd >= 0 && qb->cl[i].pid == pid)
			drop(qb, &qb->cl[i]);
}

size_t katlsd_qbroker_pollfds(const struct katlsd_qbroker *qb,
			      struct pollfd *pfd, size_t cap)
{
	size_t i, n = 0;

	if (qb->quoter >= 0 && n < cap) {
		pfd[n].fd = qb->quoter;
		pfd[n].events = POLLIN;
		pfd[n++].revents = 0;
	}
	for (i = 0; i < qb->ncl && n < cap; i++)
		if (qb->cl[i].fd >= 0) {
			pfd[n].fd = qb->cl[i].fd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
	return n;
}

static void from_quoter(struct katlsd_qbroker *qb)
{
	struct katlsd_evidence ev;
	struct katlsd_ipc_msg m;
	int ret, st = -EIO;

	ret = katlsd_ipc_recv(qb->quoter, qb->buf, KATLSD_IPC_MAX, &m);
	if (ret == -EAGAIN)
		return;
	if (!ret && !qb->in_flight)
		ret = -EPROTO;
	if (!ret)
		ret = katlsd_ipc_dec_evidence_rep(&m, &st, &ev);
	explicit_bzero(qb->buf, KATLSD_IPC_HDR_LEN + m.len);
	if (ret) {
		/* The quoter is broken: never trust it again. */
		kerr("quote broker: the quoter: %s", strerror(-ret));
		katlsd_qbroker_set_quoter(qb, -1);
		return;
	}
	qb->in_flight = 0;
	if (st)
		qb->st.failed++;
	kinfo("quote broker: report for a batch of %u: %s (%llu ms)",
	      qb->batch, st ? strerror(-st) : "ok",
	      (unsigned long long)(now_ms() - qb->started));
	katls_broker_complete(qb->core, now_ms(), st);
	deliver(qb, st ? NULL : &ev);
	katlsd_evidence_free(&ev);
}

static void from_worker(struct katlsd_qbroker *qb, struct client *c)
{
	uint8_t binder[KATLS_MERKLE_BINDER_LEN];
	struct katlsd_ipc_msg m;
	uint64_t deadline = 0;
	uint8_t buf[KATLSD_IPC_HDR_LEN + KATLS_MERKLE_BINDER_LEN + 8];
	int ret;

	ret = katlsd_ipc_recv(c->fd, buf, sizeof(buf), &m);
	if (ret == -EAGAIN)
		return;
	/* One waiter per worker: a second request is a broken worker. */
	if (!ret && c->id)
		ret = -EPROTO;
	if (!ret)
		ret = katlsd_ipc_dec_broker_req(&m, binder, &deadline);
	if (ret) {
		if (ret != -EPIPE && ret != -ECONNRESET)
			kwarn("quote broker: worker %d: %s", (int)c->pid,
			      strerror(-ret));
		drop(qb, c);
		return;
	}
	ret = katls_broker_submit(qb->core, binder, deadline, now_ms(),
				  &c->id);
	explicit_bzero(binder, sizeof(binder));
	if (ret) {
		if (ret == -ETIMEDOUT) {
			qb->st.timeouts++;
			kinfo("quote broker: worker %d: its deadline passes before the next report: ETIMEDOUT",
			      (int)c->pid);
		} else {
			kwarn("quote broker: worker %d: %s", (int)c->pid,
			      strerror(-ret));
		}
		c->id = 0;
		if (katlsd_ipc_send_evidence_rep(c->fd, ret, NULL))
			drop(qb, c);
	}
}

void katlsd_qbroker_handle(struct katlsd_qbroker *qb,
			   const struct pollfd *pfd, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == qb->quoter) {
			if (pfd[i].revents & POLLIN)
				from_quoter(qb);
			else
				katlsd_qbroker_set_quoter(qb, -1);
			continue;
		}
		for (j = 0; j < qb->ncl; j++)
			if (qb->cl[j].fd == pfd[i].fd && pfd[i].fd >= 0) {
				if (pfd[i].revents & POLLIN)
					from_worker(qb, &qb->cl[j]);
				else
					drop(qb, &qb->cl[j]);
				break;
			}
	}
	kick(qb);
}

int katlsd_qbroker_overdue_ms(const struct katlsd_qbroker *qb,
			      uint32_t max_ms)
{
	uint64_t now = now_ms(), end;

	if (!qb->in_flight)
		return -1;
	end = qb->started + max_ms;
	if (now >= end)
		return 0;
	return end - now > 3600000 ? 3600000 : (int)(end - now);
}

int katlsd_qbroker_abandoned(const struct katlsd_qbroker *qb)
{
	return qb->in_flight && !katls_broker_in_flight_live(qb->core);
}
