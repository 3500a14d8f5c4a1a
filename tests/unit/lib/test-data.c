// SPDX-License-Identifier: GPL-2.0
/*
 * test-data.c - katls_recv(), katls_shutdown(), katls_close() against a
 * scripted kTLS.  The test links with
 *	-Wl,--wrap=recvmsg -Wl,--wrap=sendmsg -Wl,--wrap=getsockopt
 * so that each recvmsg(2) returns the next scripted record (bytes and
 * record-type control message, as kTLS does), sendmsg(2) is recorded,
 * and getsockopt(SOL_TLS, TLS_TX) says whether the socket "is" kTLS.
 * shutdown(2) and close(2) are real, on a socketpair.  The same calls on
 * the real kTLS of the guest kernels: tests/e2e/cli/ktls-eof.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/tls.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <katls/katls.h>
#include "plain-ktls.h"
#include "tap.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

ssize_t __real_recvmsg(int fd, struct msghdr *mh, int flags);
ssize_t __wrap_recvmsg(int fd, struct msghdr *mh, int flags);
ssize_t __real_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);
int __real_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len);
int __wrap_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len);

/* One scripted answer of recvmsg. */
struct rec {
	int type;		/* record type for the cmsg, -1: no cmsg */
	const char *data;	/* NULL with len 0: end of stream */
	size_t len;
	int err;		/* fail with this errno instead */
};

static struct {
	const struct rec *recs;
	int nrecs, next;
	size_t off;		/* bytes of recs[next] already returned */
	int last_flags;

	int tx_err;		/* errno for getsockopt(TLS_TX), 0: kTLS */
	int send_err;		/* errno for sendmsg, 0: success */
	int sends;
	int send_type;		/* record type of the last sendmsg */
	unsigned char sent[8];
	size_t sent_len;
	int send_flags;
} k;

ssize_t __wrap_recvmsg(int fd, struct msghdr *mh, int flags)
{
	const struct rec *r;
	size_t n;

	k.last_flags = flags;
	if (k.next >= k.nrecs) {
		errno = EAGAIN;
		return -1;
	}
	r = &k.recs[k.next];
	if (r->err) {
		k.next++;
		errno = r->err;
		return -1;
	}
	mh->msg_flags = 0;
	if (!r->len) {
		k.next++;
		mh->msg_controllen = 0;
		return 0;
	}
	n = r->len - k.off;
	if (n > mh->msg_iov[0].iov_len)
		n = mh->msg_iov[0].iov_len;
	memcpy(mh->msg_iov[0].iov_base, r->data + k.off, n);
	if (!(flags & MSG_PEEK)) {
		k.off += n;
		if (k.off == r->len) {
			k.off = 0;
			k.next++;
		}
	}
	ktls_put_record_type(mh, r->type);
	return (ssize_t)n;
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	struct cmsghdr *cm;

	k.sends++;
	k.send_flags = flags;
	k.send_type = -1;
	for (cm = CMSG_FIRSTHDR(mh); cm;
	     cm = CMSG_NXTHDR((struct msghdr *)mh, cm))
		if (cm->cmsg_level == SOL_TLS &&
		    cm->cmsg_type == TLS_SET_RECORD_TYPE &&
		    cm->cmsg_len == CMSG_LEN(1))
			k.send_type = *CMSG_DATA(cm);
	k.sent_len = 0;
	if (mh->msg_iovlen == 1 && mh->msg_iov[0].iov_len <= sizeof(k.sent)) {
		k.sent_len = mh->msg_iov[0].iov_len;
		memcpy(k.sent, mh->msg_iov[0].iov_base, k.sent_len);
	}
	if (k.send_err) {
		errno = k.send_err;
		return -1;
	}
	return (ssize_t)k.sent_len;
}

