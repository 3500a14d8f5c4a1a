// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * socket.c - opt sockets into katls and collect the handshake outcome.
 *
 * Every argument is checked before the first system call, so an invalid
 * option fails with EINVAL whether or not the kernel module is loaded and
 * never leaves a socket half opted in.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <katls/katls.h>

static bool policy_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Build the KATLS_REQUEST argument; 0, or -1/EINVAL. */
static int fill_request(struct katls_request *req, enum katls_role role,
			const struct katls_options *opt)
{
	static const struct katls_options defaults;
	const char *policy, *peer;
	size_t n;

	if (!opt)
		opt = &defaults;
	memset(req, 0, sizeof(*req));
	if (role != KATLS_ROLE_CLIENT && role != KATLS_ROLE_SERVER)
		goto inval;
	if (opt->flags || opt->timeout_ms > KATLS_TIMEOUT_MAX_MS)
		goto inval;
	if (opt->family != AF_UNSPEC && opt->family != AF_INET &&
	    opt->family != AF_INET6)
		goto inval;

	policy = opt->policy ? opt->policy : KATLS_POLICY_DEFAULT;
	n = strnlen(policy, KATLS_POLICY_MAX);
	if (n == 0 || n >= KATLS_POLICY_MAX)
		goto inval;
	for (size_t i = 0; i < n; i++)
		if (!policy_char(policy[i]))
			goto inval;
	memcpy(req->policy, policy, n);

	peer = opt->peername ? opt->peername : "";
	n = strnlen(peer, KATLS_PEERNAME_MAX);
	if (n >= KATLS_PEERNAME_MAX)
		goto inval;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)peer[i] <= 0x20 ||
		    (unsigned char)peer[i] >= 0x7f)
			goto inval;
	memcpy(req->peername, peer, n);

	req->role = role;
	req->timeout_ms = opt->timeout_ms;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

static void close_keep_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

/* TCP_ULP "katls"; an unknown ULP (no module) is reported as ENOPROTOOPT. */
static int opt_in(int fd)
{
	if (setsockopt(fd, SOL_TCP, TCP_ULP, KATLS_ULP_NAME,
		       sizeof(KATLS_ULP_NAME)) == 0)
		return 0;
	if (errno == ENOENT)
		errno = ENOPROTOOPT;
	return -1;
}

static int submit(int fd, const struct katls_request *req)
{
	return setsockopt(fd, SOL_KATLS, KATLS_REQUEST, req, sizeof(*req));
}

