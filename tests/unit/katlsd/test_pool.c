// SPDX-License-Identifier: GPL-2.0
/*
 * test_pool.c - issue 13 item 3: the worker pool's admission (fair.c:
 * per-uid and per-peer limits, the bounded wait queue, deadlines, a dead
 * worker's entries) and the pool's control messages (privsep.h: SLOT_REQ,
 * SLOT_REP, START, and passing exactly one descriptor).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "fair.h"
#include "privsep.h"
#include "tap.h"

static struct katlsd_fair_req req(pid_t w, uint64_t tag, uint32_t uid,
				  const char *ip)
{
	struct katlsd_fair_req r;

	memset(&r, 0, sizeof(r));
	r.worker = w;
	r.tag = tag;
	r.uid = uid;
	r.fd = (int)tag + 1000;
	if (ip && inet_pton(AF_INET, ip, r.peer.addr) == 1)
		r.peer.family = AF_INET;
	else if (ip && inet_pton(AF_INET6, ip, r.peer.addr) == 1)
		r.peer.family = AF_INET6;
	return r;
}

static void test_fair_limits(void)
{
	struct katlsd_fair *f;
	struct katlsd_fair_req r, out;
	struct katlsd_fair_stats st;
	int ok;

	tap_ok(katlsd_fair_new(0, 1, 1, 1, &f) == -EINVAL &&
	       katlsd_fair_new(4, 5, 1, 1, &f) == -EINVAL &&
	       katlsd_fair_new(4, 1, 5, 1, &f) == -EINVAL &&
	       katlsd_fair_new(4, 1, 1, 0, &f) == -EINVAL,
	       "fair: limits of 0, or per-uid/per-peer over the total, refused");
	if (katlsd_fair_new(4, 2, 3, 2, &f)) {
		tap_ok(0, "fair: new");
		return;
	}
	r = req(1, 1, 100, "192.0.2.1");
	tap_ok(katlsd_fair_submit(f, &r) == 1, "fair: first request runs");
	tap_ok(katlsd_fair_submit(f, &r) == -EEXIST,
	       "fair: the same (worker, tag) twice: EEXIST");
	r = req(1, 2, 100, "192.0.2.1");
	tap_ok(katlsd_fair_submit(f, &r) == 1, "fair: second of uid 100 runs");
	r = req(2, 3, 100, "192.0.2.1");
	tap_ok(katlsd_fair_submit(f, &r) == 0,
	       "fair: third of uid 100 waits (max_per_uid 2), even from another worker");
	r = req(1, 4, 200, "192.0.2.1");
	tap_ok(katlsd_fair_submit(f, &r) == 1,
	       "fair: another uid from the same peer runs (peer has 3)");
	r = req(1, 5, 300, "192.0.2.1");
	tap_ok(katlsd_fair_submit(f, &r) == 0,
	       "fair: a fourth from that peer waits (max_per_peer 3)");
	tap_ok(katlsd_fair_uid_count(f, 100) == 2 &&
	       katlsd_fair_peer_count(f, &r.peer) == 3,
	       "fair: counts: uid 100 runs 2, the peer 3");
	r = req(2, 6, 400, "2001:db8::1");
	tap_ok(katlsd_fair_submit(f, &r) == 1,
	       "fair: another user from another peer overtakes both waiters");
	r = req(2, 7, 500, "2001:db8::2");
	tap_ok(katlsd_fair_submit(f, &r) == -EBUSY,
	       "fair: all 4 slots busy and 2 waiting: EBUSY");

	/* A slot frees, but neither waiter fits its own limit yet. */
	tap_ok(katlsd_fair_release(f, 2, 6) == 0 &&
	       katlsd_fair_release(f, 2, 6) == -ENOENT,
	       "fair: release once; twice is ENOENT");
	tap_ok(katlsd_fair_next(f, &out) == 0,
	       "fair: the flooders' waiters do not fit: the free slot stays free");
	r = req(3, 8, 600, "198.51.100.7");
	tap_ok(katlsd_fair_submit(f, &r) == 1,
	       "fair: ... and goes to a newcomer within its limits");
	/* uid 100 finishes one: its waiter (the oldest) may go, when a slot frees */
	memset(&out, 0, sizeof(out));
	ok = katlsd_fair_release(f, 1, 1) == 0 && katlsd_fair_next(f, &out) == 1 &&
	     out.tag == 3 && out.fd == 1003 && out.worker == 2;
	tap_ok(ok, "fair: uid 100 finished one: its waiter starts (tag %llu)",
	       (unsigned long long)out.tag);
	tap_ok(katlsd_fair_next(f, &out) == 0, "fair: total full again");
	tap_ok(katlsd_fair_uid_count(f, 100) == 2, "fair: uid 100 runs 2");

	/* deadlines of waiters */
	tap_ok(katlsd_fair_timeout_ms(f, 0) == -1,
	       "fair: no waiter with a deadline: no timeout");
	katlsd_fair_free(f);

	if (katlsd_fair_new(1, 1, 1, 8, &f))
		return;
	r = req(1, 1, 1, "192.0.2.1");
	katlsd_fair_submit(f, &r);
	r = req(1, 2, 2, "192.0.2.2");
	r.deadline_ms = 500;
	tap_ok(katlsd_fair_submit(f, &r) == 0, "fair: total 1: the second waits");
	r = req(1, 3, 3, "192.0.2.3");
	r.deadline_ms = 300;
	katlsd_fair_submit(f, &r);
	tap_ok(katlsd_fair_timeout_ms(f, 100) == 200,
	       "fair: timeout: the earliest waiter's deadline (200 ms)");
	tap_ok(katlsd_fair_expire(f, 299, &out) == 0,
	       "fair: nothing expires before its deadline");
	tap_ok(katlsd_fair_expire(f, 300, &out) == 1 && out.tag == 3 &&
	       katlsd_fair_expire(f, 300, &out) == 0,
	       "fair: the waiter whose deadline passed leaves the queue, only it");
	katlsd_fair_stats(f, &st);
	tap_ok(st.running == 1 && st.waiting == 1 && st.expired == 1 &&
	       st.queued == 2 && st.admitted == 1,
	       "fair: stats: running 1, waiting 1, expired 1, queued 2, admitted 1");
	katlsd_fair_free(f);
}

