// SPDX-License-Identifier: GPL-2.0
/*
 * shim.c - libkatls-run.so, the LD_PRELOAD half of katls-run(1).
 *
 * Opt-in.  Client role: connect(2) of an AF_INET/AF_INET6 stream socket
 * to a selected destination port completes the TCP connection, opts the
 * socket in (libkatls, katls_attach()/katls_attach_start()) and requests
 * the handshake with the configured policy before the program can move
 * a byte.  A blocking socket returns from connect() once the verdict is
 * in; a non-blocking one waits only for the TCP handshake, submits the
 * request and returns -1/EINPROGRESS, and the kernel's gate reports
 * POLLOUT when the socket is open (POLLERR when it failed).  Server
 * role: accept(2)/accept4(2) on a selected local port does the same on
 * the accepted socket (waiting for the verdict only when both the
 * listening and the accepted socket are blocking).
 *
 * Failing closed.  When the opt-in or the handshake fails, the program
 * gets an error and never a plain TCP connection: connect() fails with
 * the katls errno (ENOPROTOOPT no module, ESRCH no katlsd, EACCES
 * rejected, ...), accept() with ECONNABORTED (the accepted socket is
 * closed), the socket is shut down both ways, and every later data call
 * returns the same errno.  One line on stderr says why (unless quiet).
 *
 * End of stream.  On kTLS a peer's close_notify alert reaches a plain
 * recv(2) as EIO and a bare TCP FIN as 0, the opposite of what a
 * program reading to the end needs.  The shim receives through
 * recvmsg(2) with the record type: application data is returned as is,
 * close_notify becomes 0 (end of stream, then 0 for ever), a FIN
 * without close_notify becomes -1/ECONNRESET (possible truncation),
 * another alert or record type -1/EPROTO.  It sends close_notify when
 * the program calls shutdown(SHUT_WR or SHUT_RDWR) or close() on the
 * last descriptor of an open katls socket.
 *
 * Only the libc entry points are wrapped; everything else passes
 * through (Documentation/katls-run.rst lists what cannot be covered).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

#ifndef SOL_TLS
#define SOL_TLS			282
#endif
#ifndef TLS_SET_RECORD_TYPE
#define TLS_SET_RECORD_TYPE	1
#define TLS_GET_RECORD_TYPE	2
#endif

#define EXPORT __attribute__((visibility("default")))

/* TLS record content types (RFC 8446, 5.1). */
#define CT_ALERT		21
#define CT_DATA			23

/* How long shutdown()/close() wait to queue close_notify. */
#define CLOSE_NOTIFY_WAIT_MS	5000

/* Per-descriptor state: flags in the low bits, an errno above. */
#define F_KATLS		0x01u	/* opted in by the shim (or inherited) */
#define F_FAILED	0x02u	/* failed closed; errno in the high bits */
#define F_WR_DONE	0x04u	/* close_notify sent (or write side shut) */
#define F_EOF		0x08u	/* close_notify received */
#define F_SHARED	0x10u	/* maybe open elsewhere (dup, fork, exec) */
#define F_WARNED	0x20u	/* the truncation was reported once */
#define ERR_SHIFT	16

/* Descriptors above this are never opted in (EMFILE). */
#define TABLE_FDS	(1u << 20)

static struct krun_config cfg;
static int cfg_err;		/* errno if the configuration is invalid */
static char cfg_msg[KRUN_ERR_MAX];
static uint32_t *table;		/* TABLE_FDS entries, mmap()ed */
static int table_hwm = -1;	/* highest descriptor ever tracked */
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ */
/* The functions the shim wraps, from the next object (libc).          */

