// SPDX-License-Identifier: GPL-2.0
/*
 * test_gnutls.c - the GnuTLS glue of katls/gnutls.h: priority strings
 * GnuTLS accepts, and a real TLS 1.3 handshake (a socketpair, one
 * thread a side, a certificate made at run time) per cipher in which the katls extension travels both
 * ways, both sides keep the same client handshake traffic secret, the
 * PRF hash is the cipher suite's, and the exported keys of one side's
 * tx are the other side's rx.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <katls/gnutls.h>
#include "tap.h"

struct side {
	bool server;
	int fd;
	const char *prio;
	int ret;
	uint8_t htsc[KATLS_GNUTLS_SECRET_MAX];
	size_t htsc_len;
	gnutls_mac_algorithm_t mac;
	size_t mac_len;
	bool ext_seen;
	struct katls_keys keys;
	int keys_ret;
};

static gnutls_certificate_credentials_t server_creds, client_creds;
static gnutls_x509_crt_t crt;
static gnutls_x509_privkey_t pkey;

/* A self-signed ECDSA P-256 certificate; the client does not verify it. */
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

static void free_creds(void)
{
	gnutls_certificate_free_credentials(server_creds);
	gnutls_certificate_free_credentials(client_creds);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(pkey);
}

static int keylog(gnutls_session_t s, const char *label,
		  const gnutls_datum_t *secret)
{
	struct side *x = gnutls_session_get_ptr(s);

	return katls_gnutls_keylog_htsc(label, secret, x->htsc,
					sizeof(x->htsc), &x->htsc_len) < 0 ?
	       -1 : 0;
}

static int ext_recv(gnutls_session_t s, const unsigned char *data,
		    size_t len)
{
	struct side *x = gnutls_session_get_ptr(s);
	const char *want = x->server ? "from-client" : "from-server";

	x->ext_seen = len == strlen(want) && !memcmp(data, want, len);
	return 0;
}

static int ext_send(gnutls_session_t s, gnutls_buffer_t buf)
{
	struct side *x = gnutls_session_get_ptr(s);
	const char *msg = x->server ? "from-server" : "from-client";

	return gnutls_buffer_append_data(buf, msg, strlen(msg));
}

static void *run_side(void *arg)
{
	struct side *x = arg;
	gnutls_session_t s;
	int ret;

	gnutls_init(&s, (x->server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
		    GNUTLS_NO_SIGNAL);
	ret = gnutls_priority_set_direct(s, x->prio, NULL);
	if (!ret)
		ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
					     x->server ? server_creds :
					     client_creds);
	gnutls_session_set_ptr(s, x);
	gnutls_session_set_keylog_function(s, keylog);
	if (!ret)
		ret = katls_gnutls_ext_register(s, ext_recv, ext_send);
	gnutls_transport_set_int(s, x->fd);
	gnutls_handshake_set_timeout(s, 10000);
	if (!ret) {
		do {
			ret = gnutls_handshake(s);
		} while (ret < 0 && !gnutls_error_is_fatal(ret));
	}
	x->ret = ret;
	if (!ret) {
		x->mac = katls_gnutls_prf_mac(s, &x->mac_len);
		x->keys_ret = katls_gnutls_export_keys(s, &x->keys);
	}
	gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
	return NULL;
}

static void handshake(const char *cipher, gnutls_mac_algorithm_t mac,
		      size_t hlen, int tls_cipher, size_t ci_len)
{
	char prio[KATLS_GNUTLS_PRIORITY_MAX];
	struct side c = { 0 }, s = { .server = true };
	pthread_t t;
	int sv[2];

	if (katls_gnutls_priority(prio, sizeof(prio), cipher, NULL) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		tap_ok(0, "%s: set-up", cipher);
		return;
	}
	c.fd = sv[0];
	s.fd = sv[1];
	c.prio = s.prio = prio;
	pthread_create(&t, NULL, run_side, &s);
	run_side(&c);
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	tap_ok(c.ret == 0 && s.ret == 0, "%s: handshake (%d, %d)", cipher,
	       c.ret, s.ret);
	tap_ok(c.ext_seen && s.ext_seen,
	       "%s: the katls extension travelled both ways", cipher);
	tap_ok(c.htsc_len == hlen && s.htsc_len == hlen &&
	       !memcmp(c.htsc, s.htsc, hlen),
	       "%s: both keep the same %zu-byte handshake secret", cipher,
	       hlen);
	tap_ok(c.mac == mac && c.mac_len == hlen && s.mac == mac,
	       "%s: PRF MAC %s", cipher, gnutls_mac_get_name(mac));
	tap_ok(c.keys_ret == 0 && s.keys_ret == 0 && c.keys.len == ci_len &&
	       c.keys.tx.info.cipher_type == tls_cipher &&
	       c.keys.tx.info.version == TLS_1_3_VERSION &&
	       !memcmp(&c.keys.tx, &s.keys.rx, ci_len) &&
	       !memcmp(&c.keys.rx, &s.keys.tx, ci_len) &&
	       memcmp(&c.keys.tx, &c.keys.rx, ci_len),
	       "%s: exported keys: client tx = server rx and back", cipher);
	katls_keys_wipe(&c.keys);
	katls_keys_wipe(&s.keys);
	explicit_bzero(c.htsc, sizeof(c.htsc));
	explicit_bzero(s.htsc, sizeof(s.htsc));
}

