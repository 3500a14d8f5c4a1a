// SPDX-License-Identifier: GPL-2.0
/*
 * katls-attack - TEST-ONLY relay adversary and weak attested-TLS peers
 * (Documentation/relay-attacks.rst).  Never installed.
 *
 *   katls-attack server --binding B --port P --cert C --key K
 *	Attester A: TLS 1.3 server that answers the katls ClientHello
 *	extension with configfs-tsm evidence whose report data is derived as
 *	binding B says (the paper's #1..#7, or "katls" = binder v1).
 *   katls-attack client --binding B --port P --ca C --policy F --secret S
 *	Victim C: checks only binding B (plus the evidence signature and the
 *	policy), then sends S as its first application bytes.
 *   katls-attack relay --binding B --port P --upstream Q --cert C --key K
 *		--secret S [--attack NAME]
 *	Adversary M holding the leaked server key: terminates C's TLS,
 *	obtains evidence from A on port Q as binding B allows, hands it to
 *	C, and reports whether it could read C's first application bytes.
 *	--attack selects the further attacks (see usage()).
 *	A victim that asks for "binding = post | both" (issue 14) gets
 *	its Exported Authenticator exchange from M too (post_phase()):
 *	M relays its request to A, or answers it wrongly, as --attack
 *	says; the evidence and authenticator are A's or the TEE's.
 *
 * Every program prints one result line:
 *   C: session established, sent secret   /  C: rejected: REASON
 *   M: decrypted: TEXT                     /  M: failed: REASON
 *   A: served                              /  A: failed: REASON
 * and exits 0 on success of its own role, 1 otherwise, 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
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
#include <katls/merkle.h>
#include <katls/tsm.h>
#include <katls/verify.h>
#include "tls-io.h"

/* One suite only, so every party agrees on SHA-256 for the early secret. */
#define WEAK_CIPHER	"AES-128-GCM"
/* M facing the real katlsd: whatever it offers (KATLS_GNUTLS_PRIORITY). */
#define EARLY_LABEL	"katls weak early exporter"
#define CH_MAX		4096
#define EV_BODY_MAX	KATLS_EXT_BODY_MAX

enum binding {
	B_NONE,
	B_RANDOM,		/* #1 client TLS random */
	B_NONCE,		/* #2 client attestation nonce */
	B_EARLY,		/* #3 early exporter */
	B_SPKI,			/* #4 hash of the server public key */
	B_NONCE_EARLY,		/* #5 = #2 + #3 */
	B_NONCE_SPKI,		/* #6 = #2 + #4 */
	B_ALL,			/* #7 = #2 + #3 + #4 */
	B_KATLS,		/* binder v1 */
};

static const char *const binding_names[] = {
	[B_RANDOM] = "1", [B_NONCE] = "2", [B_EARLY] = "3", [B_SPKI] = "4",
	[B_NONCE_EARLY] = "5", [B_NONCE_SPKI] = "6", [B_ALL] = "7",
	[B_KATLS] = "katls",
};

static const char *prog_role = "?";

static struct {
	const char *mode;
	enum binding binding;
	unsigned int port, upstream;
	const char *cert, *key, *ca, *policy, *secret, *attack;
	const char *other_cert;		/* wrong-key: spki to bind */
	const char *sample;		/* tdx-sample: evidence file */
	const char *roots;		/* verifier roots (tdx-sample) */
} opt;

__attribute__((format(printf, 1, 2), noreturn))
static void result_fail(const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s: ", prog_role, prog_role[0] == 'C' ? "rejected" : "failed");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* ---- per-session state shared by the callbacks ---- */

struct sess {
	bool server;
	enum binding binding;
	char reason[256];

	uint8_t htsc[64];
	size_t htsc_len;
	uint8_t ch[CH_MAX];		/* ClientHello incl. handshake header */
	size_t ch_len;

	/* the katls request: what the client sent / the server received */
	struct katls_ext_request req;
	uint8_t req_raw[KATLS_EXT_REQUEST_MAX];
	size_t req_raw_len;
	bool req_valid;
	const uint8_t *req_override;	/* client: send these bytes instead */
	size_t req_override_len;

	/* the evidence record: what the server sends / the client received */
	uint8_t ev_body[EV_BODY_MAX];
	size_t ev_body_len;
	bool ev_valid;
	int (*ee_send)(gnutls_session_t s, struct sess *x, gnutls_buffer_t b);

	struct katls_policy *policy;	/* client */
	bool verified;
	bool post_ok;			/* client: "binding = post" accepted */
};

/* Free a session state; the handshake secret is wiped first. */
static void sess_free(struct sess *x)
{
	if (!x)
		return;
	gnutls_memset(x->htsc, 0, sizeof(x->htsc));
	free(x);
}

__attribute__((format(printf, 2, 3)))
static int sfail(struct sess *x, const char *fmt, ...)
{
	va_list ap;

	if (x->reason[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(x->reason, sizeof(x->reason), fmt, ap);
	va_end(ap);
	return -1;
}

static int keylog_cb(gnutls_session_t s, const char *label,
		     const gnutls_datum_t *secret)
{
	struct sess *x = gnutls_session_get_ptr(s);

	/* A secret that does not fit is left out: the binding then fails. */
	katls_gnutls_keylog_htsc(label, secret, x->htsc, sizeof(x->htsc),
				 &x->htsc_len);
	return 0;
}

/*
 * Keep the ClientHello as it goes into the transcript (with its 4-byte
 * handshake header) for the early exporter.  GnuTLS passes the body; a
 * ClientHello body starts with legacy_version 0x0303, a full message with
 * type 1, so both forms are told apart.
 */
static int ch_hook(gnutls_session_t s, unsigned int htype, unsigned int when,
		   unsigned int incoming, const gnutls_datum_t *msg)
{
	struct sess *x = gnutls_session_get_ptr(s);
	size_t n = msg->size;

	if (htype != GNUTLS_HANDSHAKE_CLIENT_HELLO)
		return 0;
	if (n >= 4 && msg->data[0] == 1 &&
	    ((size_t)msg->data[1] << 16 | msg->data[2] << 8 | msg->data[3]) ==
	    n - 4) {
		if (n > sizeof(x->ch))
			return GNUTLS_E_INTERNAL_ERROR;
		memcpy(x->ch, msg->data, n);
		x->ch_len = n;
		return 0;
	}
	if (n + 4 > sizeof(x->ch) || n > 0xffffff)
		return GNUTLS_E_INTERNAL_ERROR;
	x->ch[0] = 1;
	x->ch[1] = n >> 16;
	x->ch[2] = n >> 8;
	x->ch[3] = n;
	memcpy(x->ch + 4, msg->data, n);
	x->ch_len = n + 4;
	return 0;
}

/*
 * TLS 1.3 early exporter without a PSK (RFC 8446 §7.1, §7.5):
 *   ES   = HKDF-Extract(0, 0)
 *   EEMS = Derive-Secret(ES, "e exp master", ClientHello)
 *   out  = HKDF-Expand-Label(Derive-Secret(EEMS, label, ""), "exporter",
 *                            Hash(""), 64)
 * GnuTLS's gnutls_prf_early() needs a PSK, so it is derived here from
 * GnuTLS's HKDF.  It depends on the whole ClientHello and nothing else.
 */
/* EEMS = Derive-Secret(HKDF-Extract(0, psk), "e exp master", ClientHello) */
static int early_exporter_master(const uint8_t *psk, size_t psk_len,
				 const uint8_t *ch, size_t ch_len,
				 uint8_t eems[32])
{
	uint8_t zero[32] = { 0 }, es[32], h[32];
	gnutls_datum_t ikm = { (uint8_t *)psk, psk_len };
	gnutls_datum_t salt = { zero, sizeof(zero) };
	int ret = -1;

	if (!ch_len)
		return -1;
	if (!gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &ikm, &salt, es) &&
	    !gnutls_hash_fast(GNUTLS_DIG_SHA256, ch, ch_len, h) &&
	    !katls_hkdf_expand_label(GNUTLS_MAC_SHA256, es, 32, "e exp master",
				     h, 32, eems, 32))
		ret = 0;
	gnutls_memset(es, 0, sizeof(es));
	return ret;
}

/* TLS-Exporter(EARLY_LABEL, "", 64) from an exporter master secret (§7.5) */
static int exporter_expand(const uint8_t master[32], uint8_t out[64])
{
	uint8_t sec[32], he[32];
	int ret = -1;

	if (!gnutls_hash_fast(GNUTLS_DIG_SHA256, "", 0, he) &&
	    !katls_hkdf_expand_label(GNUTLS_MAC_SHA256, master, 32,
				     EARLY_LABEL, he, 32, sec, 32) &&
	    !katls_hkdf_expand_label(GNUTLS_MAC_SHA256, sec, 32, "exporter",
				     he, 32, out, 64))
		ret = 0;
	gnutls_memset(sec, 0, sizeof(sec));
	return ret;
}

static int early_exporter_psk(const uint8_t *psk, size_t psk_len,
			      const uint8_t *ch, size_t ch_len, uint8_t out[64])
{
	uint8_t eems[32];
	int ret = -1;

	if (!early_exporter_master(psk, psk_len, ch, ch_len, eems) &&
	    !exporter_expand(eems, out))
		ret = 0;
	gnutls_memset(eems, 0, sizeof(eems));
	return ret;
}

/* Without a PSK, the IKM is a string of Hash.length zeros. */
static int early_exporter(const uint8_t *ch, size_t ch_len, uint8_t out[64])
{
	static const uint8_t zero[32];

	return early_exporter_psk(zero, sizeof(zero), ch, ch_len, out);
}

/*
 * report_data for binding b as the attester computes it and the victim
 * recomputes it.  The weak bindings are SHA-512 over the concatenation of
 * their inputs, in the order of the binding's name.
 */
static int report_data(gnutls_session_t s, struct sess *x,
		       const uint8_t *cert_der, size_t cert_len,
		       uint8_t rd[64])
{
	gnutls_datum_t spki = { 0 }, cr = { 0 }, sr = { 0 };
	gnutls_hash_hd_t h = NULL;
	uint8_t ex[64];
	enum binding b = x->binding;
	bool nonce = b == B_NONCE || b == B_NONCE_EARLY || b == B_NONCE_SPKI ||
		     b == B_ALL;
	bool key = b == B_SPKI || b == B_NONCE_SPKI || b == B_ALL;
	bool early = b == B_EARLY || b == B_NONCE_EARLY || b == B_ALL;
	int ret = -1;

	if (!x->req_valid)
		return sfail(x, "no attestation request");
	if ((key || b == B_KATLS) &&
	    katls_spki_from_cert_der(cert_der, cert_len, &spki))
		return sfail(x, "cannot extract the certificate key");
	if (b == B_KATLS) {
		gnutls_mac_algorithm_t mac;
		size_t hl;

		mac = katls_gnutls_prf_mac(s, &hl);
		if (mac == GNUTLS_MAC_UNKNOWN || x->htsc_len != hl)
			sfail(x, "client handshake traffic secret not available");
		else if (katls_binder_v1(mac, x->htsc, x->htsc_len,
					 x->req.nonce, spki.data, spki.size,
					 rd))
			sfail(x, "binder computation failed");
		else
			ret = 0;
		goto out;
	}
	if (early && early_exporter(x->ch, x->ch_len, ex)) {
		sfail(x, "early exporter not available");
		goto out;
	}
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA512))
		goto out;
	if (b == B_RANDOM) {
		gnutls_session_get_random(s, &cr, &sr);
		if (cr.size != 32) {
			sfail(x, "no client random");
			goto out;
		}
		gnutls_hash(h, cr.data, cr.size);
	}
	if (nonce)
		gnutls_hash(h, x->req.nonce, sizeof(x->req.nonce));
	if (key)
		gnutls_hash(h, spki.data, spki.size);
	if (early)
		gnutls_hash(h, ex, sizeof(ex));
	ret = 0;
out:
	if (h)
		gnutls_hash_deinit(h, ret ? NULL : rd);
	gnutls_memset(ex, 0, sizeof(ex));
	gnutls_free(spki.data);
	return ret;
}