#define REAL(name) real_##name()
#define DEFINE_REAL(name, type)						\
	static type real_##name(void)					\
	{								\
		static type p;						\
		type v = __atomic_load_n(&p, __ATOMIC_ACQUIRE);		\
		if (!v) {						\
			v = (type)dlsym(RTLD_NEXT, #name);		\
			if (!v)						\
				abort();				\
			__atomic_store_n(&p, v, __ATOMIC_RELEASE);	\
		}							\
		return v;						\
	}

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*readv_fn)(int, const struct iovec *, int);
typedef ssize_t (*recv_fn)(int, void *, size_t, int);
typedef ssize_t (*recvfrom_fn)(int, void *, size_t, int, struct sockaddr *,
			       socklen_t *);
typedef ssize_t (*recvmsg_fn)(int, struct msghdr *, int);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef int (*shutdown_fn)(int, int);
typedef int (*close_fn)(int);
typedef int (*dup_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*socket_fn)(int, int, int);
typedef int (*close_range_fn)(unsigned int, unsigned int, int);
typedef void (*closefrom_fn)(int);
typedef int (*ioctl_fn)(int, unsigned long, ...);

DEFINE_REAL(connect, connect_fn)
DEFINE_REAL(accept, accept_fn)
DEFINE_REAL(accept4, accept4_fn)
DEFINE_REAL(read, read_fn)
DEFINE_REAL(readv, readv_fn)
DEFINE_REAL(recv, recv_fn)
DEFINE_REAL(recvfrom, recvfrom_fn)
DEFINE_REAL(recvmsg, recvmsg_fn)
DEFINE_REAL(write, write_fn)
DEFINE_REAL(send, send_fn)
DEFINE_REAL(sendmsg, sendmsg_fn)
DEFINE_REAL(shutdown, shutdown_fn)
DEFINE_REAL(close, close_fn)
DEFINE_REAL(dup, dup_fn)
DEFINE_REAL(dup2, dup2_fn)
DEFINE_REAL(dup3, dup3_fn)
DEFINE_REAL(socket, socket_fn)
DEFINE_REAL(close_range, close_range_fn)
DEFINE_REAL(closefrom, closefrom_fn)
DEFINE_REAL(ioctl, ioctl_fn)

/* ------------------------------------------------------------------ */
/* Messages and the descriptor table.                                  */

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n, e = errno;

	if (cfg.quiet)
		return;
	n = snprintf(buf, sizeof(buf), "katls-run[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(buf);
	buf[n++] = '\n';
	if (REAL(write)(STDERR_FILENO, buf, (size_t)n) < 0)
		(void)0;
	errno = e;
}

static uint32_t get(int fd)
{
	if (!table || fd < 0 || (unsigned int)fd >= TABLE_FDS)
		return 0;
	return __atomic_load_n(&table[fd], __ATOMIC_ACQUIRE);
}

