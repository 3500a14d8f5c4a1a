// SPDX-License-Identifier: GPL-2.0
/*
 * katls_gate - VM integration tests of katls.ko on a stock Debian kernel:
 * the opt-in, the gate on every data path, the request lifecycle and its
 * failures, and the hand-over to kTLS (driven by a forked test agent that
 * speaks the netlink protocol with fixed keys; the peer is a plain kTLS
 * socket with the same keys).  Each invariant of Documentation/design.rst
 * ("Kernel invariants") names its tests in Documentation/testing.rst.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/sendfile.h>
#include <sys/wait.h>

#include "fds.h"
#include "katls_test.h"

static int fams[] = { AF_INET, AF_INET6 };
static const char *famname(int f) { return f == AF_INET ? "v4" : "v6"; }

/* ---- forked agents (the gate identifies the agent by its process) ---- */

enum { AG_DONE, AG_DIE, AG_HOLD, AG_GO };
static int agent_pipe[2] = { -1, -1 };	/* the child reports its request id */
static int agent_go[2] = { -1, -1 };	/* AG_GO: DONE after a byte on it */

static pid_t spawn_agent(int action, uint32_t status, unsigned int role,
			 int delay_ms)
{
	pid_t pid = fork();
	struct agent a;
	int err;

	if (pid)
		return pid;
	if (agent_open(&a, false))
		_exit(100);
	err = agent_accept_wait(&a);
	if (err)
		_exit(err);
	if (agent_pipe[1] >= 0)
		if (write(agent_pipe[1], &a.id, sizeof(a.id)) < 0)
			_exit(97);
	if (delay_ms)
		msleep(delay_ms);
	switch (action) {
	case AG_DIE:
		_exit(0);
	case AG_HOLD:
		pause();
		_exit(0);
	case AG_GO: {
		char go;

		if (read(agent_go[0], &go, 1) != 1)
			_exit(96);
		break;
	}
	}
	err = agent_done(&a, a.id, status, role);
	close(a.fd);
	_exit(err);
}

static int agent_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* ---- tests ---- */

static void test_optin(void)
{
	int a, b, l, one = 1;
	struct katls_result r;

	tcp_pair(AF_INET, &a, &b);
	tap_ok(opt_in(a) == 0, "opt-in: TCP_ULP katls on an established socket");
	tap_ok(katls_stat("opted_in") >= 1, "opt-in: /proc/net/katls_stat counts it");
	r = result(a);
	tap_ok(r.state == KATLS_STATE_IDLE, "opt-in: state IDLE (%u)", r.state);
	/* issue 14 item 3: the structure grew at its end, compatibly */
	{
		struct { struct katls_result r; char more[16]; } big;
		socklen_t len = KATLS_RESULT_SIZE_VER0;

		memset(&big, 0x5a, sizeof(big));
		tap_ok(getsockopt(a, SOL_KATLS, KATLS_RESULT, &big, &len) == 0 &&
		       len == KATLS_RESULT_SIZE_VER0 &&
		       big.r.state == KATLS_STATE_IDLE &&
		       ((unsigned char *)&big)[KATLS_RESULT_SIZE_VER0] == 0x5a,
		       "KATLS_RESULT: a %d-byte (pre-mutual) caller gets its prefix, nothing past it",
		       KATLS_RESULT_SIZE_VER0);
		len = KATLS_RESULT_SIZE_VER0 - 1;
		tap_ok(getsockopt(a, SOL_KATLS, KATLS_RESULT, &big, &len) < 0 &&
		       errno == EINVAL, "KATLS_RESULT: shorter than %d -> EINVAL",
		       KATLS_RESULT_SIZE_VER0);
		len = sizeof(big);
		tap_ok(getsockopt(a, SOL_KATLS, KATLS_RESULT, &big, &len) == 0 &&
		       len == sizeof(struct katls_result) &&
		       big.r.client_evidence_type == KATLS_EVIDENCE_NONE &&
		       !big.r.client_policy[0] && big.more[0] == 0x5a,
		       "KATLS_RESULT: a longer buffer gets sizeof(struct katls_result) (%zu), no client evidence",
		       sizeof(struct katls_result));
	}
	tap_ok(send(a, "x", 1, MSG_DONTWAIT) < 0 && errno == ENOTCONN,
	       "gate idle: send before a request -> ENOTCONN");
	tap_ok(recv(a, &one, 1, MSG_DONTWAIT) < 0 && errno == ENOTCONN,
	       "gate idle: recv before a request -> ENOTCONN");
	close(a);
	close(b);

	l = socket(AF_INET, SOCK_STREAM, 0);
	tap_ok(opt_in(l) < 0 && errno == ENOTCONN,
	       "opt-in: unconnected socket -> ENOTCONN");
	close(l);
}

