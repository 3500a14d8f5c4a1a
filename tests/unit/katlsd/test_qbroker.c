// SPDX-License-Identifier: GPL-2.0
/*
 * test_qbroker.c - the parent's quote broker wiring (qbroker.h): workers'
 * BROKER_REQ in over their socketpairs, report data to the quoter, one
 * report per batch, each worker's evidence with a proof that gives the
 * report data, deadlines failed at once with ETIMEDOUT, a worker that
 * goes away dropped without harming the others, a dying quoter failing
 * its batch; the worker's side (katlsd_evsrc_broker_init()) and the
 * start-up sweep of stale configfs-tsm entries.  The test plays the
 * quoter and the workers on the other ends of the socketpairs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <katls/merkle.h>

#include "evsrc_tsm.h"
#include "privsep.h"
#include "qbroker.h"
#include "tap.h"

#define NW 8

static struct katlsd_qbroker *qb;
static int quoter = -1;		/* the test's end */
static int wk[NW];		/* the test's ends of the workers' lines */
static uint8_t binder[NW][64];
static uint8_t buf[KATLSD_IPC_MAX];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Let the broker handle whatever is pending (a few rounds). */
static void pump(void)
{
	struct pollfd pfd[NW + 2];
	size_t n;
	int i;

	for (i = 0; i < 3; i++) {
		n = katlsd_qbroker_pollfds(qb, pfd, NW + 2);
		if (poll(pfd, n, 20) <= 0)
			continue;
		katlsd_qbroker_handle(qb, pfd, n);
	}
}

static void new_broker(uint32_t max_batch)
{
	int sp[2], i;

	katlsd_qbroker_free(qb);
	if (quoter >= 0)
		close(quoter);
	for (i = 0; i < NW; i++)
		if (wk[i] >= 0)
			close(wk[i]);
	katlsd_qbroker_new(max_batch, 64, &qb);
	socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
		   sp);
	quoter = sp[1];
	katlsd_qbroker_set_quoter(qb, sp[0]);
	for (i = 0; i < NW; i++) {
		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
			   SOCK_NONBLOCK, 0, sp);
		wk[i] = sp[1];
		katlsd_qbroker_add(qb, sp[0], 1000 + i);
	}
}

static int ask(int i, uint64_t deadline)
{
	return katlsd_ipc_send(wk[i], KATLSD_IPC_BROKER_REQ, binder[i], 64,
			       &deadline, 8, NULL, 0);
}

/* The report data the quoter was asked for: 1, 0 (none) or -errno. */
static int quoter_req(uint8_t rd[64])
{
	struct katlsd_ipc_msg m;
	int ret = katlsd_ipc_recv(quoter, buf, sizeof(buf), &m);

	if (ret == -EAGAIN)
		return 0;
	if (ret)
		return ret;
	if (m.type != KATLSD_IPC_EVIDENCE_REQ || m.len != 64)
		return -EPROTO;
	memcpy(rd, m.payload, 64);
	return 1;
}

/* The quoter's answer: "evidence" = the report data itself. */
static void quoter_rep(const uint8_t rd[64], int st)
{
	struct katlsd_evidence ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = KATLS_EVIDENCE_SIM;
	snprintf(ev.provider, sizeof(ev.provider), "katls_sim");
	ev.evidence = (uint8_t *)rd;
	ev.evidence_len = 64;
	katlsd_ipc_send_evidence_rep(quoter, st, st ? NULL : &ev);
}

/* Worker i's answer: 1 with status/ev, 0 if none, -errno. */
static int worker_rep(int i, int *st, struct katlsd_evidence *ev)
{
	struct katlsd_ipc_msg m;
	int ret = katlsd_ipc_recv(wk[i], buf, sizeof(buf), &m);

	memset(ev, 0, sizeof(*ev));
	if (ret == -EAGAIN)
		return 0;
	if (!ret)
		ret = katlsd_ipc_dec_evidence_rep(&m, st, ev);
	return ret ? ret : 1;
}

