// SPDX-License-Identifier: GPL-2.0
/*
 * keyupdate - what an application sees when the peer of a katls socket
 * sends a TLS 1.3 KeyUpdate (issue 14 item 7).  Debian's 6.1 and 6.12
 * kernels cannot rekey kTLS (that came in 6.14), so the new keys never
 * reach the kernel: the test pins down that this never hangs and never
 * hands the application silently corrupted data.
 *
 * The katls socket is a client whose handshake a forked test agent runs
 * with GnuTLS on the descriptor ACCEPT gives it, then hands the exported
 * keys over with DONE; the peer is a plain userspace GnuTLS server on
 * the other end of a loopback pair, which calls
 * gnutls_session_key_update() after the verdict.  Measured on both
 * kernels (Documentation/userspace-api.rst, "TLS 1.3 KeyUpdate"):
 *
 *   plain recv():  the KeyUpdate is a handshake record; kTLS refuses to
 *		    return it without a control buffer: EIO, and again on
 *		    every later call (the record stays first in line)
 *   recvmsg() with a control buffer: the record itself, cmsg
 *		    TLS_GET_RECORD_TYPE = 22 (handshake), its 5 bytes; the
 *		    next record is under the peer's new key: EBADMSG
 *		    (kTLS counts TlsDecryptError), then the socket is dead
 *   poll():	    wakes for both (readable, then error)
 *   send():	    unaffected by a KeyUpdate without update_requested;
 *		    katls cannot answer update_requested (no KeyUpdate can
 *		    leave a kTLS socket: the application may not set
 *		    TLS_TX, and kTLS before 6.14 would refuse a second key)
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <katls/gnutls.h>

#include "katls_test.h"

#define PRIO "NORMAL:-VERS-ALL:+VERS-TLS1.3:%NO_TICKETS:-CIPHER-ALL:+AES-128-GCM"
#define REC_HANDSHAKE	22
#define REC_DATA	23
#define HS_KEY_UPDATE	24

static gnutls_certificate_credentials_t srv_cred, cli_cred;
static struct agent lis;

static void gcheck(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", what, gnutls_strerror(ret));
		exit(2);
	}
}

/* A throw-away self-signed ECDSA P-256 server certificate. */
static void make_creds(void)
{
	static const unsigned char serial[] = { 0x4b, 0x55 };
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	time_t now = time(NULL);

	gcheck(gnutls_x509_privkey_init(&key), "privkey_init");
	gcheck(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	       "privkey_generate");
	gcheck(gnutls_x509_crt_init(&crt), "crt_init");
	gcheck(gnutls_x509_crt_set_version(crt, 3), "set_version");
	gcheck(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)),
	       "set_serial");
	gcheck(gnutls_x509_crt_set_activation_time(crt, now - 3600),
	       "set_activation");
	gcheck(gnutls_x509_crt_set_expiration_time(crt, now + 86400),
	       "set_expiration");
	gcheck(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
					     0, "keyupdate", 9), "set_dn");
	gcheck(gnutls_x509_crt_set_key(crt, key), "set_key");
	gcheck(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0),
	       "sign");
	gcheck(gnutls_certificate_allocate_credentials(&srv_cred), "creds");
	gcheck(gnutls_certificate_set_x509_key(srv_cred, &crt, 1, key),
	       "set_x509_key");
	/* The client does not verify: this test is about records. */
	gcheck(gnutls_certificate_allocate_credentials(&cli_cred), "creds");
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static gnutls_session_t session(unsigned int flags, int fd)
{
	gnutls_session_t s;

	gcheck(gnutls_init(&s, flags), "gnutls_init");
	gcheck(gnutls_priority_set_direct(s, PRIO, NULL), "priority");
	gcheck(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
				      flags & GNUTLS_SERVER ? srv_cred :
							      cli_cred),
	       "credentials");
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 10000);
	return s;
}

