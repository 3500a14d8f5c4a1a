// SPDX-License-Identifier: GPL-2.0
/*
 * test_ea.c - RFC 9261 Exported Authenticators and binder ea v1
 * (userspace/attest/ea.c):
 *
 *  - the published vectors (ea_vectors.txt, computed by ea_vectors.py
 *    with python3-cryptography): binder, and an Ed25519 authenticator
 *    that must come out byte for byte (Ed25519 is deterministic);
 *  - every refusal of the decoders and the verifier, by name;
 *  - a live TLS 1.3 session pair (GnuTLS over a socketpair): both ends
 *    derive the same authenticator keys and binding exporter, the
 *    client verifies the server's authenticator, an authenticator of
 *    another connection is refused;
 *  - both directions of the independent cross-check: ea_vectors.py
 *    --cross verifies the authenticator built here from the session's
 *    exporter master secret, and builds one that the C verifier must
 *    accept on the live session.
 *
 * usage: test_ea VECTORS_FILE EA_VECTORS_PY
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <katls/binder.h>
#include <katls/ea.h>
#include "tap.h"
#include "vecfile.h"

#define PRIO_128 "NORMAL:-VERS-ALL:+VERS-TLS1.3:%NO_TICKETS:-CIPHER-ALL:+AES-128-GCM"
#define PRIO_256 "NORMAL:-VERS-ALL:+VERS-TLS1.3:%NO_TICKETS:-CIPHER-ALL:+AES-256-GCM"
static const char *prio;

#define BIG 200000
static uint8_t buf_a[BIG], buf_b[BIG];

/* Re-compute the Finished of an authenticator (after tampering). */
static void refinish(const struct katls_ea_keys *k, const uint8_t *req,
		     size_t req_len, uint8_t *auth, size_t len)
{
	size_t fin = len - 4 - k->hlen;
	uint8_t th[KATLS_EA_HASH_MAX];
	gnutls_hash_hd_t h;

	gnutls_hash_init(&h, k->hash == GNUTLS_MAC_SHA384 ? GNUTLS_DIG_SHA384 :
			 GNUTLS_DIG_SHA256);
	gnutls_hash(h, k->hs_context, k->hlen);
	gnutls_hash(h, req, req_len);
	gnutls_hash(h, auth, fin);
	gnutls_hash_deinit(h, th);
	gnutls_hmac_fast(k->hash, k->finished_key, k->hlen, th, k->hlen,
			 auth + fin + 4);
}

static void test_binder_vector(const char *vf)
{
	uint8_t ctx[64], spki[128], bind[64], rd[64], got[64];
	size_t cl, sl, bl, rl;

	if (vec_lookup(vf, "ea-binder-v1", "ctx", ctx, sizeof(ctx), &cl) ||
	    vec_lookup(vf, "ea-binder-v1", "spki", spki, sizeof(spki), &sl) ||
	    vec_lookup(vf, "ea-binder-v1", "bind", bind, sizeof(bind), &bl) ||
	    vec_lookup(vf, "ea-binder-v1", "report_data", rd, sizeof(rd), &rl) ||
	    bl != 32 || rl != 64) {
		tap_ok(0, "binder vector loads");
		return;
	}
	tap_ok(!katls_ea_binder(ctx, cl, spki, sl, bind, got) &&
	       !memcmp(got, rd, 64), "binder ea v1 equals the vector");
	ctx[0] ^= 1;
	tap_ok(!katls_ea_binder(ctx, cl, spki, sl, bind, got) &&
	       memcmp(got, rd, 64), "another context: another binder");
	ctx[0] ^= 1;
	bind[31] ^= 1;
	tap_ok(!katls_ea_binder(ctx, cl, spki, sl, bind, got) &&
	       memcmp(got, rd, 64), "another exporter value: another binder");
	bind[31] ^= 1;
	tap_ok(!katls_ea_binder(ctx, cl, spki, sl - 1, bind, got) &&
	       memcmp(got, rd, 64), "another key: another binder");
	memset(got, 0xaa, sizeof(got));
	tap_ok(katls_ea_binder(ctx, cl, spki, 0, bind, got) == KATLS_EA_E_ARG &&
	       !got[0] && !got[63], "empty spki refused, output zeroed");
}

