// SPDX-License-Identifier: GPL-2.0
/*
 * test-mock.c - libkatls' side of the socket-option contract, with the
 * kernel's answers scripted.  The test links with
 *	-Wl,--wrap=setsockopt -Wl,--wrap=getsockopt -Wl,--wrap=poll
 * (and __poll_chk, which _FORTIFY_SOURCE turns poll into)
 * so that TCP_ULP, KATLS_REQUEST and KATLS_RESULT on real loopback
 * sockets reach the fakes below; every other option goes to the kernel.
 * This covers what the host kernel cannot: the request layout, blocking
 * and non-blocking completion, failures and EINTR.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <katls/katls.h>
#include "tap.h"

int __real_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len);
int __real_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len);
int __wrap_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int __real___poll_chk(struct pollfd *fds, nfds_t n, int timeout,
		      size_t fdslen);
int __wrap___poll_chk(struct pollfd *fds, nfds_t n, int timeout,
		      size_t fdslen);

/* The scripted kernel. */
static struct {
	int ulp_err;			/* errno for TCP_ULP, 0: success */
	int ulp_calls;
	char ulp_name[16];
	socklen_t ulp_len;

	int req_err;			/* errno for KATLS_REQUEST, 0: success */
	int req_calls;
	struct katls_request req;
	socklen_t req_len;
	bool req_nonblock;		/* O_NONBLOCK set at request time */

	struct katls_result pending;	/* answered first ... */
	int pending_answers;		/* ... this many times */
	struct katls_result final;	/* then this */
	socklen_t res_len;		/* bytes the fake returns */
	int res_err;			/* errno for KATLS_RESULT */
	int res_calls;

	int poll_calls;
	int poll_eintr;			/* fail this many polls with EINTR */
} k;

static void mock_reset(void)
{
	memset(&k, 0, sizeof(k));
	k.res_len = sizeof(struct katls_result);
	k.pending.state = KATLS_STATE_PENDING;
}

int __wrap_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len)
{
	if (level == SOL_TCP && name == TCP_ULP) {
		k.ulp_calls++;
		k.ulp_len = len;
		memset(k.ulp_name, 0, sizeof(k.ulp_name));
		memcpy(k.ulp_name, val,
		       len < sizeof(k.ulp_name) ? len : sizeof(k.ulp_name) - 1);
		if (k.ulp_err) {
			errno = k.ulp_err;
			return -1;
		}
		return 0;
	}
	if (level == SOL_KATLS && name == KATLS_REQUEST) {
		k.req_calls++;
		k.req_len = len;
		k.req_nonblock = fcntl(fd, F_GETFL) & O_NONBLOCK;
		if (len == sizeof(k.req))
			memcpy(&k.req, val, len);
		if (k.req_err) {
			errno = k.req_err;
			return -1;
		}
		return 0;
	}
	return __real_setsockopt(fd, level, name, val, len);
}

int __wrap_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len)
{
	const struct katls_result *r;
	socklen_t n;

	if (level != SOL_KATLS || name != KATLS_RESULT)
		return __real_getsockopt(fd, level, name, val, len);
	k.res_calls++;
	if (k.res_err) {
		errno = k.res_err;
		return -1;
	}
	r = k.pending_answers > 0 ? &k.pending : &k.final;
	if (k.pending_answers > 0)
		k.pending_answers--;
	n = *len < k.res_len ? *len : k.res_len;
	memcpy(val, r, n);
	*len = n;
	return 0;
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	k.poll_calls++;
	if (k.poll_eintr > 0) {
		k.poll_eintr--;
		errno = EINTR;
		return -1;
	}
	return __real_poll(fds, n, timeout);
}

int __wrap___poll_chk(struct pollfd *fds, nfds_t n, int timeout,
		      size_t fdslen)
{
	k.poll_calls++;
	if (k.poll_eintr > 0) {
		k.poll_eintr--;
		errno = EINTR;
		return -1;
	}
	return __real___poll_chk(fds, n, timeout, fdslen);
}

