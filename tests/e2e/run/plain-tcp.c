// SPDX-License-Identifier: GPL-2.0
/*
 * plain-tcp.c - a TCP client and server that know nothing of katls or
 * TLS: the "unmodified program" of tests/e2e/run/run.sh (katls-run) and
 * tests/unit/run/test-run.sh.  Plain socket calls only; built without
 * libkatls.
 *
 *   plain-tcp srv [-n] [-H] [-f] PORT SEND_FILE RECV_FILE
 *	listen on 127.0.0.1:PORT, accept one connection, read to the end
 *	of stream into RECV_FILE (with -H: only up to the end of an HTTP
 *	request's header, then answer "200 OK" with a Content-Length),
 *	send SEND_FILE, close().  -f: like a forking server, a child
 *	serves the connection; the parent closes its copy at once and
 *	waits for the child.
 *   plain-tcp cli [-n] HOST PORT SEND_FILE RECV_FILE
 *	connect, send SEND_FILE, shutdown(SHUT_WR), read to the end of
 *	stream into RECV_FILE, close().
 *
 * The server reads with read(2), the client with recv(2) (both
 * fortified: __read_chk, __recv_chk); both send with write(2).
 *
 * -n: non-blocking sockets (connect in progress, accept4(SOCK_NONBLOCK),
 * every call after poll(2)).  Exit 0 on success; on an error it prints
 * "plain-tcp: CALL: ERRNO-NAME" and exits 1 (RECV_FILE holds what
 * arrived).  2: usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static bool nb, forking, use_read;

static int fail(const char *call)
{
	printf("plain-tcp: %s: %s\n", call, strerrorname_np(errno));
	fflush(stdout);
	exit(1);
}

static void wait_for(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };

	if (nb && poll(&p, 1, 60000) != 1) {
		errno = ETIMEDOUT;
		fail("poll");
	}
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n;

		wait_for(fd, POLLOUT);
		n = write(fd, buf, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			fail("write");
		buf += n;
		len -= (size_t)n;
	}
}

/* Read into @out until the end of stream (or the end of an HTTP header). */
static void recv_all(int fd, FILE *out, bool http)
{
	char buf[65536];
	char tail[4] = { 0 };

	for (;;) {
		ssize_t n;

		wait_for(fd, POLLIN);
		/* The server read(2)s, the client recv(2)s: both paths. */
		n = use_read ? read(fd, buf, http ? 1 : sizeof(buf)) :
			       recv(fd, buf, http ? 1 : sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			fail(use_read ? "read" : "recv");
		if (n == 0)
			return;
		fwrite(buf, 1, (size_t)n, out);
		fflush(out);
		if (http) {
			memmove(tail, tail + 1, 3);
			tail[3] = buf[0];
			if (!memcmp(tail, "\r\n\r\n", 4))
				return;
		}
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *b;

	if (!f || fstat(fileno(f), &st) < 0)
		fail("open");
	b = malloc((size_t)st.st_size + 1);
	if (!b || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		fail("read file");
	fclose(f);
	*len = (size_t)st.st_size;
	return b;
}

static int server(int port, bool http, const char *sendf, const char *recvf)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	size_t len;
	char *data = slurp(sendf, &len);
	FILE *out = fopen(recvf, "wb");
	int one = 1, l, fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0), 0);
	if (l < 0 || !out)
		fail("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail("bind");
	if (listen(l, 4) < 0)
		fail("listen");
	for (;;) {
		wait_for(l, POLLIN);
		fd = nb ? accept4(l, NULL, NULL, SOCK_NONBLOCK) :
			  accept(l, NULL, NULL);
		if (fd >= 0)
			break;
		if (errno != EAGAIN && errno != EINTR)
			fail("accept");
	}
	close(l);
	if (forking) {
		int st;
		pid_t pid = fork();

		if (pid < 0)
			fail("fork");
		if (pid > 0) {
			/* The parent's copy goes; the child's stream goes on. */
			if (close(fd) < 0)
				fail("close (parent)");
			if (waitpid(pid, &st, 0) < 0)
				fail("waitpid");
			return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		}
		/* Let the parent's close() happen first. */
		usleep(300000);
	}
	recv_all(fd, out, http);
	fclose(out);
	if (http) {
		char hdr[128];

		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", len);
		send_all(fd, hdr, strlen(hdr));
	}
	send_all(fd, data, len);
	if (close(fd) < 0)
		fail("close");
	free(data);
	return 0;
}

static int client(const char *host, const char *port, const char *sendf,
		  const char *recvf)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	size_t len;
	char *data = slurp(sendf, &len);
	FILE *out = fopen(recvf, "wb");
	int fd;

	if (!out || getaddrinfo(host, port, &hints, &ai))
		fail("getaddrinfo");
	fd = socket(ai->ai_family, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		fail("socket");
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (!nb || errno != EINPROGRESS)
			fail("connect");
		wait_for(fd, POLLOUT);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			fail("getsockopt");
		if (err) {
			errno = err;
			fail("connect (SO_ERROR)");
		}
	}
	freeaddrinfo(ai);
	send_all(fd, data, len);
	if (shutdown(fd, SHUT_WR) < 0)
		fail("shutdown");
	recv_all(fd, out, false);
	fclose(out);
	if (close(fd) < 0)
		fail("close");
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	bool http = false;
	int i = 2;

	if (argc < 2)
		return 2;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-n"))
			nb = true;
		else if (!strcmp(argv[i], "-H"))
			http = true;
		else if (!strcmp(argv[i], "-f"))
			forking = true;
		else
			return 2;
	}
	use_read = !strcmp(argv[1], "srv");
	if (!strcmp(argv[1], "srv") && argc - i == 3)
		return server(atoi(argv[i]), http, argv[i + 1], argv[i + 2]);
	if (!strcmp(argv[1], "cli") && argc - i == 4)
		return client(argv[i], argv[i + 1], argv[i + 2], argv[i + 3]);
	return 2;
}
