// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * data.c - the end of a TLS stream on an open katls (kTLS) socket.
 *
 * kTLS hands the application every record it decrypts.  Application data
 * comes out of recv(2) as bytes; any other record (an alert, a
 * post-handshake message) only through recvmsg(2) with a
 * TLS_GET_RECORD_TYPE control message, and a plain recv(2) fails with EIO
 * on it.  A TCP FIN is an end of stream like on any socket: recv(2)
 * returns 0 whether or not the peer sent close_notify first, so an
 * attacker who can cut the connection could truncate the data unnoticed.
 * katls_recv() tells the two apart; katls_shutdown() and katls_close()
 * send the close_notify that lets the peer do the same (RFC 8446, 6.1).
 *
 * Nothing here keeps state: a record type is known from the control
 * message that comes with the very recvmsg(2) call that returns it.
 *
 * katls_send() writes in pieces of at most one TLS record
 * (KATLS_RECORD_MAX): kTLS encrypts a whole sendmsg(2) while it holds
 * the socket lock, so one large send() keeps ACKs and window updates
 * waiting until the last record of it is encrypted
 * (Documentation/userspace-api.rst, "Writing data").
 */
#include <errno.h>
#include <linux/tls.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <katls/katls.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

/* TLS record content types (RFC 8446, 5.1). */
#define CT_ALERT	21
#define CT_DATA		23

#define ALERT_LEVEL_WARNING	1

/* How long katls_close() waits to queue its close_notify. */
#define CLOSE_NOTIFY_WAIT_MS	5000

/* 0 if @fd sends through kTLS, -1/ENOPROTOOPT if not. */
static int ktls_tx(int fd)
{
	struct tls_crypto_info ci;
	socklen_t len = sizeof(ci);

	if (getsockopt(fd, SOL_TLS, TLS_TX, &ci, &len) == 0 &&
	    len >= sizeof(ci) && ci.version == TLS_1_3_VERSION)
		return 0;
	if (errno == EBADF || errno == ENOTSOCK)
		return -1;
	/*
	 * ENOPROTOOPT/EOPNOTSUPP: no TLS at all; ENOTCONN: a katls socket
	 * before the verdict; EBUSY: kTLS without a TX key.
	 */
	errno = ENOPROTOOPT;
	return -1;
}