static int dropped_running, dropped_waiting;

static void on_drop(const struct katlsd_fair_req *r, int running, void *arg)
{
	(void)r;
	(void)arg;
	if (running)
		dropped_running++;
	else
		dropped_waiting++;
}

static void test_fair_drop_worker(void)
{
	struct katlsd_fair *f;
	struct katlsd_fair_req r, out;

	if (katlsd_fair_new(3, 3, 3, 8, &f))
		return;
	r = req(7, 1, 1, "192.0.2.1");
	katlsd_fair_submit(f, &r);
	r = req(7, 2, 1, "192.0.2.1");
	katlsd_fair_submit(f, &r);
	r = req(8, 3, 1, "192.0.2.1");
	katlsd_fair_submit(f, &r);
	r = req(7, 4, 1, "192.0.2.1");
	katlsd_fair_submit(f, &r);		/* waits */
	r = req(8, 5, 1, "192.0.2.1");
	katlsd_fair_submit(f, &r);		/* waits */
	tap_ok(katlsd_fair_drop_worker(f, 7, on_drop, NULL) == 3 &&
	       dropped_running == 2 && dropped_waiting == 1,
	       "fair: a dead worker's entries go: 2 running, 1 waiting");
	tap_ok(katlsd_fair_uid_count(f, 1) == 1 &&
	       katlsd_fair_next(f, &out) == 1 && out.tag == 5 &&
	       katlsd_fair_uid_count(f, 1) == 2,
	       "fair: its slots are free: the other worker's waiter starts");
	katlsd_fair_free(f);
}

/* The counts stay exact through many inserts and deletes (hash tables). */
static void test_fair_counts(void)
{
	enum { NP = 37, NOPS = 20000, TOTAL = 256 };
	static struct katlsd_fair_req live[TOTAL];
	unsigned int ref[NP] = { 0 }, nlive = 0, i, bad = 0;
	struct katlsd_fair *f;
	uint64_t tag = 1;

	if (katlsd_fair_new(TOTAL, TOTAL, TOTAL, 1, &f))
		return;
	srand(13);
	for (i = 0; i < NOPS; i++) {
		if (nlive < TOTAL && (nlive == 0 || rand() % 2)) {
			char ip[32];
			unsigned int p = (unsigned int)rand() % NP;
			struct katlsd_fair_req r;

			snprintf(ip, sizeof(ip), "10.%u.0.1", p);
			r = req(1, tag++, p, ip);
			if (katlsd_fair_submit(f, &r) != 1)
				bad++;
			live[nlive++] = r;
			ref[p]++;
		} else {
			unsigned int k = (unsigned int)rand() % nlive;

			if (katlsd_fair_release(f, 1, live[k].tag))
				bad++;
			ref[live[k].uid]--;
			live[k] = live[--nlive];
		}
		if (i % 97 == 0)
			for (unsigned int p = 0; p < NP; p++) {
				char ip[32];
				struct katlsd_fair_req r;

				snprintf(ip, sizeof(ip), "10.%u.0.1", p);
				r = req(1, 0, p, ip);
				if (katlsd_fair_uid_count(f, p) != ref[p] ||
				    katlsd_fair_peer_count(f, &r.peer) != ref[p])
					bad++;
			}
	}
	tap_ok(!bad, "fair: per-uid and per-peer counts exact over %d random admissions and releases (%u mismatches)",
	       NOPS, bad);
	katlsd_fair_free(f);
}