static void priority(void)
{
	char buf[KATLS_GNUTLS_PRIORITY_MAX], small[16];
	gnutls_priority_t p;
	int n;

	n = katls_gnutls_priority(buf, sizeof(buf), NULL, NULL);
	tap_ok(n > 0 && !strcmp(buf, KATLS_GNUTLS_PRIORITY),
	       "priority: no cipher, no extra = KATLS_GNUTLS_PRIORITY");
	tap_ok(gnutls_priority_init(&p, KATLS_GNUTLS_PRIORITY, NULL) == 0,
	       "priority: GnuTLS accepts KATLS_GNUTLS_PRIORITY");
	gnutls_priority_deinit(p);
	n = katls_gnutls_priority(buf, sizeof(buf), "AES-256-GCM",
				  "-GROUP-ALL:+GROUP-X25519");
	tap_ok(n == (int)strlen(buf) &&
	       strstr(buf, "-CIPHER-ALL:+AES-256-GCM:-GROUP-ALL") &&
	       strstr(buf, "+VERS-TLS1.3") && strstr(buf, "%NO_TICKETS") &&
	       !strstr(buf, "CHACHA"), "priority: one cipher and extras: %s",
	       buf);
	tap_ok(gnutls_priority_init(&p, buf, NULL) == 0,
	       "priority: GnuTLS accepts it");
	gnutls_priority_deinit(p);
	tap_ok(katls_gnutls_priority(buf, sizeof(buf), "", NULL) == -EINVAL &&
	       katls_gnutls_priority(buf, sizeof(buf), "A:+B", NULL) ==
	       -EINVAL &&
	       katls_gnutls_priority(buf, sizeof(buf), NULL, "") == -EINVAL,
	       "priority: empty or ':'-joined cipher, empty extra -> EINVAL");
	tap_ok(katls_gnutls_priority(small, sizeof(small), NULL, NULL) ==
	       -ENAMETOOLONG && !small[0],
	       "priority: too small a buffer -> ENAMETOOLONG, empty string");
}

static void pieces(void)
{
	uint8_t kb[32] = { 1 }, ivb[12] = { 2 }, out[48];
	gnutls_datum_t key = { kb, 16 }, iv = { ivb, 12 }, sec = { kb, 32 };
	static const unsigned char seq[8];
	union katls_crypto_info ci;
	size_t len = 0;

	memset(&ci, 0xff, sizeof(ci));
	tap_ok(katls_gnutls_crypto_info(GNUTLS_CIPHER_AES_128_CBC, &key, &iv,
					seq, &ci) == -EOPNOTSUPP &&
	       katls_crypto_info_len(&ci) == 0,
	       "crypto_info: AES-128-CBC -> EOPNOTSUPP, nothing left");
	iv.size = 8;
	memset(&ci, 0xff, sizeof(ci));
	tap_ok(katls_gnutls_crypto_info(GNUTLS_CIPHER_AES_128_GCM, &key, &iv,
					seq, &ci) == -EINVAL &&
	       ci.info.cipher_type == 0,
	       "crypto_info: an 8-byte IV -> EINVAL, zeroed");
	iv.size = 12;
	tap_ok(katls_gnutls_crypto_info(GNUTLS_CIPHER_AES_128_GCM, &key, &iv,
					seq, &ci) == (int)sizeof(ci.aes128) &&
	       katls_crypto_info_len(&ci) == sizeof(ci.aes128),
	       "crypto_info: AES-128-GCM, and its length by cipher");
	tap_ok(katls_gnutls_keylog_htsc("SERVER_HANDSHAKE_TRAFFIC_SECRET", &sec,
					out, sizeof(out), &len) == 0 && !len,
	       "keylog: another label is ignored");
	tap_ok(katls_gnutls_keylog_htsc(KATLS_GNUTLS_HTSC_LABEL, &sec, out, 16,
					&len) == -EMSGSIZE && !len,
	       "keylog: a secret longer than the buffer -> EMSGSIZE");
	tap_ok(katls_gnutls_keylog_htsc(KATLS_GNUTLS_HTSC_LABEL, &sec, out,
					sizeof(out), &len) == 1 && len == 32 &&
	       !memcmp(out, kb, 32), "keylog: the handshake secret is taken");
	katls_keys_wipe(NULL);
}

int main(void)
{
	tap_plan(27);
	gnutls_global_init();
	if (make_creds()) {
		printf("Bail out! cannot make the test certificate\n");
		return 1;
	}
	priority();
	pieces();
	handshake("AES-128-GCM", GNUTLS_MAC_SHA256, 32, TLS_CIPHER_AES_GCM_128,
		  sizeof(struct tls12_crypto_info_aes_gcm_128));
	handshake("AES-256-GCM", GNUTLS_MAC_SHA384, 48, TLS_CIPHER_AES_GCM_256,
		  sizeof(struct tls12_crypto_info_aes_gcm_256));
	handshake("CHACHA20-POLY1305", GNUTLS_MAC_SHA256, 32,
		  TLS_CIPHER_CHACHA20_POLY1305,
		  sizeof(struct tls12_crypto_info_chacha20_poly1305));
	free_creds();
	gnutls_global_deinit();
	return tap_done();
}
