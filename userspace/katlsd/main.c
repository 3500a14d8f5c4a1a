// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - katlsd: the katls handshake agent.
 *
 * Process model (issue 13 item 3: a pool, no fork per handshake):
 *
 *   parent  starts `workers` pool workers and replaces any that dies; it
 *           admits every request before its handshake starts (fair.h:
 *           per-uid and per-peer limits, a bounded wait queue); it runs
 *           the quote broker (qbroker.h) and its quoter child, the only
 *           owner of configfs-tsm.  It never touches a socket or a key.
 *   worker  (katlsd-worker, worker.c) joins the "agent" multicast group
 *           itself, ACCEPTs requests on its own netlink socket (so each
 *           is bound to the worker's port and process), and is the
 *           monitor of privsep.h for each of them, one thread per
 *           running request, with one confined sandbox process
 *           (katlsd-sandbox) that runs every handshake in a thread.
 *
 * A worker's line to the parent carries admission (SLOT_REQ/SLOT_REP)
 * and passes the parent, for each admitted request, that request's own
 * line to the quote broker: the line's end frees the request's slot, so
 * a request, a worker or a sandbox that dies frees what it held.
 *
 * A worker that dies takes exactly its own requests with it (the kernel
 * sees its netlink socket close: ECONNABORTED); the parent logs it and
 * starts another (at most one start per second per pool slot).  The
 * parent also follows the generic netlink controller: when katls.ko is
 * unloaded and loaded again, it replaces every worker (the old ones
 * were subscribed to the old family).  SIGHUP reloads the configuration
 * and policies: new workers start with them, the old ones finish what
 * they run and exit.
 *
 * The quoter is a child rather than a thread of the parent: the parent
 * forks workers, and a fork while a thread holds a libc lock (syslog,
 * stdio) would hand the worker that lock held forever; a child can also
 * be killed when a report hangs, and its report entries are swept when
 * it is reaped.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gnutls/gnutls.h>

#include "evsrc_tsm.h"
#include "katlsd.h"
#include "log.h"
#include "netlink.h"
#include "fair.h"
#include "privsep.h"
#include "qbroker.h"

static struct katlsd_state state;
static const char *config_path = KATLSD_DEFAULT_CONFIG;
static bool opt_debug;
static struct katlsd_qbroker *qb;
static struct katlsd_fair *fair;
static struct katlsd_pool_limits lim;
static pid_t quoter_pid;
static pid_t quoter_dying;	/* stopped, not reaped yet */
static struct timespec quoter_started;
static char *quoter_root;	/* the tsm_root the quoter runs with */
static bool family_present = true;
static bool need_next;		/* a slot was freed: admit waiters */

/* A report that has run this long is stuck: the quoter is stopped. */
#define QUOTE_MAX_MS	(KATLS_TIMEOUT_MAX_MS + 5000)
/* A pool slot whose worker died starts another after this long. */
#define RESTART_MS	1000

/* One pool worker: active (slot >= 0) or draining after SIGTERM. */
struct pw {
	pid_t pid;
	int ctl;			/* the parent's end of its line */
	int slot;			/* -1: draining */
};

static struct pw *pws;
static size_t npws;
static uint64_t *slot_started;	/* per pool slot: last start (ms) */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: katlsd [--config PATH] [--foreground] [--debug]\n"
		"  -c, --config PATH   configuration file (default %s)\n"
		"  -f, --foreground    stay in the foreground, log to stderr\n"
		"  -d, --debug         log at debug level\n"
		"  -t, --check-config  load configuration, policies and credentials,\n"
		"                      report, and exit\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n",
		KATLSD_DEFAULT_CONFIG);
}

static void apply_log_level(void)
{
	katlsd_log_set_level(opt_debug ? LOG_DEBUG : state.cfg.log_level);
}

static void drain_workers(const char *why);

