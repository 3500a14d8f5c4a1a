// SPDX-License-Identifier: GPL-2.0
/*
 * chaos - many attested katls connections with checksummed data while a
 * controller injects faults (issue 16 item 1).  Runs inside the 6.12
 * end-to-end guest (tests/e2e/chaos/chaos.sh) as root, with katls.ko and
 * the simulated TSM provider loaded; it starts katlsd itself so that it
 * can kill and restart it.
 *
 * Driver: --parallel client threads open connections to a listener of
 * this process on the loopback (IPv4 and IPv6), both ends opt in (client
 * and server role, policy sim-demo) and, once open, each end sends a
 * header (magic, connection id, length, SHA-256) and a pseudo-random
 * payload of random length that carries a plaintext marker every KiB,
 * ends it with close_notify and checks what it receives.  A seeded
 * share of the connections is reset by the client (SO_LINGER 0 close)
 * in the middle of the handshake or of the data.
 *
 * Controller: at random moments (exponential gaps, seeded PRNG) it
 * SIGKILLs one of katlsd's child processes (a worker or the quoter; with
 * a pool, a pool worker), SIGKILLs the katlsd parent and restarts it
 * after a random pause, restarts katlsd gracefully (SIGTERM), sets the
 * simulated provider's quote delay, and tries to unload katls.ko while a
 * socket of its own is opted in (must fail with EBUSY/EWOULDBLOCK).
 * katlsd is found only through its outside interfaces: its pid (we
 * start it) and /proc/PID/task/TID/children.  This process is a child
 * subreaper, so workers orphaned by a killed parent are reaped here.
 *
 * At the end (TAP): every connection either completed with every byte
 * intact or failed closed with a documented errno; no end that reached
 * OPEN on both sides without an injected reset lost a byte; the katls
 * gauges (/proc/net/katls_stat opted_in, pending, in_progress), the TCP
 * socket counts (/proc/net/sockstat, sockstat6) and the TCP slab caches
 * (/proc/slabinfo, after /sys/kernel/slab/NAME/shrink) are back to their
 * start values; every katlsd process exited; no descriptor leaked.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <katls/katls.h>
#include "tap.h"
#include "fds.h"

#define MARKER		"KATLS-CHAOS-PLAINTEXT-MARKER"
#define HDR_MAGIC	"KCHAOS01"
#define HDR_LEN		56		/* magic 8, id 8, length 8, sha256 32 */
#define DATA_TIMEOUT_S	60		/* SO_RCVTIMEO/SO_SNDTIMEO after OPEN */

/* ------------------------------------------------------------------ */
/* options */

static unsigned long long opt_seed;
static unsigned int opt_conns = 200;		/* at most this many */
static unsigned int opt_duration = 60;		/* s: no new connection after */
static unsigned int opt_parallel = 6;
static unsigned int opt_port = 9700;
static unsigned int opt_maxlen = 65536;
static unsigned int opt_fault_ms = 1500;	/* mean gap between faults */
static unsigned int opt_rst_pct = 8;		/* % of connections reset */
static unsigned int opt_timeout_ms = 20000;	/* kernel handshake timer */
static unsigned int opt_qdelay_max = 1000;	/* ms, simulated quote delay */
static const char *opt_katlsd, *opt_config, *opt_log;
static const char *opt_policy = "sim-demo";

static const char *qdelay_param =
	"/sys/module/katls_sim_tsm/parameters/delay_ms";

/* One "# " line, written with one call: threads print these. */
__attribute__((format(printf, 1, 2)))
static void diag(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# %s\n", line);
}

/* ------------------------------------------------------------------ */
/* PRNG: splitmix64, deterministic per seed and per connection */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return n ? splitmix(s) % n : 0;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* connection parameters and payloads */

/*
 * What the client does to a connection: nothing; reset it (SO_LINGER 0
 * close) or close it plainly at a random moment of the handshake; reset
 * it in the middle of its data.
 */
enum rst_kind { RST_NONE, RST_HANDSHAKE, CLOSE_HANDSHAKE, RST_DATA };

struct cparams {
	int family;
	size_t c2s, s2c;
	enum rst_kind rst;
	unsigned int rst_delay_ms;
	int gated;	/* submit without waiting, then block in the gate */
};

static struct cparams params(uint64_t id)
{
	uint64_t s = opt_seed ^ (id * 0xd1342543de82ef95ULL);
	struct cparams p;
	uint64_t r;

	p.family = rnd_below(&s, 5) ? AF_INET : AF_INET6;
	p.c2s = rnd_below(&s, opt_maxlen + 1);
	p.s2c = rnd_below(&s, opt_maxlen + 1);
	r = rnd_below(&s, 100);
	p.rst = r >= opt_rst_pct ? RST_NONE :
		r < opt_rst_pct / 3 ? CLOSE_HANDSHAKE :
		r < opt_rst_pct * 2 / 3 ? RST_HANDSHAKE : RST_DATA;
	p.rst_delay_ms = rnd_below(&s, 400);
	p.gated = rnd_below(&s, 4) == 0;
	return p;
}

/* The payload of connection @id in direction @dir (0: c2s, 1: s2c). */
static void payload(uint64_t id, int dir, unsigned char *buf, size_t len)
{
	uint64_t s = opt_seed ^ (id * 0x9e3779b97f4a7c15ULL) ^ (dir + 1ULL);
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t v = splitmix(&s);

		memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
	}
	for (i = 0; i + sizeof(MARKER) - 1 <= len; i += 1024)
		memcpy(buf + i, MARKER, sizeof(MARKER) - 1);
}

static void header(unsigned char *h, uint64_t id, const unsigned char *buf,
		   size_t len)
{
	uint64_t l = len;

	memcpy(h, HDR_MAGIC, 8);
	memcpy(h + 8, &id, 8);
	memcpy(h + 16, &l, 8);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, len, h + 24);
}

/* ------------------------------------------------------------------ */
/* one end's outcome */

enum { ST_NONE, ST_HS, ST_SEND, ST_RECV };

struct end {
	int open;		/* reached KATLS_STATE_OPEN */
	int err;		/* errno of the failure, 0 if none */
	int stage;		/* where it failed: ST_* */
	int complete;		/* received the whole payload, intact */
	int corrupt;		/* received something that is not what was sent */
	const char *why;	/* what was corrupt */
	uint64_t bytes;		/* payload bytes received and checked */
	int gated;		/* data calls made while the handshake ran */
};

