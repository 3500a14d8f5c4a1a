// SPDX-License-Identifier: GPL-2.0
/*
 * pki.c - certificate lists, pinned roots, X.509 signature, validity and
 * CRL checks, ECDSA r||s signatures and a minimal DER reader, with the
 * file and time helpers they need; shared by the TDX and SEV-SNP
 * verifiers.  All cryptography is GnuTLS's; this file only arranges
 * inputs and reports results.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gnutls/crypto.h>

#include "verify_int.h"

void kv_hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

bool kv_all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n--)
		acc |= *p++;
	return acc == 0;
}

int kv_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return err;
	}
	if ((uintmax_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	/* One spare byte so that text parsers can NUL-terminate. */
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			free(b);
			close(fd);
			return err;
		}
		got += (size_t)r;
	}
	close(fd);
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

time_t kv_opts_time(const struct katls_verify_opts *o)
{
	return o && o->at ? o->at : time(NULL);
}

const char *kv_time_str(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "@%lld", (long long)t);
	return buf;
}

/* ---- certificate lists ---- */

void kv_certs_free(struct kv_certs *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		gnutls_x509_crt_deinit(l->crt[i]);
	free(l->crt);
	l->crt = NULL;
	l->n = l->cap = 0;
}

int kv_certs_add(struct kv_certs *l, gnutls_x509_crt_t c)
{
	if (l->n == l->cap) {
		unsigned int cap = l->cap ? l->cap * 2 : 8;
		gnutls_x509_crt_t *n;

		if (cap > 4096)
			goto fail;
		n = realloc(l->crt, cap * sizeof(*n));
		if (!n)
			goto fail;
		l->crt = n;
		l->cap = cap;
	}
	l->crt[l->n++] = c;
	return 0;
fail:
	gnutls_x509_crt_deinit(c);
	return -1;
}

static bool looks_pem(const uint8_t *p, size_t n)
{
	static const char tag[] = "-----BEGIN";

	return n >= sizeof(tag) - 1 && memmem(p, n, tag, sizeof(tag) - 1);
}

int kv_certs_import(struct kv_certs *l, const uint8_t *p, size_t n)
{
	gnutls_datum_t d = { (unsigned char *)p, (unsigned int)n };
	gnutls_x509_crt_t *list = NULL, c;
	unsigned int cnt = 0, i;

	if (n == 0 || n > KV_MAX_FILE)
		return -1;
	if (looks_pem(p, n)) {
		if (gnutls_x509_crt_list_import2(&list, &cnt, &d,
						 GNUTLS_X509_FMT_PEM, 0) < 0)
			return -1;
		for (i = 0; i < cnt; i++)
			if (kv_certs_add(l, list[i]) < 0) {
				while (++i < cnt)
					gnutls_x509_crt_deinit(list[i]);
				gnutls_free(list);
				return -1;
			}
		gnutls_free(list);
		return cnt ? 0 : -1;
	}
	if (gnutls_x509_crt_init(&c) < 0)
		return -1;
	if (gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(c);
		return -1;
	}
	return kv_certs_add(l, c);
}

static bool cert_file_name(const char *name)
{
	static const char *const ext[] = { ".pem", ".crt", ".cer", ".der" };
	size_t n = strlen(name), i;

	if (name[0] == '.')
		return false;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (n > 4 && !strcasecmp(name + n - 4, ext[i]))
			return true;
	return false;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted regular file names of dir accepted by want(); NULL-terminated. */
static char **dir_files(const char *dir, bool (*want)(const char *))
{
	char **names = NULL, **nn;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (!want(de->d_name))
			continue;
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			if (cap > 1024)
				break;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn)
				break;
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			break;
		n++;
	}
	closedir(d);
	if (!names) {
		names = calloc(1, sizeof(*names));
		return names;
	}
	names[n] = NULL;
	qsort(names, n, sizeof(*names), name_cmp);
	return names;
}