static void reload(void)
{
	struct katlsd_state next;
	char err[1024];

	if (katlsd_state_load(&next, config_path, err, sizeof(err))) {
		kerr("reload failed, keeping the old configuration: %s", err);
		return;
	}
	if (next.cfg.max_batch != state.cfg.max_batch)
		knotice("[evidence] max_batch = %u takes effect at the next start",
			next.cfg.max_batch);
	if (next.cfg.concurrency != state.cfg.concurrency ||
	    next.cfg.workers != state.cfg.workers ||
	    next.cfg.max_per_uid != state.cfg.max_per_uid ||
	    next.cfg.max_per_peer != state.cfg.max_per_peer ||
	    next.cfg.max_waiting != state.cfg.max_waiting)
		knotice("[katlsd] concurrency, workers and the admission limits take effect at the next start");
	/* Running workers keep their copy; new ones get the new state. */
	katlsd_state_free(&state);
	state = next;
	apply_log_level();
	/* Old workers stop accepting before anyone reads the line below. */
	drain_workers("reload");
	knotice("configuration and policies reloaded");
}

static struct pw *pw_find(pid_t pid)
{
	size_t i;

	for (i = 0; i < npws; i++)
		if (pws[i].pid == pid)
			return &pws[i];
	return NULL;
}

static void slot_reply(pid_t worker, uint64_t tag, int32_t st)
{
	uint8_t buf[KATLSD_IPC_SLOT_REP_LEN];
	struct pw *w = pw_find(worker);
	int ret;

	if (!w || w->ctl < 0)
		return;
	katlsd_ipc_enc_slot_rep(tag, st, buf);
	ret = katlsd_ipc_send(w->ctl, KATLSD_IPC_SLOT_REP, buf, sizeof(buf),
			      NULL, 0, NULL, 0);
	if (ret)
		kwarn("worker %d: %s", (int)worker, strerror(-ret));
}

/* qbroker: a request's broker line went: its slot is free. */
static void on_release(void *arg, pid_t pid, uint64_t tag)
{
	(void)arg;
	if (tag && !katlsd_fair_release(fair, pid, tag))
		need_next = true;
}

/* A request (now) runs: its broker line joins the broker. */
static void run_request(const struct katlsd_fair_req *r, bool waited)
{
	if (katlsd_qbroker_add_tagged(qb, r->fd, r->worker, r->tag)) {
		kerr("quote broker: out of memory for request %llu",
		     (unsigned long long)r->tag);
		close(r->fd);
		katlsd_fair_release(fair, r->worker, r->tag);
		need_next = true;
		slot_reply(r->worker, r->tag, -EBUSY);
		return;
	}
	if (waited)
		kinfo("request %llu: a slot is free, it starts",
		      (unsigned long long)r->tag);
	slot_reply(r->worker, r->tag, 0);
}

/* Admit waiters that fit now; fail those whose deadline passed. */
static void admit_waiters(void)
{
	struct katlsd_fair_req r;

	while (katlsd_fair_expire(fair, now_ms(), &r)) {
		kinfo("request %llu: its deadline passed while it waited: ETIMEDOUT",
		      (unsigned long long)r.tag);
		close(r.fd);
		slot_reply(r.worker, r.tag, -ETIMEDOUT);
	}
	if (!need_next)
		return;
	need_next = false;
	while (katlsd_fair_next(fair, &r))
		run_request(&r, true);
}