static void open_result(struct katls_result *r)
{
	memset(r, 0, sizeof(*r));
	r->state = KATLS_STATE_OPEN;
	r->evidence_type = KATLS_EVIDENCE_SIM;
	r->binding_level = KATLS_BINDING_L2;
	r->measurement_len = 48;
	memset(r->measurement, 0x5a, 48);
	memset(r->evidence_digest, 0xa5, KATLS_DIGEST_LEN);
	strcpy(r->policy, "sim-test");
}

static void failed_result(struct katls_result *r, unsigned int status)
{
	memset(r, 0, sizeof(*r));
	r->state = KATLS_STATE_FAILED;
	r->status = status;
}

static int lfd = -1;
static struct sockaddr_in laddr = { .sin_family = AF_INET };
static char lport[8];

static int make_listener(void)
{
	socklen_t len = sizeof(laddr);

	laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&laddr, len) < 0 ||
	    listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&laddr, &len) < 0)
		return -1;
	snprintf(lport, sizeof(lport), "%u", ntohs(laddr.sin_port));
	return 0;
}

/* A connected client socket; the server end is accepted and closed. */
static int client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;

	if (connect(fd, (struct sockaddr *)&laddr, sizeof(laddr)) < 0)
		return -1;
	s = accept(lfd, NULL, NULL);
	if (s >= 0)
		close(s);
	return fd;
}

static bool padded(const char *field, size_t size, const char *want)
{
	size_t n = strlen(want);

	if (memcmp(field, want, n))
		return false;
	for (size_t i = n; i < size; i++)
		if (field[i])
			return false;
	return true;
}

static void test_blocking(void)
{
	struct katls_options o = {
		.policy = "sim-test", .peername = "srv.example",
		.timeout_ms = 5000,
	};
	struct katls_result res;
	int fd = client();

	mock_reset();
	open_result(&k.final);
	memset(&res, 0, sizeof(res));
	tap_ok(katls_attach(fd, KATLS_ROLE_CLIENT, &o, &res) == 0,
	       "blocking attach, kernel says open: 0");
	tap_ok(k.ulp_calls == 1 && !strcmp(k.ulp_name, "katls") &&
	       k.ulp_len == sizeof("katls"), "TCP_ULP \"katls\" with its NUL");
	tap_ok(k.req_calls == 1 && k.req_len == sizeof(struct katls_request),
	       "one KATLS_REQUEST of sizeof(struct katls_request)");
	tap_ok(k.req.role == KATLS_ROLE_CLIENT && k.req.timeout_ms == 5000 &&
	       k.req.flags == 0 && k.req.reserved == 0,
	       "request: role, timeout, flags, reserved");
	tap_ok(padded(k.req.policy, KATLS_POLICY_MAX, "sim-test") &&
	       padded(k.req.peername, KATLS_PEERNAME_MAX, "srv.example"),
	       "request: policy and peer name NUL-padded");
	tap_ok(!k.req_nonblock, "blocking socket stays blocking");
	tap_ok(!memcmp(&res, &k.final, sizeof(res)), "result returned");

	mock_reset();
	open_result(&k.final);
	tap_ok(katls_attach(fd, KATLS_ROLE_SERVER, NULL, NULL) == 0 &&
	       k.req.role == KATLS_ROLE_SERVER &&
	       padded(k.req.policy, KATLS_POLICY_MAX, KATLS_POLICY_DEFAULT) &&
	       padded(k.req.peername, KATLS_PEERNAME_MAX, "") &&
	       k.req.timeout_ms == 0,
	       "NULL options: policy \"%s\", no peer name, timeout 0",
	       KATLS_POLICY_DEFAULT);

	mock_reset();
	failed_result(&k.final, EKEYREJECTED);
	k.req_err = EKEYREJECTED;
	errno = 0;
	tap_ok(katls_attach(fd, KATLS_ROLE_CLIENT, &o, &res) == -1 &&
	       errno == EKEYREJECTED && res.state == KATLS_STATE_FAILED &&
	       res.status == EKEYREJECTED,
	       "evidence rejected: EKEYREJECTED and the failed result");

	mock_reset();
	k.req_err = ESRCH;
	k.final.state = KATLS_STATE_IDLE;
	errno = 0;
	tap_ok(katls_attach(fd, KATLS_ROLE_CLIENT, &o, &res) == -1 &&
	       errno == ESRCH && res.state == KATLS_STATE_IDLE,
	       "no agent: ESRCH is passed through");

	mock_reset();
	k.req_err = EINTR;
	k.final.state = KATLS_STATE_ACCEPTED;
	errno = 0;
	tap_ok(katls_attach(fd, KATLS_ROLE_CLIENT, &o, &res) == -1 &&
	       errno == EINTR && res.state == KATLS_STATE_ACCEPTED,
	       "signal: EINTR, result shows the running handshake");

	mock_reset();
	k.ulp_err = EEXIST;
	errno = 0;
	tap_ok(katls_attach(fd, KATLS_ROLE_CLIENT, &o, &res) == -1 &&
	       errno == EEXIST && k.req_calls == 0,
	       "socket already has a ULP: EEXIST, no request");

	mock_reset();
	k.ulp_err = ENOENT;
	errno = 0;
	tap_ok(katls_attach(fd, KATLS_ROLE_CLIENT, &o, &res) == -1 &&
	       errno == ENOPROTOOPT && k.req_calls == 0,
	       "ULP unknown (ENOENT): ENOPROTOOPT");

	/* The kernel says 0 but the result is not open: not success. */
	mock_reset();
	failed_result(&k.final, ETIMEDOUT);
	errno = 0;
	tap_ok(katls_attach(fd, KATLS_ROLE_CLIENT, &o, &res) == -1 &&
	       errno == ETIMEDOUT, "request 0 but state failed: -1/ETIMEDOUT");
	close(fd);
}

