/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the katls VM tests: loopback TCP pairs, the opt-in, the
 * request, and a minimal test agent on libkatlsagent (katls/agent.h:
 * ACCEPT / DONE with fixed kTLS keys).  Tests that send the kernel
 * malformed messages build them on the agent's libnl socket (agent.nl).
 */
#ifndef KATLS_TEST_H
#define KATLS_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/katls.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <katls/agent.h>
#include <katls/katls.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "tap.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

static inline void die(const char *what)
{
	perror(what);
	exit(2);
}

/* A connected loopback pair: *a is the connecting end, *b the accepted. */
static inline void tcp_pair(int family, int *a, int *b)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int l, one = 1;

	l = socket(family, SOCK_STREAM, 0);
	if (l < 0)
		die("socket");
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	}
	if (bind(l, (void *)&ss, len) || listen(l, 1024) ||
	    getsockname(l, (void *)&ss, &len))
		die("bind/listen");
	*a = socket(family, SOCK_STREAM, 0);
	if (*a < 0 || connect(*a, (void *)&ss, len))
		die("connect");
	*b = accept(l, NULL, NULL);
	if (*b < 0)
		die("accept");
	setsockopt(*a, SOL_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(*b, SOL_TCP, TCP_NODELAY, &one, sizeof(one));
	close(l);
}

static inline int opt_in(int fd)
{
	return setsockopt(fd, SOL_TCP, TCP_ULP, KATLS_ULP_NAME,
			  sizeof(KATLS_ULP_NAME));
}

static inline void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* setsockopt(KATLS_REQUEST): returns 0 or errno. */
static inline int request(int fd, unsigned int role, const char *policy,
			  unsigned int timeout_ms)
{
	struct katls_request req = { .role = role, .timeout_ms = timeout_ms };

	snprintf(req.policy, sizeof(req.policy), "%s", policy);
	return setsockopt(fd, SOL_KATLS, KATLS_REQUEST, &req, sizeof(req)) ?
	       errno : 0;
}

static inline struct katls_result result(int fd)
{
	struct katls_result r;

	/* libkatls fills r whenever the kernel answered, also on failure */
	memset(&r, 0xff, sizeof(r));
	if (katls_result_get(fd, &r) && r.state == 0xffffffffu)
		r.state = 0xdead;
	return r;
}

static inline long long proc_stat(const char *path, const char *name)
{
	char key[64];
	long long v;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!strcmp(key, name)) {
			fclose(f);
			return v;
		}
	}
	fclose(f);
	return -1;
}

static inline long long katls_stat(const char *name)
{
	return proc_stat("/proc/net/katls_stat", name);
}

/* Does anything arrive on fd within ms?  Returns bytes read (0 = none). */
static inline ssize_t drain(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = recv(fd, buf, len, MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

static inline void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- fixed keys ---- */

/* Keys for one direction; dir 0: client->server, 1: server->client. */
static inline struct tls12_crypto_info_aes_gcm_128 test_key(int dir)
{
	struct tls12_crypto_info_aes_gcm_128 ci = {
		.info.version = TLS_1_3_VERSION,
		.info.cipher_type = TLS_CIPHER_AES_GCM_128,
	};

	memset(ci.key, 0x40 + dir, sizeof(ci.key));
	memset(ci.iv, 0x50 + dir, sizeof(ci.iv));
	memset(ci.salt, 0x60 + dir, sizeof(ci.salt));
	return ci;
}

/* A plain kTLS peer for an opted-in client: tx = dir 1, rx = dir 0. */
static inline int ktls_peer(int fd, bool rx)
{
	struct tls12_crypto_info_aes_gcm_128 t = test_key(1), r = test_key(0);

	if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) ||
	    setsockopt(fd, SOL_TLS, TLS_TX, &t, sizeof(t)))
		return -1;
	if (rx && setsockopt(fd, SOL_TLS, TLS_RX, &r, sizeof(r)))
		return -1;
	return 0;
}

/* ---- the test agent ---- */

struct agent {
	struct katls_agent k;
	struct nl_sock *nl;	/* k.sk: for hand-made messages */
	/* ACCEPT reply */
	uint64_t id;
	int fd;
	uint32_t role, timeout_ms;
	char policy[KATLS_POLICY_MAX];
};

