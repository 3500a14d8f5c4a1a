/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - /etc/katls/katlsd.conf.
 *
 * An INI file: "[section]" lines, "key = value" lines, comments starting
 * with '#' or ';'.  Unknown sections and keys, duplicates and malformed
 * values are errors reported as "FILE:LINE: message"; a file with an
 * error is never partly applied.  Documentation/katlsd.rst is the
 * reference for every key.
 */
#ifndef KATLSD_CONFIG_H
#define KATLSD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define KATLSD_DEFAULT_CONFIG		"/etc/katls/katlsd.conf"
#define KATLSD_DEFAULT_POLICY_DIR	"/etc/katls/policy.d"
#define KATLSD_DEFAULT_CONCURRENCY	64
#define KATLSD_MAX_CONCURRENCY		4096
#define KATLSD_CONFIG_LINE_MAX		4096
#define KATLSD_MAX_WORKERS		256
#define KATLSD_MAX_WAITING		65536

struct katlsd_config {
	/* [katlsd] */
	unsigned int concurrency;
	unsigned int workers;		/* 0: one per CPU, at least 2 */
	unsigned int max_per_uid;	/* 0: 3/4 of concurrency */
	unsigned int max_per_peer;	/* 0: 3/4 of concurrency */
	unsigned int max_waiting;	/* 0: 4 x concurrency */
	int log_level;			/* LOG_* */
	char *policy_dir;

	/* [server]: the attester role */
	char *certificate;		/* PEM chain, leaf first */
	char *private_key;		/* PEM key or PKCS#11 URL */
	char *tsm_root;			/* configfs-tsm report directory */

	/* [client]: the verifier role */
	char *truststore;		/* PEM CA bundle, "system", or NULL */
	/* evidence_bound_key lives in the policy files (rejected here) */

	/* [evidence]: the quote broker (qbroker.h) */
	unsigned int max_batch;		/* handshakes per report */

	/* [verify]: passed to the evidence verifiers */
	char *roots_dir;
	char *certs_dir;
	char *collateral_dir;
	char *cpak_file;
};

/* Fill c with the defaults. */
void katlsd_config_init(struct katlsd_config *c);
/*
 * Parse path into c (which must come from katlsd_config_init).  On error
 * returns -1, writes "FILE:LINE: message" (or "FILE: message") to err and
 * leaves c as it was.
 */
int katlsd_config_load(struct katlsd_config *c, const char *path,
		       char *err, size_t errlen);
void katlsd_config_free(struct katlsd_config *c);

/**
 * struct katlsd_pool_limits - the worker pool's sizes with the defaults
 *	resolved (Documentation/katlsd.rst, "Process model")
 * @workers: pool worker processes (at most concurrency)
 * @per_worker: handshakes one worker runs at once (concurrency / workers,
 *	rounded up)
 * @max_per_uid, @max_per_peer, @max_waiting: the admission (fair.h)
 */
struct katlsd_pool_limits {
	unsigned int workers, per_worker;
	unsigned int max_per_uid, max_per_peer, max_waiting;
};

/* ncpu: online CPUs (the default of workers). */
void katlsd_config_pool(const struct katlsd_config *c, unsigned int ncpu,
			struct katlsd_pool_limits *l);

/*
 * Does every configured path exist with the right kind (directories for
 * policy_dir, tsm_root, roots_dir, certs_dir, collateral_dir; a file for
 * cpak_file)?  0, or -1 with "[section] key = path: reason" in err.
 */
int katlsd_config_check_paths(const struct katlsd_config *c, char *err,
			      size_t errlen);

#endif /* KATLSD_CONFIG_H */