/* ---- the extension ---- */

static int ext_recv(gnutls_session_t s, const unsigned char *data, size_t len)
{
	struct sess *x = gnutls_session_get_ptr(s);
	struct katls_ext_evidence e;
	int ret;

	if (x->server) {
		if (len > sizeof(x->req_raw))
			return sfail(x, "attestation request too long"),
			       GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
		ret = katls_ext_request_decode(data, len, &x->req);
		if (ret)
			return sfail(x, "malformed request: %s",
				     katls_ext_strerror(ret)),
			       GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
		memcpy(x->req_raw, data, len);
		x->req_raw_len = len;
		x->req_valid = true;
		return 0;
	}
	/* binding = post: an empty body accepts; the evidence comes later */
	if (!len && x->req_valid && x->req.mode == KATLS_EXT_MODE_POST_V1) {
		x->post_ok = true;
		return 0;
	}
	if (len > sizeof(x->ev_body))
		return sfail(x, "evidence record too long"),
		       GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
	ret = katls_ext_evidence_decode(data, len, &e);
	if (ret)
		return sfail(x, "malformed evidence record: %s",
			     katls_ext_strerror(ret)),
		       GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
	memcpy(x->ev_body, data, len);
	x->ev_body_len = len;
	x->ev_valid = true;
	return 0;
}

static int client_hello_send(struct sess *x, gnutls_buffer_t buf)
{
	static const enum katls_evidence_type all[] = {
		KATLS_EVIDENCE_TDX, KATLS_EVIDENCE_SNP, KATLS_EVIDENCE_CCA,
		KATLS_EVIDENCE_SIM,
	};
	int n;

	if (x->req_override) {
		if (x->req_override_len > sizeof(x->req_raw))
			return GNUTLS_E_INTERNAL_ERROR;
		memcpy(x->req_raw, x->req_override, x->req_override_len);
		x->req_raw_len = x->req_override_len;
		if (katls_ext_request_decode(x->req_raw, x->req_raw_len,
					     &x->req))
			return GNUTLS_E_INTERNAL_ERROR;
		x->req_valid = true;
	}
	if (!x->req_valid) {
		memset(&x->req, 0, sizeof(x->req));
		x->req.version = KATLS_EXT_VERSION;
		x->req.mode = KATLS_EXT_MODE_BINDER_V1;
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if (!x->policy || katls_policy_allows(x->policy, all[i]))
				x->req.types[x->req.ntypes++] = all[i];
		if (gnutls_rnd(GNUTLS_RND_RANDOM, x->req.nonce,
			       sizeof(x->req.nonce)))
			return GNUTLS_E_INTERNAL_ERROR;
		n = katls_ext_request_encode(&x->req, x->req_raw,
					     sizeof(x->req_raw));
		if (n <= 0)
			return GNUTLS_E_INTERNAL_ERROR;
		x->req_raw_len = n;
		x->req_valid = true;
	}
	return gnutls_buffer_append_data(buf, x->req_raw, x->req_raw_len);
}

static int ext_send(gnutls_session_t s, gnutls_buffer_t buf)
{
	struct sess *x = gnutls_session_get_ptr(s);

	if (!x->server)
		return client_hello_send(x, buf);
	if (!x->req_valid)
		return 0;
	return x->ee_send(s, x, buf);
}

/* Append an evidence record of type t to buf. */
static int put_evidence(struct sess *x, gnutls_buffer_t buf,
			enum katls_evidence_type t, const uint8_t *ev,
			size_t ev_len, const uint8_t *aux, size_t aux_len)
{
	size_t cap = katls_ext_evidence_size(t, ev_len, aux_len);
	uint8_t *out;
	int n, ret;

	if (!cap)
		return sfail(x, "evidence does not fit the extension"),
		       GNUTLS_E_INTERNAL_ERROR;
	out = malloc(cap);
	if (!out)
		return GNUTLS_E_MEMORY_ERROR;
	n = katls_ext_evidence_encode(t, ev, ev_len, aux, aux_len, out, cap);
	if (n <= 0) {
		free(out);
		return sfail(x, "cannot encode evidence: %s",
			     katls_ext_strerror(n)), GNUTLS_E_INTERNAL_ERROR;
	}
	ret = gnutls_buffer_append_data(buf, out, n);
	free(out);
	return ret;
}

/* Attester: evidence from configfs-tsm with report data of our binding. */
static int attester_ee_send(gnutls_session_t s, struct sess *x,
			    gnutls_buffer_t buf)
{
	const gnutls_datum_t *ours = gnutls_certificate_get_ours(s);
	struct katls_tsm_report rep = { 0 };
	uint8_t rd[64];
	int ret;

	if (!ours)
		return sfail(x, "no certificate"), GNUTLS_E_INTERNAL_ERROR;
	if (report_data(s, x, ours->data, ours->size, rd))
		return GNUTLS_E_INTERNAL_ERROR;
	ret = katls_tsm_get_report(NULL, rd, &rep);
	if (ret)
		return sfail(x, "configfs-tsm: %s", strerror(-ret)),
		       GNUTLS_E_INTERNAL_ERROR;
	ret = put_evidence(x, buf, rep.type, rep.outblob, rep.outblob_len,
			   rep.auxblob, rep.auxblob_len);
	katls_tsm_report_free(&rep);
	return ret;
}

/* ---- victim: check only the binding, the evidence and the policy ---- */

static gnutls_certificate_credentials_t victim_creds;

static int victim_verify(gnutls_session_t s)
{
	struct sess *x = gnutls_session_get_ptr(s);
	const gnutls_datum_t *certs;
	struct katls_ext_evidence e;
	struct katls_verify_opts o = { 0 };
	struct katls_verdict *v;
	struct katls_claims c;
	unsigned int n = 0, status = 0;
	uint8_t rd[64];
	int ret;

	certs = gnutls_certificate_get_peers(s, &n);
	if (!certs || !n)
		return sfail(x, "no server certificate"), -1;
	/* The server key is pinned: the leaked key passes, any other fails. */
	ret = gnutls_certificate_verify_peers3(s, NULL, &status);
	if (ret < 0 || status)
		return sfail(x, "server certificate not trusted"), -1;
	if (!x->ev_valid)
		return sfail(x, "server sent no evidence"), -1;
	if (katls_ext_evidence_decode(x->ev_body, x->ev_body_len, &e))
		return sfail(x, "malformed evidence"), -1;
	if (!katls_policy_allows(x->policy, e.type))
		return sfail(x, "policy does not allow %s evidence",
			     katls_evidence_name(e.type)), -1;
	if (report_data(s, x, certs[0].data, certs[0].size, rd))
		return -1;
	v = malloc(sizeof(*v));
	if (!v)
		return -1;
	katls_verdict_init(v);
	memset(&c, 0, sizeof(c));
	o.aux = e.aux;
	o.aux_len = e.aux_len;
	o.expected_report_data = rd;
	ret = katls_verify_evidence(e.type, e.evidence, e.evidence_len, &o,
				    &c, v);
	if (ret || !v->valid) {
		sfail(x, "binding %s: evidence rejected: %s",
		      binding_names[x->binding],
		      v->nerrors ? v->errors[0] : "invalid");
		goto bad;
	}
	katls_verdict_init(v);
	if (katls_policy_eval(x->policy, &c, v)) {
		sfail(x, "policy: %s", v->nerrors ? v->errors[0] : "rule failed");
		goto bad;
	}
	free(v);
	x->verified = true;
	return 0;
bad:
	free(v);
	return -1;
}

/* ---- sockets and sessions ---- */

static int tcp_listen(unsigned int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8))
		result_fail("listen on %u: %s", port, strerror(errno));
	return fd;
}

static int tcp_connect(unsigned int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd, i;

	/* The peer may still be starting up: retry for about 5 s. */
	for (i = 0; i < 50; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			return fd;
		close(fd);
		usleep(100000);
	}
	return -1;
}