static void test_refusals(void)
{
	struct tls12_crypto_info_aes_gcm_128 ci = test_key(0);
	struct katls_request req = { .role = KATLS_ROLE_CLIENT };
	int a, b, one = 1;
	char zc[64] = { 0 };
	socklen_t zl = sizeof(zc);

	tcp_pair(AF_INET, &a, &b);
	opt_in(a);
	tap_ok(setsockopt(a, SOL_TLS, TLS_TX, &ci, sizeof(ci)) < 0 &&
	       errno == EPERM, "gate: application TLS_TX -> EPERM");
	tap_ok(setsockopt(a, SOL_TCP, TCP_ULP, "tls", 4) < 0 && errno == EEXIST,
	       "gate: second TCP_ULP -> EEXIST");
	tap_ok(getsockopt(a, SOL_TCP, TCP_ZEROCOPY_RECEIVE, zc, &zl) < 0 &&
	       errno == EOPNOTSUPP, "gate: TCP_ZEROCOPY_RECEIVE -> EOPNOTSUPP");
	tap_ok(setsockopt(a, SOL_TCP, TCP_REPAIR, &one, sizeof(one)) < 0 &&
	       errno == EPERM, "gate: TCP_REPAIR -> EPERM");
	tap_ok(setsockopt(a, SOL_TCP, TCP_NODELAY, &one, sizeof(one)) == 0,
	       "gate: harmless TCP options still work");
	snprintf(req.policy, sizeof(req.policy), "p");
	tap_ok(setsockopt(a, SOL_KATLS, KATLS_REQUEST, &req, sizeof(req) - 1) < 0 &&
	       errno == EINVAL, "request: short optlen -> EINVAL");
	req.role = 7;
	tap_ok(setsockopt(a, SOL_KATLS, KATLS_REQUEST, &req, sizeof(req)) < 0 &&
	       errno == EINVAL, "request: bad role -> EINVAL");
	req.role = KATLS_ROLE_CLIENT;
	snprintf(req.policy, sizeof(req.policy), "bad/name");
	tap_ok(setsockopt(a, SOL_KATLS, KATLS_REQUEST, &req, sizeof(req)) < 0 &&
	       errno == EINVAL, "request: bad policy name -> EINVAL");
	snprintf(req.policy, sizeof(req.policy), "p");
	req.timeout_ms = KATLS_TIMEOUT_MAX_MS + 1;
	tap_ok(setsockopt(a, SOL_KATLS, KATLS_REQUEST, &req, sizeof(req)) < 0 &&
	       errno == EINVAL, "request: timeout too large -> EINVAL");
	tap_ok(result(a).state == KATLS_STATE_IDLE,
	       "request: invalid requests leave the socket IDLE");
	close(a);
	close(b);
}

static void test_no_agent(void)
{
	struct pollfd p;
	int a, b, err;
	char c;

	tcp_pair(AF_INET, &a, &b);
	opt_in(a);
	err = request(a, KATLS_ROLE_CLIENT, "p", 0);
	tap_ok(err == ESRCH, "fail closed: no agent listening -> ESRCH (%d)", err);
	tap_ok(result(a).state == KATLS_STATE_FAILED &&
	       result(a).status == ESRCH, "fail closed: result FAILED/ESRCH");
	tap_ok(send(a, "x", 1, 0) < 0 && errno == ESRCH,
	       "fail closed: send after failure -> ESRCH");
	p = (struct pollfd){ .fd = a, .events = POLLIN | POLLOUT };
	tap_ok(poll(&p, 1, 0) == 1 && (p.revents & POLLERR),
	       "fail closed: poll reports POLLERR");
	p = (struct pollfd){ .fd = b, .events = POLLIN };
	poll(&p, 1, 2000);
	tap_ok(recv(b, &c, 1, MSG_DONTWAIT) < 0 && errno == ECONNRESET,
	       "fail closed: the peer sees a reset");
	close(a);
	close(b);
}

static void test_pending_gate(int fam)
{
	char buf[256], msg[] = "PLAINTEXT-SECRET";
	int a, b, pfd[2], ffd, err;
	struct agent lis;
	struct pollfd p;
	off_t off = 0;

	if (agent_open(&lis, true))
		die("agent_open");
	tcp_pair(fam, &a, &b);
	opt_in(a);
	set_nonblock(a, true);
	err = request(a, KATLS_ROLE_CLIENT, "p", 3000);
	tap_ok(err == EINPROGRESS, "%s request: non-blocking -> EINPROGRESS (%d)",
	       famname(fam), err);
	tap_ok(result(a).state == KATLS_STATE_PENDING, "%s request: PENDING",
	       famname(fam));
	tap_ok(request(a, KATLS_ROLE_CLIENT, "p", 0) == EALREADY,
	       "%s request: second request -> EALREADY", famname(fam));
	send(b, "peerdata", 8, 0);
	msleep(50);
	tap_ok(send(a, msg, sizeof(msg), 0) < 0 && errno == EAGAIN,
	       "%s gate sendmsg: EAGAIN while pending", famname(fam));
	tap_ok(recv(a, buf, sizeof(buf), 0) < 0 && errno == EAGAIN,
	       "%s gate recvmsg: EAGAIN though data is queued", famname(fam));
	tap_ok(recv(a, buf, sizeof(buf), MSG_PEEK) < 0 && errno == EAGAIN,
	       "%s gate recvmsg MSG_PEEK: EAGAIN", famname(fam));
	p = (struct pollfd){ .fd = a, .events = POLLIN | POLLOUT };
	tap_ok(poll(&p, 1, 100) == 0, "%s gate poll: no readiness while pending",
	       famname(fam));
	if (pipe(pfd))
		die("pipe");
	tap_ok(splice(a, NULL, pfd[1], NULL, 64, SPLICE_F_NONBLOCK) < 0 &&
	       errno == EAGAIN, "%s gate splice_read: EAGAIN", famname(fam));
	if (write(pfd[1], msg, sizeof(msg)) != sizeof(msg))
		die("write");
	tap_ok(splice(pfd[0], NULL, a, NULL, sizeof(msg), SPLICE_F_NONBLOCK) < 0 &&
	       errno == EAGAIN, "%s gate splice into socket: EAGAIN", famname(fam));
	ffd = memfd_create("katls-sendfile", 0);
	if (ffd < 0 || write(ffd, msg, sizeof(msg)) != sizeof(msg))
		die("memfd");
	err = sendfile(a, ffd, &off, 16) < 0 ? errno : 0;
	tap_ok(err == EAGAIN, "%s gate sendfile: EAGAIN (%d)", famname(fam), err);
	tap_ok(write(a, msg, sizeof(msg)) < 0 && errno == EAGAIN,
	       "%s gate write: EAGAIN", famname(fam));
	{
		struct iovec iov[2] = { { msg, 4 }, { msg + 4, 4 } };

		tap_ok(writev(a, iov, 2) < 0 && errno == EAGAIN,
		       "%s gate writev: EAGAIN", famname(fam));
		tap_ok(readv(a, iov, 2) < 0 && errno == EAGAIN,
		       "%s gate readv: EAGAIN", famname(fam));
	}
	tap_ok(drain(b, buf, sizeof(buf), 200) == 0,
	       "%s gate wire: nothing reached the peer", famname(fam));
	close(ffd);
	close(pfd[0]);
	close(pfd[1]);
	close(a);
	close(b);
	agent_close(&lis);
}