/*
 * A gated end submitted its request without waiting and went straight to
 * its blocking data calls, which sleep in the katls gate until the
 * verdict.  Afterwards the kernel's result tells whether it opened; if
 * the handshake failed, the data call's errno was the handshake's status.
 */
static void gated_result(int fd, struct end *e)
{
	struct katls_result res;

	if (katls_result_get(fd, &res) == 0) {
		e->open = 1;
	} else if (res.state == KATLS_STATE_FAILED) {
		e->stage = ST_HS;
		e->err = res.status ? (int)res.status : ENOTRECOVERABLE;
	}
}

/*
 * The errnos a handshake may fail with under these faults, each
 * documented: ESRCH (no agent: katlsd down), ECONNABORTED (the agent
 * went away after ACCEPT), ETIMEDOUT (kernel timer, quote delays),
 * ECONNRESET and EPROTO (the peer failed or was reset), EIO (katlsd's
 * status when the quoter dies or katlsd stops while a server waits for
 * evidence, Documentation/katlsd.rst "Status codes"), EBUSY (configfs-tsm
 * busy), ENOTCONN (the opt-in of an end whose peer already reset the
 * connection, Documentation/userspace-api.rst "Opting in").  EACCES and
 * EKEYREJECTED are documented verdicts too, but the evidence here is
 * always valid: they are counted as documented and checked to be 0 by a
 * point of their own (chaos must never change a verdict).
 */
static int hs_errno_ok(int e)
{
	switch (e) {
	case ESRCH: case ETIMEDOUT: case ECONNABORTED: case ECONNRESET:
	case EPROTO: case EIO: case EBUSY: case ENOTCONN:
	case EACCES: case EKEYREJECTED:
		return 1;
	}
	return 0;
}

static int data_errno_ok(int e)
{
	switch (e) {
	case ECONNRESET: case ECONNABORTED: case EPROTO: case EPIPE:
		return 1;
	}
	return 0;
}

static void fail_end(struct end *e, int stage, int err)
{
	e->stage = stage;
	/* a failure without an errno is flagged (not a documented one) */
	e->err = err ? err : ENOTRECOVERABLE;
}

/* Read exactly @len bytes.  0, or -1 with errno; ENODATA: clean end
 * (close_notify) before @len. */
static int recv_exact(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = katls_recv(fd, buf + got, len - got, 0, NULL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENODATA;
			return -1;
		}
		got += n;
	}
	return 0;
}

/*
 * Receive one direction: header, payload, then the peer's close_notify.
 * @want_id: the id this end expects (UINT64_MAX: take it from the header,
 * server side).  Returns the id seen.
 */
static uint64_t receive(int fd, struct end *e, int dir, uint64_t want_id)
{
	unsigned char h[HDR_LEN], digest[32], tail[1];
	unsigned char *buf;
	uint64_t id, len;
	ssize_t n;

	if (recv_exact(fd, h, HDR_LEN)) {
		if (errno == ENODATA) {
			e->corrupt = 1;
			e->why = "close_notify before the header";
		}
		fail_end(e, ST_RECV, errno);
		return UINT64_MAX;
	}
	memcpy(&id, h + 8, 8);
	memcpy(&len, h + 16, 8);
	if (memcmp(h, HDR_MAGIC, 8) || len > opt_maxlen ||
	    (want_id != UINT64_MAX && id != want_id)) {
		e->corrupt = 1;
		e->why = "bad header (magic, length or connection id)";
		fail_end(e, ST_RECV, EBADMSG);
		return UINT64_MAX;
	}
	buf = malloc(len ? len : 1);
	if (!buf) {
		fail_end(e, ST_RECV, ENOMEM);
		return id;
	}
	if (recv_exact(fd, buf, len)) {
		if (errno == ENODATA) {
			e->corrupt = 1;
			e->why = "close_notify before the end of the payload";
		}
		fail_end(e, ST_RECV, errno);
		free(buf);
		return id;
	}
	gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, len, digest);
	if (memcmp(digest, h + 24, 32)) {
		e->corrupt = 1;
		e->why = "SHA-256 mismatch";
		fail_end(e, ST_RECV, EBADMSG);
		free(buf);
		return id;
	}
	{
		/* The payload must also be what the sender generates. */
		unsigned char *ref = malloc(len ? len : 1);

		if (ref) {
			payload(id, dir, ref, len);
			if (memcmp(ref, buf, len)) {
				e->corrupt = 1;
				e->why = "payload differs from the sender's";
			}
			free(ref);
		}
	}
	free(buf);
	if (e->corrupt) {
		fail_end(e, ST_RECV, EBADMSG);
		return id;
	}
	e->bytes += len;
	/* then the clean end of the stream */
	do
		n = katls_recv(fd, tail, sizeof(tail), 0, NULL);
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		if (n > 0) {
			e->corrupt = 1;
			e->why = "bytes after the payload";
			errno = EBADMSG;
		}
		fail_end(e, ST_RECV, errno);
		return id;
	}
	e->complete = 1;
	return id;
}

static int send_dir(int fd, struct end *e, uint64_t id, int dir, size_t len,
		    size_t cut)
{
	unsigned char h[HDR_LEN];
	unsigned char *buf = malloc(len ? len : 1);
	int rc = -1;

	if (!buf) {
		fail_end(e, ST_SEND, ENOMEM);
		return -1;
	}
	payload(id, dir, buf, len);
	header(h, id, buf, len);
	if (katls_send(fd, h, HDR_LEN, MSG_NOSIGNAL) != HDR_LEN ||
	    (len && katls_send(fd, buf, cut < len ? cut : len, MSG_NOSIGNAL) !=
	     (ssize_t)(cut < len ? cut : len)))
		fail_end(e, ST_SEND, errno);
	else if (cut < len)
		rc = 0;		/* the caller resets now */
	else if (katls_shutdown(fd, SHUT_WR))
		fail_end(e, ST_SEND, errno);
	else
		rc = 0;
	free(buf);
	return rc;
}