static void test_requests(void)
{
	struct katls_ea_request r, d;
	uint8_t out[KATLS_EA_REQUEST_MAX], bad[KATLS_EA_REQUEST_MAX + 64];
	int n, i, errs = 0;

	tap_ok(!katls_ea_request_new(KATLS_EA_HS_CLIENT_CERTIFICATE_REQUEST, &r) &&
	       r.ctx_len == KATLS_EA_CTX_LEN && r.cmw_offered && r.nschemes,
	       "a fresh request: 32-byte context, schemes, cmw offered");
	n = katls_ea_request_encode(&r, out, sizeof(out));
	tap_ok(n > 0 && !katls_ea_request_decode(out, n, &d) &&
	       d.type == r.type && d.ctx_len == r.ctx_len &&
	       !memcmp(d.ctx, r.ctx, r.ctx_len) && d.nschemes == r.nschemes &&
	       !memcmp(d.schemes, r.schemes, sizeof(r.schemes)) &&
	       d.cmw_offered, "request round trip");
	for (i = 0; i < n; i++)
		errs += katls_ea_request_decode(out, i, &d) == 0;
	tap_ok(!errs, "every truncation of the request is refused");
	memcpy(bad, out, n);
	bad[n] = 0;
	tap_ok(katls_ea_request_decode(bad, n + 1, &d) == KATLS_EA_E_TRAILING,
	       "trailing byte refused");
	bad[0] = KATLS_EA_HS_CERTIFICATE;
	tap_ok(katls_ea_request_decode(bad, n, &d) == KATLS_EA_E_MSG_TYPE,
	       "a Certificate is not a request");
	r.ctx_len = KATLS_EA_CTX_MIN - 1;
	tap_ok(katls_ea_request_encode(&r, out, sizeof(out)) ==
	       KATLS_EA_E_CTX_LEN, "short context not encoded");
	r.ctx_len = KATLS_EA_CTX_LEN;
	r.cmw_offered = false;
	n = katls_ea_request_encode(&r, out, sizeof(out));
	tap_ok(n > 0 && !katls_ea_request_decode(out, n, &d) && !d.cmw_offered,
	       "a request without cmw_attestation decodes, not offered");
	tap_ok(katls_ea_request_encode(&r, out, 10) == KATLS_EA_E_NOSPACE,
	       "encoder: small buffer refused");

	/* hand-made requests */
	{
		/* ctx 16, only an unknown extension */
		static const uint8_t nosa[] = {
			17, 0, 0, 23, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
			12, 13, 14, 15, 16, 0, 4, 0x12, 0x34, 0, 0,
		};
		static const uint8_t dup[] = {
			17, 0, 0, 35, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
			12, 13, 14, 15, 16, 0, 16, 0xff, 0x4c, 0, 0,
			0, 13, 0, 4, 0, 2, 4, 3, 0xff, 0x4c, 0, 0,
		};
		static const uint8_t odd[] = {
			17, 0, 0, 28, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
			12, 13, 14, 15, 16, 0, 9, 0, 13, 0, 5, 0, 3, 4, 3, 5,
		};
		static const uint8_t cmwfull[] = {
			17, 0, 0, 32, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
			12, 13, 14, 15, 16, 0, 13, 0, 13, 0, 4, 0, 2, 4, 3,
			0xff, 0x4c, 0, 1, 0,
		};
		uint8_t many[4 + 1 + 16 + 2 + 4 + 2 + 2 * 17];
		size_t m = 0;

		tap_ok(katls_ea_request_decode(nosa, sizeof(nosa), &d) ==
		       KATLS_EA_E_NO_SIGALGS, "no signature_algorithms refused");
		tap_ok(katls_ea_request_decode(dup, sizeof(dup), &d) ==
		       KATLS_EA_E_EXT_DUP, "duplicate extension refused");
		tap_ok(katls_ea_request_decode(odd, sizeof(odd), &d) ==
		       KATLS_EA_E_SIGALGS, "odd scheme list refused");
		tap_ok(katls_ea_request_decode(cmwfull, sizeof(cmwfull), &d) ==
		       KATLS_EA_E_CMW_LEN, "a non-empty cmw offer refused");
		many[m++] = 17;
		m += 3;
		many[m++] = 16;
		memset(many + m, 7, 16);
		m += 16;
		many[m++] = 0;
		many[m++] = 4 + 2 + 34;
		many[m++] = 0;
		many[m++] = 13;
		many[m++] = 0;
		many[m++] = 36;
		many[m++] = 0;
		many[m++] = 34;
		for (i = 0; i < 17; i++) {
			many[m++] = 4;
			many[m++] = 3;
		}
		many[1] = 0;
		many[2] = 0;
		many[3] = m - 4;
		tap_ok(katls_ea_request_decode(many, m, &d) ==
		       KATLS_EA_E_SIGALGS, "more than 16 schemes refused");
		many[4] = 15;
		tap_ok(katls_ea_request_decode(many, m, &d) < 0,
		       "a context shorter than 16 bytes refused");
	}
}

