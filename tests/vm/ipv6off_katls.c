// SPDX-License-Identifier: GPL-2.0
/*
 * ipv6off_katls - katls.ko on a kernel booted with ipv6.disable=1
 * (tools/vm-check runs it in its own guest, stage vm-<K>-ipv6off): the
 * module loads, IPv4 sockets opt in and reach OPEN through a test agent,
 * and IPv6 fails cleanly (no AF_INET6 socket can exist, so none can opt
 * in).  Not in the ordinary guest's list: there IPv6 is on.
 */
#include <sys/wait.h>

#include "katls_test.h"

static bool cmdline_has(const char *word)
{
	char buf[4096];
	FILE *f = fopen("/proc/cmdline", "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, word) != NULL;
}

int main(void)
{
	struct agent lis;
	struct katls_result r;
	char buf[16];
	int a, b, fd, err, st;
	pid_t pid;

	tap_plan(7);
	tap_ok(cmdline_has("ipv6.disable=1"),
	       "ipv6off: the guest was booted with ipv6.disable=1");
	tap_ok(access("/proc/net/katls_stat", F_OK) == 0,
	       "ipv6off: katls.ko is loaded");
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	tap_ok(fd < 0 && errno == EAFNOSUPPORT,
	       "ipv6off: no IPv6 socket exists to opt in (EAFNOSUPPORT, %d)",
	       fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);

	if (agent_open(&lis, true))
		die("agent_open");
	tcp_pair(AF_INET, &a, &b);
	tap_ok(opt_in(a) == 0, "ipv6off: an IPv4 socket opts in");
	if (ktls_peer(b, true))
		die("ktls_peer");
	pid = agent_spawn_done(KATLS_ROLE_CLIENT);
	err = request(a, KATLS_ROLE_CLIENT, "p", 10000);
	waitpid(pid, &st, 0);
	r = result(a);
	tap_ok(err == 0 && r.state == KATLS_STATE_OPEN,
	       "ipv6off: the IPv4 hand-over reaches OPEN (%d, state %u, agent %d)",
	       err, r.state, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	tap_ok(send(a, "hello-v4", 8, 0) == 8 &&
	       drain(b, buf, sizeof(buf), 2000) == 8 && !memcmp(buf, "hello-v4", 8),
	       "ipv6off: IPv4 data flows through kTLS");
	close(a);
	close(b);
	agent_close(&lis);
	tap_ok(katls_stat("handover_failed") == 0,
	       "ipv6off: no hand-over failed");
	return tap_done();
}
