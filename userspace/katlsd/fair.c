// SPDX-License-Identifier: GPL-2.0
/*
 * fair.c - fair admission of handshakes to the worker pool (fair.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "fair.h"

/* ---- running counts per key: open addressing, backward-shift delete ---- */

struct ckey {
	uint32_t kind;			/* 1 uid, 2 peer */
	uint32_t family;
	uint8_t a[16];
};

struct cslot {
	struct ckey k;
	uint32_t count;			/* 0: empty */
};

struct ctab {
	struct cslot *s;
	size_t mask;
	uint64_t seed;			/* against chosen collisions */
};

static size_t chash(const struct ctab *t, const struct ckey *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ULL ^ t->seed;
	size_t i;

	for (i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	return (size_t)h & t->mask;
}

static int ctab_init(struct ctab *t, unsigned int n)
{
	size_t cap = 16;

	while (cap < 2 * (size_t)n)
		cap <<= 1;
	t->s = calloc(cap, sizeof(*t->s));
	if (!t->s)
		return -ENOMEM;
	t->mask = cap - 1;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t->s;
	return 0;
}

static struct cslot *cfind(const struct ctab *t, const struct ckey *k)
{
	size_t i = chash(t, k);

	while (t->s[i].count) {
		if (!memcmp(&t->s[i].k, k, sizeof(*k)))
			return &t->s[i];
		i = (i + 1) & t->mask;
	}
	return NULL;
}

static uint32_t cget(const struct ctab *t, const struct ckey *k)
{
	const struct cslot *s = cfind(t, k);

	return s ? s->count : 0;
}

/* There is always room: at most `total` keys in a table of 2 * total. */
static void cinc(struct ctab *t, const struct ckey *k)
{
	size_t i = chash(t, k);

	while (t->s[i].count) {
		if (!memcmp(&t->s[i].k, k, sizeof(*k))) {
			t->s[i].count++;
			return;
		}
		i = (i + 1) & t->mask;
	}
	t->s[i].k = *k;
	t->s[i].count = 1;
}

static void cdec(struct ctab *t, const struct ckey *k)
{
	struct cslot *s = cfind(t, k);
	size_t i, j, h;

	if (!s || --s->count)
		return;
	/* Backward shift: keep every probe chain unbroken. */
	i = (size_t)(s - t->s);
	j = i;
	for (;;) {
		j = (j + 1) & t->mask;
		if (!t->s[j].count)
			break;
		h = chash(t, &t->s[j].k);
		/* can the entry at j move to the hole at i? */
		if ((j > i && (h <= i || h > j)) ||
		    (j < i && (h <= i && h > j))) {
			t->s[i] = t->s[j];
			t->s[j].count = 0;
			i = j;
		}
	}
	t->s[i].count = 0;
}

static void uid_key(struct ckey *k, uint32_t uid)
{
	memset(k, 0, sizeof(*k));
	k->kind = 1;
	memcpy(k->a, &uid, 4);
}

static void peer_key(struct ckey *k, const struct katlsd_peer *p)
{
	memset(k, 0, sizeof(*k));
	k->kind = 2;
	k->family = p->family;
	if (p->family == AF_INET)
		memcpy(k->a, p->addr, 4);
	else if (p->family == AF_INET6)
		memcpy(k->a, p->addr, 16);
	else
		k->family = 0;
}

/* ---- the admission ---- */

struct katlsd_fair {
	unsigned int total, per_uid, per_peer, max_waiting;
	struct katlsd_fair_req *run;	/* running, unordered */
	size_t nrun;
	struct katlsd_fair_req *wait;	/* waiting, oldest first */
	size_t nwait;
	struct ctab uids, peers;
	struct katlsd_fair_stats st;
};

int katlsd_fair_new(unsigned int total, unsigned int per_uid,
		    unsigned int per_peer, unsigned int max_waiting,
		    struct katlsd_fair **out)
{
	struct katlsd_fair *f;

	*out = NULL;
	if (!total || !per_uid || !per_peer || !max_waiting ||
	    per_uid > total || per_peer > total)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->total = total;
	f->per_uid = per_uid;
	f->per_peer = per_peer;
	f->max_waiting = max_waiting;
	f->run = calloc(total, sizeof(*f->run));
	f->wait = calloc(max_waiting, sizeof(*f->wait));
	if (!f->run || !f->wait || ctab_init(&f->uids, total) ||
	    ctab_init(&f->peers, total)) {
		katlsd_fair_free(f);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

void katlsd_fair_free(struct katlsd_fair *f)
{
	if (!f)
		return;
	free(f->run);
	free(f->wait);
	free(f->uids.s);
	free(f->peers.s);
	free(f);
}

static bool fits(const struct katlsd_fair *f, const struct katlsd_fair_req *r)
{
	struct ckey ku, kp;

	if (f->nrun >= f->total)
		return false;
	uid_key(&ku, r->uid);
	peer_key(&kp, &r->peer);
	return cget(&f->uids, &ku) < f->per_uid &&
	       cget(&f->peers, &kp) < f->per_peer;
}

static void start(struct katlsd_fair *f, const struct katlsd_fair_req *r)
{
	struct ckey k;

	f->run[f->nrun++] = *r;
	uid_key(&k, r->uid);
	cinc(&f->uids, &k);
	peer_key(&k, &r->peer);
	cinc(&f->peers, &k);
}

static ssize_t find_run(const struct katlsd_fair *f, pid_t w, uint64_t tag)
{
	size_t i;

	for (i = 0; i < f->nrun; i++)
		if (f->run[i].worker == w && f->run[i].tag == tag)
			return (ssize_t)i;
	return -1;
}

static ssize_t find_wait(const struct katlsd_fair *f, pid_t w, uint64_t tag)
{
	size_t i;

	for (i = 0; i < f->nwait; i++)
		if (f->wait[i].worker == w && f->wait[i].tag == tag)
			return (ssize_t)i;
	return -1;
}

static void unrun(struct katlsd_fair *f, size_t i)
{
	struct ckey k;

	uid_key(&k, f->run[i].uid);
	cdec(&f->uids, &k);
	peer_key(&k, &f->run[i].peer);
	cdec(&f->peers, &k);
	f->run[i] = f->run[--f->nrun];
}

static void unwait(struct katlsd_fair *f, size_t i)
{
	memmove(&f->wait[i], &f->wait[i + 1],
		(f->nwait - i - 1) * sizeof(f->wait[0]));
	f->nwait--;
}

int katlsd_fair_submit(struct katlsd_fair *f, const struct katlsd_fair_req *r)
{
	if (find_run(f, r->worker, r->tag) >= 0 ||
	    find_wait(f, r->worker, r->tag) >= 0)
		return -EEXIST;
	/* Nobody overtakes a waiter it would compete with: FIFO for all. */
	if (fits(f, r)) {
		start(f, r);
		f->st.admitted++;
		return 1;
	}
	if (f->nwait >= f->max_waiting) {
		f->st.refused++;
		return -EBUSY;
	}
	f->wait[f->nwait++] = *r;
	f->st.queued++;
	return 0;
}

int katlsd_fair_release(struct katlsd_fair *f, pid_t worker, uint64_t tag)
{
	ssize_t i = find_run(f, worker, tag);

	if (i < 0)
		return -ENOENT;
	unrun(f, (size_t)i);
	return 0;
}

int katlsd_fair_next(struct katlsd_fair *f, struct katlsd_fair_req *out)
{
	size_t i;

	if (f->nrun >= f->total)
		return 0;
	for (i = 0; i < f->nwait; i++)
		if (fits(f, &f->wait[i])) {
			*out = f->wait[i];
			unwait(f, i);
			start(f, out);
			f->st.dequeued++;
			return 1;
		}
	return 0;
}

int katlsd_fair_expire(struct katlsd_fair *f, uint64_t now_ms,
		       struct katlsd_fair_req *out)
{
	size_t i;

	for (i = 0; i < f->nwait; i++)
		if (f->wait[i].deadline_ms && f->wait[i].deadline_ms <= now_ms) {
			*out = f->wait[i];
			unwait(f, i);
			f->st.expired++;
			return 1;
		}
	return 0;
}

int katlsd_fair_timeout_ms(const struct katlsd_fair *f, uint64_t now_ms)
{
	uint64_t best = 0;
	size_t i;

	for (i = 0; i < f->nwait; i++)
		if (f->wait[i].deadline_ms &&
		    (!best || f->wait[i].deadline_ms < best))
			best = f->wait[i].deadline_ms;
	if (!best)
		return -1;
	if (best <= now_ms)
		return 0;
	return best - now_ms > 3600000 ? 3600000 : (int)(best - now_ms);
}

size_t katlsd_fair_drop_worker(struct katlsd_fair *f, pid_t worker,
			       void (*fn)(const struct katlsd_fair_req *r,
					  int running, void *arg),
			       void *arg)
{
	size_t i = 0, n = 0;

	while (i < f->nrun) {
		if (f->run[i].worker != worker) {
			i++;
			continue;
		}
		if (fn)
			fn(&f->run[i], 1, arg);
		unrun(f, i);
		n++;
	}
	i = 0;
	while (i < f->nwait) {
		if (f->wait[i].worker != worker) {
			i++;
			continue;
		}
		if (fn)
			fn(&f->wait[i], 0, arg);
		unwait(f, i);
		n++;
	}
	return n;
}

unsigned int katlsd_fair_uid_count(const struct katlsd_fair *f, uint32_t uid)
{
	struct ckey k;

	uid_key(&k, uid);
	return cget(&f->uids, &k);
}

unsigned int katlsd_fair_peer_count(const struct katlsd_fair *f,
				    const struct katlsd_peer *p)
{
	struct ckey k;

	peer_key(&k, p);
	return cget(&f->peers, &k);
}

void katlsd_fair_stats(const struct katlsd_fair *f,
		       struct katlsd_fair_stats *s)
{
	*s = f->st;
	s->running = (uint32_t)f->nrun;
	s->waiting = (uint32_t)f->nwait;
}

const char *katlsd_peer_str(const struct katlsd_peer *p, char *buf,
			    size_t len)
{
	if ((p->family != AF_INET && p->family != AF_INET6) ||
	    !inet_ntop((int)p->family, p->addr, buf, (socklen_t)len))
		snprintf(buf, len, "unknown");
	return buf;
}