/* Open an agent socket; subscribe to READY if listen is true. */
static inline int agent_open(struct agent *a, bool listen)
{
	int ret;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	ret = listen ? katls_agent_listen(&a->k) : katls_agent_connect(&a->k);
	a->nl = a->k.sk;
	return ret ? -1 : 0;
}

static inline void agent_close(struct agent *a)
{
	katls_agent_close(&a->k);
	a->nl = NULL;
}

/* A katls message for cmd, to be filled and sent by the test. */
static inline struct nl_msg *agent_msg(struct agent *a, int cmd)
{
	return katls_agent_msg_new(a->k.family, (uint8_t)cmd);
}

/* ACCEPT: 0 or the errno (ENOENT: nothing pending). */
static inline int agent_accept(struct agent *a)
{
	struct katls_agent_request req;
	int ret = katls_agent_accept(&a->k, &req);

	a->id = req.id;
	a->fd = req.fd;
	a->role = req.role;
	a->timeout_ms = req.timeout_ms;
	memcpy(a->policy, req.policy, sizeof(a->policy));
	return -ret;
}

/*
 * The summary every test agent reports: sim evidence at level 2, fixed
 * digest and measurement, and the policy name given.
 */
static inline void test_summary(struct katls_agent_summary *s,
				const char *policy)
{
	s->evidence_type = KATLS_EVIDENCE_SIM;
	s->binding_level = KATLS_BINDING_L2;
	memset(s->digest, 0xd1, sizeof(s->digest));
	memset(s->measurement, 0x3e, 48);
	s->measurement_len = 48;
	snprintf(s->policy, sizeof(s->policy), "%s", policy);
}

/*
 * DONE for request id.  status 0 sends a summary and the fixed keys for
 * role (client: tx dir 0, rx dir 1) and max_age_ms (0: no maximum
 * connection age, KATLS_A_MAX_AGE_MS).  Returns 0 or the errno.
 */
static inline int agent_done_age(struct agent *a, uint64_t id, uint32_t status,
				 unsigned int role, uint32_t max_age_ms)
{
	struct katls_agent_done d = { .id = id, .status = status };
	int ret;

	if (!status) {
		d.keys.tx.aes128 = test_key(role == KATLS_ROLE_CLIENT ? 0 : 1);
		d.keys.rx.aes128 = test_key(role == KATLS_ROLE_CLIENT ? 1 : 0);
		d.keys.len = sizeof(d.keys.tx.aes128);
		test_summary(&d.summary, "test-policy");
		d.max_age_ms = max_age_ms;
	}
	ret = katls_agent_done(&a->k, &d);
	katls_agent_done_wipe(&d);
	return -ret;
}

/* DONE without a maximum connection age (agent_done_age()). */
static inline int agent_done(struct agent *a, uint64_t id, uint32_t status,
			     unsigned int role)
{
	return agent_done_age(a, id, status, role, 0);
}

/*
 * ACCEPT the next request, polling for up to 5 s while none is pending.
 * Returns 0 or the errno (ENOENT: nothing came).
 */
static inline int agent_accept_wait(struct agent *a)
{
	int err = ENOENT, i;

	for (i = 0; i < 500 && err == ENOENT; i++) {
		err = agent_accept(a);
		if (err == ENOENT)
			msleep(10);
	}
	return err;
}

/*
 * A forked agent for one request: ACCEPT it, answer DONE with the test
 * keys for role and max_age_ms (0: none).  The child's exit status is 0
 * or the errno (100: the agent could not open).
 */
static inline pid_t agent_spawn_done_age(unsigned int role, uint32_t max_age_ms)
{
	pid_t pid = fork();
	struct agent ag;
	int err;

	if (pid)
		return pid;
	if (agent_open(&ag, false))
		_exit(100);
	err = agent_accept_wait(&ag);
	if (!err)
		err = agent_done_age(&ag, ag.id, 0, role, max_age_ms);
	_exit(err);
}

/* agent_spawn_done_age() without a maximum connection age. */
static inline pid_t agent_spawn_done(unsigned int role)
{
	return agent_spawn_done_age(role, 0);
}

#endif /* KATLS_TEST_H */
