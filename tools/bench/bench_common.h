/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the katls benchmarks: fixed test keys for the three
 * TLS 1.3 ciphers kTLS supports, a forked test agent that hands keys to
 * katls sockets through the agent protocol (libkatlsagent: ACCEPT +
 * DONE), a run-time self-signed GnuTLS credential, timing and medians.
 */
#ifndef KATLS_BENCH_COMMON_H
#define KATLS_BENCH_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <linux/katls.h>
#include <linux/tls.h>
#include <katls/agent.h>
#include <katls/gnutls.h>
#include <katls/katls.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

static inline void die(const char *what)
{
	perror(what);
	exit(2);
}

static inline void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A TCP socket with Nagle off (an accepted socket inherits it). */
static inline int nodelay_socket(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || setsockopt(fd, SOL_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("socket");
	return fd;
}

/* A connected IPv4 loopback pair: *a connects, *b is accepted. */
static inline void tcp_pair(int family, int *a, int *b)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(in);
	int l = nodelay_socket();

	if (family != AF_INET || bind(l, (void *)&in, len) ||
	    listen(l, 1024) || getsockname(l, (void *)&in, &len))
		die("loopback listener");
	*a = nodelay_socket();
	if (connect(*a, (void *)&in, len))
		die("connect");
	*b = accept(l, NULL, NULL);
	if (*b < 0)
		die("accept");
	close(l);
}

static inline void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/*
 * Opt fd in and submit the request without waiting (libkatls): 0 once
 * queued, or the errno.
 */
static inline int bench_attach(int fd, enum katls_role role,
			       const char *policy, unsigned int timeout_ms)
{
	struct katls_options o = { .policy = policy,
				   .timeout_ms = timeout_ms };

	return katls_attach_start(fd, role, &o) ? errno : 0;
}

/* KATLS_RESULT (libkatls); state 0xdead when the kernel gave none. */
static inline struct katls_result result(int fd)
{
	struct katls_result r = { .state = 0xdead };

	katls_result_get(fd, &r);
	return r;
}

/* A counter of /proc/net/katls_stat, -1 if absent. */
static inline long long katls_stat(const char *name)
{
	FILE *f = fopen("/proc/net/katls_stat", "r");
	long long v = -1, x;
	char key[64];

	while (f && fscanf(f, "%63s %lld", key, &x) == 2)
		if (!strcmp(key, name))
			v = x;
	if (f)
		fclose(f);
	return v;
}

enum bench_cipher { C_AES128, C_AES256, C_CHACHA, C_NR };

static const char *const cipher_name[C_NR] = {
	[C_AES128] = "aes128gcm",
	[C_AES256] = "aes256gcm",
	[C_CHACHA] = "chacha20poly1305",
};

/* GnuTLS priority names and the `openssl speed -evp` names. */
static const char *const cipher_gnutls[C_NR] = {
	[C_AES128] = "AES-128-GCM",
	[C_AES256] = "AES-256-GCM",
	[C_CHACHA] = "CHACHA20-POLY1305",
};

static const gnutls_cipher_algorithm_t cipher_gnutls_id[C_NR] = {
	[C_AES128] = GNUTLS_CIPHER_AES_128_GCM,
	[C_AES256] = GNUTLS_CIPHER_AES_256_GCM,
	[C_CHACHA] = GNUTLS_CIPHER_CHACHA20_POLY1305,
};

static const char *const cipher_openssl[C_NR] = {
	[C_AES128] = "aes-128-gcm",
	[C_AES256] = "aes-256-gcm",
	[C_CHACHA] = "chacha20-poly1305",
};

static inline int cipher_parse(const char *s)
{
	int c;

	for (c = 0; c < C_NR; c++)
		if (!strcmp(s, cipher_name[c]))
			return c;
	return -1;
}

/* ---- fixed keys, every cipher ---- */

