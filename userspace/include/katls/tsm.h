/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katls/tsm.h - attester backend on the kernel's configfs-tsm report ABI
 * (Documentation/ABI/testing/configfs-tsm-report in the kernel tree).
 *
 * Each call creates its own report entry under the root directory, so
 * concurrent callers (katlsd workers) never share inputs:
 *
 *   mkdir ROOT/katls-PID-SEQ        (ENXIO: no provider registered)
 *   write 64 bytes to inblob        (generation becomes 1)
 *   read generation                 must be 1, else someone else wrote
 *   read outblob                    the provider generates the report here
 *   read auxblob (may be absent), provider
 *   read generation                 unchanged, else retry
 *   rmdir ROOT/katls-PID-SEQ        always
 *
 * EBUSY/EAGAIN (a quote already in flight) and generation races are
 * retried on a fresh entry with exponential back-off, up to max_attempts.
 * Nothing here makes up evidence: the bytes are what the kernel returned.
 */
#ifndef KATLS_TSM_H
#define KATLS_TSM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/katls.h>	/* enum katls_evidence_type */

#define KATLS_TSM_DEFAULT_ROOT	"/sys/kernel/config/tsm/report"
#define KATLS_TSM_INBLOB_LEN	64
#define KATLS_TSM_OUTBLOB_MAX	32768	/* TSM_OUTBLOB_MAX in the kernel */
#define KATLS_TSM_AUXBLOB_MAX	65536
#define KATLS_TSM_PROVIDER_MAX	64	/* including the NUL */
#define KATLS_TSM_DEFAULT_ATTEMPTS	8
#define KATLS_TSM_DEFAULT_BACKOFF_MS	10
#define KATLS_TSM_MAX_BACKOFF_MS	1000

/* Steps at which the test seam is called. */
enum katls_tsm_step {
	KATLS_TSM_STEP_MKDIR,		/* entry created */
	KATLS_TSM_STEP_INBLOB,		/* inblob written */
	KATLS_TSM_STEP_OUTBLOB,		/* outblob read */
	KATLS_TSM_STEP_RMDIR,		/* about to remove the entry */
};

/** struct katls_tsm_opts - NULL or zeroed fields mean the defaults */
struct katls_tsm_opts {
	const char *root;		/* KATLS_TSM_DEFAULT_ROOT */
	unsigned int max_attempts;	/* KATLS_TSM_DEFAULT_ATTEMPTS */
	unsigned int backoff_ms;	/* first back-off, doubled, capped */
	/*
	 * Seam called at each step: unit tests use it to emulate the
	 * configfs attribute files in an ordinary directory; katlsd records
	 * the entry for its alarm backstop.  A negative return is handled
	 * as if that step had failed with that errno.
	 */
	int (*hook)(enum katls_tsm_step step, const char *entry, void *arg);
	void *hook_arg;
};

/**
 * struct katls_tsm_report - one report, owned by the caller.  outblob and
 * auxblob are malloc'd with their exact length; a caller may take them
 * over (set the pointers to NULL before katls_tsm_report_free) and
 * release them with free().
 */
struct katls_tsm_report {
	char provider[KATLS_TSM_PROVIDER_MAX];	/* "tdx_guest", ... */
	enum katls_evidence_type type;		/* NONE if provider unknown */
	uint8_t *outblob;			/* the evidence */
	size_t outblob_len;			/* 1..KATLS_TSM_OUTBLOB_MAX */
	uint8_t *auxblob;			/* NULL if none */
	size_t auxblob_len;			/* 0..KATLS_TSM_AUXBLOB_MAX */
	uint64_t generation;			/* as read after outblob */
	unsigned int attempts;			/* 1 if no retry was needed */
};

/*
 * Get a report with inblob as report data.  Returns 0 and fills *r (free
 * it with katls_tsm_report_free), or a negative errno:
 *   -EINVAL  bad arguments
 *   -ENOENT  no configfs-tsm at root (module not loaded, not mounted)
 *   -ENXIO   configfs-tsm present but no provider registered
 *   -EBUSY / -EAGAIN  still busy after max_attempts
 *   -ESTALE  generation raced on every attempt
 *   -EFBIG   outblob or auxblob over its bound
 *   -ENODATA empty outblob
 *   -EPROTO  malformed generation or provider attribute
 *   other    the errno of the failing system call
 * Blocks while the provider generates the quote (seconds on TDX).
 */
int katls_tsm_get_report(const struct katls_tsm_opts *o,
			 const uint8_t inblob[KATLS_TSM_INBLOB_LEN],
			 struct katls_tsm_report *r);
void katls_tsm_report_free(struct katls_tsm_report *r);

/* tdx_guest -> TDX, sev_guest -> SNP, arm_cca_guest -> CCA, katls_sim -> SIM */
enum katls_evidence_type katls_tsm_provider_type(const char *provider);

#endif /* KATLS_TSM_H */