static gnutls_certificate_credentials_t server_creds(const char *cert,
						      const char *key)
{
	gnutls_certificate_credentials_t c;

	if (gnutls_certificate_allocate_credentials(&c) ||
	    gnutls_certificate_set_x509_key_file(c, cert, key,
						 GNUTLS_X509_FMT_PEM) < 0)
		result_fail("cannot load %s / %s", cert, key);
	return c;
}

/* TLS 1.3, no tickets, one cipher (NULL: every kTLS AEAD), extras. */
static const char *priority(const char *cipher, const char *extra)
{
	static __thread char buf[KATLS_GNUTLS_PRIORITY_MAX];

	if (katls_gnutls_priority(buf, sizeof(buf), cipher, extra) < 0)
		result_fail("priority string");
	return buf;
}

static gnutls_session_t new_session(struct sess *x, bool server, int fd,
				    const char *cipher,
				    gnutls_certificate_credentials_t creds)
{
	gnutls_session_t s;

	x->server = server;
	if (gnutls_init(&s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
			GNUTLS_NO_SIGNAL) ||
	    gnutls_priority_set_direct(s, priority(cipher, NULL), NULL) ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds))
		result_fail("GnuTLS session set-up failed");
	gnutls_session_set_ptr(s, x);
	gnutls_session_set_keylog_function(s, keylog_cb);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_CLIENT_HELLO,
					   server ? GNUTLS_HOOK_PRE :
					   GNUTLS_HOOK_POST, ch_hook);
	if (katls_gnutls_ext_register(s, ext_recv, ext_send))
		result_fail("cannot register the extension");
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 20000);
	return s;
}

static int handshake(gnutls_session_t s)
{
	int ret;

	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	return ret;
}

static const char *hs_error(struct sess *x, gnutls_session_t s, int ret)
{
	static char buf[320];

	if (x->reason[0])
		return x->reason;
	if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
		snprintf(buf, sizeof(buf), "peer sent alert %s",
			 gnutls_alert_get_name(gnutls_alert_get(s)));
	else
		snprintf(buf, sizeof(buf), "%s", gnutls_strerror(ret));
	return buf;
}

/* ---- roles ---- */

/* Name the role that prints the result line; its session state. */
static struct sess *role_begin(const char *role)
{
	struct sess *x = calloc(1, sizeof(*x));

	prog_role = role;
	if (!x)
		result_fail("out of memory");
	return x;
}

/* Listen on port (*lfd) and accept one connection. */
static int accept_one(unsigned int port, int *lfd)
{
	int fd;

	*lfd = tcp_listen(port);
	printf("%s: listening\n", prog_role);
	fflush(stdout);
	fd = accept(*lfd, NULL, NULL);
	if (fd < 0)
		result_fail("accept: %s", strerror(errno));
	return fd;
}

/* A's or M's TLS server on fd, with binding opt.binding. */
static gnutls_session_t server_session(struct sess *x, int fd,
				       const char *cipher,
				       gnutls_certificate_credentials_t creds,
				       int (*ee_send)(gnutls_session_t,
						      struct sess *,
						      gnutls_buffer_t))
{
	gnutls_session_t s;

	x->binding = opt.binding;
	x->ee_send = ee_send;
	s = new_session(x, true, fd, cipher, creds);
	gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
	return s;
}

/*
 * End a served session with close_notify (katls-cat takes a bare FIN for
 * a truncation), then free everything.
 */
static int server_done(gnutls_session_t s, struct sess *x, int fd, int lfd,
		       gnutls_certificate_credentials_t creds)
{
	gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
	close(fd);
	close(lfd);
	gnutls_certificate_free_credentials(creds);
	sess_free(x);
	return 0;
}

static int run_server(void)
{
	gnutls_certificate_credentials_t creds;
	gnutls_session_t s;
	struct sess *x;
	char buf[512];
	int lfd, fd, ret;

	x = role_begin("A");
	creds = server_creds(opt.cert, opt.key);
	fd = accept_one(opt.port, &lfd);
	s = server_session(x, fd, WEAK_CIPHER, creds, attester_ee_send);
	ret = handshake(s);
	if (ret < 0)
		result_fail("%s", hs_error(x, s, ret));
	if (!x->req_valid)
		result_fail("peer did not ask for attestation");
	/* Serve: read what the client sends until it closes. */
	while ((ret = gnutls_record_recv(s, buf, sizeof(buf))) > 0)
		gnutls_record_send(s, "ack\n", 4);
	printf("A: served\n");
	return server_done(s, x, fd, lfd, creds);
}

static int run_client(void)
{
	struct sess *x;
	char err[256], buf[64];
	gnutls_session_t s;
	int fd, ret;

	x = role_begin("C");
	if (katls_policy_load_file(opt.policy, &x->policy, err, sizeof(err)))
		result_fail("policy: %s", err);
	if (gnutls_certificate_allocate_credentials(&victim_creds) ||
	    gnutls_certificate_set_x509_trust_file(victim_creds, opt.ca,
						   GNUTLS_X509_FMT_PEM) <= 0)
		result_fail("cannot load the pinned certificate %s", opt.ca);
	fd = tcp_connect(opt.port);
	if (fd < 0)
		result_fail("connect to port %u: %s", opt.port, strerror(errno));
	x->binding = opt.binding;
	s = new_session(x, false, fd, WEAK_CIPHER, victim_creds);
	gnutls_session_set_verify_function(s, victim_verify);
	ret = handshake(s);
	if (ret < 0)
		result_fail("%s", hs_error(x, s, ret));
	if (!x->verified)
		result_fail("evidence never verified");
	/* The secret: C's first application bytes. */
	if (gnutls_record_send(s, opt.secret, strlen(opt.secret)) < 0)
		result_fail("send failed");
	ret = gnutls_record_recv(s, buf, sizeof(buf));
	printf("C: session established, sent secret\n");
	gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
	close(fd);
	katls_policy_free(x->policy);
	gnutls_certificate_free_credentials(victim_creds);
	sess_free(x);
	return 0;
}

/* ---- the adversary ---- */

static uint8_t recorded[EV_BODY_MAX];	/* replay */
static size_t recorded_len;

/*
 * M's client session to the attester (opt.upstream), sending req (C's
 * request, forwarded) instead of its own.  NULL, with why set, if the
 * attester cannot be reached.
 */
static gnutls_session_t upstream_session(struct sess *u, enum binding b,
					 const uint8_t *req, size_t req_len,
					 gnutls_certificate_credentials_t any,
					 int *fd, char *why, size_t whylen)
{
	*fd = tcp_connect(opt.upstream);
	if (*fd < 0) {
		snprintf(why, whylen, "cannot reach the attester");
		return NULL;
	}
	u->binding = b;
	u->req_override = req;
	u->req_override_len = req_len;
	return new_session(u, false, *fd, NULL, any);
}

/*
 * M as a client of the genuine attester A: send req_raw (C's request,
 * or a fresh one), optionally C's client random, and return A's
 * evidence record.  M completes this handshake itself, so it can read
 * the EncryptedExtensions.
 */
static int fetch_from_attester(const uint8_t *req_raw, size_t req_len,
			       const gnutls_datum_t *client_random,
			       uint8_t *body, size_t *body_len, char *why,
			       size_t whylen)
{
	gnutls_certificate_credentials_t any;
	struct sess *u = calloc(1, sizeof(*u));
	gnutls_session_t s;
	int fd, ret = -1;

	if (!u)
		return -1;
	gnutls_certificate_allocate_credentials(&any);
	s = upstream_session(u, opt.binding, req_raw, req_len, any, &fd, why,
			     whylen);
	if (!s)
		goto out_free;
	if (client_random &&
	    gnutls_handshake_set_random(s, client_random) < 0) {
		snprintf(why, whylen, "cannot set the client random");
		goto out;
	}
	ret = handshake(s);
	if (ret < 0) {
		snprintf(why, whylen, "handshake with the attester: %s",
			 hs_error(u, s, ret));
		ret = -1;
		goto out;
	}
	if (!u->ev_valid) {
		snprintf(why, whylen, "the attester sent no evidence");
		ret = -1;
		goto out;
	}
	memcpy(body, u->ev_body, u->ev_body_len);
	*body_len = u->ev_body_len;
	gnutls_bye(s, GNUTLS_SHUT_WR);
	ret = 0;
out:
	gnutls_deinit(s);
	close(fd);
out_free:
	gnutls_certificate_free_credentials(any);
	sess_free(u);
	return ret;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 &&
	    n <= KATLS_EXT_EVIDENCE_MAX && !fseek(f, 0, SEEK_SET)) {
		p = malloc(n);
		if (p && fread(p, 1, n, f) != (size_t)n) {
			free(p);
			p = NULL;
		}
		*len = n;
	}
	fclose(f);
	return p;
}

/*
 * M's own evidence, bound with binder v1 to ITS handshake with C (M's
 * htsc, C's nonce, the spki of --other-cert or of the leaked key).  In
 * the VM, M can reach the simulated TEE itself: this is what an attacker
 * on a genuine TEE could produce, and what the tampering attacks start
 * from.
 */
static int own_bound_evidence(gnutls_session_t s, struct sess *x,
			      struct katls_tsm_report *rep)
{
	const gnutls_datum_t *ours = gnutls_certificate_get_ours(s);
	gnutls_datum_t other = { 0 };
	uint8_t rd[64];
	int ret;

	x->binding = B_KATLS;
	if (opt.other_cert) {
		gnutls_x509_crt_t crt;
		gnutls_datum_t pem = { 0 };

		if (gnutls_load_file(opt.other_cert, &pem) ||
		    gnutls_x509_crt_init(&crt))
			return sfail(x, "cannot load %s", opt.other_cert);
		ret = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM);
		if (!ret)
			ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
						      &other);
		gnutls_x509_crt_deinit(crt);
		gnutls_free(pem.data);
		if (ret)
			return sfail(x, "cannot parse %s", opt.other_cert);
		ret = report_data(s, x, other.data, other.size, rd);
		gnutls_free(other.data);
	} else {
		ret = report_data(s, x, ours->data, ours->size, rd);
	}
	if (ret)
		return -1;
	ret = katls_tsm_get_report(NULL, rd, rep);
	if (ret)
		return sfail(x, "configfs-tsm: %s", strerror(-ret));
	return 0;
}