static void test_nonblocking(void)
{
	struct katls_result res;
	int fd = client(), flags;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	mock_reset();
	k.req_err = EINPROGRESS;
	k.pending_answers = 3;
	open_result(&k.final);
	tap_ok(katls_attach(fd, KATLS_ROLE_CLIENT, NULL, &res) == 0 &&
	       res.state == KATLS_STATE_OPEN,
	       "non-blocking socket: attach waits for open");
	tap_ok(k.res_calls == 4 && k.poll_calls >= 3,
	       "waited through poll (%d results, %d polls)", k.res_calls,
	       k.poll_calls);

	mock_reset();
	k.req_err = EINPROGRESS;
	k.pending_answers = 2;
	failed_result(&k.final, ECONNABORTED);
	errno = 0;
	tap_ok(katls_attach(fd, KATLS_ROLE_CLIENT, NULL, &res) == -1 &&
	       errno == ECONNABORTED && res.state == KATLS_STATE_FAILED,
	       "non-blocking: agent lost -> ECONNABORTED");

	/* katls_attach_start on a blocking socket. */
	fcntl(fd, F_SETFL, 0);
	mock_reset();
	k.req_err = EINPROGRESS;
	tap_ok(katls_attach_start(fd, KATLS_ROLE_SERVER, NULL) == 0 &&
	       k.req_nonblock && k.req.role == KATLS_ROLE_SERVER,
	       "attach_start: request made non-blocking, returns 0");
	flags = fcntl(fd, F_GETFL);
	tap_ok(!(flags & O_NONBLOCK), "attach_start: blocking mode restored");

	mock_reset();
	k.req_err = ESRCH;
	errno = 0;
	tap_ok(katls_attach_start(fd, KATLS_ROLE_SERVER, NULL) == -1 &&
	       errno == ESRCH && !(fcntl(fd, F_GETFL) & O_NONBLOCK),
	       "attach_start: ESRCH passed through, flags restored");

	fcntl(fd, F_SETFL, O_NONBLOCK);
	mock_reset();
	k.req_err = EINPROGRESS;
	tap_ok(katls_attach_start(fd, KATLS_ROLE_SERVER, NULL) == 0 &&
	       (fcntl(fd, F_GETFL) & O_NONBLOCK),
	       "attach_start: non-blocking socket stays non-blocking");
	close(fd);
}