/* Worker i got the evidence for rd with a proof that leads to rd. */
static int got_leaf(int i, const uint8_t rd[64], uint32_t leaf,
		    uint32_t size)
{
	struct katlsd_evidence ev;
	uint8_t want[64];
	int st = -1, ok;

	ok = worker_rep(i, &st, &ev) == 1 && st == 0 &&
	     ev.evidence_len == 64 && !memcmp(ev.evidence, rd, 64) &&
	     ev.proof.leaf_index == leaf && ev.proof.tree_size == size &&
	     katls_batch_expected_report_data(binder[i], &ev.proof, want) == 0 &&
	     !memcmp(want, rd, 64);
	katlsd_evidence_free(&ev);
	return ok;
}

static int got_status(int i, int want)
{
	struct katlsd_evidence ev;
	int st = 1;

	return worker_rep(i, &st, &ev) == 1 && st == want;
}

static void test_batching(void)
{
	uint8_t rd[64], rd2[64];
	int i, ok;

	new_broker(4);
	ask(0, 0);
	pump();
	tap_ok(quoter_req(rd) == 1 && !memcmp(rd, binder[0], 64),
	       "broker: the first binder goes out at once, report data = the binder");
	for (i = 1; i <= 5; i++)
		ask(i, 0);
	pump();
	tap_ok(quoter_req(rd2) == 0,
	       "broker: at most one report in flight (5 waiters queue)");
	quoter_rep(rd, 0);
	pump();
	tap_ok(got_leaf(0, rd, 0, 1), "broker: waiter 0 gets leaf 0 of 1");
	tap_ok(quoter_req(rd2) == 1 && memcmp(rd2, binder[1], 64),
	       "broker: the next report starts when the first returns");
	quoter_rep(rd2, 0);
	pump();
	for (i = 1, ok = 1; i <= 4; i++)
		ok &= got_leaf(i, rd2, i - 1, 4);
	tap_ok(ok, "broker: max_batch 4: waiters 1..4 get leaves 0..3 of 4, each proof gives the report data");
	tap_ok(got_status(5, 1) == 0 && quoter_req(rd) == 1,
	       "broker: waiter 5 forms the next batch");
	quoter_rep(rd, 0);
	pump();
	tap_ok(got_leaf(5, rd, 0, 1), "broker: waiter 5 gets leaf 0 of 1");
}

static void test_deadline(void)
{
	uint8_t rd[64];

	new_broker(8);
	ask(0, 0);
	pump();
	quoter_req(rd);
	usleep(200 * 1000);		/* a 200 ms report */
	quoter_rep(rd, 0);
	pump();
	tap_ok(got_leaf(0, rd, 0, 1), "deadline: a 200 ms report served");
	ask(1, 0);
	pump();
	quoter_req(rd);
	/* in flight, ~200 ms expected: a deadline 50 ms away cannot be met */
	ask(2, now_ms() + 50);
	ask(3, now_ms() + 5000);
	pump();
	tap_ok(got_status(2, -ETIMEDOUT),
	       "deadline: a handshake whose deadline passes before the next report fails at once with ETIMEDOUT");
	quoter_rep(rd, 0);
	pump();
	tap_ok(got_leaf(1, rd, 0, 1) && quoter_req(rd) == 1 &&
	       !memcmp(rd, binder[3], 64),
	       "deadline: the others are served, the one with time left gets the next report");
	quoter_rep(rd, 0);
	pump();
	tap_ok(got_leaf(3, rd, 0, 1), "deadline: ... and its evidence");
}