static void test_timeout(void)
{
	struct agent lis;
	int a, b, err;
	long long before = katls_stat("timed_out");
	struct timespec t0, t1;
	long ms;

	agent_open(&lis, true);
	tcp_pair(AF_INET, &a, &b);
	opt_in(a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = request(a, KATLS_ROLE_CLIENT, "p", 400);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	tap_ok(err == ETIMEDOUT, "timeout: kernel timer fails the request -> ETIMEDOUT (%d)", err);
	tap_ok(ms >= 350 && ms < 5000, "timeout: after about 400 ms (%ld ms)", ms);
	/* Counted before the failure is published: no wait needed. */
	tap_ok(katls_stat("timed_out") == before + 1, "timeout: counted");
	tap_ok(recv(a, &err, 1, MSG_DONTWAIT) < 0 && errno == ETIMEDOUT,
	       "timeout: recv after it -> ETIMEDOUT");
	close(a);
	close(b);
	agent_close(&lis);
}

/*
 * One agent socket serves one request after another, as a long-lived
 * agent does: the second ACCEPT follows a DONE whose ack libkatlsagent
 * read itself (it once left libnl's sequence check one behind: EIO).
 */
static void test_agent_two_requests(void)
{
	struct agent lis;
	int a[2], b[2], i;
	pid_t pid;

	agent_open(&lis, true);
	for (i = 0; i < 2; i++) {
		tcp_pair(AF_INET, &a[i], &b[i]);
		opt_in(a[i]);
		set_nonblock(a[i], true);
		request(a[i], KATLS_ROLE_CLIENT, "p", 10000);
	}
	pid = fork();
	if (!pid) {
		struct agent ag;
		int n, err = 0;

		if (agent_open(&ag, false))
			_exit(100);
		for (n = 0; n < 2 && !err; n++) {
			err = agent_accept_wait(&ag);
			if (!err)
				err = agent_done(&ag, ag.id, EACCES, 0);
			if (ag.fd >= 0)
				close(ag.fd);
		}
		_exit(err);
	}
	tap_ok(agent_wait(pid) == 0,
	       "netlink: one agent socket accepts and completes two requests in turn");
	for (i = 0; i < 2; i++) {
		struct katls_result r = result(a[i]);

		tap_ok(r.state == KATLS_STATE_FAILED && r.status == EACCES,
		       "netlink: request %d of that agent socket completed (state %u status %u)",
		       i + 1, r.state, r.status);
		close(a[i]);
		close(b[i]);
	}
	agent_close(&lis);
}

static void test_agent_rules(void)
{
	struct agent lis, other;
	int a, b, err, st;
	pid_t pid;

	agent_open(&lis, true);
	agent_open(&other, false);
	tap_ok(agent_accept(&other) == ENOENT, "netlink: ACCEPT with nothing pending -> ENOENT");

	/* An unprivileged agent. */
	tcp_pair(AF_INET, &a, &b);
	opt_in(a);
	set_nonblock(a, true);
	request(a, KATLS_ROLE_CLIENT, "p", 5000);
	pid = fork();
	if (!pid) {
		struct agent u;

		if (setgid(65534) || setuid(65534))
			_exit(99);
		if (agent_open(&u, false))
			_exit(98);
		_exit(agent_accept(&u));
	}
	waitpid(pid, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == EPERM,
	       "netlink: ACCEPT without CAP_NET_ADMIN -> EPERM (%d)", WEXITSTATUS(st));
	pid = fork();
	if (!pid) {
		struct agent u;

		if (setgid(65534) || setuid(65534))
			_exit(99);
		_exit(agent_open(&u, true) ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "netlink: joining the agent group without CAP_NET_ADMIN is refused");
	tap_ok(result(a).state == KATLS_STATE_PENDING,
	       "netlink: the refused ACCEPT left the request pending");

	/* Accepted by a held child; DONE from another agent is refused. */
	if (pipe(agent_pipe))
		die("pipe");
	pid = spawn_agent(AG_HOLD, 0, 0, 0);
	close(agent_pipe[1]);
	agent_pipe[1] = -1;
	{
		uint64_t id = 0;

		if (read(agent_pipe[0], &id, sizeof(id)) != sizeof(id))
			id = 0;
		close(agent_pipe[0]);
		tap_ok(id && result(a).state == KATLS_STATE_ACCEPTED,
		       "netlink: ACCEPT -> ACCEPTED");
		err = agent_done(&other, id, EACCES, 0);
		tap_ok(err == EPERM, "netlink: DONE from a non-owner -> EPERM (%d)", err);
		tap_ok(result(a).state == KATLS_STATE_ACCEPTED,
		       "netlink: the refused DONE changed nothing");
		err = agent_done(&other, 1ULL << 60, EACCES, 0);
		tap_ok(err == ENOENT, "netlink: DONE for an unknown request -> ENOENT");
	}
	tap_ok(send(a, "x", 1, 0) < 0 && errno == EAGAIN,
	       "gate: the application is still gated while another process is the agent");
	/* Agent death after ACCEPT. */
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	for (st = 0; st < 200 && result(a).state != KATLS_STATE_FAILED; st++)
		msleep(10);
	tap_ok(result(a).state == KATLS_STATE_FAILED &&
	       result(a).status == ECONNABORTED,
	       "fail closed: agent killed after ACCEPT -> ECONNABORTED");
	close(a);
	close(b);
	agent_close(&other);
	agent_close(&lis);
}

static void test_rejected(void)
{
	struct agent lis;
	int a, b, err;
	pid_t pid;
	char c;

	agent_open(&lis, true);
	tcp_pair(AF_INET, &a, &b);
	opt_in(a);
	pid = spawn_agent(AG_DONE, EKEYREJECTED, KATLS_ROLE_CLIENT, 0);
	err = request(a, KATLS_ROLE_CLIENT, "p", 5000);
	tap_ok(err == EKEYREJECTED, "fail closed: agent verdict EKEYREJECTED reaches the app (%d)", err);
	tap_ok(agent_wait(pid) == 0, "netlink: DONE with a failure status accepted");
	tap_ok(drain(b, &c, 1, 2000) == -ECONNRESET,
	       "fail closed: peer reset after rejection");
	close(a);
	close(b);
	agent_close(&lis);
}

/*
 * An agent's status that is not an errno from the allow-list (512
 * ERESTARTSYS, 529 EIOCBQUEUED, EAGAIN, ...) reaches the application as
 * EPROTO.
 */
static void test_status_not_errno(void)
{
	static const uint32_t bad[] = { 512, 529, EAGAIN };
	struct agent lis;
	unsigned int i;
	int a, b, err;
	pid_t pid;

	agent_open(&lis, true);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tcp_pair(AF_INET, &a, &b);
		opt_in(a);
		pid = spawn_agent(AG_DONE, bad[i], KATLS_ROLE_CLIENT, 0);
		err = request(a, KATLS_ROLE_CLIENT, "p", 5000);
		tap_ok(err == EPROTO && result(a).status == EPROTO,
		       "fail closed: agent status %u is not an allowed errno -> EPROTO (%d, status %u)",
		       bad[i], err, result(a).status);
		tap_ok(agent_wait(pid) == 0, "netlink: DONE with status %u answered", bad[i]);
		close(a);
		close(b);
	}
	agent_close(&lis);
}

static void send_only(struct agent *ag, struct nl_msg *m)
{
	if (nl_send_auto(ag->nl, m) < 0)
		die("nl_send_auto");
	nlmsg_free(m);
}

/*
 * ACCEPT whose reply cannot be delivered (the agent's receive queue is
 * full): no descriptor may appear in the agent, and the request fails
 * closed instead of staying accepted by an agent that never learnt it.
 */
static void test_accept_undeliverable(void)
{
	struct agent lis, ag;
	int a, b, i, fds, after, small = 1;
	struct katls_result r;
	char c;

	agent_open(&lis, true);
	agent_open(&ag, false);
	setsockopt(nl_socket_get_fd(ag.nl), SOL_SOCKET, SO_RCVBUF, &small,
		   sizeof(small));
	/* Nothing is pending: each ACCEPT leaves an unread error ack. */
	for (i = 0; i < 256; i++)
		send_only(&ag, agent_msg(&ag, KATLS_CMD_ACCEPT));
	tcp_pair(AF_INET, &a, &b);
	opt_in(a);
	set_nonblock(a, true);
	request(a, KATLS_ROLE_CLIENT, "p", 10000);
	fds = count_fds();
	send_only(&ag, agent_msg(&ag, KATLS_CMD_ACCEPT));
	after = count_fds();
	tap_ok(fds > 0 && after == fds,
	       "netlink: ACCEPT with an undeliverable reply installs no descriptor (%d -> %d)",
	       fds, after);
	r = result(a);
	tap_ok(r.state == KATLS_STATE_FAILED && r.status == ECONNABORTED,
	       "fail closed: ACCEPT reply undeliverable -> ECONNABORTED (state %u status %u)",
	       r.state, r.status);
	tap_ok(drain(b, &c, 1, 2000) == -ECONNRESET,
	       "fail closed: peer reset after the undeliverable ACCEPT");
	close(a);
	close(b);
	agent_close(&ag);
	agent_close(&lis);
}

/* Every request's outcome is counted once (/proc/net/katls_stat). */
static long long outcomes(void)
{
	static const char *const names[] = {
		"verified", "rejected", "timed_out", "agent_lost", "no_agent",
		"closed", "handover_failed",
	};
	long long n = 0;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		n += katls_stat(names[i]);
	return n;
}

/*
 * ACCEPT when the agent's descriptor table is full: the request fails
 * with EMFILE (Documentation/netlink.rst), no descriptor is left, and the
 * failure is counted (agent_lost) like an undeliverable reply.
 */
static void test_accept_no_fd(void)
{
	long long out0, lost0, closed0, d;
	struct rlimit rl, full;
	struct agent lis, ag;
	struct katls_result r;
	int a, b, err, lowest;
	char c;

	agent_open(&lis, true);
	agent_open(&ag, false);
	tcp_pair(AF_INET, &a, &b);
	opt_in(a);
	set_nonblock(a, true);
	request(a, KATLS_ROLE_CLIENT, "p", 10000);
	out0 = outcomes();
	lost0 = katls_stat("agent_lost");
	closed0 = katls_stat("closed");
	/* No free descriptor below the limit. */
	lowest = dup(0);
	if (lowest < 0 || getrlimit(RLIMIT_NOFILE, &rl))
		die("dup/getrlimit");
	close(lowest);
	full = rl;
	full.rlim_cur = (rlim_t)lowest;
	if (setrlimit(RLIMIT_NOFILE, &full))
		die("setrlimit");
	err = agent_accept(&ag);
	setrlimit(RLIMIT_NOFILE, &rl);
	r = result(a);
	tap_ok(err == EMFILE && r.state == KATLS_STATE_FAILED && r.status == EMFILE,
	       "netlink: ACCEPT with a full descriptor table -> EMFILE, the request fails with it (%d, state %u status %u)",
	       err, r.state, r.status);
	/* Earlier tests' sockets may be destroyed meanwhile ("closed"). */
	d = outcomes() - out0 - (katls_stat("closed") - closed0);
	tap_ok(d == 1 && katls_stat("agent_lost") == lost0 + 1,
	       "katls_stat: that failure is counted once, as agent_lost (outcomes other than closed +%lld, agent_lost +%lld)",
	       d, katls_stat("agent_lost") - lost0);
	tap_ok(drain(b, &c, 1, 2000) == -ECONNRESET,
	       "fail closed: peer reset after the ACCEPT without a descriptor");
	close(a);
	close(b);
	agent_close(&ag);
	agent_close(&lis);
}

/*
 * A DONE the kernel rejects (here for an attribute DONE does not take)
 * must not come back with its keys in the error ack, which by default
 * (no NETLINK_CAP_ACK) echoes the whole request; nor with extended acks.
 */
static const unsigned char secret[16] = "KATLS-SECRET-KEY";

static int done_echo_has_key(int variant, int ext_ack, int *error)
{
	struct agent ag;
	struct tls12_crypto_info_aes_gcm_128 ci = test_key(0);
	unsigned char buf[16384];
	struct pollfd p;
	struct nl_msg *m;
	struct nlattr *nest;
	int fd, zero = 0, found = -1;
	ssize_t n;

	if (agent_open(&ag, false))
		return -1;
	fd = nl_socket_get_fd(ag.nl);
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &zero, sizeof(zero));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &ext_ack, sizeof(ext_ack));
	memcpy(ci.key, secret, sizeof(ci.key));
	m = agent_msg(&ag, KATLS_CMD_DONE);
	nla_put_u64(m, KATLS_A_REQ_ID, 1ULL << 61);
	nla_put_u32(m, KATLS_A_STATUS, 0);
	nest = nla_nest_start(m, KATLS_A_SUMMARY);
	nla_put_u32(m, KATLS_SUMMARY_A_EVIDENCE_TYPE, KATLS_EVIDENCE_SIM);
	nla_put_u32(m, KATLS_SUMMARY_A_BINDING_LEVEL, KATLS_BINDING_L2);
	nla_put(m, KATLS_SUMMARY_A_DIGEST, KATLS_DIGEST_LEN, buf);
	nla_put(m, KATLS_SUMMARY_A_MEASUREMENT, 48, buf);
	nla_put_string(m, KATLS_SUMMARY_A_POLICY, "test-policy");
	nla_nest_end(m, nest);
	nla_put(m, KATLS_A_TX, sizeof(ci), &ci);
	nla_put(m, KATLS_A_RX, sizeof(ci), &ci);
	if (variant == 1)	/* an attribute DONE does not take */
		nla_put_u32(m, KATLS_A_ROLE, KATLS_ROLE_CLIENT);
	else if (variant == 2)	/* beyond the family's maxattr */
		nla_put_u32(m, 200, 1);
	send_only(&ag, m);
	p.fd = fd;
	p.events = POLLIN;
	*error = 0;
	if (poll(&p, 1, 2000) == 1) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n >= (ssize_t)(sizeof(struct nlmsghdr) + sizeof(int))) {
			struct nlmsghdr *h = (void *)buf;

			if (h->nlmsg_type == NLMSG_ERROR)
				*error = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
			found = memmem(buf, n, secret, sizeof(secret)) != NULL;
		}
	}
	agent_close(&ag);
	return found;
}

