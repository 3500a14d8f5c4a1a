// SPDX-License-Identifier: GPL-2.0
/*
 * test-args.c - katls-run's option, environment and port parsing
 * (userspace/run/args.c), on the host under ASan/UBSan.
 */
#include <errno.h>
#include <string.h>

#include "run.h"
#include "tap.h"

#define ARGV(...) ((char *[]){ "katls-run", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "katls-run", __VA_ARGS__ }) / \
			 sizeof(char *)))
#define PARSE(c, err, ...) \
	krun_parse_argv(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), c, err)

static const char *env_tab[16][2];

static const char *tab_get(const char *name)
{
	for (int i = 0; i < 16 && env_tab[i][0]; i++)
		if (!strcmp(env_tab[i][0], name))
			return env_tab[i][1];
	return NULL;
}

static void env_set(int i, const char *n, const char *v)
{
	env_tab[i][0] = n;
	env_tab[i][1] = v;
	env_tab[i + 1][0] = NULL;
}

static void ports(void)
{
	struct krun_config c;
	char err[KRUN_ERR_MAX], buf[KRUN_PORTS_STR_MAX];
	char many[512] = "";

	krun_config_init(&c);
	tap_ok(krun_parse_ports(&c, "443", err) == 0 && c.nports == 1 &&
	       c.ports[0] == 443, "ports: one port");
	tap_ok(krun_parse_ports(&c, "1,65535,8443", err) == 0 &&
	       c.nports == 3 && c.ports[0] == 1 && c.ports[1] == 65535 &&
	       c.ports[2] == 8443, "ports: list, bounds 1 and 65535");
	krun_format_ports(&c, buf);
	tap_ok(!strcmp(buf, "1,65535,8443"), "ports: formatted back (%s)",
	       buf);
	tap_ok(krun_port_selected(&c, 8443) && !krun_port_selected(&c, 80),
	       "ports: listed port selected, other not");
	krun_config_init(&c);
	tap_ok(krun_port_selected(&c, 80) && krun_port_selected(&c, 1),
	       "ports: no list selects every port");
	static const char *bad[] = {
		"", "0", "65536", "99999999999", "80,", ",80", "80,,81",
		"8 0", "-1", "+80", "0x50", "80a", "a", " 80", "80 ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		krun_config_init(&c);
		errno = 0;
		tap_ok(krun_parse_ports(&c, bad[i], err) < 0 &&
		       errno == EINVAL && err[0] && c.nports == 0,
		       "ports: '%s' refused (%s)", bad[i], err);
	}
	for (int i = 1; i <= KRUN_PORTS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "%s%d", i > 1 ? "," : "", i);
	krun_config_init(&c);
	tap_ok(krun_parse_ports(&c, many, err) == 0 &&
	       c.nports == KRUN_PORTS_MAX, "ports: %d accepted",
	       KRUN_PORTS_MAX);
	strcat(many, ",999");
	krun_config_init(&c);
	tap_ok(krun_parse_ports(&c, many, err) < 0 && strstr(err, "more than"),
	       "ports: %d refused (%s)", KRUN_PORTS_MAX + 1, err);
}

