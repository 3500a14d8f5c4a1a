// SPDX-License-Identifier: GPL-2.0
/*
 * bench_handshake - TLS 1.3 handshake rate and latency: attested (katls
 * sockets served by a running katlsd with the simulated TSM provider)
 * against bare GnuTLS, with the same driver and the same number of
 * handshake processes.
 *
 *   bench_handshake run [-t SECS] [-w WORKERS] [-p POLICY] [-i LIST]
 *                       [-d DELAY_MS] [-q QUOTE_MS] [-l KATLSD_LOG]
 *                       [-P POST_POLICY] [-o CSV]
 *   bench_handshake mem [-n N] [-o CSV]
 *
 * run: for each number of handshakes in flight (-i, default 1,8,64,512)
 * the driver keeps that many loopback connections handshaking for SECS
 * seconds, in two modes, interleaved:
 *
 *   attested  both ends opt in to katls and request (client, server);
 *             katlsd does the attested handshake and hands the keys
 *             over; done when both ends are OPEN
 *   bare      both ends go, with SCM_RIGHTS, to a pool of WORKERS
 *             processes (katlsd's concurrency) that run a plain GnuTLS
 *             TLS 1.3 handshake with katlsd's priority string and an
 *             ECDSA P-256 certificate verified by the client; done when
 *             both ends report
 *
 * Latency runs from the start of a connection's handshake to the end of
 * both sides; the rate is completed handshakes over the wall time until
 * the last one ends.  A phase lasts SECS, longer (up to 4 x SECS) until
 * MIN_SAMPLES handshakes were measured.  Then the slow-quote experiment (8 in flight): the
 * others' p99 without and with one pair whose quote takes DELAY_MS
 * (katls_sim_tsm's delay_ms, default 2000).
 *
 * Post-handshake attestation (-P POST_POLICY, a policy with "binding
 * post"; issue 14): 64 in flight with instant quotes, bare (mode
 * "bare-post") then attested under POST_POLICY (mode "attested-post"),
 * one right after the other: the ratio of the two rates is the cost of
 * the Exported Authenticator exchange (one more round trip, a signature
 * and its verification, the exporter values) on top of the handshake.
 *
 * Realistic quotes (-q QUOTE_MS, default 50; 0 skips): 64 in flight,
 * attested with delay_ms = QUOTE_MS (mode "attested-quote<Q>ms"), then
 * bare (pays no quote; mode "bare-quote<Q>ms") right after.  With -l, the
 * katlsd log (log_level info) written during the attested phase gives
 * the quote broker's batch sizes: every completed report logs "quote
 * broker: report for a batch of N: <status> (<ms> ms)"; the row
 * "batch-quote<Q>ms" has handshakes = reports, rate = mean N, p50_ms =
 * largest N.
 *
 * mem: kernel memory (Slab + page tables + percpu from /proc/meminfo)
 * per socket with a pending request, over N loopback pairs: opted-in
 * clients with requests against the same pairs without katls.  Must run
 * while no katlsd runs (a forked listener keeps the requests pending).
 *
 * -M attested|bare: only that mode, at the first count of -i, and no other
 * phase (the workload of tools/bench/hs.sh's profile).
 *
 * CSV columns: mode,inflight,handshakes,seconds,rate,p50_ms,p99_ms,errors
 * (mem rows: mode "mem", inflight N, rate = bytes per pending socket).
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include "bench_common.h"

#define MAX_INFLIGHT 1024
#define MIN_SAMPLES 40

static double opt_secs = 3.0;
static int opt_workers = 64;
static const char *opt_policy = "sim-demo";
static const char *opt_post_policy;	/* -P: binding = post */
static int opt_only = -1;	/* -M: that mode at the first -i count, nothing else */
static const char *cur_policy;		/* what slot_start() asks for */
static int opt_delay_ms = 2000;
static int opt_quote_ms = 50;
static const char *opt_log;
static FILE *csv;
static struct bench_cred cred;

/* ---- bare GnuTLS worker pool ---- */

struct job {
	int slot;
	int client;
};

struct job_done {
	int slot;
	int client;
	int ok;
};

static int pool_sock = -1;	/* the driver's end */
static pid_t pool_pids[MAX_INFLIGHT];
static int pool_n;

static int send_fd(int sock, const struct job *j, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)j, .iov_len = sizeof(*j) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == sizeof(*j) ? 0 : -1;
}

