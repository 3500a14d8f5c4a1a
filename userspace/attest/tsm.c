// SPDX-License-Identifier: GPL-2.0
/*
 * tsm.c - configfs-tsm report backend (see katls/tsm.h for the protocol).
 *
 * Every attribute read is bounded; nothing read from configfs is trusted
 * to be well formed.  The entry is removed on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <katls/tsm.h>

static atomic_ulong entry_seq;

static const struct {
	const char *name;
	enum katls_evidence_type type;
} providers[] = {
	{ "tdx_guest", KATLS_EVIDENCE_TDX },
	{ "sev_guest", KATLS_EVIDENCE_SNP },
	{ "arm_cca_guest", KATLS_EVIDENCE_CCA },
	{ "katls_sim", KATLS_EVIDENCE_SIM },
};

enum katls_evidence_type katls_tsm_provider_type(const char *provider)
{
	size_t i;

	if (!provider)
		return KATLS_EVIDENCE_NONE;
	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (!strcmp(provider, providers[i].name))
			return providers[i].type;
	return KATLS_EVIDENCE_NONE;
}

void katls_tsm_report_free(struct katls_tsm_report *r)
{
	if (!r)
		return;
	free(r->outblob);
	free(r->auxblob);
	memset(r, 0, sizeof(*r));
}

static int attr_path(char *buf, size_t cap, const char *entry,
		     const char *attr)
{
	int n = snprintf(buf, cap, "%s/%s", entry, attr);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int write_attr(const char *entry, const char *attr,
		      const uint8_t *p, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, ret;

	ret = attr_path(path, sizeof(path), entry, attr);
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = write(fd, p, len);
	while (n < 0 && errno == EINTR);
	ret = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/*
 * Read a whole attribute into buf (capacity cap).  -EFBIG if the file
 * holds more than cap bytes.
 */
static int read_attr(const char *entry, const char *attr, uint8_t *buf,
		     size_t cap, size_t *len)
{
	char path[PATH_MAX];
	size_t total = 0;
	uint8_t extra;
	ssize_t n;
	int fd, ret;

	*len = 0;
	ret = attr_path(path, sizeof(path), entry, attr);
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (total < cap)
			n = read(fd, buf + total, cap - total);
		else
			n = read(fd, &extra, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		if (total == cap) {
			ret = -EFBIG;
			break;
		}
		total += n;
	}
	close(fd);
	if (!ret)
		*len = total;
	return ret;
}

/* A text attribute: printable, one optional trailing newline. */
static int read_text(const char *entry, const char *attr, char *buf,
		     size_t cap)
{
	size_t len, i;
	int ret;

	ret = read_attr(entry, attr, (uint8_t *)buf, cap - 1, &len);
	if (ret)
		return ret == -EFBIG ? -EPROTO : ret;
	if (len && buf[len - 1] == '\n')
		len--;
	if (!len)
		return -EPROTO;
	for (i = 0; i < len; i++)
		if (buf[i] < 0x21 || buf[i] > 0x7e)
			return -EPROTO;
	buf[len] = '\0';
	return 0;
}

static int read_generation(const char *entry, uint64_t *gen)
{
	char buf[24];
	uint64_t v = 0;
	size_t i;
	int ret;

	ret = read_text(entry, "generation", buf, sizeof(buf));
	if (ret)
		return ret;
	for (i = 0; buf[i]; i++) {
		if (buf[i] < '0' || buf[i] > '9' ||
		    v > (UINT64_MAX - (buf[i] - '0')) / 10)
			return -EPROTO;
		v = v * 10 + (buf[i] - '0');
	}
	*gen = v;
	return 0;
}

static int hook(const struct katls_tsm_opts *o, enum katls_tsm_step step,
		const char *entry)
{
	int ret;

	if (!o || !o->hook)
		return 0;
	ret = o->hook(step, entry, o->hook_arg);
	return ret < 0 ? ret : 0;
}

/* Give back the unused part of a bounded read buffer. */
static void shrink(uint8_t **p, size_t len)
{
	uint8_t *q = realloc(*p, len);

	if (q)
		*p = q;
}