static void timeouts(int fd)
{
	struct timeval tv = { DATA_TIMEOUT_S, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void reset_close(int fd)
{
	struct linger l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static struct katls_options kopts(void)
{
	struct katls_options o = { 0 };

	o.policy = opt_policy;
	o.timeout_ms = opt_timeout_ms;
	return o;
}

/* ------------------------------------------------------------------ */
/* server side: records matched to client connections by (family, port) */

struct srec {
	struct srec *next;
	int family, port;
	int fd;
	int done, taken;
	double t_acc;		/* when accept4() returned it */
	struct end e;
};

static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t srv_cond = PTHREAD_COND_INITIALIZER;
static struct srec *srv_head, **srv_tail = &srv_head;
static atomic_int srv_running;
static atomic_int stop_accept;

static void *server_conn(void *arg)
{
	struct srec *r = arg;
	struct katls_options o = kopts();
	struct end *e = &r->e;
	uint64_t id;

	/* a quarter of the server ends read in the gate (by port, seeded) */
	e->gated = ((r->port * 2654435761ULL) ^ opt_seed) % 4 == 0;
	if (e->gated) {
		if (katls_attach_start(r->fd, KATLS_ROLE_SERVER, &o)) {
			fail_end(e, ST_HS, errno);
			goto out;
		}
	} else if (katls_attach(r->fd, KATLS_ROLE_SERVER, &o, NULL)) {
		fail_end(e, ST_HS, errno);
		goto out;
	} else {
		e->open = 1;
	}
	timeouts(r->fd);
	id = receive(r->fd, e, 0, UINT64_MAX);
	if (!e->complete)
		goto out;
	e->complete = 0;	/* complete only once both directions are */
	if (send_dir(r->fd, e, id, 1, params(id).s2c, SIZE_MAX))
		goto out;
	e->complete = 1;
out:
	if (e->gated && e->stage != ST_HS)
		gated_result(r->fd, e);
	close(r->fd);
	pthread_mutex_lock(&srv_lock);
	r->done = 1;
	pthread_cond_broadcast(&srv_cond);
	pthread_mutex_unlock(&srv_lock);
	atomic_fetch_sub(&srv_running, 1);
	return NULL;
}

static int listeners[2];

static void *acceptor(void *arg)
{
	struct pollfd p[2] = { { listeners[0], POLLIN, 0 },
			       { listeners[1], POLLIN, 0 } };

	while (!atomic_load(&stop_accept)) {
		if (poll(p, 2, 200) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			struct srec *r;
			pthread_t t;
			int fd;

			if (!(p[i].revents & POLLIN))
				continue;
			fd = accept4(listeners[i], (struct sockaddr *)&ss, &sl,
				     SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			r = calloc(1, sizeof(*r));
			if (!r) {
				close(fd);
				continue;
			}
			r->fd = fd;
			r->t_acc = now_s();
			r->family = ss.ss_family;
			r->port = ntohs(ss.ss_family == AF_INET ?
					((struct sockaddr_in *)&ss)->sin_port :
					((struct sockaddr_in6 *)&ss)->sin6_port);
			pthread_mutex_lock(&srv_lock);
			*srv_tail = r;
			srv_tail = &r->next;
			pthread_mutex_unlock(&srv_lock);
			atomic_fetch_add(&srv_running, 1);
			if (pthread_create(&t, NULL, server_conn, r)) {
				atomic_fetch_sub(&srv_running, 1);
				fail_end(&r->e, ST_HS, EAGAIN);
				close(fd);
				pthread_mutex_lock(&srv_lock);
				r->done = 1;
				pthread_cond_broadcast(&srv_cond);
				pthread_mutex_unlock(&srv_lock);
				continue;
			}
			pthread_detach(t);
		}
	}
	return NULL;
}

/* The oldest untaken server record of (family, port) accepted after
 * @t_conn (the client's connect), once it is done; NULL after @wait_s
 * seconds. */
static struct srec *take_server(int family, int port, double t_conn,
				int wait_s)
{
	struct timespec dl;
	struct srec *r = NULL;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += wait_s;
	pthread_mutex_lock(&srv_lock);
	for (;;) {
		for (r = srv_head; r; r = r->next)
			if (!r->taken && r->family == family &&
			    r->port == port && r->t_acc >= t_conn)
				break;
		if (r && r->done) {
			r->taken = 1;
			break;
		}
		if (pthread_cond_timedwait(&srv_cond, &srv_lock, &dl) == ETIMEDOUT) {
			r = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&srv_lock);
	return r;
}

/* ------------------------------------------------------------------ */
/* statistics */

static pthread_mutex_t st_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	unsigned int conns, completed, failed_closed, violations;
	unsigned int rst_hs, close_hs, rst_data, unmatched, connect_failed;
	unsigned int connect_other, gated, gated_complete;
	unsigned int v_corrupt, v_errno, v_lost;
	unsigned int ends_open;
	uint64_t bytes;
	unsigned int err_hist[160];	/* errno -> ends failed with it */
} st;

static atomic_uint next_id;
static double t_start, t_stop_new;

static void note_violation(uint64_t id, const char *what, const struct end *c,
			   const struct end *s)
{
	diag("VIOLATION conn %llu: %s (client open %d err %s stage %d%s%s; server open %d err %s stage %d%s%s)",
		 (unsigned long long)id, what,
		 c->open, strerrorname_np(c->err) ?: "0", c->stage,
		 c->why ? " " : "", c->why ?: "",
		 s ? s->open : -1, s ? strerrorname_np(s->err) ?: "0" : "?",
		 s ? s->stage : -1, s && s->why ? " " : "",
		 s && s->why ? s->why : "");
}

static void classify(uint64_t id, const struct cparams *p, const struct end *c,
		     const struct end *s)
{
	int bad = 0;

	pthread_mutex_lock(&st_lock);
	st.conns++;
	st.rst_hs += p->rst == RST_HANDSHAKE;
	st.close_hs += p->rst == CLOSE_HANDSHAKE;
	st.gated += c->gated + (s && s->gated);
	st.gated_complete += (c->gated && c->complete) +
			     (s && s->gated && s->complete);
	st.rst_data += p->rst == RST_DATA;
	st.ends_open += c->open + (s && s->open);
	st.bytes += c->bytes + (s ? s->bytes : 0);
	if (!s) {
		st.unmatched++;
		note_violation(id, "no server end found", c, s);
		bad = 1;
	} else {
		const struct end *ends[2] = { c, s };

		for (int i = 0; i < 2; i++) {
			const struct end *e = ends[i];

			if (e->corrupt) {
				st.v_corrupt++;
				note_violation(id, "data not intact", c, s);
				bad = 1;
			}
			if (e->err && !(e->stage == ST_HS ? hs_errno_ok(e->err) :
					data_errno_ok(e->err))) {
				st.v_errno++;
				note_violation(id, "undocumented errno", c, s);
				bad = 1;
			}
			if (e->err && e->err < 160)
				st.err_hist[e->err]++;
		}
		if (p->rst == RST_NONE && c->open && s->open &&
		    !(c->complete && s->complete) && !c->corrupt &&
		    !s->corrupt) {
			st.v_lost++;
			note_violation(id, "both ends open, no reset injected, transfer failed",
				       c, s);
			bad = 1;
		}
	}
	if (bad)
		st.violations++;
	else if (p->rst == RST_NONE && c->complete && s && s->complete)
		st.completed++;
	else
		st.failed_closed++;
	pthread_mutex_unlock(&st_lock);
}

static void run_conn(uint64_t id)
{
	struct cparams p = params(id);
	struct katls_options o = kopts();
	struct end c = { 0 };
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	struct srec *r;
	double t_conn = now_s();
	int fd, port;

	fd = socket(p.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (p.family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(opt_port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(opt_port);
		a->sin6_addr = in6addr_loopback;
		sl = sizeof(*a);
	}
	if (connect(fd, (struct sockaddr *)&ss, sl)) {
		/*
		 * ECONNRESET: the server end failed (e.g. ESRCH while katlsd
		 * is down) and reset the connection before this thread ran
		 * again.  Its record stays unmatched; the end of the run
		 * checks every unmatched server end.
		 */
		int err = errno;

		if (err != ECONNRESET)
			diag("conn %llu: connect: %s", (unsigned long long)id,
			     strerror(err));
		close(fd);
		pthread_mutex_lock(&st_lock);
		if (err == ECONNRESET)
			st.connect_failed++;
		else
			st.connect_other++;
		pthread_mutex_unlock(&st_lock);
		sleep_ms(100);
		return;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	port = ntohs(p.family == AF_INET ?
		     ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);

	if (p.rst == RST_HANDSHAKE || p.rst == CLOSE_HANDSHAKE) {
		if (katls_attach_start(fd, KATLS_ROLE_CLIENT, &o))
			fail_end(&c, ST_HS, errno);
		sleep_ms(p.rst_delay_ms);
		if (p.rst == RST_HANDSHAKE)
			reset_close(fd);
		else
			close(fd);
	} else if (p.gated && p.rst == RST_NONE) {
		c.gated = 1;
		if (katls_attach_start(fd, KATLS_ROLE_CLIENT, &o)) {
			fail_end(&c, ST_HS, errno);
		} else {
			timeouts(fd);
			if (!send_dir(fd, &c, id, 0, p.c2s, SIZE_MAX))
				receive(fd, &c, 1, id);
			gated_result(fd, &c);
		}
		close(fd);
	} else if (katls_attach(fd, KATLS_ROLE_CLIENT, &o, NULL)) {
		fail_end(&c, ST_HS, errno);
		close(fd);
	} else {
		c.open = 1;
		timeouts(fd);
		if (p.rst == RST_DATA) {
			send_dir(fd, &c, id, 0, p.c2s, p.c2s / 2);
			reset_close(fd);
		} else {
			if (!send_dir(fd, &c, id, 0, p.c2s, SIZE_MAX))
				receive(fd, &c, 1, id);
			close(fd);
		}
	}
	r = take_server(p.family, port, t_conn, 3 * opt_timeout_ms / 1000 +
			2 * DATA_TIMEOUT_S);
	classify(id, &p, &c, r ? &r->e : NULL);
	/* An application backs off before it tries again. */
	if (c.err == ESRCH)
		sleep_ms(200);
	else if (c.err)
		sleep_ms(20);
}

static void *client(void *arg)
{
	for (;;) {
		unsigned int id = atomic_fetch_add(&next_id, 1);

		if (id >= opt_conns || now_s() > t_stop_new)
			return NULL;
		run_conn(id);
	}
}

/* ------------------------------------------------------------------ */
/* katlsd: start, find its children, reap (we are a child subreaper) */

static pthread_mutex_t kd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t kd_cond = PTHREAD_COND_INITIALIZER;
static pid_t kd_pid;		/* current katlsd parent, 0 if none */
static int kd_exited;		/* kd_pid was reaped */
static atomic_int reaper_stop;
static atomic_uint reaped_other;	/* orphaned descendants reaped */

static void *reaper(void *arg)
{
	while (!atomic_load(&reaper_stop)) {
		int status;
		pid_t pid = waitpid(-1, &status, __WALL);

		if (pid < 0) {
			sleep_ms(50);
			continue;
		}
		pthread_mutex_lock(&kd_lock);
		if (pid == kd_pid) {
			kd_exited = 1;
			pthread_cond_broadcast(&kd_cond);
		} else {
			atomic_fetch_add(&reaped_other, 1);
		}
		pthread_mutex_unlock(&kd_lock);
	}
	return NULL;
}

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? 0 : sb.st_size;
}

/* "started" (not the quoter's) in @path after offset @off */
static int log_started(const char *path, off_t off)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int found = 0;

	if (!f)
		return 0;
	if (fseeko(f, off, SEEK_SET) == 0)
		while (!found && fgets(line, sizeof(line), f))
			found = strstr(line, "started") &&
				!strstr(line, "quoter");
	fclose(f);
	return found;
}

static int katlsd_start(void)
{
	off_t off = file_size(opt_log);
	pid_t pid;
	double t0;

	pthread_mutex_lock(&kd_lock);
	pid = fork();
	if (pid == 0) {
		int fd = open(opt_log, O_WRONLY | O_APPEND | O_CREAT, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(opt_katlsd, "katlsd", "--foreground", "--config",
		      opt_config, (char *)NULL);
		_exit(127);
	}
	if (pid > 0) {
		kd_pid = pid;
		kd_exited = 0;
	}
	pthread_mutex_unlock(&kd_lock);
	if (pid < 0)
		return -1;
	t0 = now_s();
	while (now_s() - t0 < 30) {
		if (log_started(opt_log, off))
			return 0;
		sleep_ms(50);
	}
	diag("katlsd %d did not log 'started' within 30 s", (int)pid);
	return -1;
}

/* Signal the katlsd parent and wait up to @wait_s for it to be reaped. */
static int katlsd_stop(int sig, int wait_s)
{
	struct timespec dl;
	int rc = 0;

	pthread_mutex_lock(&kd_lock);
	if (!kd_pid) {
		pthread_mutex_unlock(&kd_lock);
		return 0;
	}
	kill(kd_pid, sig);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += wait_s;
	while (!kd_exited)
		if (pthread_cond_timedwait(&kd_cond, &kd_lock, &dl) == ETIMEDOUT) {
			rc = -1;
			break;
		}
	if (!rc)
		kd_pid = 0;
	pthread_mutex_unlock(&kd_lock);
	return rc;
}

/* Children of @pid (all its threads), into @out (at most @max). */
/*
 * Without CONFIG_PROC_CHILDREN (the debug kernel of tools/debugk has no
 * /proc/PID/task/TID/children): every process whose parent is pid.
 */
static int children_by_ppid(pid_t pid, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		char path[300], buf[512], *p;
		int c = atoi(de->d_name), ppid;
		FILE *f;

		if (c <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", c);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		/* "pid (comm) state ppid ...": comm may hold spaces and ')' */
		if (!p || !(p = strrchr(buf, ')')) ||
		    sscanf(p + 1, " %*c %d", &ppid) != 1)
			continue;
		if (ppid == pid)
			out[n++] = c;
	}
	closedir(d);
	return n;
}

static int children(pid_t pid, pid_t *out, int max)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	if (access(path, F_OK) && errno == ENOENT)
		return children_by_ppid(pid, out, max);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		char cp[320];
		FILE *f;
		int c;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cp, sizeof(cp), "/proc/%d/task/%s/children", (int)pid,
			 de->d_name);
		f = fopen(cp, "re");
		if (!f)
			continue;
		while (n < max && fscanf(f, "%d", &c) == 1)
			out[n++] = c;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* controller */

enum fault {
	F_KILL_CHILD, F_KILL_GRANDCHILD, F_KILL_PARENT, F_RESTART,
	F_STOP_PARENT, F_QUOTE_DELAY, F_RMMOD, F_MAX
};
static const char *const fault_name[F_MAX] = {
	"kill-worker", "kill-worker-child", "kill-parent+restart",
	"restart(SIGTERM)", "stop-parent", "quote-delay", "rmmod-busy",
};
static const unsigned int fault_weight[F_MAX] = { 30, 10, 8, 4, 6, 20, 12 };
static unsigned int faults[F_MAX], kill_quoter, rmmod_refused,
	rmmod_wrong, restart_failed, kill_none;
static atomic_int ctl_stop;
static long long peak_tcp_alloc, peak_slab_tcp, peak_opted_in;
static long long stat_field(const char *path, const char *name);
static long long sockstat(const char *path, const char *proto, const char *key);
static long long slab_active(const char *name);

/* peaks during the run: the end-of-run checks had something to undo */
static void sample_peaks(void)
{
	long long v;

	v = sockstat("/proc/net/sockstat", "TCP", "alloc");
	if (v > peak_tcp_alloc)
		peak_tcp_alloc = v;
	v = slab_active("TCP");
	if (v > peak_slab_tcp)
		peak_slab_tcp = v;
	v = stat_field("/proc/net/katls_stat", "opted_in");
	if (v > peak_opted_in)
		peak_opted_in = v;
}

static int opted_in_socket(int *pair)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	pair[0] = pair[1] = -1;
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, l) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&a, &l))
		goto err;
	pair[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (pair[0] < 0 || connect(pair[0], (struct sockaddr *)&a, l))
		goto err;
	pair[1] = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (pair[1] < 0 || setsockopt(pair[0], SOL_TCP, TCP_ULP, KATLS_ULP_NAME,
				      sizeof(KATLS_ULP_NAME)))
		goto err;
	close(ls);
	return 0;
err:
	if (ls >= 0)
		close(ls);
	if (pair[0] >= 0)
		close(pair[0]);
	if (pair[1] >= 0)
		close(pair[1]);
	return -1;
}

static int set_qdelay(unsigned int ms)
{
	FILE *f = fopen(qdelay_param, "we");

	if (!f)
		return -1;
	fprintf(f, "%u\n", ms);
	return fclose(f);
}

/* Returns false only when a kill found no process to kill. */
static bool inject(enum fault f, uint64_t *s)
{
	pid_t kids[256];
	char comm[32];
	int n;

	switch (f) {
	case F_KILL_CHILD:
	case F_KILL_GRANDCHILD:
		pthread_mutex_lock(&kd_lock);
		n = kd_pid ? children(kd_pid, kids, 256) : 0;
		pthread_mutex_unlock(&kd_lock);
		if (f == F_KILL_GRANDCHILD && n) {
			pid_t w = kids[rnd_below(s, n)];

			n = children(w, kids, 256);
		}
		if (!n) {
			kill_none++;
			return false;
		}
		n = rnd_below(s, n);
		comm_of(kids[n], comm, sizeof(comm));
		if (kill(kids[n], SIGKILL))
			return true;
		if (strstr(comm, "quoter"))
			kill_quoter++;
		diag("fault %s: pid %d (%s)", fault_name[f], (int)kids[n],
			 comm);
		break;
	case F_KILL_PARENT:
	case F_RESTART: {
		unsigned int pause = rnd_below(s, 1000);
		double t0 = now_s();

		if (katlsd_stop(f == F_KILL_PARENT ? SIGKILL : SIGTERM, 60)) {
			diag("fault %s: katlsd did not exit", fault_name[f]);
			restart_failed++;
			return true;
		}
		sleep_ms(pause);
		if (katlsd_start())
			restart_failed++;
		diag("fault %s: katlsd down for %.0f ms (pause %u ms)",
		     fault_name[f], (now_s() - t0) * 1000, pause);
		break;
	}
	case F_STOP_PARENT: {
		/* the parent hangs: requests wait, notifications pile up */
		unsigned int ms = 500 + rnd_below(s, 4500);
		pid_t pid;

		pthread_mutex_lock(&kd_lock);
		pid = kd_pid;
		pthread_mutex_unlock(&kd_lock);
		if (!pid || kill(pid, SIGSTOP))
			return true;
		sleep_ms(ms);
		kill(pid, SIGCONT);
		diag("fault %s: katlsd stopped for %u ms", fault_name[f], ms);
		break;
	}
	case F_QUOTE_DELAY: {
		static const unsigned int d[] = { 0, 0, 20, 100, 300 };
		unsigned int ms = d[rnd_below(s, 5)];

		if (rnd_below(s, 4) == 0)
			ms = rnd_below(s, opt_qdelay_max + 1);
		if (set_qdelay(ms))
			return true;
		diag("fault %s: %u ms", fault_name[f], ms);
		break;
	}
	case F_RMMOD: {
		int pair[2], err;

		if (opted_in_socket(pair))
			return true;
		err = syscall(SYS_delete_module, "katls", O_NONBLOCK) ? errno : 0;
		if (err == EBUSY || err == EWOULDBLOCK)
			rmmod_refused++;
		else
			rmmod_wrong++;
		if (!err)
			diag("fault rmmod-busy: katls.ko WAS REMOVED while a socket used it");
		close(pair[0]);
		close(pair[1]);
		break;
	}
	default:
		return true;
	}
	faults[f]++;
	return true;
}

static void *controller(void *arg)
{
	uint64_t s = opt_seed ^ 0x5bd1e995ULL;
	unsigned int total = 0, order[F_MAX], n = 0, retries = 0;
	bool first;

	/* every kind once first, in a seeded order, then at random */
	for (unsigned int i = 0; i < F_MAX; i++)
		order[i] = i;
	for (unsigned int i = F_MAX - 1; i > 0; i--) {
		unsigned int j = rnd_below(&s, i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	/*
	 * The kinds the run must show (a worker killed, the parent killed
	 * or restarted) first: on a slow kernel (the debug tier) a short
	 * run has time for only five or six faults.
	 */
	for (unsigned int i = 0, k = 0; i < F_MAX && k < 2; i++) {
		bool kill = order[i] == F_KILL_CHILD ||
			    order[i] == F_KILL_GRANDCHILD;
		bool parent = order[i] == F_KILL_PARENT ||
			      order[i] == F_RESTART;

		if ((k == 0 && kill) || (k == 1 && parent)) {
			unsigned int t = order[k];

			order[k] = order[i];
			order[i] = t;
			k++;
			i = k - 1;
		}
	}

	for (unsigned int i = 0; i < F_MAX; i++)
		total += fault_weight[i];
	while (!atomic_load(&ctl_stop)) {
		/* exponential gap with mean opt_fault_ms, in 50-ms steps */
		double u = (splitmix(&s) >> 11) * (1.0 / 9007199254740992.0);
		double gap = -(double)opt_fault_ms * log(1.0 - u);
		unsigned int r, f;

		for (double w = 0; w < gap && !atomic_load(&ctl_stop); w += 50)
			sleep_ms(50);
		if (atomic_load(&ctl_stop))
			break;
		r = rnd_below(&s, total);
		for (f = 0; r >= fault_weight[f]; f++)
			r -= fault_weight[f];
		first = n < F_MAX;
		if (first)
			f = order[n];
		sample_peaks();
		/*
		 * Every kind once first: a kill that found no process (katlsd
		 * down, or a slow kernel between workers) is tried again at the
		 * next fault, up to 5 times.
		 */
		if (!inject(f, &s) && first && ++retries < 5)
			continue;
		if (first) {
			n++;
			retries = 0;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* kernel counters */

struct kcount {
	long long opted_in, pending, in_progress;
	long long requested, verified, rejected, timed_out, agent_lost,
		  no_agent, closed, handover_failed;
	long long tcp_inuse, tcp_alloc, tcp6_inuse;
	long long slab_tcp, slab_tcp6;
};

static long long stat_field(const char *path, const char *name)
{
	FILE *f = fopen(path, "re");
	char line[256], key[64];
	long long v, r = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lld", key, &v) == 2 && !strcmp(key, name))
			r = v;
	fclose(f);
	return r;
}

/* "PROTO: key v key v ..." of /proc/net/sockstat{,6} */
static long long sockstat(const char *path, const char *proto, const char *key)
{
	FILE *f = fopen(path, "re");
	char line[512];
	long long r = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save;

		if (strncmp(line, proto, strlen(proto)) ||
		    line[strlen(proto)] != ':')
			continue;
		strtok_r(line, " \n", &save);
		while ((tok = strtok_r(NULL, " \n", &save))) {
			char *val = strtok_r(NULL, " \n", &save);

			if (val && !strcmp(tok, key))
				r = atoll(val);
		}
	}
	fclose(f);
	return r;
}

/* active objects of slab cache @name, after asking SLUB to flush its
 * per-CPU slabs (so that the count is exact) */
static long long slab_active(const char *name)
{
	char path[128], line[512], n[64];
	long long act, r = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", name);
	f = fopen(path, "we");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	f = fopen("/proc/slabinfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lld", n, &act) == 2 && !strcmp(n, name))
			r = act;
	fclose(f);
	return r;
}

static void kcount_read(struct kcount *k)
{
	static const char *ks = "/proc/net/katls_stat";

	k->opted_in = stat_field(ks, "opted_in");
	k->pending = stat_field(ks, "pending");
	k->in_progress = stat_field(ks, "in_progress");
	k->requested = stat_field(ks, "requested");
	k->verified = stat_field(ks, "verified");
	k->rejected = stat_field(ks, "rejected");
	k->timed_out = stat_field(ks, "timed_out");
	k->agent_lost = stat_field(ks, "agent_lost");
	k->no_agent = stat_field(ks, "no_agent");
	k->closed = stat_field(ks, "closed");
	k->handover_failed = stat_field(ks, "handover_failed");
	k->tcp_inuse = sockstat("/proc/net/sockstat", "TCP", "inuse");
	k->tcp_alloc = sockstat("/proc/net/sockstat", "TCP", "alloc");
	k->tcp6_inuse = sockstat("/proc/net/sockstat6", "TCP6", "inuse");
	k->slab_tcp = slab_active("TCP");
	k->slab_tcp6 = slab_active("TCPv6");
}

static int gauges_back(const struct kcount *a, const struct kcount *b)
{
	return b->opted_in == a->opted_in && b->pending == a->pending &&
	       b->in_progress == a->in_progress;
}

static int sockets_back(const struct kcount *a, const struct kcount *b)
{
	return b->tcp_inuse <= a->tcp_inuse && b->tcp_alloc <= a->tcp_alloc &&
	       b->tcp6_inuse <= a->tcp6_inuse;
}

static int slabs_back(const struct kcount *a, const struct kcount *b)
{
	return b->slab_tcp <= a->slab_tcp && b->slab_tcp6 <= a->slab_tcp6;
}

/* ------------------------------------------------------------------ */

static int listen_on(int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(opt_port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(opt_port);
		a->sin6_addr = in6addr_loopback;
		sl = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 1024)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: chaos --katlsd PATH --config FILE --log FILE [--seed N]\n"
		"             [--conns N] [--duration S] [--parallel N] [--port P]\n"
		"             [--maxlen BYTES] [--fault-ms MEAN] [--rst-pct N]\n"
		"             [--timeout-ms MS] [--qdelay-max MS] [--policy NAME]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	opt_seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--seed"))
			opt_seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--conns"))
			opt_conns = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--duration"))
			opt_duration = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--parallel"))
			opt_parallel = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--port"))
			opt_port = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--maxlen"))
			opt_maxlen = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--fault-ms"))
			opt_fault_ms = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--rst-pct"))
			opt_rst_pct = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--timeout-ms"))
			opt_timeout_ms = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--qdelay-max"))
			opt_qdelay_max = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--policy"))
			opt_policy = v;
		else if (!strcmp(a, "--katlsd"))
			opt_katlsd = v;
		else if (!strcmp(a, "--config"))
			opt_config = v;
		else if (!strcmp(a, "--log"))
			opt_log = v;
		else
			usage();
	}
	if (!opt_katlsd || !opt_config || !opt_log || !opt_parallel ||
	    opt_parallel > 256 || opt_rst_pct > 100 || !opt_port ||
	    opt_port > 65535)
		usage();
}

static void wait_settled(const struct kcount *k0, struct kcount *k1,
			 int (*ok)(const struct kcount *, const struct kcount *),
			 int secs)
{
	double t0 = now_s();

	for (;;) {
		kcount_read(k1);
		if (ok(k0, k1) || now_s() - t0 > secs)
			return;
		sleep_ms(250);
	}
}

int main(int argc, char **argv)
{
	pthread_t ctl, acc, rep, cl[256];
	struct kcount k0, k1;
	int fds0, left, started, leaks = 0;
	double t_end;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_plan_lazy();
	diag("chaos: seed %llu (rerun with --seed %llu)", opt_seed, opt_seed);
	diag("chaos: up to %u connections in %u s, %u in parallel, payloads 0..%u bytes each way, %u%% reset by the client, a fault every %u ms on average",
		 opt_conns, opt_duration, opt_parallel, opt_maxlen, opt_rst_pct,
		 opt_fault_ms);

	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		tap_ok(0, "chaos: PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
		return tap_done();
	}
	set_qdelay(0);
	kcount_read(&k0);
	diag("start: opted_in %lld pending %lld in_progress %lld; TCP inuse %lld alloc %lld, TCP6 inuse %lld; slab TCP %lld TCPv6 %lld",
		 k0.opted_in, k0.pending, k0.in_progress, k0.tcp_inuse,
		 k0.tcp_alloc, k0.tcp6_inuse, k0.slab_tcp, k0.slab_tcp6);
	if (k0.opted_in < 0 || k0.slab_tcp < 0) {
		tap_ok(0, "chaos: /proc/net/katls_stat and /proc/slabinfo readable");
		return tap_done();
	}
	fds0 = count_fds();

	pthread_create(&rep, NULL, reaper, NULL);
	started = !katlsd_start();
	tap_ok(started, "chaos: katlsd started");
	if (!started)
		goto stop_reaper;
	listeners[0] = listen_on(AF_INET);
	listeners[1] = listen_on(AF_INET6);
	if (!tap_ok(listeners[0] >= 0 && listeners[1] >= 0,
		    "chaos: listening on 127.0.0.1 and ::1 port %u", opt_port))
		goto stop_katlsd;

	t_start = now_s();
	t_stop_new = t_start + opt_duration;
	pthread_create(&acc, NULL, acceptor, NULL);
	pthread_create(&ctl, NULL, controller, NULL);
	for (unsigned int i = 0; i < opt_parallel; i++)
		pthread_create(&cl[i], NULL, client, NULL);
	for (unsigned int i = 0; i < opt_parallel; i++)
		pthread_join(cl[i], NULL);
	t_end = now_s();
	atomic_store(&ctl_stop, 1);
	pthread_join(ctl, NULL);
	/* every server thread ended (each is bounded by the timers) */
	for (int i = 0; i < 1200 && atomic_load(&srv_running); i++)
		sleep_ms(100);
	atomic_store(&stop_accept, 1);
	pthread_join(acc, NULL);
	close(listeners[0]);
	close(listeners[1]);
	set_qdelay(0);

	{
		/* server ends no client took: their client's connect() saw
		 * the reset; each must have failed closed */
		unsigned int left_ok = 0, left_bad = 0;

		for (struct srec *r = srv_head; r; r = r->next) {
			if (r->taken)
				continue;
			if (r->done && !r->e.open && r->e.err &&
			    hs_errno_ok(r->e.err)) {
				left_ok++;
				if (r->e.err < 160)
					st.err_hist[r->e.err]++;
			} else {
				left_bad++;
				diag("VIOLATION: unmatched server end port %d: done %d open %d err %s",
				     r->port, r->done, r->e.open,
				     strerrorname_np(r->e.err) ?: "0");
			}
		}
		tap_ok(left_bad == 0 && left_ok <= st.connect_failed &&
		       !st.connect_other,
		       "chaos: %u server ends whose client's connect() saw the reset all failed closed (%u connects reset, %u other server ends, %u connects failed otherwise)",
		       left_ok, st.connect_failed, left_bad, st.connect_other);
	}
	diag("chaos: %u connections in %.1f s (%u ends reached OPEN), %llu payload bytes checked; %u TCP connects failed before any opt-in",
		 st.conns, t_end - t_start, st.ends_open,
		 (unsigned long long)st.bytes, st.connect_failed);
	diag("outcomes: %u completed intact, %u failed closed (client: %u reset and %u closed in the handshake, %u reset in the data), %u violations; %u ends did their I/O in the gate, %u of them completed",
		 st.completed, st.failed_closed, st.rst_hs, st.close_hs,
		 st.rst_data, st.violations, st.gated, st.gated_complete);
	for (int e = 1; e < 160; e++)
		if (st.err_hist[e])
			diag("errno %s: %u ends", strerrorname_np(e),
				 st.err_hist[e]);
	{
		unsigned int nf = 0;

		for (int f = 0; f < F_MAX; f++) {
			diag("faults %s: %u", fault_name[f], faults[f]);
			nf += faults[f];
		}
		diag("faults: %u in all (%u kills hit the quoter; %u times no child to kill; %u orphans reaped)",
			 nf, kill_quoter, kill_none, atomic_load(&reaped_other));
		tap_ok(nf > 0 && faults[F_KILL_CHILD] + faults[F_KILL_GRANDCHILD] > 0 &&
		       faults[F_KILL_PARENT] + faults[F_RESTART] > 0,
		       "chaos: faults injected: %u (workers killed %u, parent killed or restarted %u, quote delays %u, rmmod tries %u)",
		       nf, faults[F_KILL_CHILD] + faults[F_KILL_GRANDCHILD],
		       faults[F_KILL_PARENT] + faults[F_RESTART],
		       faults[F_QUOTE_DELAY], faults[F_RMMOD]);
	}
	tap_ok(st.conns > 0 && st.completed > 0,
	       "chaos: %u connections run, %u completed with every byte intact",
	       st.conns, st.completed);
	tap_ok(st.violations == 0,
	       "chaos: every connection completed intact or failed closed with a documented errno (%u violations: %u data not intact, %u undocumented errno, %u lost after both ends opened, %u unmatched)",
	       st.violations, st.v_corrupt, st.v_errno, st.v_lost, st.unmatched);
	tap_ok(st.err_hist[EACCES] + st.err_hist[EKEYREJECTED] == 0,
	       "chaos: no valid evidence rejected under faults (EACCES %u, EKEYREJECTED %u)",
	       st.err_hist[EACCES], st.err_hist[EKEYREJECTED]);
	tap_ok(st.v_lost == 0,
	       "chaos: no byte lost after the verdict on %u connections open at both ends",
	       st.completed + st.v_lost);
	tap_ok(rmmod_wrong == 0 && faults[F_RMMOD] == rmmod_refused,
	       "chaos: rmmod while busy refused with EBUSY/EWOULDBLOCK %u of %u times",
	       rmmod_refused, faults[F_RMMOD]);
	tap_ok(restart_failed == 0, "chaos: katlsd restarted every time (%u failures)",
	       restart_failed);

stop_katlsd:
	tap_ok(katlsd_stop(SIGTERM, 60) == 0, "chaos: katlsd stops on SIGTERM");
stop_reaper:
	/* every katlsd process, orphans of killed parents included, exits */
	left = 0;
	for (int i = 0; i < 300; i++) {
		pid_t kids[64];

		left = children(getpid(), kids, 64);
		if (!left)
			break;
		sleep_ms(100);
	}
	leaks += !tap_ok(left == 0, "chaos: no katlsd process left (%d)", left);
	atomic_store(&reaper_stop, 1);
	pthread_join(rep, NULL);

	wait_settled(&k0, &k1, gauges_back, 30);
	diag("peaks during the run: TCP alloc %lld, slab TCP %lld, opted_in %lld",
	     peak_tcp_alloc, peak_slab_tcp, peak_opted_in);
	leaks += !tap_ok(gauges_back(&k0, &k1),
			 "chaos: katls_stat opted_in/pending/in_progress back to %lld/%lld/%lld (now %lld/%lld/%lld)",
			 k0.opted_in, k0.pending, k0.in_progress, k1.opted_in,
			 k1.pending, k1.in_progress);
	wait_settled(&k0, &k1, sockets_back, 60);
	leaks += !tap_ok(sockets_back(&k0, &k1),
			 "chaos: TCP sockets back to the start (inuse %lld -> %lld, alloc %lld -> %lld, TCP6 inuse %lld -> %lld)",
			 k0.tcp_inuse, k1.tcp_inuse, k0.tcp_alloc, k1.tcp_alloc,
			 k0.tcp6_inuse, k1.tcp6_inuse);
	wait_settled(&k0, &k1, slabs_back, 30);
	leaks += !tap_ok(slabs_back(&k0, &k1),
			 "chaos: slab TCP and TCPv6 back to the start (%lld -> %lld, %lld -> %lld)",
			 k0.slab_tcp, k1.slab_tcp, k0.slab_tcp6, k1.slab_tcp6);
	diag("katls_stat deltas: requested %lld verified %lld rejected %lld timed_out %lld agent_lost %lld no_agent %lld closed %lld handover_failed %lld",
		 k1.requested - k0.requested, k1.verified - k0.verified,
		 k1.rejected - k0.rejected, k1.timed_out - k0.timed_out,
		 k1.agent_lost - k0.agent_lost, k1.no_agent - k0.no_agent,
		 k1.closed - k0.closed, k1.handover_failed - k0.handover_failed);
	tap_ok(k1.verified - k0.verified >= st.ends_open,
	       "chaos: the kernel verified at least the %u ends the driver saw OPEN (%lld)",
	       st.ends_open, k1.verified - k0.verified);
	leaks += !tap_ok(count_fds() == fds0, "chaos: no descriptor leaked (%d -> %d)",
			 fds0, count_fds());
	printf("# chaos-figures: seed=%llu connections=%u completed=%u failed_closed=%u connect_reset=%u violations=%u bytes=%llu",
	       opt_seed, st.conns + st.connect_failed, st.completed,
	       st.failed_closed, st.connect_failed, st.violations,
	       (unsigned long long)st.bytes);
	for (int f = 0; f < F_MAX; f++)
		printf(" %s=%u", fault_name[f], faults[f]);
	printf(" client-rst-handshake=%u client-close-handshake=%u client-rst-data=%u gated-ends=%u leaks=%d\n",
	       st.rst_hs, st.close_hs, st.rst_data, st.gated, leaks);
	{
		/* free the server records */
		struct srec *r = srv_head, *n;

		for (; r; r = n) {
			n = r->next;
			free(r);
		}
	}
	return tap_done();
}
