// SPDX-License-Identifier: GPL-2.0
/*
 * test-socket.c - libkatls against the host's real TCP stack, without the
 * katls module: argument validation, connect errors and timeouts, and the
 * error reported when the "katls" ULP does not exist (ENOPROTOOPT); and
 * katls_send() on real sockets (non-blocking count so far, blocking
 * whole, every byte in order; its pieces are checked in test-send.c).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <katls/katls.h>
#include "fds.h"
#include "tap.h"

static bool katls_loaded;

/* A listening socket on the loopback address of @family; port in *port. */
static int listener(int family, int backlog, char port[8])
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) :
					     sizeof(struct sockaddr_in6);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr =
			htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (backlog >= 0 && listen(fd, backlog) < 0) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	snprintf(port, 8, "%u", ntohs(family == AF_INET ?
		 ((struct sockaddr_in *)&ss)->sin_port :
		 ((struct sockaddr_in6 *)&ss)->sin6_port));
	return fd;
}

/* Plain TCP connection over loopback: *cfd client end, returns server end. */
static int tcp_pair(int *cfd)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	char port[8];
	int lfd, sfd;

	lfd = listener(AF_INET, 1, port);
	if (lfd < 0)
		return -1;
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	*cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*cfd < 0 || connect(*cfd, (struct sockaddr *)&sin, len) < 0) {
		close(lfd);
		return -1;
	}
	sfd = accept(lfd, NULL, NULL);
	close(lfd);
	return sfd;
}

/* The socket carries no ULP: nothing was half-done on it. */
static bool no_ulp(int fd)
{
	char name[16] = "x";
	socklen_t len = sizeof(name);

	if (getsockopt(fd, SOL_TCP, TCP_ULP, name, &len) < 0)
		return false;
	return len == 0 || name[0] == '\0';
}

static void test_validation(void)
{
	char longpol[KATLS_POLICY_MAX + 1], maxpol[KATLS_POLICY_MAX];
	char longpeer[KATLS_PEERNAME_MAX + 1];
	struct katls_options o;
	int cfd = -1, sfd = tcp_pair(&cfd);
	const struct {
		const char *name;
		const char *policy, *peer;
		unsigned int timeout, flags;
		int family;
		enum katls_role role;
	} bad[] = {
		{ "policy longer than KATLS_POLICY_MAX", longpol, NULL, 0, 0, 0,
		  KATLS_ROLE_CLIENT },
		{ "policy of KATLS_POLICY_MAX chars (no room for NUL)", maxpol,
		  NULL, 0, 0, 0, KATLS_ROLE_CLIENT },
		{ "empty policy", "", NULL, 0, 0, 0, KATLS_ROLE_CLIENT },
		{ "policy with '/'", "../etc", NULL, 0, 0, 0, KATLS_ROLE_CLIENT },
		{ "policy with a space", "a b", NULL, 0, 0, 0, KATLS_ROLE_SERVER },
		{ "policy with a newline", "a\n", NULL, 0, 0, 0,
		  KATLS_ROLE_CLIENT },
		{ "peer name too long", "p", longpeer, 0, 0, 0,
		  KATLS_ROLE_CLIENT },
		{ "peer name with a control char", "p", "a\tb", 0, 0, 0,
		  KATLS_ROLE_CLIENT },
		{ "timeout above KATLS_TIMEOUT_MAX_MS", "p", NULL,
		  KATLS_TIMEOUT_MAX_MS + 1, 0, 0, KATLS_ROLE_CLIENT },
		{ "non-zero flags", "p", NULL, 0, 1, 0, KATLS_ROLE_CLIENT },
		{ "family AF_UNIX", "p", NULL, 0, 0, AF_UNIX,
		  KATLS_ROLE_CLIENT },
		{ "role unspec", "p", NULL, 0, 0, 0, KATLS_ROLE_UNSPEC },
		{ "role past the last", "p", NULL, 0, 0, 0, __KATLS_ROLE_MAX },
	};

	memset(longpol, 'a', sizeof(longpol) - 1);
	longpol[sizeof(longpol) - 1] = '\0';
	memset(maxpol, 'a', sizeof(maxpol));
	maxpol[sizeof(maxpol) - 1] = 'b';	/* unterminated on purpose */
	memset(longpeer, 'h', sizeof(longpeer) - 1);
	longpeer[sizeof(longpeer) - 1] = '\0';

	if (!tap_ok(sfd >= 0, "loopback TCP pair"))
		return;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r1, e1, r2, e2;

		memset(&o, 0, sizeof(o));
		o.policy = bad[i].policy;
		o.peername = bad[i].peer;
		o.timeout_ms = bad[i].timeout;
		o.flags = bad[i].flags;
		o.family = bad[i].family;
		errno = 0;
		r1 = katls_attach(cfd, bad[i].role, &o, NULL);
		e1 = errno;
		errno = 0;
		r2 = katls_attach_start(cfd, bad[i].role, &o);
		e2 = errno;
		tap_ok(r1 == -1 && e1 == EINVAL && r2 == -1 && e2 == EINVAL &&
		       no_ulp(cfd), "%s: EINVAL, socket untouched (%s/%s)",
		       bad[i].name, strerror(e1), strerror(e2));
	}

	/* The longest valid policy passes validation (then fails on ULP). */
	memset(maxpol, 'a', sizeof(maxpol) - 1);
	maxpol[sizeof(maxpol) - 1] = '\0';
	memset(&o, 0, sizeof(o));
	o.policy = maxpol;
	o.timeout_ms = KATLS_TIMEOUT_MAX_MS;
	if (katls_loaded) {
		tap_skip("longest policy accepted", "katls module loaded");
	} else {
		int r = katls_attach(cfd, KATLS_ROLE_CLIENT, &o, NULL);
		int e = errno;

		tap_ok(r == -1 && e == ENOPROTOOPT,
		       "%d-char policy and max timeout pass validation (%s)",
		       KATLS_POLICY_MAX - 1, strerror(e));
	}

	errno = 0;
	tap_ok(katls_attach(-1, KATLS_ROLE_CLIENT, NULL, NULL) == -1 &&
	       errno == EBADF, "fd -1: EBADF");
	close(cfd);
	close(sfd);
}