static int recv_fd(int sock, struct job *j)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = j, .iov_len = sizeof(*j) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd = -1;
	ssize_t n;

	do {
		n = recvmsg(sock, &mh, 0);
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(*j))
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static int bare_handshake(int fd, bool client)
{
	gnutls_session_t s;
	int r;

	if (gnutls_init(&s, (client ? GNUTLS_CLIENT : GNUTLS_SERVER) |
			GNUTLS_NO_TICKETS) < 0)
		return 0;
	r = gnutls_priority_set_direct(s, KATLS_GNUTLS_PRIORITY, NULL);
	if (r >= 0)
		r = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
					   client ? cred.client : cred.server);
	if (r >= 0) {
		if (client)
			gnutls_session_set_verify_cert(s, NULL, 0);
		gnutls_transport_set_int(s, fd);
		gnutls_handshake_set_timeout(s, 30000);
		do {
			r = gnutls_handshake(s);
		} while (r < 0 && !gnutls_error_is_fatal(r));
	}
	gnutls_deinit(s);
	return r >= 0;
}

static void worker(int sock)
{
	struct job j;
	struct job_done d;
	int fd;

	for (;;) {
		fd = recv_fd(sock, &j);
		if (fd < 0)
			_exit(0);	/* the driver closed the pool */
		d.slot = j.slot;
		d.client = j.client;
		d.ok = bare_handshake(fd, j.client);
		close(fd);
		if (!write_all(sock, &d, sizeof(d)))
			_exit(1);
	}
}

static void pool_start(int n)
{
	int sv[2], i, big = 4 << 20;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		die("socketpair");
	for (i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	}
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (!pid) {
			close(sv[0]);
			worker(sv[1]);
		}
		pool_pids[i] = pid;
	}
	pool_n = n;
	close(sv[1]);
	pool_sock = sv[0];
}

static void pool_stop(void)
{
	int i;

	close(pool_sock);
	for (i = 0; i < pool_n; i++)
		bench_wait(pool_pids[i]);
	pool_n = 0;
}

/* ---- the driver ---- */

enum mode { M_BARE, M_ATTESTED };

struct slot {
	int a, b;		/* client, server */
	int done;		/* bare: sides done; attested: bit per end */
	bool busy, failed, slow;
	double start;
};

struct stats {
	double *lat;		/* ms */
	int n, cap, errors;
	double slow_ms;		/* latency of the slow pair, if any */
	int slow_state;
};

static void stat_add(struct stats *st, double ms)
{
	if (st->n == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 1024;
		st->lat = realloc(st->lat, st->cap * sizeof(double));
		if (!st->lat)
			die("realloc");
	}
	st->lat[st->n++] = ms;
}

