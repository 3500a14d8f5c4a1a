// SPDX-License-Identifier: GPL-2.0
/*
 * bench_datapath - loopback data-path throughput, in one run:
 *
 *   katls     both ends katls sockets after the hand-over (keys from a
 *             forked netlink test agent, fixed test keys); the sender
 *             writes each message with one send()
 *   katls-rec the same, the sender writes with libkatls's katls_send():
 *             16 KiB pieces, one TLS record each (the documented shape)
 *   ktls, ktls-rec  both ends plain kTLS (TCP_ULP "tls", TLS_TX/TLS_RX,
 *             and TLS_RX_EXPECT_NO_PAD on the receiver, as katls.ko
 *             sets it) with the same keys; the same two sender shapes
 *   gnutls    userspace GnuTLS record I/O after a real TLS 1.3 handshake;
 *             gnutls_record_send() writes one record per call
 *   gnutls-msg the same, corked: each message's records reach the socket
 *             in one write, like kTLS with one send() per message
 *   tcp       plain TCP
 *   katls-sendfile  sendfile() of a file over katls
 *   gnutls-file     read() + gnutls_record_send() of the same file
 *
 * for each message size and cipher (the -rec and -msg shapes only from
 * 16 KiB up: below they make the same calls); plus `openssl speed -evp` (one core)
 * as the cipher's limit.  The sender is a forked child, the receiver the
 * parent; MB/s (10^6 B/s) = bytes received / receiver time.  CPU time is
 * user + system of both processes over the transfer.  The variants are
 * run round-robin, the starting variant rotating per round, so that the
 * host's noise hits all of them alike; the table shows the medians.
 *
 * Every recv() is checked against the stream pattern (first and last
 * byte), and bytes received must equal bytes sent.
 *
 * Runs as root in a guest with katls.ko and tls loaded and no katlsd.
 *
 *   bench_datapath [-t SECS] [-r ROUNDS] [-s SIZES] [-c CIPHERS]
 *                  [-v VARIANTS] [-o CSV] [-n]
 *
 * -s takes a comma list of sizes (suffix k or m), -c of cipher names
 * (aes128gcm, aes256gcm, chacha20poly1305), -v of variant names (katls,
 * katls-rec, ktls, ktls-rec, gnutls, gnutls-msg, tcp, katls-sendfile,
 * gnutls-file), -n skips openssl
 * speed (for profiling one variant at a time).
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <sys/sendfile.h>

#include "bench_common.h"
#include <katls/katls.h>	/* katls_send(), KATLS_RECORD_MAX */

#ifndef TLS_RX_EXPECT_NO_PAD
#define TLS_RX_EXPECT_NO_PAD 4
#endif

enum variant {
	V_KATLS, V_KTLS, V_GNUTLS, V_TCP, V_KATLS_SF, V_GNUTLS_FILE,
	V_KATLS_REC, V_KTLS_REC, V_GNUTLS_MSG, V_LIMIT, V_NR
};

static const char *const variant_name[V_NR] = {
	[V_KATLS] = "katls",
	[V_KTLS] = "ktls",
	[V_GNUTLS] = "gnutls",
	[V_TCP] = "tcp",
	[V_KATLS_SF] = "katls-sendfile",
	[V_GNUTLS_FILE] = "gnutls-file",
	[V_KATLS_REC] = "katls-rec",
	[V_KTLS_REC] = "ktls-rec",
	[V_GNUTLS_MSG] = "gnutls-msg",
	[V_LIMIT] = "limit",
};

#define MAX_SIZES 16
#define MAX_ROUNDS 64
#define PATTERN 251		/* stream byte at offset i is i % PATTERN */
#define RCVBUF (256 * 1024)
#define FILE_CHUNK (256 * 1024)
#define FILE_SIZE ((size_t)PATTERN * 65536)	/* 16.4 MB, pattern-aligned */

static double opt_secs = 1.0;
static int opt_rounds = 3;
static size_t sizes[MAX_SIZES] = { 64, 1024, 16384, 262144, 1048576 };
static int nsizes = 5;
static bool use_cipher[C_NR] = { true, true, true };
static const char *csv_path;
static bool opt_no_openssl;
static bool use_variant[V_NR];

