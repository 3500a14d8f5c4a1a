// SPDX-License-Identifier: GPL-2.0
/*
 * test_tsm.c - the configfs-tsm backend against an ordinary directory
 * that mimics a report entry: the test seam creates the attribute files
 * at mkdir (as configfs does), bumps "generation" at each inblob write and
 * plays the provider (outblob derived from inblob).  This checks the
 * protocol, parsing, bounds, retries and cleanup; the real configfs-tsm
 * is exercised in the VM tests with tests/sim-tsm.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <katls/tsm.h>
#include "tap.h"

struct fake {
	const char *provider;		/* NULL: no provider file */
	const char *gen_after_write;	/* generation after the inblob write */
	size_t outblob_len;		/* bytes of outblob (prefix + inblob) */
	long auxblob_len;		/* -1: no auxblob file */
	int race_at_outblob;		/* attempts whose generation moves */
	int busy_at_inblob;		/* attempts failing with EBUSY */
	int busy_errno;
	int no_inblob;			/* do not create inblob */
	/* observed */
	int mkdirs, rmdirs;
	char last_entry[PATH_MAX];
	uint8_t inblob_seen[64];
	size_t inblob_seen_len;
	pthread_mutex_t lock;
};

static void put(const char *entry, const char *name, const void *p,
		size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", entry, name);
	f = fopen(path, "w");
	if (!f)
		abort();
	if (len && fwrite(p, 1, len, f) != len)
		abort();
	fclose(f);
}

static size_t get(const char *entry, const char *name, void *p, size_t cap)
{
	char path[PATH_MAX];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", entry, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(p, 1, cap, f);
	fclose(f);
	return n;
}

static void rm(const char *entry, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", entry, name);
	unlink(path);
}

static int fake_hook(enum katls_tsm_step step, const char *entry, void *arg)
{
	struct fake *f = arg;
	uint8_t *blob;
	uint8_t in[64];
	size_t n;

	switch (step) {
	case KATLS_TSM_STEP_MKDIR:
		pthread_mutex_lock(&f->lock);
		f->mkdirs++;
		snprintf(f->last_entry, sizeof(f->last_entry), "%s", entry);
		pthread_mutex_unlock(&f->lock);
		if (!f->no_inblob)
			put(entry, "inblob", "", 0);
		put(entry, "generation", "0\n", 2);
		if (f->provider)
			put(entry, "provider", f->provider,
			    strlen(f->provider));
		return 0;
	case KATLS_TSM_STEP_INBLOB:
		if (f->busy_at_inblob) {
			f->busy_at_inblob--;
			return -f->busy_errno;
		}
		/* configfs: the write bumps generation; the provider runs. */
		put(entry, "generation", f->gen_after_write,
		    strlen(f->gen_after_write));
		n = get(entry, "inblob", in, sizeof(in));
		pthread_mutex_lock(&f->lock);
		memcpy(f->inblob_seen, in, n);
		f->inblob_seen_len = n;
		pthread_mutex_unlock(&f->lock);
		blob = malloc(70000);
		if (!blob)
			abort();
		memset(blob, 0xee, 70000);
		memcpy(blob, "SIM:", 4);
		if (f->outblob_len >= 68)
			memcpy(blob + 4, in, 64);
		put(entry, "outblob", blob, f->outblob_len);
		if (f->auxblob_len >= 0) {
			memset(blob, 0xaa, f->auxblob_len);
			put(entry, "auxblob", blob, f->auxblob_len);
		}
		free(blob);
		return 0;
	case KATLS_TSM_STEP_OUTBLOB:
		if (f->race_at_outblob) {
			f->race_at_outblob--;
			put(entry, "generation", "2\n", 2);
		}
		return 0;
	case KATLS_TSM_STEP_RMDIR:
		pthread_mutex_lock(&f->lock);
		f->rmdirs++;
		pthread_mutex_unlock(&f->lock);
		rm(entry, "inblob");
		rm(entry, "outblob");
		rm(entry, "auxblob");
		rm(entry, "provider");
		rm(entry, "generation");
		return 0;
	}
	return 0;
}

