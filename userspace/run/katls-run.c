// SPDX-License-Identifier: GPL-2.0
/*
 * katls-run - run an unmodified program with its TCP connections opted
 * in to katls (see Documentation/katls-run.rst and katls-run(1)).
 *
 *	katls-run [--policy NAME] [--peer-name NAME] [--server]
 *		  [--port P,...] [--timeout MS] [--quiet] -- CMD [ARGS...]
 *
 * The wrapper checks the options and what it can check before the
 * program runs (the module is loaded, the program is one LD_PRELOAD can
 * reach), passes the options to libkatls-run.so in KATLS_RUN_* and execs
 * CMD with the shim first in LD_PRELOAD.  It never runs CMD when a check
 * fails: a program katls cannot reach would talk plain TCP.
 *
 * Exit status, like env(1): 125 katls-run itself failed (usage, module
 * missing, a program LD_PRELOAD cannot reach), 126 CMD cannot be run,
 * 127 CMD not found; otherwise CMD's.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "run.h"

#ifndef KRUN_PRELOAD_PATH
#define KRUN_PRELOAD_PATH "/usr/local/lib/katls/libkatls-run.so"
#endif
#define KATLS_SYSFS_MODULE "/sys/module/katls"

#define EXIT_KRUN	125
#define EXIT_NOEXEC	126
#define EXIT_NOTFOUND	127

static void usage(FILE *f)
{
	fputs("usage: katls-run [OPTIONS] [--] CMD [ARGS...]\n"
	      "Run CMD with its TCP connections opted in to katls.\n"
	      "  -p, --policy NAME      katlsd policy (default \"default\")\n"
	      "  -n, --peer-name NAME   name the server must prove (client)\n"
	      "  -s, --server           opt in accepted connections, not\n"
	      "                         connect()ed ones\n"
	      "  -P, --port P[,P...]    only these ports (client: destination,\n"
	      "                         server: local); default all\n"
	      "  -t, --timeout MS       handshake deadline (kernel timer)\n"
	      "  -q, --quiet            no katls-run messages on stderr\n"
	      "  -h, --help             this text\n"
	      "Exit status: 125 katls-run failed, 126 CMD not executable,\n"
	      "127 CMD not found, else CMD's.  See katls-run(1).\n", f);
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("katls-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_KRUN);
}

/* CMD as execvp(3) would find it; NULL if not found (errno set). */
static char *find_cmd(const char *cmd)
{
	const char *path = getenv("PATH");
	int err = ENOENT;

	if (strchr(cmd, '/'))
		return strdup(cmd);
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char *full;
		struct stat st;

		if (asprintf(&full, "%.*s%s%s", (int)n, n ? path : ".",
			     "/", cmd) < 0)
			return NULL;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(full, X_OK) == 0)
				return full;
			err = EACCES;
		}
		free(full);
		path += n;
		if (*path == ':')
			path++;
	}
	errno = err;
	return NULL;
}

/*
 * 1 if @fd is an ELF program without an interpreter (static, or
 * static-pie), 0 if dynamic or not ELF (scripts: their interpreter runs),
 * -1 if unreadable.
 */
