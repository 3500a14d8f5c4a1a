// SPDX-License-Identifier: GPL-2.0
/*
 * test_ext.c - katls extension encodings: known-answer encodings written
 * out by hand from Documentation/wire-format.rst, round trips, every
 * malformed input rejected with its own error, and a deterministic
 * mutation run (decoded input re-encodes to the same bytes).
 */
#include <stdlib.h>
#include <string.h>

#include <katls/ext.h>
#include "tap.h"

static const uint8_t nonce[32] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};

/* Request: v1, binder v1, nonce, types SIM (4), TDX (1). */
static uint8_t req_kat[] = {
	0x01, 0x01,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0x04, 0x00, 0x04, 0x00, 0x01,
};

static struct katls_ext_request good_req(void)
{
	struct katls_ext_request r = {
		.version = KATLS_EXT_VERSION,
		.mode = KATLS_EXT_MODE_BINDER_V1,
		.ntypes = 2,
		.types = { KATLS_EVIDENCE_SIM, KATLS_EVIDENCE_TDX },
	};

	memcpy(r.nonce, nonce, 32);
	return r;
}

static int req_dec(const uint8_t *p, size_t len)
{
	struct katls_ext_request r;

	return katls_ext_request_decode(p, len, &r);
}

/*
 * Malformed (or newly allowed) requests: req_kat with byte at set to
 * val, its first len bytes (0: all) must decode to err.
 */
