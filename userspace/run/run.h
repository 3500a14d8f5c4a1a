/* SPDX-License-Identifier: GPL-2.0 */
/*
 * run.h - what katls-run (the wrapper) and libkatls-run.so (the
 * LD_PRELOAD shim) share: the configuration, its parsing from the
 * command line and from the environment, and the port filter.
 *
 * The wrapper checks its options, writes them into the environment
 * (KATLS_RUN_*), puts the shim in LD_PRELOAD and execs the command; the
 * shim reads the same variables when it is loaded.  Both use the
 * functions below, so what the wrapper accepts the shim accepts.
 */
#ifndef KATLS_RUN_H
#define KATLS_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <katls/katls.h>

/* The environment the wrapper sets for the shim. */
#define KRUN_ENV_ROLE		"KATLS_RUN_ROLE"	/* client | server */
#define KRUN_ENV_POLICY		"KATLS_RUN_POLICY"
#define KRUN_ENV_PEERNAME	"KATLS_RUN_PEERNAME"
#define KRUN_ENV_PORTS		"KATLS_RUN_PORTS"	/* P,P,... or empty */
#define KRUN_ENV_TIMEOUT	"KATLS_RUN_TIMEOUT_MS"
#define KRUN_ENV_QUIET		"KATLS_RUN_QUIET"	/* 1: no messages */

/* At most this many ports in --port. */
#define KRUN_PORTS_MAX		64

struct krun_config {
	enum katls_role role;
	char policy[KATLS_POLICY_MAX];
	char peername[KATLS_PEERNAME_MAX];
	bool has_peername;
	unsigned int timeout_ms;
	unsigned int nports;		/* 0: every port */
	uint16_t ports[KRUN_PORTS_MAX];
	bool quiet;
};

/* Error text of the parsers: at most this long, NUL included. */
#define KRUN_ERR_MAX		160

/*
 * "443,8443": 1 to KRUN_PORTS_MAX decimal ports 1..65535 separated by
 * commas, no spaces, no empty entries.  Returns 0, or -1 with @err set.
 */
int krun_parse_ports(struct krun_config *c, const char *s, char *err);

/* Policy name: 1..KATLS_POLICY_MAX-1 of [A-Za-z0-9._-].  0 or -1. */
int krun_set_policy(struct krun_config *c, const char *s, char *err);

/* Peer name: 0..KATLS_PEERNAME_MAX-1 printable non-space characters. */
int krun_set_peername(struct krun_config *c, const char *s, char *err);

/* Handshake timeout in ms, 1..KATLS_TIMEOUT_MAX_MS.  0 or -1. */
int krun_set_timeout(struct krun_config *c, const char *s, char *err);

/* Defaults: client, policy "default", no peer name, every port. */
void krun_config_init(struct krun_config *c);

/*
 * The wrapper's command line (argv[0] is the program name).  Returns the
 * index of CMD in @argv (> 0), 0 for --help, or -1 with @err set.
 */
int krun_parse_argv(int argc, char **argv, struct krun_config *c, char *err);

/*
 * The shim's configuration from the environment, through @get (getenv
 * or a test's table).  KATLS_RUN_ROLE must be set: without it the shim
 * was not started by katls-run.  Returns 0 or -1 with @err set.
 */
int krun_config_from_env(struct krun_config *c,
			 const char *(*get)(const char *name), char *err);

/* true if @port is to be opted in (no --port, or listed). */
bool krun_port_selected(const struct krun_config *c, uint16_t port);

/* The ports as "P,P,..." into @buf (at least KRUN_PORTS_STR_MAX). */
#define KRUN_PORTS_STR_MAX	(KRUN_PORTS_MAX * 6 + 1)
void krun_format_ports(const struct krun_config *c, char *buf);

#endif /* KATLS_RUN_H */
