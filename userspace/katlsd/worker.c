// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - one forked child per request: ACCEPT, handshake, DONE, exit.
 *
 * The child owns exactly one request.  If it crashes or is killed, its
 * netlink socket closes and the kernel fails that one request with
 * ECONNABORTED; no other socket notices.
 *
 * The child is the request's monitor (privsep.h): it keeps the netlink
 * socket, its line to the parent's quote broker (the parent alone touches
 * configfs-tsm, qbroker.h) and the private key, and forks a sandbox
 * (sandbox.h) that runs the handshake and parses everything the peer
 * sends.  The sandbox gets SIGKILL when the monitor dies.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/abstract.h>

#include "evsrc_tsm.h"
#include "katlsd.h"
#include "log.h"
#include "netlink.h"
#include "privsep.h"
#include "sandbox.h"

/* Extra time past the kernel deadline before the child gives up. */
#define WORKER_GRACE_S	2

static const char *role_name(uint32_t role)
{
	return role == KATLS_ROLE_CLIENT ? "client" :
	       role == KATLS_ROLE_SERVER ? "server" : "?";
}

struct done_ctx {
	struct katls_agent *nl;
	uint64_t id;
	bool sent;
	int ret;
};

static int send_done(struct done_ctx *d, const struct katlsd_hs_result *r)
{
	if (!d->sent) {
		d->ret = katlsd_nl_done(d->nl, d->id, r);
		d->sent = true;
	}
	return d->ret;
}

/* The monitor's DONE: log a failure, send once. */
static int monitor_done(void *arg, const struct katlsd_hs_result *r)
{
	struct done_ctx *d = arg;

	if (r->status && !d->sent)
		knotice("request %llu: failed: %s (%s)",
			(unsigned long long)d->id, r->reason,
			strerror(r->status));
	return send_done(d, r);
}

static volatile pid_t sandbox_pid;

/*
 * The alarm backstop: kill the sandbox, then go.  Only async-signal-safe
 * calls.  The worker owns no configfs-tsm entry since issue 13 item 2
 * (the parent's quoter does, and abandons a report nobody waits for);
 * katlsd_evsrc_tsm_abort() stays for a stand-alone source.
 */
static void backstop(int sig)
{
	(void)sig;
	if (sandbox_pid > 0)
		kill(sandbox_pid, SIGKILL);
	katlsd_evsrc_tsm_abort();
	_exit(KATLSD_EXIT_ALARM);
}