static void test_done_rejected_no_echo(void)
{
	static const char *const what[] = { "no stray attribute (unknown request)",
				      "an attribute DONE does not take",
				      "an attribute beyond maxattr" };
	int v, ext, err, found;

	for (v = 0; v < 3; v++) {
		for (ext = 0; ext < 2; ext++) {
			found = done_echo_has_key(v, ext, &err);
			tap_ok(found == 0 && err == (v ? EINVAL : ENOENT),
			       "netlink: DONE with %s%s is refused (%d) and its ack does not echo the key (%d)",
			       what[v], ext ? ", extended ack" : "", err, found);
		}
	}
}

/*
 * Threads blocked in the gate (recv, send, poll) wake when the peer
 * resets the connection, while PENDING or ACCEPTED.
 */
enum { BL_RECV, BL_SEND, BL_POLL };
static const char *const bl_name[] = { "recv", "send", "poll" };

struct blocked {
	int fd, op, ret, err;
	short revents;
};

static void *blocked_fn(void *arg)
{
	struct blocked *bl = arg;
	struct pollfd p = { .fd = bl->fd, .events = POLLIN | POLLOUT };
	char c = 'x';

	switch (bl->op) {
	case BL_RECV:
		bl->ret = recv(bl->fd, &c, 1, 0);
		break;
	case BL_SEND:
		bl->ret = send(bl->fd, &c, 1, 0);
		break;
	default:
		bl->ret = poll(&p, 1, 10000);
		bl->revents = p.revents;
		break;
	}
	bl->err = bl->ret < 0 ? errno : 0;
	return NULL;
}

