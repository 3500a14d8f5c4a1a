/* SPDX-License-Identifier: GPL-2.0 */
/*
 * plain-ktls.h - plain kTLS (TLS 1.3, AES-128-GCM) for the tests that drive the
 * kernel's TLS directly, without katls: a connected loopback TCP pair
 * and the attachment of fixed test keys to one direction of a socket.
 *
 *	ktls_tcp_pair(AF_INET, &cli, &srv);   10 s send/receive timeouts
 *	ktls_attach(cli, TLS_TX);             TCP_ULP "tls" + the test keys
 *	ktls_attach(srv, TLS_RX);
 *
 * Both ends use the same fixed keys (ktls_test_keys()): these tests are
 * about the data path, never about key secrecy.  Used by tests/vm
 * (smoke_ktls) and tests/e2e (ktls-eof).  Mocks of kTLS's recvmsg
 * (tests/unit/lib/test-data.c, tests/unit/cli/mock-katls.c) label a
 * record with ktls_put_record_type().
 */
#ifndef KATLS_TESTS_PLAIN_KTLS_H
#define KATLS_TESTS_PLAIN_KTLS_H

#include <arpa/inet.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

/* The fixed test keys; rec_seq stays 0 (the first record). */
static inline void ktls_test_keys(struct tls12_crypto_info_aes_gcm_128 *ci)
{
	static const unsigned char key[TLS_CIPHER_AES_GCM_128_KEY_SIZE] = {
		0x4b, 0x61, 0x54, 0x4c, 0x53, 0x20, 0x73, 0x6d,
		0x6f, 0x6b, 0x65, 0x20, 0x6b, 0x65, 0x79, 0x21,
	};
	static const unsigned char iv[TLS_CIPHER_AES_GCM_128_IV_SIZE] = {
		0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
	};
	static const unsigned char salt[TLS_CIPHER_AES_GCM_128_SALT_SIZE] = {
		0xa1, 0xb2, 0xc3, 0xd4,
	};

	memset(ci, 0, sizeof(*ci));
	ci->info.version = TLS_1_3_VERSION;
	ci->info.cipher_type = TLS_CIPHER_AES_GCM_128;
	memcpy(ci->key, key, sizeof(key));
	memcpy(ci->iv, iv, sizeof(iv));
	memcpy(ci->salt, salt, sizeof(salt));
}

/* ktls_attach FD DIR: kTLS on FD for DIR (TLS_TX or TLS_RX); 0 or -1. */
static inline int ktls_attach(int fd, int dir)
{
	struct tls12_crypto_info_aes_gcm_128 ci;
	int ret;

	if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")))
		return -1;
	ktls_test_keys(&ci);
	ret = setsockopt(fd, SOL_TLS, dir, &ci, sizeof(ci));
	explicit_bzero(&ci, sizeof(ci));
	return ret;
}

static inline int ktls_set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 10 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -1;
	return 0;
}

/*
 * ktls_tcp_pair FAMILY CLI SRV: a connected loopback pair (*cli, *srv) of
 * FAMILY (AF_INET or AF_INET6), both with 10 s timeouts; 0, or -1 with
 * nothing left open.
 */
static inline int ktls_tcp_pair(int family, int *cli, int *srv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, c = -1, s = -1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}

	lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -1;
	if (bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&ss, &len))
		goto err;
	c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&ss, len))
		goto err;
	s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0 || ktls_set_timeouts(c) || ktls_set_timeouts(s))
		goto err;
	close(lfd);
	*cli = c;
	*srv = s;
	return 0;
err:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	close(lfd);
	return -1;
}

/*
 * ktls_put_record_type MH TYPE: the control message kTLS attaches to a
 * received record (TLS_GET_RECORD_TYPE, one byte).  None (msg_controllen
 * 0) when TYPE < 0 or MH has no room for it.
 */
static inline void ktls_put_record_type(struct msghdr *mh, int type)
{
	struct cmsghdr *cm = CMSG_FIRSTHDR(mh);

	if (type < 0 || !cm || mh->msg_controllen < CMSG_SPACE(1)) {
		mh->msg_controllen = 0;
		return;
	}
	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_GET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(1);
	*CMSG_DATA(cm) = (unsigned char)type;
	mh->msg_controllen = CMSG_SPACE(1);
}

#endif /* KATLS_TESTS_PLAIN_KTLS_H */