/* Wait for the sandbox; say how it ended if that is news. */
static void reap_sandbox(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		kerr("sandbox %d killed by its seccomp filter (a forbidden system call)",
		     (int)pid);
	else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		kerr("sandbox %d killed by signal %d", (int)pid,
		     WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		kwarn("sandbox %d exited with %d", (int)pid,
		      WEXITSTATUS(status));
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int katlsd_worker(struct katlsd_state *st, int broker_fd)
{
	struct katlsd_evidence_source evsrc;
	uint64_t deadline_ms;
	struct katlsd_monitor mon;
	struct katlsd_sandbox sb;
	struct katlsd_hs_params p;
	struct katls_agent_request req;
	struct katls_agent nl = { 0 };
	struct done_ctx done = { .nl = &nl };
	gnutls_pk_algorithm_t pk = GNUTLS_PK_UNKNOWN;
	unsigned int secs, bits = 0;
	int sp[2], status;
	pid_t pid;
	int ret;

	ret = katls_agent_connect(&nl);
	if (ret) {
		kerr("netlink: %s", strerror(-ret));
		return KATLSD_EXIT_NETLINK;
	}
	ret = katls_agent_accept(&nl, &req);
	/* The deadline the parent's quote broker checks (CLOCK_MONOTONIC). */
	deadline_ms = ret || !req.timeout_ms ? 0 : mono_ms() + req.timeout_ms;
	if (ret == -ENOENT) {
		katls_agent_close(&nl);
		return KATLSD_EXIT_EMPTY;
	}
	if (ret) {
		kerr("ACCEPT: %s", strerror(-ret));
		if (req.fd >= 0)
			close(req.fd);
		katls_agent_close(&nl);
		/* Exiting closes the socket: the kernel aborts the request. */
		return KATLSD_EXIT_NETLINK;
	}

	/*
	 * Backstop for a handshake stuck outside GnuTLS's own timeout (a
	 * quote that never returns): SIGALRM kills the sandbox and exits,
	 * the kernel sees the netlink socket close.
	 * Its own timer has fired by then anyway.
	 */
	{
		struct sigaction sa = { .sa_handler = backstop };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
	}
	secs = (req.timeout_ms ? req.timeout_ms : KATLS_TIMEOUT_MAX_MS) / 1000;
	alarm(secs + WORKER_GRACE_S);

	/* ps (and the e2e tests) show the role: katlsd-server, katlsd-client */
	prctl(PR_SET_NAME, req.role == KATLS_ROLE_SERVER ? "katlsd-server" :
	      "katlsd-client", 0, 0, 0);
	kinfo("request %llu: %s role, policy %s%s%s, %u ms left",
	      (unsigned long long)req.id, role_name(req.role), req.policy,
	      req.peername[0] ? ", peer " : "", req.peername, req.timeout_ms);

	memset(&p, 0, sizeof(p));
	p.fd = req.fd;
	p.role = req.role;
	p.timeout_ms = req.timeout_ms;
	p.policy_name = req.policy;
	p.peername = req.peername;
	p.client_creds = st->client_creds;
	p.have_truststore = st->have_truststore;
	p.policy = katls_policy_find(st->policies, req.policy);
	p.evidence_bound_key = katls_policy_evidence_bound_key(p.policy);
	p.vopts.roots_dir = st->cfg.roots_dir;
	p.vopts.certs_dir = st->cfg.certs_dir;
	p.vopts.collateral_dir = st->cfg.collateral_dir;
	p.vopts.cpak_file = st->cfg.cpak_file;
	done.id = req.id;

	/* The monitor's side: the quote broker and the private key. */
	memset(&mon, 0, sizeof(mon));
	mon.fd = req.fd;
	mon.timeout_ms = req.timeout_ms;
	mon.server = req.role == KATLS_ROLE_SERVER;
	/* issue 14: post | both: the authenticator's signature (and quote) */
	mon.binding = katls_policy_binding(p.policy);
	mon.done = monitor_done;
	mon.done_arg = &done;
	/* Evidence comes from the parent's quote broker (qbroker.h). */
	katlsd_evsrc_broker_init(&evsrc, broker_fd, deadline_ms);
	mon.evsrc = &evsrc;
	if (mon.server && st->server_creds) {
		gnutls_x509_privkey_t x;

		ret = gnutls_certificate_get_x509_key(st->server_creds, 0, &x);
		if (ret >= 0) {
			ret = gnutls_privkey_init(&mon.key);
			if (ret >= 0)
				ret = gnutls_privkey_import_x509(
					mon.key, x,
					GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
			if (ret < 0)
				gnutls_x509_privkey_deinit(x);
		}
		if (ret < 0) {
			kerr("server key: %s", gnutls_strerror(ret));
			if (mon.key)
				gnutls_privkey_deinit(mon.key);
			mon.key = NULL;
		} else {
			pk = gnutls_privkey_get_pk_algorithm(mon.key, &bits);
		}
	}

	sb = st->sandbox;
	sb.parent = getpid();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
		kerr("socketpair: %s", strerror(errno));
		pid = -1;
	} else {
		pid = fork();
		if (pid < 0)
			kerr("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(sp[0]);
		if (mon.key)
			gnutls_privkey_deinit(mon.key);
		/*
		 * Not the sandbox's: the netlink socket and libnl's state,
		 * and the line to the parent's quote broker.
		 */
		katls_agent_close(&nl);
		if (broker_fd >= 0)
			close(broker_fd);
		katlsd_sandbox_main(&p, &st->server_creds, sp[1], &sb, pk,
				    bits);
	}
	if (pid < 0) {
		struct katlsd_hs_result r;

		memset(&r, 0, sizeof(r));
		r.status = ENOMEM;
		snprintf(r.reason, sizeof(r.reason), "cannot start the sandbox");
		monitor_done(&done, &r);
		status = ENOMEM;
	} else {
		sandbox_pid = pid;
		close(sp[1]);
		status = katlsd_monitor_serve(&mon, sp[0]);
		close(sp[0]);
		/* Its result is in (or it broke the protocol): done with it. */
		kill(pid, SIGKILL);
		reap_sandbox(pid);
		sandbox_pid = 0;
	}
	if (mon.key)
		gnutls_privkey_deinit(mon.key);

	ret = done.ret;
	close(req.fd);
	katls_agent_close(&nl);
	if (ret == -ENOENT) {
		/* The kernel completed it first: socket closed, deadline. */
		knotice("request %llu: already completed by the kernel",
			(unsigned long long)req.id);
		return KATLSD_EXIT_FAILED;
	}
	if (ret) {
		kerr("request %llu: DONE: %s", (unsigned long long)req.id,
		     strerror(-ret));
		return KATLSD_EXIT_NETLINK;
	}
	if (!status)
		kinfo("request %llu: keys handed to the kernel",
		      (unsigned long long)req.id);
	return status ? KATLSD_EXIT_FAILED : KATLSD_EXIT_DONE;
}
