// SPDX-License-Identifier: GPL-2.0
/*
 * adapter.c - run the kernel's kTLS selftest (tools/testing/selftests/
 * net/tls.c, built from the cache) on katls sockets.
 *
 * Linked into build/K/tls-katls only, with -Wl,--wrap=setsockopt: every
 * setsockopt() of the selftest's object comes here first.  The same
 * object linked without this file is build/K/tls-plain, the control.
 * The selftest itself is not changed.
 *
 * What is routed through katls:
 *
 * - setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls") on an ESTABLISHED
 *   socket is remembered and answered 0; the socket stays plain TCP
 *   until the test installs a key.  (katls refuses every byte between
 *   the opt-in and the verdict by design; the selftest uses sockets
 *   that get "tls" but never a key as raw TCP endpoints, e.g. to read
 *   ciphertext in tls_err, so they must not be gated.)  On a socket
 *   that is not established, or the second "tls" on a socket, the katls
 *   opt-in happens at once and the call returns what the kernel says.
 *
 * - The first setsockopt(SOL_TLS, TLS_TX or TLS_RX) on such a socket
 *   with a key katls hands over (TLS 1.3, AES-128-GCM, AES-256-GCM or
 *   ChaCha20-Poly1305): opt in with the katls ULP, request a handshake
 *   (KATLS_REQUEST), and a forked test agent (tests/vm/katls_test.h on
 *   libkatlsagent) ACCEPTs the request, checks that the socket it got is
 *   this one, and sends DONE with the test's key for both directions.
 *   The call returns 0 once KATLS_RESULT says OPEN.  Every hand-over
 *   prints "# katls-adapter: ..." so that the runner can tell a case
 *   that used a katls socket from one that did not.
 *
 * - A later TLS_TX/TLS_RX on that socket with the very key the verdict
 *   installed (the fixture's second direction, e.g. in "bidir") is
 *   already in place: answered 0 without a call, and reported.  Any other
 *   key (a rekey) goes to the kernel, which refuses it (EPERM: keys come
 *   only from the agent).
 *
 * - A key katls does not hand over (TLS 1.2, SM4, CCM, ARIA) opts the
 *   socket in and goes to the kernel, which refuses it (EPERM).
 *
 * Everything else goes to the real setsockopt() unchanged.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "katls_test.h"

int __real_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len);
int __wrap_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len);

#define KFD_MAX 1024

struct kfd {
	ino_t ino;		/* the socket this slot describes; 0: none */
	bool deferred;		/* "tls" asked for, katls not attached yet */
	bool attached;		/* the katls ULP is on */
	bool open;		/* the verdict installed @key both ways */
	size_t keylen;
	union katls_crypto_info key;
};

static struct kfd kfds[KFD_MAX];

static ino_t fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* The slot of fd, or NULL; a slot of a closed socket is forgotten. */
static struct kfd *kfd_get(int fd, bool create)
{
	ino_t ino;

	if (fd < 0 || fd >= KFD_MAX)
		return NULL;
	ino = fd_ino(fd);
	if (!ino)
		return NULL;
	if (kfds[fd].ino != ino) {
		if (!create)
			return NULL;
		explicit_bzero(&kfds[fd], sizeof(kfds[fd]));
		kfds[fd].ino = ino;
	}
	return &kfds[fd];
}