/* One attempt on a fresh entry.  -ESTALE means a generation race. */
static int attempt(const struct katls_tsm_opts *o, const char *root,
		   const uint8_t *inblob, struct katls_tsm_report *r)
{
	char entry[PATH_MAX];
	uint64_t g1, g2;
	int ret, n, tries;

	for (tries = 0;; tries++) {
		n = snprintf(entry, sizeof(entry), "%s/katls-%ld-%lu", root,
			     (long)getpid(),
			     atomic_fetch_add(&entry_seq, 1) + 1);
		if (n < 0 || (size_t)n >= sizeof(entry))
			return -ENAMETOOLONG;
		if (!mkdir(entry, 0700))
			break;
		/* A stale entry of an earlier process with our pid. */
		if (errno != EEXIST || tries == 16)
			return -errno;
	}

	ret = hook(o, KATLS_TSM_STEP_MKDIR, entry);
	if (ret)
		goto out;
	ret = write_attr(entry, "inblob", inblob, KATLS_TSM_INBLOB_LEN);
	if (ret)
		goto out;
	ret = hook(o, KATLS_TSM_STEP_INBLOB, entry);
	if (ret)
		goto out;
	ret = read_generation(entry, &g1);
	if (ret)
		goto out;
	/* Our write is the only one on this fresh entry. */
	if (g1 != 1) {
		ret = -ESTALE;
		goto out;
	}

	r->outblob = malloc(KATLS_TSM_OUTBLOB_MAX);
	if (!r->outblob) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_attr(entry, "outblob", r->outblob, KATLS_TSM_OUTBLOB_MAX,
			&r->outblob_len);
	if (ret)
		goto out;
	if (!r->outblob_len) {
		ret = -ENODATA;
		goto out;
	}
	ret = hook(o, KATLS_TSM_STEP_OUTBLOB, entry);
	if (ret)
		goto out;

	r->auxblob = malloc(KATLS_TSM_AUXBLOB_MAX);
	if (!r->auxblob) {
		ret = -ENOMEM;
		goto out;
	}
	/* Providers may hide auxblob (6.10+): absent means none. */
	ret = read_attr(entry, "auxblob", r->auxblob, KATLS_TSM_AUXBLOB_MAX,
			&r->auxblob_len);
	if (ret == -ENOENT)
		ret = 0;
	if (ret)
		goto out;
	if (!r->auxblob_len) {
		free(r->auxblob);
		r->auxblob = NULL;
	}

	ret = read_text(entry, "provider", r->provider, sizeof(r->provider));
	if (ret)
		goto out;
	ret = read_generation(entry, &g2);
	if (ret)
		goto out;
	if (g2 != g1) {
		ret = -ESTALE;
		goto out;
	}
	r->generation = g2;
	r->type = katls_tsm_provider_type(r->provider);
	shrink(&r->outblob, r->outblob_len);
	if (r->auxblob)
		shrink(&r->auxblob, r->auxblob_len);
out:
	hook(o, KATLS_TSM_STEP_RMDIR, entry);
	if (rmdir(entry) && !ret)
		ret = -errno;
	return ret;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int katls_tsm_get_report(const struct katls_tsm_opts *o,
			 const uint8_t inblob[KATLS_TSM_INBLOB_LEN],
			 struct katls_tsm_report *r)
{
	unsigned int max = KATLS_TSM_DEFAULT_ATTEMPTS;
	unsigned int backoff = KATLS_TSM_DEFAULT_BACKOFF_MS;
	const char *root = KATLS_TSM_DEFAULT_ROOT;
	unsigned int i;
	int ret = -EINVAL;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if (!inblob)
		return -EINVAL;
	if (o && o->root)
		root = o->root;
	if (o && o->max_attempts)
		max = o->max_attempts;
	if (o && o->backoff_ms)
		backoff = o->backoff_ms;

	for (i = 1; i <= max; i++) {
		r->attempts = i;
		ret = attempt(o, root, inblob, r);
		if (!ret)
			return 0;
		free(r->outblob);
		free(r->auxblob);
		memset(r, 0, sizeof(*r));
		r->attempts = i;
		if (ret != -EBUSY && ret != -EAGAIN && ret != -ESTALE)
			break;
		if (i < max) {
			sleep_ms(backoff);
			backoff = backoff >= KATLS_TSM_MAX_BACKOFF_MS / 2 ?
				  KATLS_TSM_MAX_BACKOFF_MS : backoff * 2;
		}
	}
	return ret;
}