static void test_worker_gone(void)
{
	uint8_t rd[64];
	int st;

	new_broker(8);
	ask(0, 0);
	pump();
	quoter_req(rd);
	ask(1, 0);
	ask(2, 0);
	ask(3, 0);
	pump();
	close(wk[2]);			/* a queued worker killed */
	wk[2] = -1;
	pump();
	quoter_rep(rd, 0);
	pump();
	tap_ok(got_leaf(0, rd, 0, 1) && quoter_req(rd) == 1,
	       "worker gone: the report in flight completes");
	tap_ok(!katlsd_qbroker_abandoned(qb),
	       "worker gone: the batch in flight has live waiters");
	close(wk[1]);			/* an in-flight worker killed */
	wk[1] = -1;
	pump();
	tap_ok(!katlsd_qbroker_abandoned(qb),
	       "worker gone: one of two gone, the report is not abandoned");
	quoter_rep(rd, 0);
	pump();
	tap_ok(got_leaf(3, rd, 1, 2),
	       "worker gone: the killed queued worker left the batch (2, not 3), the others complete");
	ask(7, 0);
	pump();
	quoter_req(rd);
	close(wk[7]);
	wk[7] = -1;
	pump();
	tap_ok(katlsd_qbroker_abandoned(qb),
	       "worker gone: every waiter of the report in flight gone: abandoned");
	quoter_rep(rd, 0);
	pump();
	tap_ok(!katlsd_qbroker_abandoned(qb), "worker gone: ... until it returns");
	katlsd_qbroker_remove(qb, 1004);
	ask(4, 0);
	pump();
	tap_ok(worker_rep(4, &st, &(struct katlsd_evidence){0}) == -EPIPE,
	       "worker gone: a reaped worker's line is closed");

	/* a malformed request drops the worker */
	katlsd_ipc_send(wk[5], KATLSD_IPC_BROKER_REQ, binder[5], 63, NULL, 0,
			NULL, 0);
	pump();
	tap_ok(worker_rep(5, &st, &(struct katlsd_evidence){0}) == -EPIPE &&
	       quoter_req(rd) == 0,
	       "worker gone: a malformed request closes that worker's line, no report");
	/* two requests from one worker */
	ask(6, 0);
	ask(6, 0);
	pump();
	tap_ok(quoter_req(rd) == 1 &&
	       worker_rep(6, &st, &(struct katlsd_evidence){0}) == -EPIPE,
	       "worker gone: a second request while waiting closes the line");
	quoter_rep(rd, 0);
	pump();
}

static void test_quoter(void)
{
	struct katlsd_qbroker_stats s;
	uint8_t rd[64];

	new_broker(8);
	ask(0, 0);
	pump();
	quoter_req(rd);
	ask(1, 0);
	pump();
	quoter_rep(rd, -EBUSY);
	pump();
	tap_ok(got_status(0, -EBUSY),
	       "quoter: a failed report fails its batch with its status");
	tap_ok(quoter_req(rd) == 1, "quoter: ... and the next batch starts");
	close(quoter);			/* the quoter dies mid-report */
	quoter = -1;
	pump();
	tap_ok(got_status(1, -EIO) && !katlsd_qbroker_has_quoter(qb),
	       "quoter: one that dies during a report fails its batch with EIO");
	ask(2, 0);
	pump();
	tap_ok(got_status(2, 1) == 0,
	       "quoter: without a quoter waiters queue");
	{
		int sp[2];

		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp);
		quoter = sp[1];
		katlsd_qbroker_set_quoter(qb, sp[0]);
	}
	tap_ok(quoter_req(rd) == 1 && !memcmp(rd, binder[2], 64),
	       "quoter: a new quoter takes the queue");
	quoter_rep(rd, 0);
	pump();
	tap_ok(got_leaf(2, rd, 0, 1), "quoter: ... and serves it");
	katlsd_qbroker_stats(qb, &s);
	tap_ok(s.reports == 3 && s.failed == 2 && s.served == 1 &&
	       s.largest == 1,
	       "quoter: counters (reports %llu, failed %llu, served %llu)",
	       (unsigned long long)s.reports, (unsigned long long)s.failed,
	       (unsigned long long)s.served);
	tap_ok(katlsd_qbroker_new(0, 8, &(struct katlsd_qbroker *){0}) ==
	       -EINVAL &&
	       katlsd_qbroker_new(KATLSD_MAX_MAX_BATCH + 1, 8,
				  &(struct katlsd_qbroker *){0}) == -EINVAL,
	       "max_batch 0 and over the maximum refused");
}