static void test_reset_wakes(int fam, bool accepted)
{
	struct timeval tv = { 10, 0 };
	struct linger lg = { 1, 0 };
	struct timespec t0, t1;
	struct blocked bl;
	struct agent lis;
	pthread_t th;
	pid_t pid = 0;
	int a, b, op;
	long ms;
	bool ok;

	agent_open(&lis, true);
	for (op = BL_RECV; op <= BL_POLL; op++) {
		/*
		 * The agent is forked before the pair exists: a child that
		 * inherited the peer's descriptor would keep it open and
		 * the close below would send no RST.
		 */
		if (accepted) {
			if (pipe(agent_pipe))
				die("pipe");
			pid = spawn_agent(AG_HOLD, 0, 0, 0);
			close(agent_pipe[1]);
			agent_pipe[1] = -1;
		}
		tcp_pair(fam, &a, &b);
		opt_in(a);
		setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(a, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		set_nonblock(a, true);
		request(a, KATLS_ROLE_CLIENT, "p", 20000);
		set_nonblock(a, false);
		if (accepted) {
			uint64_t id;

			if (read(agent_pipe[0], &id, sizeof(id)) != sizeof(id))
				id = 0;
			close(agent_pipe[0]);
			if (!id || result(a).state != KATLS_STATE_ACCEPTED)
				tap_diag("agent did not accept (state %u)",
					 result(a).state);
		}
		bl.fd = a;
		bl.op = op;
		bl.ret = -2;
		bl.revents = 0;
		pthread_create(&th, NULL, blocked_fn, &bl);
		msleep(200);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(b);		/* RST */
		pthread_join(th, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		     (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (op == BL_POLL)
			ok = bl.ret == 1 && (bl.revents & POLLERR);
		else
			ok = bl.ret < 0 && bl.err == ECONNRESET;
		tap_ok(ok && ms < 5000 && result(a).state == KATLS_STATE_FAILED &&
		       result(a).status == ECONNRESET,
		       "%s fail closed: %s blocked while %s wakes on the peer's RST (ret %d errno %d revents %#x, %ld ms)",
		       famname(fam), bl_name[op], accepted ? "ACCEPTED" : "PENDING",
		       bl.ret, bl.err, bl.revents, ms);
		if (pid) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			pid = 0;
		}
		close(a);
	}
	agent_close(&lis);
}

static void test_closed_pending(void)
{
	struct agent lis;
	long long closed = katls_stat("closed");
	long long pend;
	int a, b;
	char c;

	agent_open(&lis, true);
	tcp_pair(AF_INET, &a, &b);
	opt_in(a);
	set_nonblock(a, true);
	request(a, KATLS_ROLE_CLIENT, "p", 5000);
	pend = katls_stat("pending");
	close(a);
	tap_ok(katls_stat("closed") == closed + 1 && katls_stat("pending") == pend - 1,
	       "fail closed: closing a pending socket cancels its request");
	tap_ok(drain(b, &c, 1, 2000) == -ECONNRESET,
	       "fail closed: closing a pending socket resets the connection (the peer sees ECONNRESET)");
	close(b);
	agent_close(&lis);
}

static void *blocking_request(void *arg)
{
	int *fd = arg;

	fd[1] = request(fd[0], KATLS_ROLE_CLIENT, "p", 20000);
	return NULL;
}

static void test_reset_pending(void)
{
	struct linger lg = { 1, 0 };
	struct agent lis;
	pthread_t th;
	int a, b, fd[2];

	agent_open(&lis, true);
	tcp_pair(AF_INET, &a, &b);
	opt_in(a);
	fd[0] = a;
	fd[1] = -1;
	pthread_create(&th, NULL, blocking_request, fd);
	msleep(100);
	setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(b);		/* RST while the request is pending */
	pthread_join(th, NULL);
	tap_ok(fd[1] == ECONNRESET,
	       "fail closed: RST mid-handshake ends the blocking request -> ECONNRESET (%d)",
	       fd[1]);
	tap_ok(result(a).state == KATLS_STATE_FAILED &&
	       send(a, "x", 1, MSG_DONTWAIT) < 0 && errno == ECONNRESET,
	       "fail closed: after the RST, send -> ECONNRESET");
	close(a);
	agent_close(&lis);
}

/*
 * The application closes its descriptor while ACCEPTED (the agent sends
 * DONE only when told to): the agent's copy (from ACCEPT) keeps the
 * socket and its request; the agent's DONE still completes, and the
 * socket goes, with a clean FIN to the peer, when the agent closes its
 * copy (Documentation/userspace-api.rst, "Closing").
 */
static void test_closed_accepted(void)
{
	struct pollfd p;
	struct agent lis;
	uint64_t id = 0;
	int a, b, st, n0;
	pid_t pid;
	char c;
	ssize_t n;

	agent_open(&lis, true);
	if (pipe(agent_pipe) || pipe(agent_go))
		die("pipe");
	/* Forked before the pair: it must not inherit the peer. */
	pid = spawn_agent(AG_GO, 0, KATLS_ROLE_CLIENT, 0);
	close(agent_pipe[1]);
	agent_pipe[1] = -1;
	close(agent_go[0]);
	agent_go[0] = -1;
	tcp_pair(AF_INET, &a, &b);
	if (opt_in(a) || ktls_peer(b, true))
		die("opt_in/ktls_peer");
	set_nonblock(a, true);
	request(a, KATLS_ROLE_CLIENT, "p", 20000);
	if (read(agent_pipe[0], &id, sizeof(id)) != sizeof(id))
		id = 0;
	close(agent_pipe[0]);
	agent_pipe[0] = -1;
	tap_ok(id && result(a).state == KATLS_STATE_ACCEPTED,
	       "closed while ACCEPTED: accepted by the agent");
	close(a);
	/* No FIN and no reset while the agent holds its copy. */
	p = (struct pollfd){ .fd = b, .events = POLLIN };
	n0 = poll(&p, 1, 300);
	tap_ok(n0 == 0,
	       "closed while ACCEPTED: the agent's copy keeps the connection (the peer sees nothing: %d, revents %#x)",
	       n0, p.revents);
	/* Now the agent's DONE: the request outlived the application's close. */
	if (write(agent_go[1], "g", 1) != 1)
		die("write");
	close(agent_go[1]);
	agent_go[1] = -1;
	st = agent_wait(pid);
	tap_ok(st == 0, "closed while ACCEPTED: the agent's DONE completes (%d)",
	       st);
	/* The agent exited: its copy was the last; a FIN, not a reset. */
	n = poll(&p, 1, 3000) == 1 ? recv(b, &c, 1, 0) : -2;
	tap_ok(n == 0,
	       "closed while ACCEPTED: the socket closes with the agent's copy, the peer sees a clean end (%zd, %s)",
	       n, n == -1 ? strerror(errno) : "-");
	close(b);
	agent_close(&lis);
}

static int sockmap_insert(int fd)
{
	union bpf_attr at = { 0 };
	int map, key = 0, r;

	at.map_type = BPF_MAP_TYPE_SOCKMAP;
	at.key_size = 4;
	at.value_size = 4;
	at.max_entries = 1;
	map = syscall(SYS_bpf, BPF_MAP_CREATE, &at, sizeof(at));
	if (map < 0)
		return -1000 - errno;
	memset(&at, 0, sizeof(at));
	at.map_fd = map;
	at.key = (uintptr_t)&key;
	at.value = (uintptr_t)&fd;
	r = syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &at, sizeof(at)) ? errno : 0;
	close(map);
	return r;
}

/*
 * The debug kernel of tools/debugk is configured from allnoconfig and has
 * no bpf(2) (debug.config, Documentation/testing.rst); Debian's kernels
 * have it, and there a missing one fails.
 */
static bool bpf_missing_on_debug_kernel(void)
{
	struct utsname u;
	union bpf_attr at = { 0 };

	if (uname(&u) || !strstr(u.release, "-katls-debug"))
		return false;
	return syscall(SYS_bpf, BPF_PROG_LOAD, &at, 0) < 0 && errno == ENOSYS;
}

static void test_sockmap(void)
{
	int a, b, r;

	if (bpf_missing_on_debug_kernel()) {
		tap_skip("sockmap: control, a plain TCP socket can be inserted",
			 "the debug kernel has no bpf(2)");
		tap_skip("gate sockmap: an opted-in socket cannot be inserted",
			 "the debug kernel has no bpf(2)");
		return;
	}
	tcp_pair(AF_INET, &a, &b);
	r = sockmap_insert(a);
	tap_ok(r == 0, "sockmap: control, a plain TCP socket can be inserted (%d)", r);
	close(a);
	close(b);
	tcp_pair(AF_INET, &a, &b);
	opt_in(a);
	r = sockmap_insert(a);
	tap_ok(r > 0, "gate sockmap: an opted-in socket cannot be inserted (%d)", r);
	close(a);
	close(b);
}

struct reader {
	int fd;
	char buf[64];
	ssize_t n;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;

	r->n = recv(r->fd, r->buf, sizeof(r->buf) - 1, 0);
	return NULL;
}

static void test_handover(int fam)
{
	long long txsw = proc_stat("/proc/net/tls_stat", "TlsTxSw");
	struct reader rd = { 0 };
	struct tls_crypto_info ci[4];
	struct katls_result r;
	struct agent lis;
	socklen_t len;
	pthread_t th;
	char buf[64];
	pid_t pid;
	int a, b, err;

	agent_open(&lis, true);
	tcp_pair(fam, &a, &b);
	opt_in(a);
	tap_ok(ktls_peer(b, true) == 0, "%s handover: peer kTLS ready", famname(fam));
	set_nonblock(a, true);
	request(a, KATLS_ROLE_CLIENT, "p", 5000);
	set_nonblock(a, false);
	/* A reader asleep in the gate, with data queued before the verdict. */
	rd.fd = a;
	pthread_create(&th, NULL, reader_fn, &rd);
	msleep(50);
	send(b, "early-bird", 10, 0);
	msleep(50);
	pid = spawn_agent(AG_DONE, 0, KATLS_ROLE_CLIENT, 0);
	tap_ok(agent_wait(pid) == 0, "%s handover: DONE with keys accepted", famname(fam));
	pthread_join(th, NULL);
	tap_ok(rd.n == 10 && !memcmp(rd.buf, "early-bird", 10),
	       "%s handover: reader asleep during the hand-over gets decrypted data",
	       famname(fam));
	r = result(a);
	tap_ok(r.state == KATLS_STATE_OPEN && r.status == 0,
	       "%s handover: state OPEN", famname(fam));
	tap_ok(r.evidence_type == KATLS_EVIDENCE_SIM &&
	       r.binding_level == KATLS_BINDING_L2 && r.measurement_len == 48 &&
	       r.measurement[0] == 0x3e && r.evidence_digest[0] == 0xd1 &&
	       !strcmp(r.policy, "test-policy"),
	       "%s handover: the evidence summary reaches the application", famname(fam));
	tap_ok(send(a, "hello-ktls", 10, 0) == 10, "%s data: send after OPEN", famname(fam));
	err = recv(b, buf, sizeof(buf), 0);
	tap_ok(err == 10 && !memcmp(buf, "hello-ktls", 10),
	       "%s data: the kTLS peer decrypts it (keys from the agent)", famname(fam));
	send(b, "reply", 5, 0);
	tap_ok(recv(a, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "reply", 5),
	       "%s data: recv decrypts the peer's records", famname(fam));
	tap_ok(proc_stat("/proc/net/tls_stat", "TlsTxSw") > txsw,
	       "%s data: kTLS counters moved", famname(fam));
	len = sizeof(ci);
	memset(ci, 0xaa, sizeof(ci));
	err = getsockopt(a, SOL_TLS, TLS_TX, ci, &len);
	tap_ok(!err && len == sizeof(struct tls_crypto_info) &&
	       ci[0].version == TLS_1_3_VERSION &&
	       ci[0].cipher_type == TLS_CIPHER_AES_GCM_128 &&
	       ((unsigned char *)ci)[4] == 0xaa,
	       "%s key read-back: only version and cipher, no key", famname(fam));
	{
		struct tls12_crypto_info_aes_gcm_128 k = test_key(0);

		tap_ok(setsockopt(a, SOL_TLS, TLS_TX, &k, sizeof(k)) < 0 &&
		       errno == EPERM, "%s after OPEN: TLS_TX from the app -> EPERM",
		       famname(fam));
	}
	close(a);
	close(b);
	agent_close(&lis);
}

/* ---- the hammer: no plaintext on the wire, no ciphertext to a reader ---- */

struct hammer {
	int fd;
	volatile int stop;
	long sent;
	long got;
	int bad;
};

static void *hammer_send(void *arg)
{
	struct hammer *h = arg;
	static const char m[] = "PLAINTEXT-MARKER";

	while (!h->stop) {
		if (send(h->fd, m, sizeof(m) - 1, MSG_DONTWAIT) > 0)
			h->sent++;
	}
	return NULL;
}

static void *hammer_recv(void *arg)
{
	struct hammer *h = arg;
	char buf[256];
	ssize_t n, i;

	while (!h->stop) {
		n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT);
		for (i = 0; i < n; i++)
			if (buf[i] != 'Z')
				h->bad++;
		if (n > 0)
			h->got += n;
	}
	return NULL;
}