static struct bench_cred cred;
static int file_fd = -1;

/* Result of one trial. */
struct trial {
	double mbps;
	double cpu_per_gib;	/* s of CPU (both processes) per GiB */
	bool ok;
};

/* What the sender reports back to the receiver through a pipe. */
struct sender_report {
	uint64_t bytes;
	double cpu;
	int err;
};

/* medians: [variant][cipher][size index] over the rounds */
static double res_mbps[V_NR][C_NR][MAX_SIZES][MAX_ROUNDS];
static double res_cpu[V_NR][C_NR][MAX_SIZES][MAX_ROUNDS];
static int res_n[V_NR][C_NR][MAX_SIZES];
static int failures;

static bool is_gnutls(int v)
{
	return v == V_GNUTLS || v == V_GNUTLS_FILE || v == V_GNUTLS_MSG;
}

/* ---- the sender ---- */

/* The documented shape: libkatls's katls_send(), 16 KiB pieces. */
static int send_pieces(int fd, const char *p, size_t len, uint64_t *bytes)
{
	while (len) {
		ssize_t n = katls_send(fd, p, len, 0);

		if (n < 0)
			return errno;
		p += n;
		len -= (size_t)n;
		*bytes += (uint64_t)n;
	}
	return 0;
}

static int send_all(int fd, gnutls_session_t s, const char *p, size_t len,
		    uint64_t *bytes)
{
	ssize_t n;

	while (len) {
		if (s) {
			n = gnutls_record_send(s, p, len);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			if (n < 0)
				return EIO;
		} else {
			n = send(fd, p, len, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return errno;
		}
		p += n;
		len -= n;
		*bytes += n;
	}
	return 0;
}

static void sender(int v, int cipher, size_t msg, int fd, int go_fd,
		   int rep_fd)
{
	struct sender_report rep = { 0 };
	gnutls_session_t s = NULL;
	size_t buflen = (msg > FILE_CHUNK ? msg : FILE_CHUNK) + PATTERN;
	char *buf = malloc(buflen), go;
	double end, c0;
	off_t off = 0;
	size_t i;

	if (!buf)
		_exit(3);
	for (i = 0; i < buflen; i++)
		buf[i] = (char)(i % PATTERN);
	if (is_gnutls(v)) {
		s = bench_tls_session(&cred, fd, true, cipher);
		if (!s)
			_exit(4);
	}
	if (!read_all(go_fd, &go, 1))
		_exit(5);
	c0 = cpu_s();
	end = now_s() + opt_secs;
	while (!rep.err && now_s() < end) {
		switch (v) {
		case V_KATLS_SF: {
			ssize_t n = sendfile(fd, file_fd, &off, FILE_CHUNK);

			if (n < 0 && errno != EINTR)
				rep.err = errno;
			if (n > 0)
				rep.bytes += n;
			if (off >= (off_t)FILE_SIZE)
				off = 0;
			break;
		}
		case V_GNUTLS_FILE: {
			ssize_t n = pread(file_fd, buf, FILE_CHUNK, off);

			if (n <= 0) {
				rep.err = n < 0 ? errno : EIO;
				break;
			}
			rep.err = send_all(fd, s, buf, n, &rep.bytes);
			off += n;
			if (off >= (off_t)FILE_SIZE)
				off = 0;
			break;
		}
		case V_KATLS_REC:
		case V_KTLS_REC:
			rep.err = send_pieces(fd, buf + rep.bytes % PATTERN,
					      msg, &rep.bytes);
			break;
		case V_GNUTLS_MSG: {
			ssize_t n;

			/* Every record of the message in one write. */
			gnutls_record_cork(s);
			rep.err = send_all(fd, s, buf + rep.bytes % PATTERN,
					   msg, &rep.bytes);
			do {
				n = gnutls_record_uncork(s, GNUTLS_RECORD_WAIT);
			} while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
			if (!rep.err && n < 0)
				rep.err = EIO;
			break;
		}
		default:
			rep.err = send_all(fd, s, buf + rep.bytes % PATTERN, msg,
					   &rep.bytes);
			break;
		}
	}
	if (s) {
		gnutls_bye(s, GNUTLS_SHUT_WR);
	} else {
		shutdown(fd, SHUT_WR);
	}
	rep.cpu = cpu_s() - c0;
	if (!write_all(rep_fd, &rep, sizeof(rep)))
		_exit(6);
	/* Wait for the receiver to finish before closing. */
	read_all(go_fd, &go, 1);
	if (s)
		gnutls_deinit(s);
	free(buf);
	_exit(0);
}

/* ---- one trial: the parent receives ---- */

static int rx_no_pad(int fd)
{
	unsigned int on = 0;
	socklen_t len = sizeof(on);

	if (getsockopt(fd, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &on, &len))
		return -1;
	return (int)on;
}

static struct trial run_trial(int v, int cipher, size_t msg)
{
	struct trial t = { .ok = false };
	struct sender_report rep;
	gnutls_session_t s = NULL;
	int a, b, go[2], rp[2], err, bad = 0;
	uint64_t got = 0;
	double t0, t1, c0, c1;
	char *buf;
	pid_t pid;

	tcp_pair(AF_INET, &a, &b);
	switch (v) {
	case V_KATLS:
	case V_KATLS_REC:
	case V_KATLS_SF:
		err = katls_handover(a, b, cipher);
		if (err) {
			fprintf(stderr, "katls hand-over (%s): %s\n",
				cipher_name[cipher], strerror(err));
			goto out_close;
		}
		/* katls.ko sets it after TLS_RX (issue 13 item 6). */
		if (rx_no_pad(b) != 1) {
			fprintf(stderr, "katls receiver without TLS_RX_EXPECT_NO_PAD\n");
			goto out_close;
		}
		break;
	case V_KTLS:
	case V_KTLS_REC:
		err = ktls_install(a, cipher, true);
		if (!err)
			err = ktls_install(b, cipher, false);
		/* Configured like a katls socket: like for like. */
		if (!err && setsockopt(b, SOL_TLS, TLS_RX_EXPECT_NO_PAD,
				       &(unsigned int){ 1 }, sizeof(unsigned int)))
			err = errno;
		if (err) {
			fprintf(stderr, "kTLS set-up (%s): %s\n",
				cipher_name[cipher], strerror(err));
			goto out_close;
		}
		break;
	}
	if (pipe(go) || pipe(rp))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(b);
		close(go[1]);
		close(rp[0]);
		sender(v, cipher, msg, a, go[0], rp[1]);
	}
	close(a);
	a = -1;
	close(go[0]);
	close(rp[1]);
	buf = malloc(RCVBUF);
	if (!buf)
		die("malloc");
	if (is_gnutls(v)) {
		s = bench_tls_session(&cred, b, false, cipher);
		if (!s)
			goto out_child;
	}
	c0 = cpu_s();
	t0 = now_s();
	if (!write_all(go[1], "g", 1))
		goto out_child;
	for (;;) {
		ssize_t n;
		uint8_t first, last;

		if (s) {
			n = gnutls_record_recv(s, buf, RCVBUF);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			if (n < 0) {
				fprintf(stderr, "gnutls_record_recv: %s\n",
					gnutls_strerror(n));
				bad++;
				break;
			}
		} else {
			n = recv(b, buf, RCVBUF, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				perror("recv");
				bad++;
				break;
			}
		}
		if (!n)
			break;
		first = buf[0];
		last = buf[n - 1];
		if (first != got % PATTERN || last != (got + n - 1) % PATTERN)
			bad++;
		got += n;
	}
	t1 = now_s();
	c1 = cpu_s();
	if (!read_all(rp[0], &rep, sizeof(rep))) {
		fprintf(stderr, "%s: no report from the sender\n", variant_name[v]);
		goto out_child;
	}
	if (rep.err)
		fprintf(stderr, "%s sender: %s\n", variant_name[v],
			strerror(rep.err));
	if (bad || rep.err || rep.bytes != got) {
		fprintf(stderr, "%s %s %zu: check failed (bad %d, sent %llu, got %llu)\n",
			variant_name[v], cipher_name[cipher], msg, bad,
			(unsigned long long)rep.bytes, (unsigned long long)got);
	} else {
		t.ok = true;
		t.mbps = got / (t1 - t0) / 1e6;
		t.cpu_per_gib = (rep.cpu + (c1 - c0)) / (got / 1073741824.0);
	}
out_child:
	close(go[1]);	/* lets the sender exit */
	if (bench_wait(pid) != 0)
		t.ok = false;
	close(rp[0]);
	if (s)
		gnutls_deinit(s);
	free(buf);
out_close:
	close(b);
	if (a >= 0)
		close(a);
	if (!t.ok)
		failures++;
	return t;
}

