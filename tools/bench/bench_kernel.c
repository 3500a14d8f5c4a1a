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
#include <linux/genetlink.h>
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

/* ---- raw generic netlink ---- */

struct msg {
	union {
		struct nlmsghdr nlh;
		char buf[1024];
	};
};

static uint32_t seq;

static void msg_init(struct msg *m, uint16_t type, uint8_t cmd)
{
	struct genlmsghdr *g;

	memset(m, 0, sizeof(*m));
	m->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->nlh.nlmsg_type = type;
	m->nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m->nlh.nlmsg_seq = ++seq;
	g = NLMSG_DATA(&m->nlh);
	g->cmd = cmd;
	g->version = 1;
}

static struct nlattr *put(struct msg *m, uint16_t type, const void *d,
			  size_t len)
{
	struct nlattr *a = (void *)(m->buf + NLMSG_ALIGN(m->nlh.nlmsg_len));

	if (NLMSG_ALIGN(m->nlh.nlmsg_len) + NLA_HDRLEN + NLA_ALIGN(len) >
	    sizeof(m->buf))
		die("message too long");
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)a + NLA_HDRLEN, d, len);
	m->nlh.nlmsg_len = NLMSG_ALIGN(m->nlh.nlmsg_len) + NLA_ALIGN(a->nla_len);
	return a;
}

static void put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	put(m, type, &v, sizeof(v));
}

static void nest_end(struct msg *m, struct nlattr *a)
{
	a->nla_len = m->buf + m->nlh.nlmsg_len - (char *)a;
}

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("netlink");
	return fd;
}

/* Callback for each attribute of each reply; returns -errno of the ack. */
typedef void (*attr_fn)(struct nlattr *a, void *arg);

