// SPDX-License-Identifier: GPL-2.0
/*
 * smoke_ktls - proves that the VM tier exercises the guest kernel's kTLS.
 *
 * Over loopback TCP (IPv4 and IPv6), for fixed TLS 1.3 AES-128-GCM keys:
 *
 *   A --(kTLS TX)--> B (plain: reads the raw record from the wire)
 *   C --(plain: relays those bytes)--> D (kTLS RX: decrypts them)
 *   C --(plain: relays them with one bit flipped)--> E (kTLS RX: EBADMSG)
 *
 * The record B reads must look like a TLS 1.3 application data record
 * (17 03 03, length = plaintext + content type + tag) and must not
 * contain the plaintext; D must recover the message; E must reject it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "plain-ktls.h"
#include "tap.h"

#define MSG "katls-vm smoke: kTLS over loopback"
#define TAG_LEN 16
#define HDR_LEN 5
#define REC_LEN (HDR_LEN + sizeof(MSG) + 1 + TAG_LEN)

static ssize_t read_full(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return got ? (ssize_t)got : n;
		got += n;
	}
	return got;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void run(int family, const char *name)
{
	int a = -1, b = -1, c = -1, d = -1, c2 = -1, e = -1, ok, err;
	unsigned char rec[REC_LEN + 16], out[sizeof(MSG) + 64];
	ssize_t n;

	ok = !ktls_tcp_pair(family, &a, &b) && !ktls_tcp_pair(family, &c, &d) &&
	     !ktls_tcp_pair(family, &c2, &e);
	if (!tap_ok(ok, "%s: three loopback TCP connections", name)) {
		tap_diag("errno %d (%s)", errno, strerror(errno));
		goto out;
	}

	ok = !ktls_attach(a, TLS_TX);
	tap_ok(ok, "%s: ULP tls + TLS_TX AES-128-GCM TLS 1.3 (%s)", name,
	       ok ? "ok" : strerror(errno));
	tap_ok(send_all(a, MSG, sizeof(MSG)) == 0, "%s: send through kTLS", name);

	n = read_full(b, rec, REC_LEN);
	tap_ok(n == (ssize_t)REC_LEN, "%s: plain reader gets one %zu-byte record (got %zd)",
	       name, REC_LEN, n);
	if (n != (ssize_t)REC_LEN)
		goto out;
	tap_ok(rec[0] == 0x17 && rec[1] == 0x03 && rec[2] == 0x03 &&
	       ((rec[3] << 8) | rec[4]) == REC_LEN - HDR_LEN,
	       "%s: wire bytes are a TLS record (%02x %02x %02x, length %u)",
	       name, rec[0], rec[1], rec[2], (rec[3] << 8) | rec[4]);
	tap_ok(!memmem(rec, REC_LEN, "katls-vm smoke", 14),
	       "%s: plaintext does not appear on the wire", name);

	ok = !ktls_attach(d, TLS_RX);
	tap_ok(ok, "%s: ULP tls + TLS_RX on the receiver (%s)", name,
	       ok ? "ok" : strerror(errno));
	tap_ok(send_all(c, rec, REC_LEN) == 0, "%s: relay the raw record", name);
	n = recv(d, out, sizeof(out), 0);
	tap_ok(n == (ssize_t)sizeof(MSG) && !memcmp(out, MSG, sizeof(MSG)),
	       "%s: kTLS receiver decrypts the record (%zd bytes)", name, n);

	/* Same record, one bit of the ciphertext flipped: must not decrypt. */
	rec[HDR_LEN + 3] ^= 0x01;
	ok = !ktls_attach(e, TLS_RX) && send_all(c2, rec, REC_LEN) == 0;
	n = ok ? recv(e, out, sizeof(out), 0) : 0;
	err = errno;
	tap_ok(ok && n < 0 && err == EBADMSG,
	       "%s: tampered record is rejected with EBADMSG (%zd, %s)", name, n,
	       n < 0 ? strerror(err) : "no error");
out:
	closep(&a);
	closep(&b);
	closep(&c);
	closep(&d);
	closep(&c2);
	closep(&e);
}

int main(void)
{
	tap_plan(20);
	run(AF_INET, "ipv4");
	run(AF_INET6, "ipv6");
	return tap_done();
}
