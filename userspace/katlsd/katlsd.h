/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katlsd.h - daemon state shared by main.c and worker.c.
 */
#ifndef KATLSD_H
#define KATLSD_H

#include <stdbool.h>
#include <gnutls/gnutls.h>
#include <katls/verify.h>

#include "config.h"
#include "handshake.h"
#include "sandbox.h"

#define KATLSD_VERSION	"0.1"

/* Child exit codes (worker.c); anything else is a crash. */
enum {
	KATLSD_EXIT_DONE = 0,		/* DONE sent, status 0 */
	KATLSD_EXIT_FAILED = 1,		/* DONE sent, status != 0 */
	KATLSD_EXIT_EMPTY = 3,		/* ACCEPT: nothing pending */
	KATLSD_EXIT_NETLINK = 4,	/* ACCEPT/DONE failed */
	KATLSD_EXIT_ALARM = 5,		/* alarm backstop fired */
	KATLSD_EXIT_SANDBOX = 6,	/* sandbox could not be set up */
};

/** struct katlsd_state - everything a reload replaces at once */
struct katlsd_state {
	struct katlsd_config cfg;
	struct katls_policy_set *policies;
	gnutls_certificate_credentials_t server_creds;	/* NULL: no server */
	gnutls_certificate_credentials_t client_creds;
	bool have_truststore;
	struct katlsd_sandbox sandbox;	/* whom the sandbox runs as */
};

/* Load config file, policies, credentials.  0, or -1 with err set. */
int katlsd_state_load(struct katlsd_state *st, const char *config_path,
		      char *err, size_t errlen);
void katlsd_state_free(struct katlsd_state *st);

/*
 * A pool worker (worker.c): ACCEPTs and serves up to cap requests at
 * once until SIGTERM or until its parent goes, then finishes what runs.
 * Returns an exit code.  st is the child's own copy (the sandbox frees
 * its key).  ctl: its line to the parent, for admission (fair.h) and to
 * pass each request's line to the quote broker (qbroker.h).
 */
int katlsd_worker(struct katlsd_state *st, int ctl, unsigned int cap);


#endif /* KATLSD_H */