static void dir_files_free(char **names)
{
	char **p;

	for (p = names; p && *p; p++)
		free(*p);
	free(names);
}

int kv_certs_load_dir(struct kv_certs *l, const char *dir, char *err,
		      size_t errlen)
{
	char **names, **np, path[4096];
	int ret = 0;

	names = dir_files(dir, cert_file_name);
	if (!names) {
		snprintf(err, errlen, "%s: cannot read directory: %m", dir);
		return -1;
	}
	for (np = names; *np; np++) {
		uint8_t *buf;
		size_t len;
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, *np);
		r = kv_read_file(path, KV_MAX_FILE, &buf, &len);
		if (r < 0) {
			errno = -r;
			snprintf(err, errlen, "%s: %m", path);
			ret = -1;
			break;
		}
		r = kv_certs_import(l, buf, len);
		free(buf);
		if (r < 0) {
			snprintf(err, errlen, "%s: not a certificate", path);
			ret = -1;
			break;
		}
	}
	dir_files_free(names);
	return ret;
}

int kv_roots_load(const struct katls_verify_opts *o, struct kv_certs *l,
		  char *err, size_t errlen)
{
	if (o && o->roots_dir) {
		if (kv_certs_load_dir(l, o->roots_dir, err, errlen) < 0)
			return -1;
		if (!l->n) {
			snprintf(err, errlen, "%s: no certificate", o->roots_dir);
			return -1;
		}
		return 0;
	}
	if (kv_certs_import(l, (const uint8_t *)kv_builtin_roots_pem,
			    strlen(kv_builtin_roots_pem)) < 0) {
		snprintf(err, errlen, "built-in roots do not parse");
		return -1;
	}
	return 0;
}

/* ---- certificate predicates ---- */

bool kv_crt_self_signed_name(gnutls_x509_crt_t c)
{
	return gnutls_x509_crt_check_issuer(c, c) != 0;
}

bool kv_crt_equal(gnutls_x509_crt_t a, gnutls_x509_crt_t b)
{
	return gnutls_x509_crt_equals(a, b) != 0;
}

void kv_crt_cn(gnutls_x509_crt_t c, char *buf, size_t len)
{
	size_t n = len;

	if (!len)
		return;
	if (gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
					  buf, &n) < 0)
		buf[0] = '\0';
	buf[len - 1] = '\0';
}

bool kv_crt_signed_by(gnutls_x509_crt_t c, gnutls_x509_crt_t issuer)
{
	/*
	 * Time is checked separately (against the caller's clock), and
	 * DO_NOT_ALLOW_SAME makes GnuTLS check a self-signature instead of
	 * trusting a certificate because it is in the list.
	 */
	const unsigned int flags = GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
				   GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
				   GNUTLS_VERIFY_DO_NOT_ALLOW_SAME;
	unsigned int status = 0;

	if (!gnutls_x509_crt_check_issuer(c, issuer))
		return false;
	if (gnutls_x509_crt_verify(c, &issuer, 1, flags, &status) < 0)
		return false;
	return status == 0;
}

bool kv_crt_valid_at(gnutls_x509_crt_t c, time_t at, char *why,
		     size_t whylen)
{
	time_t nb = gnutls_x509_crt_get_activation_time(c);
	time_t na = gnutls_x509_crt_get_expiration_time(c);
	char t1[32], t2[32];

	if (nb == (time_t)-1 || na == (time_t)-1) {
		snprintf(why, whylen, "validity period unreadable");
		return false;
	}
	if (at < nb || at > na) {
		snprintf(why, whylen, "valid %s..%s, not at %s",
			 kv_time_str(nb, t1, sizeof(t1)),
			 kv_time_str(na, t2, sizeof(t2)),
			 kv_time_str(at, (char[32]){ 0 }, 32));
		return false;
	}
	snprintf(why, whylen, "valid %s..%s", kv_time_str(nb, t1, sizeof(t1)),
		 kv_time_str(na, t2, sizeof(t2)));
	return true;
}