static void argv_parsing(void)
{
	struct krun_config c;
	char err[KRUN_ERR_MAX];
	char longpol[KATLS_POLICY_MAX + 2];
	int i;

	i = PARSE(&c, err, "--", "curl", "-v");
	tap_ok(i == 2 && c.role == KATLS_ROLE_CLIENT &&
	       !strcmp(c.policy, "default") && !c.has_peername &&
	       !c.nports && !c.timeout_ms && !c.quiet,
	       "argv: defaults, CMD after --");
	i = PARSE(&c, err, "--policy", "sim-demo", "--server", "--port",
		  "80,443", "--peer-name", "srv.example", "--timeout", "5000",
		  "-q", "--", "nginx", "-g", "daemon off;");
	tap_ok(i == 12 && c.role == KATLS_ROLE_SERVER &&
	       !strcmp(c.policy, "sim-demo") && c.has_peername &&
	       !strcmp(c.peername, "srv.example") && c.nports == 2 &&
	       c.timeout_ms == 5000 && c.quiet,
	       "argv: every long option");
	i = PARSE(&c, err, "-p", "a.b_c-1", "-s", "-P", "9000", "-n", "x",
		  "-t", "1", "prog", "--policy", "y");
	tap_ok(i == 10 && !strcmp(c.policy, "a.b_c-1") &&
	       c.role == KATLS_ROLE_SERVER && c.ports[0] == 9000,
	       "argv: short options; options after CMD belong to CMD");
	i = PARSE(&c, err, "--policy=p1", "--port=7", "--peer-name=", "cmd");
	tap_ok(i == 4 && !strcmp(c.policy, "p1") && c.ports[0] == 7 &&
	       c.has_peername && !c.peername[0],
	       "argv: --opt=value, empty peer name means none");
	tap_ok(PARSE(&c, err, "--help") == 0 && PARSE(&c, err, "-h", "x") == 0,
	       "argv: --help");
	tap_ok(PARSE(&c, err, "--policy") < 0 && strstr(err, "needs a value"),
	       "argv: missing value (%s)", err);
	tap_ok(PARSE(&c, err, "--policy", "sim demo", "x") < 0,
	       "argv: policy with a space refused (%s)", err);
	tap_ok(PARSE(&c, err, "--policy", "", "x") < 0,
	       "argv: empty policy refused (%s)", err);
	memset(longpol, 'a', sizeof(longpol) - 1);
	longpol[sizeof(longpol) - 1] = '\0';
	tap_ok(PARSE(&c, err, "--policy", longpol, "x") < 0,
	       "argv: %zu-character policy refused", strlen(longpol));
	longpol[KATLS_POLICY_MAX - 1] = '\0';
	tap_ok(PARSE(&c, err, "--policy", longpol, "x") == 3,
	       "argv: %d-character policy accepted", KATLS_POLICY_MAX - 1);
	tap_ok(PARSE(&c, err, "--peer-name", "a b", "x") < 0 &&
	       PARSE(&c, err, "--peer-name", "a\tb", "x") < 0,
	       "argv: peer name with blanks refused (%s)", err);
	tap_ok(PARSE(&c, err, "--port", "0", "x") < 0,
	       "argv: port 0 refused (%s)", err);
	tap_ok(PARSE(&c, err, "--timeout", "0", "x") < 0 &&
	       PARSE(&c, err, "--timeout", "300001", "x") < 0 &&
	       PARSE(&c, err, "--timeout", "300000", "x") == 3,
	       "argv: timeout 1..%d ms", KATLS_TIMEOUT_MAX_MS);
	tap_ok(PARSE(&c, err, "--frobnicate", "x") < 0 &&
	       strstr(err, "unknown option"), "argv: unknown option (%s)",
	       err);
	tap_ok(PARSE(&c, err, "--server") < 0 && strstr(err, "no command"),
	       "argv: no command (%s)", err);
	tap_ok(PARSE(&c, err, "--server", "--") < 0,
	       "argv: nothing after --");
	i = PARSE(&c, err, "-", "x");
	tap_ok(i == 1, "argv: '-' is a command name, not an option");
}

static void environment(void)
{
	struct krun_config c;
	char err[KRUN_ERR_MAX];

	env_tab[0][0] = NULL;
	tap_ok(krun_config_from_env(&c, tab_get, err) < 0 &&
	       strstr(err, KRUN_ENV_ROLE), "env: no role: refused (%s)", err);
	env_set(0, KRUN_ENV_ROLE, "client");
	tap_ok(krun_config_from_env(&c, tab_get, err) == 0 &&
	       c.role == KATLS_ROLE_CLIENT && !strcmp(c.policy, "default") &&
	       !c.nports && !c.has_peername && !c.quiet,
	       "env: role alone, defaults");
	env_set(0, KRUN_ENV_ROLE, "server");
	env_set(1, KRUN_ENV_POLICY, "sim-demo");
	env_set(2, KRUN_ENV_PORTS, "9000,9001");
	env_set(3, KRUN_ENV_PEERNAME, "n.example");
	env_set(4, KRUN_ENV_TIMEOUT, "2500");
	env_set(5, KRUN_ENV_QUIET, "1");
	tap_ok(krun_config_from_env(&c, tab_get, err) == 0 &&
	       c.role == KATLS_ROLE_SERVER && !strcmp(c.policy, "sim-demo") &&
	       c.nports == 2 && c.ports[1] == 9001 &&
	       !strcmp(c.peername, "n.example") && c.timeout_ms == 2500 &&
	       c.quiet, "env: every variable");
	env_set(2, KRUN_ENV_PORTS, "");
	tap_ok(krun_config_from_env(&c, tab_get, err) == 0 && !c.nports,
	       "env: empty port list means every port");
	env_set(0, KRUN_ENV_ROLE, "both");
	tap_ok(krun_config_from_env(&c, tab_get, err) < 0,
	       "env: unknown role refused (%s)", err);
	env_set(0, KRUN_ENV_ROLE, "client");
	env_set(1, KRUN_ENV_POLICY, "bad/policy");
	tap_ok(krun_config_from_env(&c, tab_get, err) < 0,
	       "env: invalid policy refused (%s)", err);
	env_set(1, KRUN_ENV_PORTS, "80,x");
	tap_ok(krun_config_from_env(&c, tab_get, err) < 0,
	       "env: invalid port list refused (%s)", err);
}

int main(void)
{
	tap_plan_lazy();
	ports();
	argv_parsing();
	environment();
	return tap_done();
}
