// SPDX-License-Identifier: GPL-2.0
/*
 * keyupdate_age - the maximum connection age (issue 14 item 7): a DONE
 * with KATLS_A_MAX_AGE_MS (katlsd sends the policy's max_connection_age)
 * makes katls.ko expire the socket that long after the verdict.  Then:
 * every data call fails with EKEYEXPIRED (a blocked reader wakes with
 * it), poll() reports EPOLLERR | EPOLLHUP, KATLS_RESULT says "expired"
 * with status EKEYEXPIRED, the peer sees a reset, /proc/net/katls_stat
 * counts "expired".  A socket without an age stays open; a socket closed
 * before its age does not expire later, even while TCP still holds it.
 * Runs on 6.12 and 6.1 (the module's own timer and gate: no kTLS rekey
 * needed).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/wait.h>

#include "katls_test.h"

static struct agent lis;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An OPEN katls client a with a plain kTLS peer b; the verdict's time. */
static bool open_pair(uint32_t max_age_ms, int *a, int *b, long long *t0)
{
	int err, st = -1;
	pid_t pid;

	tcp_pair(AF_INET, a, b);
	if (opt_in(*a) || ktls_peer(*b, true))
		die("opt_in/ktls_peer");
	pid = agent_spawn_done_age(KATLS_ROLE_CLIENT, max_age_ms);
	err = request(*a, KATLS_ROLE_CLIENT, "age", 10000);
	*t0 = now_ms();
	waitpid(pid, &st, 0);
	if (err || result(*a).state != KATLS_STATE_OPEN) {
		tap_diag("request %d, agent %d, state %u", err,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			 result(*a).state);
		return false;
	}
	return true;
}

struct reader {
	int fd;
	ssize_t n;
	int err;
	long long t;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	char buf[64];

	r->n = recv(r->fd, buf, sizeof(buf), 0);
	r->err = r->n < 0 ? errno : 0;
	r->t = now_ms();
	return NULL;
}

static void expires(void)
{
	/* Long enough for a slow guest to move data before it. */
	const uint32_t age = 2500;
	long long exp0 = katls_stat("expired"), t0, t_req = now_ms();
	struct katls_result res;
	struct reader rd;
	struct pollfd p;
	pthread_t t;
	char buf[64];
	int a, b, fd;
	ssize_t n;

	if (!tap_ok(open_pair(age, &a, &b, &t0),
		    "age %u ms: the socket opens", age))
		return;
	/* Before the deadline the data path is kTLS's, both ways. */
	tap_ok(send(a, "early", 5, 0) == 5 && drain(b, buf, sizeof(buf), 3000) == 5 &&
	       !memcmp(buf, "early", 5) && send(b, "back", 4, 0) == 4 &&
	       drain(a, buf, sizeof(buf), 3000) == 4,
	       "before the deadline: data both ways");
	/* A reader asleep inside kTLS when the age passes. */
	rd = (struct reader){ .fd = a };
	pthread_create(&t, NULL, reader_fn, &rd);
	pthread_join(t, NULL);
	tap_ok(rd.n < 0 && rd.err == EKEYEXPIRED,
	       "a blocked recv() wakes with EKEYEXPIRED (%zd, %s)", rd.n,
	       strerror(rd.err));
	/* t_req is before the verdict, t0 after it. */
	tap_ok(rd.t - t_req >= age && rd.t - t0 < age + 5000,
	       "... at the deadline (%lld to %lld ms after the verdict, age %u)",
	       rd.t - t0, rd.t - t_req, age);
	res = result(a);
	tap_ok(res.state == KATLS_STATE_EXPIRED && res.status == EKEYEXPIRED &&
	       res.evidence_type == KATLS_EVIDENCE_SIM,
	       "KATLS_RESULT: state expired, status EKEYEXPIRED, summary kept (%u, %u)",
	       res.state, res.status);
	n = send(a, "late", 4, MSG_DONTWAIT);
	tap_ok(n < 0 && errno == EKEYEXPIRED, "send() after: EKEYEXPIRED (%s)",
	       n < 0 ? strerror(errno) : "sent");
	n = recv(a, buf, sizeof(buf), MSG_DONTWAIT);
	tap_ok(n < 0 && errno == EKEYEXPIRED, "recv() after: EKEYEXPIRED (%s)",
	       n < 0 ? strerror(errno) : "data");
	n = recv(a, buf, sizeof(buf), MSG_DONTWAIT);
	tap_ok(n < 0 && errno == EKEYEXPIRED, "... every time (%s)",
	       n < 0 ? strerror(errno) : "data");
	fd = open("/proc/self/exe", O_RDONLY);
	n = fd < 0 ? -2 : sendfile(a, fd, NULL, 100);
	tap_ok(n < 0 && errno == EKEYEXPIRED, "sendfile() after: EKEYEXPIRED (%s)",
	       n < 0 ? strerror(errno) : "sent");
	if (fd >= 0)
		close(fd);
	p = (struct pollfd){ .fd = a, .events = POLLIN | POLLOUT };
	n = poll(&p, 1, 0);
	tap_ok(n == 1 && (p.revents & POLLERR) &&
	       (p.revents & POLLHUP), "poll(): EPOLLERR | EPOLLHUP (0x%x)",
	       p.revents);
	n = drain(b, buf, sizeof(buf), 3000);
	tap_ok(n == -ECONNRESET, "the peer sees a reset (%s)",
	       n < 0 ? strerror((int)-n) : "no error");
	tap_ok(katls_stat("expired") == exp0 + 1, "counted: expired %lld -> %lld",
	       exp0, katls_stat("expired"));
	n = request(a, KATLS_ROLE_CLIENT, "age", 1000);
	tap_ok(n == EKEYEXPIRED, "a new request on it: EKEYEXPIRED (%s)",
	       strerror((int)n));
	close(a);
	close(b);
}

