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
#include <stdbool.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <katls/katls.h>
#include "plain-ktls.h"
#include "tap.h"

/* A kTLS sender and receiver, directly connected. */
static int ktls_pair(int *snd, int *rcv)
{
	if (ktls_tcp_pair(AF_INET, snd, rcv))
		return -1;
	if (ktls_attach(*snd, TLS_TX) || ktls_attach(*rcv, TLS_RX))
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

/*
 * The ways a sender S ends the stream (0 on success); katls_close()
 * closes S.
 */
static int end_close_notify(int *s)
{
	return send(*s, "hello", 5, 0) == 5 &&
	       !katls_shutdown(*s, SHUT_WR) ? 0 : -1;
}

static int end_bare_fin(int *s)
{
	return send(*s, "hello", 5, 0) == 5 && !shutdown(*s, SHUT_WR) ? 0 : -1;
}

static int end_alert(int *s)	/* fatal decrypt_error, then FIN */
{
	return !send_alert(*s, 2, 51) && !shutdown(*s, SHUT_WR) ? 0 : -1;
}

static int end_katls_close(int *s)
{
	int ret;

	if (send(*s, "hello", 5, 0) != 5)
		return -1;
	ret = katls_close(*s);
	*s = -1;
	return ret;
}

/* What the receiver's reads return, in order: recv(2) or katls_recv(). */
struct expect_read {
	bool lib;
	const char *want, *what;
};

static const struct ending {
	const char *what;
	int (*end)(int *s);
	struct expect_read reads[6];
} endings[] = {
	{ "sender: data, then katls_shutdown(SHUT_WR)", end_close_notify, {
		{ false, "5", "close_notify: recv() data" },
		{ false, "-1/EIO",
		  "close_notify: recv() without cmsg on the alert" },
		{ false, "-1/EIO",
		  "close_notify: recv() again, the alert stays queued" },
		{ true, "0 alert 0", "close_notify: katls_recv() clean end" },
		{ false, "0", "close_notify: then recv() sees the FIN" },
	} },
	{ "sender: data, then shutdown(SHUT_WR) without close_notify",
	  end_bare_fin, {
		{ true, "5", "bare FIN: katls_recv() data" },
		{ true, "-1/ECONNABORTED alert -1",
		  "bare FIN: katls_recv() error" },
		{ false, "0", "bare FIN: recv() returns 0, like a clean end" },
	} },
	{ "sender: fatal alert decrypt_error", end_alert, {
		{ false, "-1/EIO", "other alert: recv() without cmsg" },
		{ true, "-1/EPROTO alert 51",
		  "other alert: katls_recv() EPROTO with the description" },
	} },
	{ "sender: data, katls_close()", end_katls_close, {
		{ true, "5", "katls_close: data" },
		{ true, "0 alert 0", "katls_close: clean end" },
	} },
};

/* The receiver's reads on the stream cut mid-record (5. below). */
static const struct expect_read cut_reads[2][3] = {
	{ { true, "5", "mid-record: the whole record arrives" },
	  { false, "0", "mid-record: recv() returns 0 at the FIN" } },
	{ { true, "5", "mid-record (katls_recv): the whole record" },
	  { true, "-1/ECONNABORTED alert -1",
	    "mid-record (katls_recv): error, not an end" } },
};

/* The reads RD (up to the one without want) on D, one point each. */
static void expect_reads(int d, const struct expect_read *rd, char *r,
			 size_t rlen)
{
	for (; rd->want; rd++)
		EXPECT(rd->lib ? lib_recv(d, r, rlen) : plain_recv(d, r, rlen),
		       rd->want, rd->what);
}

/*
 * A kTLS receiver fed LEN bytes of WIRE by a plain peer (*peer, left
 * open), then a FIN; the receiver, or -1.
 */
static int ktls_rx_fed(const unsigned char *wire, size_t len, int *peer)
{
	int d;

	if (ktls_tcp_pair(AF_INET, peer, &d))
		return -1;
	if (ktls_attach(d, TLS_RX) ||
	    send(*peer, wire, len, 0) != (ssize_t)len ||
	    shutdown(*peer, SHUT_WR)) {
		close(*peer);
		close(d);
		*peer = -1;
		return -1;
	}
	return d;
}

int main(void)
{
	char r[64];
	int s, d, a, b;

	tap_plan_lazy();

	/* 1.-4.: each way the sender can end the stream. */
	for (size_t i = 0; i < sizeof(endings) / sizeof(endings[0]); i++) {
		const struct ending *e = &endings[i];

		if (!tap_ok(ktls_pair(&s, &d) == 0, "kTLS pair %zu (%s)",
			    i + 1, strerror(errno)))
			return tap_done();
		tap_ok(e->end(&s) == 0, "%s", e->what);
		expect_reads(d, e->reads, r, sizeof(r));
		if (s >= 0)
			close(s);
		close(d);
	}

	/* katls_shutdown() on the receive-only end: no TX key. */
	ktls_pair(&s, &d);
	errno = 0;
	tap_ok(katls_shutdown(d, SHUT_WR) == -1 && errno == ENOPROTOOPT,
	       "katls_shutdown without kTLS TX: ENOPROTOOPT (%s)",
	       strerrorname_np(errno));
	close(s);
	close(d);
	ktls_tcp_pair(AF_INET, &s, &d);
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

		ktls_tcp_pair(AF_INET, &s, &a);	/* a: raw reader */
		ktls_attach(s, TLS_TX);
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
		for (size_t i = 0; i < 2; i++) {
			d = ktls_rx_fed(wire, 27 + 14, &b);
			expect_reads(d, cut_reads[i], r, sizeof(r));
			close(b);
			close(d);
		}
		close(s);
		close(a);
	}
	return tap_done();
}