union bench_key {
	struct tls_crypto_info info;
	struct tls12_crypto_info_aes_gcm_128 aes128;
	struct tls12_crypto_info_aes_gcm_256 aes256;
	struct tls12_crypto_info_chacha20_poly1305 chacha;
};

/*
 * Fixed test keys for one direction (0: client->server, 1: server->
 * client).  Returns the length of the crypto_info for setsockopt.
 */
static inline size_t bench_key(int cipher, int dir, union bench_key *k)
{
	memset(k, 0, sizeof(*k));
	k->info.version = TLS_1_3_VERSION;
	switch (cipher) {
	case C_AES128:
		k->info.cipher_type = TLS_CIPHER_AES_GCM_128;
		memset(k->aes128.key, 0x40 + dir, sizeof(k->aes128.key));
		memset(k->aes128.iv, 0x50 + dir, sizeof(k->aes128.iv));
		memset(k->aes128.salt, 0x60 + dir, sizeof(k->aes128.salt));
		return sizeof(k->aes128);
	case C_AES256:
		k->info.cipher_type = TLS_CIPHER_AES_GCM_256;
		memset(k->aes256.key, 0x41 + dir, sizeof(k->aes256.key));
		memset(k->aes256.iv, 0x51 + dir, sizeof(k->aes256.iv));
		memset(k->aes256.salt, 0x61 + dir, sizeof(k->aes256.salt));
		return sizeof(k->aes256);
	default:
		k->info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
		memset(k->chacha.key, 0x42 + dir, sizeof(k->chacha.key));
		memset(k->chacha.iv, 0x52 + dir, sizeof(k->chacha.iv));
		return sizeof(k->chacha);
	}
}

/* Plain kTLS on fd with the fixed keys; client sends with dir 0. */
static inline int ktls_install(int fd, int cipher, bool client)
{
	union bench_key tx, rx;
	size_t len;
	int err = 0;

	len = bench_key(cipher, client ? 0 : 1, &tx);
	bench_key(cipher, client ? 1 : 0, &rx);
	if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) ||
	    setsockopt(fd, SOL_TLS, TLS_TX, &tx, len) ||
	    setsockopt(fd, SOL_TLS, TLS_RX, &rx, len))
		err = errno ? errno : EIO;
	explicit_bzero(&tx, sizeof(tx));
	explicit_bzero(&rx, sizeof(rx));
	return err;
}

/* DONE with status 0, a summary and the fixed keys of cipher for role. */
static inline int bench_agent_done(struct katls_agent *a, uint64_t id,
				   unsigned int role, int cipher)
{
	struct katls_agent_done d = { .id = id };
	union bench_key tx, rx;
	int err;

	d.keys.len = bench_key(cipher, role == KATLS_ROLE_CLIENT ? 0 : 1, &tx);
	bench_key(cipher, role == KATLS_ROLE_CLIENT ? 1 : 0, &rx);
	memcpy(&d.keys.tx, &tx, sizeof(tx));
	memcpy(&d.keys.rx, &rx, sizeof(rx));
	explicit_bzero(&tx, sizeof(tx));
	explicit_bzero(&rx, sizeof(rx));
	d.summary = (struct katls_agent_summary){
		.evidence_type = KATLS_EVIDENCE_SIM,
		.binding_level = KATLS_BINDING_L2,
		.measurement_len = 48,
		.policy = "bench",
	};
	memset(d.summary.digest, 0xd1, sizeof(d.summary.digest));
	memset(d.summary.measurement, 0x3e, d.summary.measurement_len);
	err = -katls_agent_done(a, &d);
	katls_agent_done_wipe(&d);
	return err;
}

/*
 * Forked agent: subscribe to READY (requests fail with ESRCH while no
 * agent listens), tell the parent through ready_fd, answer n pending
 * requests with keys of cipher, then exit with 0 or the errno of the
 * first failure.  The gate knows the agent by its process, so this must
 * not be the application's process; the listening socket dies with it,
 * so no READY notifications pile up across trials.
 */
