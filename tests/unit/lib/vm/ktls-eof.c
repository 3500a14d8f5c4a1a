// SPDX-License-Identifier: GPL-2.0
/*
 * ktls-eof.c - the end of a stream on the guest kernel's real kTLS, as
 * Documentation/userspace-api.rst ("The end of the stream") states it
 * for applications using the raw socket, and as libkatls's katls_recv(),
 * katls_shutdown() and katls_close() handle it.  No katls module needed:
 * after the verdict a katls socket is a kTLS socket (TLS 1.3), and the
 * katls sockets themselves are covered by e2e-cli.sh.
 *
 * Over loopback TCP, with fixed TLS 1.3 AES-128-GCM keys: a sender S
 * (kTLS TX) and a receiver R (kTLS RX), connected either directly or
 * through a plain socket pair that lets the test cut the raw byte
 * stream (mid-record).  For each way the stream can end, what a plain
 * recv(2) sees, and what katls_recv() makes of it.  Prints TAP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <katls/katls.h>
#include "tap.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

static void fill_keys(struct tls12_crypto_info_aes_gcm_128 *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->info.version = TLS_1_3_VERSION;
	ci->info.cipher_type = TLS_CIPHER_AES_GCM_128;
	memset(ci->key, 0x4b, sizeof(ci->key));
	memset(ci->iv, 0x10, sizeof(ci->iv));
	memset(ci->salt, 0xa1, sizeof(ci->salt));
}

static int attach_tls(int fd, int dir)
{
	struct tls12_crypto_info_aes_gcm_128 ci;
	int ret;

	if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")))
		return -1;
	fill_keys(&ci);
	ret = setsockopt(fd, SOL_TLS, dir, &ci, sizeof(ci));
	explicit_bzero(&ci, sizeof(ci));
	return ret;
}

static int tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 10 };
	socklen_t len = sizeof(sin);
	int lfd, c, s;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, len) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&sin, &len))
		return -1;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sin, len))
		return -1;
	s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	if (s < 0)
		return -1;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*cli = c;
	*srv = s;
	return 0;
}

/* A kTLS sender and receiver, directly connected. */
static int ktls_pair(int *snd, int *rcv)
{
	if (tcp_pair(snd, rcv))
		return -1;
	if (attach_tls(*snd, TLS_TX) || attach_tls(*rcv, TLS_RX))
		return -1;
	return 0;
}

/* An alert record from the sender: level, description. */
static int send_alert(int fd, unsigned char level, unsigned char desc)
{
	char cbuf[CMSG_SPACE(1)] = { 0 };
	unsigned char a[2] = { level, desc };
	struct iovec iov = { a, 2 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(cm) = 21;
	return sendmsg(fd, &mh, 0) == 2 ? 0 : -1;
}

/* recv(2) without a control message: "n" or "-1/ERRNO". */
static const char *plain_recv(int fd, char *out, size_t outlen)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	if (n < 0)
		snprintf(out, outlen, "-1/%s", strerrorname_np(errno));
	else
		snprintf(out, outlen, "%zd", n);
	return out;
}

/* katls_recv(): "n", "0 alert A" or "-1/ERRNO alert A". */
static const char *lib_recv(int fd, char *out, size_t outlen)
{
	char buf[64];
	int alert;
	ssize_t n = katls_recv(fd, buf, sizeof(buf), 0, &alert);

	if (n > 0)
		snprintf(out, outlen, "%zd", n);
	else if (n == 0)
		snprintf(out, outlen, "0 alert %d", alert);
	else
		snprintf(out, outlen, "-1/%s alert %d", strerrorname_np(errno),
			 alert);
	return out;
}

static void EXPECT(const char *got, const char *want, const char *what)
{
	tap_ok(!strcmp(got, want), "%s: %s (want %s)", what, got, want);
}

