// SPDX-License-Identifier: GPL-2.0
/*
 * test_sim.c - the "sim" verifier: a known-answer structure whose MAC was
 * computed with Python's hmac module (independent of GnuTLS), structures
 * built here with gnutls_hmac_fast, every byte tampered, structural
 * fields changed with a recomputed MAC, wrong key, truncated and
 * oversized input, expected report data, and the dispatcher path.
 */
#include <string.h>
#include <gnutls/crypto.h>

#include <katls/sim_evidence.h>
#include <katls/verify.h>
#include "tap.h"

/* Python: hmac.new(KEY, bytes 0..127, "sha256"), see build() defaults. */
static const uint8_t kat_mac[32] = {
	0xee, 0xc5, 0xb3, 0xcd, 0x0d, 0x66, 0x86, 0x63,
	0xe2, 0x29, 0x4b, 0x66, 0x64, 0xf2, 0x06, 0x23,
	0x67, 0x0e, 0x3f, 0x35, 0xa8, 0xf8, 0xfd, 0xc2,
	0xb1, 0x0a, 0x8e, 0x3c, 0x9d, 0x99, 0xee, 0x6f,
};
/* Python: hashlib.sha256(whole 160 bytes). */
static const uint8_t kat_digest[32] = {
	0x54, 0x36, 0xad, 0x8b, 0x3e, 0xca, 0x94, 0xdc,
	0xd6, 0x59, 0xdc, 0xe6, 0x96, 0xff, 0x87, 0xf6,
	0xf4, 0x81, 0x24, 0xac, 0x7d, 0x1b, 0x31, 0x3f,
	0x6d, 0xd2, 0xeb, 0x25, 0x35, 0x8c, 0xce, 0x3c,
};

/* Fields without MAC: magic, version 1, flags, measurement 0..47, rd 0x40.. */
static void fields(uint8_t *ev, uint16_t version, uint16_t flags)
{
	int i;

	memset(ev, 0, KATLS_SIM_LEN + 1);
	memcpy(ev, KATLS_SIM_MAGIC, 8);
	ev[8] = version & 0xff;
	ev[9] = version >> 8;
	ev[10] = flags & 0xff;
	ev[11] = flags >> 8;
	for (i = 0; i < 48; i++)
		ev[16 + i] = i;
	for (i = 0; i < 64; i++)
		ev[64 + i] = 0x40 + i;
}

static void sign(uint8_t *ev, const char *key)
{
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, 32, ev, 128, ev + 128);
}

static int verify(const uint8_t *ev, size_t len, const uint8_t *expected_rd,
		  struct katls_claims *c, struct katls_verdict *v)
{
	struct katls_verify_opts o = { .expected_report_data = expected_rd };

	katls_verdict_init(v);
	return katls_verify_sim(ev, len, &o, c, v);
}