/* ---- the control messages ---- */

static struct katlsd_ipc_msg msg(uint32_t type, const uint8_t *p, size_t n)
{
	struct katlsd_ipc_msg m = { .type = type, .len = (uint32_t)n,
				    .payload = p };
	return m;
}

static void test_slot_msgs(void)
{
	uint8_t b[KATLSD_IPC_SLOT_REQ_LEN + 1];
	struct katlsd_ipc_slot_req in = { .tag = 0x1122334455667788ULL,
					  .deadline_ms = 99, .uid = 1000 },
				   out;
	struct katlsd_ipc_msg m;
	uint64_t tag;
	int32_t st;

	in.peer.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::5", in.peer.addr);
	katlsd_ipc_enc_slot_req(&in, b);
	m = msg(KATLSD_IPC_SLOT_REQ, b, KATLSD_IPC_SLOT_REQ_LEN);
	tap_ok(!katlsd_ipc_dec_slot_req(&m, &out) && out.tag == in.tag &&
	       out.deadline_ms == 99 && out.uid == 1000 &&
	       out.peer.family == AF_INET6 &&
	       !memcmp(out.peer.addr, in.peer.addr, 16),
	       "SLOT_REQ: round trip");
	m.len--;
	tap_ok(katlsd_ipc_dec_slot_req(&m, &out) == -EPROTO,
	       "SLOT_REQ: one byte short: EPROTO");
	m.len += 2;
	tap_ok(katlsd_ipc_dec_slot_req(&m, &out) == -EPROTO,
	       "SLOT_REQ: one byte long: EPROTO");
	m = msg(KATLSD_IPC_SLOT_REP, b, KATLSD_IPC_SLOT_REQ_LEN);
	tap_ok(katlsd_ipc_dec_slot_req(&m, &out) == -EPROTO,
	       "SLOT_REQ: another type: EPROTO");
	in.peer.family = 7;
	katlsd_ipc_enc_slot_req(&in, b);
	m = msg(KATLSD_IPC_SLOT_REQ, b, KATLSD_IPC_SLOT_REQ_LEN);
	tap_ok(katlsd_ipc_dec_slot_req(&m, &out) == -EPROTO && !out.tag,
	       "SLOT_REQ: unknown address family: EPROTO, nothing decoded");
	in.peer.family = AF_INET;	/* bytes 4..15 of the v6 address set */
	katlsd_ipc_enc_slot_req(&in, b);
	tap_ok(katlsd_ipc_dec_slot_req(&m, &out) == -EPROTO,
	       "SLOT_REQ: AF_INET with bytes after the 4 of the address: EPROTO");
	in.peer.family = 0;
	katlsd_ipc_enc_slot_req(&in, b);
	tap_ok(katlsd_ipc_dec_slot_req(&m, &out) == -EPROTO,
	       "SLOT_REQ: unknown peer with an address: EPROTO");
	memset(in.peer.addr, 0, 16);
	katlsd_ipc_enc_slot_req(&in, b);
	tap_ok(!katlsd_ipc_dec_slot_req(&m, &out) && out.peer.family == 0,
	       "SLOT_REQ: unknown peer (all zero) accepted");

	{
		static const int32_t good[] = { 0, 1, -EBUSY, -ETIMEDOUT };
		static const int32_t badst[] = { 2, -1, -EIO, -EPROTO, 1 << 30 };
		int ok = 1;

		for (size_t i = 0; i < 4; i++) {
			katlsd_ipc_enc_slot_rep(42, good[i], b);
			m = msg(KATLSD_IPC_SLOT_REP, b, KATLSD_IPC_SLOT_REP_LEN);
			ok &= !katlsd_ipc_dec_slot_rep(&m, &tag, &st) &&
			      tag == 42 && st == good[i];
		}
		tap_ok(ok, "SLOT_REP: 0, 1, -EBUSY, -ETIMEDOUT round trip");
		ok = 1;
		for (size_t i = 0; i < 5; i++) {
			katlsd_ipc_enc_slot_rep(42, badst[i], b);
			m = msg(KATLSD_IPC_SLOT_REP, b, KATLSD_IPC_SLOT_REP_LEN);
			ok &= katlsd_ipc_dec_slot_rep(&m, &tag, &st) == -EPROTO;
		}
		tap_ok(ok, "SLOT_REP: any other status: EPROTO");
		katlsd_ipc_enc_slot_rep(42, 0, b);
		m = msg(KATLSD_IPC_SLOT_REP, b, KATLSD_IPC_SLOT_REP_LEN - 1);
		tap_ok(katlsd_ipc_dec_slot_rep(&m, &tag, &st) == -EPROTO,
		       "SLOT_REP: short: EPROTO");
	}
}

