// SPDX-License-Identifier: GPL-2.0
/*
 * scale_requests - issue 13 item 4 at scale, correctness only (the timing
 * is tools/bench's): with N opted-in sockets handed over and M requests
 * held by one agent,
 *   - DONE finds each request by its id, in any order;
 *   - releasing unrelated NETLINK_GENERIC sockets touches none of them;
 *   - releasing the agent's socket fails exactly its own requests;
 *   - max_pending counts per network namespace (a full namespace does not
 *     stop another one).
 *
 * Usage: scale_requests [N [M]]   (default 1000 and 300)
 */
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "katls_test.h"

static int n_open = 1000, n_held = 300;

/* A bound generic netlink socket: its close sends NETLINK_URELEASE. */
static int genl_sock(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("netlink socket");
	return fd;
}

/* Opt in n client sockets and request; fds[2i] app, fds[2i+1] peer. */
static int make_pending(int *fds, int n)
{
	int i, ok = 0;

	for (i = 0; i < n; i++) {
		tcp_pair(AF_INET, &fds[2 * i], &fds[2 * i + 1]);
		if (opt_in(fds[2 * i]))
			continue;
		set_nonblock(fds[2 * i], true);
		if (request(fds[2 * i], KATLS_ROLE_CLIENT, "p", 120000) ==
		    EINPROGRESS)
			ok++;
	}
	return ok;
}

static void close_all(int *fds, int n)
{
	struct linger lg = { 1, 0 };
	int i;

	for (i = 0; i < 2 * n; i++) {
		setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fds[i]);
	}
}

static void test_done_by_id(struct agent *a, int *fds)
{
	uint64_t *ids = calloc(n_open, sizeof(*ids));
	int i, acc = 0, done = 0, open = 0;

	if (!ids)
		die("calloc");
	tap_ok(make_pending(fds, n_open) == n_open,
	       "scale: %d requests pending", n_open);
	for (i = 0; i < n_open; i++) {
		if (agent_accept(a) || !a->id)
			break;
		ids[i] = a->id;
		close(a->fd);
		acc++;
	}
	tap_ok(acc == n_open, "scale: %d of %d accepted", acc, n_open);
	if (!acc) {
		free(ids);
		return;
	}
	/* Newest first: DONE must not depend on queue order. */
	for (i = acc - 1; i >= 0; i--)
		done += !agent_done(a, ids[i], 0, KATLS_ROLE_CLIENT);
	tap_ok(done == acc, "scale: DONE found %d of %d requests by id",
	       done, acc);
	for (i = 0; i < n_open; i++)
		open += result(fds[2 * i]).state == KATLS_STATE_OPEN;
	tap_ok(open == n_open, "scale: %d of %d sockets OPEN", open, n_open);
	tap_ok(agent_done(a, ids[0], 0, KATLS_ROLE_CLIENT) == ENOENT,
	       "scale: a second DONE for the same id -> ENOENT");
	tap_ok(agent_done(a, ids[acc - 1] + 1000000, 0, KATLS_ROLE_CLIENT) ==
	       ENOENT, "scale: an id never issued -> ENOENT");
	free(ids);
}