static double pct(double *v, int n, double p)
{
	int i;

	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (int)ceil(p / 100.0 * n) - 1;
	return v[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static int slot_start(enum mode m, struct slot *s)
{
	int err;

	tcp_pair(AF_INET, &s->a, &s->b);
	s->done = 0;
	s->failed = false;
	s->busy = true;
	s->start = now_s();
	if (m == M_BARE)
		return 0;
	set_nonblock(s->a, true);
	set_nonblock(s->b, true);
	err = bench_attach(s->a, KATLS_ROLE_CLIENT, cur_policy, 60000);
	if (!err)
		err = bench_attach(s->b, KATLS_ROLE_SERVER, cur_policy, 60000);
	return err;
}

static int bare_submit(struct slot *s, int idx)
{
	struct job jc = { .slot = idx, .client = 1 };
	struct job js = { .slot = idx, .client = 0 };

	if (send_fd(pool_sock, &jc, s->a) || send_fd(pool_sock, &js, s->b))
		return errno ? errno : EIO;
	/* The workers have their own copies now. */
	close(s->a);
	close(s->b);
	s->a = s->b = -1;
	return 0;
}

static void slot_end(struct slot *s)
{
	if (s->a >= 0)
		close(s->a);
	if (s->b >= 0)
		close(s->b);
	s->a = s->b = -1;
	s->busy = false;
}

/*
 * Keep `inflight` handshakes going for opt_secs; with slow, slot 0 is
 * started first with the provider's delay set, then the delay is reset
 * and the others run (they are what st measures).
 */
static void drive(enum mode m, int inflight, bool slow, struct stats *st)
{
	static struct slot slots[MAX_INFLIGHT + 1];
	static struct pollfd pfd[2 * (MAX_INFLIGHT + 1)];
	int total = inflight + (slow ? 1 : 0), i, active = 0, err;
	double end;

	memset(st, 0, sizeof(*st));
	st->slow_ms = NAN;
	for (i = 0; i < total; i++)
		slots[i] = (struct slot){ .a = -1, .b = -1 };
	if (slow) {
		char v[16];
		FILE *f;

		snprintf(v, sizeof(v), "%d", opt_delay_ms);
		f = fopen("/sys/module/katls_sim_tsm/parameters/delay_ms", "w");
		if (!f || fputs(v, f) < 0 || fclose(f)) {
			fprintf(stderr, "cannot set delay_ms\n");
			st->errors++;
			return;
		}
		slots[0].slow = true;
		err = slot_start(m, &slots[0]);
		if (err)
			st->errors++;
		active++;
		/* Let both ends of the slow pair reach their quote. */
		msleep(500);
		f = fopen("/sys/module/katls_sim_tsm/parameters/delay_ms", "w");
		if (!f || fputs("0", f) < 0 || fclose(f))
			fprintf(stderr, "cannot reset delay_ms\n");
	}
	end = now_s() + opt_secs;
	for (i = slow ? 1 : 0; i < total; i++) {
		err = slot_start(m, &slots[i]);
		if (!err && m == M_BARE)
			err = bare_submit(&slots[i], i);
		if (err) {
			st->errors++;
			slot_end(&slots[i]);
			continue;
		}
		active++;
	}
	while (active) {
		int np = 0, r, k, nfin = 0;
		static int fin[MAX_INFLIGHT + 1], pslot[2 * (MAX_INFLIGHT + 1)];

		/* Never hang on a lost worker or request: give up late. */
		if (now_s() > end + 3 * opt_secs + 120) {
			fprintf(stderr, "%d handshakes never finished\n", active);
			if (m == M_BARE)
				exit(2);	/* the pool's state is unknown */
			for (i = 0; i < total; i++) {
				if (slots[i].busy) {
					st->errors++;
					slot_end(&slots[i]);
				}
			}
			break;
		}

		if (m == M_BARE) {
			struct job_done d;

			pfd[0] = (struct pollfd){ .fd = pool_sock, .events = POLLIN };
			r = poll(pfd, 1, 1000);
			if (r <= 0)
				continue;
			if (!read_all(pool_sock, &d, sizeof(d)) || d.slot < 0 ||
			    d.slot >= total)
				die("pool");
			i = d.slot;
			if (!d.ok)
				slots[i].failed = true;
			if (++slots[i].done < 2)
				continue;
			fin[nfin++] = i;
		} else {
			for (i = 0; i < total; i++) {
				if (!slots[i].busy)
					continue;
				/* An end already out of PENDING stays
				 * writable: poll only the other one. */
				pslot[np] = i;
				pfd[np++] = (struct pollfd){
					.fd = slots[i].done & 1 ? -1 : slots[i].a,
					.events = POLLOUT };
				pslot[np] = i;
				pfd[np++] = (struct pollfd){
					.fd = slots[i].done & 2 ? -1 : slots[i].b,
					.events = POLLOUT };
			}
			r = poll(pfd, np, 100);
			/*
			 * Check the pairs with an event (all of them after a
			 * quiet 100 ms): done when both ends left PENDING.
			 */
			for (k = 0; k < np; k += 2) {
				struct katls_result ra, rb;

				i = pslot[k];
				if (r > 0 && !pfd[k].revents && !pfd[k + 1].revents)
					continue;
				ra = result(slots[i].a);
				rb = result(slots[i].b);
				if (ra.state == KATLS_STATE_OPEN ||
				    ra.state == KATLS_STATE_FAILED)
					slots[i].done |= 1;
				if (rb.state == KATLS_STATE_OPEN ||
				    rb.state == KATLS_STATE_FAILED)
					slots[i].done |= 2;
				if (slots[i].done != 3)
					continue;
				slots[i].failed = ra.state != KATLS_STATE_OPEN ||
						  rb.state != KATLS_STATE_OPEN;
				if (slots[i].failed && !slots[i].slow)
					fprintf(stderr, "attested handshake failed: state %u/%u status %d/%d\n",
						ra.state, rb.state, ra.status,
						rb.status);
				fin[nfin++] = i;
			}
		}
		for (k = 0; k < nfin; k++) {
			double ms;

			i = fin[k];
			ms = (now_s() - slots[i].start) * 1000;
			if (slots[i].slow) {
				st->slow_ms = ms;
				st->slow_state = slots[i].failed ? -1 : 1;
			} else if (slots[i].failed) {
				st->errors++;
			} else {
				stat_add(st, ms);
			}
			slot_end(&slots[i]);
			active--;
			/*
			 * Go on until SECS have passed and at least
			 * MIN_SAMPLES handshakes were measured (so that
			 * p50/p99 at 1 in flight mean something), but
			 * never past 4 x SECS.
			 */
			if (slots[i].slow ||
			    (now_s() >= end &&
			     (st->n >= MIN_SAMPLES || now_s() >= end + 3 * opt_secs)))
				continue;
			err = slot_start(m, &slots[i]);
			if (!err && m == M_BARE)
				err = bare_submit(&slots[i], i);
			if (err) {
				st->errors++;
				slot_end(&slots[i]);
			} else {
				active++;
			}
		}
	}
}

static void report(const char *mode, int inflight, struct stats *st,
		   double secs)
{
	double p50 = pct(st->lat, st->n, 50), p99 = pct(st->lat, st->n, 99);
	double rate = st->n / secs;

	printf("%-10s inflight %3d: %6d handshakes in %5.2f s = %7.1f/s  p50 %8.2f ms  p99 %8.2f ms  errors %d\n",
	       mode, inflight, st->n, secs, rate, p50, p99, st->errors);
	if (csv) {
		fprintf(csv, "%s,%d,%d,%.3f,%.3f,%.3f,%.3f,%d\n", mode, inflight,
			st->n, secs, rate, p50, p99, st->errors);
		fflush(csv);
	}
	free(st->lat);
	st->lat = NULL;
}

static void run_one(enum mode m, int inflight)
{
	struct stats st;
	double t0 = now_s();

	drive(m, inflight, false, &st);
	report(m == M_BARE ? "bare" : "attested", inflight, &st, now_s() - t0);
}

static int set_delay(int ms)
{
	FILE *f = fopen("/sys/module/katls_sim_tsm/parameters/delay_ms", "w");

	if (!f || fprintf(f, "%d", ms) < 0 || fclose(f)) {
		fprintf(stderr, "cannot set delay_ms to %d\n", ms);
		return -1;
	}
	return 0;
}

static long file_size(const char *path)
{
	struct stat sb;

	return path && !stat(path, &sb) ? (long)sb.st_size : -1;
}

/*
 * Mean batch size of the reports katlsd completed in its log from
 * offset off to offset end: lines "report for a batch of N: ..." (the
 * line without ':' after N is the start of a report, not counted).
 */
static void batch_sizes(long off, long end, const char *mode)
{
	static const char key[] = "report for a batch of ";
	unsigned long sum = 0, n = 0, largest = 0;
	char line[1024];
	FILE *f;

	if (off < 0 || end < off || !(f = fopen(opt_log, "r"))) {
		printf("%s: katlsd log not readable: no batch sizes\n", mode);
		return;
	}
	fseek(f, off, SEEK_SET);
	while (ftell(f) < end && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, key), *e;
		unsigned long b;

		if (!p)
			continue;
		b = strtoul(p + sizeof(key) - 1, &e, 10);
		if (e == p + sizeof(key) - 1 || *e != ':')
			continue;
		sum += b;
		n++;
		if (b > largest)
			largest = b;
	}
	fclose(f);
	printf("%-10s inflight  64: %lu reports, mean batch %.2f, largest %lu\n",
	       mode, n, n ? (double)sum / n : NAN, largest);
	if (csv) {
		fprintf(csv, "%s,64,%lu,0,%.3f,%lu,%.3f,0\n", mode, n,
			n ? (double)sum / n : NAN, largest, NAN);
		fflush(csv);
	}
}

static void run_quote(void)
{
	char mode[48], bmode[48], qmode[48];
	struct stats st;
	long off, end;
	double t0;

	snprintf(mode, sizeof(mode), "attested-quote%dms", opt_quote_ms);
	snprintf(bmode, sizeof(bmode), "bare-quote%dms", opt_quote_ms);
	snprintf(qmode, sizeof(qmode), "batch-quote%dms", opt_quote_ms);
	if (set_delay(opt_quote_ms))
		return;
	off = file_size(opt_log);
	t0 = now_s();
	drive(M_ATTESTED, 64, false, &st);
	report(mode, 64, &st, now_s() - t0);
	/* Reports still in flight end within one quote time. */
	msleep(3 * opt_quote_ms + 200);
	end = file_size(opt_log);
	if (set_delay(0))
		return;
	t0 = now_s();
	drive(M_BARE, 64, false, &st);
	report(bmode, 64, &st, now_s() - t0);
	if (opt_log)
		batch_sizes(off, end, qmode);
}

/*
 * binding = post at 64 in flight, instant quotes: bare right before
 * attested, as for the realistic quotes (the ratio is within one boot).
 */
static void run_post(void)
{
	struct stats st;
	double t0;

	t0 = now_s();
	drive(M_BARE, 64, false, &st);
	report("bare-post", 64, &st, now_s() - t0);
	cur_policy = opt_post_policy;
	t0 = now_s();
	drive(M_ATTESTED, 64, false, &st);
	report("attested-post", 64, &st, now_s() - t0);
	cur_policy = opt_policy;
}

static int cmd_run(int *inflights, int ninf)
{
	struct stats st;
	double t0;
	int i;

	pool_start(opt_workers);
	if (opt_only >= 0) {	/* a profile's workload (tools/bench/hs.sh) */
		run_one(opt_only, inflights[0]);
		pool_stop();
		return 0;
	}
	for (i = 0; i < ninf; i++) {
		/* Alternate which mode goes first. */
		if (i % 2) {
			run_one(M_ATTESTED, inflights[i]);
			run_one(M_BARE, inflights[i]);
		} else {
			run_one(M_BARE, inflights[i]);
			run_one(M_ATTESTED, inflights[i]);
		}
	}
	if (opt_post_policy)
		run_post();
	if (opt_quote_ms > 0)
		run_quote();
	pool_stop();

	/* Slow quote: the others' latency without and with it. */
	t0 = now_s();
	drive(M_ATTESTED, 8, false, &st);
	report("slow-off", 8, &st, now_s() - t0);
	t0 = now_s();
	drive(M_ATTESTED, 8, true, &st);
	printf("slow pair: %s after %.0f ms (delay_ms %d)\n",
	       st.slow_state > 0 ? "OPEN" : "FAILED", st.slow_ms, opt_delay_ms);
	if (!(st.slow_ms >= opt_delay_ms))
		printf("warning: the slow pair did not take delay_ms; the slow-quote figure is not valid\n");
	report(st.slow_ms >= opt_delay_ms ? "slow-on" : "slow-invalid", 8, &st,
	       now_s() - t0);
	return 0;
}

/* ---- kernel memory per pending socket ---- */

static long long meminfo_kb(void)
{
	static const char *const keys[] = {
		"Slab:", "PageTables:", "Percpu:", "KernelStack:",
	};
	char line[256];
	long long sum = 0, v;
	unsigned int i;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t l = strlen(keys[i]);

			if (!strncmp(line, keys[i], l) &&
			    sscanf(line + l, "%lld", &v) == 1)
				sum += v;
		}
	}
	fclose(f);
	return sum;
}