/* ---- signatures ---- */

static void strip_zeros(const uint8_t **p, size_t *n)
{
	while (*n > 1 && (*p)[0] == 0) {
		(*p)++;
		(*n)--;
	}
}

bool kv_ecdsa_verify(gnutls_pubkey_t key, gnutls_sign_algorithm_t alg,
		     const uint8_t *data, size_t len,
		     const uint8_t *r, const uint8_t *s, size_t n)
{
	gnutls_datum_t dr, ds, sig = { NULL, 0 };
	gnutls_datum_t msg = { (unsigned char *)data, (unsigned int)len };
	size_t rn = n, sn = n;
	bool ok;

	/* GnuTLS adds a sign byte itself but keeps redundant zeros. */
	strip_zeros(&r, &rn);
	strip_zeros(&s, &sn);
	dr.data = (unsigned char *)r;
	dr.size = (unsigned int)rn;
	ds.data = (unsigned char *)s;
	ds.size = (unsigned int)sn;
	if (gnutls_encode_rs_value(&sig, &dr, &ds) < 0)
		return false;
	ok = gnutls_pubkey_verify_data2(key, alg, 0, &msg, &sig) >= 0;
	gnutls_free(sig.data);
	return ok;
}

/* ---- CRLs (collateral) ---- */

static bool crl_file_name(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return false;
	return (n > 4 && (!strcasecmp(name + n - 4, ".crl") ||
			  !strcasecmp(name + n - 4, ".pem") ||
			  !strcasecmp(name + n - 4, ".der")));
}

static int crl_import(const uint8_t *p, size_t n, gnutls_x509_crl_t **list,
		      unsigned int *cnt)
{
	gnutls_datum_t d = { (unsigned char *)p, (unsigned int)n };

	if (looks_pem(p, n)) {
		if (!memmem(p, n, "X509 CRL", 8)) {
			*cnt = 0;	/* some other PEM (e.g. a certificate) */
			return 0;
		}
		return gnutls_x509_crl_list_import2(list, cnt, &d,
						    GNUTLS_X509_FMT_PEM, 0) < 0 ?
			-1 : 0;
	}
	return gnutls_x509_crl_list_import2(list, cnt, &d, GNUTLS_X509_FMT_DER,
					    0) < 0 ? -1 : 0;
}

static int crl_apply(gnutls_x509_crl_t crl, const char *path,
		     gnutls_x509_crt_t *chain, unsigned int n, time_t at,
		     struct katls_verdict *v)
{
	unsigned int i, j, status;
	char cn[128], ts[32];
	time_t next, this;

	for (i = 0; i < n; i++)
		if (gnutls_x509_crl_check_issuer(crl, chain[i]))
			break;
	if (i == n)
		return 0;	/* for another chain (e.g. SNP vs TDX) */
	kv_crt_cn(chain[i], cn, sizeof(cn));
	/*
	 * GnuTLS judges a CRL's dates by the wall clock whatever the flags;
	 * the dates are checked below against the caller's time instead.
	 */
	if (gnutls_x509_crl_verify(crl, &chain[i], 1,
				   GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
				   GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
				   &status) < 0 ||
	    (status & ~(GNUTLS_CERT_INVALID |
			GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED |
			GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE)) ||
	    !(status & ~GNUTLS_CERT_INVALID) != !status) {
		katls_verdict_error(v, "CRL %s: signature by \"%s\" does not verify",
				    path, cn);
		return (int)i + 1;
	}
	next = gnutls_x509_crl_get_next_update(crl);
	this = gnutls_x509_crl_get_this_update(crl);
	if (this == (time_t)-1 || this > at) {
		katls_verdict_error(v, "CRL %s of \"%s\": issued after %s", path, cn,
				    kv_time_str(at, ts, sizeof(ts)));
		return (int)i + 1;
	}
	if (next != (time_t)-1 && next < at) {
		katls_verdict_error(v, "CRL %s of \"%s\": expired (next update %s)",
				    path, cn, kv_time_str(next, ts, sizeof(ts)));
		return (int)i + 1;
	}
	/* The CRL covers the certificates that cert i issued. */
	for (j = 0; j < n; j++) {
		char scn[128];

		if (j == i || !gnutls_x509_crt_check_issuer(chain[j], chain[i]))
			continue;
		kv_crt_cn(chain[j], scn, sizeof(scn));
		if (gnutls_x509_crt_check_revocation(chain[j], &crl, 1) != 0)
			katls_verdict_error(v, "certificate \"%s\" is revoked (CRL %s)",
					    scn, path);
		else
			katls_verdict_check(v, "checked: \"%s\" not revoked by CRL of \"%s\"",
					    scn, cn);
	}
	return (int)i + 1;
}

