// SPDX-License-Identifier: GPL-2.0
/*
 * katls-cat - netcat over an attested katls connection.
 *
 *	katls-cat -l [-4|-6] [ADDR] PORT	serve one connection (attests)
 *	katls-cat HOST PORT			connect (verifies the server)
 *
 * The handshake, the evidence and the keys are the business of the kernel
 * and katlsd; katls-cat only opts its socket in (libkatls), prints the
 * verified summary and then copies stdin (or a file, with sendfile(2)) to
 * the socket and the socket to stdout until both directions are done.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <katls/katls.h>
#include "kcat.h"

#define BUF_SIZE	(64 * 1024)
#define SENDFILE_CHUNK	(1 << 20)

static const char *prog = "katls-cat";

__attribute__((format(printf, 1, 2)))
static void msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Why the handshake failed, in katls terms; @err is its errno. */
static const char *why(int err, const struct katls_result *r)
{
	/* EINVAL as a handshake status (not from argument checks). */
	if (err == EINVAL && r->state == KATLS_STATE_FAILED)
		return "policy unknown to katlsd";
	return katls_strerror(err);
}

static void print_result(const char *what, const struct katls_result *r)
{
	char line[KATLS_RESULT_STR_MAX];

	if (katls_format_result(r, line, sizeof(line)) >= 0)
		msg("%s: %s", what, line);
}

static int listen_on(const struct kcat_opts *o)
{
	struct addrinfo hints = {
		.ai_family = o->family ? o->family : AF_INET,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
		.ai_flags = AI_PASSIVE,
	}, *ais, *ai;
	int fd = -1, one = 1, gai, err = 0;

	gai = getaddrinfo(o->host, o->port, &hints, &ais);
	if (gai) {
		msg("%s port %s: %s", o->host ? o->host : "*", o->port,
		    gai_strerror(gai));
		return -1;
	}
	for (ai = ais; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			       sizeof(one)) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 1) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ais);
	if (fd < 0)
		msg("listen on port %s: %s", o->port, strerror(err));
	return fd;
}

/* Copying state of one run. */
struct relay {
	int sock;
	int in_fd;		/* stdin, or -1 in sendfile mode */
	int file_fd;		/* --sendfile, or -1 */
	off_t file_off, file_size;
	char up[BUF_SIZE];	/* stdin -> socket */
	size_t up_len, up_off;
	char down[BUF_SIZE];	/* socket -> stdout */
	size_t down_len, down_off;
	bool in_eof;		/* nothing more to send */
	bool tx_shut;		/* shutdown(SHUT_WR) done */
	bool rx_eof;		/* peer finished sending */
};

/*
 * Receive one chunk (katls_recv(): application data only).  Returns
 * bytes, 0 at the clean end of the peer's data (its close_notify), -1 on
 * error (errno set; EAGAIN: nothing now).  A TCP FIN without close_notify
 * is an error: the data may have been cut short.
 */
static ssize_t recv_record(struct relay *r)
{
	ssize_t n;
	int alert;

	n = katls_recv(r->sock, r->down, sizeof(r->down), 0, &alert);
	if (n >= 0 || errno == EAGAIN || errno == EINTR)
		return n;
	if (errno == ECONNABORTED)
		msg("connection closed without TLS close_notify: the data received may be truncated");
	else if (errno == EPROTO && alert >= 0)
		msg("peer sent TLS alert %d (%s)", alert,
		    katls_alert_name(alert));
	else if (errno == EPROTO)
		msg("unexpected TLS record (a post-handshake message?), not supported on kTLS");
	else
		msg("receive: %s", strerror(errno));
	return -1;
}

