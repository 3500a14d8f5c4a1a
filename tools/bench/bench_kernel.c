// SPDX-License-Identifier: GPL-2.0
/*
 * bench_kernel - issue 13 item 4: do DONE and the release of an unrelated
 * NETLINK_GENERIC socket cost the same with 1k and with 100k opted-in
 * sockets?  Runs as root in the guest (tools/bench/guest.sh), against
 * katls.ko, with a minimal agent of its own written on raw generic
 * netlink (no library).
 *
 * For each filler size F (default 1000, then 100000): F opted-in loopback
 * client sockets (idle; with -H each is also handed over through ACCEPT
 * and DONE, which needs much more guest memory), then
 *   - DONE latency: -n handshakes (request, ACCEPT, then DONE timed
 *     alone), median;
 *   - genl close cost: -k bound NETLINK_GENERIC sockets that never talked
 *     to katls, each close() timed, median.
 * Prints the figures and
 *   target kernel-done-latency-100k/1k: R (goal <= 1.50) met|not met
 *   target genl-close-cost-100k/1k: R (goal <= 1.50) met|not met
 * A benchmark, not a test: the exit status only says whether it ran.
 *
 * Usage: bench_kernel [-s SMALL] [-l LARGE] [-n SAMPLES] [-k CLOSES] [-H]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/katls.h>
#include <linux/netlink.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <katls/agent.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the agent protocol (libkatlsagent) ---- */

struct accepted {
	uint64_t id;
	int fd;
};

static struct accepted do_accept(struct katls_agent *ag)
{
	struct katls_agent_request req;
	int err = katls_agent_accept(ag, &req);

	if (err) {
		errno = -err;
		die("ACCEPT");
	}
	return (struct accepted){ req.id, req.fd };
}

/*
 * DONE with status 0, a summary and fixed AES-128-GCM keys; the time of
 * katls_agent_done() (message built and sent, ack received).  Building
 * costs the same at every size, so the 100k/1k ratio is the kernel's.
 */
static double do_done(struct katls_agent *ag, uint64_t id)
{
	struct katls_agent_done d = { .id = id };
	double t0, t1;
	int err;

	d.keys.tx.aes128.info.version = TLS_1_3_VERSION;
	d.keys.tx.aes128.info.cipher_type = TLS_CIPHER_AES_GCM_128;
	d.keys.rx = d.keys.tx;
	d.keys.len = sizeof(d.keys.tx.aes128);
	d.summary.evidence_type = KATLS_EVIDENCE_SIM;
	d.summary.binding_level = KATLS_BINDING_L2;
	d.summary.digest[0] = 1;
	d.summary.measurement[0] = 2;
	d.summary.measurement_len = 48;
	strcpy(d.summary.policy, "bench");
	t0 = now_ns();
	err = katls_agent_done(ag, &d);
	t1 = now_ns();
	katls_agent_done_wipe(&d);
	if (err) {
		errno = -err;
		die("DONE");
	}
	return t1 - t0;
}

/* ---- sockets ---- */

static int lfd;
static struct sockaddr_in laddr;
static uint32_t next_src = 1;