/* @v big-endian in the @n bytes at @p; returns @n. */
static size_t put_be(uint8_t *p, size_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = v >> (8 * (n - 1 - i));
	return n;
}

/*
 * The head of a KatlsEvidence record written by hand
 * (Documentation/wire-format.rst): @version, the media type @mt of
 * @ml bytes, the 24-bit evidence length and the evidence.  The caller
 * has checked that it fits @rec.  Returns the bytes written.
 */
static size_t put_record_head(uint8_t *rec, uint8_t version, const char *mt,
			      size_t ml, const uint8_t *ev, size_t ev_len)
{
	size_t off = 2 + ml;

	rec[0] = version;
	rec[1] = ml;
	memcpy(rec + 2, mt, ml);
	off += put_be(rec + off, ev_len, 3);
	memcpy(rec + off, ev, ev_len);
	return off + ev_len;
}

/*
 * A KatlsEvidence record of version 2 written by hand
 * (Documentation/wire-format.rst), so that M can send proofs the encoder
 * refuses (a path one hash short or long).  The path has p->path_len
 * hashes, whatever (leaf_index, tree_size) need.  Returns the length or
 * -1 if it does not fit @cap or the extension.
 */
static ssize_t encode_batch_raw(enum katls_evidence_type t, const uint8_t *ev,
				size_t ev_len, const uint8_t *aux,
				size_t aux_len,
				const struct katls_merkle_proof *p,
				uint8_t *rec, size_t cap)
{
	const char *mt = katls_ext_media_type(t);
	size_t ml = mt ? strlen(mt) : 0;
	size_t pl = (size_t)p->path_len * KATLS_MERKLE_HASH_LEN;
	size_t need = 1 + 1 + ml + 3 + ev_len + 3 + aux_len + 4 + 4 + 2 + pl;
	size_t off;

	if (!mt || p->path_len > KATLS_MERKLE_MAX_PATH ||
	    ev_len > KATLS_EXT_BODY_MAX || aux_len > KATLS_EXT_BODY_MAX ||
	    need > KATLS_EXT_BODY_MAX || need > cap)
		return -1;
	off = put_record_head(rec, KATLS_EXT_EVIDENCE_VERSION_BATCH, mt, ml,
			      ev, ev_len);
	off += put_be(rec + off, aux_len, 3);
	if (aux_len)
		memcpy(rec + off, aux, aux_len);
	off += aux_len;
	off += put_be(rec + off, p->leaf_index, 4);
	off += put_be(rec + off, p->tree_size, 4);
	off += put_be(rec + off, pl, 2);
	memcpy(rec + off, p->path, pl);
	return off + pl;
}

static int put_batch_raw(struct sess *x, gnutls_buffer_t buf,
			 enum katls_evidence_type t, const uint8_t *ev,
			 size_t ev_len, const uint8_t *aux, size_t aux_len,
			 const struct katls_merkle_proof *p)
{
	uint8_t *rec = malloc(KATLS_EXT_BODY_MAX);
	ssize_t n;
	int ret;

	if (!rec)
		return GNUTLS_E_MEMORY_ERROR;
	n = encode_batch_raw(t, ev, ev_len, aux, aux_len, p, rec,
			     KATLS_EXT_BODY_MAX);
	if (n < 0) {
		free(rec);
		return sfail(x, "batch record does not fit the extension"),
		       GNUTLS_E_INTERNAL_ERROR;
	}
	ret = gnutls_buffer_append_data(buf, rec, n);
	free(rec);
	return ret;
}

/*
 * Binder v1 batch mode (Documentation/binder.rst, "Batched evidence").
 * M computes the victim's binder for ITS handshake with C (as "self"
 * does), builds a Merkle tree of three binders, asks the simulated TEE
 * for REAL evidence whose report data the row needs, and sends it with
 * a proof:
 *
 *   batch-ok              leaf 1 of [r0, victim, r2], honest (control)
 *   batch-replay          leaf 1 of [r0, r1, r2]: another batch's proof
 *   batch-path-truncated  the honest proof, one path hash removed
 *   batch-path-extended   the honest proof, one path hash added
 *   batch-wrong-size      the honest path, tree size 4 instead of 3
 *                         (same path length: only the hashes can tell)
 *   batch-root-as-single  version 1 record, report data = the batch's
 *   batch-single-as-batch version 2 record (leaf 1 of 3, honest path),
 *                         report data = the victim's plain binder
 *
 * r0, r1, r2 are random binders: other connections' to the victim.
 */
static int batch_ee_send(gnutls_session_t s, struct sess *x,
			 gnutls_buffer_t buf, const char *a)
{
	const gnutls_datum_t *ours = gnutls_certificate_get_ours(s);
	uint8_t binders[3][KATLS_MERKLE_BINDER_LEN];
	uint8_t victim[KATLS_MERKLE_BINDER_LEN];
	uint8_t rd[KATLS_MERKLE_HASH_LEN];
	struct katls_merkle_tree *tree = NULL;
	struct katls_merkle_proof *pr;
	struct katls_tsm_report rep = { 0 };
	bool replay = !strcmp(a, "batch-replay");
	int ret = GNUTLS_E_INTERNAL_ERROR, err;

	if (strcmp(a, "batch-ok") && !replay &&
	    strcmp(a, "batch-path-truncated") &&
	    strcmp(a, "batch-path-extended") &&
	    strcmp(a, "batch-wrong-size") &&
	    strcmp(a, "batch-root-as-single") &&
	    strcmp(a, "batch-single-as-batch"))
		return sfail(x, "unknown attack %s", a),
		       GNUTLS_E_INTERNAL_ERROR;
	if (!ours)
		return sfail(x, "no certificate"), GNUTLS_E_INTERNAL_ERROR;
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return GNUTLS_E_MEMORY_ERROR;
	x->binding = B_KATLS;
	if (report_data(s, x, ours->data, ours->size, victim))
		goto out;
	if (gnutls_rnd(GNUTLS_RND_NONCE, binders, sizeof(binders))) {
		sfail(x, "no random binders");
		goto out;
	}
	if (!replay)
		memcpy(binders[1], victim, sizeof(victim));
	err = katls_merkle_tree_build((const uint8_t (*)[KATLS_MERKLE_BINDER_LEN])binders,
				      3, &tree);
	if (!err)
		err = katls_merkle_tree_report_data(tree, rd);
	if (!err)
		err = katls_merkle_tree_proof(tree, 1, pr);
	if (err) {
		sfail(x, "merkle tree: %s", katls_merkle_strerror(err));
		goto out;
	}
	/* Real evidence from the (simulated) TEE over the chosen data. */
	err = katls_tsm_get_report(NULL, !strcmp(a, "batch-single-as-batch") ?
				   victim : rd, &rep);
	if (err) {
		sfail(x, "configfs-tsm: %s", strerror(-err));
		goto out;
	}
	if (!strcmp(a, "batch-ok")) {
		/* The library's own encoder: exactly what a broker sends. */
		size_t cap = katls_ext_evidence_size_batch(rep.type,
				rep.outblob_len, rep.auxblob_len, pr);
		uint8_t *out = cap ? malloc(cap) : NULL;
		int n;

		if (!out) {
			sfail(x, "batch evidence does not fit");
			goto out;
		}
		n = katls_ext_evidence_encode_batch(rep.type, rep.outblob,
						    rep.outblob_len,
						    rep.auxblob,
						    rep.auxblob_len, pr, out,
						    cap);
		if (n > 0)
			ret = gnutls_buffer_append_data(buf, out, n);
		else
			sfail(x, "cannot encode batch evidence: %s",
			      katls_ext_strerror(n));
		free(out);
		goto out;
	}
	if (!strcmp(a, "batch-root-as-single")) {
		ret = put_evidence(x, buf, rep.type, rep.outblob,
				   rep.outblob_len, rep.auxblob,
				   rep.auxblob_len);
		goto out;
	}
	if (!strcmp(a, "batch-path-truncated"))
		pr->path_len--;
	else if (!strcmp(a, "batch-path-extended"))
		gnutls_rnd(GNUTLS_RND_NONCE, pr->path[pr->path_len++],
			   KATLS_MERKLE_HASH_LEN);
	else if (!strcmp(a, "batch-wrong-size"))
		pr->tree_size = 4;
	printf("M: batch proof leaf %u of %u, %u path hashes\n",
	       pr->leaf_index, pr->tree_size, pr->path_len);
	ret = put_batch_raw(x, buf, rep.type, rep.outblob, rep.outblob_len,
			    rep.auxblob, rep.auxblob_len, pr);
out:
	katls_tsm_report_free(&rep);
	katls_merkle_tree_free(tree);
	gnutls_memset(victim, 0, sizeof(victim));
	free(pr);
	return ret;
}