int main(void)
{
	uint8_t ev[KATLS_SIM_LEN + 1], t[KATLS_SIM_LEN + 1], rd[64];
	struct katls_claims c;
	struct katls_verdict v;
	int i, ret, all;

	tap_plan_lazy();

	/* Known answer, independent MAC. */
	fields(ev, 1, 0);
	memcpy(ev + 128, kat_mac, 32);
	ret = verify(ev, KATLS_SIM_LEN, NULL, &c, &v);
	tap_ok(ret == 0 && v.valid && v.nerrors == 0,
	       "known-answer evidence (MAC from Python hmac) is valid");
	tap_ok(c.tee == KATLS_EVIDENCE_SIM && c.version == 1 &&
	       c.measurement_len == 48 && c.measurement[0] == 0 &&
	       c.measurement[47] == 47 && c.report_data[0] == 0x40 &&
	       c.report_data[63] == 0x7f && !c.debug && c.sim.flags == 0,
	       "claims: tee, version, measurement, report data, not debug");
	tap_ok(!memcmp(c.evidence_digest, kat_digest, 32),
	       "claims: evidence digest is SHA-256 of the 160 bytes");
	sign(t, KATLS_SIM_KEY);
	fields(t, 1, 0);
	sign(t, KATLS_SIM_KEY);
	tap_ok(!memcmp(t + 128, kat_mac, 32),
	       "gnutls_hmac_fast agrees with the Python MAC");

	/* Debug flag. */
	fields(ev, 1, KATLS_SIM_FLAG_DEBUG);
	sign(ev, KATLS_SIM_KEY);
	ret = verify(ev, KATLS_SIM_LEN, NULL, &c, &v);
	tap_ok(ret == 0 && c.debug && c.sim.flags == KATLS_SIM_FLAG_DEBUG,
	       "debug flag: valid, claims say debug");

	/* Every byte tampered, MAC not recomputed. */
	fields(ev, 1, 0);
	sign(ev, KATLS_SIM_KEY);
	all = 1;
	for (i = 0; i < KATLS_SIM_LEN; i++) {
		memcpy(t, ev, KATLS_SIM_LEN);
		t[i] ^= 0x01;
		all &= verify(t, KATLS_SIM_LEN, NULL, &c, &v) == -1 &&
		       !v.valid && v.nerrors > 0;
	}
	tap_ok(all, "each of the 160 bytes flipped -> invalid");
	all = 1;
	for (i = 0; i < KATLS_SIM_LEN; i++) {
		memcpy(t, ev, KATLS_SIM_LEN);
		t[i] ^= 0x80;
		all &= verify(t, KATLS_SIM_LEN, NULL, &c, &v) == -1;
	}
	tap_ok(all, "each byte's top bit flipped -> invalid");

	/* Structural fields wrong even with a MAC over them. */
	fields(t, 1, 0);
	t[0] = 'k';
	sign(t, KATLS_SIM_KEY);
	tap_ok(verify(t, KATLS_SIM_LEN, NULL, &c, &v) == -1,
	       "bad magic with a valid MAC -> invalid");
	fields(t, 2, 0);
	sign(t, KATLS_SIM_KEY);
	tap_ok(verify(t, KATLS_SIM_LEN, NULL, &c, &v) == -1 && c.version == 2,
	       "version 2 with a valid MAC -> invalid");
	fields(t, 0, 0);
	sign(t, KATLS_SIM_KEY);
	tap_ok(verify(t, KATLS_SIM_LEN, NULL, &c, &v) == -1,
	       "version 0 with a valid MAC -> invalid");
	fields(t, 1, 0x0002);
	sign(t, KATLS_SIM_KEY);
	tap_ok(verify(t, KATLS_SIM_LEN, NULL, &c, &v) == -1 &&
	       c.measurement_len == 48,
	       "unknown flag with a valid MAC -> invalid, claims still filled");
	fields(t, 1, 0);
	t[13] = 1;
	sign(t, KATLS_SIM_KEY);
	tap_ok(verify(t, KATLS_SIM_LEN, NULL, &c, &v) == -1,
	       "reserved field set with a valid MAC -> invalid");

	/* Wrong key. */
	fields(t, 1, 0);
	sign(t, "katls-sim-tsm test key, public!?");
	tap_ok(verify(t, KATLS_SIM_LEN, NULL, &c, &v) == -1,
	       "MAC under another key -> invalid");

	/* Lengths. */
	all = 1;
	for (i = 0; i < KATLS_SIM_LEN; i++)
		all &= verify(ev, i, NULL, &c, &v) == -1 && !v.valid;
	tap_ok(all, "every truncation (0..159 bytes) -> invalid");
	memcpy(t, ev, KATLS_SIM_LEN);
	t[KATLS_SIM_LEN] = 0;
	tap_ok(verify(t, KATLS_SIM_LEN + 1, NULL, &c, &v) == -1,
	       "161 bytes -> invalid");
	tap_ok(verify(NULL, KATLS_SIM_LEN, NULL, &c, &v) == -1,
	       "NULL evidence -> invalid");

	/* Expected report data. */
	for (i = 0; i < 64; i++)
		rd[i] = 0x40 + i;
	tap_ok(verify(ev, KATLS_SIM_LEN, rd, &c, &v) == 0,
	       "expected report data equal -> valid");
	rd[63] ^= 1;
	tap_ok(verify(ev, KATLS_SIM_LEN, rd, &c, &v) == -1 && !v.valid,
	       "expected report data differs -> invalid");

	/* Through the dispatcher, with type detection. */
	katls_verdict_init(&v);
	ret = katls_verify_evidence(KATLS_EVIDENCE_NONE, ev, KATLS_SIM_LEN,
				    NULL, &c, &v);
	tap_ok(ret == 0 && c.tee == KATLS_EVIDENCE_SIM &&
	       katls_evidence_detect(ev, KATLS_SIM_LEN) == KATLS_EVIDENCE_SIM,
	       "dispatcher detects and accepts sim evidence");
	memcpy(t, ev, KATLS_SIM_LEN);
	t[100] ^= 4;
	katls_verdict_init(&v);
	tap_ok(katls_verify_evidence(KATLS_EVIDENCE_SIM, t, KATLS_SIM_LEN,
				     NULL, &c, &v) == -1,
	       "dispatcher rejects tampered sim evidence");
	return tap_done();
}