static int import_ed25519(const uint8_t *seed, const uint8_t *pub,
			  gnutls_privkey_t *key)
{
	gnutls_datum_t x = { (unsigned char *)pub, 32 };
	gnutls_datum_t k = { (unsigned char *)seed, 32 };

	if (gnutls_privkey_init(key) < 0)
		return -1;
	if (gnutls_privkey_import_ecc_raw(*key, GNUTLS_ECC_CURVE_ED25519, &x,
					  NULL, &k) < 0) {
		gnutls_privkey_deinit(*key);
		return -1;
	}
	return 0;
}

static void test_vector_authenticator(const char *vf)
{
	static const char *S = "ea-authenticator-ed25519-sha256";
	static uint8_t cert[4096], req[1024], cmw[256], want[8192];
	uint8_t seed[64], spki[128], hc[64], fk[64];
	size_t certl, reql, cmwl, wantl, seedl, spkil, hcl, fkl, len = 0, i;
	struct katls_ea_keys k = { .hash = GNUTLS_MAC_SHA256, .hlen = 32 };
	struct katls_ea_request r, r2;
	struct katls_ea_verified v;
	gnutls_privkey_t key = NULL;
	uint8_t *auth = NULL;
	int ret, errs;

	if (vec_lookup(vf, S, "seed", seed, sizeof(seed), &seedl) ||
	    vec_lookup(vf, S, "cert", cert, sizeof(cert), &certl) ||
	    vec_lookup(vf, S, "request", req, sizeof(req), &reql) ||
	    vec_lookup(vf, S, "cmw", cmw, sizeof(cmw), &cmwl) ||
	    vec_lookup(vf, S, "authenticator", want, sizeof(want), &wantl) ||
	    vec_lookup(vf, S, "hs_context", hc, sizeof(hc), &hcl) ||
	    vec_lookup(vf, S, "finished_key", fk, sizeof(fk), &fkl) ||
	    vec_lookup(vf, "ea-binder-v1", "spki", spki, sizeof(spki), &spkil) ||
	    hcl != 32 || fkl != 32 || seedl != 32 || spkil != 44) {
		tap_ok(0, "authenticator vector loads");
		return;
	}
	memcpy(k.hs_context, hc, 32);
	memcpy(k.finished_key, fk, 32);
	tap_ok(!katls_ea_request_decode(req, reql, &r) && r.cmw_offered &&
	       r.nschemes == 2, "vector request decodes");
	if (import_ed25519(seed, spki + 12, &key)) {
		tap_ok(0, "Ed25519 key imports");
		return;
	}
	ret = katls_ea_authenticator_create(&k, req, reql, &r, cert, certl,
					    key, cmw, cmwl, &auth, &len);
	tap_ok(!ret && len == wantl && !memcmp(auth, want, len),
	       "authenticator equals the vector byte for byte (%s)",
	       katls_ea_strerror(ret));
	ret = katls_ea_authenticator_verify(&k, req, reql, &r, want, wantl,
					    spki, spkil, &v);
	tap_ok(!ret && v.cmw_len == cmwl && !memcmp(v.cmw, cmw, cmwl) &&
	       v.cert_len == certl && v.scheme == 0x0807,
	       "vector authenticator verifies, evidence and leaf out (%s)",
	       katls_ea_strerror(ret));

	memcpy(buf_a, want, wantl);
	/* context: our request differs from the one answered */
	r2 = r;
	r2.ctx[3] ^= 1;
	tap_ok(katls_ea_authenticator_verify(&k, req, reql, &r2, buf_a, wantl,
					     spki, spkil, &v) ==
	       KATLS_EA_E_CONTEXT && !v.cmw,
	       "authenticator for another request context refused");
	/* the transcript covers the whole request */
	req[reql - 5] ^= 1;
	tap_ok(katls_ea_authenticator_verify(&k, req, reql, &r, buf_a, wantl,
					     spki, spkil, &v) ==
	       KATLS_EA_E_FINISHED, "another request transcript: Finished refused");
	req[reql - 5] ^= 1;
	buf_a[wantl - 1] ^= 1;
	tap_ok(katls_ea_authenticator_verify(&k, req, reql, &r, buf_a, wantl,
					     spki, spkil, &v) ==
	       KATLS_EA_E_FINISHED, "tampered Finished refused");
	buf_a[wantl - 1] ^= 1;
	k.finished_key[0] ^= 1;
	tap_ok(katls_ea_authenticator_verify(&k, req, reql, &r, buf_a, wantl,
					     spki, spkil, &v) ==
	       KATLS_EA_E_FINISHED, "another connection's keys: refused");
	k.finished_key[0] ^= 1;
	spki[20] ^= 1;
	tap_ok(katls_ea_authenticator_verify(&k, req, reql, &r, buf_a, wantl,
					     spki, spkil, &v) ==
	       KATLS_EA_E_KEY, "a key other than the handshake's refused");
	spki[20] ^= 1;
	/* a bad signature under a valid Finished */
	buf_a[wantl - 4 - 32 - 10] ^= 1;
	refinish(&k, req, reql, buf_a, wantl);
	tap_ok(katls_ea_authenticator_verify(&k, req, reql, &r, buf_a, wantl,
					     spki, spkil, &v) ==
	       KATLS_EA_E_SIGNATURE, "bad CertificateVerify signature refused");
	memcpy(buf_a, want, wantl);
	/* the scheme field: 0x0807 -> 0x0403, re-finished */
	{
		size_t cv = wantl - 4 - 32 - 4 - 64 - 4;

		buf_a[cv + 4] = 0x04;
		buf_a[cv + 5] = 0x03;
		refinish(&k, req, reql, buf_a, wantl);
		tap_ok(katls_ea_authenticator_verify(&k, req, reql, &r, buf_a,
						     wantl, spki, spkil, &v) ==
		       KATLS_EA_E_SCHEME,
		       "a scheme that does not fit the key refused");
		memcpy(buf_a, want, wantl);
	}
	/* structure */
	errs = 0;
	for (i = 0; i < wantl; i++)
		errs += katls_ea_authenticator_verify(&k, req, reql, &r, want,
						      i, spki, spkil, &v) == 0;
	tap_ok(!errs, "every truncation of the authenticator is refused");
	buf_a[wantl] = 0;
	tap_ok(katls_ea_authenticator_verify(&k, req, reql, &r, buf_a,
					     wantl + 1, spki, spkil, &v) ==
	       KATLS_EA_E_TRAILING, "trailing byte refused");
	{
		/* Certificate: type, len3, ctxlen, ctx(32), listlen3,
		 * certlen3, cert, extlen2, ext type */
		size_t et = 4 + 1 + 32 + 3 + 3 + certl + 2;

		buf_a[et] = 0;
		buf_a[et + 1] = 5;
		tap_ok(katls_ea_authenticator_verify(&k, req, reql, &r, buf_a,
						     wantl, spki, spkil, &v) ==
		       KATLS_EA_E_EXT_UNSOLICITED,
		       "an extension that was not offered refused");
		memcpy(buf_a, want, wantl);
	}
	{
		static const uint8_t fin_only[4 + 32] = { 20, 0, 0, 32 };

		tap_ok(katls_ea_authenticator_verify(&k, req, reql, &r,
						     fin_only, sizeof(fin_only),
						     spki, spkil, &v) ==
		       KATLS_EA_E_EMPTY, "empty authenticator: the refusal");
	}
	free(auth);
	auth = NULL;
	r2 = r;
	r2.cmw_offered = false;
	tap_ok(katls_ea_authenticator_create(&k, req, reql, &r2, cert, certl,
					     key, cmw, cmwl, &auth, &len) ==
	       KATLS_EA_E_NO_CMW_OFFER && !auth,
	       "no evidence for a request that did not offer cmw_attestation");
	r2 = r;
	r2.nschemes = 1;
	r2.schemes[0] = 0x0403;
	tap_ok(katls_ea_authenticator_create(&k, req, reql, &r2, cert, certl,
					     key, cmw, cmwl, &auth, &len) ==
	       KATLS_EA_E_SCHEME && !auth,
	       "no authenticator if the key's scheme was not offered");
	tap_ok(katls_ea_authenticator_create(&k, req, reql, &r, cert, certl,
					     key, cmw, 0, &auth, &len) ==
	       KATLS_EA_E_CMW_LEN &&
	       katls_ea_authenticator_create(&k, req, reql, &r, cert, certl,
					     key, cmw, KATLS_EA_CMW_MAX + 1,
					     &auth, &len) == KATLS_EA_E_CMW_LEN,
	       "evidence of 0 or over 65533 bytes refused");
	gnutls_privkey_deinit(key);
}