static int handshake(gnutls_session_t s)
{
	int ret;

	do
		ret = gnutls_handshake(s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	return ret;
}

/*
 * The forked agent: ACCEPT, the client handshake on the accepted
 * descriptor, DONE with the exported keys.  Exit status 0 or an errno.
 */
static void agent_child(void)
{
	struct katls_agent_done d;
	gnutls_session_t s;
	struct agent ag;
	int err;

	if (agent_open(&ag, false))
		_exit(100);
	err = agent_accept_wait(&ag);
	if (err)
		_exit(err);
	s = session(GNUTLS_CLIENT, ag.fd);
	if (handshake(s) < 0) {
		agent_done(&ag, ag.id, EACCES, 0);
		_exit(101);
	}
	memset(&d, 0, sizeof(d));
	d.id = ag.id;
	if (gnutls_record_check_pending(s) ||
	    katls_gnutls_export_keys(s, &d.keys)) {
		agent_done(&ag, ag.id, EPROTO, 0);
		_exit(102);
	}
	test_summary(&d.summary, "keyupdate");
	err = -katls_agent_done(&ag.k, &d);
	katls_agent_done_wipe(&d);
	gnutls_deinit(s);	/* no close_notify: the socket is the app's */
	_exit(err);
}

struct conn {
	int a;			/* the katls client (the application) */
	int b;			/* the GnuTLS server peer's TCP socket */
	gnutls_session_t peer;
	int req_err;
};

static void *request_thread(void *arg)
{
	struct conn *c = arg;

	c->req_err = request(c->a, KATLS_ROLE_CLIENT, "keyupdate", 20000);
	return NULL;
}

/* Handshake through katls; true once the katls socket is OPEN. */
static bool conn_open(struct conn *c)
{
	struct timeval tv = { 5, 0 };
	pthread_t t;
	int hs, st = -1;
	pid_t pid;

	memset(c, 0, sizeof(*c));
	tcp_pair(AF_INET, &c->a, &c->b);
	if (opt_in(c->a))
		die("opt_in");
	/* The peer never waits forever: a hang shows as GNUTLS_E_AGAIN. */
	setsockopt(c->b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		agent_child();
	if (pthread_create(&t, NULL, request_thread, c))
		die("pthread_create");
	c->peer = session(GNUTLS_SERVER, c->b);
	hs = handshake(c->peer);
	pthread_join(t, NULL);
	waitpid(pid, &st, 0);
	if (hs < 0 || c->req_err || !WIFEXITED(st) || WEXITSTATUS(st) ||
	    result(c->a).state != KATLS_STATE_OPEN) {
		tap_diag("set-up: handshake %d, request %d, agent %d, state %u",
			 hs, c->req_err, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			 result(c->a).state);
		return false;
	}
	return true;
}

static void conn_close(struct conn *c)
{
	gnutls_deinit(c->peer);
	close(c->a);
	close(c->b);
}

/* recv() on the katls socket with a bounded wait; -errno on error. */
static ssize_t app_recv(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -ETIMEDOUT;
	n = recv(fd, buf, len, MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

/*
 * recvmsg() with room for a TLS_GET_RECORD_TYPE cmsg.  Returns bytes or
 * -errno; *type gets the record type, or -1 without a cmsg.
 */
static ssize_t app_recvmsg(int fd, void *buf, size_t len, int *type, int ms)
{
	char cbuf[CMSG_SPACE(sizeof(unsigned char))];
	struct iovec iov = { buf, len };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct cmsghdr *cm;
	ssize_t n;

	*type = -1;
	if (poll(&p, 1, ms) <= 0)
		return -ETIMEDOUT;
	n = recvmsg(fd, &m, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_TLS &&
		    cm->cmsg_type == TLS_GET_RECORD_TYPE)
			*type = *(unsigned char *)CMSG_DATA(cm);
	return n;
}

/* What the peer gets within 3 s: bytes, or a GnuTLS error (< 0). */
static ssize_t peer_recv(struct conn *c, char *buf, size_t len)
{
	ssize_t n;

	do
		n = gnutls_record_recv(c->peer, buf, len);
	while (n == GNUTLS_E_INTERRUPTED);
	return n;
}

static bool peer_send(struct conn *c, const char *s)
{
	return gnutls_record_send(c->peer, s, strlen(s)) == (ssize_t)strlen(s);
}

/* Data flows both ways with the handed-over keys. */
static bool sanity(struct conn *c, const char *tag)
{
	char buf[64];
	ssize_t n;

	if (!peer_send(c, "hello"))
		return false;
	n = app_recv(c->a, buf, sizeof(buf), 5000);
	if (n != 5 || memcmp(buf, "hello", 5)) {
		tap_diag("%s: app got %zd", tag, n);
		return false;
	}
	if (send(c->a, "ping", 4, 0) != 4)
		return false;
	n = peer_recv(c, buf, sizeof(buf));
	return n == 4 && !memcmp(buf, "ping", 4);
}

static const char *err_name(ssize_t n)
{
	static char b[32];

	if (n >= 0) {
		snprintf(b, sizeof(b), "%zd bytes", n);
		return b;
	}
	snprintf(b, sizeof(b), "%s", strerror((int)-n));
	return b;
}

/* 1. An unmodified program: plain recv(). */
static void plain_recv(void)
{
	char buf[256];
	struct conn c;
	struct pollfd p;
	ssize_t n, n2;

	if (!tap_ok(conn_open(&c), "plain: katls socket OPEN after a GnuTLS handshake"))
		return;
	tap_ok(sanity(&c, "plain"), "plain: data both ways before the KeyUpdate");
	tap_ok(gnutls_session_key_update(c.peer, 0) == 0 &&
	       peer_send(&c, "after-keyupdate"),
	       "plain: peer sends KeyUpdate, then data under its new key");
	p = (struct pollfd){ .fd = c.a, .events = POLLIN };
	n = poll(&p, 1, 5000);
	tap_ok(n == 1 && (p.revents & (POLLIN | POLLERR)),
	       "plain: poll() wakes (revents 0x%x), no hang", p.revents);
	n = app_recv(c.a, buf, sizeof(buf), 1000);
	tap_ok(n == -EIO, "plain: recv() fails with EIO (got %s)", err_name(n));
	n2 = app_recv(c.a, buf, sizeof(buf), 1000);
	tap_ok(n2 == -EIO,
	       "plain: and again EIO, never the data (got %s)", err_name(n2));
	/* The send direction does not depend on the peer's new key. */
	tap_ok(send(c.a, "still", 5, 0) == 5 &&
	       peer_recv(&c, buf, sizeof(buf)) == 5 && !memcmp(buf, "still", 5),
	       "plain: send() still reaches the peer (KeyUpdate without update_requested)");
	conn_close(&c);
}

/* 2. A kTLS-aware program: recvmsg() with a TLS_GET_RECORD_TYPE cmsg. */
static void cmsg_recv(void)
{
	static const unsigned char ku[] = { HS_KEY_UPDATE, 0, 0, 1, 0 };
	long long derr = proc_stat("/proc/net/tls_stat", "TlsDecryptError");
	unsigned char buf[256];
	struct pollfd p;
	struct conn c;
	ssize_t n;
	int type;

	if (!tap_ok(conn_open(&c), "cmsg: katls socket OPEN"))
		return;
	tap_ok(sanity(&c, "cmsg"), "cmsg: data both ways before the KeyUpdate");
	tap_ok(gnutls_session_key_update(c.peer, 0) == 0 &&
	       peer_send(&c, "after-keyupdate"),
	       "cmsg: peer sends KeyUpdate, then data under its new key");
	n = app_recvmsg(c.a, buf, sizeof(buf), &type, 5000);
	tap_ok(n == (ssize_t)sizeof(ku) && type == REC_HANDSHAKE &&
	       !memcmp(buf, ku, sizeof(ku)),
	       "cmsg: the KeyUpdate arrives as a handshake record (type %d, %s, first byte %u)",
	       type, err_name(n), n > 0 ? buf[0] : 0);
	n = app_recvmsg(c.a, buf, sizeof(buf), &type, 5000);
	tap_ok(n == -EBADMSG,
	       "cmsg: the next record (new key) fails with EBADMSG (got %s)",
	       err_name(n));
	tap_ok(proc_stat("/proc/net/tls_stat", "TlsDecryptError") > derr,
	       "cmsg: counted in TlsDecryptError");
	p = (struct pollfd){ .fd = c.a, .events = POLLIN };
	n = poll(&p, 1, 2000);
	tap_ok(n == 1, "cmsg: poll() after the failure returns at once (revents 0x%x)",
	       p.revents);
	n = app_recvmsg(c.a, buf, sizeof(buf), &type, 1000);
	tap_ok(n < 0, "cmsg: the socket stays failed, never data (got %s)",
	       err_name(n));
	conn_close(&c);
}

/*
 * 3. update_requested: the peer asks for our KeyUpdate, which katls
 * cannot send.  The application sees the request; GnuTLS keeps reading
 * our data under the old key (it has not seen a KeyUpdate from us).
 */
static void update_requested(void)
{
	static const unsigned char ku[] = { HS_KEY_UPDATE, 0, 0, 1, 1 };
	unsigned char buf[256];
	struct conn c;
	ssize_t n;
	int type;

	if (!tap_ok(conn_open(&c), "requested: katls socket OPEN"))
		return;
	tap_ok(gnutls_session_key_update(c.peer, GNUTLS_KU_PEER) == 0,
	       "requested: peer sends KeyUpdate(update_requested)");
	n = app_recvmsg(c.a, buf, sizeof(buf), &type, 5000);
	tap_ok(n == (ssize_t)sizeof(ku) && type == REC_HANDSHAKE &&
	       !memcmp(buf, ku, sizeof(ku)),
	       "requested: the application sees update_requested = 1 (type %d, %s)",
	       type, err_name(n));
	n = send(c.a, "old-key", 7, 0);
	tap_ok(n == 7, "requested: send() under the old key is accepted by kTLS");
	n = peer_recv(&c, (char *)buf, sizeof(buf));
	tap_ok(n == 7 && !memcmp(buf, "old-key", 7),
	       "requested: GnuTLS still reads it (measured: %zd %s); the unanswered request is documented",
	       n, n < 0 ? gnutls_strerror((int)n) : "");
	conn_close(&c);
}

/* 4. A katls socket has no way to send a KeyUpdate of its own. */
static void own_outbound(void)
{
	struct tls12_crypto_info_aes_gcm_128 k = test_key(0);
	struct conn c;
	int r;

	if (!tap_ok(conn_open(&c), "outbound: katls socket OPEN"))
		return;
	r = setsockopt(c.a, SOL_TLS, TLS_TX, &k, sizeof(k)) ? errno : 0;
	tap_ok(r == EPERM, "outbound: a new TLS_TX key from the application: EPERM (%s)",
	       strerror(r));
	r = setsockopt(c.a, SOL_TLS, TLS_RX, &k, sizeof(k)) ? errno : 0;
	tap_ok(r == EPERM, "outbound: a new TLS_RX key: EPERM (%s)", strerror(r));
	tap_ok(sanity(&c, "outbound"), "outbound: the socket is unharmed");
	conn_close(&c);
}

int main(void)
{
	struct utsname u;

	signal(SIGPIPE, SIG_IGN);
	uname(&u);
	tap_plan(24);
	tap_diag("kernel %s: kTLS has no rekey before 6.14", u.release);
	gcheck(gnutls_global_init(), "gnutls_global_init");
	make_creds();
	if (agent_open(&lis, true))
		die("agent_open");
	plain_recv();
	cmsg_recv();
	update_requested();
	own_outbound();
	agent_close(&lis);
	gnutls_certificate_free_credentials(srv_cred);
	gnutls_certificate_free_credentials(cli_cred);
	gnutls_global_deinit();
	return tap_done();
}