/* KATLS_RESULT into @out; 0 if the kernel answered, -1 with errno if not. */
static int read_result(int fd, struct katls_result *out)
{
	socklen_t len = sizeof(*out);

	memset(out, 0, sizeof(*out));
	if (getsockopt(fd, SOL_KATLS, KATLS_RESULT, out, &len) < 0) {
		/* ip_getsockopt() answers EOPNOTSUPP for an unknown level. */
		if (errno == EOPNOTSUPP)
			errno = ENOPROTOOPT;
		return -1;
	}
	if (len < offsetof(struct katls_result, evidence_digest)) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int katls_result_get(int fd, struct katls_result *res)
{
	struct katls_result tmp;

	if (read_result(fd, &tmp) < 0)
		return -1;
	if (res)
		*res = tmp;

	switch (tmp.state) {
	case KATLS_STATE_OPEN:
		return 0;
	case KATLS_STATE_FAILED:
		/* A failed socket must carry its reason; never report 0. */
		errno = tmp.status > 0 && tmp.status < 4096 ?
			(int)tmp.status : EPROTO;
		return -1;
	case KATLS_STATE_IDLE:
	case KATLS_STATE_PENDING:
	case KATLS_STATE_ACCEPTED:
	case KATLS_STATE_HANDOVER:
		errno = EINPROGRESS;
		return -1;
	default:
		errno = EPROTO;
		return -1;
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int katls_wait(int fd, int timeout_ms, struct katls_result *res)
{
	long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	bool woke = false;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
		int left = -1, n;

		if (katls_result_get(fd, res) == 0)
			return 0;
		if (errno != EINPROGRESS)
			return -1;
		if (timeout_ms >= 0) {
			long long d = deadline - now_ms();

			if (d <= 0) {
				errno = EINPROGRESS;
				return -1;
			}
			left = d > 0x7fffffff ? 0x7fffffff : (int)d;
		}
		if (woke) {
			/*
			 * Readiness without a verdict: the kernel gates
			 * readiness until the outcome is known, so this is
			 * a spurious wake-up.  Do not spin on it.
			 */
			struct timespec ms = { .tv_nsec = 1000000 };

			nanosleep(&ms, NULL);
		}
		n = poll(&pfd, 1, left);
		if (n < 0)
			return -1;
		if (n > 0 && (pfd.revents & POLLNVAL)) {
			errno = EBADF;
			return -1;
		}
		woke = n > 0;
	}
}

int katls_attach_start(int fd, enum katls_role role,
		       const struct katls_options *opt)
{
	struct katls_request req;
	int flags, ret, err;

	if (fill_request(&req, role, opt) < 0)
		return -1;
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -1;
	if (opt_in(fd) < 0)
		return -1;
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	ret = submit(fd, &req);
	err = errno;
	if (!(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, flags);
	if (ret == 0 || err == EINPROGRESS)
		return 0;
	errno = err;
	return -1;
}

int katls_attach(int fd, enum katls_role role,
		 const struct katls_options *opt, struct katls_result *res)
{
	struct katls_request req;
	int err;

	if (res)
		memset(res, 0, sizeof(*res));
	if (fill_request(&req, role, opt) < 0)
		return -1;
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (opt_in(fd) < 0)
		return -1;
	if (submit(fd, &req) == 0)
		return katls_result_get(fd, res);
	if (errno == EINPROGRESS)	/* non-blocking socket */
		return katls_wait(fd, -1, res);

	/* Report what the kernel knows about the failure, keep its errno. */
	err = errno;
	if (res) {
		struct katls_result tmp;

		if (read_result(fd, &tmp) == 0)
			*res = tmp;
	}
	errno = err;
	return -1;
}

static int gai_errno(int gai)
{
	switch (gai) {
	case EAI_SYSTEM:
		return errno ? errno : EIO;
	case EAI_MEMORY:
		return ENOMEM;
	case EAI_AGAIN:
		return EAGAIN;
	case EAI_NONAME:
	case EAI_SERVICE:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		return ENXIO;
	case EAI_FAIL:
		return EIO;
	default:	/* EAI_BADFLAGS, EAI_FAMILY, EAI_SOCKTYPE */
		return EINVAL;
	}
}

/* Non-blocking connect bounded by @timeout_ms; returns 0 or an errno. */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t salen,
			   unsigned int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0, n;

	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	n = poll(&pfd, 1, timeout_ms > 0x7fffffff ? 0x7fffffff :
			  (int)timeout_ms);
	if (n < 0)
		return errno;
	if (n == 0)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

int katls_connect(const char *host, const char *port,
		  const struct katls_options *opt, struct katls_result *res)
{
	static const struct katls_options defaults;
	/*
	 * No AI_ADDRCONFIG: it hides ::1 on a host (or namespace) whose only
	 * IPv6 address is the loopback one.  Unreachable addresses fail
	 * quickly and the next one is tried.
	 */
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
	};
	struct addrinfo *ais, *ai;
	struct katls_options o;
	struct katls_request req;
	unsigned int ctimeout;
	int fd = -1, err = ENXIO, gai;

	if (res)
		memset(res, 0, sizeof(*res));
	if (!opt)
		opt = &defaults;
	if (!host || !*host || !port || !*port) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * The name the caller connects to is the name the server must
	 * prove (issue 11, item 5): without one, a certificate that a
	 * trusted CA issued for any other name would do.  Only an explicit
	 * peername replaces it; "" asks for no name, which katlsd accepts
	 * only where the policy trusts an evidence-bound key.
	 */
	o = *opt;
	if (!o.peername)
		o.peername = host;
	/* Check the options now: fail before any network traffic. */
	if (fill_request(&req, KATLS_ROLE_CLIENT, &o) < 0)
		return -1;
	ctimeout = o.connect_timeout_ms ? o.connect_timeout_ms :
		   KATLS_CONNECT_TIMEOUT_DEFAULT_MS;
	hints.ai_family = o.family;

	errno = 0;
	gai = getaddrinfo(host, port, &hints, &ais);
	if (gai) {
		errno = gai_errno(gai);
		return -1;
	}
	for (ai = ais; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
			    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		err = connect_timeout(fd, ai->ai_addr, ai->ai_addrlen,
				      ctimeout);
		if (!err)
			break;
		close(fd);
		fd = -1;
		if (err == EINTR)
			break;
	}
	freeaddrinfo(ais);
	if (fd < 0) {
		errno = err;
		return -1;
	}

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    katls_attach(fd, KATLS_ROLE_CLIENT, &o, res) < 0) {
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

int katls_accept(int listen_fd, const struct katls_options *opt,
		 struct katls_result *res)
{
	struct katls_request req;
	int fd;

	if (res)
		memset(res, 0, sizeof(*res));
	if (fill_request(&req, KATLS_ROLE_SERVER, opt) < 0)
		return -1;
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	if (katls_attach(fd, KATLS_ROLE_SERVER, opt, res) < 0) {
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}
