// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - one forked child per request: ACCEPT, handshake, DONE, exit.
 *
 * The child owns exactly one request.  If it crashes or is killed, its
 * netlink socket closes and the kernel fails that one request with
 * ECONNABORTED; no other socket notices.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "evsrc_tsm.h"
#include "katlsd.h"
#include "log.h"
#include "netlink.h"

/* Extra time past the kernel deadline before the child gives up. */
#define WORKER_GRACE_S	2

static const char *role_name(uint32_t role)
{
	return role == KATLS_ROLE_CLIENT ? "client" :
	       role == KATLS_ROLE_SERVER ? "server" : "?";
}

struct done_ctx {
	struct katlsd_nl *nl;
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

static void early_done(void *arg, const struct katlsd_hs_result *r)
{
	send_done(arg, r);
}

int katlsd_worker(const struct katlsd_state *st)
{
	struct katlsd_evidence_source evsrc;
	struct katls_tsm_opts tsm_opts;
	struct katlsd_hs_params p;
	struct katlsd_hs_result r;
	struct katlsd_request req;
	struct katlsd_nl nl = { 0 };
	struct done_ctx done = { .nl = &nl };
	unsigned int secs;
	int ret;

	ret = katlsd_nl_connect(&nl);
	if (ret) {
		kerr("netlink: %s", strerror(-ret));
		return KATLSD_EXIT_NETLINK;
	}
	ret = katlsd_nl_accept(&nl, &req);
	if (ret == -ENOENT) {
		katlsd_nl_close(&nl);
		return KATLSD_EXIT_EMPTY;
	}
	if (ret) {
		kerr("ACCEPT: %s", strerror(-ret));
		if (req.fd >= 0)
			close(req.fd);
		katlsd_nl_close(&nl);
		/* Exiting closes the socket: the kernel aborts the request. */
		return KATLSD_EXIT_NETLINK;
	}

	/*
	 * Backstop for a handshake stuck outside GnuTLS's own timeout (a
	 * quote that never returns): SIGALRM kills us, the kernel sees the
	 * netlink socket close.  Its own timer has fired by then anyway.
	 */
	secs = (req.timeout_ms ? req.timeout_ms : KATLS_TIMEOUT_MAX_MS) / 1000;
	alarm(secs + WORKER_GRACE_S);

	kinfo("request %llu: %s role, policy %s%s%s, %u ms left",
	      (unsigned long long)req.id, role_name(req.role), req.policy,
	      req.peername[0] ? ", peer " : "", req.peername, req.timeout_ms);

	memset(&p, 0, sizeof(p));
	p.fd = req.fd;
	p.role = req.role;
	p.timeout_ms = req.timeout_ms;
	p.policy_name = req.policy;
	p.peername = req.peername;
	p.server_creds = st->server_creds;
	katlsd_evsrc_tsm_init(&evsrc, &tsm_opts, st->cfg.tsm_root);
	p.evsrc = &evsrc;
	p.client_creds = st->client_creds;
	p.have_truststore = st->have_truststore;
	p.policy = katls_policy_find(st->policies, req.policy);
	p.evidence_bound_key = katls_policy_evidence_bound_key(p.policy);
	p.vopts.roots_dir = st->cfg.roots_dir;
	p.vopts.certs_dir = st->cfg.certs_dir;
	p.vopts.collateral_dir = st->cfg.collateral_dir;
	p.vopts.cpak_file = st->cfg.cpak_file;
	done.id = req.id;
	p.on_failure = early_done;
	p.on_failure_arg = &done;

	katlsd_handshake(&p, &r);
	if (r.status)
		knotice("request %llu: failed: %s (%s)",
			(unsigned long long)req.id, r.reason,
			strerror(r.status));

	ret = send_done(&done, &r);
	katlsd_hs_result_wipe(&r);
	close(req.fd);
	katlsd_nl_close(&nl);
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
	if (!r.status)
		kinfo("request %llu: keys handed to the kernel",
		      (unsigned long long)req.id);
	return r.status ? KATLSD_EXIT_FAILED : KATLSD_EXIT_DONE;
}