static void test_result_get(void)
{
	struct katls_result res;
	int fd = client();

	mock_reset();
	k.pending_answers = 0;
	k.final.state = KATLS_STATE_HANDOVER;
	errno = 0;
	tap_ok(katls_result_get(fd, &res) == -1 && errno == EINPROGRESS &&
	       res.state == KATLS_STATE_HANDOVER, "handover: EINPROGRESS");

	mock_reset();
	failed_result(&k.final, 0);
	errno = 0;
	tap_ok(katls_result_get(fd, &res) == -1 && errno == EPROTO,
	       "failed with status 0: EPROTO, never success");

	mock_reset();
	failed_result(&k.final, 5000);
	errno = 0;
	tap_ok(katls_result_get(fd, &res) == -1 && errno == EPROTO,
	       "failed with an impossible status: EPROTO");

	mock_reset();
	k.final.state = 77;
	errno = 0;
	tap_ok(katls_result_get(fd, &res) == -1 && errno == EPROTO,
	       "unknown state: EPROTO");

	mock_reset();
	open_result(&k.final);
	k.res_len = 8;
	errno = 0;
	tap_ok(katls_result_get(fd, &res) == -1 && errno == EPROTO,
	       "short KATLS_RESULT: EPROTO");

	mock_reset();
	open_result(&k.final);
	k.res_len = offsetof(struct katls_result, evidence_digest);
	tap_ok(katls_result_get(fd, &res) == 0 && res.policy[0] == '\0' &&
	       res.evidence_digest[0] == 0,
	       "older, shorter result: accepted, rest zeroed");

	mock_reset();
	k.res_err = EOPNOTSUPP;
	errno = 0;
	tap_ok(katls_result_get(fd, &res) == -1 && errno == ENOPROTOOPT,
	       "EOPNOTSUPP (not a katls socket): ENOPROTOOPT");

	mock_reset();
	open_result(&k.final);
	tap_ok(katls_result_get(fd, NULL) == 0, "NULL result pointer allowed");

	/* katls_wait */
	mock_reset();
	k.pending_answers = 1000000;
	errno = 0;
	{
		int r = katls_wait(fd, 50, &res);

		tap_ok(r == -1 && errno == EINPROGRESS,
		       "wait times out while pending: EINPROGRESS");
		tap_ok(k.poll_calls > 0 && k.poll_calls < 100,
		       "no busy loop on a writable pending socket (%d polls)",
		       k.poll_calls);
	}

	mock_reset();
	k.pending_answers = 5;
	k.poll_eintr = 1;
	errno = 0;
	tap_ok(katls_wait(fd, -1, &res) == -1 && errno == EINTR,
	       "wait interrupted by a signal: EINTR");
	close(fd);
}

static int count_fds(void)
{
	int n = 0;

	for (int i = 0; i < 1024; i++)
		if (fcntl(i, F_GETFD) >= 0)
			n++;
	return n;
}

