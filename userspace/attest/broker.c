// SPDX-License-Identifier: GPL-2.0
/*
 * broker.c - the quote broker's batching core: at most one report in
 * flight, waiters that arrive meanwhile form the next batch, deadlines
 * checked before a waiter can hold a slot.  See katls/broker.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <katls/broker.h>

#define HLEN	KATLS_MERKLE_HASH_LEN

struct waiter {
	uint64_t id;
	uint64_t deadline;		/* 0: none */
	uint8_t binder[HLEN];
};

struct done {
	uint64_t id;
	int status;
};

struct katls_broker {
	struct katls_broker_opts o;
	uint64_t next_id;
	uint32_t est_ms;		/* estimated report duration */
	int measured;			/* est_ms comes from a report */

	struct waiter *q;		/* FIFO, nq entries */
	uint32_t nq;

	/* the batch in flight (or completed, results not yet collected) */
	uint64_t *fid;			/* ids, nf entries */
	uint8_t *fcancel;		/* 1: its handshake is gone */
	uint8_t (*fbinder)[HLEN];
	uint32_t nf;
	int in_flight, completed, fstatus;
	uint32_t cursor;		/* next result of the completed batch */
	uint64_t started;
	struct katls_merkle_tree *tree;

	struct done *timeouts;		/* failed before joining a batch */
	uint32_t ntimeouts, tcursor;
};

int katls_broker_new(const struct katls_broker_opts *o,
		     struct katls_broker **out)
{
	struct katls_broker *b;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!o || !o->max_batch || o->max_batch > KATLS_MERKLE_MAX_LEAVES ||
	    !o->max_waiters || o->max_waiters > (1u << 24))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->o = *o;
	b->est_ms = o->initial_report_ms;
	b->q = calloc(o->max_waiters, sizeof(*b->q));
	b->timeouts = calloc(o->max_waiters, sizeof(*b->timeouts));
	b->fid = calloc(o->max_batch, sizeof(*b->fid));
	b->fcancel = calloc(o->max_batch, 1);
	b->fbinder = calloc(o->max_batch, HLEN);
	if (!b->q || !b->timeouts || !b->fid || !b->fcancel || !b->fbinder) {
		katls_broker_free(b);
		return -ENOMEM;
	}
	*out = b;
	return 0;
}

void katls_broker_free(struct katls_broker *b)
{
	if (!b)
		return;
	katls_merkle_tree_free(b->tree);
	free(b->q);
	free(b->timeouts);
	free(b->fid);
	free(b->fcancel);
	free(b->fbinder);
	free(b);
}

uint32_t katls_broker_queued(const struct katls_broker *b)
{
	return b ? b->nq : 0;
}

uint32_t katls_broker_in_flight(const struct katls_broker *b)
{
	return b && b->in_flight ? b->nf : 0;
}

uint32_t katls_broker_in_flight_live(const struct katls_broker *b)
{
	uint32_t i, n = 0;

	if (!b || !b->in_flight)
		return 0;
	for (i = 0; i < b->nf; i++)
		n += !b->fcancel[i];
	return n;
}

uint32_t katls_broker_estimate_ms(const struct katls_broker *b)
{
	return b ? b->est_ms : 0;
}

/* Waiters that hold a slot: queued, in flight, or results not collected. */
static uint32_t holding(const struct katls_broker *b)
{
	uint32_t n = b->nq;

	if (b->in_flight)
		n += b->nf;
	else if (b->completed)
		n += b->nf - b->cursor;
	return n + b->ntimeouts - b->tcursor;
}

int katls_broker_submit(struct katls_broker *b, const uint8_t binder[HLEN],
			uint64_t deadline_ms, uint64_t now_ms, uint64_t *id)
{
	uint64_t next, finish;
	struct waiter *w;

	if (!b || !binder || !id)
		return -EINVAL;
	*id = 0;
	if (holding(b) >= b->o.max_waiters)
		return -EBUSY;
	/*
	 * The report this waiter can join starts when the one in flight
	 * ends (estimated), or now; the waiters queued ahead of it fill
	 * whole batches first.
	 */
	next = now_ms;
	if (b->in_flight && b->started + b->est_ms > now_ms)
		next = b->started + b->est_ms;
	finish = next + (uint64_t)(b->nq / b->o.max_batch + 1) * b->est_ms;
	if (deadline_ms && deadline_ms < finish)
		return -ETIMEDOUT;
	w = &b->q[b->nq++];
	w->id = ++b->next_id;
	w->deadline = deadline_ms;
	memcpy(w->binder, binder, HLEN);
	*id = w->id;
	return 0;
}