/* A SLOT_REQ from worker w. */
static void from_worker_ctl(struct pw *w)
{
	uint8_t buf[KATLSD_IPC_HDR_LEN + KATLSD_IPC_SLOT_REQ_LEN];
	struct katlsd_ipc_slot_req sr;
	struct katlsd_fair_req r;
	struct katlsd_ipc_msg m;
	char addr[64];
	int ret, fd;

	ret = katlsd_ipc_recv_fd(w->ctl, buf, sizeof(buf), &m, &fd);
	if (ret == -EAGAIN)
		return;
	if (!ret && (fd < 0 || katlsd_ipc_dec_slot_req(&m, &sr)))
		ret = -EPROTO;
	if (ret) {
		if (fd >= 0)
			close(fd);
		if (ret != -EPIPE && ret != -ECONNRESET) {
			kerr("worker %d: control line: %s; stopping it",
			     (int)w->pid, strerror(-ret));
			kill(w->pid, SIGKILL);
		}
		close(w->ctl);
		w->ctl = -1;
		return;
	}
	memset(&r, 0, sizeof(r));
	r.worker = w->pid;
	r.tag = sr.tag;
	r.uid = sr.uid;
	r.peer = sr.peer;
	r.deadline_ms = sr.deadline_ms;
	r.fd = fd;
	ret = katlsd_fair_submit(fair, &r);
	if (ret == 1) {
		run_request(&r, false);
		return;
	}
	katlsd_peer_str(&r.peer, addr, sizeof(addr));
	if (!ret) {
		kinfo("request %llu waits: uid %u runs %u (max_per_uid %u), peer %s runs %u (max_per_peer %u)",
		      (unsigned long long)r.tag, r.uid,
		      katlsd_fair_uid_count(fair, r.uid), lim.max_per_uid, addr,
		      katlsd_fair_peer_count(fair, &r.peer), lim.max_per_peer);
		slot_reply(w->pid, r.tag, 1);
		return;
	}
	close(fd);
	knotice("request %llu refused: uid %u, peer %s over their limit and %u waiting already: EBUSY",
		(unsigned long long)r.tag, r.uid, addr, lim.max_waiting);
	slot_reply(w->pid, r.tag, -EBUSY);
}

static void close_fair_fd(const struct katlsd_fair_req *r, int running,
			  void *arg)
{
	(void)arg;
	if (!running)
		close(r->fd);	/* a running one's is the broker's */
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct pw *w;

		if (pid == quoter_dying) {
			katlsd_evsrc_tsm_sweep(quoter_root, pid);
			quoter_dying = 0;
			continue;
		}
		if (pid == quoter_pid) {
			kwarn("quoter %d ended (status 0x%x); its report entries are removed",
			      (int)pid, status);
			katlsd_evsrc_tsm_sweep(quoter_root, pid);
			katlsd_qbroker_set_quoter(qb, -1);
			quoter_pid = 0;
			continue;
		}
		w = pw_find(pid);
		if (!w)
			continue;
		/* Its broker lines and admission slots go with it. */
		katlsd_qbroker_remove(qb, pid);
		/* (their broker lines have mostly closed already) */
		if (katlsd_fair_drop_worker(fair, pid, close_fair_fd, NULL))
			need_next = true;
		if (WIFSIGNALED(status))
			kerr("worker %d killed by signal %d; the kernel fails its requests with ECONNABORTED",
			     (int)pid, WTERMSIG(status));
		else if (WEXITSTATUS(status) != KATLSD_EXIT_DONE ||
			 w->slot >= 0)
			kwarn("worker %d exited with %d; the kernel fails its requests with ECONNABORTED",
			      (int)pid, WEXITSTATUS(status));
		else
			kdebug("worker %d stopped", (int)pid);
		if (w->ctl >= 0)
			close(w->ctl);
		*w = pws[--npws];
	}
}

/* Close every descriptor but 0..2 and keep (in a freshly forked child). */
static void close_all_but(int keep)
{
	katlsd_log_detach();
	if (keep > 3)
		close_range(3, (unsigned int)keep - 1, 0);
	close_range((unsigned int)keep + 1, ~0U, 0);
	katlsd_log_reopen();
}

/*
 * Both ends of a worker's line send while the other may be busy sending
 * too (a burst of admissions one way, of grants the other way): room for
 * far more messages than can be outstanding (at most concurrency +
 * max_waiting), so that neither blocks on a full buffer while the other
 * does.  SO_SNDBUFFORCE needs CAP_NET_ADMIN, which the parent has.
 */