int kv_crl_check(const struct katls_verify_opts *o,
		 gnutls_x509_crt_t *chain, unsigned int n, time_t at,
		 struct katls_verdict *v, unsigned int *issuers)
{
	char **names, **np, path[4096];
	int applied = 0;

	if (issuers)
		*issuers = 0;

	if (!o || !o->collateral_dir)
		return 0;
	names = dir_files(o->collateral_dir, crl_file_name);
	if (!names) {
		katls_verdict_error(v, "collateral %s: cannot read directory",
				    o->collateral_dir);
		return 0;
	}
	for (np = names; *np; np++) {
		gnutls_x509_crl_t *list = NULL;
		unsigned int cnt = 0, k;
		uint8_t *buf;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", o->collateral_dir, *np);
		if (kv_read_file(path, KV_MAX_FILE, &buf, &len) < 0) {
			katls_verdict_error(v, "collateral %s: unreadable", path);
			continue;
		}
		if (crl_import(buf, len, &list, &cnt) < 0) {
			/* .der/.pem may hold certificates; .crl must parse */
			size_t nl = strlen(*np);

			if (!strcasecmp(*np + nl - 4, ".crl"))
				katls_verdict_error(v, "collateral %s: not a CRL",
						    path);
			free(buf);
			continue;
		}
		free(buf);
		for (k = 0; k < cnt; k++) {
			int i = crl_apply(list[k], *np, chain, n, at, v);

			if (i > 0) {
				applied++;
				if (issuers && i <= 32)
					*issuers |= 1u << (i - 1);
			}
			gnutls_x509_crl_deinit(list[k]);
		}
		gnutls_free(list);
	}
	dir_files_free(names);
	return applied;
}

/* ---- DER ---- */

int kv_der_next(const uint8_t **p, const uint8_t *end, uint8_t *tag,
		const uint8_t **val, size_t *vlen)
{
	const uint8_t *q = *p;
	size_t len, avail;

	if (q >= end || end - q < 2)
		return -1;
	*tag = *q++;
	if ((*tag & 0x1f) == 0x1f)
		return -1;		/* multi-byte tags: not used here */
	len = *q++;
	if (len & 0x80) {
		unsigned int nb = len & 0x7f, i;

		if (nb == 0 || nb > 3 || (size_t)(end - q) < nb)
			return -1;	/* indefinite or absurd length */
		len = 0;
		for (i = 0; i < nb; i++)
			len = len << 8 | *q++;
	}
	avail = (size_t)(end - q);
	if (len > avail)
		return -1;
	*val = q;
	*vlen = len;
	*p = q + len;
	return 0;
}

int kv_der_uint(const uint8_t *val, size_t vlen, uint32_t *out)
{
	uint32_t x = 0;

	if (vlen == 0 || vlen > 5 || (val[0] & 0x80))
		return -1;
	if (vlen == 5 && val[0] != 0)
		return -1;
	while (vlen--)
		x = x << 8 | *val++;
	*out = x;
	return 0;
}