int katls_broker_cancel(struct katls_broker *b, uint64_t id)
{
	uint32_t i;

	if (!b || !id)
		return -ENOENT;
	for (i = 0; i < b->nq; i++)
		if (b->q[i].id == id) {
			memmove(&b->q[i], &b->q[i + 1],
				(b->nq - i - 1) * sizeof(*b->q));
			b->nq--;
			return 0;
		}
	if (b->in_flight || b->completed)
		for (i = b->in_flight ? 0 : b->cursor; i < b->nf; i++)
			if (b->fid[i] == id && !b->fcancel[i]) {
				b->fcancel[i] = 1;
				return 0;
			}
	for (i = b->tcursor; i < b->ntimeouts; i++)
		if (b->timeouts[i].id == id) {
			memmove(&b->timeouts[i], &b->timeouts[i + 1],
				(b->ntimeouts - i - 1) * sizeof(*b->timeouts));
			b->ntimeouts--;
			return 0;
		}
	return -ENOENT;
}

static void add_timeout(struct katls_broker *b, uint64_t id)
{
	/* compact the collected part first */
	if (b->tcursor) {
		memmove(b->timeouts, b->timeouts + b->tcursor,
			(b->ntimeouts - b->tcursor) * sizeof(*b->timeouts));
		b->ntimeouts -= b->tcursor;
		b->tcursor = 0;
	}
	/* cannot overflow: every timeout was a queued waiter */
	b->timeouts[b->ntimeouts].id = id;
	b->timeouts[b->ntimeouts].status = -ETIMEDOUT;
	b->ntimeouts++;
}

int katls_broker_start(struct katls_broker *b, uint64_t now_ms,
		       uint8_t report_data[HLEN], uint32_t *batch_size)
{
	uint32_t i, k, n;
	int ret;

	if (!b || !report_data)
		return -EINVAL;
	if (batch_size)
		*batch_size = 0;
	if (b->in_flight || b->completed)
		return 0;
	/* Never start a report that cannot finish before a deadline. */
	for (i = k = 0; i < b->nq; i++) {
		if (b->q[i].deadline &&
		    b->q[i].deadline < now_ms + b->est_ms)
			add_timeout(b, b->q[i].id);
		else
			b->q[k++] = b->q[i];
	}
	b->nq = k;
	if (!b->nq)
		return 0;
	n = b->nq < b->o.max_batch ? b->nq : b->o.max_batch;
	for (i = 0; i < n; i++) {
		b->fid[i] = b->q[i].id;
		b->fcancel[i] = 0;
		memcpy(b->fbinder[i], b->q[i].binder, HLEN);
	}
	ret = katls_merkle_tree_build((const uint8_t (*)[HLEN])b->fbinder, n,
				      &b->tree);
	if (!ret)
		ret = katls_merkle_tree_report_data(b->tree, report_data);
	if (ret) {
		katls_merkle_tree_free(b->tree);
		b->tree = NULL;
		memset(report_data, 0, HLEN);
		return ret == KATLS_MERKLE_E_NOMEM ? -ENOMEM : -EIO;
	}
	memmove(b->q, b->q + n, (b->nq - n) * sizeof(*b->q));
	b->nq -= n;
	b->nf = n;
	b->in_flight = 1;
	b->started = now_ms;
	if (batch_size)
		*batch_size = n;
	return 1;
}

int katls_broker_complete(struct katls_broker *b, uint64_t now_ms, int status)
{
	uint64_t dur;

	if (!b || !b->in_flight || status > 0)
		return -EINVAL;
	dur = now_ms > b->started ? now_ms - b->started : 0;
	if (dur > UINT32_MAX)
		dur = UINT32_MAX;
	/*
	 * EWMA with weight 1/4 for the newest report, rounded up; the first
	 * measurement replaces the assumed value.  Failed reports count
	 * too: their time was spent all the same.
	 */
	if (!b->measured)
		b->est_ms = (uint32_t)dur;
	else
		b->est_ms = (uint32_t)((3 * (uint64_t)b->est_ms + dur + 3) / 4);
	b->measured = 1;
	b->in_flight = 0;
	b->completed = 1;
	b->fstatus = status;
	b->cursor = 0;
	return 0;
}

int katls_broker_result(struct katls_broker *b, struct katls_broker_result *r)
{
	uint32_t i;

	if (!b || !r)
		return 0;
	memset(r, 0, sizeof(*r));
	if (b->tcursor < b->ntimeouts) {
		r->id = b->timeouts[b->tcursor].id;
		r->status = b->timeouts[b->tcursor].status;
		if (++b->tcursor == b->ntimeouts)
			b->tcursor = b->ntimeouts = 0;
		return 1;
	}
	if (!b->completed)
		return 0;
	while (b->cursor < b->nf) {
		i = b->cursor++;
		if (b->fcancel[i])
			continue;
		r->id = b->fid[i];
		r->status = b->fstatus;
		if (!r->status &&
		    katls_merkle_tree_proof(b->tree, i, &r->proof)) {
			memset(&r->proof, 0, sizeof(r->proof));
			r->status = -EIO;
		}
		return 1;
	}
	/* every result of the batch collected: the next one may start */
	katls_merkle_tree_free(b->tree);
	b->tree = NULL;
	b->completed = 0;
	b->nf = 0;
	b->cursor = 0;
	return 0;
}