#define BAD(at, val, len, err, what) \
	{ at, val, len, KATLS_EXT_E_##err, "request: " what " -> " #err }
static const struct bad_req {
	uint8_t at, val;
	size_t len;
	int err;
	const char *name;
} bad_req[] = {
	BAD(0, 2, 0, VERSION, "version 2"),
	BAD(0, 0, 0, VERSION, "version 0"),
	BAD(1, 0, 0, MODE, "mode 0"),
	BAD(1, 4, 0, MODE, "mode 4"),
	{ 1, 3, 0, 0, "request: mode 3 (both, issue 14) accepted" },
	{ 1, 2, 0, 0, "request: mode 2 (post) accepted" },
	BAD(34, 3, 0, TYPES_LEN, "odd types length"),
	BAD(34, 0, 35, TYPES_LEN, "empty types list"),
	BAD(34, 2 * KATLS_EXT_MAX_TYPES + 2, 0, TYPES_LEN, "17 types"),
	BAD(34, 6, 0, TRUNCATED, "types length beyond input"),
	BAD(38, 0, 0, TYPE, "type 0"),		/* types[1] = 0x0000 */
	BAD(38, 4, 0, TYPE_DUP, "duplicate type"),	/* 0x0004 twice */
};
#undef BAD

static void test_request(void)
{
	struct katls_ext_request r = good_req(), d;
	uint8_t buf[KATLS_EXT_REQUEST_MAX], m[sizeof(req_kat) + 1];
	int n, i, ok;

	n = katls_ext_request_encode(&r, buf, sizeof(buf));
	tap_ok(n == (int)sizeof(req_kat) && !memcmp(buf, req_kat, n),
	       "request: encoding matches the documented bytes");
	tap_ok(katls_ext_request_decode(req_kat, sizeof(req_kat), &d) == 0 &&
	       d.version == 1 && d.mode == 1 && !memcmp(d.nonce, nonce, 32) &&
	       d.ntypes == 2 && d.types[0] == KATLS_EVIDENCE_SIM &&
	       d.types[1] == KATLS_EVIDENCE_TDX,
	       "request: decodes to the same fields");
	tap_ok(katls_ext_request_accepts(&d, KATLS_EVIDENCE_SIM) &&
	       katls_ext_request_accepts(&d, KATLS_EVIDENCE_TDX) &&
	       !katls_ext_request_accepts(&d, KATLS_EVIDENCE_SNP) &&
	       !katls_ext_request_accepts(&d, KATLS_EVIDENCE_NONE),
	       "request: accepts() reflects the list");
	tap_ok(katls_ext_request_encode(&r, buf, sizeof(req_kat) - 1) ==
	       KATLS_EXT_E_NOSPACE, "request: short output buffer refused");

	/* Every prefix is truncated. */
	ok = 1;
	for (i = 0; i < (int)sizeof(req_kat); i++) {
		int e = req_dec(req_kat, i);

		ok &= e == KATLS_EXT_E_TRUNCATED;
	}
	tap_ok(ok, "request: every proper prefix -> TRUNCATED");

	memcpy(m, req_kat, sizeof(req_kat));
	m[sizeof(req_kat)] = 0;
	tap_ok(req_dec(m, sizeof(req_kat) + 1) == KATLS_EXT_E_TRAILING,
	       "request: trailing byte -> TRAILING");
	for (i = 0; i < (int)(sizeof(bad_req) / sizeof(bad_req[0])); i++) {
		const struct bad_req *c = &bad_req[i];

		memcpy(m, req_kat, sizeof(req_kat));
		m[c->at] = c->val;
		tap_ok(req_dec(m, c->len ? c->len : sizeof(req_kat)) == c->err,
		       "%s", c->name);
	}
	memcpy(m, req_kat, sizeof(req_kat));
	m[37] = 0x12;
	m[38] = 0x34;
	tap_ok(katls_ext_request_decode(m, sizeof(req_kat), &d) == 0 &&
	       d.types[1] == 0x1234 &&
	       !katls_ext_request_accepts(&d, KATLS_EVIDENCE_TDX),
	       "request: unknown type value kept, not matched");

	/* Encoder applies the same rules. */
	r = good_req();
	r.ntypes = 0;
	tap_ok(katls_ext_request_encode(&r, buf, sizeof(buf)) ==
	       KATLS_EXT_E_TYPES_LEN, "request encode: no types refused");
	r = good_req();
	r.ntypes = KATLS_EXT_MAX_TYPES + 1;
	tap_ok(katls_ext_request_encode(&r, buf, sizeof(buf)) ==
	       KATLS_EXT_E_TYPES_LEN, "request encode: 17 types refused");
	r = good_req();
	r.types[1] = r.types[0];
	tap_ok(katls_ext_request_encode(&r, buf, sizeof(buf)) ==
	       KATLS_EXT_E_TYPE_DUP, "request encode: duplicate refused");
	r = good_req();
	r.mode = 9;
	tap_ok(katls_ext_request_encode(&r, buf, sizeof(buf)) ==
	       KATLS_EXT_E_MODE, "request encode: bad mode refused");
	r = good_req();
	r.version = 0;
	tap_ok(katls_ext_request_encode(&r, buf, sizeof(buf)) ==
	       KATLS_EXT_E_VERSION, "request encode: bad version refused");
	tap_ok(katls_ext_request_decode(NULL, 0, &d) ==
	       KATLS_EXT_E_TRUNCATED &&
	       katls_ext_request_decode(req_kat, sizeof(req_kat), NULL) ==
	       KATLS_EXT_E_ARG, "request: NULL / empty input");
}

static const char sim_mt[] = "application/vnd.katls.sim-evidence";

/* Builds a record by hand: version, media, evidence, aux. */
static size_t build(uint8_t *out, uint8_t version, const char *mt,
		    size_t mlen, size_t ev_len, uint8_t ev_byte,
		    size_t aux_len)
{
	size_t n = 0;

	out[n++] = version;
	out[n++] = mlen;
	memcpy(out + n, mt, mlen);
	n += mlen;
	out[n++] = ev_len >> 16;
	out[n++] = ev_len >> 8;
	out[n++] = ev_len;
	memset(out + n, ev_byte, ev_len);
	n += ev_len;
	out[n++] = aux_len >> 16;
	out[n++] = aux_len >> 8;
	out[n++] = aux_len;
	memset(out + n, 0x55, aux_len);
	n += aux_len;
	return n;
}

static int ev_dec(const uint8_t *p, size_t len)
{
	struct katls_ext_evidence e;

	return katls_ext_evidence_decode(p, len, &e);
}

static void test_evidence(void)
{
	static uint8_t big[2 * 65536 + 256], out[2 * 65536 + 256];
	uint8_t ev[160], aux[7];
	struct katls_ext_evidence e;
	size_t len, mlen = strlen(sim_mt);
	int n, i, ok;

	for (i = 0; i < 160; i++)
		ev[i] = i;
	memset(aux, 0x55, sizeof(aux));

	tap_ok(katls_ext_media_type(KATLS_EVIDENCE_SIM) &&
	       !strcmp(katls_ext_media_type(KATLS_EVIDENCE_SIM), sim_mt) &&
	       katls_ext_media_type(KATLS_EVIDENCE_TDX) &&
	       katls_ext_media_type(KATLS_EVIDENCE_SNP) &&
	       katls_ext_media_type(KATLS_EVIDENCE_CCA) &&
	       !katls_ext_media_type(KATLS_EVIDENCE_NONE) &&
	       !katls_ext_media_type((enum katls_evidence_type)99),
	       "evidence: media types defined for TDX, SNP, CCA, SIM only");

	/* Known answer: hand-built record with 0x00..0x9f evidence. */
	len = build(big, 1, sim_mt, mlen, 160, 0, 7);
	for (i = 0; i < 160; i++)
		big[2 + mlen + 3 + i] = i;
	n = katls_ext_evidence_encode(KATLS_EVIDENCE_SIM, ev, 160, aux, 7, out,
				      sizeof(out));
	tap_ok(n == (int)len && !memcmp(out, big, len) &&
	       katls_ext_evidence_size(KATLS_EVIDENCE_SIM, 160, 7) == len,
	       "evidence: encoding matches the documented layout (%d bytes)",
	       n);
	tap_ok(katls_ext_evidence_decode(out, n, &e) == 0 &&
	       e.type == KATLS_EVIDENCE_SIM && !strcmp(e.media_type, sim_mt) &&
	       e.evidence_len == 160 && !memcmp(e.evidence, ev, 160) &&
	       e.aux_len == 7 && !memcmp(e.aux, aux, 7) &&
	       e.evidence >= out && e.aux + 7 <= out + n,
	       "evidence: round trip, pointers into the input");
	n = katls_ext_evidence_encode(KATLS_EVIDENCE_TDX, ev, 160, NULL, 0,
				      out, sizeof(out));
	tap_ok(n > 0 && katls_ext_evidence_decode(out, n, &e) == 0 &&
	       e.type == KATLS_EVIDENCE_TDX && e.aux_len == 0 && !e.aux,
	       "evidence: TDX without aux round trip");
	tap_ok(katls_ext_evidence_encode(KATLS_EVIDENCE_SIM, ev, 160, aux, 7,
					 out, len - 1) == KATLS_EXT_E_NOSPACE,
	       "evidence encode: short buffer refused");

	ok = 1;
	for (i = 0; i < (int)len; i++)
		ok &= ev_dec(big, i) == KATLS_EXT_E_TRUNCATED;
	tap_ok(ok, "evidence: every proper prefix -> TRUNCATED");
	big[len] = 0;
	tap_ok(ev_dec(big, len + 1) == KATLS_EXT_E_TRAILING,
	       "evidence: trailing byte -> TRAILING");
	big[0] = 3;
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_VERSION,
	       "evidence: version 3 -> VERSION");
	big[0] = 0;
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_VERSION,
	       "evidence: version 0 -> VERSION");
	big[0] = 2;
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_TRUNCATED,
	       "evidence: a version 1 body labelled version 2 has no proof -> TRUNCATED");

	len = build(big, 1, sim_mt, 0, 160, 1, 0);
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_MEDIA_LEN,
	       "evidence: empty media type -> MEDIA_LEN");
	memset(out, 'a', 200);
	len = build(big, 1, (const char *)out, 128, 160, 1, 0);
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_MEDIA_LEN,
	       "evidence: 128-byte media type -> MEDIA_LEN");
	len = build(big, 1, "application/vnd.katls.sim-evidence\n", mlen + 1,
		    160, 1, 0);
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_MEDIA_CHARS,
	       "evidence: control char in media type -> MEDIA_CHARS");
	len = build(big, 1, "application/vnd.katls.sim-evidence\0", mlen + 1,
		    160, 1, 0);
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_MEDIA_CHARS,
	       "evidence: NUL in media type -> MEDIA_CHARS");
	len = build(big, 1, "application/vnd.katls.sim-evidencf", mlen, 160,
		    1, 0);
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_MEDIA_UNKNOWN,
	       "evidence: unknown media type -> MEDIA_UNKNOWN");
	len = build(big, 1, sim_mt, mlen - 1, 160, 1, 0);
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_MEDIA_UNKNOWN,
	       "evidence: media type prefix -> MEDIA_UNKNOWN");
	len = build(big, 1, sim_mt, mlen, 0, 1, 0);
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_EVIDENCE_LEN,
	       "evidence: empty evidence -> EVIDENCE_LEN");
	len = build(big, 1, sim_mt, mlen, KATLS_EXT_EVIDENCE_MAX + 1, 1, 0);
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_EVIDENCE_LEN,
	       "evidence: 32 KiB + 1 evidence -> EVIDENCE_LEN");
	len = build(big, 1, sim_mt, mlen, KATLS_EXT_EVIDENCE_MAX, 1, 0);
	tap_ok(ev_dec(big, len) == 0 &&
	       katls_ext_evidence_encode(KATLS_EVIDENCE_SIM, big, 32768, NULL,
					 0, out, sizeof(out)) == (int)len,
	       "evidence: exactly 32 KiB evidence accepted");
	len = build(big, 1, sim_mt, mlen, 100, 1, KATLS_EXT_AUX_MAX + 1);
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_TOO_BIG,
	       "evidence: record over 65535 bytes -> TOO_BIG");
	len = build(big, 1, sim_mt, mlen, 100, 1, 0);
	big[len - 3] = (KATLS_EXT_AUX_MAX + 1) >> 16;
	big[len - 1] = (KATLS_EXT_AUX_MAX + 1) & 0xff;
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_AUX_LEN,
	       "evidence: aux length over 64 KiB -> AUX_LEN");
	big[len - 3] = 0;
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_TRUNCATED,
	       "evidence: aux length beyond input -> TRUNCATED");
	len = build(big, 1, sim_mt, mlen, 100, 1, 0);
	big[2 + mlen + 2] = 200;
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_TRUNCATED,
	       "evidence: evidence length beyond input -> TRUNCATED");
	len = build(big, 1, sim_mt, mlen, 100, 1, 0);
	big[2 + mlen] = 0xff;
	tap_ok(ev_dec(big, len) == KATLS_EXT_E_EVIDENCE_LEN,
	       "evidence: 24-bit length 0xff0064 -> EVIDENCE_LEN");

	tap_ok(katls_ext_evidence_encode(KATLS_EVIDENCE_NONE, ev, 1, NULL, 0,
					 out, sizeof(out)) ==
	       KATLS_EXT_E_MEDIA_UNKNOWN &&
	       katls_ext_evidence_encode(KATLS_EVIDENCE_SIM, ev, 0, NULL, 0,
					 out, sizeof(out)) ==
	       KATLS_EXT_E_EVIDENCE_LEN &&
	       katls_ext_evidence_encode(KATLS_EVIDENCE_SIM, big, 32769, NULL,
					 0, out, sizeof(out)) ==
	       KATLS_EXT_E_EVIDENCE_LEN &&
	       katls_ext_evidence_encode(KATLS_EVIDENCE_SIM, ev, 1, big, 65537,
					 out, sizeof(out)) ==
	       KATLS_EXT_E_AUX_LEN &&
	       katls_ext_evidence_encode(KATLS_EVIDENCE_SIM, big, 32768, big,
					 65536, out, sizeof(out)) ==
	       KATLS_EXT_E_TOO_BIG &&
	       katls_ext_evidence_encode(KATLS_EVIDENCE_SIM, ev, 1, NULL, 3,
					 out, sizeof(out)) == KATLS_EXT_E_ARG,
	       "evidence encode: bad type, lengths, sizes, pointers refused");
	tap_ok(katls_ext_evidence_size(KATLS_EVIDENCE_SIM, 32768, 65536) == 0 &&
	       katls_ext_evidence_size(KATLS_EVIDENCE_SIM, 0, 0) == 0,
	       "evidence size: out of bounds gives 0");

	/* Distinct errors: every code has its own message. */
	ok = 1;
	for (i = KATLS_EXT_E_PATH_LONG; i < 0; i++)
		for (n = i + 1; n <= 0; n++)
			ok &= strcmp(katls_ext_strerror(i),
				     katls_ext_strerror(n)) != 0;
	tap_ok(ok, "strerror: one distinct message per error code");
}

