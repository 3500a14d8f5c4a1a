// SPDX-License-Identifier: GPL-2.0
/*
 * gnutls_nopad - the receive side of a handed-over katls socket expects
 * unpadded TLS 1.3 records (TLS_RX_EXPECT_NO_PAD, issue 13 item 6):
 * katls.ko sets the option after TLS_RX, a padded record still arrives
 * intact (kTLS decrypts it a second time, counted in TlsDecryptRetry and
 * TlsRxNoPadViolation), and the application can turn the option off.
 *
 * The peer is a plain TCP socket that writes TLS 1.3 records built here
 * with GnuTLS's AEAD API and the fixed test keys of katls_test.h, so the
 * test controls the padding (kTLS itself never pads).  Runs in the 6.12
 * and 6.1 guests (tools/vm-check).
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sys/wait.h>

#include "katls_test.h"

#define REC_DATA	23	/* TLS record content type: application data */
#define TAG_LEN		16

/* Writes TLS 1.3 AES-128-GCM records with a given key and sequence. */
struct rec_writer {
	gnutls_aead_cipher_hd_t aead;
	unsigned char nonce[12];	/* salt || iv */
	uint64_t seq;
};

static int rec_writer_init(struct rec_writer *w,
			   const struct tls12_crypto_info_aes_gcm_128 *k)
{
	gnutls_datum_t key = { (unsigned char *)k->key, sizeof(k->key) };

	memcpy(w->nonce, k->salt, sizeof(k->salt));
	memcpy(w->nonce + sizeof(k->salt), k->iv, sizeof(k->iv));
	w->seq = 0;
	return gnutls_aead_cipher_init(&w->aead, GNUTLS_CIPHER_AES_128_GCM,
				       &key);
}

/*
 * Send one record carrying @len bytes of @data followed by @pad zero
 * bytes of padding (RFC 8446, 5.4) on the plain TCP socket @fd.
 * Returns 0 or -1.
 */
static int send_record(struct rec_writer *w, int fd, const void *data,
		       size_t len, size_t pad)
{
	size_t inner = len + 1 + pad, clen = inner + TAG_LEN;
	unsigned char nonce[12], *pt, *rec;
	int i, ret = -1;

	pt = calloc(1, inner);
	rec = malloc(5 + clen);
	if (!pt || !rec)
		goto out;
	memcpy(pt, data, len);
	pt[len] = REC_DATA;		/* the real content type, then zeros */
	rec[0] = REC_DATA;		/* the outer type of every record */
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (unsigned char)(clen >> 8);
	rec[4] = (unsigned char)clen;
	memcpy(nonce, w->nonce, sizeof(nonce));
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= (unsigned char)(w->seq >> (56 - 8 * i));
	if (gnutls_aead_cipher_encrypt(w->aead, nonce, sizeof(nonce), rec, 5,
				       TAG_LEN, pt, inner, rec + 5, &clen) < 0 ||
	    clen != inner + TAG_LEN)
		goto out;
	if (send(fd, rec, 5 + clen, 0) != (ssize_t)(5 + clen))
		goto out;
	w->seq++;
	ret = 0;
out:
	free(pt);
	free(rec);
	return ret;
}

static int no_pad(int fd)
{
	unsigned int v = 0xdead;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &v, &len))
		return -errno;
	return len == sizeof(v) ? (int)v : -EMSGSIZE;
}

static long long tls_stat(const char *name)
{
	return proc_stat("/proc/net/tls_stat", name);
}

/* Receive exactly @len bytes into @buf (a record-sized buffer). */
static bool recv_exact(int fd, unsigned char *buf, size_t cap, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			return false;
		n = recv(fd, buf + got, cap - got, 0);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return got == len;
}

/* One record of @len pattern bytes with @pad padding: arrives intact? */
static bool roundtrip(struct rec_writer *w, int tx, int rx, size_t len,
		      size_t pad, unsigned char seed)
{
	static unsigned char out[16384], in[16384];
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(seed + i * 7);
	memset(in, 0, sizeof(in));
	if (send_record(w, tx, out, len, pad))
		return false;
	return recv_exact(rx, in, sizeof(in), len) && !memcmp(in, out, len);
}

int main(void)
{
	struct tls12_crypto_info_aes_gcm_128 rxkey = test_key(1);
	long long retry, viol, failed0;
	struct rec_writer w;
	struct katls_result r;
	struct agent lis;
	unsigned int off = 0;
	int a, b, err, st;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	tap_plan(11);
	if (gnutls_global_init() < 0 || rec_writer_init(&w, &rxkey) < 0)
		die("gnutls AEAD init");
	failed0 = katls_stat("no_pad_failed");
	tap_ok(failed0 >= 0, "no_pad_failed counter in /proc/net/katls_stat (%lld)",
	       failed0);

	if (agent_open(&lis, true))
		die("agent_open");
	tcp_pair(AF_INET, &a, &b);
	if (opt_in(a))
		die("opt_in");
	/* Before the hand-over kTLS has no RX: SOL_TLS options are refused. */
	err = no_pad(a);
	tap_ok(err < 0, "before the verdict: TLS_RX_EXPECT_NO_PAD not readable (%d)",
	       err);
	pid = agent_spawn_done(KATLS_ROLE_CLIENT);
	err = request(a, KATLS_ROLE_CLIENT, "p", 10000);
	waitpid(pid, &st, 0);
	r = result(a);
	tap_ok(err == 0 && r.state == KATLS_STATE_OPEN,
	       "hand-over reaches OPEN (%d, state %u, agent %d)", err, r.state,
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	err = no_pad(a);
	tap_ok(err == 1, "after the hand-over: TLS_RX_EXPECT_NO_PAD is on (%d)",
	       err);
	tap_ok(katls_stat("no_pad_failed") == failed0,
	       "no_pad_failed did not move");

	retry = tls_stat("TlsDecryptRetry");
	viol = tls_stat("TlsRxNoPadViolation");
	tap_ok(roundtrip(&w, b, a, 4096, 0, 1) &&
	       tls_stat("TlsDecryptRetry") == retry,
	       "an unpadded record is decrypted once (TlsDecryptRetry %lld)",
	       retry);
	tap_ok(roundtrip(&w, b, a, 4096, 1000, 2),
	       "a padded record still arrives intact");
	tap_ok(tls_stat("TlsDecryptRetry") == retry + 1 &&
	       tls_stat("TlsRxNoPadViolation") == viol + 1,
	       "... after a second, slow decrypt (retry %lld -> %lld, violation %lld -> %lld)",
	       retry, tls_stat("TlsDecryptRetry"), viol,
	       tls_stat("TlsRxNoPadViolation"));

	/* The application may turn it off once OPEN (no fail-open: the
	 * option only picks the decrypt path). */
	tap_ok(setsockopt(a, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &off,
			  sizeof(off)) == 0 && no_pad(a) == 0,
	       "the application can turn TLS_RX_EXPECT_NO_PAD off");
	retry = tls_stat("TlsDecryptRetry");
	tap_ok(roundtrip(&w, b, a, 4096, 1000, 3) &&
	       tls_stat("TlsDecryptRetry") == retry,
	       "off: a padded record arrives with no retry");
	tap_ok(send(a, "reply", 5, 0) == 5,
	       "the katls socket still sends after the option changes");

	close(a);
	close(b);
	agent_close(&lis);
	gnutls_aead_cipher_deinit(w.aead);
	gnutls_global_deinit();
	return tap_done();
}