/* The worker's side: BROKER_REQ with binder and deadline, the reply. */
static void test_client(void)
{
	struct katlsd_evidence_source src;
	struct katlsd_evidence ev, out;
	struct katlsd_ipc_msg m;
	uint8_t b[64], got[64];
	uint64_t dl;
	int sp[2], ret;

	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp);
	memset(b, 0x5a, 64);
	memset(&ev, 0, sizeof(ev));
	ev.type = KATLS_EVIDENCE_SIM;
	ev.evidence = b;
	ev.evidence_len = 64;
	katls_merkle_proof_single(&ev.proof);
	katlsd_ipc_send_evidence_rep(sp[1], 0, &ev);	/* queued first */
	katlsd_evsrc_broker_init(&src, sp[0], 123456);
	ret = src.get(src.arg, b, &out);
	tap_ok(ret == 0 && out.evidence_len == 64 && out.proof.tree_size == 1,
	       "worker side: evidence and proof from the broker");
	katlsd_evidence_free(&out);
	ret = katlsd_ipc_recv(sp[1], buf, sizeof(buf), &m);
	memset(got, 0, 64);
	dl = 0;
	if (!ret)
		ret = katlsd_ipc_dec_broker_req(&m, got, &dl);
	tap_ok(ret == 0 && !memcmp(got, b, 64) && dl == 123456,
	       "worker side: the request carries the binder and the deadline");
	katlsd_ipc_send_evidence_rep(sp[1], -ETIMEDOUT, NULL);
	tap_ok(src.get(src.arg, b, &out) == -ETIMEDOUT,
	       "worker side: ETIMEDOUT from the broker is the source's status");
	katlsd_ipc_recv(sp[1], buf, sizeof(buf), &m);
	close(sp[1]);
	tap_ok(src.get(src.arg, b, &out) == -EIO,
	       "worker side: a broker that went away is EIO");
	close(sp[0]);
}

/* Start-up: katls-PID-* of processes that are gone are removed. */
static void test_sweep(void)
{
	char dir[] = "/tmp/katlsd-sweep-XXXXXX", p1[PATH_MAX], p2[PATH_MAX],
	     p3[PATH_MAX];
	pid_t dead;

	if (!tap_ok(mkdtemp(dir) != NULL, "sweep: temp directory"))
		return;
	dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(p1, sizeof(p1), "%s/katls-%d-7", dir, (int)dead);
	snprintf(p2, sizeof(p2), "%s/katls-%d-1", dir, (int)getpid());
	snprintf(p3, sizeof(p3), "%s/other-%d-1", dir, (int)dead);
	mkdir(p1, 0700);
	mkdir(p2, 0700);
	mkdir(p3, 0700);
	katlsd_evsrc_tsm_sweep_stale(dir);
	tap_ok(access(p1, F_OK) && errno == ENOENT,
	       "sweep: the entry of a process that is gone is removed");
	tap_ok(!access(p2, F_OK),
	       "sweep: the entry of a live process is kept");
	tap_ok(!access(p3, F_OK), "sweep: entries not named katls-* are kept");
	rmdir(p1);
	rmdir(p2);
	rmdir(p3);
	rmdir(dir);
}

int main(void)
{
	int i, j;

	tap_plan_lazy();
	for (i = 0; i < NW; i++)
		wk[i] = -1;
	for (i = 0; i < NW; i++)
		for (j = 0; j < 64; j++)
			binder[i][j] = (uint8_t)(i * 64 + j);
	test_batching();
	test_deadline();
	test_worker_gone();
	test_quoter();
	test_client();
	test_sweep();
	katlsd_qbroker_free(qb);
	if (quoter >= 0)
		close(quoter);
	for (i = 0; i < NW; i++)
		if (wk[i] >= 0)
			close(wk[i]);
	return tap_done();
}
