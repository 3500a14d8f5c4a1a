// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - katlsd: the katls handshake agent.
 *
 * Process model (the tlshd model, bounded):
 *
 *   parent  listens on the "agent" multicast group, counts READY
 *           notifications, and forks at most `concurrency` children.
 *           It never touches a socket, a key or evidence itself.
 *   child   opens its own netlink socket, ACCEPTs the oldest pending
 *           request (so the request is bound to the child's port and
 *           process), runs that one handshake, sends DONE and exits.
 *           It is the request's monitor: the handshake runs in a
 *           confined grandchild, the sandbox (worker.c, privsep.h).
 *
 * The parent also follows the generic netlink controller, so that it
 * subscribes again when katls.ko is unloaded and loaded again.
 *
 * The parent also runs the quote broker (qbroker.h): it is the only
 * owner of configfs-tsm.  Each worker gets a SOCK_SEQPACKET line to it,
 * created before the fork, sends its binder and deadline and waits for
 * the evidence and its batch proof.  The reports themselves are made by
 * the quoter, a dedicated child of the parent (katlsd_quoter_main()).
 * A child rather than a thread in the parent: the parent forks workers,
 * and a fork while a thread holds a libc lock (syslog, stdio) would hand
 * the worker that lock held forever; a child can also be killed when a
 * report hangs, and its report entries are swept when it is reaped.  So a
 * slow quote blocks neither ACCEPT dispatch nor reaping.  A crash kills
 * only its own request (the kernel sees the netlink socket close).
 * Memory is bounded by `concurrency` processes; the parent keeps
 * counters and one broker slot per worker.
 *
 * Each READY is matched by exactly one worker: READYs that find every
 * slot busy stay counted in `backlog`.  When READYs may have been lost
 * (at start-up, and after a multicast overrun) the parent *probes*: it
 * starts workers without a READY, and every probe that found a request
 * is followed by another, until one finds nothing pending (ACCEPT:
 * ENOENT).  A worker that finds nothing outside probing changes
 * nothing: its READY was served by another agent or worker.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
#include "qbroker.h"
#include "sched.h"

static struct katlsd_state state;
static const char *config_path = KATLSD_DEFAULT_CONFIG;
static bool opt_debug;
static struct katlsd_sched sched;
static struct katlsd_qbroker *qb;
static pid_t quoter_pid;
static pid_t quoter_dying;	/* stopped, not reaped yet */
static struct timespec quoter_started;
static char *quoter_root;	/* the tsm_root the quoter runs with */

/* A report that has run this long is stuck: the quoter is stopped. */
#define QUOTE_MAX_MS	(KATLS_TIMEOUT_MAX_MS + 5000)

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
	/* Running children keep their copy; new ones get the new state. */
	katlsd_state_free(&state);
	state = next;
	apply_log_level();
	knotice("configuration and policies reloaded");
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int code = -1;

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
		katlsd_qbroker_remove(qb, pid);

		if (WIFEXITED(status)) {
			code = WEXITSTATUS(status);
			if (code == KATLSD_EXIT_ALARM || code == KATLSD_EXIT_SANDBOX)
				katlsd_evsrc_tsm_sweep(state.cfg.tsm_root, pid);
			if (code == KATLSD_EXIT_ALARM)
				kwarn("worker %d: stuck past its deadline, stopped by its alarm backstop",
				      (int)pid);
			else if (code != KATLSD_EXIT_DONE &&
			    code != KATLSD_EXIT_FAILED &&
			    code != KATLSD_EXIT_EMPTY)
				kwarn("worker %d exited with %d", (int)pid,
				      code);
		} else if (WIFSIGNALED(status)) {
			kerr("worker %d killed by signal %d; the kernel fails its request",
			     (int)pid, WTERMSIG(status));
			/* A quote it had in flight stays in configfs: remove. */
			katlsd_evsrc_tsm_sweep(state.cfg.tsm_root, pid);
		}
		katlsd_sched_exit(&sched, code);
	}
}