static int relay_ee_send(gnutls_session_t s, struct sess *x,
			 gnutls_buffer_t buf)
{
	const char *a = opt.attack;
	struct katls_tsm_report rep = { 0 };
	uint8_t body[EV_BODY_MAX];
	size_t body_len = 0;
	char why[300];
	int ret;

	/*
	 * binding = post (issue 14): accept with an empty body, as katlsd
	 * does; the evidence travels in the authenticator (post_phase()).
	 */
	if (x->req.mode == KATLS_EXT_MODE_POST_V1)
		return GNUTLS_E_INT_RET_0;
	if (!strcmp(a, "relay")) {
		gnutls_datum_t cr = { 0 }, sr = { 0 };

		/*
		 * Forward all of C's ClientHello that M can: its request
		 * (nonce, types) and, where the binding covers it, its client
		 * random.  The key share M cannot forward: A would answer
		 * with keys M cannot compute.
		 */
		bool random = x->binding == B_RANDOM || x->binding == B_EARLY ||
			      x->binding == B_NONCE_EARLY || x->binding == B_ALL;

		gnutls_session_get_random(s, &cr, &sr);
		if (fetch_from_attester(x->req_raw, x->req_raw_len,
					random ? &cr : NULL,
					body, &body_len, why, sizeof(why)))
			return sfail(x, "%s", why), GNUTLS_E_INTERNAL_ERROR;
		return gnutls_buffer_append_data(buf, body, body_len);
	}
	if (!strcmp(a, "replay"))
		return gnutls_buffer_append_data(buf, recorded, recorded_len);
	if (!strcmp(a, "no-evidence"))
		return 0;
	if (!strcmp(a, "tdx-sample")) {
		uint8_t *ev = read_file(opt.sample, &body_len);

		if (!ev)
			return sfail(x, "cannot read %s", opt.sample),
			       GNUTLS_E_INTERNAL_ERROR;
		ret = put_evidence(x, buf, KATLS_EVIDENCE_TDX, ev, body_len,
				   NULL, 0);
		free(ev);
		return ret;
	}
	if (!strncmp(a, "batch-", 6))
		return batch_ee_send(s, x, buf, a);
	if (own_bound_evidence(s, x, &rep))
		return GNUTLS_E_INTERNAL_ERROR;
	if (!strcmp(a, "self") || !strcmp(a, "wrong-key") ||
	    !strcmp(a, "debug")) {
		ret = put_evidence(x, buf, rep.type, rep.outblob,
				   rep.outblob_len, rep.auxblob,
				   rep.auxblob_len);
	} else if (!strcmp(a, "label-tdx")) {
		ret = put_evidence(x, buf, KATLS_EVIDENCE_TDX, rep.outblob,
				   rep.outblob_len, NULL, 0);
	} else if (!strcmp(a, "truncated")) {
		ret = put_evidence(x, buf, rep.type, rep.outblob,
				   rep.outblob_len / 2, NULL, 0);
	} else if (!strcmp(a, "oversized") || !strcmp(a, "huge")) {
		/* Valid evidence followed by junk; "huge" past the 32 KiB cap. */
		size_t n = !strcmp(a, "huge") ? KATLS_EXT_EVIDENCE_MAX + 1 :
			   rep.outblob_len + 64;
		uint8_t *big = calloc(1, n);

		if (!big)
			ret = GNUTLS_E_MEMORY_ERROR;
		else if (!strcmp(a, "huge")) {
			/* Does not fit the record: write it by hand. */
			const char *mt = katls_ext_media_type(rep.type);
			size_t ml = strlen(mt), off;
			uint8_t *rec = malloc(n + ml + 16);

			memcpy(big, rep.outblob, rep.outblob_len);
			ret = GNUTLS_E_MEMORY_ERROR;
			/* Documentation/wire-format.rst, KatlsEvidence */
			if (rec) {
				off = put_record_head(rec, KATLS_EXT_VERSION,
						      mt, ml, big, n);
				off += put_be(rec + off, 0, 3);	/* no aux */
				ret = gnutls_buffer_append_data(buf, rec, off);
				free(rec);
			}
		} else {
			memcpy(big, rep.outblob, rep.outblob_len);
			ret = put_evidence(x, buf, rep.type, big, n, NULL, 0);
		}
		free(big);
	} else if (!strcmp(a, "garbage")) {
		gnutls_rnd(GNUTLS_RND_NONCE, rep.outblob, rep.outblob_len);
		ret = put_evidence(x, buf, rep.type, rep.outblob,
				   rep.outblob_len, NULL, 0);
	} else {
		sfail(x, "unknown attack %s", a);
		ret = GNUTLS_E_INTERNAL_ERROR;
	}
	katls_tsm_report_free(&rep);
	return ret;
}

/* ---- post-handshake attestation (binding = post | both, issue 14) ---- */

/* A katls frame (Documentation/wire-format.rst) over a TLS session. */
static int frame_send(gnutls_session_t s, uint8_t type, const uint8_t *body,
		      size_t len)
{
	uint8_t hdr[KATLS_EA_FRAME_HDR_LEN];
	int ret;

	katls_ea_frame_hdr(type, len, hdr);
	ret = tls_rec_all(s, hdr, NULL, sizeof(hdr));
	return ret ? ret : tls_rec_all(s, body, NULL, len);
}

/* frame_recv(): not the frame expected (why in frame_bad) */
#define FRAME_BAD	(-100000)
static const char *frame_bad = "?";

/*
 * Receive one frame of @type (body at most @max) into *body (malloc'd).
 * Returns the body length, a negative GnuTLS error, or FRAME_BAD (a
 * frame of another kind, or no frame at all).
 */
static int frame_recv(gnutls_session_t s, uint8_t type, size_t max,
		      uint8_t **body)
{
	uint8_t hdr[KATLS_EA_FRAME_HDR_LEN];
	int ret, len;

	*body = NULL;
	ret = tls_rec_all(s, NULL, hdr, sizeof(hdr));
	if (ret)
		return ret;
	len = katls_ea_frame_parse(hdr, type, max);
	if (len < 0) {
		frame_bad = katls_ea_strerror(len);
		return FRAME_BAD;
	}
	*body = malloc(len);
	if (!*body)
		return GNUTLS_E_MEMORY_ERROR;
	ret = tls_rec_all(s, NULL, *body, len);
	if (ret) {
		free(*body);
		*body = NULL;
		return ret;
	}
	return len;
}

/* Why a frame did not arrive: the peer's alert, EOF, or a wrong frame. */
static const char *frame_error(gnutls_session_t s, int err)
{
	static char buf[200];

	if (err == GNUTLS_E_FATAL_ALERT_RECEIVED)
		snprintf(buf, sizeof(buf), "alert %s",
			 gnutls_alert_get_name(gnutls_alert_get(s)));
	else if (err == FRAME_BAD)
		snprintf(buf, sizeof(buf), "%s", frame_bad);
	else
		snprintf(buf, sizeof(buf), "%s", gnutls_strerror(err));
	return buf;
}

/*
 * M as a client of A, asking with C's own ClientHello request (@req_raw:
 * binding post or both): after the handshake M sends C's authenticator
 * request and returns A's authenticator (*auth, malloc'd) and, from it,
 * A's evidence record (*cmw, malloc'd; M is the verifier of this
 * connection, so it checks A's authenticator with its own keys).
 */
static int upstream_authenticator(const uint8_t *req_raw, size_t req_len,
				  const uint8_t *ea_req, size_t ea_len,
				  const struct katls_ea_request *r,
				  uint8_t **auth, size_t *auth_len,
				  uint8_t **cmw, size_t *cmw_len,
				  char *why, size_t whylen)
{
	gnutls_certificate_credentials_t any;
	struct sess *u = calloc(1, sizeof(*u));
	const gnutls_datum_t *peer;
	gnutls_datum_t spki = { 0 };
	struct katls_ea_verified v;
	struct katls_ea_keys k;
	gnutls_session_t s = NULL;
	unsigned int np = 0;
	int fd, n, ret = -1;

	*auth = *cmw = NULL;
	if (!u)
		return -1;
	gnutls_certificate_allocate_credentials(&any);
	s = upstream_session(u, B_KATLS, req_raw, req_len, any, &fd, why,
			     whylen);
	if (!s)
		goto out_free;
	n = handshake(s);
	if (n < 0) {
		snprintf(why, whylen, "handshake with the attester: %s",
			 hs_error(u, s, n));
		goto out;
	}
	n = frame_send(s, KATLS_EA_FRAME_REQUEST, ea_req, ea_len);
	if (!n)
		n = frame_recv(s, KATLS_EA_FRAME_AUTH, KATLS_EA_AUTH_MAX, auth);
	if (n < 0) {
		snprintf(why, whylen, "no authenticator from the attester: %s",
			 frame_error(s, n));
		goto out;
	}
	*auth_len = n;
	peer = gnutls_certificate_get_peers(s, &np);
	if (!peer || !np ||
	    katls_spki_from_cert_der(peer->data, peer->size, &spki)) {
		snprintf(why, whylen, "the attester's certificate");
		goto out;
	}
	n = katls_ea_keys_from_session(s, KATLS_EA_FROM_SERVER, &k);
	if (!n)
		n = katls_ea_authenticator_verify(&k, ea_req, ea_len, r, *auth,
						  *auth_len, spki.data,
						  spki.size, &v);
	katls_ea_keys_wipe(&k);
	if (n) {
		snprintf(why, whylen, "the attester's authenticator: %s",
			 katls_ea_strerror(n));
		goto out;
	}
	*cmw = malloc(v.cmw_len);
	if (!*cmw)
		goto out;
	memcpy(*cmw, v.cmw, v.cmw_len);
	*cmw_len = v.cmw_len;
	printf("M: got A's authenticator (%zu bytes) for the victim's request\n",
	       *auth_len);
	ret = 0;
out:
	if (ret) {
		free(*auth);
		*auth = NULL;
	}
	gnutls_free(spki.data);
	gnutls_deinit(s);
	close(fd);
out_free:
	gnutls_certificate_free_credentials(any);
	sess_free(u);
	return ret;
}

/*
 * Evidence from the (simulated) TEE whose report data is binder ea v1
 * for this session M shares with C, context @ctx, the leaked key's spki:
 * what an attacker on a genuine TEE could produce.  *rec malloc'd.
 */
