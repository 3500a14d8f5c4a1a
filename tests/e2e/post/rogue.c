// SPDX-License-Identifier: GPL-2.0
/*
 * rogue.c - a post-handshake attester that answers the authenticator
 * request wrongly, for tests/e2e/post/post.sh (issue 14: rejection of
 * each kind).  A plain GnuTLS TLS 1.3 server (no katls on its side) that
 * speaks the katls wire format: it accepts the client's "binding = post"
 * request with an empty EncryptedExtensions extension, reads the request
 * frame and sends an authenticator with real evidence of the simulated
 * TSM provider (configfs-tsm), built with libkatlsattest's ea.c:
 *
 *   good     correct: the control case (the client must accept it)
 *   context  for another request context (valid signature and Finished
 *            under this connection's keys)
 *   key      evidence whose report data binds another key than the
 *            handshake's (the binder's spki of a fresh key)
 *   replay   authenticator and evidence computed on another TLS
 *            connection (the rogue's own loopback session) for the
 *            client's very request
 *   skip     accepts "binding = post" in the handshake, then sends
 *            application data instead of an authenticator
 *   python   correct, but the authenticator is built by the independent
 *            implementation (tests/unit/attest/ea_vectors.py --answer,
 *            python3-cryptography) from this session's exporter secret:
 *            katlsd must accept it (issue 14 item 5)
 *
 * and as a client (PORT of a katls-cat -l -p sim-post server):
 *
 *   pyclient asks katlsd's server for its authenticator and lets
 *            ea_vectors.py --verify check it; prints the verdict line,
 *            then, accepted, the server's data
 *
 * Then it prints whatever application data arrives (the client's bytes
 * in the good case; nothing in the others) until the peer goes away.
 * Exit status 0 unless its own set-up failed.
 *
 * usage: post-rogue good|context|key|replay|skip|python|pyclient PORT CERT.pem
 *        KEY.pem [EA_VECTORS_PY]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include <katls/binder.h>
#include <katls/ea.h>
#include <katls/ext.h>
#include <katls/gnutls.h>
#include <katls/tsm.h>
#include "tls-io.h"

static gnutls_certificate_credentials_t creds;
static uint8_t ems[64];			/* EXPORTER_SECRET of the session */
static size_t ems_len;
static const char *py;			/* ea_vectors.py */

static int keylog(gnutls_session_t s, const char *label,
		  const gnutls_datum_t *secret)
{
	if (!strcmp(label, "EXPORTER_SECRET") && secret->size <= sizeof(ems)) {
		memcpy(ems, secret->data, secret->size);
		ems_len = secret->size;
	}
	return 0;
}

static void fputhex(FILE *f, const char *k, const uint8_t *p, size_t n)
{
	fprintf(f, "%s = ", k);
	while (n--)
		fprintf(f, "%02x", *p++);
	fputc('\n', f);
}

static const char *hash_name(gnutls_session_t s)
{
	return gnutls_prf_hash_get(s) == GNUTLS_DIG_SHA384 ? "sha384" :
	       "sha256";
}

/* Read "key = hex" from path into a malloc'd buffer. */
static uint8_t *read_hex(const char *path, const char *key, size_t *len)
{
	static char line[300000];
	uint8_t *out = NULL;
	FILE *f = fopen(path, "r");
	size_t kl = strlen(key), i, n;

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) || strncmp(line + kl, " = ", 3))
			continue;
		n = strcspn(line + kl + 3, "\n") / 2;
		out = malloc(n ? n : 1);
		for (i = 0; out && i < n; i++) {
			unsigned int b;

			if (sscanf(line + kl + 3 + 2 * i, "%2x", &b) != 1) {
				free(out);
				out = NULL;
				break;
			}
			out[i] = b;
		}
		*len = n;
		break;
	}
	fclose(f);
	return out;
}
static gnutls_privkey_t pkey;
static gnutls_datum_t cert_der;

static int ext_recv(gnutls_session_t s, const unsigned char *d, size_t len)
{
	return 0;
}

/* "binding = post" accepted: an empty body */
static int ext_send(gnutls_session_t s, gnutls_buffer_t buf)
{
	return GNUTLS_E_INT_RET_0;
}

