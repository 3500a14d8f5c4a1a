// SPDX-License-Identifier: GPL-2.0
/*
 * e2e.c - katlsd end to end in the VM (needs katls.ko, katls_sim_tsm.ko
 * and a running katlsd; run by e2e.sh inside tools/katls-vm).
 *
 * Two opted-in loopback sockets, one per role, both served by the same
 * katlsd: an attested exchange under sim-demo, then failures that must
 * close the socket with the documented errno.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/katls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

static void pair(int *a, int *b)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t len = sizeof(in);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (void *)&in, len) || listen(l, 8) ||
	    getsockname(l, (void *)&in, &len)) {
		perror("listen");
		exit(2);
	}
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (*a < 0 || connect(*a, (void *)&in, len)) {
		perror("connect");
		exit(2);
	}
	*b = accept(l, NULL, NULL);
	close(l);
}

static int request(int fd, unsigned int role, const char *policy)
{
	struct katls_request req = { .role = role, .timeout_ms = 30000 };

	if (setsockopt(fd, SOL_TCP, TCP_ULP, KATLS_ULP_NAME,
		       sizeof(KATLS_ULP_NAME)))
		return errno;
	snprintf(req.policy, sizeof(req.policy), "%s", policy);
	return setsockopt(fd, SOL_KATLS, KATLS_REQUEST, &req, sizeof(req)) ?
	       errno : 0;
}

static struct katls_result result(int fd)
{
	struct katls_result r;
	socklen_t len = sizeof(r);

	memset(&r, 0xff, sizeof(r));
	if (getsockopt(fd, SOL_KATLS, KATLS_RESULT, &r, &len))
		r.state = 0xdead;
	return r;
}

struct srv {
	int fd;
	const char *policy;
	int req;
	char buf[64];
	ssize_t n;
	int err;
};

static void *server(void *arg)
{
	struct srv *s = arg;

	/* KATLS_REQUEST blocks until the verdict. */
	s->req = request(s->fd, KATLS_ROLE_SERVER, s->policy);
	s->n = recv(s->fd, s->buf, sizeof(s->buf), 0);
	s->err = s->n < 0 ? errno : 0;
	if (s->n > 0 && send(s->fd, s->buf, s->n, 0) != s->n)
		s->err = errno;
	return NULL;
}

static void run(const char *policy, int want)
{
	struct katls_result rc, rs;
	struct srv s = { 0 };
	pthread_t t;
	char buf[64];
	int a, b;
	ssize_t n;

	pair(&a, &b);
	s.fd = b;
	s.policy = policy;
	pthread_create(&t, NULL, server, &s);
	{
		int ec = request(a, KATLS_ROLE_CLIENT, policy);

		tap_diag("%s: client request: %s", policy, strerror(ec));
	}
	n = send(a, "attested hello", 14, 0);
	if (n == 14)
		n = recv(a, buf, sizeof(buf), 0);
	else
		n = -errno;
	shutdown(a, SHUT_RDWR);
	pthread_join(t, NULL);
	rc = result(a);
	rs = result(b);
	tap_diag("%s: server request: %s", policy, strerror(s.req));
	tap_diag("%s: client state %u status %u, server state %u status %u",
		 policy, rc.state, rc.status, rs.state, rs.status);
	if (!want) {
		static const unsigned char m[48] = {
			0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
			16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
			30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
			44, 45, 46, 47 };

		tap_ok(n == 14 && !memcmp(buf, "attested hello", 14),
		       "%s: echoed through kTLS", policy);
		tap_ok(rc.state == KATLS_STATE_OPEN && rc.status == 0 &&
		       rc.evidence_type == KATLS_EVIDENCE_SIM &&
		       rc.binding_level == KATLS_BINDING_L2 &&
		       rc.measurement_len == 48 &&
		       !memcmp(rc.measurement, m, 48) &&
		       !strcmp(rc.policy, policy),
		       "%s: client result: open, sim, level 2, measurement",
		       policy);
		tap_ok(rs.state == KATLS_STATE_OPEN && rs.status == 0 &&
		       !memcmp(rs.evidence_digest, rc.evidence_digest, 32),
		       "%s: server result: open, same evidence digest", policy);
	} else {
		tap_ok(n < 0, "%s: no data moved (%zd)", policy, n);
		tap_ok(rc.state == KATLS_STATE_FAILED &&
		       rc.status == (unsigned int)want,
		       "%s: client failed closed with %s (status %u)", policy,
		       strerror(want), rc.status);
	}
	close(a);
	close(b);
}

int main(void)
{
	tap_plan_lazy();
	run("sim-demo", 0);
	run("sim-wrong", EACCES);
	run("no-such-policy", EINVAL);
	return tap_done();
}
