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
 * A slow quote blocks only its own child; a crash kills only its own
 * request (the kernel sees the netlink socket close).  Memory is bounded
 * by `concurrency` processes; the parent keeps only counters.
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
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gnutls/gnutls.h>

#include "evsrc_tsm.h"
#include "katlsd.h"
#include "log.h"
#include "netlink.h"
#include "sched.h"

static struct katlsd_state state;
static const char *config_path = KATLSD_DEFAULT_CONFIG;
static bool opt_debug;
static struct katlsd_sched sched;

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
		pid_t pid = fork();

		if (pid < 0) {
			kerr("fork: %s", strerror(errno));
			katlsd_sched_undo(&sched);
			return;	/* retried on the next event */
		}
		if (pid == 0) {
			int code;

			close(sigfd);
			katls_agent_close(nl);
			katls_agent_close(ctrl);
			signal(SIGPIPE, SIG_IGN);
			sigprocmask(SIG_SETMASK, oldmask, NULL);
			code = katlsd_worker(&state);
			_exit(code);
		}
	}
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
	struct katls_agent nl = { 0 }, ctrl = { 0 };
	struct pollfd pfd[3];
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
		if (poll(pfd, 3, -1) < 0) {
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
		if (!stop && nl.sk)
			spawn(&nl, &ctrl, sigfd, &oldmask);
	}

	/*
	 * Clean stop: accept nothing new; let running handshakes finish
	 * (each is bounded by its kernel deadline and alarm()).
	 */
	katls_agent_close(&nl);
	katls_agent_close(&ctrl);
	if (sched.running)
		knotice("waiting for %u running handshake(s)", sched.running);
	while (sched.running) {
		int status;

		if (wait(&status) < 0)
			break;
		sched.running--;
	}
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