/* A loopback pair from its own source address (no port exhaustion). */
static void pair(int *c, int *s)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	int one = 1;

	src.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | next_src++);
	*c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*c < 0 || bind(*c, (struct sockaddr *)&src, sizeof(src)) ||
	    connect(*c, (struct sockaddr *)&laddr, sizeof(laddr)))
		die("connect");
	*s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*s < 0)
		die("accept");
	setsockopt(*c, SOL_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int request(int c)
{
	struct katls_request req = { .role = KATLS_ROLE_CLIENT,
				     .timeout_ms = 300000 };

	strcpy(req.policy, "bench");
	if (setsockopt(c, SOL_TCP, TCP_ULP, KATLS_ULP_NAME,
		       sizeof(KATLS_ULP_NAME)))
		return -1;
	fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
	if (!setsockopt(c, SOL_KATLS, KATLS_REQUEST, &req, sizeof(req)) ||
	    errno != EINPROGRESS)
		return -1;
	return 0;
}

static int *filler;
static int nfiller;

static void grow_filler(int to, bool handover, struct katls_agent *ag)
{
	while (nfiller < to) {
		int c, s;

		pair(&c, &s);
		if (handover) {
			struct accepted a;

			if (request(c))
				die("request");
			a = do_accept(ag);
			do_done(ag, a.id);
			close(a.fd);
		} else if (setsockopt(c, SOL_TCP, TCP_ULP, KATLS_ULP_NAME,
				      sizeof(KATLS_ULP_NAME))) {
			die("opt-in");
		}
		close(s);
		filler[nfiller++] = c;
	}
}

static void measure(int samples, int closes, struct katls_agent *ag,
		    double *done_ns, double *close_ns)
{
	double *v = calloc(samples > closes ? samples : closes, sizeof(*v));
	int *g = calloc(closes, sizeof(*g));
	int i;

	if (!v || !g)
		die("calloc");
	for (i = 0; i < samples; i++) {
		struct accepted a;
		int c, s;

		pair(&c, &s);
		if (request(c))
			die("request");
		a = do_accept(ag);
		v[i] = do_done(ag, a.id);
		close(a.fd);
		close(c);
		close(s);
	}
	*done_ns = median(v, samples);
	for (i = 0; i < closes; i++)
		g[i] = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			      NETLINK_GENERIC);
	for (i = 0; i < closes; i++) {
		struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

		if (g[i] < 0 || bind(g[i], (struct sockaddr *)&sa, sizeof(sa)))
			die("netlink socket");
	}
	for (i = 0; i < closes; i++) {
		double t0 = now_ns();

		close(g[i]);
		v[i] = now_ns() - t0;
	}
	*close_ns = median(v, closes);
	free(v);
	free(g);
}

static void target(const char *name, double r)
{
	printf("target %s: %.2f (goal <= 1.50) %s\n", name, r,
	       r <= 1.5 ? "met" : "not met");
}

int main(int argc, char **argv)
{
	int small = 1000, large = 100000, samples = 300, closes = 2000, opt;
	double d_small, c_small, d_large, c_large;
	bool handover = false;
	socklen_t len = sizeof(laddr);
	struct katls_agent ag, lis;
	struct rlimit rl;
	int err;

	while ((opt = getopt(argc, argv, "s:l:n:k:H")) != -1) {
		switch (opt) {
		case 's': small = atoi(optarg); break;
		case 'l': large = atoi(optarg); break;
		case 'n': samples = atoi(optarg); break;
		case 'k': closes = atoi(optarg); break;
		case 'H': handover = true; break;
		default:
			fprintf(stderr, "usage: bench_kernel [-s N] [-l N] [-n N] [-k N] [-H]\n");
			return 2;
		}
	}
	if (small < 1 || large <= small || samples < 1 || closes < 1)
		return 2;
	rl.rlim_cur = rl.rlim_max = large + closes + 1024;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit (raise fs.nr_open?)");
	filler = calloc(large, sizeof(*filler));
	if (!filler)
		die("calloc");

	err = katls_agent_connect(&ag);
	if (err) {
		errno = -err;
		die("katls family (module loaded?)");
	}
	/* A member of the group, never read: "an agent listens". */
	err = katls_agent_listen(&lis);
	if (err) {
		errno = -err;
		die("agent group");
	}

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	laddr.sin_family = AF_INET;
	laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&laddr, sizeof(laddr)) ||
	    listen(lfd, 4096) ||
	    getsockname(lfd, (struct sockaddr *)&laddr, &len))
		die("listen");

	grow_filler(small, handover, &ag);
	measure(samples, closes, &ag, &d_small, &c_small);
	printf("kernel: %d opted-in%s: DONE %.1f us, genl close %.1f us (medians of %d and %d)\n",
	       nfiller, handover ? " handed-over" : "", d_small / 1e3,
	       c_small / 1e3, samples, closes);
	fflush(stdout);
	grow_filler(large, handover, &ag);
	measure(samples, closes, &ag, &d_large, &c_large);
	printf("kernel: %d opted-in%s: DONE %.1f us, genl close %.1f us (medians of %d and %d)\n",
	       nfiller, handover ? " handed-over" : "", d_large / 1e3,
	       c_large / 1e3, samples, closes);
	target(large == 100000 && small == 1000 ? "kernel-done-latency-100k/1k" :
	       "kernel-done-latency-large/small", d_large / d_small);
	target(large == 100000 && small == 1000 ? "genl-close-cost-100k/1k" :
	       "genl-close-cost-large/small", c_large / c_small);
	return 0;
}