static int own_post_evidence(gnutls_session_t s, const uint8_t *ctx,
			     size_t ctx_len, uint8_t **rec, size_t *rec_len)
{
	const gnutls_datum_t *ours = gnutls_certificate_get_ours(s);
	struct katls_tsm_report rep = { 0 };
	gnutls_datum_t spki = { 0 };
	uint8_t bind[KATLS_EA_BIND_LEN], rd[KATLS_EA_REPORT_DATA_LEN];
	size_t cap;
	int n;

	*rec = NULL;
	if (!ours || katls_spki_from_cert_der(ours->data, ours->size, &spki))
		return -1;
	n = katls_ea_bind_exporter(s, ctx, ctx_len, bind);
	if (!n)
		n = katls_ea_binder(ctx, ctx_len, spki.data, spki.size, bind,
				    rd);
	gnutls_free(spki.data);
	gnutls_memset(bind, 0, sizeof(bind));
	if (n || katls_tsm_get_report(NULL, rd, &rep))
		return -1;
	cap = katls_ext_evidence_size(rep.type, rep.outblob_len,
				      rep.auxblob_len);
	*rec = cap ? malloc(cap) : NULL;
	n = *rec ? katls_ext_evidence_encode(rep.type, rep.outblob,
					     rep.outblob_len, rep.auxblob,
					     rep.auxblob_len, *rec, cap) : -1;
	katls_tsm_report_free(&rep);
	if (n <= 0) {
		free(*rec);
		*rec = NULL;
		return -1;
	}
	*rec_len = n;
	return 0;
}

/* An authenticator on M's session with C, signed with the leaked key. */
static int leaked_key_authenticator(gnutls_session_t s, const uint8_t *ea_req,
				    size_t ea_len,
				    const struct katls_ea_request *r,
				    const uint8_t *cmw, size_t cmw_len,
				    uint8_t **auth, size_t *auth_len)
{
	const gnutls_datum_t *ours = gnutls_certificate_get_ours(s);
	gnutls_privkey_t key = NULL;
	gnutls_datum_t pem = { 0 };
	struct katls_ea_keys k;
	int ret = -1;

	if (!ours || gnutls_load_file(opt.key, &pem) < 0 ||
	    gnutls_privkey_init(&key) < 0 ||
	    gnutls_privkey_import_x509_raw(key, &pem, GNUTLS_X509_FMT_PEM,
					   NULL, 0) < 0)
		goto out;
	if (katls_ea_keys_from_session(s, KATLS_EA_FROM_SERVER, &k))
		goto out;
	ret = katls_ea_authenticator_create(&k, ea_req, ea_len, r, ours->data,
					    ours->size, key, cmw, cmw_len,
					    auth, auth_len);
	katls_ea_keys_wipe(&k);
out:
	if (key)
		gnutls_privkey_deinit(key);
	if (pem.data) {
		gnutls_memset(pem.data, 0, pem.size);
		gnutls_free(pem.data);
	}
	return ret ? -1 : 0;
}

/*
 * binding = post | both: C's Exported Authenticator exchange, after its
 * handshake with M completed.  M reads C's request and answers:
 *
 *   relay         (the katls-post / katls-both row) relays the request to
 *                 A over M's own connection with A, takes A's evidence
 *                 out of A's authenticator and re-wraps it in an
 *                 authenticator of its own session with C, signed with
 *                 the leaked key: the best a relay can do
 *   post-replay   A's authenticator from that other connection, verbatim
 *   post-self     (control) a correct authenticator with evidence M got
 *                 from the TEE for its own session with C
 *   post-context  as post-self, but for another request context
 *   post-skip     application data instead of the authenticator
 *
 * Then it waits for C's accept frame (the verdict follows in
 * run_relay()).  Returns only if C accepted (or, post-skip, to read
 * whatever C sends next).
 */
static void post_phase(gnutls_session_t s, struct sess *x)
{
	static const char plain[] = "PLAINTEXT-FROM-A-SERVER-THAT-SKIPS\n";
	const char *a = opt.attack;
	struct katls_ea_request r, r2;
	uint8_t *req = NULL, *auth = NULL, *cmw = NULL, *acc = NULL;
	size_t alen = 0, clen = 0;
	char why[300];
	int n, len;

	len = frame_recv(s, KATLS_EA_FRAME_REQUEST, KATLS_EA_REQUEST_MAX, &req);
	if (len < 0)
		result_fail("no authenticator request from the victim: %s",
			    frame_error(s, len));
	n = katls_ea_request_decode(req, len, &r);
	if (n)
		result_fail("the victim's request: %s", katls_ea_strerror(n));
	printf("M: read the victim's authenticator request (%d bytes)\n", len);
	if (!strcmp(a, "post-skip")) {
		n = tls_rec_all(s, (const uint8_t *)plain, NULL,
				sizeof(plain) - 1);
		if (n)
			result_fail("send: %s", gnutls_strerror(n));
		printf("M: skipped the exchange, sent application data\n");
		free(req);
		return;
	}
	if (!strcmp(a, "relay") || !strcmp(a, "post-replay")) {
		if (upstream_authenticator(x->req_raw, x->req_raw_len, req, len,
					   &r, &auth, &alen, &cmw, &clen, why,
					   sizeof(why)))
			result_fail("%s", why);
		if (!strcmp(a, "relay")) {
			free(auth);
			auth = NULL;
			if (leaked_key_authenticator(s, req, len, &r, cmw, clen,
						     &auth, &alen))
				result_fail("cannot re-wrap A's evidence");
			printf("M: re-wrapped A's evidence in its own authenticator\n");
		}
	} else if (!strcmp(a, "post-self") || !strcmp(a, "post-context")) {
		r2 = r;
		if (!strcmp(a, "post-context"))
			r2.ctx[0] ^= 0x80;	/* another request's context */
		if (own_post_evidence(s, r2.ctx, r2.ctx_len, &cmw, &clen) ||
		    leaked_key_authenticator(s, req, len, &r2, cmw, clen,
					     &auth, &alen))
			result_fail("cannot build the %s authenticator", a);
	} else {
		result_fail("attack %s does not apply to binding post", a);
	}
	n = frame_send(s, KATLS_EA_FRAME_AUTH, auth, alen);
	if (n)
		result_fail("send: %s", gnutls_strerror(n));
	printf("M: sent the %s authenticator (%zu bytes)\n", a, alen);
	free(req);
	free(auth);
	free(cmw);
	n = frame_recv(s, KATLS_EA_FRAME_ACCEPT, 1, &acc);
	free(acc);
	if (n != 1)
		result_fail("the victim refused the authenticator (%s)",
			    n < 0 ? frame_error(s, n) : "bad accept frame");
	printf("M: the victim accepted the authenticator\n");
}

/* TLS record layer, for the attacks that do not hold any key. */
static ssize_t read_full(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r <= 0)
			return r < 0 ? -1 : (ssize_t)got;
		got += r;
	}
	return got;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/* Read one TLS record (header + body, body at most 2^14 + 256). */
static ssize_t read_record(int fd, uint8_t *rec, size_t cap)
{
	size_t len;

	if (read_full(fd, rec, 5) != 5)
		return -1;
	len = (size_t)rec[3] << 8 | rec[4];
	if (len > 16384 + 256 || len + 5 > cap)
		return -1;
	if (read_full(fd, rec + 5, len) != (ssize_t)len)
		return -1;
	return len + 5;
}

/*
 * Remove the katls extension from a ClientHello record in place.
 * Returns the new record length, or -1 if the record is not a lone
 * ClientHello with that extension.  Every length is checked.
 */
static ssize_t strip_extension(uint8_t *r, size_t n)
{
	size_t p = 5 + 4, hs_len, ext_start, ext_len, end;

	if (n < p || r[0] != 22 || r[5] != 1)
		return -1;
	hs_len = (size_t)r[6] << 16 | r[7] << 8 | r[8];
	if (hs_len + 9 != n)
		return -1;
	p += 2 + 32;					/* version, random */
	if (p >= n)
		return -1;
	p += 1 + r[p];					/* session id */
	if (p + 2 > n)
		return -1;
	p += 2 + ((size_t)r[p] << 8 | r[p + 1]);	/* cipher suites */
	if (p >= n)
		return -1;
	p += 1 + r[p];					/* compression */
	if (p + 2 > n)
		return -1;
	ext_len = (size_t)r[p] << 8 | r[p + 1];
	ext_start = p;
	p += 2;
	end = p + ext_len;
	if (end != n)
		return -1;
	while (p + 4 <= end) {
		unsigned int type = r[p] << 8 | r[p + 1];
		size_t l = (size_t)r[p + 2] << 8 | r[p + 3];

		if (p + 4 + l > end)
			return -1;
		if (type == KATLS_EXT_TYPE) {
			size_t cut = 4 + l;

			memmove(r + p, r + p + cut, n - p - cut);
			n -= cut;
			ext_len -= cut;
			r[ext_start] = ext_len >> 8;
			r[ext_start + 1] = ext_len;
			hs_len -= cut;
			r[6] = hs_len >> 16;
			r[7] = hs_len >> 8;
			r[8] = hs_len;
			r[3] = (n - 5) >> 8;
			r[4] = n - 5;
			return n;
		}
		p += 4 + l;
	}
	return -1;
}

/*
 * On-path attacker without any key: forward C <-> A record by record,
 * stripping the ClientHello extension ("strip"), flipping one bit in the
 * first encrypted record from A, which holds EncryptedExtensions
 * ("flip-ee"), dropping C's authenticator request of binding post
 * ("post-strip-request"), or changing nothing ("passthrough": the only
 * way to make A bind C's exact ClientHello).  Every record from C is searched for
 * the secret: only if it travels in clear has M read it.
 */