static void test_connect_accept(void)
{
	struct katls_options o = { .policy = "sim-test", .peername = "a.b" };
	struct katls_result res;
	int fd, fds, s, c;

	mock_reset();
	open_result(&k.final);
	fd = katls_connect("127.0.0.1", lport, &o, &res);
	tap_ok(fd >= 0 && res.state == KATLS_STATE_OPEN &&
	       k.req.role == KATLS_ROLE_CLIENT &&
	       padded(k.req.peername, KATLS_PEERNAME_MAX, "a.b"),
	       "katls_connect: client role, open result");
	tap_ok(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK) &&
	       (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	       "katls_connect: blocking, close-on-exec socket");
	s = accept(lfd, NULL, NULL);
	tap_ok(fd >= 0 && s >= 0 && send(fd, "hi", 2, 0) == 2 &&
	       recv(s, &c, 1, 0) == 1, "katls_connect: connected to the peer");
	if (fd >= 0)
		close(fd);
	if (s >= 0)
		close(s);

	mock_reset();
	failed_result(&k.final, EKEYREJECTED);
	k.req_err = EKEYREJECTED;
	fds = count_fds();
	errno = 0;
	fd = katls_connect("127.0.0.1", lport, &o, &res);
	tap_ok(fd == -1 && errno == EKEYREJECTED &&
	       res.state == KATLS_STATE_FAILED && res.status == EKEYREJECTED,
	       "katls_connect, evidence rejected: EKEYREJECTED + result");
	tap_ok(count_fds() == fds, "katls_connect: socket closed on failure");
	s = accept(lfd, NULL, NULL);
	if (s >= 0)
		close(s);

	/*
	 * Item 5: the host name is the expected peer name unless the caller
	 * names another; "" explicitly asks for none.
	 */
	{
		static const struct {
			const char *host, *peername, *want;
		} cases[] = {
			{ "127.0.0.1", NULL, "127.0.0.1" },
			{ "localhost", NULL, "localhost" },
			{ "localhost", "other.example", "other.example" },
			{ "localhost", "", "" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct katls_options po = { .policy = "sim-test" };

			po.peername = cases[i].peername;
			mock_reset();
			open_result(&k.final);
			fd = katls_connect(cases[i].host, lport, &po, &res);
			tap_ok(fd >= 0 && k.req_calls == 1 &&
			       padded(k.req.peername, KATLS_PEERNAME_MAX,
				      cases[i].want),
			       "katls_connect(%s, peername %s): expects \"%s\"",
			       cases[i].host,
			       cases[i].peername ? cases[i].peername : "NULL",
			       cases[i].want);
			if (fd >= 0)
				close(fd);
			s = accept(lfd, NULL, NULL);
			if (s >= 0)
				close(s);
		}
		mock_reset();
		open_result(&k.final);
		fd = katls_connect("localhost", lport, NULL, &res);
		tap_ok(fd >= 0 && padded(k.req.peername, KATLS_PEERNAME_MAX,
					 "localhost"),
		       "katls_connect(localhost, NULL options): expects \"localhost\"");
		if (fd >= 0)
			close(fd);
		s = accept(lfd, NULL, NULL);
		if (s >= 0)
			close(s);
	}

	/* Server side. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	connect(c, (struct sockaddr *)&laddr, sizeof(laddr));
	mock_reset();
	open_result(&k.final);
	fd = katls_accept(lfd, &o, &res);
	tap_ok(fd >= 0 && k.req.role == KATLS_ROLE_SERVER &&
	       res.state == KATLS_STATE_OPEN &&
	       (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	       "katls_accept: server role, open, close-on-exec");
	if (fd >= 0)
		close(fd);
	close(c);

	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	connect(c, (struct sockaddr *)&laddr, sizeof(laddr));
	mock_reset();
	k.req_err = ETIMEDOUT;
	failed_result(&k.final, ETIMEDOUT);
	fds = count_fds();
	errno = 0;
	fd = katls_accept(lfd, &o, &res);
	tap_ok(fd == -1 && errno == ETIMEDOUT && count_fds() == fds &&
	       res.status == ETIMEDOUT,
	       "katls_accept, handshake timed out: ETIMEDOUT, socket closed");
	close(c);
}

int main(void)
{
	tap_plan_lazy();
	if (!tap_ok(make_listener() == 0, "loopback listener"))
		return tap_done();
	test_blocking();
	test_nonblocking();
	test_result_get();
	test_connect_accept();
	close(lfd);
	return tap_done();
}