static void line_room(int fd)
{
	int sz = 16 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

/* More to read on fd right now? */
static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/*
 * Fork a child (what: for the log) on a fresh SOCK_SEQPACKET pair: the
 * parent keeps sp[0], the child sp[1] and nothing else of the parent's
 * (lines, broker, netlink, signalfd), with SIGPIPE ignored and the
 * signal mask the parent had before it blocked its signalfd's signals.
 * lines: both ends get line_room().  Returns the pid (0 in the child),
 * or -1 with the error logged and no descriptor left open.
 */
static pid_t spawn_child(const char *what, int sp[2], bool lines,
			 const sigset_t *oldmask)
{
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
		kerr("%s: socketpair: %s", what, strerror(errno));
		return -1;
	}
	if (lines) {
		line_room(sp[0]);
		line_room(sp[1]);
	}
	pid = fork();
	if (pid < 0) {
		kerr("%s: fork: %s", what, strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		close_all_but(sp[1]);
		signal(SIGPIPE, SIG_IGN);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
	}
	return pid;
}

static void spawn_worker(int slot, const sigset_t *oldmask)
{
	struct pw *n;
	int sp[2];
	pid_t pid;

	n = realloc(pws, (npws + 1) * sizeof(*pws));
	if (!n)
		return;
	pws = n;
	slot_started[slot] = now_ms();
	pid = spawn_child("worker", sp, true, oldmask);
	if (pid < 0)
		return;
	if (pid == 0)
		_exit(katlsd_worker(&state, sp[1], lim.per_worker));
	close(sp[1]);
	pws[npws].pid = pid;
	pws[npws].ctl = sp[0];
	pws[npws].slot = slot;
	npws++;
	kinfo("pool: worker %d started (slot %d of %u)", (int)pid, slot,
	      lim.workers);
}

/* Start a worker for every empty pool slot (not more often than RESTART_MS). */
static int fill_pool(const sigset_t *oldmask)
{
	uint64_t now = now_ms();
	int timeout = -1;
	unsigned int s;
	size_t i;

	if (!family_present)
		return -1;
	for (s = 0; s < lim.workers; s++) {
		bool have = false;

		for (i = 0; i < npws; i++)
			if (pws[i].slot == (int)s)
				have = true;
		if (have)
			continue;
		if (slot_started[s] && now < slot_started[s] + RESTART_MS) {
			int t = (int)(slot_started[s] + RESTART_MS - now);

			if (timeout < 0 || t < timeout)
				timeout = t;
			continue;
		}
		spawn_worker((int)s, oldmask);
	}
	return timeout;
}

/* Stop every active worker (it finishes what runs); new ones replace it. */
static void drain_workers(const char *why)
{
	size_t i;

	for (i = 0; i < npws; i++)
		if (pws[i].slot >= 0) {
			kinfo("pool: worker %d finishes and stops (%s)",
			      (int)pws[i].pid, why);
			kill(pws[i].pid, SIGTERM);
			pws[i].slot = -1;
		}
	memset(slot_started, 0, lim.workers * sizeof(*slot_started));
}

/*
 * Stop the quoter now: its report is stuck, or nobody waits for it any
 * more.  Its report entry goes at once (rmdir works while the provider
 * still generates the quote), its batch fails, a new quoter starts.
 */
static void stop_quoter(const char *why)
{
	if (!quoter_pid)
		return;
	kwarn("quoter %d: %s: stopping it", (int)quoter_pid, why);
	kill(quoter_pid, SIGKILL);
	katlsd_evsrc_tsm_sweep(quoter_root, quoter_pid);
	katlsd_qbroker_set_quoter(qb, -1);
	if (quoter_dying)	/* still not reaped: a lost cause */
		kwarn("quoter %d: still not reaped", (int)quoter_dying);
	quoter_dying = quoter_pid;
	quoter_pid = 0;
}

/* Start the quoter (the child that makes configfs-tsm reports). */
static void spawn_quoter(const sigset_t *oldmask)
{
	struct timespec now;
	int sp[2];
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &now);
	/* At most one start a second: a quoter that dies at once. */
	if (quoter_started.tv_sec && now.tv_sec - quoter_started.tv_sec < 1)
		return;
	quoter_started = now;
	pid = spawn_child("quoter", sp, false, oldmask);
	if (pid < 0)
		return;
	if (pid == 0) {
		/* ps and the e2e tests tell it from the workers */
		prctl(PR_SET_NAME, "katlsd-quoter", 0, 0, 0);
		/* It needs no key, no policy: drop them (quoter_root is its own). */
		katlsd_state_free(&state);
		_exit(katlsd_quoter_main(sp[1], quoter_root));
	}
	close(sp[1]);
	quoter_pid = pid;
	katlsd_qbroker_set_quoter(qb, sp[0]);
	kdebug("quoter %d started", (int)pid);
}

