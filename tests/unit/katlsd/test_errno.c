// SPDX-License-Identifier: GPL-2.0
/*
 * test_errno.c - the GnuTLS error -> DONE status mapping that
 * Documentation/katlsd.rst documents.
 */
#include <errno.h>
#include <gnutls/gnutls.h>

#include "handshake.h"
#include "tap.h"

static const struct {
	int gnutls;
	int err;
	const char *name;
} map[] = {
	{ 0, 0, "success" },
	{ GNUTLS_E_TIMEDOUT, ETIMEDOUT, "GNUTLS_E_TIMEDOUT" },
	{ GNUTLS_E_PREMATURE_TERMINATION, ECONNRESET, "premature termination" },
	{ GNUTLS_E_PULL_ERROR, ECONNRESET, "pull error" },
	{ GNUTLS_E_PUSH_ERROR, ECONNRESET, "push error" },
	{ GNUTLS_E_CERTIFICATE_ERROR, EACCES, "certificate error" },
	{ GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR, EACCES,
	  "certificate verification error" },
	{ GNUTLS_E_MEMORY_ERROR, ENOMEM, "memory" },
	{ GNUTLS_E_INSUFFICIENT_CREDENTIALS, ENOKEY, "no credentials" },
	{ GNUTLS_E_NO_CERTIFICATE_FOUND, ENOKEY, "no certificate" },
	{ GNUTLS_E_FATAL_ALERT_RECEIVED, EPROTO, "fatal alert received" },
	{ GNUTLS_E_UNEXPECTED_PACKET, EPROTO, "unexpected packet" },
	{ GNUTLS_E_NO_CIPHER_SUITES, EPROTO, "no cipher suites" },
	{ GNUTLS_E_UNSUPPORTED_VERSION_PACKET, EPROTO, "unsupported version" },
	{ GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER, EPROTO, "illegal parameter" },
	{ GNUTLS_E_DECRYPTION_FAILED, EPROTO, "decryption failed" },
};

int main(void)
{
	size_t n = sizeof(map) / sizeof(map[0]);

	tap_plan((int)n + 1);
	for (size_t i = 0; i < n; i++) {
		int got = katlsd_gnutls_errno(map[i].gnutls);

		tap_ok(got == map[i].err, "%s -> %d (got %d)", map[i].name,
		       map[i].err, got);
	}
	/* No GnuTLS failure may ever map to success. */
	{
		int bad = 0;

		for (int e = -1; e >= -500; e--)
			if (katlsd_gnutls_errno(e) <= 0)
				bad++;
		tap_ok(bad == 0, "every error code -1..-500 maps to a positive errno");
	}
	return tap_done();
}