static int run_forwarder(int cfd)
{
	static uint8_t rec[16384 + 256 + 5];
	size_t slen = opt.secret ? strlen(opt.secret) : 0;
	bool flipped = false, seen = false;
	ssize_t n;
	int afd = tcp_connect(opt.upstream);

	if (afd < 0)
		result_fail("cannot reach the attester");
	n = read_record(cfd, rec, sizeof(rec));
	if (n < 0)
		result_fail("no ClientHello from the victim");
	if (!strcmp(opt.attack, "strip")) {
		n = strip_extension(rec, n);
		if (n < 0)
			result_fail("ClientHello has no katls extension to strip");
		printf("M: stripped the katls extension from the ClientHello\n");
	}
	if (write_full(afd, rec, n))
		result_fail("forward ClientHello");
	/*
	 * Half-close: an end that finishes is shut down toward the other,
	 * which may still talk.  Closing with unread data would reset the
	 * victim's connection and make a good session look like a failure.
	 */
	bool c_open = true, a_open = true;
	unsigned int c_app = 0;

	while (c_open || a_open) {
		struct pollfd p[2] = {
			{ .fd = c_open ? cfd : -1, .events = POLLIN },
			{ .fd = a_open ? afd : -1, .events = POLLIN },
		};

		if (poll(p, 2, 20000) <= 0)
			break;
		if (p[0].revents) {
			n = read_record(cfd, rec, sizeof(rec));
			if (n < 0) {
				c_open = false;
				shutdown(afd, SHUT_WR);
			} else {
				if (slen && memmem(rec, n, opt.secret, slen))
					seen = true;
				/*
				 * binding post: C's second encrypted record
				 * (after its Finished) is its authenticator
				 * request; drop it.
				 */
				if (rec[0] == 23 && ++c_app == 2 &&
				    !strcmp(opt.attack, "post-strip-request")) {
					printf("M: dropped the victim's authenticator request (%zd bytes)\n",
					       n);
					continue;
				}
				if (write_full(afd, rec, n))
					a_open = false;
			}
		}
		if (p[1].revents) {
			n = read_record(afd, rec, sizeof(rec));
			if (n < 0) {
				a_open = false;
				shutdown(cfd, SHUT_WR);
				continue;
			}
			if (!strcmp(opt.attack, "flip-ee") && !flipped &&
			    rec[0] == 23 && n > 5 + 20) {
				/* Change a byte of the evidence ciphertext. */
				rec[5 + 20] ^= 0x01;
				flipped = true;
				printf("M: flipped a bit in the encrypted EncryptedExtensions\n");
			}
			if (write_full(cfd, rec, n))
				c_open = false;
		}
	}
	close(afd);
	if (seen) {
		printf("M: decrypted: %s\n", opt.secret);
		exit(0);
	}
	result_fail("no key: C's traffic went by only as ciphertext");
}

static int run_relay(void)
{
	gnutls_certificate_credentials_t creds;
	gnutls_session_t s;
	struct sess *x;
	char buf[512];
	int lfd, fd, ret;

	x = role_begin("M");
	if (!strcmp(opt.attack, "replay")) {
		/* An earlier, genuine handshake with A, with its own nonce. */
		struct katls_ext_request r = {
			.version = KATLS_EXT_VERSION,
			.mode = KATLS_EXT_MODE_BINDER_V1, .ntypes = 1,
			.types = { KATLS_EVIDENCE_SIM },
		};
		uint8_t raw[KATLS_EXT_REQUEST_MAX];
		char why[300];
		int n;

		gnutls_rnd(GNUTLS_RND_NONCE, r.nonce, sizeof(r.nonce));
		n = katls_ext_request_encode(&r, raw, sizeof(raw));
		if (n <= 0 || fetch_from_attester(raw, n, NULL, recorded,
						  &recorded_len, why,
						  sizeof(why)))
			result_fail("recording evidence: %s", why);
		printf("M: recorded %zu bytes of evidence from an earlier handshake\n",
		       recorded_len);
	}
	fd = accept_one(opt.port, &lfd);
	if (!strcmp(opt.attack, "strip") || !strcmp(opt.attack, "flip-ee") ||
	    !strcmp(opt.attack, "passthrough") ||
	    !strcmp(opt.attack, "post-strip-request"))
		return run_forwarder(fd);

	/* M holds the attested server's leaked key. */
	creds = server_creds(opt.cert, opt.key);
	s = server_session(x, fd, NULL, creds, relay_ee_send);
	ret = handshake(s);
	if (ret == GNUTLS_E_PULL_ERROR || ret == GNUTLS_E_PREMATURE_TERMINATION)
		result_fail("the victim aborted the handshake (%s)",
			    x->reason[0] ? x->reason : "connection closed");
	if (ret < 0)
		result_fail("handshake with the victim: %s", hs_error(x, s, ret));
	if (x->req.mode == KATLS_EXT_MODE_POST_V1 ||
	    x->req.mode == KATLS_EXT_MODE_BOTH_V1)
		post_phase(s, x);
	/* The verdict: can M read what C sends? */
	ret = gnutls_record_recv(s, buf, sizeof(buf) - 1);
	if (ret <= 0)
		result_fail("victim sent no application data (%s)",
			    ret ? gnutls_strerror(ret) : "closed");
	buf[ret] = 0;
	gnutls_record_send(s, "ack\n", 4);
	printf("M: decrypted: %s\n", buf);
	fflush(stdout);
	/*
	 * Read to the victim's close_notify before ours: closing with its
	 * alert unread would reset the connection, which the victim rightly
	 * reports as an error.
	 */
	while (gnutls_record_recv(s, buf, sizeof(buf) - 1) > 0)
		;
	return server_done(s, x, fd, lfd, creds);
}

/*
 * Cross-check of early_exporter_psk() and of the ClientHello capture
 * against GnuTLS's own early exporter, which exists only with a PSK: a
 * PSK handshake over a socketpair; the client calls gnutls_prf_early()
 * right after sending its ClientHello; the server contributes its
 * EARLY_EXPORTER_SECRET keylog line and the ClientHello as received.
 */
static const uint8_t st_psk[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static uint8_t st_gnutls[64];
static int st_gnutls_ok = -1;
static struct sess st_server, st_client;
static uint8_t st_eems[32], st_ems[32], st_rfc5705[64];
static bool st_eems_seen, st_ems_seen;
static int st_rfc5705_ok = -1;

/* Keep the 32-byte secret called want when GnuTLS logs it. */
static void st_keep(const char *label, const gnutls_datum_t *secret,
		    const char *want, uint8_t dst[32], bool *seen)
{
	if (!strcmp(label, want) && secret->size == 32) {
		memcpy(dst, secret->data, 32);
		*seen = true;
	}
}

static int st_client_keylog(gnutls_session_t s, const char *label,
			    const gnutls_datum_t *secret)
{
	st_keep(label, secret, "EXPORTER_SECRET", st_ems, &st_ems_seen);
	return 0;
}

static int st_keylog(gnutls_session_t s, const char *label,
		     const gnutls_datum_t *secret)
{
	st_keep(label, secret, "EARLY_EXPORTER_SECRET", st_eems,
		&st_eems_seen);
	return 0;
}

/* Server: keep the ClientHello as received. */
static int st_hook(gnutls_session_t s, unsigned int htype, unsigned int when,
		   unsigned int incoming, const gnutls_datum_t *msg)
{
	if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && incoming)
		return ch_hook(s, htype, when, incoming, msg);
	return 0;
}

/* Client: keep the ClientHello as sent and ask GnuTLS for the exporter. */
static int st_client_hook(gnutls_session_t s, unsigned int htype,
			  unsigned int when, unsigned int incoming,
			  const gnutls_datum_t *msg)
{
	int ret;

	if (htype != GNUTLS_HANDSHAKE_CLIENT_HELLO || incoming ||
	    when != GNUTLS_HOOK_POST)
		return 0;
	/*
	 * GnuTLS runs this hook twice for one PSK ClientHello, the second
	 * time with the binders filled in: the last call counts.
	 */
	ret = ch_hook(s, htype, when, incoming, msg);
	if (!ret)
		st_gnutls_ok = gnutls_prf_early(s, strlen(EARLY_LABEL),
						EARLY_LABEL, 0, "", 64,
						(char *)st_gnutls);
	return ret;
}

static int st_psk_cb(gnutls_session_t s, const char *user,
		     gnutls_datum_t *key)
{
	key->data = gnutls_malloc(sizeof(st_psk));
	if (!key->data)
		return -1;
	memcpy(key->data, st_psk, sizeof(st_psk));
	key->size = sizeof(st_psk);
	return 0;
}

/* One group, so no HelloRetryRequest changes the early transcript. */
#define ST_CIPHER	"AES-128-GCM"
#define ST_EXTRA	"-KX-ALL:+ECDHE-PSK:-GROUP-ALL:+GROUP-X25519"

static void *st_server_thread(void *arg)
{
	gnutls_psk_server_credentials_t c;
	gnutls_session_t s;
	int *ret = arg;

	gnutls_psk_allocate_server_credentials(&c);
	gnutls_psk_set_server_credentials_function(c, st_psk_cb);
	gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_SIGNAL);
	gnutls_priority_set_direct(s, priority(ST_CIPHER, ST_EXTRA), NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_PSK, c);
	gnutls_session_set_ptr(s, &st_server);
	gnutls_session_set_keylog_function(s, st_keylog);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_CLIENT_HELLO,
					   GNUTLS_HOOK_PRE, st_hook);
	gnutls_transport_set_int(s, ret[1]);
	gnutls_handshake_set_timeout(s, 10000);
	ret[0] = handshake(s);
	gnutls_deinit(s);
	gnutls_psk_free_server_credentials(c);
	return NULL;
}

static int st_psk_handshake(void)
{
	gnutls_psk_client_credentials_t c;
	const gnutls_datum_t key = { (uint8_t *)st_psk, sizeof(st_psk) };
	gnutls_session_t s;
	int sv[2], srv[2] = { -1, -1 }, ret;
	pthread_t t;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	srv[1] = sv[1];
	if (pthread_create(&t, NULL, st_server_thread, srv)) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	gnutls_psk_allocate_client_credentials(&c);
	gnutls_psk_set_client_credentials(c, "katls", &key, GNUTLS_PSK_KEY_RAW);
	gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL);
	gnutls_priority_set_direct(s, priority(ST_CIPHER, ST_EXTRA), NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_PSK, c);
	gnutls_session_set_ptr(s, &st_client);
	gnutls_session_set_keylog_function(s, st_client_keylog);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY,
					   GNUTLS_HOOK_BOTH, st_client_hook);
	gnutls_transport_set_int(s, sv[0]);
	gnutls_handshake_set_timeout(s, 10000);
	ret = handshake(s);
	if (ret >= 0)
		st_rfc5705_ok = gnutls_prf_rfc5705(s, strlen(EARLY_LABEL),
						   EARLY_LABEL, 0, "", 64,
						   (char *)st_rfc5705);
	pthread_join(t, NULL);
	gnutls_deinit(s);
	gnutls_psk_free_client_credentials(c);
	close(sv[0]);
	close(sv[1]);
	return ret < 0 || srv[0] < 0 ? -1 : 0;
}

