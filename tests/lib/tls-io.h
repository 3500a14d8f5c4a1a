/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tls-io.h - whole-buffer I/O over a GnuTLS session, for the test
 * programs that speak TLS themselves (tools/attack/katls-attack.c,
 * tests/e2e/post/rogue.c):
 *
 *	if (tls_rec_all(s, hdr, NULL, sizeof(hdr)))	... send failed
 *	if (tls_rec_all(s, NULL, buf, len))		... receive failed
 */
#ifndef KATLS_TESTS_TLS_IO_H
#define KATLS_TESTS_TLS_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <gnutls/gnutls.h>

/*
 * All @n bytes over the TLS session: sent from @out, or (@out NULL)
 * received into @in.  Returns 0 or a negative GnuTLS error (a send that
 * moves nothing: GNUTLS_E_PUSH_ERROR; EOF: GNUTLS_E_PREMATURE_TERMINATION).
 */
static inline int tls_rec_all(gnutls_session_t s, const uint8_t *out,
			      uint8_t *in, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = out ? gnutls_record_send(s, out + done, n - done) :
				  gnutls_record_recv(s, in + done, n - done);

		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return r < 0 ? (int)r :
			       out ? GNUTLS_E_PUSH_ERROR :
				     GNUTLS_E_PREMATURE_TERMINATION;
		done += r;
	}
	return 0;
}

#endif /* KATLS_TESTS_TLS_IO_H */