static inline pid_t bench_spawn_agent(int n, int cipher, int ready_fd)
{
	struct katls_agent lis, a;
	struct katls_agent_request req;
	pid_t pid = fork();
	int err = 0, i, tries;

	if (pid)
		return pid;
	if (katls_agent_listen(&lis) || katls_agent_connect(&a))
		_exit(100);
	if (write(ready_fd, "r", 1) != 1)
		_exit(101);
	for (i = 0; i < n && !err; i++) {
		err = ENOENT;
		for (tries = 0; tries < 2000 && err == ENOENT; tries++) {
			err = -katls_agent_accept(&a, &req);
			if (err == ENOENT)
				msleep(5);
		}
		if (!err)
			err = bench_agent_done(&a, req.id, req.role, cipher);
		if (req.fd >= 0)
			close(req.fd);
	}
	katls_agent_close(&a);
	katls_agent_close(&lis);
	_exit(err > 255 ? 255 : err);
}

static inline int bench_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Make the connected pair (a: client, b: server) OPEN katls sockets with
 * the fixed keys of cipher: opt-in and non-blocking requests (libkatls),
 * the forked agent's DONE.  Returns 0 or an errno-like code.
 */
static inline int katls_handover(int a, int b, int cipher)
{
	struct katls_result r;
	int err, st, rp[2];
	char c;
	pid_t pid;

	if (pipe(rp))
		return errno;
	pid = bench_spawn_agent(2, cipher, rp[1]);
	close(rp[1]);
	if (pid < 0 || read(rp[0], &c, 1) != 1) {
		close(rp[0]);
		return pid < 0 ? errno : bench_wait(pid) ?: EIO;
	}
	close(rp[0]);
	set_nonblock(a, true);
	set_nonblock(b, true);
	err = bench_attach(a, KATLS_ROLE_CLIENT, "bench", 10000);
	if (!err)
		err = bench_attach(b, KATLS_ROLE_SERVER, "bench", 10000);
	if (err)
		kill(pid, SIGKILL);
	st = bench_wait(pid);
	set_nonblock(a, false);
	set_nonblock(b, false);
	if (!err && st)
		err = st < 0 ? EIO : st;
	if (err)
		return err;
	r = result(a);
	if (r.state != KATLS_STATE_OPEN)
		return EPROTO;
	r = result(b);
	if (r.state != KATLS_STATE_OPEN)
		return EPROTO;
	return 0;
}

/* ---- GnuTLS: a self-signed ECDSA P-256 credential made at run time ---- */

struct bench_cred {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	gnutls_certificate_credentials_t server, client;
};

static inline void gnutls_check(int r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", what, gnutls_strerror(r));
		exit(2);
	}
}

