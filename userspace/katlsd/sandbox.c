// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox.c - confine the process that parses peer input.
 *
 * Order matters: descriptors first (nothing privileged stays reachable),
 * then identity (groups, gid, uid: the kernel clears the capability sets
 * on the uid change from 0; we clear them again explicitly, in case katlsd
 * was started as another user with ambient capabilities), then
 * no_new_privs (required for an unprivileged seccomp filter, and no
 * set-uid way back), then the filter, last, so that the calls above need
 * not be allowed.
 *
 * The allow-list is what a GnuTLS handshake, the verifiers (which read
 * roots and collateral files), logging and the pool sandbox's handshake
 * threads need, nothing that creates processes, changes identity, opens
 * files for writing, or talks netlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>
#include <seccomp.h>

#include "sandbox.h"

int katlsd_nodump(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl))
		return -errno;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	return 0;
}

int katlsd_sandbox_user(struct katlsd_sandbox *sb)
{
	struct passwd *pw;

	sb->change_user = false;
	if (geteuid() != 0)
		return 0;
	pw = getpwnam(KATLSD_SANDBOX_USER);
	if (!pw || !pw->pw_uid)
		return -ENOENT;
	sb->uid = pw->pw_uid;
	sb->gid = pw->pw_gid;
	sb->change_user = true;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* Close every descriptor but 0..2 and keep_fds. */
static int close_others(const int *keep_fds, unsigned int n_keep)
{
	int keep[16 + 3];
	unsigned int n = 0, i;
	int from = 0;

	if (n_keep > 16)
		return -EINVAL;
	keep[n++] = 0;
	keep[n++] = 1;
	keep[n++] = 2;
	for (i = 0; i < n_keep; i++)
		keep[n++] = keep_fds[i];
	qsort(keep, n, sizeof(keep[0]), cmp_int);
	for (i = 0; i < n; i++) {
		if (keep[i] > from &&
		    syscall(SYS_close_range, from, keep[i] - 1, 0))
			return -errno;
		from = keep[i] + 1;
	}
	if (syscall(SYS_close_range, from, ~0U, 0))
		return -errno;
	return 0;
}

static int drop_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)
		return -errno;
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

/* Drop the bounding set while we may (needs CAP_SETPCAP). */
static void drop_bounding(void)
{
	int cap;

	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL)
			break;
}

static const char *const allowed[] = {
	/* memory, time, threads' futexes, randomness */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	"futex", "getrandom", "clock_gettime", "clock_getres",
	"gettimeofday", "time", "nanosleep", "clock_nanosleep",
	"sched_yield", "restart_syscall", "rt_sigreturn", "rt_sigprocmask",
	"exit", "exit_group", "sigaltstack",
	/* threads of the pool's sandbox (clone itself: see below) */
	"set_robust_list", "get_robust_list", "rseq", "sched_getaffinity",
	"set_tid_address", "rt_sigaction",
	/* I/O on the descriptors we hold */
	"read", "readv", "pread64", "write", "writev", "lseek", "close",
	"fstat", "newfstatat", "statx", "stat", "lstat", "getdents64",
	"readlink", "readlinkat", "access", "faccessat", "faccessat2",
	"poll", "ppoll", "select", "pselect6", "fcntl",
	"recvfrom", "recvmsg", "sendto", "sendmsg", "shutdown",
	"getsockopt", "getsockname", "getpeername",
	/* logging: syslog reconnects to /dev/log */
	"connect",
	/* identity queries only */
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid",
	"getegid", "uname", "capget",
};

static int install_filter(void)
{
	scmp_filter_ctx ctx;
	unsigned int i;
	int ret, nr3;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (ret < 0)
			goto out;
	}
	/*
	 * Threads, never processes: clone only with CLONE_THREAD (which
	 * needs CLONE_VM and CLONE_SIGHAND); clone3 passes its flags in
	 * memory, which a filter cannot read, so it fails with ENOSYS and
	 * glibc falls back to clone.
	 */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
				       CLONE_THREAD));
	if (ret < 0)
		goto out;
	nr3 = seccomp_syscall_resolve_name("clone3");
	if (nr3 != __NR_SCMP_ERROR) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr3, 0);
		if (ret < 0)
			goto out;
	}
	/* open read-only, never create, truncate or append */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ,
				       O_ACCMODE | O_CREAT | O_TRUNC |
				       O_APPEND | (O_TMPFILE & ~O_DIRECTORY),
				       0));
	if (ret < 0)
		goto out;
	/* only AF_UNIX sockets (syslog's); no netlink, no inet */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
			       SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (ret < 0)
		goto out;
	/* isatty() for stdio buffering, FIONREAD */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (ret < 0)
		goto out;
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	if (ret < 0)
		goto out;
	/* getrlimit(): prlimit64 on ourselves, never setting */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
			       SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0));
	if (ret < 0)
		goto out;
	/* prctl: reading our own no_new_privs and dumpable flags only */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
			       SCMP_A0(SCMP_CMP_EQ, PR_GET_NO_NEW_PRIVS));
	if (ret < 0)
		goto out;
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
			       SCMP_A0(SCMP_CMP_EQ, PR_GET_DUMPABLE));
	if (ret < 0)
		goto out;
	ret = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return ret < 0 ? ret : 0;
}

int katlsd_sandbox_enter(const struct katlsd_sandbox *sb)
{
	int ret;

	ret = close_others(sb->keep_fds, sb->n_keep);
	if (ret)
		return ret;
	drop_bounding();
	if (sb->change_user) {
		if (setgroups(0, NULL) ||
		    setresgid(sb->gid, sb->gid, sb->gid) ||
		    setresuid(sb->uid, sb->uid, sb->uid))
			return -errno;
		/* No way back. */
		if (!setuid(0) || !seteuid(0))
			return -EPERM;
	}
	ret = drop_caps();
	if (ret)
		return ret;
	/* Set after the uid change, which clears it; then check the race. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return -errno;
	if (sb->parent && getppid() != sb->parent)
		return -ESRCH;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	ret = katlsd_nodump();
	if (ret)
		return ret;
	return install_filter();
}