static int elf_static(int fd)
{
	unsigned char id[EI_NIDENT];
	unsigned int phnum, phentsize;
	off_t phoff;

	if (pread(fd, id, sizeof(id), 0) != (ssize_t)sizeof(id) ||
	    memcmp(id, ELFMAG, SELFMAG))
		return 0;
	if (id[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;

		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			return -1;
		phoff = (off_t)eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		if (phentsize < sizeof(Elf64_Phdr))
			return -1;
		for (unsigned int i = 0; i < phnum; i++) {
			Elf64_Phdr ph;

			if (pread(fd, &ph, sizeof(ph),
				  phoff + (off_t)i * phentsize) !=
			    (ssize_t)sizeof(ph))
				return -1;
			if (ph.p_type == PT_INTERP)
				return 0;
		}
		return 1;
	}
	if (id[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;

		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			return -1;
		phoff = (off_t)eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		if (phentsize < sizeof(Elf32_Phdr))
			return -1;
		for (unsigned int i = 0; i < phnum; i++) {
			Elf32_Phdr ph;

			if (pread(fd, &ph, sizeof(ph),
				  phoff + (off_t)i * phentsize) !=
			    (ssize_t)sizeof(ph))
				return -1;
			if (ph.p_type == PT_INTERP)
				return 0;
		}
		return 1;
	}
	return -1;
}

/* Refuse a program the dynamic linker would not preload the shim into. */
static void check_program(const char *cmd, const char *path)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		/* execv() reports it with the usual status. */
		if (fd >= 0)
			close(fd);
		return;
	}
	r = elf_static(fd);
	close(fd);
	if (r > 0)
		die("%s is statically linked: LD_PRELOAD cannot reach its "
		    "sockets, refusing to run it without katls", cmd);
	if (r < 0)
		die("%s: unreadable ELF header, refusing to run it", cmd);
	/*
	 * Secure execution (AT_SECURE): the dynamic linker ignores a
	 * LD_PRELOAD path for set-user-ID and set-group-ID programs that
	 * change the credentials, and for programs with file capabilities.
	 */
	if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
	    ((st.st_mode & S_ISGID) && st.st_gid != getegid()))
		die("%s is set-user-ID or set-group-ID: the dynamic linker "
		    "would drop LD_PRELOAD, refusing to run it without katls",
		    cmd);
	if (getxattr(path, "security.capability", NULL, 0) > 0)
		die("%s has file capabilities: the dynamic linker would drop "
		    "LD_PRELOAD, refusing to run it without katls", cmd);
}

/* libkatls-run.so beside this program (the build tree), else installed. */
static char *preload_path(void)
{
	char self[PATH_MAX], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (asprintf(&p, "%s/libkatls-run.so", self) >= 0) {
				if (access(p, R_OK) == 0)
					return p;
				free(p);
			}
		}
	}
	return strdup(KRUN_PRELOAD_PATH);
}

int main(int argc, char **argv)
{
	struct krun_config c;
	char err[KRUN_ERR_MAX], ports[KRUN_PORTS_STR_MAX], tmo[16];
	const char *old;
	char *lib, *cmd, *pre;
	int idx;

	idx = krun_parse_argv(argc, argv, &c, err);
	if (idx == 0) {
		usage(stdout);
		return 0;
	}
	if (idx < 0) {
		fprintf(stderr, "katls-run: %s\n", err);
		usage(stderr);
		return EXIT_KRUN;
	}
	cmd = find_cmd(argv[idx]);
	if (!cmd) {
		fprintf(stderr, "katls-run: %s: %s\n", argv[idx],
			errno == ENOENT ? "command not found" : strerror(errno));
		return errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
	}
	check_program(argv[idx], cmd);
	if (access(KATLS_SYSFS_MODULE, F_OK) < 0)
		die("the katls kernel module is not loaded (modprobe katls): "
		    "refusing to run %s without katls", argv[idx]);

	lib = preload_path();
	if (!lib || access(lib, R_OK) < 0)
		die("%s: %s", lib ? lib : "libkatls-run.so", strerror(errno));
	old = getenv("LD_PRELOAD");
	if (asprintf(&pre, "%s%s%s", lib, old && *old ? " " : "",
		     old ? old : "") < 0)
		die("%s", strerror(errno));
	krun_format_ports(&c, ports);
	snprintf(tmo, sizeof(tmo), "%u", c.timeout_ms);
	if (setenv("LD_PRELOAD", pre, 1) ||
	    setenv(KRUN_ENV_ROLE, c.role == KATLS_ROLE_SERVER ?
		   "server" : "client", 1) ||
	    setenv(KRUN_ENV_POLICY, c.policy, 1) ||
	    (c.has_peername ? setenv(KRUN_ENV_PEERNAME, c.peername, 1) :
	     unsetenv(KRUN_ENV_PEERNAME)) ||
	    setenv(KRUN_ENV_PORTS, ports, 1) ||
	    (c.timeout_ms ? setenv(KRUN_ENV_TIMEOUT, tmo, 1) :
	     unsetenv(KRUN_ENV_TIMEOUT)) ||
	    setenv(KRUN_ENV_QUIET, c.quiet ? "1" : "0", 1))
		die("%s", strerror(errno));

	execv(cmd, argv + idx);
	fprintf(stderr, "katls-run: %s: %s\n", argv[idx], strerror(errno));
	return errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
}