static void test_start_msg(void)
{
	static uint8_t b[KATLSD_IPC_START_LEN];
	struct katlsd_ipc_start in, out;
	struct katlsd_ipc_msg m;

	memset(&in, 0, sizeof(in));
	in.tag = 77;
	in.role = KATLS_ROLE_SERVER;
	in.timeout_ms = 30000;
	snprintf(in.policy, sizeof(in.policy), "sim-demo");
	snprintf(in.peername, sizeof(in.peername), "host.example");
	katlsd_ipc_enc_start(&in, b);
	m = msg(KATLSD_IPC_START, b, sizeof(b));
	tap_ok(!katlsd_ipc_dec_start(&m, &out) && out.tag == 77 &&
	       out.role == KATLS_ROLE_SERVER && out.timeout_ms == 30000 &&
	       !strcmp(out.policy, "sim-demo") &&
	       !strcmp(out.peername, "host.example"),
	       "START: round trip");
	m.len = sizeof(b) - 1;
	tap_ok(katlsd_ipc_dec_start(&m, &out) == -EPROTO, "START: short: EPROTO");
	m.len = sizeof(b);
	m.type = KATLSD_IPC_SLOT_REQ;
	tap_ok(katlsd_ipc_dec_start(&m, &out) == -EPROTO,
	       "START: another type: EPROTO");
	m.type = KATLSD_IPC_START;
	b[8] = 3;			/* role 3 */
	tap_ok(katlsd_ipc_dec_start(&m, &out) == -EPROTO && !out.tag,
	       "START: unknown role: EPROTO, nothing decoded");
	katlsd_ipc_enc_start(&in, b);
	b[12] = 0xff;
	b[13] = 0xff;
	b[14] = 0xff;
	b[15] = 0x7f;
	tap_ok(katlsd_ipc_dec_start(&m, &out) == -EPROTO,
	       "START: timeout over KATLS_TIMEOUT_MAX_MS: EPROTO");
	katlsd_ipc_enc_start(&in, b);
	memset(b + 16, 'a', KATLS_POLICY_MAX);
	tap_ok(katlsd_ipc_dec_start(&m, &out) == -EPROTO,
	       "START: policy without its NUL: EPROTO");
	katlsd_ipc_enc_start(&in, b);
	b[16] = '\0';
	tap_ok(katlsd_ipc_dec_start(&m, &out) == -EPROTO,
	       "START: empty policy: EPROTO");
	katlsd_ipc_enc_start(&in, b);
	memset(b + 16 + KATLS_POLICY_MAX, 'b', KATLS_PEERNAME_MAX);
	tap_ok(katlsd_ipc_dec_start(&m, &out) == -EPROTO,
	       "START: peer name without its NUL: EPROTO");
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* Send a message with nfd descriptors (0..2) attached. */
static void send_with(int fd, int nfd)
{
	uint8_t hdr[KATLSD_IPC_HDR_LEN + 12] = { 0 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[2];
	uint32_t t = KATLSD_IPC_SLOT_REP, l = 12;

	memcpy(hdr, &t, 4);
	memcpy(hdr + 4, &l, 4);
	fds[0] = open("/dev/null", O_RDONLY);
	fds[1] = open("/dev/null", O_RDONLY);
	if (nfd) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
	}
	if (sendmsg(fd, &mh, 0) < 0)
		tap_diag("sendmsg: %s", strerror(errno));
	close(fds[0]);
	close(fds[1]);
}

static void test_fd_passing(void)
{
	uint8_t buf[64];
	struct katlsd_ipc_msg m;
	int sp[2], fd, before, ret;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp)) {
		tap_ok(0, "socketpair");
		return;
	}
	before = open_fds();
	send_with(sp[0], 0);
	ret = katlsd_ipc_recv_fd(sp[1], buf, sizeof(buf), &m, &fd);
	tap_ok(!ret && fd == -1 && m.type == KATLSD_IPC_SLOT_REP,
	       "recv_fd: a message without a descriptor: fd -1");
	send_with(sp[0], 1);
	ret = katlsd_ipc_recv_fd(sp[1], buf, sizeof(buf), &m, &fd);
	tap_ok(!ret && fd >= 0 && open_fds() == before + 1,
	       "recv_fd: one descriptor arrives");
	if (fd >= 0)
		close(fd);
	send_with(sp[0], 2);
	ret = katlsd_ipc_recv_fd(sp[1], buf, sizeof(buf), &m, &fd);
	tap_ok(ret == -EPROTO && fd == -1 && open_fds() == before,
	       "recv_fd: two descriptors: EPROTO, both closed (%d open, %d before)",
	       open_fds(), before);
	send_with(sp[0], 1);
	ret = katlsd_ipc_recv(sp[1], buf, sizeof(buf), &m);
	tap_ok(ret == -EPROTO && open_fds() == before,
	       "recv (no descriptor expected): a passed one is refused and not kept");
	fd = open("/dev/null", O_RDONLY);
	ret = katlsd_ipc_send_fd(sp[0], KATLSD_IPC_SLOT_REP, buf, 12, fd);
	close(fd);
	ret = ret ? ret : katlsd_ipc_recv_fd(sp[1], buf, sizeof(buf), &m, &fd);
	tap_ok(!ret && fd >= 0 && m.len == 12, "send_fd/recv_fd: round trip");
	if (fd >= 0)
		close(fd);
	close(sp[0]);
	ret = katlsd_ipc_recv_fd(sp[1], buf, sizeof(buf), &m, &fd);
	tap_ok(ret == -EPIPE && fd == -1, "recv_fd: closed line: EPIPE");
	close(sp[1]);
}