static void test_frames(void)
{
	uint8_t h[KATLS_EA_FRAME_HDR_LEN];

	katls_ea_frame_hdr(KATLS_EA_FRAME_AUTH, 70000, h);
	tap_ok(katls_ea_frame_parse(h, KATLS_EA_FRAME_AUTH, 100000) == 70000 &&
	       katls_ea_frame_parse(h, KATLS_EA_FRAME_REQUEST, 100000) ==
	       KATLS_EA_E_MSG_TYPE &&
	       katls_ea_frame_parse(h, KATLS_EA_FRAME_AUTH, 69999) ==
	       KATLS_EA_E_TOO_BIG, "frame header: type and bound");
	h[0] = 'K';
	tap_ok(katls_ea_frame_parse(h, KATLS_EA_FRAME_AUTH, 100000) ==
	       KATLS_EA_E_FRAME, "frame header: bad magic refused");
	katls_ea_frame_hdr(KATLS_EA_FRAME_REQUEST, 0, h);
	tap_ok(katls_ea_frame_parse(h, KATLS_EA_FRAME_REQUEST, 100) ==
	       KATLS_EA_E_TOO_BIG, "frame header: empty body refused");
}

/* ---- a live session pair ---- */

struct side {
	bool server;
	int fd, ret;
	gnutls_session_t s;
	uint8_t ems[64];
	size_t ems_len;
};

