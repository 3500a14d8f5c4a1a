// SPDX-License-Identifier: GPL-2.0
/*
 * sim.c - verifier for the evidence of the test-only simulated
 * configfs-tsm provider (tests/sim-tsm, include/katls/sim_evidence.h).
 *
 * The MAC key is public: a valid MAC proves only that the bytes were not
 * changed after a katls_sim provider (or anyone else) produced them.  The
 * verdict says so, and policies accept "sim" only when they name it.
 */
#include <string.h>
#include <gnutls/crypto.h>

#include <katls/sim_evidence.h>
#include "verify_int.h"

int katls_verify_sim(const uint8_t *ev, size_t len,
		     const struct katls_verify_opts *o,
		     struct katls_claims *c, struct katls_verdict *v)
{
	uint8_t mac[KATLS_SIM_MAC_LEN];
	uint16_t version, flags;
	bool ok = false;

	memset(c, 0, sizeof(*c));
	c->tee = KATLS_EVIDENCE_SIM;

	if (!ev || len != KATLS_SIM_LEN) {
		katls_verdict_error(v, "sim evidence: size %zu, expected %d",
				    ev ? len : 0, KATLS_SIM_LEN);
		goto out;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, ev, len,
			     c->evidence_digest) < 0) {
		katls_verdict_error(v, "sim evidence: cannot hash the evidence");
		goto out;
	}
	if (memcmp(ev + KATLS_SIM_OFF_MAGIC, KATLS_SIM_MAGIC, 8)) {
		katls_verdict_error(v, "sim evidence: bad magic");
		goto out;
	}
	version = kv_le16(ev + KATLS_SIM_OFF_VERSION);
	flags = kv_le16(ev + KATLS_SIM_OFF_FLAGS);
	c->version = version;
	if (version != KATLS_SIM_VERSION) {
		katls_verdict_error(v, "sim evidence: version %u, expected %d",
				    version, KATLS_SIM_VERSION);
		goto out;
	}

	/* Claims first, so that a caller sees them even when invalid. */
	memcpy(c->measurement, ev + KATLS_SIM_OFF_MEAS, KATLS_SIM_MEAS_LEN);
	c->measurement_len = KATLS_SIM_MEAS_LEN;
	memcpy(c->report_data, ev + KATLS_SIM_OFF_RD, KATLS_SIM_RD_LEN);
	c->sim.flags = flags;
	c->debug = flags & KATLS_SIM_FLAG_DEBUG;
	ok = true;

	if (flags & ~KATLS_SIM_FLAG_DEBUG) {
		katls_verdict_error(v, "sim evidence: unknown flags 0x%04x",
				    flags);
		ok = false;
	}
	if (kv_le32(ev + 12)) {
		katls_verdict_error(v, "sim evidence: reserved field not zero");
		ok = false;
	}

	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, KATLS_SIM_KEY,
			     KATLS_SIM_KEY_LEN, ev, KATLS_SIM_OFF_MAC,
			     mac) < 0) {
		katls_verdict_error(v, "sim evidence: HMAC-SHA256 failed");
		ok = false;
	} else if (gnutls_memcmp(mac, ev + KATLS_SIM_OFF_MAC,
				 KATLS_SIM_MAC_LEN)) {
		katls_verdict_error(v, "sim evidence: MAC does not verify");
		ok = false;
	} else {
		katls_verdict_check(v, "checked: sim evidence MAC (HMAC-SHA256 with the PUBLIC test key: integrity only, no hardware root of trust)");
	}
	gnutls_memset(mac, 0, sizeof(mac));

	if (o && o->expected_report_data &&
	    gnutls_memcmp(o->expected_report_data, c->report_data,
			  sizeof(c->report_data))) {
		katls_verdict_error(v, "sim evidence: report data does not match the expected value");
		ok = false;
	}
	katls_verdict_check(v, "checked: sim flags 0x%04x (%s)", flags,
			    c->debug ? "debug" : "not debug");
	katls_verdict_check(v, "not checked: sim measurement against reference values (policy)");
out:
	if (ok)
		ok = v->nerrors == 0;
	v->valid = ok;
	return ok ? 0 : -1;
}