int __wrap_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len)
{
	struct tls_crypto_info ci = {
		.version = TLS_1_3_VERSION,
		.cipher_type = TLS_CIPHER_AES_GCM_256,
	};

	if (level != SOL_TLS)
		return __real_getsockopt(fd, level, name, val, len);
	if (k.tx_err) {
		errno = k.tx_err;
		return -1;
	}
	if (*len < sizeof(ci)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(val, &ci, sizeof(ci));
	*len = sizeof(ci);
	return 0;
}

static void script(const struct rec *recs, int n)
{
	memset(&k, 0, sizeof(k));
	k.recs = recs;
	k.nrecs = n;
}

#define SCRIPT(a) script(a, (int)(sizeof(a) / sizeof(a[0])))

static void test_recv(void)
{
	static const struct rec clean[] = {
		{ 23, "hello", 5, 0 },
		{ 21, "\x01\x00", 2, 0 },		/* close_notify */
	};
	static const struct rec bare[] = {
		{ 23, "hello", 5, 0 },
		{ -1, NULL, 0, 0 },			/* FIN */
	};
	static const struct rec fatal[] = {
		{ 21, "\x02\x14", 2, 0 },		/* bad_record_mac */
	};
	static const struct rec hs[] = {
		{ 22, "\x18\x00\x00\x01\x00", 5, 0 },	/* KeyUpdate */
	};
	static const struct rec plain[] = {
		{ -1, "hello", 5, 0 },			/* no cmsg */
	};
	static const struct rec errs[] = {
		{ -1, NULL, 0, EAGAIN }, { -1, NULL, 0, EBADMSG },
	};
	static const struct rec long_alert[] = {
		{ 21, "\x01\x00\x00", 3, 0 },
	};
	char buf[64];
	ssize_t n;
	int alert;

	SCRIPT(clean);
	alert = 7;
	n = katls_recv(3, buf, sizeof(buf), 0, &alert);
	tap_ok(n == 5 && !memcmp(buf, "hello", 5) && alert == -1,
	       "data record: bytes returned, no alert");
	n = katls_recv(3, buf, sizeof(buf), MSG_DONTWAIT, &alert);
	tap_ok(n == 0 && alert == KATLS_ALERT_CLOSE_NOTIFY &&
	       k.last_flags == MSG_DONTWAIT,
	       "close_notify: 0 (clean end), alert 0, flags passed on");

	SCRIPT(bare);
	n = katls_recv(3, buf, sizeof(buf), 0, &alert);
	errno = 0;
	n = katls_recv(3, buf, sizeof(buf), 0, &alert);
	tap_ok(n == -1 && errno == ECONNABORTED && alert == -1,
	       "bare FIN: -1/ECONNABORTED, not an end of stream");

	SCRIPT(fatal);
	errno = 0;
	n = katls_recv(3, buf, sizeof(buf), 0, &alert);
	tap_ok(n == -1 && errno == EPROTO && alert == 20,
	       "another alert: -1/EPROTO, its description (20)");
	SCRIPT(fatal);
	errno = 0;
	n = katls_recv(3, buf, sizeof(buf), 0, NULL);
	tap_ok(n == -1 && errno == EPROTO, "another alert, alert NULL: EPROTO");

	SCRIPT(hs);
	errno = 0;
	n = katls_recv(3, buf, sizeof(buf), 0, &alert);
	tap_ok(n == -1 && errno == EPROTO && alert == -1,
	       "handshake record (KeyUpdate): -1/EPROTO, no alert");

	SCRIPT(plain);
	errno = 0;
	n = katls_recv(3, buf, sizeof(buf), 0, &alert);
	tap_ok(n == -1 && errno == ENOPROTOOPT,
	       "data without a record type (not kTLS): -1/ENOPROTOOPT");

	SCRIPT(errs);
	errno = 0;
	n = katls_recv(3, buf, sizeof(buf), 0, &alert);
	tap_ok(n == -1 && errno == EAGAIN, "EAGAIN passed on");
	errno = 0;
	n = katls_recv(3, buf, sizeof(buf), 0, &alert);
	tap_ok(n == -1 && errno == EBADMSG, "EBADMSG passed on");

	SCRIPT(long_alert);
	errno = 0;
	n = katls_recv(3, buf, sizeof(buf), 0, &alert);
	tap_ok(n == -1 && errno == EPROTO, "malformed 3-byte alert: EPROTO");

	/* A 1-byte buffer: the alert comes in two reads. */
	SCRIPT(clean);
	tap_ok(katls_recv(3, buf, 1, 0, &alert) == 1 && buf[0] == 'h',
	       "1-byte buffer: data byte by byte");
	k.next = 1;
	k.off = 0;
	n = katls_recv(3, buf, 1, 0, &alert);
	tap_ok(n == 0 && alert == 0 && k.next == 2,
	       "1-byte buffer: close_notify read whole in two calls");
	SCRIPT(fatal);
	n = katls_recv(3, buf, 1, 0, &alert);
	tap_ok(n == -1 && errno == EPROTO && alert == 20,
	       "1-byte buffer: another alert read whole");

	SCRIPT(clean);
	k.next = 1;
	n = katls_recv(3, buf, sizeof(buf), MSG_PEEK, &alert);
	tap_ok(n == 0 && alert == 0 && k.next == 1,
	       "MSG_PEEK of close_notify: 0, not consumed");

	errno = 0;
	tap_ok(katls_recv(3, NULL, 1, 0, &alert) == -1 && errno == EINVAL &&
	       katls_recv(3, buf, 0, 0, &alert) == -1 && errno == EINVAL,
	       "NULL buffer or length 0: EINVAL");
}

static bool fcntl_closed(int fd)
{
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

static void test_shutdown_close(void)
{
	int sv[2];
	char c;

	if (!tap_ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0,
		    "socketpair"))
		return;
	script(NULL, 0);
	tap_ok(katls_shutdown(sv[0], SHUT_WR) == 0 && k.sends == 1 &&
	       k.send_type == 21 && k.sent_len == 2 && k.sent[0] == 1 &&
	       k.sent[1] == 0 && (k.send_flags & MSG_NOSIGNAL),
	       "katls_shutdown(SHUT_WR): one warning close_notify alert record");
	tap_ok(recv(sv[1], &c, 1, MSG_DONTWAIT) == 0,
	       "katls_shutdown(SHUT_WR): then the socket is shut down (FIN)");

	script(NULL, 0);
	errno = 0;
	tap_ok(katls_shutdown(sv[0], SHUT_RD) == 0 && k.sends == 0,
	       "katls_shutdown(SHUT_RD): no alert");
	errno = 0;
	tap_ok(katls_shutdown(sv[0], 7) == -1 && errno == EINVAL &&
	       k.sends == 0, "katls_shutdown(7): EINVAL");
	close(sv[0]);
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	script(NULL, 0);
	k.tx_err = ENOPROTOOPT;
	errno = 0;
	tap_ok(katls_shutdown(sv[0], SHUT_RDWR) == -1 &&
	       errno == ENOPROTOOPT && k.sends == 0 &&
	       recv(sv[1], &c, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN,
	       "not kTLS: ENOPROTOOPT, nothing sent, not shut down");
	script(NULL, 0);
	k.tx_err = ENOTCONN;
	errno = 0;
	tap_ok(katls_shutdown(sv[0], SHUT_WR) == -1 &&
	       errno == ENOPROTOOPT && k.sends == 0,
	       "katls socket before the verdict: ENOPROTOOPT, nothing sent");
	script(NULL, 0);
	k.send_err = EAGAIN;
	errno = 0;
	tap_ok(katls_shutdown(sv[0], SHUT_WR) == -1 && errno == EAGAIN &&
	       recv(sv[1], &c, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN,
	       "send buffer full: EAGAIN, not shut down");

	script(NULL, 0);
	tap_ok(katls_close(sv[0]) == 0 && k.sends == 1 &&
	       k.send_type == 21 && k.sent_len == 2 && k.sent[1] == 0,
	       "katls_close: close_notify sent");
	tap_ok(fcntl_closed(sv[0]) && recv(sv[1], &c, 1, 0) == 0,
	       "katls_close: descriptor closed");
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	script(NULL, 0);
	k.send_err = EPIPE;
	tap_ok(katls_close(sv[0]) == 0 && fcntl_closed(sv[0]),
	       "katls_close after the write side was shut: 0 (EPIPE ignored)");
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	script(NULL, 0);
	k.send_err = ECONNRESET;
	errno = 0;
	tap_ok(katls_close(sv[0]) == -1 && errno == ECONNRESET &&
	       fcntl_closed(sv[0]),
	       "katls_close, alert not sent: -1/ECONNRESET, closed anyway");
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	script(NULL, 0);
	k.tx_err = EOPNOTSUPP;
	errno = 0;
	tap_ok(katls_close(sv[0]) == -1 && errno == ENOPROTOOPT &&
	       k.sends == 0 && fcntl_closed(sv[0]),
	       "katls_close on a non-kTLS socket: ENOPROTOOPT, closed, nothing sent");
	close(sv[1]);
}

int main(void)
{
	tap_plan_lazy();
	test_recv();
	test_shutdown_close();
	tap_ok(!strcmp(katls_alert_name(0), "close_notify") &&
	       !strcmp(katls_alert_name(20), "bad_record_mac") &&
	       !strcmp(katls_alert_name(51), "decrypt_error") &&
	       !strcmp(katls_alert_name(255), "unknown") &&
	       !strcmp(katls_alert_name(-1), "unknown"),
	       "katls_alert_name");
	return tap_done();
}