static char root[] = "/tmp/katls-tsm-test.XXXXXX";
static uint8_t inblob[64];

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->provider = "katls_sim\n";
	f->gen_after_write = "1\n";
	f->outblob_len = 160;
	f->auxblob_len = 10;
	f->busy_errno = EBUSY;
	pthread_mutex_init(&f->lock, NULL);
}

static int run(struct fake *f, struct katls_tsm_report *r)
{
	struct katls_tsm_opts o = {
		.root = root,
		.max_attempts = 4,
		.backoff_ms = 1,
		.hook = fake_hook,
		.hook_arg = f,
	};

	return katls_tsm_get_report(&o, inblob, r);
}

static int root_empty(void)
{
	DIR *d = opendir(root);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n == 0;
}

static void test_success(void)
{
	struct katls_tsm_report r;
	struct fake f;
	char first[PATH_MAX];
	int ret;

	fake_init(&f);
	ret = run(&f, &r);
	tap_ok(ret == 0, "success: returns 0 (%d)", ret);
	tap_ok(f.inblob_seen_len == 64 && !memcmp(f.inblob_seen, inblob, 64),
	       "success: exactly the 64-byte inblob was written");
	tap_ok(r.outblob_len == 160 && !memcmp(r.outblob, "SIM:", 4) &&
	       !memcmp(r.outblob + 4, inblob, 64),
	       "success: outblob is what the provider produced");
	tap_ok(r.auxblob_len == 10 && r.auxblob && r.auxblob[9] == 0xaa,
	       "success: auxblob read");
	tap_ok(!strcmp(r.provider, "katls_sim") &&
	       r.type == KATLS_EVIDENCE_SIM && r.generation == 1 &&
	       r.attempts == 1,
	       "success: provider (newline stripped), type, generation");
	tap_ok(f.mkdirs == 1 && f.rmdirs == 1 && root_empty(),
	       "success: one entry created and removed");
	tap_ok(!strncmp(f.last_entry, root, strlen(root)) &&
	       strstr(f.last_entry, "/katls-"),
	       "success: entry %s under the root", f.last_entry);
	katls_tsm_report_free(&r);
	tap_ok(!r.outblob && !r.auxblob && !r.outblob_len,
	       "report_free clears the report");

	snprintf(first, sizeof(first), "%s", f.last_entry);
	run(&f, &r);
	tap_ok(strcmp(first, f.last_entry) != 0,
	       "each call uses a fresh entry name");
	katls_tsm_report_free(&r);

	fake_init(&f);
	f.auxblob_len = -1;
	f.provider = "tdx_guest";
	ret = run(&f, &r);
	tap_ok(ret == 0 && r.auxblob_len == 0 && !r.auxblob &&
	       r.type == KATLS_EVIDENCE_TDX,
	       "no auxblob file: empty aux, no newline in provider ok");
	katls_tsm_report_free(&r);

	fake_init(&f);
	f.auxblob_len = 0;
	f.provider = "some_new_tee\n";
	ret = run(&f, &r);
	tap_ok(ret == 0 && !r.auxblob && r.type == KATLS_EVIDENCE_NONE &&
	       !strcmp(r.provider, "some_new_tee"),
	       "unknown provider: report returned, type NONE");
	katls_tsm_report_free(&r);
}

