// SPDX-License-Identifier: GPL-2.0
/*
 * mock-katls.c - a scripted stand-in for the katls socket options, linked
 * into a test build of katls-cat with
 *	-Wl,--wrap=setsockopt -Wl,--wrap=getsockopt
 * so that its relay (stdin, sendfile, half-close, exit codes) can be
 * tested on a host without the module.  Never part of an installed
 * binary.  The environment selects the outcome:
 *	KATLS_MOCK=open		the handshake succeeds (sim evidence)
 *	KATLS_MOCK=fail:ERRNO	it fails with that positive errno
 *	unset			every option reaches the real kernel
 * With KATLS_MOCK_TRACE set, every request is logged on stderr
 * ("mock: request role=R policy=P peername=N").
 *
 * Once a mocked handshake succeeded, the socket stands in for a kTLS one
 * (also wrapped: send, sendmsg, sendfile, recvmsg): every send is framed
 * as [type][length, 2 bytes big endian][payload], the record type taken
 * from a TLS_SET_RECORD_TYPE control message (default: application data,
 * 23), and recvmsg returns one frame's payload at a time with the type in
 * a TLS_GET_RECORD_TYPE control message, like kTLS.  A FIN is returned as
 * 0 whether or not a close_notify frame came first, also in the middle of
 * a frame.  That is enough for katls-cat's close_notify handling; the
 * real thing is tested on kTLS in the VM (tests/e2e/cli).
 */
#include <errno.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/katls.h>
#include "plain-ktls.h"

int __real_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len);
int __real_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len);
int __wrap_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len);
int __wrap_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len);
ssize_t __real_send(int fd, const void *buf, size_t len, int flags);
ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags);
ssize_t __real_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __real_recvmsg(int fd, struct msghdr *mh, int flags);
ssize_t __wrap_recvmsg(int fd, struct msghdr *mh, int flags);
ssize_t __real_sendfile(int out, int in, off_t *off, size_t count);
ssize_t __wrap_sendfile(int out, int in, off_t *off, size_t count);

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#define FRAME_MAX	16384
#define CT_DATA		23

/* Sockets whose mocked handshake succeeded, and their receive state. */
static struct mock_fd {
	bool open;
	unsigned char hdr[3];
	size_t hdr_got;
	int type;
	size_t left;		/* payload bytes of the current frame */
} mfd[1024];

static struct mock_fd *mocked(int fd)
{
	if (fd < 0 || fd >= (int)(sizeof(mfd) / sizeof(mfd[0])) ||
	    !mfd[fd].open)
		return NULL;
	return &mfd[fd];
}

/* Wait until @fd is ready for @events (the socket may be non-blocking). */
static void wait_for(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	poll(&p, 1, 10000);
}

/* Write all of @len bytes; 0 or -1 with errno. */
static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = __real_send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			wait_for(fd, POLLOUT);
			continue;
		}
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One frame of up to FRAME_MAX bytes; returns the payload bytes sent. */
static ssize_t send_frame(int fd, int type, const void *buf, size_t len)
{
	unsigned char f[3 + FRAME_MAX];

	if (len > FRAME_MAX)
		len = FRAME_MAX;
	f[0] = (unsigned char)type;
	f[1] = (unsigned char)(len >> 8);
	f[2] = (unsigned char)len;
	memcpy(f + 3, buf, len);
	if (write_all(fd, f, 3 + len) < 0)
		return -1;
	return (ssize_t)len;
}

ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags)
{
	if (!mocked(fd))
		return __real_send(fd, buf, len, flags);
	return send_frame(fd, CT_DATA, buf, len);
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	struct cmsghdr *cm;
	int type = CT_DATA;

	if (!mocked(fd))
		return __real_sendmsg(fd, mh, flags);
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR((struct msghdr *)mh, cm))
		if (cm->cmsg_level == SOL_TLS &&
		    cm->cmsg_type == TLS_SET_RECORD_TYPE)
			type = *CMSG_DATA(cm);
	if (mh->msg_iovlen != 1) {
		errno = EINVAL;
		return -1;
	}
	return send_frame(fd, type, mh->msg_iov[0].iov_base,
			  mh->msg_iov[0].iov_len);
}

ssize_t __wrap_sendfile(int out, int in, off_t *off, size_t count)
{
	unsigned char buf[FRAME_MAX];
	ssize_t n;

	if (!mocked(out))
		return __real_sendfile(out, in, off, count);
	n = pread(in, buf, count < sizeof(buf) ? count : sizeof(buf), *off);
	if (n <= 0)
		return n;
	n = send_frame(out, CT_DATA, buf, (size_t)n);
	if (n > 0)
		*off += n;
	return n;
}