/* One recvmsg(2); *type gets the record type, or -1 without one. */
static ssize_t recv_typed(int fd, void *buf, size_t len, int flags, int *type)
{
	union {
		char buf[CMSG_SPACE(sizeof(unsigned char))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*type = -1;
	n = recvmsg(fd, &mh, flags);
	if (n <= 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_TLS &&
		    cm->cmsg_type == TLS_GET_RECORD_TYPE &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(unsigned char)))
			*type = *(unsigned char *)CMSG_DATA(cm);
	return n;
}

ssize_t katls_recv(int fd, void *buf, size_t len, int flags, int *alert)
{
	unsigned char a[2];
	size_t got;
	ssize_t n;
	int type;

	if (alert)
		*alert = -1;
	if (!buf || !len) {
		errno = EINVAL;
		return -1;
	}
	n = recv_typed(fd, buf, len, flags, &type);
	if (n < 0)
		return -1;
	if (n == 0) {
		/* A TCP FIN without the peer's close_notify. */
		errno = ECONNABORTED;
		return -1;
	}
	if (type == CT_DATA)
		return n;
	if (type < 0) {
		/* Not kTLS: records and alerts cannot be told apart. */
		errno = ENOPROTOOPT;
		return -1;
	}
	if (type != CT_ALERT) {
		/* A post-handshake message (KeyUpdate, ticket) or garbage. */
		errno = EPROTO;
		return -1;
	}

	/* An alert is two bytes; a 1-byte buffer gets them in two reads. */
	got = (size_t)n < sizeof(a) ? (size_t)n : sizeof(a);
	memcpy(a, buf, got);
	if ((size_t)n > sizeof(a)) {
		errno = EPROTO;
		return -1;
	}
	while (got < sizeof(a) && !(flags & MSG_PEEK)) {
		n = recv_typed(fd, a + got, sizeof(a) - got,
			       flags & ~MSG_DONTWAIT, &type);
		if (n < 0)
			return -1;
		if (n == 0 || type != CT_ALERT) {
			errno = EPROTO;
			return -1;
		}
		got += (size_t)n;
	}
	if (got < sizeof(a)) {		/* MSG_PEEK of a 1-byte buffer */
		errno = EINVAL;
		return -1;
	}
	if (alert)
		*alert = a[1];
	if (a[1] == KATLS_ALERT_CLOSE_NOTIFY)
		return 0;
	errno = EPROTO;
	return -1;
}

ssize_t katls_send(int fd, const void *buf, size_t len, int flags)
{
	const char *p = buf;
	size_t done = 0;

	if (!buf && len) {
		errno = EINVAL;
		return -1;
	}
	while (done < len) {
		size_t piece = len - done;
		ssize_t n;

		if (piece > KATLS_RECORD_MAX)
			piece = KATLS_RECORD_MAX;
		n = send(fd, p + done, piece, flags);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Would block after some progress: report it. */
			if (errno == EAGAIN && done)
				return (ssize_t)done;
			return -1;
		}
		if (n == 0 || (size_t)n > piece) {
			/* Not a stream socket's answer: never loop on it. */
			errno = EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* sendmsg(2) of a warning-level close_notify alert record. */
static int send_close_notify(int fd, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(unsigned char))];
		struct cmsghdr align;
	} cbuf;
	unsigned char alert[2] = {
		ALERT_LEVEL_WARNING, KATLS_ALERT_CLOSE_NOTIFY,
	};
	struct iovec iov = { .iov_base = alert, .iov_len = sizeof(alert) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	memset(&cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(sizeof(unsigned char));
	*CMSG_DATA(cm) = CT_ALERT;

	/* kTLS takes a record whole: 2 bytes or an error. */
	n = sendmsg(fd, &mh, MSG_NOSIGNAL | flags);
	if (n < 0)
		return -1;
	if (n != (ssize_t)sizeof(alert)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int katls_shutdown(int fd, int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
		errno = EINVAL;
		return -1;
	}
	if (how != SHUT_RD &&
	    (ktls_tx(fd) < 0 || send_close_notify(fd, 0) < 0))
		return -1;
	return shutdown(fd, how);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int katls_close(int fd)
{
	long long deadline = now_ms() + CLOSE_NOTIFY_WAIT_MS;
	int ret = 0, err = 0;

	if (ktls_tx(fd) < 0) {
		err = errno;
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		long long left;

		if (send_close_notify(fd, MSG_DONTWAIT) == 0)
			break;
		if (errno == EPIPE) {
			/* Write side already shut down, by katls_shutdown()
			 * (which sent close_notify) or by the caller. */
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			err = errno;
			break;
		}
		left = deadline - now_ms();
		if (left <= 0) {
			err = ETIMEDOUT;
			break;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			err = errno;
			break;
		}
	}
out:
	if (close(fd) < 0 && !err && errno != EINTR)
		err = errno;
	if (err) {
		errno = err;
		ret = -1;
	}
	return ret;
}

const char *katls_alert_name(int desc)
{
	/* RFC 8446, 6; plus the TLS 1.2 ones a peer may still send. */
	switch (desc) {
	case 0:		return "close_notify";
	case 10:	return "unexpected_message";
	case 20:	return "bad_record_mac";
	case 22:	return "record_overflow";
	case 40:	return "handshake_failure";
	case 42:	return "bad_certificate";
	case 43:	return "unsupported_certificate";
	case 44:	return "certificate_revoked";
	case 45:	return "certificate_expired";
	case 46:	return "certificate_unknown";
	case 47:	return "illegal_parameter";
	case 48:	return "unknown_ca";
	case 49:	return "access_denied";
	case 50:	return "decode_error";
	case 51:	return "decrypt_error";
	case 70:	return "protocol_version";
	case 71:	return "insufficient_security";
	case 80:	return "internal_error";
	case 86:	return "inappropriate_fallback";
	case 90:	return "user_canceled";
	case 109:	return "missing_extension";
	case 110:	return "unsupported_extension";
	case 112:	return "unrecognized_name";
	case 113:	return "bad_certificate_status_response";
	case 115:	return "unknown_psk_identity";
	case 116:	return "certificate_required";
	case 120:	return "no_application_protocol";
	default:	return "unknown";
	}
}