/* xorshift32: deterministic mutations, no libc rand state. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_mutations(void)
{
	uint8_t base[512], bbase[512], m[512], re[512];
	struct katls_ext_request r;
	struct katls_ext_evidence e;
	struct katls_merkle_proof pr = { .leaf_index = 2, .tree_size = 3,
					 .path_len = 1 };
	uint32_t s = 0x6b61746c;
	size_t blen, bblen, len;
	int i, j, n, canon = 1, accepted = 0, rejected = 0, batches = 0;

	memset(pr.path[0], 0xab, sizeof(pr.path[0]));
	blen = katls_ext_evidence_encode(KATLS_EVIDENCE_SIM, nonce, 32, nonce,
					 16, base, sizeof(base));
	bblen = katls_ext_evidence_encode_batch(KATLS_EVIDENCE_SIM, nonce, 32,
						nonce, 16, &pr, bbase,
						sizeof(bbase));
	for (i = 0; i < 30000; i++) {
		int which = i % 3 ? 1 : 0;
		const uint8_t *src = which ? (i % 3 == 2 ? bbase : base) : req_kat;
		size_t bl = which ? (i % 3 == 2 ? bblen : blen) : sizeof(req_kat);

		memcpy(m, src, bl);
		len = bl;
		for (j = rnd(&s) % 4; j >= 0; j--) {
			switch (rnd(&s) % 3) {
			case 0:
				m[rnd(&s) % len] ^= 1u << (rnd(&s) % 8);
				break;
			case 1:
				len = rnd(&s) % (len + 1);
				break;
			default:
				if (len < sizeof(m))
					m[len++] = rnd(&s);
			}
			if (!len)
				break;
		}
		if (which) {
			if (katls_ext_evidence_decode(m, len, &e)) {
				rejected++;
				continue;
			}
			accepted++;
			batches += e.version == 2;
			n = katls_ext_evidence_encode_batch(e.type, e.evidence,
							    e.evidence_len,
							    e.aux, e.aux_len,
							    &e.proof, re,
							    sizeof(re));
		} else {
			if (katls_ext_request_decode(m, len, &r)) {
				rejected++;
				continue;
			}
			accepted++;
			n = katls_ext_request_encode(&r, re, sizeof(re));
		}
		canon &= n == (int)len && !memcmp(re, m, len);
	}
	tap_ok(canon && accepted > 100 && rejected > 100 && batches > 50,
	       "mutations: %d accepted (%d batch records) re-encode identically, %d rejected",
	       accepted, batches, rejected);
}

/* Version 2 (batch) records: Documentation/wire-format.rst. */
static size_t build_batch(uint8_t *out, uint32_t index, uint32_t size,
			  size_t plen, size_t have)
{
	size_t mlen = strlen(sim_mt), n, i;

	n = build(out, 2, sim_mt, mlen, 4, 0xee, 0);
	out[n++] = index >> 24;
	out[n++] = index >> 16;
	out[n++] = index >> 8;
	out[n++] = index;
	out[n++] = size >> 24;
	out[n++] = size >> 16;
	out[n++] = size >> 8;
	out[n++] = size;
	out[n++] = plen >> 8;
	out[n++] = plen;
	for (i = 0; i < have; i++)
		out[n++] = i;
	return n;
}