static void put(int fd, uint32_t v)
{
	int hwm;

	if (!table || fd < 0 || (unsigned int)fd >= TABLE_FDS)
		return;
	__atomic_store_n(&table[fd], v, __ATOMIC_RELEASE);
	hwm = __atomic_load_n(&table_hwm, __ATOMIC_RELAXED);
	while (v && fd > hwm &&
	       !__atomic_compare_exchange_n(&table_hwm, &hwm, fd, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void set_flags(int fd, uint32_t f)
{
	if (table && fd >= 0 && (unsigned int)fd < TABLE_FDS)
		__atomic_or_fetch(&table[fd], f, __ATOMIC_ACQ_REL);
}

/*
 * Whether the tracked @fd still is a katls socket.  A descriptor the
 * program closed in a way the shim does not see (fclose(3) of an
 * fdopen(3) stream, a raw close system call) leaves a stale entry; the
 * number may since have been reused for something else.
 */
static bool still_katls(int fd)
{
	struct katls_result r;

	if (katls_result_get(fd, &r) == 0)
		return true;
	return errno != ENOPROTOOPT && errno != EOPNOTSUPP &&
	       errno != ENOTSOCK && errno != EBADF;
}

/* After fork(2) both processes hold every tracked socket. */
static void mark_all_shared(void)
{
	int hwm = __atomic_load_n(&table_hwm, __ATOMIC_RELAXED);

	for (int fd = 0; fd <= hwm; fd++)
		if (get(fd) & F_KATLS)
			set_flags(fd, F_SHARED);
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

/*
 * Sockets that are katls sockets already (inherited through exec, e.g.
 * a server's child with the connection on stdin/stdout): track them, as
 * shared, so that their reads and their close get the same treatment.
 */
static void adopt_inherited(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self;

	if (!d)
		return;
	self = dirfd(d);
	while ((de = readdir(d))) {
		struct katls_result r;
		struct stat st;
		int fd = atoi(de->d_name);

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || fd == self)
			continue;
		if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (katls_result_get(fd, &r) == 0 || errno == EINPROGRESS)
			put(fd, F_KATLS | F_SHARED);
	}
	closedir(d);
}

static void init(void)
{
	void *m;

	m = mmap(NULL, TABLE_FDS * sizeof(uint32_t), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m != MAP_FAILED)
		table = m;
	if (krun_config_from_env(&cfg, env_get, cfg_msg) < 0)
		cfg_err = EINVAL;
	else if (!table)
		cfg_err = ENOMEM;
	pthread_atfork(NULL, mark_all_shared, mark_all_shared);
	adopt_inherited();
}

__attribute__((constructor))
static void shim_init(void)
{
	pthread_once(&once, init);
}

static void ensure_init(void)
{
	pthread_once(&once, init);
}

/* ------------------------------------------------------------------ */
/* Opting in.                                                           */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fmt_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;

		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		port = ntohs(s->sin_port);
		snprintf(buf, len, "%s:%u", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		port = ntohs(s->sin6_port);
		snprintf(buf, len, "[%s]:%u", ip, port);
	} else {
		snprintf(buf, len, "?");
	}
}

static uint16_t sa_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
}

static bool stream_socket(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	       type == SOCK_STREAM;
}

/* The reason of a failed opt-in, with the kernel's outcome if any. */
static void report(const char *what, const char *peer, int err,
		   const struct katls_result *res)
{
	char line[KATLS_RESULT_STR_MAX] = "";

	if (res && res->state == KATLS_STATE_FAILED)
		katls_format_result(res, line, sizeof(line));
	say("%s %s: %s%s%s; failing closed", what, peer,
	    katls_strerror(err), *line ? ": " : "", line);
}

/* Fail @fd closed: no byte moves, every data call returns @err. */
static void fail_closed(int fd, int err)
{
	put(fd, F_KATLS | F_FAILED | ((uint32_t)err << ERR_SHIFT));
	REAL(shutdown)(fd, SHUT_RDWR);
}

static void options(struct katls_options *o)
{
	memset(o, 0, sizeof(*o));
	o->policy = cfg.policy;
	o->peername = cfg.has_peername ? cfg.peername : NULL;
	o->timeout_ms = cfg.timeout_ms;
}

/* Blocking handshake; 0 or -1 with errno.  Signals do not end the wait. */
static int attach_wait(int fd, enum katls_role role, struct katls_result *res)
{
	struct katls_options o;
	int r;

	options(&o);
	r = katls_attach(fd, role, &o, res);
	while (r < 0 && errno == EINTR)
		r = katls_wait(fd, -1, res);
	return r;
}

/* Wait (bounded) until a connect in progress is established: 0 or errno. */
static int wait_connected(int fd)
{
	long long deadline = now_ms() + KATLS_CONNECT_TIMEOUT_DEFAULT_MS;
	int err = 0;
	socklen_t len = sizeof(err);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n > 0)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
	const struct sockaddr *sa = addr.__sockaddr__;
	struct katls_result res;
	struct katls_options o;
	char peer[INET6_ADDRSTRLEN + 16];
	int r, err, fl;

	ensure_init();
	if (get(fd) && !(get(fd) & F_FAILED) && !still_katls(fd))
		put(fd, 0);	/* stale: a new socket on a reused number */
	if (!sa || alen < sizeof(sa_family_t) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    get(fd) || !stream_socket(fd))
		return REAL(connect)(fd, sa, alen);
	if (cfg_err) {
		say("configuration: %s; connect() fails with EINVAL",
		    cfg_msg[0] ? cfg_msg : strerror(cfg_err));
		errno = cfg_err;
		return -1;
	}
	if (cfg.role != KATLS_ROLE_CLIENT || !krun_port_selected(&cfg, sa_port(sa)))
		return REAL(connect)(fd, sa, alen);
	fmt_addr(sa, peer, sizeof(peer));
	if ((unsigned int)fd >= TABLE_FDS) {
		say("connect to %s: descriptor %d too high to track", peer, fd);
		errno = EMFILE;
		return -1;
	}

	r = REAL(connect)(fd, sa, alen);
	if (r < 0 && errno != EINPROGRESS && errno != EINTR)
		return -1;
	if (r < 0) {
		/* The opt-in needs an established connection, and must come
		 * before the program's first byte: wait for TCP here. */
		err = wait_connected(fd);
		if (err) {
			errno = err;
			return -1;
		}
	}

	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK)) {
		if (attach_wait(fd, KATLS_ROLE_CLIENT, &res) < 0) {
			err = errno;
			report("connect to", peer, err, &res);
			fail_closed(fd, err);
			errno = err;
			return -1;
		}
		put(fd, F_KATLS);
		return 0;
	}
	options(&o);
	if (katls_attach_start(fd, KATLS_ROLE_CLIENT, &o) < 0) {
		err = errno;
		report("connect to", peer, err, NULL);
		fail_closed(fd, err);
		errno = err;
		return -1;
	}
	put(fd, F_KATLS);
	errno = EINPROGRESS;
	return -1;
}