/* ---- openssl speed: the cipher's single-core limit ---- */

/*
 * One `openssl speed -mr -evp CIPHER -bytes BLK -seconds 1`: the rate of
 * a single core encrypting BLK-byte blocks, in MB/s; NAN on failure.
 */
static double openssl_rate(int cipher, size_t blk)
{
	char cmd[256], line[512];
	double rate = NAN;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "OPENSSL_CONF=/dev/null openssl speed -mr -seconds 1 -bytes %zu -evp %s 2>/dev/null",
		 blk, cipher_openssl[cipher]);
	p = popen(cmd, "r");
	if (!p)
		return NAN;
	while (fgets(line, sizeof(line), p)) {
		char *f, *save = NULL;
		int i;

		if (strncmp(line, "+F:", 3))
			continue;
		/* +F:<index>:<name>:<rate for blk in B/s> */
		f = strtok_r(line, ":", &save);
		for (i = 0; f && i < 3; i++)
			f = strtok_r(NULL, ":", &save);
		if (f)
			rate = strtod(f, NULL) / 1e6;
	}
	pclose(p);
	return rate > 0 ? rate : NAN;
}

/*
 * The limit for each message size: blocks of the message size, capped at
 * 16 KiB (TLS cuts larger messages into 16 KiB records).  Sizes that
 * share a block share one measurement.
 */
