// SPDX-License-Identifier: GPL-2.0
/*
 * katlsctl - inspect katls: counters and opted-in sockets.
 *
 *	katlsctl [--json] stat	counters of /proc/net/katls_stat
 *	katlsctl [--json] list	sockets and their handshake state (netlink)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CTL_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: katlsctl [OPTION]... COMMAND\n"
"Show the state of katls, the kernel-enforced attested TLS module.\n"
"\n"
"Commands:\n"
"  stat               counters from " CTL_STAT_PATH "\n"
"  list               opted-in sockets and their handshake state\n"
"\n"
"Options:\n"
"  -j, --json         machine-readable output\n"
"      --stat-file F  read counters from F instead of " CTL_STAT_PATH "\n"
"  -h, --help         this text\n"
"  -V, --version      print the version\n"
"\n"
"Exit status: 0 success, 1 failure (module not loaded, ...), 2 usage.\n");
}

static int cmd_stat(const char *path, bool json)
{
	static struct ctl_stat st[CTL_STAT_MAX];
	char err[128];
	FILE *f;
	int n;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			fprintf(stderr, "katlsctl: katls module not loaded (no %s)\n",
				path);
		else
			fprintf(stderr, "katlsctl: %s: %s\n", path,
				strerror(errno));
		return 1;
	}
	n = ctl_stat_parse(f, st, CTL_STAT_MAX, err, sizeof(err));
	fclose(f);
	if (n < 0) {
		fprintf(stderr, "katlsctl: %s: %s\n", path, err);
		return 1;
	}
	if (json)
		ctl_stat_print_json(stdout, st, (size_t)n);
	else
		ctl_stat_print(stdout, st, (size_t)n);
	return 0;
}

static int cmd_list(bool json)
{
	struct katls_agent_sock *s;
	char err[160];
	bool absent;
	int n;

	n = ctl_list_dump(&s, &absent, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "katlsctl: %s\n", err);
		return 1;
	}
	if (json)
		ctl_list_print_json(stdout, s, (size_t)n);
	else
		ctl_list_print(stdout, s, (size_t)n);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "stat-file",	required_argument,	NULL, 'S' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = CTL_STAT_PATH;
	bool json = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "jhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'S':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("katlsctl " CTL_VERSION "\n");
			return 0;
		default:
			fprintf(stderr, "Try 'katlsctl --help'.\n");
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "katlsctl: expected one command (stat, list)\n"
				"Try 'katlsctl --help'.\n");
		return 2;
	}
	if (!strcmp(argv[optind], "stat")) {
		ret = cmd_stat(path, json);
	} else if (!strcmp(argv[optind], "list")) {
		ret = cmd_list(json);
	} else {
		fprintf(stderr, "katlsctl: unknown command '%s'\n"
				"Try 'katlsctl --help'.\n", argv[optind]);
		return 2;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "katlsctl: write error\n");
		return 1;
	}
	return ret;
}