static int accepted(int lfd, int fd, int flags)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct katls_result res;
	struct katls_options o;
	char peer[INET6_ADDRSTRLEN + 16];
	bool blocking;
	int err, lfl;

	if (fd < 0)
		return fd;
	put(fd, 0);	/* a new socket: no stale entry applies */
	if (cfg.role != KATLS_ROLE_SERVER && !cfg_err)
		return fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return fd;
	if (cfg_err) {
		say("configuration: %s; accept() fails with ECONNABORTED",
		    cfg_msg[0] ? cfg_msg : strerror(cfg_err));
		REAL(close)(fd);
		errno = ECONNABORTED;
		return -1;
	}
	if (!krun_port_selected(&cfg, sa_port((struct sockaddr *)&ss)))
		return fd;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		ss.ss_family = AF_UNSPEC;
	fmt_addr((struct sockaddr *)&ss, peer, sizeof(peer));
	if ((unsigned int)fd >= TABLE_FDS) {
		say("accept from %s: descriptor %d too high to track", peer, fd);
		REAL(close)(fd);
		errno = ECONNABORTED;
		return -1;
	}
	lfl = fcntl(lfd, F_GETFL);
	blocking = !(flags & SOCK_NONBLOCK) && lfl >= 0 && !(lfl & O_NONBLOCK);
	if (blocking) {
		err = attach_wait(fd, KATLS_ROLE_SERVER, &res) < 0 ? errno : 0;
	} else {
		options(&o);
		err = katls_attach_start(fd, KATLS_ROLE_SERVER, &o) < 0 ?
		      errno : 0;
		res.state = KATLS_STATE_IDLE;
	}
	if (err) {
		report("accept from", peer, err, &res);
		put(fd, 0);
		REAL(close)(fd);
		errno = ECONNABORTED;
		return -1;
	}
	put(fd, F_KATLS);
	return fd;
}

EXPORT int accept(int lfd, __SOCKADDR_ARG addr, socklen_t *alen)
{
	ensure_init();
	return accepted(lfd, REAL(accept)(lfd, addr.__sockaddr__, alen), 0);
}