static void say(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	printf("# katls-adapter: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static const char *cipher_name(unsigned int c)
{
	switch (c) {
	case TLS_CIPHER_AES_GCM_128: return "AES-128-GCM";
	case TLS_CIPHER_AES_GCM_256: return "AES-256-GCM";
	case TLS_CIPHER_CHACHA20_POLY1305: return "ChaCha20-Poly1305";
	default: return "?";
	}
}

static int attach(int fd, struct kfd *k)
{
	int ret = __real_setsockopt(fd, SOL_TCP, TCP_ULP, KATLS_ULP_NAME,
				    sizeof(KATLS_ULP_NAME));

	if (!ret) {
		k->attached = true;
		k->deferred = false;
	}
	return ret;
}

/*
 * The forked test agent: listen (katls fails a request at once when no
 * agent listens), tell the parent on @ready, ACCEPT, check that the
 * socket is the parent's, DONE with @key for both directions.
 */
static void agent_child(int ready, ino_t ino,
			const union katls_crypto_info *key, size_t len)
{
	struct katls_agent_done d = { 0 };
	struct agent ag;
	int err;

	if (agent_open(&ag, true))
		_exit(100);
	if (write(ready, "r", 1) != 1)
		_exit(102);
	close(ready);
	err = agent_accept_wait(&ag);
	if (err)
		_exit(err);
	d.id = ag.id;
	if (ag.fd < 0 || fd_ino(ag.fd) != ino) {
		/* Somebody else's request: fail it, and this hand-over. */
		d.status = EPROTO;
		katls_agent_done(&ag.k, &d);
		_exit(101);
	}
	memcpy(&d.keys.tx, key, len);
	memcpy(&d.keys.rx, key, len);
	d.keys.len = len;
	test_summary(&d.summary, "ktls-selftest");
	err = -katls_agent_done(&ag.k, &d);
	katls_agent_done_wipe(&d);
	close(ag.fd);
	agent_close(&ag);
	_exit(err);
}

/* Opt in, request, let the agent hand key over; 0 or -1 with errno. */
static int handover(int fd, struct kfd *k, int optname,
		    const union katls_crypto_info *key, size_t len)
{
	struct katls_result r;
	int err, status, pfd[2];
	pid_t pid;
	char c;

	if (attach(fd, k) || pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (!pid) {
		close(pfd[0]);
		agent_child(pfd[1], k->ino, key, len);
	}
	close(pfd[1]);
	/* EOF instead of the byte: the agent died; the request fails. */
	if (read(pfd[0], &c, 1) != 1)
		say("fd %d: the test agent did not start listening", fd);
	close(pfd[0]);
	err = request(fd, KATLS_ROLE_CLIENT, "ktls-selftest", 20000);
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	if (err) {
		r = result(fd);
		say("fd %d: KATLS_REQUEST failed: %s (agent status %#x, "
		    "KATLS_RESULT state %u status %u)", fd, strerror(err),
		    status, r.state, r.status);
		errno = err;
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		say("fd %d: the test agent failed (status %#x)", fd, status);
		errno = EPROTO;
		return -1;
	}
	r = result(fd);
	if (r.state != KATLS_STATE_OPEN) {
		say("fd %d: state %u after the verdict, not OPEN", fd, r.state);
		errno = EPROTO;
		return -1;
	}
	k->open = true;
	k->keylen = len;
	memcpy(&k->key, key, len);
	say("fd %d: katls OPEN, %s TLS 1.3 key of the test's %s installed "
	    "by the agent for TX and RX", fd, cipher_name(key->info.cipher_type),
	    optname == TLS_TX ? "TLS_TX" : "TLS_RX");
	return 0;
}

static bool is_ulp_tls(const void *val, socklen_t len)
{
	return val && len >= 3 && len <= 4 && !memcmp(val, "tls", 3) &&
	       (len == 3 || !((const char *)val)[3]);
}

static bool established(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	return !getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &l) &&
	       ti.tcpi_state == TCP_ESTABLISHED;
}

static int wrap_ulp(int fd, const void *val, socklen_t len)
{
	struct kfd *k = kfd_get(fd, true);

	if (!k)
		return __real_setsockopt(fd, SOL_TCP, TCP_ULP, KATLS_ULP_NAME,
					 sizeof(KATLS_ULP_NAME));
	if (k->deferred) {
		/* The second "tls": attach now, the kernel answers. */
		if (attach(fd, k))
			return -1;
		say("fd %d: katls ULP attached; a second TCP_ULP goes to it", fd);
		return __real_setsockopt(fd, SOL_TCP, TCP_ULP, val, len);
	}
	if (k->attached)
		return __real_setsockopt(fd, SOL_TCP, TCP_ULP, val, len);
	if (!established(fd)) {
		int ret = attach(fd, k);

		say("fd %d: katls ULP on a socket that is not established: %s",
		    fd, ret ? strerror(errno) : "attached");
		return ret;
	}
	k->deferred = true;
	return 0;
}

static int wrap_key(int fd, int optname, const void *val, socklen_t len)
{
	struct kfd *k = kfd_get(fd, false);
	union katls_crypto_info key;

	if (!k || !val)
		return __real_setsockopt(fd, SOL_TLS, optname, val, len);
	if (k->deferred) {
		memset(&key, 0, sizeof(key));
		if (len >= sizeof(key.info) && len <= sizeof(key))
			memcpy(&key, val, len);
		if (len >= sizeof(key.info) && katls_crypto_info_len(&key) == len) {
			int ret = handover(fd, k, optname, &key, len);

			explicit_bzero(&key, sizeof(key));
			return ret;
		}
		explicit_bzero(&key, sizeof(key));
		/* Not a key katls hands over: the kernel says no. */
		if (attach(fd, k))
			return -1;
		say("fd %d: katls ULP attached; a key katls does not hand over "
		    "goes to it", fd);
		return __real_setsockopt(fd, SOL_TLS, optname, val, len);
	}
	if (k->open && len == k->keylen && !memcmp(val, &k->key, len)) {
		say("fd %d: %s with the key the verdict installed: already in place",
		    fd, optname == TLS_TX ? "TLS_TX" : "TLS_RX");
		return 0;
	}
	return __real_setsockopt(fd, SOL_TLS, optname, val, len);
}

int __wrap_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len)
{
	if (level == SOL_TCP && name == TCP_ULP && is_ulp_tls(val, len))
		return wrap_ulp(fd, val, len);
	if (level == SOL_TLS && (name == TLS_TX || name == TLS_RX))
		return wrap_key(fd, name, val, len);
	return __real_setsockopt(fd, level, name, val, len);
}