/* Control: no age, no expiry (the test above can fail). */
static void no_age(void)
{
	long long exp0 = katls_stat("expired"), t0;
	char buf[16];
	int a, b;

	if (!tap_ok(open_pair(0, &a, &b, &t0), "no age: the socket opens"))
		return;
	msleep(900);
	tap_ok(result(a).state == KATLS_STATE_OPEN &&
	       send(a, "x", 1, 0) == 1 && drain(b, buf, sizeof(buf), 3000) == 1,
	       "no age: still open and sending after 900 ms");
	tap_ok(katls_stat("expired") == exp0, "no age: nothing counted");
	close(a);
	close(b);
}

/*
 * The close must come before the age, and on a loaded host a guest can
 * take longer than that from the verdict to the close.  Each case below
 * times its close from before the request (an upper bound on its
 * distance from the verdict); an attempt that closed too late for the
 * question to be asked returns false, and is repeated with a longer age.
 * The last attempt always asks (and fails if it was late).
 */
static void with_longer_ages(bool (*once)(uint32_t age, bool last))
{
	static const uint32_t ages[] = { 2000, 8000, 30000 };
	unsigned int i;

	for (i = 0; i < 3 && !once(ages[i], i == 2); i++)
		;
}

/* Too late to ask: say so, let the age pass, close the peer. */
static bool too_late(const char *what, long long t_start, long long t_close,
		     uint32_t age, int b)
{
	tap_diag("%s: closed %lld ms after the request, not before its age %u: again with a longer age",
		 what, t_close - t_start, age);
	close(b);
	msleep((int)(t_start + age + 500 - now_ms()));
	return false;
}

/* A socket closed before its age: close() cancels the expiry. */
static bool closed_first_once(uint32_t age, bool last)
{
	long long exp0 = katls_stat("expired"), t_start, t_close, t0;
	int a, b;

	t_start = now_ms();
	if (!open_pair(age, &a, &b, &t0)) {
		tap_ok(0, "closed first: the socket opens (age %u ms)", age);
		tap_ok(0, "closed before its age: not asked");
		return true;
	}
	close(a);
	t_close = now_ms();
	if (t_close - t_start >= age && !last)
		return too_late("closed first", t_start, t_close, age, b);
	tap_ok(1, "closed first: the socket opens (age %u ms)", age);
	msleep((int)(t_start + age + 500 - t_close));
	tap_ok(t_close - t_start < age && katls_stat("expired") == exp0,
	       "closed before its age: no expiry afterwards (closed %lld ms after the request, age %u)",
	       t_close - t_start, age);
	close(b);
	return true;
}

/*
 * Closed with data still queued for a peer that is not reading: TCP
 * keeps the orphaned socket (FIN_WAIT1, zero window) past the age.  The
 * close came first, so nothing expires: the peer reads every byte and
 * then a clean end, not a reset.
 */
static bool in_flight_once(uint32_t age, bool last)
{
	long long exp0 = katls_stat("expired"), t_start, t_close, t0;
	size_t sent = 0, got = 0, bad = 0;
	unsigned char buf[16384];
	struct pollfd p;
	ssize_t n = 0;
	size_t i;
	int a, b;

	t_start = now_ms();
	if (!open_pair(age, &a, &b, &t0)) {
		tap_ok(0, "in flight: the socket opens (age %u ms)", age);
		return true;
	}
	for (;;) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (unsigned char)((sent + i) * 131 >> 3);
		n = send(a, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	close(a);
	t_close = now_ms();
	if (t_close - t_start >= age && !last)
		return too_late("in flight", t_start, t_close, age, b);
	tap_ok(1, "in flight: the socket opens (age %u ms)", age);
	tap_ok(n < 0 && errno == EAGAIN && sent > 0,
	       "in flight: %zu bytes queued until the peer's window closed", sent);
	msleep((int)(t_start + age + 500 - t_close));
	tap_ok(t_close - t_start < age && katls_stat("expired") == exp0,
	       "in flight: closed %lld ms after the request (age %u), no expiry",
	       t_close - t_start, age);
	p = (struct pollfd){ .fd = b, .events = POLLIN };
	for (;;) {
		if (poll(&p, 1, 5000) <= 0) {
			n = -ETIMEDOUT;
			break;
		}
		n = recv(b, buf, sizeof(buf), 0);
		if (n <= 0) {
			n = n < 0 ? -errno : 0;
			break;
		}
		for (i = 0; i < (size_t)n; i++)
			bad += buf[i] != (unsigned char)((got + i) * 131 >> 3);
		got += (size_t)n;
	}
	/*
	 * kTLS's own close frees a record that send() accepted but could
	 * not yet hand to TCP (tls_sw_release_resources_tx()), on plain
	 * kTLS too: with MSG_DONTWAIT that is at most the last send's one
	 * record (seen once on the debug kernel).  Everything before it
	 * arrives, intact, and the end is a FIN, not a reset.
	 */
	tap_ok(n == 0 && !bad && got <= sent && got + sizeof(buf) >= sent,
	       "in flight: the peer reads %zu of the %zu bytes (all but kTLS's last unpushed record at most, %zu wrong), then a clean end (%s)",
	       got, sent, bad, n < 0 ? strerror((int)-n) : "eof");
	close(b);
	return true;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	tap_plan(22);
	if (katls_stat("expired") < 0) {
		tap_ok(0, "\"expired\" counter in /proc/net/katls_stat");
		return tap_done();
	}
	if (agent_open(&lis, true))
		die("agent_open");
	expires();
	no_age();
	with_longer_ages(closed_first_once);
	with_longer_ages(in_flight_once);
	agent_close(&lis);
	return tap_done();
}
