// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ea.c - libFuzzer harness for the RFC 9261 Exported Authenticator
 * decoders and verifier (userspace/attest/ea.c, katls/ea.h).
 *
 *   make -C userspace/verify build/fuzzers/fuzz_ea
 *   userspace/verify/build/fuzzers/fuzz_ea
 *
 * The first input byte selects:
 *   odd        the authenticator request decoder; anything it accepts
 *              re-encodes to a request that decodes to the same fields;
 *   0 mod 4    the authenticator verifier, against a fixed request, fixed
 *              keys and a fixed expected key (the Finished MAC fails for
 *              almost every input: this exercises the parsers);
 *   2 mod 4    the same after re-computing the Finished MAC over the
 *              input, so that the key, scheme and signature checks run on
 *              hostile certificates and CertificateVerify messages.
 * Byte 1 (mod 2) chooses SHA-256 or SHA-384 keys.  The expected key is
 * the Ed25519 key of RFC 8032 7.1 TEST 1 (its private half is public:
 * the seed corpus, tests/fuzz/corpus/ea/, holds authenticators that
 * verify, made by tests/unit/attest/ea_vectors.py --fuzz-seeds).
 * Properties: no out-of-bounds read (ASan); an accepted authenticator's
 * leaf and evidence lie inside the input and its scheme was offered; a
 * refusal returns nothing; the frame header parser returns a length
 * within its bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include <katls/ea.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Ed25519 of RFC 8032 7.1 TEST 1 as SubjectPublicKeyInfo */
static const uint8_t spki[] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3,
	0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
	0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};

static void refinish(const struct katls_ea_keys *k, const uint8_t *req,
		     size_t req_len, uint8_t *auth, size_t len)
{
	uint8_t th[KATLS_EA_HASH_MAX];
	gnutls_hash_hd_t h;
	size_t fin;

	if (len < 4 + k->hlen)
		return;
	fin = len - 4 - k->hlen;
	if (gnutls_hash_init(&h, k->hlen == 48 ? GNUTLS_DIG_SHA384 :
			     GNUTLS_DIG_SHA256) < 0)
		return;
	gnutls_hash(h, k->hs_context, k->hlen);
	gnutls_hash(h, req, req_len);
	gnutls_hash(h, auth, fin);
	gnutls_hash_deinit(h, th);
	gnutls_hmac_fast(k->hash, k->finished_key, k->hlen, th, k->hlen,
			 auth + fin + 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[KATLS_EA_REQUEST_MAX];
	static uint8_t auth[KATLS_EA_AUTH_MAX + 1];
	struct katls_ea_request r, r2;
	struct katls_ea_verified v;
	struct katls_ea_keys k;
	uint8_t req[KATLS_EA_REQUEST_MAX];
	int n, ret, req_len;

	if (size < 2)
		return 0;
	if (size >= 1 + KATLS_EA_FRAME_HDR_LEN) {
		ret = katls_ea_frame_parse(data + 1, data[1], 4096);
		if (ret > 4096 || ret == 0)
			abort();
	}
	if (data[0] & 1) {
		if (katls_ea_request_decode(data + 1, size - 1, &r))
			return 0;
		n = katls_ea_request_encode(&r, out, sizeof(out));
		if (n <= 0 || katls_ea_request_decode(out, n, &r2) ||
		    r2.type != r.type || r2.ctx_len != r.ctx_len ||
		    memcmp(r2.ctx, r.ctx, r.ctx_len) ||
		    r2.nschemes != r.nschemes ||
		    memcmp(r2.schemes, r.schemes, sizeof(r.schemes)) ||
		    r2.cmw_offered != r.cmw_offered)
			abort();
		return 0;
	}

	memset(&k, 0, sizeof(k));
	k.hash = data[1] & 1 ? GNUTLS_MAC_SHA384 : GNUTLS_MAC_SHA256;
	k.hlen = data[1] & 1 ? 48 : 32;
	memset(k.hs_context, 0x11, k.hlen);
	memset(k.finished_key, 0x22, k.hlen);
	memset(&r, 0, sizeof(r));
	r.type = KATLS_EA_HS_CLIENT_CERTIFICATE_REQUEST;
	r.ctx_len = KATLS_EA_CTX_LEN;
	memset(r.ctx, 0x33, r.ctx_len);
	r.nschemes = 3;
	r.schemes[0] = 0x0807;
	r.schemes[1] = 0x0403;
	r.schemes[2] = 0x0804;
	r.cmw_offered = true;
	req_len = katls_ea_request_encode(&r, req, sizeof(req));
	if (req_len <= 0)
		abort();
	size -= 2;
	if (size > KATLS_EA_AUTH_MAX + 1)
		size = KATLS_EA_AUTH_MAX + 1;
	memcpy(auth, data + 2, size);
	if (data[0] & 2)
		refinish(&k, req, req_len, auth, size);
	ret = katls_ea_authenticator_verify(&k, req, req_len, &r, auth, size,
					    spki, sizeof(spki), &v);
	if (!ret) {
		if (!v.cmw || !v.cmw_len || v.cmw < auth ||
		    v.cmw + v.cmw_len > auth + size || !v.cert_der ||
		    v.cert_der < auth || v.cert_der + v.cert_len > auth + size ||
		    (v.scheme != 0x0807 && v.scheme != 0x0403 &&
		     v.scheme != 0x0804))
			abort();
	} else if (v.cmw || v.cert_der) {
		abort();	/* nothing comes out of a refusal */
	}
	return 0;
}