static int nl_xfer(int fd, struct msg *m, attr_fn fn, void *arg)
{
	static char rbuf[16384];
	ssize_t n;

	if (send(fd, m, m->nlh.nlmsg_len, 0) < 0)
		die("send");
	for (;;) {
		struct nlmsghdr *h;

		n = recv(fd, rbuf, sizeof(rbuf), 0);
		if (n < 0)
			die("recv");
		for (h = (void *)rbuf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			struct nlattr *a;
			int len;

			if (h->nlmsg_seq != m->nlh.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (!fn)
				continue;
			len = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
			a = (void *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
			for (; len >= (int)NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
			       a->nla_len <= len;
			     len -= NLA_ALIGN(a->nla_len),
			     a = (void *)((char *)a + NLA_ALIGN(a->nla_len)))
				fn(a, arg);
		}
	}
}

#define NLA_DATA(a) ((void *)((char *)(a) + NLA_HDRLEN))

struct family {
	uint16_t id;
	uint32_t grp;
};

static void family_attr(struct nlattr *a, void *arg)
{
	struct family *f = arg;
	struct nlattr *g, *x;
	int glen, xlen;

	if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID)
		f->id = *(uint16_t *)NLA_DATA(a);
	if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
		return;
	glen = a->nla_len - NLA_HDRLEN;
	for (g = NLA_DATA(a); glen >= (int)NLA_HDRLEN;
	     glen -= NLA_ALIGN(g->nla_len),
	     g = (void *)((char *)g + NLA_ALIGN(g->nla_len))) {
		uint32_t id = 0;
		bool ours = false;

		xlen = g->nla_len - NLA_HDRLEN;
		for (x = NLA_DATA(g); xlen >= (int)NLA_HDRLEN;
		     xlen -= NLA_ALIGN(x->nla_len),
		     x = (void *)((char *)x + NLA_ALIGN(x->nla_len))) {
			if (x->nla_type == CTRL_ATTR_MCAST_GRP_ID)
				id = *(uint32_t *)NLA_DATA(x);
			if (x->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
				ours = !strcmp(NLA_DATA(x), KATLS_MCGRP_AGENT);
		}
		if (ours)
			f->grp = id;
	}
}

static struct family resolve(int fd)
{
	struct family f = { 0 };
	struct msg m;

	msg_init(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	put(&m, CTRL_ATTR_FAMILY_NAME, KATLS_GENL_NAME, sizeof(KATLS_GENL_NAME));
	if (nl_xfer(fd, &m, family_attr, &f) || !f.id || !f.grp) {
		fprintf(stderr, "bench_kernel: no katls family (module loaded?)\n");
		exit(2);
	}
	return f;
}

struct accepted {
	uint64_t id;
	int fd;
};

static void accept_attr(struct nlattr *a, void *arg)
{
	struct accepted *r = arg;

	if (a->nla_type == KATLS_A_REQ_ID)
		memcpy(&r->id, NLA_DATA(a), sizeof(r->id));
	if (a->nla_type == KATLS_A_SOCKFD)
		r->fd = *(int32_t *)NLA_DATA(a);
}

static struct accepted do_accept(int fd, uint16_t fam)
{
	struct accepted r = { 0, -1 };
	struct msg m;

	msg_init(&m, fam, KATLS_CMD_ACCEPT);
	if (nl_xfer(fd, &m, accept_attr, &r) || !r.id || r.fd < 0)
		die("ACCEPT");
	return r;
}

/* DONE with status 0, a summary and fixed AES-128-GCM keys; the timing. */
static double do_done(int fd, uint16_t fam, uint64_t id)
{
	struct tls12_crypto_info_aes_gcm_128 k = {
		.info = { TLS_1_3_VERSION, TLS_CIPHER_AES_GCM_128 } };
	uint8_t digest[KATLS_DIGEST_LEN] = { 1 }, meas[48] = { 2 };
	struct nlattr *nest;
	struct msg m;
	double t0, t1;
	int err;

	msg_init(&m, fam, KATLS_CMD_DONE);
	put(&m, KATLS_A_REQ_ID, &id, sizeof(id));
	put_u32(&m, KATLS_A_STATUS, 0);
	nest = put(&m, KATLS_A_SUMMARY | NLA_F_NESTED, NULL, 0);
	put_u32(&m, KATLS_SUMMARY_A_EVIDENCE_TYPE, KATLS_EVIDENCE_SIM);
	put_u32(&m, KATLS_SUMMARY_A_BINDING_LEVEL, KATLS_BINDING_L2);
	put(&m, KATLS_SUMMARY_A_DIGEST, digest, sizeof(digest));
	put(&m, KATLS_SUMMARY_A_MEASUREMENT, meas, sizeof(meas));
	put(&m, KATLS_SUMMARY_A_POLICY, "bench", sizeof("bench"));
	nest_end(&m, nest);
	put(&m, KATLS_A_TX, &k, sizeof(k));
	put(&m, KATLS_A_RX, &k, sizeof(k));
	t0 = now_ns();
	err = nl_xfer(fd, &m, NULL, NULL);
	t1 = now_ns();
	memset(&m, 0, sizeof(m));
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

static void grow_filler(int to, bool handover, int nl, uint16_t fam)
{
	while (nfiller < to) {
		int c, s;

		pair(&c, &s);
		if (handover) {
			struct accepted a;

			if (request(c))
				die("request");
			a = do_accept(nl, fam);
			do_done(nl, fam, a.id);
			close(a.fd);
		} else if (setsockopt(c, SOL_TCP, TCP_ULP, KATLS_ULP_NAME,
				      sizeof(KATLS_ULP_NAME))) {
			die("opt-in");
		}
		close(s);
		filler[nfiller++] = c;
	}
}

static void measure(int samples, int closes, int nl, uint16_t fam,
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
		a = do_accept(nl, fam);
		v[i] = do_done(nl, fam, a.id);
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
	struct family f;
	struct rlimit rl;
	int nl, lis;

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

	nl = nl_open();
	f = resolve(nl);
	/* A member of the group, never read: "an agent listens". */
	lis = nl_open();
	if (setsockopt(lis, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &f.grp,
		       sizeof(f.grp)))
		die("NETLINK_ADD_MEMBERSHIP");

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	laddr.sin_family = AF_INET;
	laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&laddr, sizeof(laddr)) ||
	    listen(lfd, 4096) ||
	    getsockname(lfd, (struct sockaddr *)&laddr, &len))
		die("listen");

	grow_filler(small, handover, nl, f.id);
	measure(samples, closes, nl, f.id, &d_small, &c_small);
	printf("kernel: %d opted-in%s: DONE %.1f us, genl close %.1f us (medians of %d and %d)\n",
	       nfiller, handover ? " handed-over" : "", d_small / 1e3,
	       c_small / 1e3, samples, closes);
	fflush(stdout);
	grow_filler(large, handover, nl, f.id);
	measure(samples, closes, nl, f.id, &d_large, &c_large);
	printf("kernel: %d opted-in%s: DONE %.1f us, genl close %.1f us (medians of %d and %d)\n",
	       nfiller, handover ? " handed-over" : "", d_large / 1e3,
	       c_large / 1e3, samples, closes);
	target(large == 100000 && small == 1000 ? "kernel-done-latency-100k/1k" :
	       "kernel-done-latency-large/small", d_large / d_small);
	target(large == 100000 && small == 1000 ? "genl-close-cost-100k/1k" :
	       "genl-close-cost-large/small", c_large / c_small);
	return 0;
}