static void test_bounds(void)
{
	struct katls_tsm_report r;
	struct fake f;
	int ret;

	fake_init(&f);
	f.outblob_len = KATLS_TSM_OUTBLOB_MAX;
	f.auxblob_len = KATLS_TSM_AUXBLOB_MAX;
	ret = run(&f, &r);
	tap_ok(ret == 0 && r.outblob_len == KATLS_TSM_OUTBLOB_MAX &&
	       r.auxblob_len == KATLS_TSM_AUXBLOB_MAX,
	       "outblob 32 KiB and auxblob 64 KiB accepted");
	katls_tsm_report_free(&r);

	fake_init(&f);
	f.outblob_len = KATLS_TSM_OUTBLOB_MAX + 1;
	ret = run(&f, &r);
	tap_ok(ret == -EFBIG && !r.outblob && f.rmdirs == 1 && root_empty(),
	       "outblob over 32 KiB -> -EFBIG, entry removed (%d)", ret);

	fake_init(&f);
	f.auxblob_len = KATLS_TSM_AUXBLOB_MAX + 1;
	ret = run(&f, &r);
	tap_ok(ret == -EFBIG && !r.outblob && !r.auxblob && root_empty(),
	       "auxblob over 64 KiB -> -EFBIG, nothing returned (%d)", ret);

	fake_init(&f);
	f.outblob_len = 0;
	ret = run(&f, &r);
	tap_ok(ret == -ENODATA && root_empty(), "empty outblob -> -ENODATA");
}

static void test_malformed(void)
{
	static const struct {
		const char *gen, *provider, *what;
	} cases[] = {
		{ "x\n", "katls_sim\n", "generation not a number" },
		{ "", "katls_sim\n", "generation empty" },
		{ "1 \n", "katls_sim\n", "generation with a space" },
		{ "99999999999999999999999\n", "katls_sim\n",
		  "generation too long" },
		{ "18446744073709551616\n", "katls_sim\n",
		  "generation overflows u64" },
		{ "1\n", "", "provider empty" },
		{ "1\n", "\n", "provider just a newline" },
		{ "1\n", "katls sim\n", "provider with a space" },
		{ "1\n", "katls_sim\n\n", "provider with two newlines" },
		{ "1\n", "katls\001sim", "provider with a control char" },
		{ "1\n", "a_provider_name_that_is_much_longer_than_sixty_"
			 "three_characters_in_total\n", "provider too long" },
	};
	struct katls_tsm_report r;
	struct fake f;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_init(&f);
		f.gen_after_write = cases[i].gen;
		f.provider = cases[i].provider;
		ret = run(&f, &r);
		tap_ok(ret == -EPROTO && !r.outblob && root_empty(),
		       "%s -> -EPROTO (%d)", cases[i].what, ret);
	}
	fake_init(&f);
	f.provider = NULL;
	ret = run(&f, &r);
	tap_ok(ret == -ENOENT && root_empty(), "no provider file -> -ENOENT");
	fake_init(&f);
	f.no_inblob = 1;
	ret = run(&f, &r);
	tap_ok(ret == -ENOENT && f.rmdirs == 1 && root_empty(),
	       "no inblob file: write fails, entry removed");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_retries(void)
{
	struct katls_tsm_report r;
	struct katls_tsm_opts o;
	struct fake f;
	double t0;
	int ret;

	fake_init(&f);
	f.race_at_outblob = 1;
	ret = run(&f, &r);
	tap_ok(ret == 0 && r.attempts == 2 && f.mkdirs == 2 &&
	       f.rmdirs == 2 && root_empty(),
	       "generation moved during the read: retried on a fresh entry");
	katls_tsm_report_free(&r);

	fake_init(&f);
	f.race_at_outblob = 100;
	ret = run(&f, &r);
	tap_ok(ret == -ESTALE && r.attempts == 4 && f.mkdirs == 4 &&
	       !r.outblob && root_empty(),
	       "generation races every time: -ESTALE after 4 attempts");

	fake_init(&f);
	f.gen_after_write = "2\n";
	ret = run(&f, &r);
	tap_ok(ret == -ESTALE && r.attempts == 4,
	       "another writer on our entry (generation 2) -> -ESTALE");

	fake_init(&f);
	f.busy_at_inblob = 2;
	ret = run(&f, &r);
	tap_ok(ret == 0 && r.attempts == 3 && root_empty(),
	       "EBUSY twice then success: 3 attempts");
	katls_tsm_report_free(&r);

	fake_init(&f);
	f.busy_at_inblob = 1;
	f.busy_errno = EAGAIN;
	ret = run(&f, &r);
	tap_ok(ret == 0 && r.attempts == 2, "EAGAIN retried");
	katls_tsm_report_free(&r);

	fake_init(&f);
	f.busy_at_inblob = 1000;
	o = (struct katls_tsm_opts){ .root = root, .max_attempts = 5,
				     .backoff_ms = 10, .hook = fake_hook,
				     .hook_arg = &f };
	t0 = now();
	ret = katls_tsm_get_report(&o, inblob, &r);
	t0 = now() - t0;
	/* back-off 10 + 20 + 40 + 80 ms between 5 attempts */
	tap_ok(ret == -EBUSY && r.attempts == 5 && f.mkdirs == 5 &&
	       t0 >= 0.150 && t0 < 2.0 && root_empty(),
	       "always EBUSY: -EBUSY after 5 attempts, backed off %.3f s", t0);

	fake_init(&f);
	f.busy_at_inblob = 1;
	f.busy_errno = EIO;
	ret = run(&f, &r);
	tap_ok(ret == -EIO && r.attempts == 1 && root_empty(),
	       "EIO is not retried");
}

