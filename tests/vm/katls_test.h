/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the katls VM tests: loopback TCP pairs, the opt-in, the
 * request, and a minimal test agent speaking the katls generic netlink
 * protocol with libnl-genl-3 (ACCEPT / DONE with fixed kTLS keys).
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

#include <netlink/genl/ctrl.h>
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
	socklen_t len = sizeof(r);

	memset(&r, 0xff, sizeof(r));
	if (getsockopt(fd, SOL_KATLS, KATLS_RESULT, &r, &len))
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
	struct nl_sock *nl;
	int fam;
	int err;		/* errno of the last request, 0 if ok */
	/* ACCEPT reply */
	uint64_t id;
	int fd;
	uint32_t role, timeout_ms;
	char policy[KATLS_POLICY_MAX];
};

static inline int agent_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e,
			       void *arg)
{
	struct agent *a = arg;

	a->err = -e->error;
	return NL_STOP;
}

static inline int agent_ack_cb(struct nl_msg *msg, void *arg)
{
	struct agent *a = arg;

	a->err = 0;
	return NL_STOP;
}

static inline int agent_valid_cb(struct nl_msg *msg, void *arg)
{
	struct agent *a = arg;
	struct nlattr *tb[KATLS_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX, NULL))
		return NL_SKIP;
	if (tb[KATLS_A_REQ_ID])
		a->id = nla_get_u64(tb[KATLS_A_REQ_ID]);
	if (tb[KATLS_A_SOCKFD])
		a->fd = (int)nla_get_u32(tb[KATLS_A_SOCKFD]);
	if (tb[KATLS_A_ROLE])
		a->role = nla_get_u32(tb[KATLS_A_ROLE]);
	if (tb[KATLS_A_TIMEOUT_MS])
		a->timeout_ms = nla_get_u32(tb[KATLS_A_TIMEOUT_MS]);
	if (tb[KATLS_A_POLICY])
		snprintf(a->policy, sizeof(a->policy), "%s",
			 nla_get_string(tb[KATLS_A_POLICY]));
	return NL_OK;
}

/* Open an agent socket; subscribe to READY if listen is true. */
static inline int agent_open(struct agent *a, bool listen)
{
	struct nl_cb *cb;
	int grp;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->nl = nl_socket_alloc();
	if (!a->nl || genl_connect(a->nl))
		return -1;
	a->fam = genl_ctrl_resolve(a->nl, KATLS_GENL_NAME);
	if (a->fam < 0)
		return -1;
	if (listen) {
		grp = genl_ctrl_resolve_grp(a->nl, KATLS_GENL_NAME,
					    KATLS_MCGRP_AGENT);
		if (grp < 0 || nl_socket_add_membership(a->nl, grp))
			return -1;
	}
	nl_socket_disable_seq_check(a->nl);
	cb = nl_socket_get_cb(a->nl);
	nl_cb_err(cb, NL_CB_CUSTOM, agent_err_cb, a);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, agent_ack_cb, a);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, agent_valid_cb, a);
	nl_cb_put(cb);
	return 0;
}

static inline void agent_close(struct agent *a)
{
	if (a->nl)
		nl_socket_free(a->nl);
	a->nl = NULL;
}

/* Send msg, wait for the ACK or error: returns 0 or an errno. */
static inline int agent_xfer(struct agent *a, struct nl_msg *msg)
{
	int r;

	a->err = -1;
	r = nl_send_auto(a->nl, msg);
	nlmsg_free(msg);
	if (r < 0)
		return EIO;
	while (a->err == -1) {
		r = nl_recvmsgs_default(a->nl);
		if (r < 0 && a->err == -1)
			return EIO;
	}
	return a->err;
}

static inline struct nl_msg *agent_msg(struct agent *a, int cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, a->fam, 0, NLM_F_ACK,
		    cmd, KATLS_GENL_VERSION);
	return msg;
}

static inline int agent_accept(struct agent *a)
{
	a->fd = -1;
	a->id = 0;
	return agent_xfer(a, agent_msg(a, KATLS_CMD_ACCEPT));
}

/*
 * DONE for request id.  status 0 sends a summary and the fixed keys for
 * role (client: tx dir 0, rx dir 1).  Returns 0 or the errno.
 */
static inline int agent_done(struct agent *a, uint64_t id, uint32_t status,
			     unsigned int role)
{
	struct nl_msg *msg = agent_msg(a, KATLS_CMD_DONE);
	uint8_t digest[KATLS_DIGEST_LEN], meas[48];
	struct nlattr *nest;

	nla_put_u64(msg, KATLS_A_REQ_ID, id);
	nla_put_u32(msg, KATLS_A_STATUS, status);
	if (!status) {
		struct tls12_crypto_info_aes_gcm_128 tx, rx;

		tx = test_key(role == KATLS_ROLE_CLIENT ? 0 : 1);
		rx = test_key(role == KATLS_ROLE_CLIENT ? 1 : 0);
		memset(digest, 0xd1, sizeof(digest));
		memset(meas, 0x3e, sizeof(meas));
		nest = nla_nest_start(msg, KATLS_A_SUMMARY);
		nla_put_u32(msg, KATLS_SUMMARY_A_EVIDENCE_TYPE,
			    KATLS_EVIDENCE_SIM);
		nla_put_u32(msg, KATLS_SUMMARY_A_BINDING_LEVEL,
			    KATLS_BINDING_L2);
		nla_put(msg, KATLS_SUMMARY_A_DIGEST, sizeof(digest), digest);
		nla_put(msg, KATLS_SUMMARY_A_MEASUREMENT, sizeof(meas), meas);
		nla_put_string(msg, KATLS_SUMMARY_A_POLICY, "test-policy");
		nla_nest_end(msg, nest);
		nla_put(msg, KATLS_A_TX, sizeof(tx), &tx);
		nla_put(msg, KATLS_A_RX, sizeof(rx), &rx);
	}
	return agent_xfer(a, msg);
}

#endif /* KATLS_TEST_H */