/* Parse raw bytes as TLS 1.3 records; return false on anything else. */
static bool all_records(const unsigned char *p, size_t n, size_t *nrec)
{
	size_t off = 0;

	*nrec = 0;
	while (off + 5 <= n) {
		size_t l = (p[off + 3] << 8) | p[off + 4];

		if (p[off] != 0x17 || p[off + 1] != 3 || p[off + 2] != 3 ||
		    l > 16384 + 256)
			return false;
		off += 5 + l;
		(*nrec)++;
	}
	return off == n;
}

/*
 * One hand-over under fire.  mode 0: a thread busy-loops non-blocking
 * send() and the raw peer checks that every byte on the wire is a TLS
 * record; mode 1: records are queued before the verdict and a thread
 * busy-loops non-blocking recv(), which must only ever see plaintext.
 * Returns 1 for a violation, 0 if clean, -1 if nothing flowed.
 */
static int hammer_round(int fam, int mode)
{
	static unsigned char raw[1 << 22];
	struct hammer h = { 0 };
	size_t n = 0, nrec = 0;
	pthread_t th;
	ssize_t k;
	pid_t pid;
	int a, b, j, ag;

	tcp_pair(fam, &a, &b);
	opt_in(a);
	set_nonblock(a, true);
	request(a, KATLS_ROLE_CLIENT, "p", 5000);
	if (mode == 1) {
		struct tls12_crypto_info_aes_gcm_128 t = test_key(1);

		setsockopt(b, SOL_TCP, TCP_ULP, "tls", 4);
		setsockopt(b, SOL_TLS, TLS_TX, &t, sizeof(t));
		for (j = 0; j < 64; j++)
			send(b, "ZZZZZZZZZZZZZZZZ", 16, 0);
	}
	h.fd = a;
	pthread_create(&th, NULL, mode ? hammer_recv : hammer_send, &h);
	pid = spawn_agent(AG_DONE, 0, KATLS_ROLE_CLIENT, 2);
	ag = agent_wait(pid);
	if (mode == 1)
		for (j = 0; j < 4; j++)
			send(b, "ZZZZZZZZZZZZZZZZ", 16, 0);
	msleep(50);
	/* A loaded host may not have scheduled the sender yet. */
	for (j = 0; mode == 0 && !ag && !h.sent && j < 300; j++)
		msleep(10);
	h.stop = 1;
	pthread_join(th, NULL);
	if (mode == 0) {
		while ((k = drain(b, raw + n, sizeof(raw) - n, 200)) > 0)
			n += k;
		if (!all_records(raw, n, &nrec) || memmem(raw, n, "PLAINTEXT", 9))
			j = 1;
		else
			j = (!ag && h.sent > 0 && nrec > 0) ? 0 : -1;
	} else {
		char buf[256];

		/* Whatever the busy reader left must still be there. */
		while ((k = drain(a, buf, sizeof(buf), 500)) > 0) {
			for (j = 0; j < k; j++)
				h.bad += buf[j] != 'Z';
			h.got += k;
		}
		j = h.bad ? 1 : (!ag && h.got == 68 * 16) ? 0 : -1;
	}
	if (j)
		tap_diag("%s mode %d: agent %d sent %ld records %zu got %ld bad %d",
			 famname(fam), mode, ag, h.sent, nrec, h.got, h.bad);
	close(a);
	close(b);
	return j;
}