static void openssl_limit(FILE *csv, int round, int cipher)
{
	double rate = NAN;
	size_t blk, prev = 0;
	int j;

	for (j = 0; j < nsizes; j++) {
		blk = sizes[j] < 16384 ? sizes[j] : 16384;
		if (blk != prev)
			rate = openssl_rate(cipher, blk);
		prev = blk;
		if (csv)
			fprintf(csv, "%d,limit,%s,%zu,%.3f,,%s\n", round,
				cipher_name[cipher], sizes[j], rate,
				isnan(rate) ? "fail" : "ok");
		if (!isnan(rate)) {
			int n = res_n[V_LIMIT][cipher][j]++;

			res_mbps[V_LIMIT][cipher][j][n] = rate;
			res_cpu[V_LIMIT][cipher][j][n] = NAN;
		}
	}
}

/* ---- output ---- */

static double med(int v, int c, int j, bool cpu)
{
	double tmp[MAX_ROUNDS];
	int n = res_n[v][c][j];

	memcpy(tmp, cpu ? res_cpu[v][c][j] : res_mbps[v][c][j],
	       n * sizeof(double));
	return median(tmp, n);
}

static void size_label(size_t sz, char *out, size_t len)
{
	if (!sz)
		snprintf(out, len, "file");
	else if (sz >= 1048576 && !(sz % 1048576))
		snprintf(out, len, "%zuM", sz / 1048576);
	else if (sz >= 1024 && !(sz % 1024))
		snprintf(out, len, "%zuK", sz / 1024);
	else
		snprintf(out, len, "%zu", sz);
}

