// SPDX-License-Identifier: GPL-2.0
/*
 * mock-katls.c - a scripted stand-in for the katls socket options, linked
 * into a test build of katls-cat with
 *	-Wl,--wrap=setsockopt -Wl,--wrap=getsockopt
 * so that its relay (stdin, sendfile, half-close, exit codes) can be
 * tested on a host without the module.  Never part of an installed
 * binary.  The environment selects the outcome:
 *	KATLS_MOCK=open		the handshake succeeds (sim evidence)
 *	KATLS_MOCK=fail:ERRNO	it fails with that positive errno
 *	unset			every option reaches the real kernel
 * With KATLS_MOCK_TRACE set, every request is logged on stderr
 * ("mock: request role=R policy=P peername=N").
 */
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/katls.h>

int __real_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len);
int __real_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len);
int __wrap_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len);
int __wrap_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len);

static struct katls_result mock_res;

/* 0: no mock; otherwise the errno to fail with, or -1 for success. */
static int mock_mode(void)
{
	const char *m = getenv("KATLS_MOCK");

	if (!m)
		return 0;
	if (!strcmp(m, "open"))
		return -1;
	if (!strncmp(m, "fail:", 5) && atoi(m + 5) > 0)
		return atoi(m + 5);
	return 0;
}

int __wrap_setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len)
{
	const struct katls_request *req = val;
	int mode = mock_mode();

	if (!mode)
		return __real_setsockopt(fd, level, name, val, len);
	if (level == SOL_TCP && name == TCP_ULP)
		return 0;
	if (level != SOL_KATLS || name != KATLS_REQUEST)
		return __real_setsockopt(fd, level, name, val, len);
	if (len != sizeof(*req)) {
		errno = EINVAL;
		return -1;
	}
	if (getenv("KATLS_MOCK_TRACE"))
		fprintf(stderr, "mock: request role=%u policy=%.*s peername=%.*s\n",
			req->role, (int)sizeof(req->policy), req->policy,
			(int)sizeof(req->peername), req->peername);
	memset(&mock_res, 0, sizeof(mock_res));
	memcpy(mock_res.policy, req->policy, sizeof(mock_res.policy));
	mock_res.policy[sizeof(mock_res.policy) - 1] = '\0';
	if (mode > 0) {
		mock_res.state = KATLS_STATE_FAILED;
		mock_res.status = (unsigned int)mode;
		errno = mode;
		return -1;
	}
	mock_res.state = KATLS_STATE_OPEN;
	mock_res.evidence_type = KATLS_EVIDENCE_SIM;
	mock_res.binding_level = KATLS_BINDING_L2;
	mock_res.measurement_len = 48;
	memset(mock_res.measurement, 0x11, 48);
	memset(mock_res.evidence_digest, 0x22, KATLS_DIGEST_LEN);
	return 0;
}

int __wrap_getsockopt(int fd, int level, int name, void *val,
		      socklen_t *len)
{
	if (!mock_mode() || level != SOL_KATLS || name != KATLS_RESULT)
		return __real_getsockopt(fd, level, name, val, len);
	if (*len > sizeof(mock_res))
		*len = sizeof(mock_res);
	memcpy(val, &mock_res, *len);
	return 0;
}