static void test_no_module(void)
{
	struct katls_result res;
	struct katls_options o = { .policy = "sim-test" };
	int cfd = -1, sfd = tcp_pair(&cfd), flags, ret;

	if (katls_loaded) {
		tap_skip("ENOPROTOOPT without module", "katls module loaded");
		close(cfd);
		close(sfd);
		return;
	}
	if (!tap_ok(sfd >= 0, "loopback TCP pair"))
		return;

	memset(&res, 0xaa, sizeof(res));
	ret = katls_attach(cfd, KATLS_ROLE_CLIENT, &o, &res);
	tap_ok(ret == -1 && errno == ENOPROTOOPT,
	       "katls_attach without the module: ENOPROTOOPT (%s)",
	       strerror(errno));
	tap_ok(res.state == KATLS_STATE_IDLE && res.status == 0 &&
	       res.policy[0] == '\0', "result zeroed on failure");

	flags = fcntl(cfd, F_GETFL);
	errno = 0;
	tap_ok(katls_attach_start(cfd, KATLS_ROLE_SERVER, NULL) == -1 &&
	       errno == ENOPROTOOPT && fcntl(cfd, F_GETFL) == flags,
	       "katls_attach_start without the module: ENOPROTOOPT, flags kept");

	ret = katls_result_get(cfd, &res);
	tap_ok(ret == -1 && errno == ENOPROTOOPT,
	       "katls_result_get on a plain socket: ENOPROTOOPT (%s)",
	       strerror(errno));
	errno = 0;
	tap_ok(katls_wait(cfd, 100, &res) == -1 && errno == ENOPROTOOPT,
	       "katls_wait on a plain socket: ENOPROTOOPT");

	/* Data still flows: a failed opt-in leaves the plain socket alone. */
	tap_ok(send(cfd, "x", 1, 0) == 1 && recv(sfd, &flags, 1, 0) == 1,
	       "plain socket still usable after the failed opt-in");
	close(cfd);
	close(sfd);
}