static void print_table(void)
{
	int c, j;
	char sl[32];

	printf("\n# medians of %d rounds x %.1f s; MB/s = 10^6 B/s; cpu = s per GiB (both processes)\n",
	       opt_rounds, opt_secs);
	printf("# msg: one send() per message; rec: katls_send(), 16 KiB pieces; G-msg: GnuTLS corked\n");
	printf("%-17s %5s %7s %7s %7s %7s %7s %7s %7s %7s | %6s %6s %6s %6s | %6s %6s %6s\n",
	       "cipher", "size", "k-msg", "k-rec", "kT-msg", "kT-rec", "gnutls",
	       "G-msg", "tcp", "limit", "kr/G", "km/G", "kr/kTr", "kr/lim",
	       "cpuKr", "cpuKTr", "cpuG");
	for (c = 0; c < C_NR; c++) {
		if (!use_cipher[c])
			continue;
		for (j = 0; j < nsizes; j++) {
			bool big = sizes[j] >= KATLS_RECORD_MAX;
			int kv = big ? V_KATLS_REC : V_KATLS,
			    ktv = big ? V_KTLS_REC : V_KTLS;
			double km = med(V_KATLS, c, j, false),
			       kr = med(kv, c, j, false),
			       ktm = med(V_KTLS, c, j, false),
			       ktr = med(ktv, c, j, false),
			       g = med(V_GNUTLS, c, j, false),
			       gm = big ? med(V_GNUTLS_MSG, c, j, false) : NAN,
			       tcp = med(V_TCP, 0, j, false),
			       lim = med(V_LIMIT, c, j, false);

			size_label(sizes[j], sl, sizeof(sl));
			printf("%-17s %5s %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f | %6.2f %6.2f %6.2f %6.2f | %6.1f %6.1f %6.1f\n",
			       cipher_name[c], sl, km, big ? kr : NAN, ktm,
			       big ? ktr : NAN, g, gm, tcp, lim, kr / g, km / g,
			       kr / ktr, kr / lim, med(kv, c, j, true),
			       med(ktv, c, j, true), med(V_GNUTLS, c, j, true));
		}
		{
			double ks = med(V_KATLS_SF, c, MAX_SIZES - 1, false),
			       gf = med(V_GNUTLS_FILE, c, MAX_SIZES - 1, false);

			printf("%-17s %5s sendfile %.1f, read+gnutls_record_send %.1f: %.2f; cpu %.1f / %.1f\n",
			       cipher_name[c], "file", ks, gf, ks / gf,
			       med(V_KATLS_SF, c, MAX_SIZES - 1, true),
			       med(V_GNUTLS_FILE, c, MAX_SIZES - 1, true));
		}
	}
}

static void csv_row(FILE *f, int round, int v, int c, size_t sz, double mbps,
		    double cpu, bool ok)
{
	if (f)
		fprintf(f, "%d,%s,%s,%zu,%.3f,%.3f,%s\n", round, variant_name[v],
			c < 0 ? "none" : cipher_name[c], sz, mbps, cpu,
			ok ? "ok" : "fail");
}

/* ---- main ---- */

static void record(FILE *csv, int round, int v, int c, int j, size_t sz)
{
	struct trial t;
	int cc = c < 0 ? 0 : c;

	if (!use_variant[v])
		return;
	t = run_trial(v, cc, sz);
	csv_row(csv, round, v, c, sz, t.mbps, t.cpu_per_gib, t.ok);
	if (csv)
		fflush(csv);
	if (t.ok) {
		int n = res_n[v][cc][j]++;

		res_mbps[v][cc][j][n] = t.mbps;
		res_cpu[v][cc][j][n] = t.cpu_per_gib;
	}
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end == 'k' || *end == 'K')
		v *= 1024, end++;
	else if (*end == 'm' || *end == 'M')
		v *= 1048576, end++;
	if (*end || !v || v > 64 * 1048576UL) {
		fprintf(stderr, "bad size %s\n", s);
		exit(2);
	}
	return v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_datapath [-t SECS] [-r ROUNDS] [-s SIZES] [-c CIPHERS] [-v VARIANTS] [-o CSV] [-n]\n");
	exit(2);
}

static void make_file(void)
{
	char path[] = "/tmp/katls-bench.XXXXXX";
	char *blk = malloc(PATTERN * 4096);
	size_t i, done;

	if (!blk)
		die("malloc");
	file_fd = mkstemp(path);
	if (file_fd < 0)
		die("mkstemp");
	unlink(path);
	for (i = 0; i < (size_t)PATTERN * 4096; i++)
		blk[i] = (char)(i % PATTERN);
	for (done = 0; done < FILE_SIZE; done += PATTERN * 4096)
		if (!write_all(file_fd, blk, PATTERN * 4096))
			die("write");
	free(blk);
}

