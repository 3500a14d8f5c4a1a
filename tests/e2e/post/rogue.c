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
 *
 * Then it prints whatever application data arrives (the client's bytes
 * in the good case; nothing in the others) until the peer goes away.
 * Exit status 0 unless its own set-up failed.
 *
 * usage: post-rogue good|context|key|replay PORT CERT.pem KEY.pem
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

static gnutls_certificate_credentials_t creds;
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
	gnutls_transport_set_int(*s, fd);
	gnutls_handshake_set_timeout(*s, 20000);
	do {
		ret = gnutls_handshake(*s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	return ret;
}

static int recv_all(gnutls_session_t s, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = gnutls_record_recv(s, p, n);

		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= r;
	}
	return 0;
}

static int send_all(gnutls_session_t s, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = gnutls_record_send(s, p, n);

		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= r;
	}
	return 0;
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

	if (argc != 5) {
		fprintf(stderr, "usage: %s good|context|key|replay PORT CERT KEY\n",
			argv[0]);
		return 2;
	}
	mode = argv[1];
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

	if (!strcmp(mode, "good")) {
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