EXPORT int accept4(int lfd, __SOCKADDR_ARG addr, socklen_t *alen, int flags)
{
	ensure_init();
	return accepted(lfd, REAL(accept4)(lfd, addr.__sockaddr__, alen, flags),
			flags);
}

/* ------------------------------------------------------------------ */
/* Receiving: data as data, close_notify as the end, a bare FIN as an   */
/* error.                                                               */

static size_t iov_len(const struct iovec *iov, size_t n)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* The first @n (<= 2) bytes received into @iov. */
static size_t iov_head(const struct iovec *iov, size_t cnt, size_t got,
		       unsigned char *out, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < cnt && k < n && k < got; i++)
		for (size_t j = 0; j < iov[i].iov_len && k < n && k < got; j++)
			out[k++] = ((unsigned char *)iov[i].iov_base)[j];
	return k;
}

/*
 * One receive on the tracked katls socket @fd.  @um: the caller's
 * msghdr (recvmsg(2)), or NULL.  Its control messages other than the
 * record type are handed back.
 */
static ssize_t krun_rx(int fd, uint32_t st, struct iovec *iov, size_t cnt,
		       int flags, struct msghdr *um)
{
	union {
		char buf[1024];
		struct cmsghdr align;
	} cb;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = cnt };
	struct cmsghdr *cm;
	unsigned char a[2];
	size_t ctl_used = 0, got;
	int type = -1;
	bool ctrunc = false;
	ssize_t n;

	if (st & F_FAILED) {
		errno = (int)(st >> ERR_SHIFT);
		return -1;
	}
	if (st & F_EOF)
		return 0;
	if (um) {
		mh.msg_name = um->msg_name;
		mh.msg_namelen = um->msg_namelen;
	}
	mh.msg_control = cb.buf;
	mh.msg_controllen = sizeof(cb.buf);
	n = REAL(recvmsg)(fd, &mh, flags);
	if (n < 0)
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_TLS &&
		    cm->cmsg_type == TLS_GET_RECORD_TYPE &&
		    cm->cmsg_len >= CMSG_LEN(1)) {
			type = *(unsigned char *)CMSG_DATA(cm);
			continue;
		}
		if (!um)
			continue;
		/* Someone else's control message: give it back. */
		if (um->msg_control &&
		    ctl_used + CMSG_ALIGN(cm->cmsg_len) <= um->msg_controllen) {
			memcpy((char *)um->msg_control + ctl_used, cm,
			       cm->cmsg_len);
			ctl_used += CMSG_ALIGN(cm->cmsg_len);
		} else {
			ctrunc = true;
		}
	}
	if (um) {
		um->msg_namelen = mh.msg_namelen;
		um->msg_controllen = ctl_used;
		um->msg_flags = mh.msg_flags | (ctrunc ? MSG_CTRUNC : 0);
	}
	if (n == 0) {
		if (!iov_len(iov, cnt))
			return 0;
		/* TCP FIN without the peer's close_notify. */
		if (!(get(fd) & F_WARNED)) {
			set_flags(fd, F_WARNED);
			say("connection closed without TLS close_notify "
			    "(possible truncation): reporting ECONNRESET");
		}
		errno = ECONNRESET;
		return -1;
	}
	if (type == CT_DATA)
		return n;
	if (type < 0) {
		/* A stale entry (see still_katls()): a plain socket. */
		if (!still_katls(fd)) {
			put(fd, 0);
			return n;
		}
		/* kTLS always gives the type: never pass on bytes whose
		 * record type is unknown as data. */
		say("received bytes without a TLS record type: EPROTO");
		errno = EPROTO;
		return -1;
	}
	if (type != CT_ALERT) {
		say("peer sent a TLS record of type %d (not data): EPROTO",
		    type);
		errno = EPROTO;
		return -1;
	}

	/* An alert: two bytes, level and description. */
	got = iov_head(iov, cnt, (size_t)n, a, sizeof(a));
	if ((size_t)n > sizeof(a)) {
		errno = EPROTO;
		return -1;
	}
	if (got < sizeof(a)) {
		struct iovec one;
		union {
			char buf[CMSG_SPACE(1)];
			struct cmsghdr align;
		} c1;
		struct msghdr m1 = { .msg_iov = &one, .msg_iovlen = 1 };
		unsigned char rest[2];

		if (flags & MSG_PEEK) {
			/* Peek the whole alert again. */
			one.iov_base = rest;
			one.iov_len = 2;
			got = 0;
		} else {
			one.iov_base = a + got;
			one.iov_len = sizeof(a) - got;
		}
		m1.msg_control = c1.buf;
		m1.msg_controllen = sizeof(c1.buf);
		n = REAL(recvmsg)(fd, &m1, flags & ~MSG_DONTWAIT);
		if (n <= 0 || (size_t)n + got != sizeof(a)) {
			errno = EPROTO;
			return -1;
		}
		if (flags & MSG_PEEK)
			memcpy(a, rest, sizeof(a));
	}
	if (a[1] == KATLS_ALERT_CLOSE_NOTIFY) {
		if (!(flags & MSG_PEEK))
			set_flags(fd, F_EOF);
		return 0;
	}
	say("peer sent TLS alert %s: EPROTO", katls_alert_name(a[1]));
	errno = EPROTO;
	return -1;
}