int main(int argc, char **argv)
{
	bool variants_given = false;
	FILE *csv = NULL;
	int opt, r, j, c, k;
	char *tok, *save;

	while ((opt = getopt(argc, argv, "t:r:s:c:v:o:nh")) != -1) {
		switch (opt) {
		case 't':
			opt_secs = strtod(optarg, NULL);
			if (!(opt_secs > 0 && opt_secs <= 600))
				usage();
			break;
		case 'r':
			opt_rounds = atoi(optarg);
			if (opt_rounds < 1 || opt_rounds > MAX_ROUNDS)
				usage();
			break;
		case 's':
			nsizes = 0;
			for (tok = strtok_r(optarg, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (nsizes == MAX_SIZES - 1)
					usage();
				sizes[nsizes++] = parse_size(tok);
			}
			break;
		case 'c':
			memset(use_cipher, 0, sizeof(use_cipher));
			for (tok = strtok_r(optarg, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				c = cipher_parse(tok);
				if (c < 0)
					usage();
				use_cipher[c] = true;
			}
			break;
		case 'v':
			variants_given = true;
			memset(use_variant, 0, sizeof(use_variant));
			for (tok = strtok_r(optarg, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				for (k = 0; k < V_LIMIT; k++)
					if (!strcmp(tok, variant_name[k]))
						break;
				if (k == V_LIMIT)
					usage();
				use_variant[k] = true;
			}
			use_variant[V_LIMIT] = true;
			break;
		case 'o':
			csv_path = optarg;
			break;
		case 'n':
			opt_no_openssl = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !nsizes)
		usage();
	if (!variants_given)
		for (k = 0; k < V_NR; k++)
			use_variant[k] = true;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (csv_path) {
		csv = fopen(csv_path, "w");
		if (!csv)
			die(csv_path);
		fprintf(csv, "round,variant,cipher,size,mbps,cpu_s_per_gib,check\n");
	}
	bench_cred_init(&cred);
	make_file();

	for (r = 1; r <= opt_rounds; r++) {
		double t0 = now_s();

		for (j = 0; j < nsizes; j++) {
			/*
			 * Both sender shapes side by side, interleaved; below
			 * one record they make the same calls: once.
			 */
			static const int all[] = {
				V_KATLS, V_KATLS_REC, V_KTLS, V_KTLS_REC,
				V_GNUTLS, V_GNUTLS_MSG,
			};
			static const int small[] = { V_KATLS, V_KTLS, V_GNUTLS };
			const int *vs = sizes[j] >= KATLS_RECORD_MAX ? all : small;
			int nv = sizes[j] >= KATLS_RECORD_MAX ? 6 : 3;

			/* Plain TCP does not depend on the cipher: once. */
			record(csv, r, V_TCP, -1, j, sizes[j]);
			for (c = 0; c < C_NR; c++) {
				if (!use_cipher[c])
					continue;
				for (k = 0; k < nv; k++)
					record(csv, r, vs[(k + r + j) % nv], c,
					       j, sizes[j]);
			}
		}
		for (c = 0; c < C_NR; c++) {
			if (!use_cipher[c])
				continue;
			for (k = 0; k < 2; k++)
				record(csv, r, (k + r) % 2 ? V_GNUTLS_FILE :
				       V_KATLS_SF, c, MAX_SIZES - 1, 0);
		}
		for (c = 0; c < C_NR; c++)
			if (use_cipher[c] && !opt_no_openssl)
				openssl_limit(csv, r, c);
		printf("round %d done in %.0f s, %d failed trials so far\n", r,
		       now_s() - t0, failures);
	}
	print_table();
	if (csv)
		fclose(csv);
	close(file_fd);
	bench_cred_free(&cred);
	if (failures)
		printf("bench_datapath: %d trials failed their checks\n", failures);
	return failures ? 1 : 0;
}
