// SPDX-License-Identifier: GPL-2.0
/*
 * fd-reuse.c - run by test-run.sh under libkatls-run.so (client role,
 * on a host without the katls module): a socket whose opt-in failed is
 * closed behind the shim's back (a raw close system call, as fclose(3)
 * of an fdopen(3) stream does), the number is reused by a new socket,
 * and that socket's connect() to PORT must be opted in again (and fail
 * closed here), never pass through as plain TCP.
 *
 *	fd-reuse PORT
 * Prints "first: ERRNO second: ERRNO-or-connected fd: A B".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *try(int fd, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return "connected";
	return strerrorname_np(errno);
}

int main(int argc, char **argv)
{
	int port, a, b;
	const char *first, *second;

	if (argc != 2)
		return 2;
	port = atoi(argv[1]);
	a = socket(AF_INET, SOCK_STREAM, 0);
	first = try(a, port);
	syscall(SYS_close, a);
	b = socket(AF_INET, SOCK_STREAM, 0);
	second = try(b, port);
	printf("first: %s second: %s fd: %d %d\n", first, second, a, b);
	return 0;
}