static void spawn(struct katls_agent *nl, struct katls_agent *ctrl, int sigfd,
		  const sigset_t *oldmask)
{
	while (katlsd_sched_next(&sched, state.cfg.concurrency)) {
		pid_t pid = -1;
		int sp[2] = { -1, -1 };

		/* The worker's line to the quote broker, before the fork. */
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
			kerr("socketpair: %s", strerror(errno));
		else if ((pid = fork()) < 0)
			kerr("fork: %s", strerror(errno));
		if (pid < 0) {
			if (sp[0] >= 0) {
				close(sp[0]);
				close(sp[1]);
			}
			katlsd_sched_undo(&sched);
			return;	/* retried on the next event */
		}
		if (pid == 0) {
			int code;

			close(sigfd);
			close(sp[0]);
			katlsd_qbroker_close_in_child(qb);
			katls_agent_close(nl);
			katls_agent_close(ctrl);
			signal(SIGPIPE, SIG_IGN);
			sigprocmask(SIG_SETMASK, oldmask, NULL);
			code = katlsd_worker(&state, sp[1]);
			_exit(code);
		}
		close(sp[1]);
		if (katlsd_qbroker_add(qb, sp[0], pid)) {
			/* Its evidence requests fail: EPIPE in the worker. */
			kerr("quote broker: out of memory for worker %d",
			     (int)pid);
			close(sp[0]);
		}
	}
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
static void spawn_quoter(struct katls_agent *nl, struct katls_agent *ctrl,
			 int sigfd, const sigset_t *oldmask)
{
	struct timespec now;
	int sp[2];
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &now);
	/* At most one start a second: a quoter that dies at once. */
	if (quoter_started.tv_sec && now.tv_sec - quoter_started.tv_sec < 1)
		return;
	quoter_started = now;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
		kerr("quoter: socketpair: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		kerr("quoter: fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return;
	}
	if (pid == 0) {
		close(sigfd);
		close(sp[0]);
		katlsd_qbroker_close_in_child(qb);
		katls_agent_close(nl);
		katls_agent_close(ctrl);
		signal(SIGPIPE, SIG_IGN);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
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
 * The katls family went away (module unloaded) and/or came back (loaded
 * again): drop the dead subscription and join the new family's group.
 * Requests of the new module may predate the subscription: probe.
 */
static void follow_family(struct katls_agent *nl, unsigned int events)
{
	int ret;

	if (nl->sk) {
		katls_agent_close(nl);
		if (events & KATLS_AGENT_FAMILY_DEL)
			kwarn("the %s netlink family went away (module unloaded?); waiting for it",
			      KATLS_GENL_NAME);
	}
	ret = katls_agent_listen(nl);
	if (ret == -ENOENT)
		return;		/* still gone: the next NEWFAMILY brings it */
	if (ret) {
		/* Better restarted by systemd than subscribed to nothing. */
		kerr("cannot join the %s netlink family again: %s",
		     KATLS_GENL_NAME, strerror(-ret));
		return;
	}
	knotice("the %s family is back: subscribed again", KATLS_GENL_NAME);
	katlsd_sched_overrun(&sched, state.cfg.concurrency);
}

static int run(void)
{
	static struct pollfd pfd[3 + 1 + KATLSD_MAX_CONCURRENCY + 16];
	struct katls_agent nl = { 0 }, ctrl = { 0 };
	struct katlsd_qbroker_stats qs;
	size_t nqb;
	int timeout;
	sigset_t mask, oldmask;
	bool stop = false;
	int sigfd, ret, rc = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
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
	ret = katls_agent_listen(&nl);
	if (ret) {
		kerr("cannot join the %s netlink family: %s%s", KATLS_GENL_NAME,
		     strerror(-ret),
		     ret == -ENOENT ? " (is the katls module loaded?)" : "");
		katls_agent_close(&ctrl);
		close(sigfd);
		return 1;
	}
	knotice("katlsd %s started, up to %u handshakes at once",
		KATLSD_VERSION, state.cfg.concurrency);

	/* The quote broker: configfs-tsm is the parent's alone. */
	ret = katlsd_qbroker_new(state.cfg.max_batch, KATLSD_MAX_CONCURRENCY,
				 &qb);
	if (!ret && state.cfg.tsm_root) {
		quoter_root = strdup(state.cfg.tsm_root);
		if (!quoter_root)
			ret = -ENOMEM;
	}
	if (ret) {
		kerr("quote broker: %s", strerror(-ret));
		katls_agent_close(&nl);
		katls_agent_close(&ctrl);
		close(sigfd);
		return 1;
	}
	katlsd_evsrc_tsm_sweep_stale(quoter_root);
	kinfo("quote broker: up to %u handshakes per report",
	      state.cfg.max_batch);
	spawn_quoter(&nl, &ctrl, sigfd, &oldmask);

	/* Requests may be pending from before we started. */
	katlsd_sched_init(&sched);
	spawn(&nl, &ctrl, sigfd, &oldmask);

	pfd[0].fd = sigfd;
	pfd[0].events = POLLIN;
	pfd[2].fd = katls_agent_fd(&ctrl);
	pfd[2].events = POLLIN;
	while (!stop) {
		/* No subscription while the module is away: poll ignores -1. */
		pfd[1].fd = nl.sk ? katls_agent_fd(&nl) : -1;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		if (katlsd_qbroker_abandoned(qb))
			stop_quoter("every handshake of its batch went away");
		if (!katlsd_qbroker_overdue_ms(qb, QUOTE_MAX_MS))
			stop_quoter("report stuck past the longest deadline");
		if (!quoter_pid)
			spawn_quoter(&nl, &ctrl, sigfd, &oldmask);
		timeout = katlsd_qbroker_overdue_ms(qb, QUOTE_MAX_MS);
		if (!quoter_pid)
			timeout = 1000;	/* to start the quoter again */
		nqb = katlsd_qbroker_pollfds(qb, pfd + 3,
					     sizeof(pfd) / sizeof(pfd[0]) - 3);
		if (poll(pfd, 3 + nqb, timeout) < 0) {
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
				default:
					knotice("signal %u: stopping",
						si.ssi_signo);
					stop = true;
				}
			}
		}
		if (!stop && (pfd[2].revents & (POLLIN | POLLERR))) {
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
				follow_family(&nl, ev);
		}
		if (!stop && nl.sk &&
		    (pfd[1].revents & (POLLIN | POLLERR))) {
			unsigned int ready = 0;

			ret = katls_agent_drain(&nl, &ready);
			if (ret == -ENOBUFS) {
				kwarn("netlink overrun: notifications lost, probing");
				katlsd_sched_overrun(&sched,
						     state.cfg.concurrency);
			} else if (ret) {
				kerr("netlink: %s", strerror(-ret));
			}
			katlsd_sched_ready(&sched, ready);
		}
		if (!stop)
			katlsd_qbroker_handle(qb, pfd + 3, nqb);
		if (!stop && nl.sk)
			spawn(&nl, &ctrl, sigfd, &oldmask);
	}

	/*
	 * Clean stop: accept nothing new; let running handshakes finish
	 * (each is bounded by its kernel deadline and alarm()).
	 */
	katls_agent_close(&nl);
	katls_agent_close(&ctrl);
	/*
	 * The broker goes first: handshakes still waiting for evidence fail
	 * (EIO), the quoter ends after the report it may be making.
	 */
	katlsd_qbroker_stats(qb, &qs);
	knotice("quote broker: %llu reports (%llu failed), %llu handshakes served, %llu ETIMEDOUT, largest batch %u",
		(unsigned long long)qs.reports, (unsigned long long)qs.failed,
		(unsigned long long)qs.served,
		(unsigned long long)qs.timeouts, qs.largest);
	katlsd_qbroker_free(qb);
	qb = NULL;
	if (sched.running)
		knotice("waiting for %u running handshake(s)", sched.running);
	while (sched.running || quoter_pid || quoter_dying) {
		int status;
		pid_t pid = wait(&status);

		if (pid < 0)
			break;
		if (pid == quoter_dying) {
			katlsd_evsrc_tsm_sweep(quoter_root, pid);
			quoter_dying = 0;
			continue;
		}
		if (pid == quoter_pid || pid == quoter_dying) {
			katlsd_evsrc_tsm_sweep(quoter_root, pid);
			if (pid == quoter_pid)
				quoter_pid = 0;
			else
				quoter_dying = 0;
		} else if (sched.running) {
			sched.running--;
		}
	}
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
