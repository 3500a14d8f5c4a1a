// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - a pool worker (issue 13 item 3): a long-lived monitor and
 * its sandbox, serving many requests at once.
 *
 * The worker (process name katlsd-worker) is the monitor of privsep.h for
 * every request it accepts: it holds the netlink socket the requests are
 * bound to, the private key and one line per request to the parent's
 * quote broker.  At start it forks one sandbox (katlsd-sandbox), confined
 * once (sandbox.h), which runs each handshake in a thread of its own.
 *
 *   main thread     READY notifications (its own multicast socket),
 *                   ACCEPT, admission by the parent (SLOT_REQ/SLOT_REP,
 *                   fair.h), START to the sandbox, the deadline backstop
 *   monitor threads one per running request: katlsd_monitor_serve() on
 *                   the request's own line to its sandbox thread,
 *                   exactly as one forked monitor did before; DONE
 *
 * Why threads rather than one event loop: the server's evidence is
 * needed inside GnuTLS's extension send callback, in the middle of the
 * server's flight, and GnuTLS 3.7 cannot suspend a handshake there
 * (the callback cannot return GNUTLS_E_AGAIN); a thread per handshake
 * waits for its quote without holding up anyone else, and keeps the
 * reviewed one-request protocol and its per-request limits unchanged.
 * See Documentation/katlsd.rst, "Process model".
 *
 * Each request is bound to this worker's netlink port: if the worker
 * dies, the kernel fails exactly its requests with ECONNABORTED, and the
 * parent starts another worker.  If the sandbox dies, every running
 * request's line closes (its monitor sends DONE with ECONNABORTED) and
 * the worker exits to be replaced.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* Extra time past the kernel deadline before the backstop stops a request. */
#define WORKER_GRACE_MS	2000
/* Monitor threads only move bytes and wait: a small stack. */
#define MONITOR_STACK	(256 * 1024)

enum req_state {
	REQ_ADMISSION,		/* SLOT_REQ sent, no answer yet */
	REQ_WAITING,		/* the parent queued it (fair.h) */
	REQ_RUNNING,		/* its monitor thread runs */
};

struct req {
	struct req *next;
	struct katls_agent_request kr;
	enum req_state state;
	uint64_t deadline_ms;		/* 0: none */
	struct katlsd_broker_client bc;	/* our end of the broker line */
	int ipc;			/* our end of the sandbox line */
	bool stopped;			/* the backstop fired */
};

static struct {
	struct katlsd_state *st;
	unsigned int cap;		/* requests in ADMISSION + RUNNING */
	struct katls_agent nl;		/* ACCEPT and DONE */
	pthread_mutex_t nl_lock;
	pthread_mutex_t lock;		/* reqs, busy, key */
	struct req *reqs;
	unsigned int busy;
	int wake;			/* eventfd: a monitor thread ended */
	int ctl;			/* to the parent */
	int sb;				/* to the sandbox */
	pid_t sandbox;
	bool missed;			/* a READY found us full */
} W = {
	.nl_lock = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = -1, .ctl = -1, .sb = -1,
};