static void settle(void)
{
	FILE *f;

	sync();
	msleep(300);
	/* Drop reclaimable slab (dentries of /proc reads) to lower noise. */
	f = fopen("/proc/sys/vm/drop_caches", "w");
	if (f) {
		fputs("2", f);
		fclose(f);
	}
	msleep(300);
}

static int cmd_mem(int n)
{
	struct rlimit rl = { 4 * n + 64, 4 * n + 64 };
	int *fds = calloc(2 * n, sizeof(int));
	long long base, plain, pending, pend_cnt;
	struct linger lg = { 1, 0 };
	int i, ok = 0, rp[2];
	pid_t lis;
	char c;

	if (!fds || setrlimit(RLIMIT_NOFILE, &rl))
		die("setup");
	/* A listener that never accepts: requests stay pending. */
	if (pipe(rp))
		die("pipe");
	lis = fork();
	if (!lis) {
		struct katls_agent a;

		if (katls_agent_listen(&a) || write(rp[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(rp[0], &c, 1) != 1)
		die("listener");
	settle();
	base = meminfo_kb();
	for (i = 0; i < n; i++)
		tcp_pair(AF_INET, &fds[2 * i], &fds[2 * i + 1]);
	settle();
	plain = meminfo_kb();
	pend_cnt = katls_stat("pending");
	for (i = 0; i < n; i++) {
		set_nonblock(fds[2 * i], true);
		if (!bench_attach(fds[2 * i], KATLS_ROLE_CLIENT, "p", 120000))
			ok++;
	}
	settle();
	pending = meminfo_kb();
	printf("mem: %d loopback pairs: %.0f bytes per pair (plain TCP)\n", n,
	       (plain - base) * 1024.0 / n);
	printf("mem: %d pending katls requests (%lld in /proc/net/katls_stat): %.0f bytes per pending socket on top of TCP\n",
	       ok, katls_stat("pending") - pend_cnt,
	       (pending - plain) * 1024.0 / (ok ? ok : 1));
	if (csv)
		fprintf(csv, "mem,%d,%d,,%.1f,,,%d\n", n, ok,
			(pending - plain) * 1024.0 / (ok ? ok : 1), n - ok);
	for (i = 0; i < 2 * n; i++) {
		setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fds[i]);
	}
	kill(lis, SIGTERM);
	bench_wait(lis);
	free(fds);
	return ok == n ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_handshake run [-t SECS] [-w WORKERS] [-p POLICY] [-i LIST] [-d DELAY_MS]\n"
		"                           [-q QUOTE_MS] [-l KATLSD_LOG] [-P POST_POLICY] [-o CSV]\n"
		"                           [-M attested|bare]\n"
		"       bench_handshake mem [-n N] [-o CSV]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int inflights[8] = { 1, 8, 64, 512 }, ninf = 4, n = 1000, opt, rc;
	const char *csv_path = NULL, *cmd;
	struct rlimit rl = { 8192, 8192 };
	char *tok, *save;

	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "t:w:p:i:d:q:l:o:n:P:M:")) != -1) {
		switch (opt) {
		case 't':
			opt_secs = strtod(optarg, NULL);
			if (!(opt_secs > 0 && opt_secs < 600))
				usage();
			break;
		case 'w':
			opt_workers = atoi(optarg);
			if (opt_workers < 2 || opt_workers > MAX_INFLIGHT)
				usage();
			break;
		case 'p':
			opt_policy = optarg;
			break;
		case 'P':
			opt_post_policy = optarg;
			break;
		case 'M':
			if (!strcmp(optarg, "attested"))
				opt_only = M_ATTESTED;
			else if (!strcmp(optarg, "bare"))
				opt_only = M_BARE;
			else
				usage();
			break;
		case 'd':
			opt_delay_ms = atoi(optarg);
			if (opt_delay_ms < 1)
				usage();
			break;
		case 'q':
			opt_quote_ms = atoi(optarg);
			if (opt_quote_ms < 0 || opt_quote_ms > 60000)
				usage();
			break;
		case 'l':
			opt_log = optarg;
			break;
		case 'i':
			ninf = 0;
			for (tok = strtok_r(optarg, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (ninf == 8)
					usage();
				inflights[ninf] = atoi(tok);
				if (inflights[ninf] < 1 ||
				    inflights[ninf] > MAX_INFLIGHT)
					usage();
				ninf++;
			}
			break;
		case 'o':
			csv_path = optarg;
			break;
		case 'n':
			n = atoi(optarg);
			if (n < 1 || n > 100000)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("setrlimit");
	if (csv_path) {
		bool fresh = access(csv_path, F_OK) != 0;

		csv = fopen(csv_path, "a");
		if (!csv)
			die(csv_path);
		if (fresh)
			fprintf(csv, "mode,inflight,handshakes,seconds,rate,p50_ms,p99_ms,errors\n");
	}
	cur_policy = opt_policy;
	if (!strcmp(cmd, "run")) {
		bench_cred_init(&cred);
		rc = cmd_run(inflights, ninf);
		bench_cred_free(&cred);
	} else if (!strcmp(cmd, "mem")) {
		rc = cmd_mem(n);
	} else {
		usage();
	}
	if (csv)
		fclose(csv);
	return rc;
}