/* A stale entry on a descriptor that is no socket any more. */
static bool not_socket(int fd, ssize_t n)
{
	if (n >= 0 || errno != ENOTSOCK)
		return false;
	put(fd, 0);
	return true;
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	uint32_t st = get(fd);
	struct iovec iov = { buf, len };
	ssize_t n;

	if (!(st & F_KATLS))
		return REAL(read)(fd, buf, len);
	n = krun_rx(fd, st, &iov, 1, 0, NULL);
	return not_socket(fd, n) ? REAL(read)(fd, buf, len) : n;
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	uint32_t st = get(fd);
	ssize_t n;

	if (!(st & F_KATLS))
		return REAL(readv)(fd, iov, cnt);
	if (cnt < 0) {
		errno = EINVAL;
		return -1;
	}
	n = krun_rx(fd, st, (struct iovec *)iov, (size_t)cnt, 0, NULL);
	return not_socket(fd, n) ? REAL(readv)(fd, iov, cnt) : n;
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	uint32_t st = get(fd);
	struct iovec iov = { buf, len };

	if (!(st & F_KATLS))
		return REAL(recv)(fd, buf, len, flags);
	return krun_rx(fd, st, &iov, 1, flags, NULL);
}

/*
 * ioctl(FIONREAD) on a katls socket.  TCP counts the ciphertext queued,
 * a partial record included, so a program that reads while the count is
 * positive and takes EAGAIN for an error (wrk) fails when a record is
 * still arriving.  Report instead what one receive returns now: a
 * non-blocking peek of up to one record (0 while no record is complete,
 * and at the end of the stream; the next read reports an error).
 */