static const char *role_name(uint32_t role)
{
	return role == KATLS_ROLE_CLIENT ? "client" :
	       role == KATLS_ROLE_SERVER ? "server" : "?";
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * DONE for request id, from any thread (one netlink socket); a success
 * carries max_age_ms (the policy's max_connection_age, 0: none).
 */
static int done_send(uint64_t id, const struct katlsd_hs_result *r,
		     uint32_t max_age_ms)
{
	int ret;

	pthread_mutex_lock(&W.nl_lock);
	ret = katlsd_nl_done(&W.nl, id, r, max_age_ms);
	pthread_mutex_unlock(&W.nl_lock);
	return ret;
}

/* DONE with a failure decided here (no handshake ran). */
static void done_fail(struct req *q, int status, const char *why)
{
	struct katlsd_hs_result r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.status = status;
	snprintf(r.reason, sizeof(r.reason), "%s", why);
	knotice("request %llu: failed: %s (%s)",
		(unsigned long long)q->kr.id, why, strerror(status));
	ret = done_send(q->kr.id, &r, 0);
	if (ret && ret != -ENOENT)
		kerr("request %llu: DONE: %s", (unsigned long long)q->kr.id,
		     strerror(-ret));
}

static void req_free(struct req *q)
{
	if (q->kr.fd >= 0)
		close(q->kr.fd);
	if (q->bc.fd >= 0)
		close(q->bc.fd);
	if (q->ipc >= 0)
		close(q->ipc);
	free(q);
}

/* Unlink q (W.lock held). */
static void req_unlink(struct req *q)
{
	struct req **pp;

	for (pp = &W.reqs; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return;
		}
}

static struct req *req_find(uint64_t id)
{
	struct req *q;

	for (q = W.reqs; q; q = q->next)
		if (q->kr.id == id)
			return q;
	return NULL;
}

/* ---- the monitor thread of one request ---- */

struct done_ctx {
	uint64_t id;
	uint32_t max_age_ms;		/* the policy's, at ACCEPT */
	bool sent;
	int ret;
};

static int monitor_done(void *arg, const struct katlsd_hs_result *r)
{
	struct done_ctx *d = arg;

	if (!d->sent) {
		if (r->status)
			knotice("request %llu: failed: %s (%s)",
				(unsigned long long)d->id, r->reason,
				strerror(r->status));
		d->ret = done_send(d->id, r, d->max_age_ms);
		d->sent = true;
	}
	return d->ret;
}

static gnutls_privkey_t server_key(void)
{
	gnutls_x509_privkey_t x;
	gnutls_privkey_t key = NULL;
	int ret;

	if (!W.st->server_creds)
		return NULL;
	pthread_mutex_lock(&W.lock);
	ret = gnutls_certificate_get_x509_key(W.st->server_creds, 0, &x);
	pthread_mutex_unlock(&W.lock);
	if (ret >= 0) {
		ret = gnutls_privkey_init(&key);
		if (ret >= 0)
			ret = gnutls_privkey_import_x509(
				key, x, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
		if (ret < 0)
			gnutls_x509_privkey_deinit(x);
	}
	if (ret < 0) {
		kerr("server key: %s", gnutls_strerror(ret));
		if (key)
			gnutls_privkey_deinit(key);
		key = NULL;
	}
	return key;
}

static void *monitor_main(void *arg)
{
	struct req *q = arg;
	struct katlsd_evidence_source evsrc;
	struct katlsd_monitor mon;
	struct done_ctx done = { .id = q->kr.id };
	uint64_t one = 1;
	int status;

	memset(&mon, 0, sizeof(mon));
	mon.fd = q->kr.fd;
	mon.timeout_ms = q->kr.timeout_ms;
	mon.server = q->kr.role == KATLS_ROLE_SERVER;
	/* issue 14: post | both: the authenticator's signature (and quote) */
	mon.binding = katls_policy_binding(katls_policy_find(W.st->policies,
							     q->kr.policy));
	/* issue 14 item 3: a client quotes only if its policy consents */
	mon.client_attest = !mon.server &&
		katls_policy_client_attest(katls_policy_find(W.st->policies,
							     q->kr.policy));
	/* issue 14 item 7: the kernel expires the socket after this age */
	done.max_age_ms = katls_policy_max_age_ms(
		katls_policy_find(W.st->policies, q->kr.policy));
	if (done.max_age_ms)
		kinfo("request %llu: policy %s: max_connection_age %u ms",
		      (unsigned long long)q->kr.id, q->kr.policy,
		      done.max_age_ms);
	mon.done = monitor_done;
	mon.done_arg = &done;
	/* Evidence comes from the parent's quote broker (qbroker.h). */
	katlsd_evsrc_broker_bind(&evsrc, &q->bc);
	mon.evsrc = &evsrc;
	if (mon.server)
		mon.key = server_key();
	status = katlsd_monitor_serve(&mon, q->ipc);
	if (mon.key)
		gnutls_privkey_deinit(mon.key);
	if (done.ret == -ENOENT)
		knotice("request %llu: already completed by the kernel",
			(unsigned long long)q->kr.id);
	else if (done.ret)
		kerr("request %llu: DONE: %s", (unsigned long long)q->kr.id,
		     strerror(-done.ret));
	else if (!status)
		kinfo("request %llu: keys handed to the kernel",
		      (unsigned long long)q->kr.id);

	/* Off the list first: the backstop touches only listed requests. */
	pthread_mutex_lock(&W.lock);
	req_unlink(q);
	W.busy--;
	pthread_mutex_unlock(&W.lock);
	/* Closing the broker line frees the request's slot in the parent. */
	req_free(q);
	if (write(W.wake, &one, sizeof(one)) < 0)
		kdebug("wake: %s", strerror(errno));
	return NULL;
}

/* ---- admission and start ---- */

/* The socket's owner and its peer (Documentation/katlsd.rst, "Fairness"). */
static void who(int fd, uint32_t *uid, struct katlsd_peer *peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat sb;

	/*
	 * A socket inode belongs to the fsuid of the process that created
	 * it (socket() or accept()): the local user the request is for.
	 */
	*uid = fstat(fd, &sb) ? (uint32_t)-1 : (uint32_t)sb.st_uid;
	memset(peer, 0, sizeof(*peer));
	if (getpeername(fd, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET) {
		peer->family = AF_INET;
		memcpy(peer->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			peer->family = AF_INET;
			memcpy(peer->addr, &a->s6_addr[12], 4);
		} else {
			peer->family = AF_INET6;
			memcpy(peer->addr, a, 16);
		}
	}
}

static void start(struct req *q)
{
	uint8_t buf[KATLSD_IPC_START_LEN];
	struct katlsd_ipc_start s;
	pthread_attr_t attr;
	pthread_t t;
	int sp[2], ret;
	uint64_t now = mono_ms();

	/* The time left now, after the wait for admission. */
	if (q->deadline_ms) {
		if (q->deadline_ms <= now) {
			ret = ETIMEDOUT;
			goto fail;
		}
		q->kr.timeout_ms = (uint32_t)(q->deadline_ms - now);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
		ret = errno;
		goto fail;
	}
	memset(&s, 0, sizeof(s));
	s.tag = q->kr.id;
	s.role = q->kr.role;
	s.timeout_ms = q->kr.timeout_ms;
	memcpy(s.policy, q->kr.policy, sizeof(s.policy));
	memcpy(s.peername, q->kr.peername, sizeof(s.peername));
	katlsd_ipc_enc_start(&s, buf);
	ret = -katlsd_ipc_send_fd(W.sb, KATLSD_IPC_START, buf, sizeof(buf),
				  sp[1]);
	close(sp[1]);
	if (ret) {
		close(sp[0]);
		goto fail;
	}
	q->ipc = sp[0];
	q->state = REQ_RUNNING;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, MONITOR_STACK);
	ret = pthread_create(&t, &attr, monitor_main, q);
	pthread_attr_destroy(&attr);
	if (!ret)
		return;
fail:
	/* Its sandbox thread, if any, sees the line close. */
	done_fail(q, ret == ETIMEDOUT ? ETIMEDOUT :
		  ret == ENOMEM || ret == EAGAIN ? ENOMEM : ECONNABORTED,
		  ret == ETIMEDOUT ? "deadline passed before the handshake started" :
		  "cannot start the handshake");
	pthread_mutex_lock(&W.lock);
	req_unlink(q);
	W.busy--;
	pthread_mutex_unlock(&W.lock);
	req_free(q);
}

/* A new request: ask the parent to admit it. */
static void admit(const struct katls_agent_request *kr)
{
	uint8_t buf[KATLSD_IPC_SLOT_REQ_LEN];
	struct katlsd_ipc_slot_req sr;
	char addr[64];
	struct req *q;
	int sp[2], ret;

	q = calloc(1, sizeof(*q));
	if (!q) {
		close(kr->fd);
		return;		/* the kernel fails it at its deadline */
	}
	q->kr = *kr;
	q->ipc = -1;
	q->bc.fd = -1;
	q->deadline_ms = kr->timeout_ms ? mono_ms() + kr->timeout_ms : 0;
	q->bc.deadline_ms = q->deadline_ms;
	memset(&sr, 0, sizeof(sr));
	sr.tag = kr->id;
	sr.deadline_ms = q->deadline_ms;
	who(kr->fd, &sr.uid, &sr.peer);
	kinfo("request %llu: %s role, policy %s%s%s, %u ms left, uid %u, peer %s (worker %d)",
	      (unsigned long long)kr->id, role_name(kr->role), kr->policy,
	      kr->peername[0] ? ", peer name " : "", kr->peername,
	      kr->timeout_ms, sr.uid,
	      katlsd_peer_str(&sr.peer, addr, sizeof(addr)), (int)getpid());
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
		done_fail(q, ENOMEM, "no line to the quote broker");
		req_free(q);
		return;
	}
	katlsd_ipc_enc_slot_req(&sr, buf);
	ret = katlsd_ipc_send_fd(W.ctl, KATLSD_IPC_SLOT_REQ, buf, sizeof(buf),
				 sp[1]);
	close(sp[1]);
	q->bc.fd = sp[0];
	if (ret) {
		done_fail(q, ECONNABORTED, "the parent is gone");
		req_free(q);
		return;
	}
	q->state = REQ_ADMISSION;
	pthread_mutex_lock(&W.lock);
	q->next = W.reqs;
	W.reqs = q;
	W.busy++;
	pthread_mutex_unlock(&W.lock);
}

/* The parent's answer about one request. */
static void admission(uint64_t tag, int32_t st)
{
	struct req *q;

	pthread_mutex_lock(&W.lock);
	q = req_find(tag);
	if (!q || q->state == REQ_RUNNING ||
	    (st == 1 && q->state != REQ_ADMISSION)) {
		pthread_mutex_unlock(&W.lock);
		kdebug("admission for request %llu ignored",
		       (unsigned long long)tag);
		return;
	}
	if (q->state == REQ_ADMISSION && st != 0)
		W.busy--;	/* waiting requests do not hold a slot here */
	if (q->state == REQ_WAITING && st == 0)
		W.busy++;
	if (st == 1) {
		q->state = REQ_WAITING;
		pthread_mutex_unlock(&W.lock);
		kinfo("request %llu: waits for a slot", (unsigned long long)tag);
		return;
	}
	if (st < 0)
		req_unlink(q);
	pthread_mutex_unlock(&W.lock);
	if (st == 0) {
		start(q);
		return;
	}
	done_fail(q, -st, st == -EBUSY ?
		  "too many handshakes of this user or peer, and the wait queue is full" :
		  "deadline passed while waiting for a slot");
	req_free(q);
}

/* ACCEPT while there is room; stop at ENOENT. */
static void fill(void)
{
	struct katls_agent_request kr;
	int ret;

	for (;;) {
		pthread_mutex_lock(&W.lock);
		if (W.busy >= W.cap) {
			W.missed = true;
			pthread_mutex_unlock(&W.lock);
			return;
		}
		pthread_mutex_unlock(&W.lock);
		pthread_mutex_lock(&W.nl_lock);
		ret = katls_agent_accept(&W.nl, &kr);
		pthread_mutex_unlock(&W.nl_lock);
		if (ret == -ENOENT) {
			W.missed = false;
			return;
		}
		if (ret) {
			kerr("ACCEPT: %s", strerror(-ret));
			/* Closing it fails nothing: the request is ours. */
			if (kr.fd >= 0)
				close(kr.fd);
			return;
		}
		admit(&kr);
	}
}

/* Stop requests stuck past their deadline (a quote that never returns). */
static int backstop(void)
{
	uint64_t now = mono_ms(), end;
	int timeout = -1;
	struct req *q;

	pthread_mutex_lock(&W.lock);
	for (q = W.reqs; q; q = q->next) {
		if (q->state != REQ_RUNNING || !q->deadline_ms || q->stopped)
			continue;
		end = q->deadline_ms + WORKER_GRACE_MS;
		if (end <= now) {
			kwarn("request %llu: stuck past its deadline, stopped by the backstop",
			      (unsigned long long)q->kr.id);
			/* Its monitor thread wakes up and fails it. */
			shutdown(q->ipc, SHUT_RDWR);
			shutdown(q->bc.fd, SHUT_RDWR);
			q->stopped = true;
		} else if (timeout < 0 || end - now < (uint64_t)timeout) {
			timeout = (int)(end - now);
		}
	}
	pthread_mutex_unlock(&W.lock);
	return timeout;
}

/* Fail the requests that have not started (the worker stops). */
static void drop_unstarted(void)
{
	struct req *q, **pp;

	pthread_mutex_lock(&W.lock);
	pp = &W.reqs;
	while ((q = *pp)) {
		if (q->state == REQ_RUNNING) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		if (q->state == REQ_ADMISSION)
			W.busy--;
		pthread_mutex_unlock(&W.lock);
		done_fail(q, EBUSY, "the worker stops");
		req_free(q);
		pthread_mutex_lock(&W.lock);
	}
	pthread_mutex_unlock(&W.lock);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

static pid_t fork_sandbox(struct katlsd_state *st)
{
	gnutls_pk_algorithm_t pk = GNUTLS_PK_UNKNOWN;
	struct katlsd_sandbox sb;
	unsigned int bits = 0;
	gnutls_privkey_t key;
	int sp[2];
	pid_t pid;

	key = server_key();
	if (key) {
		pk = gnutls_privkey_get_pk_algorithm(key, &bits);
		gnutls_privkey_deinit(key);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
		kerr("socketpair: %s", strerror(errno));
		return -1;
	}
	sb = st->sandbox;
	sb.parent = getpid();
	pid = fork();
	if (pid < 0) {
		kerr("fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		/* Not the sandbox's: netlink, the parent's line. */
		katls_agent_close(&W.nl);
		close(W.ctl);
		prctl(PR_SET_NAME, "katlsd-sandbox", 0, 0, 0);
		katlsd_sandbox_pool_main(st, sp[1], &sb, pk, bits);
	}
	close(sp[1]);
	W.sb = sp[0];
	return pid;
}

int katlsd_worker(struct katlsd_state *st, int ctl, unsigned int cap)
{
	struct katls_agent mc = { 0 };
	uint8_t buf[KATLSD_IPC_HDR_LEN + KATLSD_IPC_SLOT_REP_LEN];
	struct pollfd pfd[5];
	bool stopping = false;
	sigset_t mask;
	int sigfd, ret, status;

	W.st = st;
	W.ctl = ctl;
	W.cap = cap ? cap : 1;
	prctl(PR_SET_NAME, "katlsd-worker", 0, 0, 0);
	/* The parent goes: finish what runs, accept nothing new. */
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	W.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sigfd < 0 || W.wake < 0) {
		kerr("worker: %s", strerror(errno));
		return KATLSD_EXIT_NETLINK;
	}
	ret = katls_agent_connect(&W.nl);
	if (!ret)
		ret = katls_agent_listen(&mc);
	if (ret) {
		kerr("worker: netlink: %s", strerror(-ret));
		return KATLSD_EXIT_NETLINK;
	}
	W.sandbox = fork_sandbox(st);
	if (W.sandbox < 0)
		return KATLSD_EXIT_SANDBOX;
	kinfo("worker %d: up to %u handshakes at once, sandbox %d",
	      (int)getpid(), W.cap, (int)W.sandbox);

	/* Requests may be pending from before we started. */
	fill();
	for (;;) {
		int timeout = backstop(), n = 0;

		if (stopping) {
			pthread_mutex_lock(&W.lock);
			n = !W.reqs;
			pthread_mutex_unlock(&W.lock);
			if (n)
				break;
		}
		pfd[0] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = W.wake, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = W.sb, .events = POLLIN };
		pfd[3] = (struct pollfd){ .fd = stopping ? -1 : ctl,
					  .events = POLLIN };
		pfd[4] = (struct pollfd){ .fd = mc.sk ? katls_agent_fd(&mc) : -1,
					  .events = POLLIN };
		if (poll(pfd, 5, timeout) < 0) {
			if (errno == EINTR)
				continue;
			kerr("worker: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sigfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo == SIGTERM ||
				    si.ssi_signo == SIGINT)
					stopping = true;
		}
		if (pfd[2].revents) {
			/* The sandbox died: its requests' lines are closed. */
			kerr("worker %d: the sandbox %d went away; the worker ends and is replaced",
			     (int)getpid(), (int)W.sandbox);
			_exit(KATLSD_EXIT_SANDBOX);
		}
		if (pfd[1].revents & POLLIN) {
			uint64_t v;

			if (read(W.wake, &v, sizeof(v)) < 0)
				kdebug("wake: %s", strerror(errno));
			if (W.missed && !stopping)
				fill();
		}
		if (pfd[3].revents & POLLIN) {
			struct katlsd_ipc_msg m;
			uint64_t tag;
			int32_t st32;

			/* Everything the parent sent: it may wait for room. */
			do {
				ret = katlsd_ipc_recv(ctl, buf, sizeof(buf), &m);
				if (!ret)
					ret = katlsd_ipc_dec_slot_rep(&m, &tag,
								      &st32);
				if (!ret)
					admission(tag, st32);
				else if (ret != -EAGAIN)
					stopping = true;
			} while (!ret && readable(ctl));
			if (W.missed && !stopping)
				fill();
		} else if (pfd[3].revents) {
			stopping = true;	/* the parent is gone */
		}
		if (pfd[4].revents & (POLLIN | POLLERR)) {
			unsigned int ready = 0;

			ret = katls_agent_drain(&mc, &ready);
			if (ret && ret != -ENOBUFS) {
				kerr("worker: netlink: %s", strerror(-ret));
				stopping = true;
			} else if (!stopping) {
				/* An overrun lost READYs: fill() probes anyway. */
				fill();
			}
		}
		if (stopping && mc.sk) {
			knotice("worker %d: stopping, %u handshake(s) to finish",
				(int)getpid(), W.busy);
			katls_agent_close(&mc);
			drop_unstarted();
		}
	}
	/* The sandbox ends when its line closes and its threads are done. */
	close(W.sb);
	while (waitpid(W.sandbox, &status, 0) < 0 && errno == EINTR)
		;
	katls_agent_close(&W.nl);
	close(W.wake);
	close(sigfd);
	return KATLSD_EXIT_DONE;
}