static void test_connect(void)
{
	struct katls_options o = { .policy = "sim-test" };
	struct katls_result res;
	char port[8];
	int lfd, fds, fd, s;

	/* Bound, not listening: the SYN is answered by a RST. */
	lfd = listener(AF_INET, -1, port);
	fds = count_fds();
	errno = 0;
	fd = katls_connect("127.0.0.1", port, &o, &res);
	tap_ok(fd == -1 && errno == ECONNREFUSED,
	       "connect to a closed IPv4 port: ECONNREFUSED (%s)",
	       strerror(errno));
	tap_ok(count_fds() == fds, "no descriptor leaked");
	close(lfd);

	lfd = listener(AF_INET6, -1, port);
	if (lfd < 0) {
		tap_skip("connect to a closed IPv6 port", "no IPv6 loopback");
	} else {
		o.family = AF_INET6;
		errno = 0;
		fd = katls_connect("::1", port, &o, NULL);
		tap_ok(fd == -1 && errno == ECONNREFUSED,
		       "connect to a closed IPv6 port: ECONNREFUSED (%s)",
		       strerror(errno));
		o.family = AF_UNSPEC;
		close(lfd);
	}

	errno = 0;
	tap_ok(katls_connect(NULL, "1", &o, NULL) == -1 && errno == EINVAL,
	       "NULL host: EINVAL");
	errno = 0;
	tap_ok(katls_connect("127.0.0.1", "", &o, NULL) == -1 &&
	       errno == EINVAL, "empty port: EINVAL");
	fd = katls_connect("127.0.0.1", "no-such-katls-service", &o, NULL);
	tap_ok(fd == -1 && errno == ENXIO, "unknown service: ENXIO (%s)",
	       strerror(errno));
	o.family = AF_INET6;
	fd = katls_connect("127.0.0.1", "1", &o, NULL);
	tap_ok(fd == -1 && errno == ENXIO, "IPv4 literal with family AF_INET6: ENXIO (%s)",
	       strerror(errno));
	o.family = AF_UNSPEC;

	/* A listening port: TCP connects, then the opt-in fails. */
	lfd = listener(AF_INET, 4, port);
	o.policy = "x/y";
	errno = 0;
	fd = katls_connect("127.0.0.1", port, &o, NULL);
	tap_ok(fd == -1 && errno == EINVAL, "bad policy: EINVAL");
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	s = accept(lfd, NULL, NULL);
	tap_ok(s < 0 && errno == EAGAIN,
	       "bad policy: rejected before any connection was made");
	if (s >= 0)
		close(s);

	o.policy = "sim-test";
	if (katls_loaded) {
		tap_skip("connect to a plain server", "katls module loaded");
	} else {
		fds = count_fds();
		errno = 0;
		fd = katls_connect("localhost", port, &o, &res);
		tap_ok(fd == -1 && errno == ENOPROTOOPT,
		       "katls_connect without the module: ENOPROTOOPT (%s)",
		       strerror(errno));
		tap_ok(count_fds() == fds, "client socket closed on failure");
		s = accept(lfd, NULL, NULL);
		if (s >= 0) {
			char c;
			struct pollfd p = { .fd = s, .events = POLLIN };

			poll(&p, 1, 2000);
			tap_ok(recv(s, &c, 1, 0) == 0,
			       "server sees the connection closed");
			close(s);
		} else {
			tap_ok(0, "server accepted the connection (%s)",
			       strerror(errno));
		}
	}
	close(lfd);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A listener whose accept queue is full drops further SYNs, so a connect
 * to it hangs until the timeout.
 */
static void test_connect_timeout(void)
{
	struct katls_options o = { .connect_timeout_ms = 300 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int lfd, fill[4], nfill = 0, fd, fds;
	long long t0, dt;
	char port[8];

	lfd = listener(AF_INET, 0, port);
	if (!tap_ok(lfd >= 0, "listener with backlog 0"))
		return;
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	/* Fill the accept queue (backlog 0 still takes one). */
	for (int i = 0; i < 2; i++) {
		fill[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[nfill], (struct sockaddr *)&sin, len);
		nfill++;
	}
	usleep(100000);

	fds = count_fds();
	t0 = now_ms();
	errno = 0;
	fd = katls_connect("127.0.0.1", port, &o, NULL);
	dt = now_ms() - t0;
	tap_ok(fd == -1 && errno == ETIMEDOUT,
	       "connect to a full accept queue: ETIMEDOUT (%s)",
	       strerror(errno));
	tap_ok(dt >= 290 && dt < 3000, "connect timeout honoured (%lld ms)",
	       dt);
	tap_ok(count_fds() == fds, "no descriptor leaked after the timeout");
	for (int i = 0; i < nfill; i++)
		close(fill[i]);
	close(lfd);
}

static void test_accept(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct katls_result res;
	int lfd, cfd, fd, fds;
	char port[8], c;

	lfd = listener(AF_INET, 4, port);
	if (!tap_ok(lfd >= 0, "listener"))
		return;
	getsockname(lfd, (struct sockaddr *)&sin, &len);

	fcntl(lfd, F_SETFL, O_NONBLOCK);
	errno = 0;
	tap_ok(katls_accept(lfd, NULL, &res) == -1 && errno == EAGAIN,
	       "non-blocking listener, nothing pending: EAGAIN");

	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	connect(cfd, (struct sockaddr *)&sin, len);
	fcntl(lfd, F_SETFL, 0);
	if (katls_loaded) {
		tap_skip("katls_accept without the module",
			 "katls module loaded");
	} else {
		fds = count_fds();
		errno = 0;
		fd = katls_accept(lfd, NULL, &res);
		tap_ok(fd == -1 && errno == ENOPROTOOPT,
		       "katls_accept without the module: ENOPROTOOPT (%s)",
		       strerror(errno));
		tap_ok(count_fds() == fds, "accepted socket closed on failure");
		tap_ok(recv(cfd, &c, 1, 0) == 0,
		       "client sees the connection closed");
	}
	close(cfd);

	errno = 0;
	tap_ok(katls_accept(cfd, NULL, NULL) == -1 && errno == EBADF,
	       "closed descriptor: EBADF");
	close(lfd);

	lfd = listener(AF_INET, -1, port);
	errno = 0;
	tap_ok(katls_accept(lfd, NULL, NULL) == -1 && errno == EINVAL,
	       "socket that does not listen: EINVAL");
	close(lfd);
}

/* Byte i of the test stream. */
static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 31 + (i >> 12));
}

