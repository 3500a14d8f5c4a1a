// SPDX-License-Identifier: GPL-2.0
/*
 * attack_relay - TAP wrapper for the relay-attack suite
 * (tools/attack/run, Documentation/relay-attacks.rst).
 *
 * The suite needs configfs-tsm and the simulated provider, which only the
 * 6.12 guest has.  On a kernel without /sys/kernel/config/tsm (6.1) this
 * prints a single skipped test point and nothing else; everywhere else it
 * runs tools/attack/run --tap, which starts its own katlsd and prints the
 * matrix and the further attacks as TAP.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

/* The repository: this program is <top>/tests/vm/build/attack_relay. */
static int find_top(char *top, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", top, len - 1);

	if (n <= 0)
		return -1;
	top[n] = 0;
	for (int i = 0; i < 4; i++) {
		char *slash = strrchr(top, '/');

		if (!slash || slash == top)
			return -1;
		*slash = 0;
	}
	return 0;
}

int main(void)
{
	char top[PATH_MAX], run[PATH_MAX + 32], prog[PATH_MAX + 32];
	char cmd[2 * PATH_MAX];
	struct stat st;

	if (stat("/sys/kernel/config/tsm", &st)) {
		tap_plan(1);
		tap_skip("relay-attack matrix and further attacks",
			 "no configfs-tsm on this kernel");
		return tap_done();
	}
	if (find_top(top, sizeof(top))) {
		tap_plan(1);
		tap_ok(0, "locate the repository from /proc/self/exe");
		return tap_done();
	}
	snprintf(run, sizeof(run), "%s/tools/attack/run", top);
	snprintf(prog, sizeof(prog), "%s/tools/attack/build/katls-attack", top);
	if (access(prog, X_OK)) {
		/*
		 * Not built on the host: build it here (the host's /usr is
		 * shared, its /etc/alternatives is not, hence gcc for cc).
		 */
		snprintf(cmd, sizeof(cmd),
			 "make -s -C '%s/tools/attack' CC=gcc all >&2", top);
		if (system(cmd)) {
			tap_plan(1);
			tap_ok(0, "build tools/attack (make -C tools/attack)");
			return tap_done();
		}
	}
	fflush(stdout);
	execl(run, run, "--tap", (char *)NULL);
	tap_plan(1);
	tap_ok(0, "run %s: %s", run, strerror(errno));
	return tap_done();
}
