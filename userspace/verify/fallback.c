// SPDX-License-Identifier: GPL-2.0
/*
 * fallback.c - back ends for evidence types whose verifier is not part of
 * this build (cca.c or sim.c absent).  They never accept anything.
 */
#include "verify_int.h"

#ifndef KATLS_HAVE_CCA
int katls_verify_cca(const uint8_t *ev, size_t len,
		     const struct katls_verify_opts *o,
		     struct katls_claims *c, struct katls_verdict *v)
{
	c->tee = KATLS_EVIDENCE_CCA;
	katls_verdict_error(v, "cca verifier not built");
	return -1;
}
#endif

#ifndef KATLS_HAVE_SIM
int katls_verify_sim(const uint8_t *ev, size_t len,
		     const struct katls_verify_opts *o,
		     struct katls_claims *c, struct katls_verdict *v)
{
	c->tee = KATLS_EVIDENCE_SIM;
	katls_verdict_error(v, "sim verifier not built");
	return -1;
}
#endif