static void test_errors(void)
{
	struct katls_tsm_opts o = { 0 };
	struct katls_tsm_report r;
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/does-not-exist", root);
	o.root = path;
	ret = katls_tsm_get_report(&o, inblob, &r);
	tap_ok(ret == -ENOENT && r.attempts == 1,
	       "missing root (no configfs-tsm) -> -ENOENT");
	o.root = root;
	tap_ok(katls_tsm_get_report(&o, NULL, &r) == -EINVAL &&
	       katls_tsm_get_report(&o, inblob, NULL) == -EINVAL,
	       "NULL arguments -> -EINVAL");
	/* Real root without hook: a plain mkdir'd entry has no inblob. */
	ret = katls_tsm_get_report(&o, inblob, &r);
	tap_ok(ret == -ENOENT && root_empty(),
	       "plain directory (not configfs) -> -ENOENT, cleaned up");
	tap_ok(katls_tsm_provider_type("tdx_guest") == KATLS_EVIDENCE_TDX &&
	       katls_tsm_provider_type("sev_guest") == KATLS_EVIDENCE_SNP &&
	       katls_tsm_provider_type("arm_cca_guest") ==
	       KATLS_EVIDENCE_CCA &&
	       katls_tsm_provider_type("katls_sim") == KATLS_EVIDENCE_SIM &&
	       katls_tsm_provider_type("katls_sim2") == KATLS_EVIDENCE_NONE &&
	       katls_tsm_provider_type("") == KATLS_EVIDENCE_NONE &&
	       katls_tsm_provider_type(NULL) == KATLS_EVIDENCE_NONE,
	       "provider -> evidence type mapping");
}

struct thr {
	struct fake *f;
	int ret;
	uint8_t first;
};

static void *worker(void *arg)
{
	struct thr *t = arg;
	struct katls_tsm_report r;

	t->ret = run(t->f, &r);
	if (!t->ret)
		t->first = r.outblob[0];
	katls_tsm_report_free(&r);
	return NULL;
}

static void test_concurrent(void)
{
	pthread_t th[8];
	struct thr t[8];
	struct fake f;
	int i, ok = 1;

	fake_init(&f);
	for (i = 0; i < 8; i++) {
		t[i].f = &f;
		pthread_create(&th[i], NULL, worker, &t[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ok &= t[i].ret == 0 && t[i].first == 'S';
	}
	tap_ok(ok && f.mkdirs == 8 && f.rmdirs == 8 && root_empty(),
	       "8 concurrent callers: 8 distinct entries, all removed");
}

int main(void)
{
	int i;

	tap_plan_lazy();
	if (!tap_ok(mkdtemp(root) != NULL, "temporary root %s", root))
		return tap_done();
	for (i = 0; i < 64; i++)
		inblob[i] = 0x40 + i;
	test_success();
	test_bounds();
	test_malformed();
	test_retries();
	test_errors();
	test_concurrent();
	tap_ok(rmdir(root) == 0, "temporary root empty at the end");
	return tap_done();
}