/*
 * Child: read @total bytes from @fd, check every byte against pat(),
 * exit 0 if all arrived intact and then EOF, 1 otherwise.
 */
static void reader_child(int fd, size_t total)
{
	static unsigned char buf[65536];
	size_t got = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(got + (size_t)i))
				_exit(1);
		got += (size_t)n;
	}
	_exit(n == 0 && got == total ? 0 : 1);
}

/* katls_send() on real loopback TCP: non-blocking and blocking. */
static void test_send(void)
{
	size_t len = 4u << 20, sent, total = len + (1u << 20);
	unsigned char *buf = malloc(total);
	int cfd = -1, sfd = tcp_pair(&cfd), small = 16384, st = -1;
	ssize_t r;
	pid_t pid;

	if (!tap_ok(sfd >= 0 && buf, "loopback TCP pair for katls_send"))
		goto out;
	for (size_t i = 0; i < total; i++)
		buf[i] = pat(i);
	setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(sfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	fcntl(cfd, F_SETFL, O_NONBLOCK);

	/* Nobody reads: the buffers fill, the count so far comes back. */
	r = katls_send(cfd, buf, len, MSG_NOSIGNAL);
	tap_ok(r > 0 && (size_t)r < len,
	       "non-blocking, buffers full: the count so far (%zd of %zu)", r,
	       len);
	sent = r > 0 ? (size_t)r : 0;
	errno = 0;
	r = katls_send(cfd, buf + sent, len - sent, MSG_NOSIGNAL);
	tap_ok(r == -1 && errno == EAGAIN,
	       "non-blocking, nothing more fits: -1/EAGAIN (%s)",
	       strerror(errno));

	/* A reader drains and checks every byte; the rest goes blocking. */
	pid = fork();
	if (pid == 0) {
		close(cfd);
		reader_child(sfd, total);
	}
	fcntl(cfd, F_SETFL, 0);
	r = katls_send(cfd, buf + sent, total - sent, MSG_NOSIGNAL);
	tap_ok(r == (ssize_t)(total - sent),
	       "blocking: the rest is sent whole (%zd of %zu)", r, total - sent);
	shutdown(cfd, SHUT_WR);
	if (pid > 0)
		waitpid(pid, &st, 0);
	tap_ok(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "the reader got all %zu bytes in order", total);
out:
	free(buf);
	if (cfd >= 0)
		close(cfd);
	if (sfd >= 0)
		close(sfd);
}

int main(void)
{
	katls_loaded = access("/proc/net/katls_stat", F_OK) == 0 ||
		       access("/sys/module/katls", F_OK) == 0;
	tap_plan_lazy();
	if (katls_loaded)
		tap_diag("katls module loaded: the no-module checks are skipped");
	test_validation();
	test_no_module();
	test_connect();
	test_connect_timeout();
	test_accept();
	test_send();
	return tap_done();
}