static inline void bench_cred_init(struct bench_cred *c)
{
	time_t now = time(NULL);
	unsigned char serial[8] = { 0x01, 0x4b, 0x41, 0x54, 0x4c, 0x53 };

	gnutls_check(gnutls_global_init(), "gnutls_global_init");
	gnutls_check(gnutls_x509_privkey_init(&c->key), "privkey_init");
	gnutls_check(gnutls_x509_privkey_generate(c->key, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
		     "privkey_generate");
	gnutls_check(gnutls_x509_crt_init(&c->crt), "crt_init");
	gnutls_check(gnutls_x509_crt_set_version(c->crt, 3), "crt_set_version");
	gnutls_check(gnutls_x509_crt_set_serial(c->crt, serial, sizeof(serial)),
		     "crt_set_serial");
	gnutls_check(gnutls_x509_crt_set_activation_time(c->crt, now - 3600),
		     "crt_set_activation_time");
	gnutls_check(gnutls_x509_crt_set_expiration_time(c->crt, now + 86400),
		     "crt_set_expiration_time");
	gnutls_check(gnutls_x509_crt_set_dn_by_oid(c->crt,
			GNUTLS_OID_X520_COMMON_NAME, 0, "katls-bench",
			strlen("katls-bench")), "crt_set_dn");
	gnutls_check(gnutls_x509_crt_set_key(c->crt, c->key), "crt_set_key");
	gnutls_check(gnutls_x509_crt_set_key_usage(c->crt,
			GNUTLS_KEY_DIGITAL_SIGNATURE), "crt_set_key_usage");
	gnutls_check(gnutls_x509_crt_sign2(c->crt, c->crt, c->key,
					   GNUTLS_DIG_SHA256, 0), "crt_sign2");
	gnutls_check(gnutls_certificate_allocate_credentials(&c->server),
		     "allocate_credentials");
	gnutls_check(gnutls_certificate_set_x509_key(c->server, &c->crt, 1,
						     c->key), "set_x509_key");
	gnutls_check(gnutls_certificate_allocate_credentials(&c->client),
		     "allocate_credentials");
	gnutls_check(gnutls_certificate_set_x509_trust(c->client, &c->crt, 1),
		     "set_x509_trust");
}

static inline void bench_cred_free(struct bench_cred *c)
{
	gnutls_certificate_free_credentials(c->server);
	gnutls_certificate_free_credentials(c->client);
	gnutls_x509_crt_deinit(c->crt);
	gnutls_x509_privkey_deinit(c->key);
	gnutls_global_deinit();
}

/*
 * A full TLS 1.3 handshake on fd (X25519, ECDSA P-256, no tickets, only
 * the given cipher; the client verifies the certificate).  Returns the
 * session, or NULL after printing why.
 */
static inline gnutls_session_t bench_tls_session(struct bench_cred *c, int fd,
						 bool client, int cipher)
{
	char prio[KATLS_GNUTLS_PRIORITY_MAX];
	gnutls_session_t s;
	const char *err_pos;
	int r;

	if (katls_gnutls_priority(prio, sizeof(prio), cipher_gnutls[cipher],
				  "-GROUP-ALL:+GROUP-X25519") < 0)
		return NULL;
	if (gnutls_init(&s, (client ? GNUTLS_CLIENT : GNUTLS_SERVER) |
			GNUTLS_NO_TICKETS) < 0)
		return NULL;
	r = gnutls_priority_set_direct(s, prio, &err_pos);
	if (r >= 0)
		r = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
					   client ? c->client : c->server);
	if (r >= 0 && client)
		gnutls_session_set_verify_cert(s, NULL, 0);
	if (r >= 0) {
		gnutls_transport_set_int(s, fd);
		gnutls_handshake_set_timeout(s, 30000);
		do {
			r = gnutls_handshake(s);
		} while (r < 0 && !gnutls_error_is_fatal(r));
	}
	if (r >= 0 && gnutls_cipher_get(s) != cipher_gnutls_id[cipher])
		r = GNUTLS_E_UNWANTED_ALGORITHM;
	if (r < 0) {
		fprintf(stderr, "%s handshake: %s\n", client ? "client" : "server",
			gnutls_strerror(r));
		gnutls_deinit(s);
		return NULL;
	}
	return s;
}

/* ---- time ---- */

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v); NAN when n is 0. */
static inline double median(double *v, int n)
{
	if (n <= 0)
		return __builtin_nan("");
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Move all of len bytes through fd (pipes) in one direction. */
static inline bool io_all(int fd, void *buf, size_t len, bool out)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = out ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

/* Write all of buf to fd; false on error. */
static inline bool write_all(int fd, const void *buf, size_t len)
{
	return io_all(fd, (void *)buf, len, true);
}

/* Read exactly len bytes; false on error or end of file. */
static inline bool read_all(int fd, void *buf, size_t len)
{
	return io_all(fd, buf, len, false);
}

#endif /* KATLS_BENCH_COMMON_H */
