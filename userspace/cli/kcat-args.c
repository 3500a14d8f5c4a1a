// SPDX-License-Identifier: GPL-2.0
/*
 * kcat-args.c - command line of katls-cat.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <katls/katls.h>
#include "kcat.h"

#define KCAT_VERSION "0.1.0"

void kcat_usage(FILE *f)
{
	fprintf(f,
"Usage: katls-cat [OPTION]... HOST PORT        connect (client: verifies)\n"
"       katls-cat -l [OPTION]... [ADDR] PORT   serve one connection (attests)\n"
"Copy stdin to an attested katls connection and the connection to stdout.\n"
"\n"
"  -l, --listen          accept one connection on PORT (server role)\n"
"  -4, -6                IPv4 or IPv6 only (with -l: bind 0.0.0.0 or ::)\n"
"  -p, --policy NAME     katlsd policy to apply (default \"%s\")\n"
"  -n, --peer-name NAME  name the server must prove (client; default: HOST)\n"
"  -t, --timeout MS      TCP connect and handshake timeout (max %u)\n"
"  -f, --sendfile FILE   send FILE with sendfile(2) instead of stdin\n"
"  -c, --cert FILE       server certificate: must be katlsd's (see man page)\n"
"  -k, --key FILE        server key: checked for readability only\n"
"  -q, --quiet           do not print the evidence summary\n"
"  -h, --help            this text\n"
"  -V, --version         print the version\n"
"\n"
"Exit status: 0 success (the peer ended its data with TLS close_notify),\n"
"1 connection, attestation or I/O failure or a truncated stream, 2 usage.\n",
		KATLS_POLICY_DEFAULT, KATLS_TIMEOUT_MAX_MS);
}

static int fail(char *err, size_t errlen, const char *msg, const char *arg)
{
	snprintf(err, errlen, "%s%s%s%s", msg, arg ? " '" : "",
		 arg ? arg : "", arg ? "'" : "");
	return -1;
}

static bool valid_policy(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= KATLS_POLICY_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._-") == n;
}

int kcat_parse_args(int argc, char **argv, struct kcat_opts *o,
		    char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "listen",	no_argument,		NULL, 'l' },
		{ "policy",	required_argument,	NULL, 'p' },
		{ "peer-name",	required_argument,	NULL, 'n' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "sendfile",	required_argument,	NULL, 'f' },
		{ "cert",	required_argument,	NULL, 'c' },
		{ "key",	required_argument,	NULL, 'k' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long ul;
	char *end;
	int c, npos;

	memset(o, 0, sizeof(*o));
	err[0] = '\0';
	optind = 0;		/* full re-initialisation (GNU) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:l46p:n:t:f:c:k:qhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = true;
			break;
		case '4':
		case '6':
			if (o->family)
				return fail(err, errlen,
					    "-4 and -6 are exclusive", NULL);
			o->family = c == '4' ? AF_INET : AF_INET6;
			break;
		case 'p':
			if (!valid_policy(optarg))
				return fail(err, errlen,
					    "invalid policy name (1-63 of [A-Za-z0-9._-])",
					    optarg);
			o->policy = optarg;
			break;
		case 'n':
			if (!*optarg || strlen(optarg) >= KATLS_PEERNAME_MAX)
				return fail(err, errlen, "invalid peer name",
					    optarg);
			o->peername = optarg;
			break;
		case 't':
			if (optarg[0] < '0' || optarg[0] > '9')
				return fail(err, errlen, "invalid timeout",
					    optarg);
			errno = 0;
			ul = strtoul(optarg, &end, 10);
			if (errno || *end || ul == 0 ||
			    ul > KATLS_TIMEOUT_MAX_MS)
				return fail(err, errlen,
					    "timeout must be 1..300000 ms, not",
					    optarg);
			o->timeout_ms = (unsigned int)ul;
			break;
		case 'f':
			o->sendfile = optarg;
			break;
		case 'c':
			o->cert = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			kcat_usage(stdout);
			return 1;
		case 'V':
			printf("katls-cat " KCAT_VERSION "\n");
			return 1;
		case ':':
			return fail(err, errlen, "option needs an argument:",
				    argv[optind - 1]);
		default:
			if (optopt) {
				char opt[3] = { '-', (char)optopt, '\0' };

				return fail(err, errlen, "unknown option",
					    opt);
			}
			return fail(err, errlen, "unknown option",
				    argv[optind - 1]);
		}
	}

	npos = argc - optind;
	if (o->listen) {
		if (npos < 1 || npos > 2)
			return fail(err, errlen,
				    "-l takes [ADDR] PORT", NULL);
		if (npos == 2)
			o->host = argv[optind++];
		o->port = argv[optind];
		if (o->peername)
			return fail(err, errlen,
				    "--peer-name is for clients (the server does not verify)",
				    NULL);
	} else {
		if (npos != 2)
			return fail(err, errlen, "expected HOST PORT", NULL);
		o->host = argv[optind];
		o->port = argv[optind + 1];
		if (o->cert || o->key)
			return fail(err, errlen,
				    "--cert/--key are for servers (-l)", NULL);
	}
	if (!*o->port || (o->host && !*o->host))
		return fail(err, errlen, "empty host or port", NULL);
	if ((o->cert == NULL) != (o->key == NULL))
		return fail(err, errlen, "--cert and --key go together", NULL);
	return 0;
}