static void test_hammer(int fam, int rounds)
{
	static const char *const what[] = {
		"busy non-blocking send during the hand-over put plaintext on the wire",
		"busy non-blocking recv during the hand-over got ciphertext",
	};
	struct agent lis;
	int mode, i, r, bad, dry;

	agent_open(&lis, true);
	for (mode = 0; mode < 2; mode++) {
		bad = dry = 0;
		for (i = 0; i < rounds; i++) {
			r = hammer_round(fam, mode);
			bad += r > 0;
			dry += r < 0;
		}
		tap_ok(bad == 0, "%s hammer: %s in %d of %d rounds", famname(fam),
		       what[mode], bad, rounds);
		tap_ok(dry == 0, "%s hammer: all data delivered after the hand-over in %d of %d rounds",
		       famname(fam), rounds - dry, rounds);
	}
	agent_close(&lis);
}

static void test_many_pending(int n)
{
	struct rlimit rl = { 4 * n + 64, 4 * n + 64 };
	long long base = katls_stat("pending");
	struct agent lis;
	int *fds = calloc(2 * n, sizeof(int));
	struct linger lg = { 1, 0 };
	int i, ok = 0;

	setrlimit(RLIMIT_NOFILE, &rl);
	agent_open(&lis, true);
	for (i = 0; i < n; i++) {
		tcp_pair(AF_INET, &fds[2 * i], &fds[2 * i + 1]);
		opt_in(fds[2 * i]);
		set_nonblock(fds[2 * i], true);
		if (request(fds[2 * i], KATLS_ROLE_CLIENT, "p", 60000) == EINPROGRESS)
			ok++;
	}
	tap_ok(ok == n && katls_stat("pending") == base + n,
	       "scale: %d sockets pending at once (%lld)", n,
	       katls_stat("pending") - base);
	for (i = 0; i < 2 * n; i++) {
		setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fds[i]);
	}
	tap_ok(katls_stat("pending") == base, "scale: all cancelled on close");
	free(fds);
	agent_close(&lis);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20;
	unsigned int i;

	signal(SIGPIPE, SIG_IGN);
	tap_plan_lazy();
	test_optin();
	test_refusals();
	test_no_agent();
	for (i = 0; i < 2; i++)
		test_pending_gate(fams[i]);
	test_timeout();
	test_agent_rules();
	test_agent_two_requests();
	test_rejected();
	test_status_not_errno();
	test_accept_undeliverable();
	test_accept_no_fd();
	test_done_rejected_no_echo();
	test_closed_pending();
	test_reset_pending();
	test_closed_accepted();
	for (i = 0; i < 2; i++) {
		test_reset_wakes(fams[i], false);
		test_reset_wakes(fams[i], true);
	}
	test_sockmap();
	for (i = 0; i < 2; i++)
		test_handover(fams[i]);
	for (i = 0; i < 2; i++)
		test_hammer(fams[i], rounds);
	test_many_pending(1000);
	return tap_done();
}