static int session(gnutls_session_t *s, int fd, bool server)
{
	int ret;

	ret = gnutls_init(s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
			  GNUTLS_NO_SIGNAL);
	if (!ret)
		ret = gnutls_priority_set_direct(*s, KATLS_GNUTLS_PRIORITY, NULL);
	if (!ret)
		ret = gnutls_credentials_set(*s, GNUTLS_CRD_CERTIFICATE, creds);
	if (!ret && server)
		ret = katls_gnutls_ext_register(*s, ext_recv, ext_send);
	if (ret)
		return ret;
	gnutls_session_set_keylog_function(*s, keylog);
	gnutls_transport_set_int(*s, fd);
	gnutls_handshake_set_timeout(*s, 20000);
	do {
		ret = gnutls_handshake(*s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	return ret;
}

static int recv_all(gnutls_session_t s, uint8_t *p, size_t n)
{
	return tls_rec_all(s, NULL, p, n);
}

static int send_all(gnutls_session_t s, const uint8_t *p, size_t n)
{
	return tls_rec_all(s, p, NULL, n);
}

/*
 * The authenticator for request (raw, r) on session s with evidence bound
 * to spki; *out malloc'd.  ctx_override: answer for another context.
 */
static int answer(gnutls_session_t s, const uint8_t *raw, size_t raw_len,
		  const struct katls_ea_request *r, const uint8_t *spki,
		  size_t spki_len, uint8_t **out, size_t *out_len)
{
	uint8_t bind[KATLS_EA_BIND_LEN], rd[64], *rec;
	struct katls_tsm_report rep = { 0 };
	struct katls_ea_keys k;
	size_t cap;
	int n, ret;

	if (katls_ea_bind_exporter(s, r->ctx, r->ctx_len, bind) ||
	    katls_ea_binder(r->ctx, r->ctx_len, spki, spki_len, bind, rd))
		return -1;
	ret = katls_tsm_get_report(NULL, rd, &rep);
	if (ret) {
		fprintf(stderr, "rogue: configfs-tsm: %s\n", strerror(-ret));
		return -1;
	}
	cap = katls_ext_evidence_size(rep.type, rep.outblob_len,
				      rep.auxblob_len);
	rec = cap ? malloc(cap) : NULL;
	n = rec ? katls_ext_evidence_encode(rep.type, rep.outblob,
					    rep.outblob_len, rep.auxblob,
					    rep.auxblob_len, rec, cap) : -1;
	katls_tsm_report_free(&rep);
	if (n <= 0 || katls_ea_keys_from_session(s, KATLS_EA_FROM_SERVER, &k)) {
		free(rec);
		return -1;
	}
	if (py) {
		/* the independent implementation builds it */
		char in[] = "/tmp/post-rogue-in.XXXXXX";
		char outp[] = "/tmp/post-rogue-out.XXXXXX";
		gnutls_ecc_curve_t curve;
		gnutls_datum_t x = { 0 }, y = { 0 }, d = { 0 };
		char cmd[512];
		FILE *f;

		katls_ea_keys_wipe(&k);
		f = fdopen(mkstemp(in), "w");
		close(mkstemp(outp));
		if (!f || gnutls_privkey_export_ecc_raw(pkey, &curve, &x, &y,
							&d) < 0) {
			free(rec);
			return -1;
		}
		fprintf(f, "hash = %s\n", hash_name(s));
		fputhex(f, "exporter_master_secret", ems, ems_len);
		fputhex(f, "request", raw, raw_len);
		fputhex(f, "cert", cert_der.data, cert_der.size);
		fputhex(f, "key_p256", d.data, d.size);
		fputhex(f, "cmw", rec, n);
		fclose(f);
		gnutls_free(x.data);
		gnutls_free(y.data);
		gnutls_free(d.data);
		free(rec);
		snprintf(cmd, sizeof(cmd), "python3 %s --answer %s %s", py, in,
			 outp);
		ret = system(cmd);
		*out_len = 0;
		*out = ret ? NULL : read_hex(outp, "authenticator", out_len);
		unlink(in);
		unlink(outp);
		if (!*out)
			fprintf(stderr, "rogue: ea_vectors.py --answer failed\n");
		return *out ? 0 : -1;
	}
	ret = katls_ea_authenticator_create(&k, raw, raw_len, r, cert_der.data,
					    cert_der.size, pkey, rec, n, out,
					    out_len);
	katls_ea_keys_wipe(&k);
	free(rec);
	if (ret)
		fprintf(stderr, "rogue: authenticator: %s\n",
			katls_ea_strerror(ret));
	return ret ? -1 : 0;
}

/* The replay's other connection: the rogue talks to itself. */
struct loop {
	int fd;
	gnutls_session_t s;
	int ret;
};

static void *loop_client(void *arg)
{
	struct loop *l = arg;

	l->ret = session(&l->s, l->fd, false);
	return NULL;
}

/* Client side: a katls ClientHello asking for binding post. */
static int cli_ext_send(gnutls_session_t s, gnutls_buffer_t buf)
{
	struct katls_ext_request r = {
		.version = KATLS_EXT_VERSION, .mode = KATLS_EXT_MODE_POST_V1,
		.ntypes = 1, .types = { KATLS_EVIDENCE_SIM },
	};
	uint8_t out[KATLS_EXT_REQUEST_MAX];
	int n;

	gnutls_rnd(GNUTLS_RND_NONCE, r.nonce, sizeof(r.nonce));
	n = katls_ext_request_encode(&r, out, sizeof(out));
	return n > 0 ? gnutls_buffer_append_data(buf, out, n) : -1;
}

static int pyclient(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint8_t hdr[KATLS_EA_FRAME_HDR_LEN], raw[KATLS_EA_REQUEST_MAX];
	uint8_t *auth, buf[4096];
	struct katls_ea_request r;
	gnutls_datum_t spki = { 0 };
	const gnutls_datum_t *peer;
	gnutls_session_t s;
	unsigned int np = 0;
	char in[] = "/tmp/post-rogue-v.XXXXXX", cmd[512];
	int fd, n, len, ret;
	FILE *f;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 2;
	if (gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL) ||
	    gnutls_priority_set_direct(s, KATLS_GNUTLS_PRIORITY, NULL) ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds) ||
	    katls_gnutls_ext_register(s, ext_recv, cli_ext_send))
		return 2;
	gnutls_session_set_keylog_function(s, keylog);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 20000);
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	peer = ret ? NULL : gnutls_certificate_get_peers(s, &np);
	if (!peer || !np ||
	    katls_spki_from_cert_der(peer->data, peer->size, &spki)) {
		fprintf(stderr, "rogue: client handshake: %s\n",
			gnutls_strerror(ret));
		return 2;
	}
	katls_ea_request_new(KATLS_EA_HS_CLIENT_CERTIFICATE_REQUEST, &r);
	len = katls_ea_request_encode(&r, raw, sizeof(raw));
	katls_ea_frame_hdr(KATLS_EA_FRAME_REQUEST, len, hdr);
	if (len <= 0 || send_all(s, hdr, sizeof(hdr)) || send_all(s, raw, len) ||
	    recv_all(s, hdr, sizeof(hdr)) ||
	    (n = katls_ea_frame_parse(hdr, KATLS_EA_FRAME_AUTH,
				      KATLS_EA_AUTH_MAX)) < 0 ||
	    !(auth = malloc(n)) || recv_all(s, auth, n)) {
		fprintf(stderr, "rogue: no authenticator from the server\n");
		return 2;
	}
	f = fdopen(mkstemp(in), "w");
	if (!f)
		return 2;
	fprintf(f, "hash = %s\n", hash_name(s));
	fputhex(f, "exporter_master_secret", ems, ems_len);
	fputhex(f, "request", raw, len);
	fputhex(f, "authenticator", auth, n);
	fputhex(f, "spki", spki.data, spki.size);
	fclose(f);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "python3 %s --verify %s", py, in);
	ret = system(cmd);
	unlink(in);
	if (ret)
		return 1;
	/* accepted: the server's gate opens, its data follows over kTLS */
	katls_ea_frame_hdr(KATLS_EA_FRAME_ACCEPT, 1, hdr);
	buf[0] = 0;
	if (send_all(s, hdr, sizeof(hdr)) || send_all(s, buf, 1))
		return 2;
	for (;;) {
		ssize_t m = gnutls_record_recv(s, buf, sizeof(buf));

		if (m == GNUTLS_E_AGAIN || m == GNUTLS_E_INTERRUPTED)
			continue;
		if (m <= 0)
			break;
		fwrite(buf, 1, m, stdout);
	}
	fflush(stdout);
	gnutls_bye(s, GNUTLS_SHUT_WR);
	free(auth);
	gnutls_free(spki.data);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint8_t hdr[KATLS_EA_FRAME_HDR_LEN], raw[KATLS_EA_REQUEST_MAX];
	struct katls_ea_request r;
	gnutls_datum_t spki = { 0 }, other_spki = { 0 };
	gnutls_session_t s = NULL;
	const char *mode;
	uint8_t *auth = NULL, buf[4096];
	size_t alen = 0;
	int lfd, fd, one = 1, len, ret;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s good|context|key|replay|skip|python|pyclient PORT CERT KEY [EA_VECTORS_PY]\n",
			argv[0]);
		return 2;
	}
	mode = argv[1];
	if (!strcmp(mode, "python") || !strcmp(mode, "pyclient")) {
		if (argc != 6)
			return 2;
		py = argv[5];
	}
	if (gnutls_certificate_allocate_credentials(&creds) ||
	    gnutls_certificate_set_x509_key_file(creds, argv[3], argv[4],
						 GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_certificate_get_crt_raw(creds, 0, 0, &cert_der) < 0 ||
	    katls_spki_from_cert_der(cert_der.data, cert_der.size, &spki)) {
		fprintf(stderr, "rogue: credentials\n");
		return 2;
	}
	{
		gnutls_datum_t pem;

		if (gnutls_load_file(argv[4], &pem) < 0 ||
		    gnutls_privkey_init(&pkey) < 0 ||
		    gnutls_privkey_import_x509_raw(pkey, &pem,
						   GNUTLS_X509_FMT_PEM, NULL,
						   0) < 0) {
			fprintf(stderr, "rogue: private key\n");
			return 2;
		}
		gnutls_free(pem.data);
	}
	if (!strcmp(mode, "pyclient"))
		return pyclient(atoi(argv[2]));
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons(atoi(argv[2]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1)) {
		perror("rogue: listen");
		return 2;
	}
	fd = accept(lfd, NULL, NULL);
	if (fd < 0 || (ret = session(&s, fd, true))) {
		fprintf(stderr, "rogue: handshake failed\n");
		return 2;
	}
	/* the request frame */
	if (recv_all(s, hdr, sizeof(hdr)) ||
	    (len = katls_ea_frame_parse(hdr, KATLS_EA_FRAME_REQUEST,
					sizeof(raw))) < 0 ||
	    recv_all(s, raw, len) || katls_ea_request_decode(raw, len, &r)) {
		fprintf(stderr, "rogue: no request\n");
		return 2;
	}

	if (!strcmp(mode, "skip")) {
		static const char msg[] = "PLAINTEXT-FROM-A-SERVER-THAT-SKIPS\n";

		if (send_all(s, (const uint8_t *)msg, sizeof(msg) - 1))
			return 2;
		fprintf(stderr, "rogue: skipped the exchange\n");
		auth = NULL;
		goto drain;
	}
	if (!strcmp(mode, "good") || !strcmp(mode, "python")) {
		ret = answer(s, raw, len, &r, spki.data, spki.size, &auth,
			     &alen);
	} else if (!strcmp(mode, "context")) {
		struct katls_ea_request r2 = r;

		r2.ctx[0] ^= 0x80;	/* another request's context */
		ret = answer(s, raw, len, &r2, spki.data, spki.size, &auth,
			     &alen);
	} else if (!strcmp(mode, "key")) {
		gnutls_privkey_t other;
		gnutls_pubkey_t pub;

		ret = gnutls_privkey_init(&other) ||
		      gnutls_privkey_generate(other, GNUTLS_PK_ECDSA, 256, 0) ||
		      gnutls_pubkey_init(&pub) ||
		      gnutls_pubkey_import_privkey(pub, other, 0, 0) ||
		      gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER,
					    &other_spki);
		if (!ret)
			ret = answer(s, raw, len, &r, other_spki.data,
				     other_spki.size, &auth, &alen);
	} else if (!strcmp(mode, "replay")) {
		struct loop l = { 0 };
		gnutls_session_t ls = NULL;
		pthread_t t;
		int sv[2];

		ret = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		if (!ret) {
			l.fd = sv[0];
			pthread_create(&t, NULL, loop_client, &l);
			ret = session(&ls, sv[1], true);
			pthread_join(t, NULL);
		}
		if (!ret && !l.ret)
			ret = answer(ls, raw, len, &r, spki.data, spki.size,
				     &auth, &alen);
		else
			ret = -1;
	} else {
		fprintf(stderr, "rogue: unknown mode %s\n", mode);
		return 2;
	}
	if (ret) {
		fprintf(stderr, "rogue: cannot build the %s answer\n", mode);
		return 2;
	}
	katls_ea_frame_hdr(KATLS_EA_FRAME_AUTH, alen, hdr);
	if (send_all(s, hdr, sizeof(hdr)) || send_all(s, auth, alen)) {
		fprintf(stderr, "rogue: send\n");
		return 2;
	}
	fprintf(stderr, "rogue: sent the %s authenticator (%zu bytes)\n", mode,
		alen);
drain:
	/* whatever comes: the accept frame, then application data */
	for (;;) {
		ssize_t n = gnutls_record_recv(s, buf, sizeof(buf));

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0) {
			fprintf(stderr, "rogue: end: %s\n",
				n ? gnutls_strerror((int)n) : "closed");
			break;
		}
		fwrite(buf, 1, n, stdout);
		fflush(stdout);
	}
	gnutls_bye(s, GNUTLS_SHUT_WR);
	free(auth);
	return 0;
}
