/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sandbox.h - the confinement of the process that parses peer input
 * (issue 11 item 7, privsep.h has the process model).
 */
#ifndef KATLSD_SANDBOX_H
#define KATLSD_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

/* The user the sandbox runs as when katlsd runs as root. */
#define KATLSD_SANDBOX_USER	"nobody"

/**
 * struct katlsd_sandbox - how to confine
 * @keep_fds: descriptors that stay open (besides 0, 1 and 2); all others
 *	are closed
 * @n_keep: entries in @keep_fds
 * @uid, @gid: switch to these if running as root (resolved before the
 *	fork by katlsd_sandbox_user())
 * @change_user: false: keep the uid (not root, or tests)
 * @parent: the monitor's pid; the sandbox gets SIGKILL when it goes
 *	(0: do not check that it is still there)
 */
struct katlsd_sandbox {
	const int *keep_fds;
	unsigned int n_keep;
	uid_t uid;
	gid_t gid;
	bool change_user;
	pid_t parent;
};

/*
 * For every katlsd process: not dumpable (no core dump, no ptrace by the
 * same uid, /proc/PID/mem root's only) and RLIMIT_CORE 0.  0 or -errno.
 */
int katlsd_nodump(void);

/* Resolve KATLSD_SANDBOX_USER into sb (change_user iff we are root). */
int katlsd_sandbox_user(struct katlsd_sandbox *sb);

/*
 * Confine the calling process, irreversibly: close every other fd, drop
 * supplementary groups, gid, uid, every capability (effective, permitted,
 * inheritable, ambient, bounding), PR_SET_NO_NEW_PRIVS, not dumpable, then
 * the seccomp filter (anything outside the allow-list kills the process
 * with SIGSYS).  0, or a negative errno: then the caller must exit.
 */
int katlsd_sandbox_enter(const struct katlsd_sandbox *sb);

#endif /* KATLSD_SANDBOX_H */