static int relay_step_out(struct relay *r)
{
	ssize_t n;

	if (r->file_fd >= 0) {
		off_t left = r->file_size - r->file_off;

		n = sendfile(r->sock, r->file_fd, &r->file_off,
			     left > SENDFILE_CHUNK ? SENDFILE_CHUNK :
						     (size_t)left);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (n == 0 || r->file_off >= r->file_size) {
			if (r->file_off < r->file_size)
				msg("warning: file shrank while being sent");
			r->in_eof = true;
		}
		return 0;
	}
	/* Record-sized pieces (katls_send(3)); a short count: full. */
	n = katls_send(r->sock, r->up + r->up_off, r->up_len - r->up_off,
		       MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	r->up_off += (size_t)n;
	if (r->up_off == r->up_len)
		r->up_off = r->up_len = 0;
	return 0;
}

static int relay(struct relay *r)
{
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = -1 }, { .fd = r->sock }, { .fd = -1 },
		};
		bool tx_pending = r->file_fd >= 0 ? !r->in_eof : r->up_len > 0;
		ssize_t n;

		if (r->in_eof && !tx_pending && !r->tx_shut) {
			/* close_notify, then FIN: the peer can tell our
			 * end of data from a cut connection. */
			if (katls_shutdown(r->sock, SHUT_WR) == 0)
				r->tx_shut = true;
			else if (errno != EAGAIN && errno != EINTR) {
				msg("shutdown: %s", strerror(errno));
				return -1;
			}	/* else: send buffer full, wait for POLLOUT */
		}
		if (r->tx_shut && r->rx_eof && !r->down_len)
			return 0;

		if (r->in_fd >= 0 && !r->in_eof && !r->up_len) {
			p[0].fd = r->in_fd;
			p[0].events = POLLIN;
		}
		if (!r->rx_eof && !r->down_len)
			p[1].events |= POLLIN;
		if (tx_pending || (r->in_eof && !r->tx_shut))
			p[1].events |= POLLOUT;
		if (!p[1].events)
			p[1].fd = -1;	/* no spinning on POLLHUP/POLLERR */
		if (r->down_len) {
			p[2].fd = STDOUT_FILENO;
			p[2].events = POLLOUT;
		}
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			msg("poll: %s", strerror(errno));
			return -1;
		}

		if (p[0].revents) {
			n = read(r->in_fd, r->up, sizeof(r->up));
			if (n > 0) {
				r->up_len = (size_t)n;
			} else if (n == 0) {
				r->in_eof = true;
			} else if (errno != EINTR && errno != EAGAIN) {
				msg("read stdin: %s", strerror(errno));
				return -1;
			}
		}
		if ((p[1].revents & (POLLOUT | POLLERR)) && tx_pending &&
		    relay_step_out(r) < 0) {
			msg("send: %s", strerror(errno));
			return -1;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR) &&
		    !r->rx_eof && !r->down_len) {
			n = recv_record(r);
			if (n > 0) {
				r->down_len = (size_t)n;
				r->down_off = 0;
			} else if (n == 0) {
				r->rx_eof = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (p[2].revents) {
			n = write(STDOUT_FILENO, r->down + r->down_off,
				  r->down_len - r->down_off);
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				msg("write stdout: %s", strerror(errno));
				return -1;
			}
			if (n > 0)
				r->down_off += (size_t)n;
			if (r->down_off == r->down_len)
				r->down_off = r->down_len = 0;
		}
	}
}

static struct relay rel;

int main(int argc, char **argv)
{
	struct katls_options ko = { 0 };
	struct katls_result res;
	struct kcat_opts o;
	char err[160];
	int fd, lfd, ret;

	ret = kcat_parse_args(argc, argv, &o, err, sizeof(err));
	if (ret > 0)
		return 0;
	if (ret < 0) {
		msg("%s", err);
		fprintf(stderr, "Try '%s --help'.\n", prog);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	rel.file_fd = -1;
	rel.in_fd = STDIN_FILENO;
	if (o.sendfile) {
		struct stat st;

		rel.file_fd = open(o.sendfile, O_RDONLY | O_CLOEXEC);
		if (rel.file_fd < 0 || fstat(rel.file_fd, &st) < 0) {
			msg("%s: %s", o.sendfile, strerror(errno));
			return 1;
		}
		if (!S_ISREG(st.st_mode)) {
			msg("%s: not a regular file", o.sendfile);
			return 1;
		}
		rel.file_size = st.st_size;
		rel.in_fd = -1;
	} else if (fcntl(STDIN_FILENO, F_GETFD) < 0) {
		rel.in_eof = true;	/* stdin closed: nothing to send */
	}
	if (o.cert) {
		if (access(o.cert, R_OK) < 0 || access(o.key, R_OK) < 0) {
			msg("%s: %s", access(o.cert, R_OK) < 0 ? o.cert : o.key,
			    strerror(errno));
			return 1;
		}
		if (!o.quiet)
			msg("note: katlsd presents its own configured certificate; --cert/--key are not passed to the kernel (see katls-cat(1))");
	}

	ko.policy = o.policy;
	ko.peername = o.peername;
	ko.timeout_ms = o.timeout_ms;
	ko.connect_timeout_ms = o.timeout_ms;
	ko.family = o.family;

	if (o.listen) {
		lfd = listen_on(&o);
		if (lfd < 0)
			return 1;
		fd = katls_accept(lfd, &ko, &res);
		close(lfd);
		if (fd < 0) {
			msg("attested handshake (server) failed: %s",
			    why(errno, &res));
			if (res.state == KATLS_STATE_FAILED)
				print_result("result", &res);
			return 1;
		}
		if (!o.quiet)
			print_result("attested", &res);
	} else {
		fd = katls_connect(o.host, o.port, &ko, &res);
		if (fd < 0) {
			msg("%s port %s: %s", o.host, o.port,
			    why(errno, &res));
			if (res.state == KATLS_STATE_FAILED)
				print_result("result", &res);
			return 1;
		}
		if (!o.quiet)
			print_result("verified", &res);
	}

	rel.sock = fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		msg("fcntl: %s", strerror(errno));
		return 1;
	}
	ret = relay(&rel);
	close(fd);
	if (rel.file_fd >= 0)
		close(rel.file_fd);
	return ret < 0 ? 1 : 0;
}