/* The pool's keys and their defaults (config.c). */
static void test_pool_config(void)
{
	struct katlsd_config c;
	struct katlsd_pool_limits l;
	char path[] = "/tmp/katlsd-pool-conf-XXXXXX", err[256];
	FILE *f;
	int fd;

	katlsd_config_init(&c);
	katlsd_config_pool(&c, 1, &l);
	tap_ok(l.workers == 2 && l.per_worker == 32 && l.max_per_uid == 48 &&
	       l.max_per_peer == 48 && l.max_waiting == 256,
	       "config: defaults at concurrency 64, one CPU: 2 workers of 32, 48 per uid and peer, 256 waiting");
	katlsd_config_pool(&c, 12, &l);
	tap_ok(l.workers == 12 && l.per_worker == 6,
	       "config: one worker per CPU (12: 6 handshakes each)");
	c.concurrency = 1;
	katlsd_config_pool(&c, 8, &l);
	tap_ok(l.workers == 1 && l.per_worker == 1 && l.max_per_uid == 1 &&
	       l.max_per_peer == 1,
	       "config: concurrency 1: one worker, limits at least 1");
	katlsd_config_free(&c);

	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		tap_ok(0, "config: temp file");
		return;
	}
	fputs("[katlsd]\nconcurrency = 8\nworkers = 3\nmax_per_uid = 9\n", f);
	fclose(f);
	katlsd_config_init(&c);
	tap_ok(katlsd_config_load(&c, path, err, sizeof(err)) == -1 &&
	       strstr(err, "cannot exceed concurrency"),
	       "config: max_per_uid over concurrency refused (%s)", err);
	f = fopen(path, "w");
	fputs("[katlsd]\nconcurrency = 8\nworkers = 3\nmax_per_uid = 2\nmax_per_peer = 8\nmax_waiting = 5\n", f);
	fclose(f);
	tap_ok(!katlsd_config_load(&c, path, err, sizeof(err)) &&
	       c.workers == 3 && c.max_per_uid == 2 && c.max_per_peer == 8 &&
	       c.max_waiting == 5,
	       "config: workers, max_per_uid, max_per_peer, max_waiting read");
	katlsd_config_pool(&c, 1, &l);
	tap_ok(l.workers == 3 && l.per_worker == 3 && l.max_per_uid == 2 &&
	       l.max_waiting == 5, "config: explicit values used");
	katlsd_config_free(&c);
	unlink(path);
}

int main(void)
{
	tap_plan_lazy();
	test_pool_config();
	test_fair_limits();
	test_fair_drop_worker();
	test_fair_counts();
	test_slot_msgs();
	test_start_msg();
	test_fd_passing();
	return tap_done();
}
