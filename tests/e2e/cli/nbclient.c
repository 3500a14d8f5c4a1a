// SPDX-License-Identifier: GPL-2.0
/*
 * nbclient.c - the non-blocking libkatls calls on the real module, for
 * e2e-cli.sh:
 *
 *	nbclient start|attach HOST PORT POLICY
 *
 * start:  katls_attach_start() on a blocking socket (flags restored),
 *	   poll(2) until POLLOUT or POLLERR/POLLHUP, katls_result_get();
 * attach: katls_attach() on an O_NONBLOCK socket (the library waits).
 * On success it sends "nbclient MODE\n", ends with close_notify (katls_shutdown)
 * and reads to the server's close_notify (katls_recv), then exits 0; on a
 * failed handshake it prints "errno NAME" and exits 1; anything the
 * library got wrong (flags not restored, a readiness without an outcome)
 * exits 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <katls/katls.h>

static int tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int fd;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int main(int argc, char **argv)
{
	struct katls_options o = { 0 };
	struct katls_result r;
	char line[KATLS_RESULT_STR_MAX], msg[64];
	int fd, flags, ret;
	ssize_t n;

	if (argc != 5)
		return 2;
	o.policy = argv[4];
	fd = tcp_connect(argv[2], argv[3]);
	if (fd < 0) {
		perror("connect");
		return 3;
	}
	if (!strcmp(argv[1], "start")) {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

		flags = fcntl(fd, F_GETFL);
		if (katls_attach_start(fd, KATLS_ROLE_CLIENT, &o) < 0) {
			printf("errno %s\n", strerrorname_np(errno));
			return 1;
		}
		if (fcntl(fd, F_GETFL) != flags) {
			printf("file status flags not restored\n");
			return 3;
		}
		if (poll(&p, 1, 60000) != 1) {
			printf("no readiness within 60 s\n");
			return 3;
		}
		ret = katls_result_get(fd, &r);
		if (ret < 0 && errno == EINPROGRESS) {
			printf("readiness 0x%x without an outcome\n", p.revents);
			return 3;
		}
		if (ret == 0 && !(p.revents & POLLOUT)) {
			printf("open without POLLOUT (0x%x)\n", p.revents);
			return 3;
		}
		if (ret < 0 && !(p.revents & (POLLERR | POLLHUP))) {
			printf("failed without POLLERR/POLLHUP (0x%x)\n",
			       p.revents);
			return 3;
		}
	} else if (!strcmp(argv[1], "attach")) {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		ret = katls_attach(fd, KATLS_ROLE_CLIENT, &o, &r);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	} else {
		return 2;
	}
	if (ret < 0) {
		printf("errno %s\n", strerrorname_np(errno));
		return 1;
	}
	katls_format_result(&r, line, sizeof(line));
	printf("%s\n", line);
	snprintf(msg, sizeof(msg), "nbclient %s\n", argv[1]);
	if (send(fd, msg, strlen(msg), 0) != (ssize_t)strlen(msg)) {
		perror("send");
		return 3;
	}
	/* The end of our data, then the server's: close_notify both ways. */
	if (katls_shutdown(fd, SHUT_WR) < 0) {
		perror("katls_shutdown");
		return 3;
	}
	while ((n = katls_recv(fd, line, sizeof(line), 0, NULL)) > 0)
		;
	if (n < 0) {
		printf("katls_recv: %s\n", strerrorname_np(errno));
		return 3;
	}
	close(fd);
	return 0;
}