static gnutls_certificate_credentials_t server_creds, client_creds;
static gnutls_x509_crt_t crt;
static gnutls_x509_privkey_t pkey;

static int make_creds(void)
{
	time_t now = time(NULL);

	if (gnutls_x509_privkey_init(&pkey) ||
	    gnutls_x509_privkey_generate(pkey, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) ||
	    gnutls_x509_crt_init(&crt) || gnutls_x509_crt_set_version(crt, 3) ||
	    gnutls_x509_crt_set_serial(crt, "\x01", 1) ||
	    gnutls_x509_crt_set_activation_time(crt, now - 60) ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 3600) ||
	    gnutls_x509_crt_set_key(crt, pkey) ||
	    gnutls_x509_crt_sign2(crt, crt, pkey, GNUTLS_DIG_SHA256, 0) ||
	    gnutls_certificate_allocate_credentials(&server_creds) ||
	    gnutls_certificate_set_x509_key(server_creds, &crt, 1, pkey) ||
	    gnutls_certificate_allocate_credentials(&client_creds))
		return -1;
	return 0;
}

static int keylog(gnutls_session_t s, const char *label,
		  const gnutls_datum_t *secret)
{
	struct side *x = gnutls_session_get_ptr(s);

	if (!strcmp(label, "EXPORTER_SECRET") &&
	    secret->size <= sizeof(x->ems)) {
		memcpy(x->ems, secret->data, secret->size);
		x->ems_len = secret->size;
	}
	return 0;
}

