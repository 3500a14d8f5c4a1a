/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcat.h - katls-cat internals shared with its unit tests.
 */
#ifndef KATLS_CLI_KCAT_H
#define KATLS_CLI_KCAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct kcat_opts {
	bool listen;		/* -l: serve one connection (server role) */
	bool quiet;		/* -q: no evidence summary on stderr */
	int family;		/* AF_UNSPEC, AF_INET (-4), AF_INET6 (-6) */
	unsigned int timeout_ms;	/* --timeout, 0: library default */
	const char *policy;	/* --policy, NULL: KATLS_POLICY_DEFAULT */
	const char *peername;	/* --peer-name (client) */
	const char *cert;	/* --cert (server; informational, see man) */
	const char *key;	/* --key (server; informational) */
	const char *sendfile;	/* --sendfile FILE instead of stdin */
	const char *host;	/* client: peer; server: bind address or NULL */
	const char *port;
};

/*
 * Parse katls-cat's command line into @o.  Returns 0 to run, 1 if --help
 * or --version was handled (exit 0), -1 on a usage error with a message
 * in @err (exit 2).  Restartable: resets getopt's state.
 */
int kcat_parse_args(int argc, char **argv, struct kcat_opts *o,
		    char *err, size_t errlen);

/* Print the usage text to @f. */
void kcat_usage(FILE *f);

#endif /* KATLS_CLI_KCAT_H */