ssize_t __wrap_recvmsg(int fd, struct msghdr *mh, int flags)
{
	struct mock_fd *m = mocked(fd);
	size_t want;
	ssize_t n = 0;

	if (!m)
		return __real_recvmsg(fd, mh, flags);
	if (mh->msg_iovlen != 1 || (flags & MSG_PEEK)) {
		errno = EINVAL;
		return -1;
	}
	while (!m->left) {
		n = recv(fd, m->hdr + m->hdr_got, sizeof(m->hdr) - m->hdr_got,
			 flags & MSG_DONTWAIT);
		if (n <= 0) {
			mh->msg_controllen = 0;
			return n;
		}
		m->hdr_got += (size_t)n;
		if (m->hdr_got < sizeof(m->hdr))
			continue;
		m->hdr_got = 0;
		m->type = m->hdr[0];
		m->left = (size_t)m->hdr[1] << 8 | m->hdr[2];
	}
	want = mh->msg_iov[0].iov_len < m->left ? mh->msg_iov[0].iov_len :
						  m->left;
	if (m->type == CT_DATA) {
		n = recv(fd, mh->msg_iov[0].iov_base, want, flags & MSG_DONTWAIT);
	} else {
		/* kTLS returns a control record whole. */
		size_t got = 0;

		while (got < want) {
			n = recv(fd, (char *)mh->msg_iov[0].iov_base + got,
				 want - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		n = got ? (ssize_t)got : n;
	}
	if (n <= 0) {
		mh->msg_controllen = 0;
		return n;
	}
	m->left -= (size_t)n;
	ktls_put_record_type(mh, m->type);
	return n;
}

static struct katls_result mock_res;

/* 0: no mock; otherwise the errno to fail with, or -1 for success. */
static int mock_mode(void)
{
	const char *m = getenv("KATLS_MOCK");

	if (!m)
		return 0;
	if (!strcmp(m, "open"))
		return -1;
	if (!strncmp(m, "fail:", 5) && atoi(m + 5) > 0)
		return atoi(m + 5);
	return 0;
}

int __wrap_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len)
{
	const struct katls_request *req = val;
	int mode = mock_mode();

	if (!mode)
		return __real_setsockopt(fd, level, name, val, len);
	if (level == SOL_TCP && name == TCP_ULP)
		return 0;
	if (level != SOL_KATLS || name != KATLS_REQUEST)
		return __real_setsockopt(fd, level, name, val, len);
	if (len != sizeof(*req)) {
		errno = EINVAL;
		return -1;
	}
	if (getenv("KATLS_MOCK_TRACE"))
		fprintf(stderr, "mock: request role=%u policy=%.*s peername=%.*s\n",
			req->role, (int)sizeof(req->policy), req->policy,
			(int)sizeof(req->peername), req->peername);
	memset(&mock_res, 0, sizeof(mock_res));
	memcpy(mock_res.policy, req->policy, sizeof(mock_res.policy));
	mock_res.policy[sizeof(mock_res.policy) - 1] = '\0';
	if (mode > 0) {
		mock_res.state = KATLS_STATE_FAILED;
		mock_res.status = (unsigned int)mode;
		errno = mode;
		return -1;
	}
	if (fd >= 0 && fd < (int)(sizeof(mfd) / sizeof(mfd[0]))) {
		memset(&mfd[fd], 0, sizeof(mfd[fd]));
		mfd[fd].open = true;
	}
	mock_res.state = KATLS_STATE_OPEN;
	mock_res.evidence_type = KATLS_EVIDENCE_SIM;
	mock_res.binding_level = KATLS_BINDING_L2;
	mock_res.measurement_len = 48;
	memset(mock_res.measurement, 0x11, 48);
	memset(mock_res.evidence_digest, 0x22, KATLS_DIGEST_LEN);
	return 0;
}

int __wrap_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len)
{
	if (mocked(fd) && level == SOL_TLS && (name == TLS_TX || name == TLS_RX)) {
		struct tls_crypto_info ci = {
			.version = TLS_1_3_VERSION,
			.cipher_type = TLS_CIPHER_AES_GCM_128,
		};

		if (*len < sizeof(ci)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(val, &ci, sizeof(ci));
		*len = sizeof(ci);
		return 0;
	}
	if (!mock_mode() || level != SOL_KATLS || name != KATLS_RESULT)
		return __real_getsockopt(fd, level, name, val, len);
	if (*len > sizeof(mock_res))
		*len = sizeof(mock_res);
	memcpy(val, &mock_res, *len);
	return 0;
}