static void *run_side(void *arg)
{
	struct side *x = arg;
	int ret;

	gnutls_init(&x->s, (x->server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
		    GNUTLS_NO_SIGNAL);
	ret = gnutls_priority_set_direct(x->s, prio, NULL);
	if (!ret)
		ret = gnutls_credentials_set(x->s, GNUTLS_CRD_CERTIFICATE,
					     x->server ? server_creds :
					     client_creds);
	gnutls_session_set_ptr(x->s, x);
	gnutls_session_set_keylog_function(x->s, keylog);
	gnutls_transport_set_int(x->s, x->fd);
	gnutls_handshake_set_timeout(x->s, 10000);
	if (!ret) {
		do {
			ret = gnutls_handshake(x->s);
		} while (ret < 0 && !gnutls_error_is_fatal(ret));
	}
	x->ret = ret;
	return NULL;
}

static int pair(struct side *c, struct side *s, int sv[2])
{
	pthread_t t;

	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	s->server = true;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	c->fd = sv[0];
	s->fd = sv[1];
	pthread_create(&t, NULL, run_side, s);
	run_side(c);
	pthread_join(t, NULL);
	return c->ret || s->ret ? -1 : 0;
}

static void unpair(struct side *c, struct side *s, int sv[2])
{
	gnutls_deinit(c->s);
	gnutls_deinit(s->s);
	close(sv[0]);
	close(sv[1]);
}

static void fputhex(FILE *f, const char *k, const uint8_t *p, size_t n)
{
	fprintf(f, "%s = ", k);
	while (n--)
		fprintf(f, "%02x", *p++);
	fputc('\n', f);
}

static void test_live(const char *py, size_t hlen)
{
	const char *hn = hlen == 48 ? "sha384" : "sha256";
	struct side c, s, c2, s2;
	struct katls_ea_keys kc, ks, kc2, kcl;
	struct katls_ea_request r, rs, r2;
	struct katls_ea_verified v;
	uint8_t req[KATLS_EA_REQUEST_MAX], req2[KATLS_EA_REQUEST_MAX];
	uint8_t bc[32], bs[32], rd[64], pyrd[64];
	static const uint8_t cmw[] = "live evidence";
	gnutls_datum_t der = { 0 }, spki = { 0 }, scalar = { 0 };
	gnutls_privkey_t key = NULL;
	uint8_t *auth = NULL;
	size_t len = 0, l2, pyl, rdl;
	int sv[2], sv2[2], n, n2, ret;
	char in[] = "/tmp/katls-test-ea-in.XXXXXX";
	char out[] = "/tmp/katls-test-ea-out.XXXXXX";
	char cmd[1024];
	FILE *f;

	if (pair(&c, &s, sv)) {
		tap_ok(0, "live %s: TLS 1.3 handshake", hn);
		return;
	}
	tap_ok(c.ems_len == hlen && s.ems_len == hlen &&
	       !memcmp(c.ems, s.ems, hlen),
	       "live %s: handshake, same exporter secret", hn);
	tap_ok(!katls_ea_keys_from_session(c.s, KATLS_EA_FROM_SERVER, &kc) &&
	       !katls_ea_keys_from_session(s.s, KATLS_EA_FROM_SERVER, &ks) &&
	       kc.hlen == hlen && !memcmp(&kc, &ks, sizeof(kc)),
	       "live %s: both ends derive the same server authenticator keys", hn);
	tap_ok(!katls_ea_keys_from_session(c.s, KATLS_EA_FROM_CLIENT, &kcl) &&
	       memcmp(kcl.hs_context, kc.hs_context, hlen) &&
	       memcmp(kcl.finished_key, kc.finished_key, hlen),
	       "live %s: client and server authenticator keys differ", hn);

	katls_ea_request_new(KATLS_EA_HS_CLIENT_CERTIFICATE_REQUEST, &r);
	n = katls_ea_request_encode(&r, req, sizeof(req));
	tap_ok(!katls_ea_bind_exporter(c.s, r.ctx, r.ctx_len, bc) &&
	       !katls_ea_bind_exporter(s.s, r.ctx, r.ctx_len, bs) &&
	       !memcmp(bc, bs, 32), "live %s: both ends compute the same binding exporter", hn);

	gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der);
	katls_spki_from_cert_der(der.data, der.size, &spki);
	gnutls_privkey_init(&key);
	gnutls_privkey_import_x509(key, pkey, 0);
	ret = n > 0 ? katls_ea_request_decode(req, n, &rs) : -1;
	if (!ret)
		ret = katls_ea_authenticator_create(&ks, req, n, &rs, der.data,
						    der.size, key, cmw,
						    sizeof(cmw), &auth, &len);
	tap_ok(!ret, "live %s: the server builds its authenticator (%s)",
	       hn, katls_ea_strerror(ret));
	ret = katls_ea_authenticator_verify(&kc, req, n, &r, auth, len,
					    spki.data, spki.size, &v);
	tap_ok(!ret && v.cmw_len == sizeof(cmw) && v.scheme == 0x0403,
	       "live %s: the client verifies it (%s)", hn,
	       katls_ea_strerror(ret));
	tap_ok(katls_ea_authenticator_verify(&kcl, req, n, &r, auth, len,
					     spki.data, spki.size, &v) ==
	       KATLS_EA_E_FINISHED,
	       "live %s: checked as a client authenticator, refused", hn);

	/*
	 * issue 14 item 3, the client's direction: the server's
	 * CertificateRequest, the client's authenticator from the client
	 * keys, verified with any key (bound by the evidence); the empty
	 * authenticator is the client's refusal.
	 */
	{
		struct katls_ea_request rq, rqc;
		struct katls_ea_keys kcs;
		uint8_t reqc[KATLS_EA_REQUEST_MAX], *ca = NULL, *ea = NULL;
		size_t cal = 0, eal = 0;
		int nc;

		katls_ea_request_new(KATLS_EA_HS_CERTIFICATE_REQUEST, &rq);
		nc = katls_ea_request_encode(&rq, reqc, sizeof(reqc));
		ret = nc > 0 ? katls_ea_request_decode(reqc, nc, &rqc) : -1;
		if (!ret)
			ret = katls_ea_keys_from_session(s.s, KATLS_EA_FROM_CLIENT,
							 &kcs);
		if (!ret)
			ret = katls_ea_authenticator_create(&kcl, reqc, nc, &rqc,
							    der.data, der.size,
							    key, cmw, sizeof(cmw),
							    &ca, &cal);
		tap_ok(!ret && rqc.type == KATLS_EA_HS_CERTIFICATE_REQUEST,
		       "live %s: the client answers the server's CertificateRequest (%s)",
		       hn, katls_ea_strerror(ret));
		ret = katls_ea_authenticator_verify(&kcs, reqc, nc, &rq, ca, cal,
						    NULL, 0, &v);
		tap_ok(!ret && v.cmw_len == sizeof(cmw) && v.cert_len == der.size,
		       "live %s: the server verifies it with no expected key (%s)",
		       hn, katls_ea_strerror(ret));
		tap_ok(katls_ea_authenticator_verify(&ks, reqc, nc, &rq, ca, cal,
						     NULL, 0, &v) ==
		       KATLS_EA_E_FINISHED,
		       "live %s: a client authenticator checked with the server keys is refused",
		       hn);
		ret = katls_ea_empty_authenticator_create(&kcl, reqc, nc, &ea,
							  &eal);
		tap_ok(!ret && eal == 4 + hlen && ea[0] == KATLS_EA_HS_FINISHED &&
		       katls_ea_authenticator_verify(&kcs, reqc, nc, &rq, ea, eal,
						     NULL, 0, &v) ==
		       KATLS_EA_E_EMPTY,
		       "live %s: the empty authenticator reads as the client's refusal",
		       hn);
		free(ca);
		free(ea);
		katls_ea_keys_wipe(&kcs);
	}

	/* another connection: the relay / replay case */
	if (pair(&c2, &s2, sv2) ||
	    katls_ea_keys_from_session(c2.s, KATLS_EA_FROM_SERVER, &kc2)) {
		tap_ok(0, "live %s: second connection", hn);
	} else {
		tap_ok(katls_ea_authenticator_verify(&kc2, req, n, &r, auth,
						     len, spki.data, spki.size,
						     &v) == KATLS_EA_E_FINISHED,
		       "live %s: an authenticator replayed on another connection is refused",
		       hn);
		unpair(&c2, &s2, sv2);
	}

	/* the independent implementation, both directions */
	katls_ea_request_new(KATLS_EA_HS_CLIENT_CERTIFICATE_REQUEST, &r2);
	n2 = katls_ea_request_encode(&r2, req2, sizeof(req2));
	{
		gnutls_ecc_curve_t curve;
		gnutls_datum_t x = { 0 }, y = { 0 };

		/* the private scalar (a PEM may carry it short) */
		if (gnutls_x509_privkey_export_ecc_raw(pkey, &curve, &x, &y,
						       &scalar) < 0)
			scalar.data = NULL;
		gnutls_free(x.data);
		gnutls_free(y.data);
	}
	f = fdopen(mkstemp(in), "w");
	close(mkstemp(out));
	if (!f || n2 <= 0 || !scalar.data) {
		tap_ok(0, "cross-check set-up");
		goto done;
	}
	fprintf(f, "hash = %s\n", hn);
	fputhex(f, "exporter_master_secret", s.ems, s.ems_len);
	fputhex(f, "spki", spki.data, spki.size);
	fputhex(f, "cert", der.data, der.size);
	fputhex(f, "request", req, n);
	fputhex(f, "authenticator", auth, len);
	fputhex(f, "cmw", cmw, sizeof(cmw));
	fputhex(f, "request2", req2, n2);
	fputhex(f, "key_p256", scalar.data, scalar.size);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 %s --cross %s %s", py, in, out);
	f = popen(cmd, "r");
	ret = -1;
	if (f) {
		char line[512];

		while (fgets(line, sizeof(line), f))
			printf("# py: %s", line);
		ret = pclose(f);
	}
	tap_ok(ret == 0, "cross-check %s: python3-cryptography verifies the C authenticator (exit %d)",
	       hn, ret);
	ret = vec_lookup(out, NULL, "authenticator", buf_b, sizeof(buf_b), &pyl) ||
	      vec_lookup(out, NULL, "report_data", pyrd, sizeof(pyrd), &rdl);
	tap_ok(!ret && !katls_ea_authenticator_verify(&kc, req2, n2, &r2, buf_b,
						      pyl, spki.data, spki.size,
						      &v) &&
	       v.cmw_len == 19 && !memcmp(v.cmw, "katls test evidence", 19),
	       "cross-check %s: the C verifier accepts python's authenticator on the live session",
	       hn);
	l2 = !katls_ea_bind_exporter(c.s, r2.ctx, r2.ctx_len, bc) &&
	     !katls_ea_binder(r2.ctx, r2.ctx_len, spki.data, spki.size, bc, rd);
	tap_ok(!ret && l2 && rdl == 64 && !memcmp(rd, pyrd, 64),
	       "cross-check %s: python's binder ea v1 equals GnuTLS's exporter + ours",
	       hn);
done:
	unlink(in);
	unlink(out);
	if (scalar.data)
		gnutls_memset(scalar.data, 0, scalar.size);
	gnutls_free(scalar.data);
	free(auth);
	gnutls_free(der.data);
	gnutls_free(spki.data);
	gnutls_privkey_deinit(key);
	katls_ea_keys_wipe(&kc);
	katls_ea_keys_wipe(&ks);
	katls_ea_keys_wipe(&kcl);
	unpair(&c, &s, sv);
}

static void free_creds(void)
{
	gnutls_certificate_free_credentials(server_creds);
	gnutls_certificate_free_credentials(client_creds);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(pkey);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s VECTORS_FILE EA_VECTORS_PY\n",
			argv[0]);
		return 2;
	}
	tap_plan_lazy();
	test_binder_vector(argv[1]);
	test_requests();
	test_vector_authenticator(argv[1]);
	test_frames();
	if (make_creds()) {
		tap_ok(0, "test credentials");
	} else {
		prio = PRIO_128;
		test_live(argv[2], 32);
		prio = PRIO_256;
		test_live(argv[2], 48);
	}
	free_creds();
	return tap_done();
}
