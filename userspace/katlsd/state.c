// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - load configuration, policies and credentials as one unit, so
 * that a SIGHUP reload either replaces all of them or none.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "katlsd.h"
#include "log.h"

static int load_creds(struct katlsd_state *st, char *err, size_t errlen)
{
	const struct katlsd_config *c = &st->cfg;
	int ret;

	if (c->certificate) {
		ret = gnutls_certificate_allocate_credentials(&st->server_creds);
		if (ret < 0)
			goto gnutls_fail;
		ret = gnutls_certificate_set_x509_key_file2(
			st->server_creds, c->certificate, c->private_key,
			GNUTLS_X509_FMT_PEM, NULL, 0);
		if (ret < 0) {
			snprintf(err, errlen, "%s / %s: %s", c->certificate,
				 c->private_key, gnutls_strerror(ret));
			return -1;
		}
	}

	ret = gnutls_certificate_allocate_credentials(&st->client_creds);
	if (ret < 0)
		goto gnutls_fail;
	if (c->truststore) {
		if (!strcmp(c->truststore, "system"))
			ret = gnutls_certificate_set_x509_system_trust(
				st->client_creds);
		else
			ret = gnutls_certificate_set_x509_trust_file(
				st->client_creds, c->truststore,
				GNUTLS_X509_FMT_PEM);
		if (ret <= 0) {
			snprintf(err, errlen, "truststore %s: %s",
				 c->truststore,
				 ret < 0 ? gnutls_strerror(ret) :
					   "no certificate");
			return -1;
		}
		st->have_truststore = true;
	}
	return 0;
gnutls_fail:
	snprintf(err, errlen, "%s", gnutls_strerror(ret));
	return -1;
}

int katlsd_state_load(struct katlsd_state *st, const char *path,
		      char *err, size_t errlen)
{
	char perr[512];

	memset(st, 0, sizeof(*st));
	katlsd_config_init(&st->cfg);
	if (katlsd_config_load(&st->cfg, path, err, errlen) ||
	    katlsd_config_check_paths(&st->cfg, err, errlen))
		goto fail;
	if (katls_policy_load_dir(st->cfg.policy_dir, &st->policies, perr,
				  sizeof(perr))) {
		snprintf(err, errlen, "policies: %s", perr);
		goto fail;
	}
	if (load_creds(st, err, errlen))
		goto fail;
	if (katlsd_sandbox_user(&st->sandbox)) {
		snprintf(err, errlen,
			 "no user \"%s\" for the handshake sandbox",
			 KATLSD_SANDBOX_USER);
		goto fail;
	}
	return 0;
fail:
	katlsd_state_free(st);
	return -1;
}

void katlsd_state_free(struct katlsd_state *st)
{
	if (st->server_creds)
		gnutls_certificate_free_credentials(st->server_creds);
	if (st->client_creds)
		gnutls_certificate_free_credentials(st->client_creds);
	if (st->policies)
		katls_policy_set_free(st->policies);
	katlsd_config_free(&st->cfg);
	memset(st, 0, sizeof(*st));
}