static void test_agent_loss(int *fds)
{
	long long lost = katls_stat("agent_lost");
	struct agent b;
	int i, acc = 0, still = 0, failed = 0, *nl;

	nl = calloc(1000, sizeof(*nl));
	if (!nl || agent_open(&b, false))
		die("agent");
	tap_ok(make_pending(fds, n_held) == n_held,
	       "agent loss: %d requests pending", n_held);
	for (i = 0; i < n_held; i++) {
		if (agent_accept(&b) || !b.id)
			break;
		close(b.fd);
		acc++;
	}
	tap_ok(acc == n_held, "agent loss: %d of %d accepted by one agent",
	       acc, n_held);
	for (i = 0; i < 1000; i++)
		nl[i] = genl_sock();
	for (i = 0; i < 1000; i++)
		close(nl[i]);
	for (i = 0; i < n_held; i++)
		still += result(fds[2 * i]).state == KATLS_STATE_ACCEPTED;
	tap_ok(still == n_held && katls_stat("agent_lost") == lost,
	       "agent loss: 1000 unrelated NETLINK_GENERIC releases changed nothing (%d accepted)",
	       still);
	agent_close(&b);
	for (i = 0; i < n_held; i++) {
		struct katls_result r = result(fds[2 * i]);

		failed += r.state == KATLS_STATE_FAILED &&
			  r.status == ECONNABORTED;
	}
	tap_ok(failed == n_held && katls_stat("agent_lost") == lost + n_held,
	       "agent loss: its %d requests failed with ECONNABORTED (%d, counted %lld)",
	       n_held, failed, katls_stat("agent_lost") - lost);
	free(nl);
}

static void set_max_pending(long v)
{
	FILE *f = fopen("/sys/module/katls/parameters/max_pending", "w");

	if (!f)
		die("max_pending");
	fprintf(f, "%ld\n", v);
	fclose(f);
}

static long get_max_pending(void)
{
	FILE *f = fopen("/sys/module/katls/parameters/max_pending", "r");
	long v = -1;

	if (!f || fscanf(f, "%ld", &v) != 1)
		die("max_pending");
	fclose(f);
	return v;
}

/* In a child in a new network namespace: one request, with an agent. */
static int other_netns_request(void)
{
	struct agent c;
	int a, b, r;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid) {
		int st;

		waitpid(pid, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
	}
	if (unshare(CLONE_NEWNET))
		_exit(100);
	if (system("ip link set lo up"))
		_exit(101);
	if (agent_open(&c, true))
		_exit(102);
	tcp_pair(AF_INET, &a, &b);
	if (opt_in(a))
		_exit(103);
	set_nonblock(a, true);
	r = request(a, KATLS_ROLE_CLIENT, "p", 60000);
	_exit(r == EINPROGRESS ? 0 : r);
}

static void test_max_pending_netns(void)
{
	long saved = get_max_pending();
	struct agent lis;
	int fds[6], r;

	agent_open(&lis, true);
	set_max_pending(2);
	tap_ok(make_pending(fds, 2) == 2, "netns cap: 2 pending at max_pending 2");
	tcp_pair(AF_INET, &fds[4], &fds[5]);
	opt_in(fds[4]);
	set_nonblock(fds[4], true);
	tap_ok(request(fds[4], KATLS_ROLE_CLIENT, "p", 60000) == EAGAIN,
	       "netns cap: a third in the same namespace -> EAGAIN");
	r = other_netns_request();
	tap_ok(r == 0, "netns cap: another namespace still queues (%d)", r);
	set_max_pending(saved);
	close_all(fds, 3);
	agent_close(&lis);
}

int main(int argc, char **argv)
{
	struct agent a, lis;
	struct rlimit rl;
	int *fds;

	if (argc > 1)
		n_open = atoi(argv[1]);
	if (argc > 2)
		n_held = atoi(argv[2]);
	if (n_open < 1 || n_held < 1)
		return 2;
	rl.rlim_cur = rl.rlim_max = 2 * (n_open + n_held) + 2100;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
	signal(SIGPIPE, SIG_IGN);
	tap_plan_lazy();

	/*
	 * lis only keeps "an agent listens" true (it is never read: N READY
	 * notifications overrun it); a, which never joins the group, does
	 * the ACCEPTs and DONEs.
	 */
	fds = calloc(2 * n_open, sizeof(*fds));
	if (!fds || agent_open(&lis, true) || agent_open(&a, false))
		die("setup");
	test_done_by_id(&a, fds);
	close_all(fds, n_open);
	if (n_held > n_open)
		n_held = n_open;
	test_agent_loss(fds);
	close_all(fds, n_held);
	agent_close(&a);
	agent_close(&lis);
	test_max_pending_netns();
	free(fds);
	return tap_done();
}