/*
 * Malformed proofs, decoder side: the record build_batch(index, size,
 * plen, have) must decode to KATLS_EXT_E_<err>.
 */
#define BAD(index, size, plen, have, err, what) \
	{ index, size, plen, have, KATLS_EXT_E_##err, \
	  "batch: " what " -> " #err }
static const struct bad_batch {
	uint32_t index, size;
	size_t plen, have;
	int err;
	const char *name;
} bad_batch[] = {
	BAD(0, 1, 0, 0, BATCH_OF_ONE, "tree size 1 in a version 2 record"),
	BAD(0, 0, 0, 0, BATCH_SIZE, "tree size 0"),
	BAD(0, KATLS_MERKLE_MAX_LEAVES + 1, 17 * 64, 17 * 64, BATCH_SIZE,
	    "tree size 65537"),
	BAD(0xffffffffu, 0xffffffffu, 0, 0, BATCH_SIZE, "tree size 2^32-1"),
	BAD(3, 3, 64, 64, BATCH_INDEX, "leaf index = tree size"),
	BAD(1, 3, 127, 127, PATH_LEN, "path of 127 bytes"),
	BAD(1, 3, 64, 64, PATH_SHORT, "one hash short"),
	BAD(1, 3, 0, 0, PATH_SHORT, "empty path"),
	BAD(1, 3, 192, 192, PATH_LONG, "one hash too many"),
	{ 1, 3, 0xffc0, 0, KATLS_EXT_E_PATH_LONG,
	  "batch: path length 0xffc0 -> PATH_LONG, nothing read" },
};
#undef BAD

/* The simulated evidence ee ee ee ee, no aux, with proof q (or NULL). */
static int enc_sim(const struct katls_merkle_proof *q, uint8_t *out,
		   size_t cap)
{
	static const uint8_t ev[4] = { 0xee, 0xee, 0xee, 0xee };

	return katls_ext_evidence_encode_batch(KATLS_EVIDENCE_SIM, ev,
					       sizeof(ev), NULL, 0, q, out,
					       cap);
}

static void test_batch(void)
{
	static uint8_t big[4096], out[4096], one[4096];
	struct katls_merkle_proof p = { .leaf_index = 1, .tree_size = 3,
					.path_len = 2 }, q;
	struct katls_ext_evidence e;
	uint8_t ev[4] = { 0xee, 0xee, 0xee, 0xee };
	size_t len, i;
	int n, m, ok;

	for (i = 0; i < 128; i++)
		p.path[i / 64][i % 64] = i;
	/* Known answer: leaf 1 of 3, path of 2 hashes = bytes 00..7f. */
	len = build_batch(big, 1, 3, 128, 128);
	n = enc_sim(&p, out, sizeof(out));
	tap_ok(n == (int)len && !memcmp(out, big, len) &&
	       katls_ext_evidence_size_batch(KATLS_EVIDENCE_SIM, 4, 0, &p) == len,
	       "batch: encoding matches the documented layout (%d bytes)", n);
	tap_ok(katls_ext_evidence_decode(out, n, &e) == 0 && e.version == 2 &&
	       e.type == KATLS_EVIDENCE_SIM && e.evidence_len == 4 &&
	       e.proof.leaf_index == 1 && e.proof.tree_size == 3 &&
	       e.proof.path_len == 2 && !memcmp(e.proof.path, p.path, 128),
	       "batch: round trip of index, size and path");

	/* A batch of one is a version 1 record, byte for byte. */
	katls_merkle_proof_single(&q);
	n = enc_sim(&q, out, sizeof(out));
	m = katls_ext_evidence_encode(KATLS_EVIDENCE_SIM, ev, 4, NULL, 0, one,
				      sizeof(one));
	tap_ok(n > 0 && n == m && !memcmp(out, one, n) && out[0] == 1 &&
	       enc_sim(NULL, big, sizeof(big)) == n && !memcmp(big, one, n),
	       "batch of one: the same bytes as a version 1 record");
	tap_ok(katls_ext_evidence_decode(one, m, &e) == 0 && e.version == 1 &&
	       e.proof.tree_size == 1 && e.proof.leaf_index == 0 &&
	       e.proof.path_len == 0,
	       "version 1 record decodes as a batch of one");

	/* Each malformed proof kind, decoder side. */
	for (i = 0; i < sizeof(bad_batch) / sizeof(bad_batch[0]); i++) {
		const struct bad_batch *c = &bad_batch[i];

		len = build_batch(big, c->index, c->size, c->plen, c->have);
		tap_ok(ev_dec(big, len) == c->err, "%s", c->name);
	}
	len = build_batch(big, 1, 3, 128, 128);
	ok = 1;
	for (i = 0; i < len; i++)
		ok &= ev_dec(big, i) == KATLS_EXT_E_TRUNCATED;
	tap_ok(ok, "batch: every proper prefix -> TRUNCATED");
	big[len] = 0;
	tap_ok(ev_dec(big, len + 1) == KATLS_EXT_E_TRAILING,
	       "batch: trailing byte -> TRAILING");

	/* The largest batch: 16 hashes. */
	memset(&q, 0, sizeof(q));
	q.leaf_index = 65535;
	q.tree_size = 65536;
	q.path_len = 16;
	memset(q.path, 0x5a, sizeof(q.path));
	n = enc_sim(&q, out, sizeof(out));
	tap_ok(n > 0 && katls_ext_evidence_decode(out, n, &e) == 0 &&
	       e.proof.path_len == 16 && e.proof.tree_size == 65536,
	       "batch: leaf 65535 of 65536 (16 hashes) round trip");

	/* Encoder side: the same rules. */
	q = p;
	q.tree_size = 0;
	ok = enc_sim(&q, out, sizeof(out)) == KATLS_EXT_E_BATCH_SIZE;
	q = p;
	q.leaf_index = 3;
	ok &= enc_sim(&q, out, sizeof(out)) == KATLS_EXT_E_BATCH_INDEX;
	q = p;
	q.path_len = 1;
	ok &= enc_sim(&q, out, sizeof(out)) == KATLS_EXT_E_PATH_SHORT;
	q = p;
	q.path_len = 99;
	ok &= enc_sim(&q, out, sizeof(out)) == KATLS_EXT_E_PATH_LONG &&
	      katls_ext_evidence_size_batch(KATLS_EVIDENCE_SIM, 4, 0, &q) == 0;
	katls_merkle_proof_single(&q);
	q.leaf_index = 1;
	ok &= enc_sim(&q, out, sizeof(out)) == KATLS_EXT_E_BATCH_INDEX;
	katls_merkle_proof_single(&q);
	q.path_len = 1;
	ok &= enc_sim(&q, out, sizeof(out)) == KATLS_EXT_E_PATH_LONG;
	ok &= enc_sim(&p, out, len - 1) == KATLS_EXT_E_NOSPACE;
	tap_ok(ok, "batch encode: bad size, index, path lengths, short buffer refused");
}

int main(void)
{
	tap_plan_lazy();
	test_request();
	test_evidence();
	test_batch();
	test_mutations();
	return tap_done();
}
