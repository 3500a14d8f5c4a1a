// SPDX-License-Identifier: GPL-2.0
/*
 * test-kcat-args.c - katls-cat's command line parser.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kcat.h"
#include "tap.h"

static struct kcat_opts o;
static char err[160];

/* Parse a NULL-terminated argument list (argv[0] included). */
static int parse(const char *first, ...)
{
	static char *argv[32];
	va_list ap;
	int argc = 0;

	argv[argc++] = (char *)first;
	va_start(ap, first);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return kcat_parse_args(argc, argv, &o, err, sizeof(err));
}

#define BAD(why, ...)							\
	do {								\
		int r_ = parse("katls-cat", __VA_ARGS__, (char *)NULL);	\
		tap_ok(r_ == -1 && err[0], "rejects %s (%s)", why, err);\
	} while (0)

int main(void)
{
	char longpol[80];

	tap_plan_lazy();

	tap_ok(parse("katls-cat", "host.example", "443", NULL) == 0 &&
	       !o.listen && !strcmp(o.host, "host.example") &&
	       !strcmp(o.port, "443") && !o.policy && !o.timeout_ms &&
	       o.family == 0 && !o.quiet, "client: HOST PORT, defaults");

	tap_ok(parse("katls-cat", "--policy", "sim-test", "--timeout", "2500",
		     "-n", "srv.example", "-6", "-q", "::1", "9000", NULL) == 0
	       && !strcmp(o.policy, "sim-test") && o.timeout_ms == 2500 &&
	       !strcmp(o.peername, "srv.example") && o.family == AF_INET6 &&
	       o.quiet && !strcmp(o.host, "::1"),
	       "client: long and short options");

	tap_ok(parse("katls-cat", "-l", "9000", NULL) == 0 && o.listen &&
	       !o.host && !strcmp(o.port, "9000"), "server: -l PORT");
	tap_ok(parse("katls-cat", "-l", "-4", "127.0.0.1", "9000", NULL) == 0
	       && o.listen && !strcmp(o.host, "127.0.0.1") &&
	       o.family == AF_INET, "server: -l -4 ADDR PORT");
	tap_ok(parse("katls-cat", "-l", "--cert", "c.pem", "--key", "k.pem",
		     "--sendfile", "f", "9000", NULL) == 0 &&
	       !strcmp(o.cert, "c.pem") && !strcmp(o.key, "k.pem") &&
	       !strcmp(o.sendfile, "f"), "server: --cert --key --sendfile");
	tap_ok(parse("katls-cat", "--policy=a.b_c-1", "h", "1", NULL) == 0 &&
	       !strcmp(o.policy, "a.b_c-1"), "--policy=NAME form");
	tap_ok(parse("katls-cat", "--timeout", "300000", "h", "1", NULL) == 0
	       && o.timeout_ms == 300000, "timeout at the maximum");
	{
		/* Keep the usage text out of the TAP stream. */
		int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
		int r;

		fflush(stdout);
		dup2(null, STDOUT_FILENO);
		r = parse("katls-cat", "--help", NULL);
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		close(null);
		tap_ok(r == 1, "--help: handled, exit 0");
	}

	/* Options after the operands are not options (netcat style). */
	tap_ok(parse("katls-cat", "h", "1", "-l", NULL) == -1,
	       "options after HOST PORT are operands: rejected");

	memset(longpol, 'a', 64);
	longpol[64] = '\0';
	BAD("a policy of 64 characters", "--policy", longpol, "h", "1");
	longpol[63] = '\0';
	tap_ok(parse("katls-cat", "--policy", longpol, "h", "1", NULL) == 0,
	       "a policy of 63 characters");
	BAD("an empty policy", "--policy", "", "h", "1");
	BAD("a policy with '/'", "--policy", "../x", "h", "1");
	BAD("timeout 0", "--timeout", "0", "h", "1");
	BAD("timeout above the maximum", "--timeout", "300001", "h", "1");
	BAD("negative timeout", "--timeout", "-5", "h", "1");
	BAD("timeout with junk", "--timeout", "10ms", "h", "1");
	BAD("a huge timeout", "--timeout", "99999999999999999999", "h", "1");
	BAD("-4 with -6", "-4", "-6", "h", "1");
	BAD("--cert for a client", "--cert", "c", "--key", "k", "h", "1");
	BAD("--cert without --key", "-l", "--cert", "c", "1");
	BAD("--peer-name for a server", "-l", "--peer-name", "x", "1");
	BAD("a missing PORT", "h");
	BAD("three operands", "h", "1", "2");
	BAD("-l without PORT", "-l");
	BAD("an empty port", "h", "");
	BAD("an unknown option", "--frobnicate", "h", "1");
	BAD("a missing option argument", "h", "1", "--policy");
	{
		int r = parse("katls-cat", "--policy", NULL);

		tap_ok(r == -1 && strstr(err, "argument"),
		       "option without its argument: \"%s\"", err);
	}
	return tap_done();
}