static int krun_fionread(int fd, uint32_t st, int *out)
{
	static __thread char scratch[16384];
	struct iovec iov = { scratch, sizeof(scratch) };
	ssize_t n;

	if (st & F_FAILED) {
		errno = (int)(st >> ERR_SHIFT);
		return -1;
	}
	n = krun_rx(fd, st, &iov, 1, MSG_PEEK | MSG_DONTWAIT, NULL);
	*out = n > 0 ? (int)n : 0;
	return 0;
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	uint32_t st;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	st = get(fd);
	if (req == FIONREAD && (st & F_KATLS) && arg)
		return krun_fionread(fd, st, arg);
	return REAL(ioctl)(fd, req, arg);
}

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
			  int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			__SOCKADDR_ARG addr, socklen_t *alen)
{
	uint32_t st = get(fd);
	struct iovec iov = { buf, len };
	struct msghdr m = { 0 };
	ssize_t n;

	if (!(st & F_KATLS))
		return REAL(recvfrom)(fd, buf, len, flags, addr.__sockaddr__,
				      alen);
	if (addr.__sockaddr__ && alen) {
		m.msg_name = addr.__sockaddr__;
		m.msg_namelen = *alen;
	}
	n = krun_rx(fd, st, &iov, 1, flags, &m);
	if (n >= 0 && addr.__sockaddr__ && alen)
		*alen = m.msg_namelen;
	return n;
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
			      int flags, __SOCKADDR_ARG addr, socklen_t *alen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, addr, alen);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	uint32_t st = get(fd);

	if (!(st & F_KATLS))
		return REAL(recvmsg)(fd, msg, flags);
	if (!msg) {
		errno = EFAULT;
		return -1;
	}
	return krun_rx(fd, st, msg->msg_iov, msg->msg_iovlen, flags, msg);
}

/* ------------------------------------------------------------------ */
/* Sending: record-sized pieces (libkatls's katls_send() rule).          */

static ssize_t krun_tx(int fd, uint32_t st, const void *buf, size_t len,
		       int flags)
{
	const char *p = buf;
	size_t done = 0;

	if (st & F_FAILED) {
		errno = (int)(st >> ERR_SHIFT);
		return -1;
	}
	while (done < len) {
		size_t piece = len - done;
		ssize_t n;

		if (piece > KATLS_RECORD_MAX)
			piece = KATLS_RECORD_MAX;
		n = REAL(send)(fd, p + done, piece, flags);
		if (n < 0) {
			if (done && (errno == EAGAIN || errno == EINTR))
				return (ssize_t)done;
			return -1;
		}
		done += (size_t)n;
		if ((size_t)n < piece)
			break;
	}
	return (ssize_t)done;
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	uint32_t st = get(fd);
	ssize_t n;

	if (!(st & F_KATLS))
		return REAL(write)(fd, buf, len);
	n = krun_tx(fd, st, buf, len, 0);
	return not_socket(fd, n) ? REAL(write)(fd, buf, len) : n;
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	uint32_t st = get(fd);

	if (!(st & F_KATLS))
		return REAL(send)(fd, buf, len, flags);
	return krun_tx(fd, st, buf, len, flags);
}

/* ------------------------------------------------------------------ */
/* The end of the program's data: close_notify.                          */