int main(void)
{
	char r[64];
	int s, d, a, b;

	tap_plan_lazy();

	/* 1. data, close_notify (katls_shutdown), FIN. */
	if (!tap_ok(ktls_pair(&s, &d) == 0, "kTLS pair (%s)", strerror(errno)))
		return tap_done();
	tap_ok(send(s, "hello", 5, 0) == 5 && katls_shutdown(s, SHUT_WR) == 0,
	       "sender: data, then katls_shutdown(SHUT_WR)");
	EXPECT(plain_recv(d, r, sizeof(r)), "5", "close_notify: recv() data");
	EXPECT(plain_recv(d, r, sizeof(r)), "-1/EIO",
	       "close_notify: recv() without cmsg on the alert");
	EXPECT(plain_recv(d, r, sizeof(r)), "-1/EIO",
	       "close_notify: recv() again, the alert stays queued");
	EXPECT(lib_recv(d, r, sizeof(r)), "0 alert 0",
	       "close_notify: katls_recv() clean end");
	EXPECT(plain_recv(d, r, sizeof(r)), "0",
	       "close_notify: then recv() sees the FIN");
	close(s);
	close(d);

	/* 2. data, bare FIN. */
	ktls_pair(&s, &d);
	tap_ok(send(s, "hello", 5, 0) == 5 && shutdown(s, SHUT_WR) == 0,
	       "sender: data, then shutdown(SHUT_WR) without close_notify");
	EXPECT(lib_recv(d, r, sizeof(r)), "5", "bare FIN: katls_recv() data");
	EXPECT(lib_recv(d, r, sizeof(r)), "-1/ECONNABORTED alert -1",
	       "bare FIN: katls_recv() error");
	EXPECT(plain_recv(d, r, sizeof(r)), "0",
	       "bare FIN: recv() returns 0, like a clean end");
	close(s);
	close(d);

	/* 3. another alert (fatal decrypt_error), FIN. */
	ktls_pair(&s, &d);
	tap_ok(send_alert(s, 2, 51) == 0 && shutdown(s, SHUT_WR) == 0,
	       "sender: fatal alert decrypt_error");
	EXPECT(plain_recv(d, r, sizeof(r)), "-1/EIO",
	       "other alert: recv() without cmsg");
	EXPECT(lib_recv(d, r, sizeof(r)), "-1/EPROTO alert 51",
	       "other alert: katls_recv() EPROTO with the description");
	close(s);
	close(d);

	/* 4. katls_close(): close_notify, then close. */
	ktls_pair(&s, &d);
	tap_ok(send(s, "hello", 5, 0) == 5 && katls_close(s) == 0,
	       "sender: data, katls_close()");
	EXPECT(lib_recv(d, r, sizeof(r)), "5", "katls_close: data");
	EXPECT(lib_recv(d, r, sizeof(r)), "0 alert 0",
	       "katls_close: clean end");
	close(d);

	/* katls_shutdown() on the receive-only end: no TX key. */
	ktls_pair(&s, &d);
	errno = 0;
	tap_ok(katls_shutdown(d, SHUT_WR) == -1 && errno == ENOPROTOOPT,
	       "katls_shutdown without kTLS TX: ENOPROTOOPT (%s)",
	       strerrorname_np(errno));
	close(s);
	close(d);
	tcp_pair(&s, &d);
	errno = 0;
	tap_ok(katls_shutdown(s, SHUT_WR) == -1 && errno == ENOPROTOOPT,
	       "katls_shutdown on plain TCP: ENOPROTOOPT, nothing sent (%s)",
	       strerrorname_np(errno));
	close(s);
	close(d);

	/*
	 * 5. Cut mid-record: S (kTLS TX) -> a (plain) | b (plain) -> d
	 * (kTLS RX): the test forwards one whole record and half of the
	 * next one, then a FIN.
	 */
	{
		unsigned char wire[256];
		ssize_t n, got = 0;

		tcp_pair(&s, &a);	/* a: raw reader */
		attach_tls(s, TLS_TX);
		tcp_pair(&b, &d);
		attach_tls(d, TLS_RX);
		tap_ok(send(s, "first", 5, 0) == 5 &&
		       send(s, "second", 6, 0) == 6,
		       "mid-record: two records sent");
		/* 5 + 5 + 1 + 16 and 5 + 6 + 1 + 16 bytes. */
		while (got < 27 + 28) {
			n = recv(a, wire + got, sizeof(wire) - got, 0);
			if (n <= 0)
				break;
			got += n;
		}
		tap_ok(got == 55, "mid-record: 55 bytes on the wire (%zd)", got);
		send(b, wire, 27 + 14, 0);
		shutdown(b, SHUT_WR);
		EXPECT(lib_recv(d, r, sizeof(r)), "5",
		       "mid-record: the whole record arrives");
		EXPECT(plain_recv(d, r, sizeof(r)), "0",
		       "mid-record: recv() returns 0 at the FIN");
		close(d);
		tcp_pair(&b, &d);
		attach_tls(d, TLS_RX);
		send(b, wire, 27 + 14, 0);
		shutdown(b, SHUT_WR);
		EXPECT(lib_recv(d, r, sizeof(r)), "5",
		       "mid-record (katls_recv): the whole record");
		EXPECT(lib_recv(d, r, sizeof(r)), "-1/ECONNABORTED alert -1",
		       "mid-record (katls_recv): error, not an end");
		close(s);
		close(a);
		close(b);
		close(d);
	}
	return tap_done();
}