/*
 * The parent's own membership of the "agent" group.  The kernel fails a
 * request at once with ESRCH when no socket is subscribed; while the pool
 * replaces its workers (all of them killed, a reload) requests must wait
 * for the new ones instead, which ACCEPT what is pending when they start.
 * The parent only drains it.
 */
static struct katls_agent hold;

static int hold_fd(void)
{
	return hold.sk ? katls_agent_fd(&hold) : -1;
}

/*
 * The katls family went away (module unloaded) and/or came back (loaded
 * again).  The workers were subscribed to the old family: they finish
 * and stop; new ones start once the family is there.
 */
static void follow_family(unsigned int events)
{
	int ret;

	if (events & KATLS_AGENT_FAMILY_DEL) {
		kwarn("the %s netlink family went away (module unloaded?); waiting for it",
		      KATLS_GENL_NAME);
		family_present = false;
		drain_workers("module unloaded");
	}
	katls_agent_close(&hold);
	ret = katls_agent_listen(&hold);
	if (ret == -ENOENT)
		return;		/* still gone: the next NEWFAMILY brings it */
	if (ret) {
		/* Better restarted by systemd than subscribed to nothing. */
		kerr("cannot join the %s netlink family again: %s",
		     KATLS_GENL_NAME, strerror(-ret));
		return;
	}
	if (family_present && !(events & KATLS_AGENT_FAMILY_NEW))
		return;
	if (family_present)
		drain_workers("module reloaded");
	family_present = true;
	knotice("the %s family is back: subscribed again (new pool workers)",
		KATLS_GENL_NAME);
}