/* Queue a close_notify alert, waiting up to CLOSE_NOTIFY_WAIT_MS. */
static int send_close_notify(int fd)
{
	long long deadline = now_ms() + CLOSE_NOTIFY_WAIT_MS;
	union {
		char buf[CMSG_SPACE(1)];
		struct cmsghdr align;
	} cb;
	unsigned char alert[2] = { 1, KATLS_ALERT_CLOSE_NOTIFY };
	struct iovec iov = { alert, sizeof(alert) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cb.buf, .msg_controllen = sizeof(cb.buf),
	};
	struct cmsghdr *cm;

	memset(&cb, 0, sizeof(cb));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(cm) = CT_ALERT;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		long long left;
		ssize_t n = REAL(sendmsg)(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n == (ssize_t)sizeof(alert))
			return 0;
		if (n >= 0) {
			errno = EIO;
			return -1;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * End the write side of the open katls socket @fd with close_notify
 * (once).  @wait: wait for a pending verdict first (shutdown); else a
 * socket without a verdict is left alone (close cancels the request).
 */
static void end_data(int fd, bool wait)
{
	uint32_t st = get(fd);
	int r;

	if (!(st & F_KATLS) || (st & (F_FAILED | F_WR_DONE)))
		return;
	r = katls_result_get(fd, NULL);
	if (r < 0 && errno == EINPROGRESS && wait)
		while ((r = katls_wait(fd, -1, NULL)) < 0 && errno == EINTR)
			;
	if (r < 0)
		return;
	set_flags(fd, F_WR_DONE);
	if (send_close_notify(fd) < 0 && errno != EPIPE)
		say("could not send TLS close_notify (%s): the peer sees a "
		    "truncated stream", strerror(errno));
}

EXPORT int shutdown(int fd, int how)
{
	if ((how == SHUT_WR || how == SHUT_RDWR) && (get(fd) & F_KATLS))
		end_data(fd, true);
	return REAL(shutdown)(fd, how);
}

/*
 * Whether another descriptor (of this or another process) still refers
 * to the socket of @fd: then close(@fd) does not end the stream.
 */
static bool open_elsewhere(int fd)
{
	char want[48], link[64], path[64];
	struct stat st;
	struct dirent *p;
	DIR *procs;
	pid_t self = getpid();
	bool found = false;

	if (fstat(fd, &st) < 0)
		return false;
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	procs = opendir("/proc");
	if (!procs)
		return true;	/* cannot tell: do not end the stream */
	while (!found && (p = readdir(procs))) {
		struct dirent *f;
		DIR *fds;
		int pid = atoi(p->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			char lp[320];
			ssize_t n;

			if (f->d_name[0] < '0' || f->d_name[0] > '9')
				continue;
			if (pid == self && (atoi(f->d_name) == fd ||
					    atoi(f->d_name) == dirfd(fds)))
				continue;
			snprintf(lp, sizeof(lp), "%s/%s", path, f->d_name);
			n = readlink(lp, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (!strcmp(link, want)) {
				found = true;
				break;
			}
		}
		closedir(fds);
	}
	closedir(procs);
	return found;
}

EXPORT int close(int fd)
{
	uint32_t st = get(fd);

	if (st & F_KATLS) {
		if (!(st & F_SHARED) || !open_elsewhere(fd))
			end_data(fd, false);
		put(fd, 0);
	}
	return REAL(close)(fd);
}

/* close(2) of every tracked descriptor in [@first, @last]. */
static void closing_range(unsigned int first, unsigned int last)
{
	int hwm = __atomic_load_n(&table_hwm, __ATOMIC_RELAXED);

	for (unsigned int fd = first; hwm >= 0 && fd <= last &&
	     fd <= (unsigned int)hwm; fd++) {
		uint32_t st = get((int)fd);

		if (!(st & F_KATLS))
			continue;
		if (!(st & F_SHARED) || !open_elsewhere((int)fd))
			end_data((int)fd, false);
		put((int)fd, 0);
	}
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		closing_range(first, last);
	return REAL(close_range)(first, last, flags);
}

EXPORT void closefrom(int lowfd)
{
	if (lowfd >= 0)
		closing_range((unsigned int)lowfd, ~0u);
	REAL(closefrom)(lowfd);
}

/* A new socket never carries an old entry. */
EXPORT int socket(int domain, int type, int protocol)
{
	int fd = REAL(socket)(domain, type, protocol);

	if (fd >= 0 && get(fd))
		put(fd, 0);
	return fd;
}

/* ------------------------------------------------------------------ */
/* Copies of a descriptor share the socket.                             */

static int copied(int old, int nfd)
{
	uint32_t st = get(old);

	if (nfd >= 0 && nfd != old && (st & F_KATLS)) {
		set_flags(old, F_SHARED);
		put(nfd, st | F_SHARED);
	}
	return nfd;
}

EXPORT int dup(int old)
{
	return copied(old, REAL(dup)(old));
}

EXPORT int dup2(int old, int nfd)
{
	if (nfd != old && get(nfd))
		put(nfd, 0);	/* replaced: no close_notify for it */
	return copied(old, REAL(dup2)(old, nfd));
}

EXPORT int dup3(int old, int nfd, int flags)
{
	if (nfd != old && get(nfd))
		put(nfd, 0);
	return copied(old, REAL(dup3)(old, nfd, flags));
}
