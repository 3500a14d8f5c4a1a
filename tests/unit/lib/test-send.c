// SPDX-License-Identifier: GPL-2.0
/*
 * test-send.c - katls_send() against a scripted send(2).  The test links
 * with -Wl,--wrap=send: every call is recorded (offset into the buffer,
 * length, flags) and answered from a script (accept n bytes, or fail
 * with an errno), so the piece sizes, the handling of short writes,
 * EINTR and EAGAIN are checked exactly.  The same helper on real
 * loopback sockets: test-socket.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include <katls/katls.h>
#include "tap.h"

ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags);

#define MAX_CALLS 256

/* One scripted answer: take at most @max bytes, or fail with @err. */
struct step {
	size_t max;		/* 0: take all that is offered */
	int err;
	bool zero;		/* return 0 (take nothing) */
};

static struct {
	const char *base;	/* the buffer given to katls_send() */
	const struct step *script;
	int nscript;
	int calls;
	size_t off[MAX_CALLS], len[MAX_CALLS];
	int flags[MAX_CALLS], fd[MAX_CALLS];
	size_t taken;		/* bytes accepted in total */
	bool contiguous;	/* every call starts where the last one ended */
} m;

ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags)
{
	const struct step *s = m.calls < m.nscript ? &m.script[m.calls] : NULL;
	int i = m.calls++;

	if (i >= MAX_CALLS) {
		errno = ENOSPC;		/* a runaway loop: stop it */
		return -1;
	}
	m.off[i] = (size_t)((const char *)buf - m.base);
	m.len[i] = len;
	m.flags[i] = flags;
	m.fd[i] = fd;
	if (m.off[i] != m.taken)
		m.contiguous = false;
	if (s && s->err) {
		errno = s->err;
		return -1;
	}
	if (s && s->zero)
		return 0;
	if (s && s->max && s->max < len)
		len = s->max;
	m.taken += len;
	return (ssize_t)len;
}

static void reset(const char *base, const struct step *script, int n)
{
	memset(&m, 0, sizeof(m));
	m.base = base;
	m.script = script;
	m.nscript = n;
	m.contiguous = true;
}

static char big[3 * KATLS_RECORD_MAX + 100];

/*
 * katls_send(@fd, @buf, @len, @flags) against @script (@n steps; NULL:
 * take everything), with the record and errno cleared first.
 */
static ssize_t run(const struct step *script, int n, int fd, const char *buf,
		   size_t len, int flags)
{
	reset(buf, script, n);
	errno = 0;
	return katls_send(fd, buf, len, flags);
}

static void test_pieces(void)
{
	bool ok = true;
	ssize_t r;
	int i;

	r = run(NULL, 0, 7, big, sizeof(big), MSG_NOSIGNAL);
	tap_ok(r == (ssize_t)sizeof(big), "whole buffer sent (%zd)", r);
	tap_ok(m.calls == 4, "3 records + 100 bytes: 4 send calls (%d)",
	       m.calls);
	for (i = 0; i < m.calls; i++)
		ok = ok && m.len[i] <= KATLS_RECORD_MAX &&
		     m.flags[i] == MSG_NOSIGNAL && m.fd[i] == 7;
	tap_ok(ok && m.len[0] == KATLS_RECORD_MAX && m.len[3] == 100,
	       "every piece at most KATLS_RECORD_MAX (16384), flags and fd passed on");
	tap_ok(m.contiguous && m.taken == sizeof(big),
	       "pieces are contiguous and cover the buffer once");

	r = run(NULL, 0, 7, big, KATLS_RECORD_MAX, 0);
	tap_ok(r == KATLS_RECORD_MAX && m.calls == 1,
	       "exactly one record: one send call");
	r = run(NULL, 0, 7, big, 10, 0);
	tap_ok(r == 10 && m.calls == 1 && m.len[0] == 10,
	       "a small message: one send call of its size");
}

static void test_short_and_eintr(void)
{
	const struct step script[] = {
		{ .max = 1000 },	/* short write */
		{ .err = EINTR },	/* interrupted: retry */
		{ .max = 1 },
		{ 0 }, { 0 }, { 0 }, { 0 },
	};
	ssize_t r;

	r = run(script, 7, 3, big, 2 * KATLS_RECORD_MAX, 0);
	tap_ok(r == 2 * KATLS_RECORD_MAX,
	       "short writes and EINTR: all sent (%zd)", r);
	tap_ok(m.contiguous && m.taken == 2 * KATLS_RECORD_MAX,
	       "continued at the right offset after a short write and EINTR");
	tap_ok(m.calls == 5 && m.off[1] == 1000 && m.len[1] == KATLS_RECORD_MAX &&
	       m.off[2] == 1000 && m.len[3] == KATLS_RECORD_MAX &&
	       m.len[4] == KATLS_RECORD_MAX - 1001,
	       "after a short write the next piece is a full record again (%d calls)",
	       m.calls);
}

static void test_nonblocking(void)
{
	const struct step would_block_later[] = {
		{ 0 }, { .max = 500 }, { .err = EAGAIN },
	};
	const struct step would_block_first[] = { { .err = EAGAIN } };
	const struct step broken_later[] = { { 0 }, { .err = EPIPE } };
	ssize_t r;

	r = run(would_block_later, 3, 3, big, sizeof(big), MSG_DONTWAIT);
	tap_ok(r == KATLS_RECORD_MAX + 500,
	       "EAGAIN after progress: the count so far (%zd)", r);
	tap_ok(m.calls == 3, "no send after EAGAIN (%d calls)", m.calls);

	r = run(would_block_first, 1, 3, big, sizeof(big), MSG_DONTWAIT);
	tap_ok(r == -1 && errno == EAGAIN && m.calls == 1,
	       "EAGAIN with nothing sent: -1/EAGAIN");

	r = run(broken_later, 2, 3, big, sizeof(big), 0);
	tap_ok(r == -1 && errno == EPIPE && m.calls == 2,
	       "another error after progress: -1 with its errno (%s)",
	       strerror(errno));
}

static void test_args(void)
{
	const struct step zero[] = { { .zero = true } };
	ssize_t r;

	r = run(NULL, 0, 3, big, 0, 0);
	tap_ok(r == 0 && m.calls == 0, "length 0: returns 0, no send");
	r = run(NULL, 0, 3, NULL, 5, 0);
	tap_ok(r == -1 && errno == EINVAL && m.calls == 0,
	       "NULL buffer with a length: EINVAL, no send");
	r = run(NULL, 0, 3, NULL, 0, 0);
	tap_ok(r == 0 && m.calls == 0, "NULL buffer, length 0: returns 0");

	/* send(2) taking nothing of a non-empty piece: no endless loop. */
	r = run(zero, 1, 3, big, 100, 0);
	tap_ok(r == -1 && errno == EIO && m.calls == 1,
	       "send(2) returning 0: -1/EIO, no spinning (%d calls)", m.calls);
}

int main(void)
{
	tap_plan_lazy();
	test_pieces();
	test_short_and_eintr();
	test_nonblocking();
	test_args();
	return tap_done();
}