/* The counters, for operators (SIGUSR1) and at the stop. */
static void log_counters(const char *when)
{
	struct katlsd_qbroker_stats qs;
	struct katlsd_fair_stats fs;

	katlsd_qbroker_stats(qb, &qs);
	katlsd_fair_stats(fair, &fs);
	knotice("%squote broker: %llu reports (%llu failed), %llu handshakes served, %llu ETIMEDOUT, largest batch %u",
		when, (unsigned long long)qs.reports,
		(unsigned long long)qs.failed, (unsigned long long)qs.served,
		(unsigned long long)qs.timeouts, qs.largest);
	knotice("%sadmission: %u running, %u waiting; %llu started at once, %llu after waiting, %llu refused (EBUSY), %llu expired while waiting; %zu workers",
		when, fs.running, fs.waiting,
		(unsigned long long)fs.admitted,
		(unsigned long long)fs.dequeued,
		(unsigned long long)fs.refused,
		(unsigned long long)fs.expired, npws);
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static int run(void)
{
	static struct pollfd pfd[3 + 2 * KATLSD_MAX_WORKERS + 16 +
				 KATLSD_MAX_CONCURRENCY + 1];
	struct katls_agent ctrl = { 0 };
	size_t nqb, nw, i;
	int timeout;
	sigset_t mask, oldmask;
	bool stop = false;
	long ncpu;
	int sigfd, ret, rc = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		kerr("signalfd: %s", strerror(errno));
		return 1;
	}

	/* First the controller, so that no unload/reload goes unseen. */
	ret = katls_agent_ctrl_listen(&ctrl);
	if (ret) {
		kerr("cannot follow the generic netlink controller: %s",
		     strerror(-ret));
		close(sigfd);
		return 1;
	}
	/* Is the family there?  The workers subscribe themselves too. */
	ret = katls_agent_listen(&hold);
	if (ret) {
		kerr("cannot join the %s netlink family: %s%s", KATLS_GENL_NAME,
		     strerror(-ret),
		     ret == -ENOENT ? " (is the katls module loaded?)" : "");
		katls_agent_close(&ctrl);
		katls_agent_close(&hold);
		close(sigfd);
		return 1;
	}
	/*
	 * Each running request holds three descriptors in its worker (the
	 * socket, its sandbox line, its broker line) and one in the parent:
	 * raise the soft limit to the hard one (systemd: 1024 / 524288).
	 */
	{
		struct rlimit rl;

		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &rl))
				kwarn("cannot raise RLIMIT_NOFILE: %s",
				      strerror(errno));
		}
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	katlsd_config_pool(&state.cfg, ncpu > 0 ? (unsigned int)ncpu : 1, &lim);
	knotice("katlsd %s started, up to %u handshakes at once in %u workers (%u each); at most %u per uid, %u per peer, %u waiting",
		KATLSD_VERSION, state.cfg.concurrency, lim.workers,
		lim.per_worker, lim.max_per_uid, lim.max_per_peer,
		lim.max_waiting);

	/* The quote broker: configfs-tsm is the parent's alone. */
	ret = katlsd_qbroker_new(state.cfg.max_batch, KATLSD_MAX_CONCURRENCY,
				 &qb);
	if (!ret)
		ret = katlsd_fair_new(state.cfg.concurrency, lim.max_per_uid,
				      lim.max_per_peer, lim.max_waiting, &fair);
	slot_started = calloc(lim.workers, sizeof(*slot_started));
	if (!ret && !slot_started)
		ret = -ENOMEM;
	if (!ret && state.cfg.tsm_root) {
		quoter_root = strdup(state.cfg.tsm_root);
		if (!quoter_root)
			ret = -ENOMEM;
	}
	if (ret) {
		kerr("quote broker: %s", strerror(-ret));
		katls_agent_close(&ctrl);
		katls_agent_close(&hold);
		close(sigfd);
		return 1;
	}
	katlsd_qbroker_set_release(qb, on_release, NULL);
	katlsd_evsrc_tsm_sweep_stale(quoter_root);
	kinfo("quote broker: up to %u handshakes per report",
	      state.cfg.max_batch);
	spawn_quoter(&oldmask);

	pfd[0].fd = sigfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = katls_agent_fd(&ctrl);
	pfd[1].events = POLLIN;
	pfd[2].events = POLLIN;
	while (!stop) {
		if (katlsd_qbroker_abandoned(qb))
			stop_quoter("every handshake of its batch went away");
		if (!katlsd_qbroker_overdue_ms(qb, QUOTE_MAX_MS))
			stop_quoter("report stuck past the longest deadline");
		if (!quoter_pid)
			spawn_quoter(&oldmask);
		timeout = fill_pool(&oldmask);
		timeout = min_timeout(timeout,
				      katlsd_qbroker_overdue_ms(qb, QUOTE_MAX_MS));
		timeout = min_timeout(timeout,
				      katlsd_fair_timeout_ms(fair, now_ms()));
		if (!quoter_pid)
			timeout = min_timeout(timeout, 1000);
		pfd[2].fd = hold_fd();
		nw = 0;
		for (i = 0; i < npws && nw < 2 * KATLSD_MAX_WORKERS + 16; i++) {
			pfd[3 + nw].fd = pws[i].ctl;
			pfd[3 + nw].events = POLLIN;
			pfd[3 + nw].revents = 0;
			nw++;
		}
		nqb = katlsd_qbroker_pollfds(qb, pfd + 3 + nw,
					     sizeof(pfd) / sizeof(pfd[0]) -
					     3 - nw);
		if (poll(pfd, 3 + nw + nqb, timeout) < 0) {
			if (errno == EINTR)
				continue;
			kerr("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				switch (si.ssi_signo) {
				case SIGCHLD:
					reap();
					break;
				case SIGHUP:
					reload();
					break;
				case SIGUSR1:
					log_counters("status: ");
					break;
				default:
					knotice("signal %u: stopping",
						si.ssi_signo);
					stop = true;
				}
			}
		}
		if (!stop && (pfd[1].revents & (POLLIN | POLLERR))) {
			unsigned int ev = 0;

			ret = katls_agent_ctrl_drain(&ctrl, &ev);
			if (ret) {
				/*
				 * Blind to unload/reload from here on: exit
				 * non-zero so that systemd restarts us.
				 */
				kerr("generic netlink controller: %s; exiting to be restarted",
				     strerror(-ret));
				rc = 1;
				break;
			}
			if (ev)
				follow_family(ev);
		}
		if (stop)
			break;
		if (pfd[2].fd >= 0 && pfd[2].fd == hold_fd() &&
		    (pfd[2].revents & (POLLIN | POLLERR))) {
			unsigned int ready;

			/* READYs are the workers' business; an overrun too */
			(void)katls_agent_drain(&hold, &ready);
		}
		/* Worker lines: pws may shrink in reap(), so match by fd. */
		for (i = 0; i < nw; i++) {
			struct pw *w = NULL;
			size_t j;

			if (!pfd[3 + i].revents)
				continue;
			for (j = 0; j < npws; j++)
				if (pws[j].ctl == pfd[3 + i].fd &&
				    pws[j].ctl >= 0)
					w = &pws[j];
			if (!w)
				continue;
			if (pfd[3 + i].revents & POLLIN) {
				/* all it sent: it may be waiting for room */
				do
					from_worker_ctl(w);
				while (readable(w->ctl));
			} else {
				close(w->ctl);
				w->ctl = -1;
			}
		}
		katlsd_qbroker_handle(qb, pfd + 3 + nw, nqb);
		admit_waiters();
	}

	/*
	 * Clean stop: the workers accept nothing new and finish what runs
	 * (each request is bounded by its kernel deadline).  The broker goes
	 * first: handshakes still waiting for evidence fail (EIO), the
	 * quoter ends after the report it may be making.
	 */
	katls_agent_close(&ctrl);
	katls_agent_close(&hold);	/* new requests: ESRCH from here on */
	for (i = 0; i < npws; i++)
		kill(pws[i].pid, SIGTERM);
	log_counters("");
	katlsd_qbroker_set_release(qb, NULL, NULL);
	katlsd_qbroker_free(qb);
	qb = NULL;
	for (i = 0; i < npws; i++)
		if (pws[i].ctl >= 0)
			close(pws[i].ctl);
	if (npws)
		knotice("waiting for %zu worker(s) to finish", npws);
	while (npws || quoter_pid || quoter_dying) {
		int status;
		pid_t pid = wait(&status);
		struct pw *w;

		if (pid < 0)
			break;
		if (pid == quoter_pid || pid == quoter_dying) {
			katlsd_evsrc_tsm_sweep(quoter_root, pid);
			if (pid == quoter_pid)
				quoter_pid = 0;
			else
				quoter_dying = 0;
			continue;
		}
		katlsd_fair_drop_worker(fair, pid, close_fair_fd, NULL);
		w = pw_find(pid);
		if (w)
			*w = pws[--npws];
	}
	katlsd_fair_free(fair);
	fair = NULL;
	free(pws);
	pws = NULL;
	free(slot_started);
	slot_started = NULL;
	free(quoter_root);
	quoter_root = NULL;
	close(sigfd);
	knotice("stopped");
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "check-config", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	bool foreground = false, check_only = false;
	char err[1024];
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:fdthV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'd':
			opt_debug = true;
			break;
		case 't':
			check_only = true;
			foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("katlsd %s (GnuTLS %s)\n", KATLSD_VERSION,
			       gnutls_check_version(NULL));
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	katlsd_log_open(foreground, opt_debug ? LOG_DEBUG : LOG_INFO);
	/* No core dumps, no ptrace: every process of ours may hold keys. */
	ret = katlsd_nodump();
	if (ret) {
		kerr("cannot disable core dumps: %s", strerror(-ret));
		return 1;
	}
	if (gnutls_global_init() < 0) {
		kerr("gnutls_global_init failed");
		return 1;
	}
	if (katlsd_state_load(&state, config_path, err, sizeof(err))) {
		kerr("%s", err);
		return 1;
	}
	apply_log_level();
	if (check_only) {
		printf("%s: OK (server role %s, trust store %s)\n",
		       config_path, state.server_creds ? "configured" : "off",
		       state.have_truststore ? "loaded" : "none");
		katlsd_state_free(&state);
		gnutls_global_deinit();
		return 0;
	}
	/*
	 * No daemon(3): under systemd (Type=simple) the unit keeps katlsd
	 * in the foreground anyway; --foreground only selects stderr.
	 */
	ret = run();
	katlsd_state_free(&state);
	gnutls_global_deinit();
	katlsd_log_close();
	return ret;
}