/*
 * Self-test of the parts that run without a TEE: the ClientHello
 * extension stripper on a synthetic record, and the early exporter's
 * dependence on every ClientHello byte.  TAP.
 */
/*
 * The hand-written version 2 record of the batch rows: byte for byte the
 * library's encoding for an honest proof, and the decoder names the
 * tampered ones as the rows expect (Documentation/relay-attacks.rst).
 */
static int st_batch_raw(int *t)
{
	static const uint8_t ev[4] = { 0xee, 0xee, 0xee, 0xee };
	uint8_t binders[3][KATLS_MERKLE_BINDER_LEN], rd[64];
	uint8_t a[1024], b[1024];
	struct katls_merkle_tree *tree = NULL;
	struct katls_merkle_proof p;
	struct katls_ext_evidence e;
	ssize_t n;
	int m, fails = 0, ok;

	for (int i = 0; i < 3; i++)
		memset(binders[i], 0x10 * (i + 1), sizeof(binders[i]));
	ok = !katls_merkle_tree_build((const uint8_t (*)[KATLS_MERKLE_BINDER_LEN])binders,
				      3, &tree) &&
	     !katls_merkle_tree_report_data(tree, rd) &&
	     !katls_merkle_tree_proof(tree, 1, &p);
	katls_merkle_tree_free(tree);
#define TB(c, name) do { ++*t; if (!(c)) fails++; \
	printf("%sok %d - %s\n", (c) ? "" : "not ", *t, name); } while (0)
	n = ok ? encode_batch_raw(KATLS_EVIDENCE_SIM, ev, sizeof(ev), NULL, 0,
				  &p, a, sizeof(a)) : -1;
	m = katls_ext_evidence_encode_batch(KATLS_EVIDENCE_SIM, ev, sizeof(ev),
					    NULL, 0, &p, b, sizeof(b));
	TB(ok && n > 0 && n == m && !memcmp(a, b, n) &&
	   !katls_ext_evidence_decode(a, n, &e) &&
	   !katls_batch_check(binders[1], &e.proof, rd, sizeof(rd)),
	   "batch record by hand equals the library's (leaf 1 of 3) and verifies");
	p.path_len--;
	n = encode_batch_raw(KATLS_EVIDENCE_SIM, ev, sizeof(ev), NULL, 0, &p,
			     a, sizeof(a));
	TB(n > 0 && katls_ext_evidence_decode(a, n, &e) == KATLS_EXT_E_PATH_SHORT,
	   "a path one hash short: decoder says audit path too short");
	p.path_len += 2;
	n = encode_batch_raw(KATLS_EVIDENCE_SIM, ev, sizeof(ev), NULL, 0, &p,
			     a, sizeof(a));
	TB(n > 0 && katls_ext_evidence_decode(a, n, &e) == KATLS_EXT_E_PATH_LONG,
	   "a path one hash long: decoder says audit path too long");
	p.path_len--;
	p.tree_size = 4;
	n = encode_batch_raw(KATLS_EVIDENCE_SIM, ev, sizeof(ev), NULL, 0, &p,
			     a, sizeof(a));
	TB(n > 0 && !katls_ext_evidence_decode(a, n, &e) &&
	   e.proof.tree_size == 4 &&
	   katls_batch_check(binders[1], &e.proof, rd, sizeof(rd)) ==
	   KATLS_MERKLE_E_MISMATCH,
	   "tree size 4 for 3 decodes (same path length) but the root mismatches");
#undef TB
	return fails;
}

static int selftest(void)
{
	/* ClientHello: version, random, sid 0, 1 suite, 1 compression,
	 * extensions: 0x002b (2 bytes) and 0xff4b (3 bytes). */
	static const uint8_t body[] = {
		0x03, 0x03, [2 ... 33] = 0xaa, 0x00, 0x00, 0x02, 0x13, 0x01,
		0x01, 0x00, 0x00, 0x0d, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
		0xff, 0x4b, 0x00, 0x03, 0x01, 0x02, 0x03,
	};
	uint8_t rec[128], ex1[64], ex2[64];
	size_t n = sizeof(body) + 9;
	ssize_t m;
	int fails = 0, t = 0;

	printf("TAP version 13\n1..15\n");
	rec[0] = 22;
	rec[1] = 3;
	rec[2] = 1;
	rec[3] = (n - 5) >> 8;
	rec[4] = n - 5;
	rec[5] = 1;
	rec[6] = 0;
	rec[7] = sizeof(body) >> 8;
	rec[8] = sizeof(body) & 0xff;
	memcpy(rec + 9, body, sizeof(body));
#define T(c, name) do { t++; if (!(c)) fails++; \
	printf("%sok %d - %s\n", (c) ? "" : "not ", t, name); } while (0)
	T(early_exporter(rec + 5, n - 5, ex1) == 0, "early exporter computes");
	rec[20] ^= 1;
	T(early_exporter(rec + 5, n - 5, ex2) == 0 && memcmp(ex1, ex2, 64),
	  "early exporter depends on the ClientHello random");
	rec[20] ^= 1;
	m = strip_extension(rec, n);
	T(m == (ssize_t)n - 7 && rec[4] == (uint8_t)(m - 5) &&
	  rec[8] == sizeof(body) - 7 && rec[m - 1] == 0x04 &&
	  rec[m - 5] == 0x2b && rec[m - 8] == 0x00 && rec[m - 7] == 0x06,
	  "strip removes exactly the katls extension and fixes 3 lengths");
	T(strip_extension(rec, m) == -1, "stripping twice finds nothing");
	T(strip_extension(rec, m - 1) == -1, "truncated record rejected");

	T(st_psk_handshake() == 0, "PSK handshake over a socketpair");
	T(st_server.ch_len && st_server.ch_len == st_client.ch_len &&
	  !memcmp(st_server.ch, st_client.ch, st_client.ch_len),
	  "client (outgoing) and server (incoming) capture the same ClientHello");
	T(st_gnutls_ok == 0, "client's gnutls_prf_early() works after the ClientHello");
	T(st_eems_seen && !early_exporter_master(st_psk, sizeof(st_psk),
						 st_server.ch, st_server.ch_len,
						 ex2) &&
	  !memcmp(ex2, st_eems, 32),
	  "early exporter master secret equals GnuTLS's (keylog)");
	T(st_ems_seen && st_rfc5705_ok == 0 && !exporter_expand(st_ems, ex2) &&
	  !memcmp(ex2, st_rfc5705, 64),
	  "exporter expansion equals GnuTLS's gnutls_prf_rfc5705()");
	T(early_exporter_psk(st_psk, sizeof(st_psk), st_server.ch,
			     st_server.ch_len, ex1) == 0 &&
	  !memcmp(ex1, st_gnutls, 64),
	  "early exporter over the server's ClientHello equals the client's gnutls_prf_early()");
	fails += st_batch_raw(&t);
#undef T
	return fails ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: katls-attack server --binding B --port P --cert C --key K\n"
"       katls-attack client --binding B --port P --ca C --policy F --secret S\n"
"       katls-attack relay --binding B --port P --upstream Q --cert C --key K\n"
"                          [--attack A] [--other-cert C] [--sample F]\n"
"TEST ONLY.  B: 1..7 (the paper's bindings) or katls (binder v1).\n"
"A (relay): relay (default), passthrough, replay, no-evidence, strip,\n"
"  flip-ee, self, label-tdx, tdx-sample, truncated, oversized, huge,\n"
"  garbage, wrong-key, debug, batch-ok, batch-replay, batch-path-truncated,\n"
"  batch-path-extended, batch-wrong-size, batch-root-as-single,\n"
"  batch-single-as-batch; for a victim with binding post or both (issue 14):\n"
"  relay, post-replay, post-self, post-context, post-skip, and (no key)\n"
"  post-strip-request.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "binding", 1, NULL, 'b' }, { "port", 1, NULL, 'p' },
		{ "upstream", 1, NULL, 'u' }, { "cert", 1, NULL, 'c' },
		{ "key", 1, NULL, 'k' }, { "ca", 1, NULL, 'a' },
		{ "policy", 1, NULL, 'P' }, { "secret", 1, NULL, 's' },
		{ "attack", 1, NULL, 'x' }, { "other-cert", 1, NULL, 'o' },
		{ "sample", 1, NULL, 'S' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "selftest"))
		return selftest();
	opt.mode = argv[1];
	opt.attack = "relay";
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			for (size_t i = 1; i <= B_KATLS; i++)
				if (!strcmp(optarg, binding_names[i]))
					opt.binding = i;
			break;
		case 'p': opt.port = strtoul(optarg, NULL, 10); break;
		case 'u': opt.upstream = strtoul(optarg, NULL, 10); break;
		case 'c': opt.cert = optarg; break;
		case 'k': opt.key = optarg; break;
		case 'a': opt.ca = optarg; break;
		case 'P': opt.policy = optarg; break;
		case 's': opt.secret = optarg; break;
		case 'x': opt.attack = optarg; break;
		case 'o': opt.other_cert = optarg; break;
		case 'S': opt.sample = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (opt.binding == B_NONE || !opt.port || opt.port > 65535 ||
	    opt.upstream > 65535) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A peer that went away is an outcome to report, not a crash. */
	signal(SIGPIPE, SIG_IGN);
	gnutls_global_init();
	if (!strcmp(opt.mode, "server") && opt.cert && opt.key)
		ret = run_server();
	else if (!strcmp(opt.mode, "client") && opt.ca && opt.policy &&
		 opt.secret)
		ret = run_client();
	else if (!strcmp(opt.mode, "relay") && opt.upstream && opt.cert &&
		 opt.key && (strcmp(opt.attack, "tdx-sample") || opt.sample))
		ret = run_relay();
	else {
		usage(stderr);
		ret = 2;
	}
	gnutls_global_deinit();
	return ret;
}
