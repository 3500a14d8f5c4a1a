// SPDX-License-Identifier: GPL-2.0
/*
 * sim_tsm_selftest.c - runs in a VM with katls_sim_tsm.ko loaded: the
 * configfs-tsm backend against the real configfs-tsm, the evidence
 * checked by the sim verifier, the module parameters, concurrency and
 * the slow-quote delay.  TAP output.  Run by tests/sim-tsm/vm-test.sh.
 *
 *   sim_tsm_selftest            with katls_sim_tsm loaded
 *   sim_tsm_selftest --unload   then also unload the module (every report
 *                               entry is gone, so it must go) and check
 *                               the answer of configfs-tsm with no provider
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include <katls/binder.h>
#include <katls/sim_evidence.h>
#include <katls/tsm.h>
#include <katls/verify.h>
#include "tap.h"

#define PARAM "/sys/module/katls_sim_tsm/parameters/"

static int param_write(const char *name, const char *val)
{
	int fd = open(name, O_WRONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int param_read(const char *name, char *buf, size_t cap)
{
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Get a report for rd and verify it; fills c.  0 if both succeed. */
static int quote(const uint8_t rd[64], struct katls_claims *c,
		 struct katls_tsm_report *r)
{
	struct katls_verify_opts o = { .expected_report_data = rd };
	struct katls_verdict v;
	int ret;

	ret = katls_tsm_get_report(NULL, rd, r);
	if (ret)
		return ret;
	katls_verdict_init(&v);
	return katls_verify_sim(r->outblob, r->outblob_len, &o, c, &v) ?
	       -EBADMSG : 0;
}

struct thr {
	uint8_t rd[64];
	int ret;
	double took;
};

static void *worker(void *arg)
{
	struct thr *t = arg;
	struct katls_tsm_report r;
	struct katls_claims c;
	double t0 = now();

	t->ret = quote(t->rd, &c, &r);
	t->took = now() - t0;
	katls_tsm_report_free(&r);
	return NULL;
}

/* configfs-tsm loaded, no provider: mkdir fails with ENXIO, no retry. */
static void unload_and_no_provider(void)
{
	struct katls_tsm_report r;
	uint8_t rd[64] = { 0 };
	double t0;
	int ret;

	ret = syscall(SYS_delete_module, "katls_sim_tsm", O_NONBLOCK);
	tap_ok(ret == 0 && access("/sys/module/katls_sim_tsm", F_OK) != 0,
	       "module unloads once no report entry exists (%d)",
	       ret ? -errno : 0);
	t0 = now();
	ret = katls_tsm_get_report(NULL, rd, &r);
	tap_ok(ret == -ENXIO && r.attempts == 1 && now() - t0 < 0.5,
	       "no provider -> -ENXIO at once (%d, %u attempts)", ret,
	       r.attempts);
}

int main(int argc, char **argv)
{
	static const char m2[] =
		"ffeeddccbbaa99887766554433221100ffeeddccbbaa9988"
		"7766554433221100ffeeddccbbaa99887766554433221100";
	uint8_t rd[64], htsc[32], nonce[32], spki[16] = "not a real spki";
	struct katls_tsm_report r;
	struct katls_claims c;
	struct katls_verdict v;
	struct katls_verify_opts o;
	char saved[128];
	pthread_t th[4];
	struct thr t[4];
	double t0;
	int i, ret, ok;

	tap_plan_lazy();
	/* Leave the parameters as found: other tests may share this guest. */
	if (!tap_ok(param_read(PARAM "measurement", saved, sizeof(saved)) == 0,
		    "module parameters readable"))
		return tap_done();
	if (getrandom(rd, sizeof(rd), 0) != sizeof(rd))
		return 1;

	ret = quote(rd, &c, &r);
	tap_ok(ret == 0, "report from configfs-tsm verifies (%d)", ret);
	tap_ok(!strcmp(r.provider, KATLS_SIM_PROVIDER) &&
	       r.type == KATLS_EVIDENCE_SIM && r.outblob_len == KATLS_SIM_LEN &&
	       r.auxblob_len == 0 && r.generation == 1 && r.attempts == 1,
	       "provider %s, %zu bytes, no auxblob, generation %llu",
	       r.provider, r.outblob_len, (unsigned long long)r.generation);
	ok = c.measurement_len == 48;
	for (i = 0; i < 48; i++) {
		unsigned int b;

		ok &= sscanf(saved + 2 * i, "%2x", &b) == 1 &&
		      c.measurement[i] == b;
	}
	tap_ok(ok && !c.debug, "measurement is the parameter (%.12s...), not debug",
	       saved);
	tap_ok(!memcmp(c.report_data, rd, 64), "report data is the inblob");
	katls_tsm_report_free(&r);

	/* The binder end to end: what katlsd's two roles compute. */
	for (i = 0; i < 32; i++) {
		htsc[i] = i;
		nonce[i] = 0xa0 + i;
	}
	katls_binder_v1(GNUTLS_MAC_SHA256, htsc, 32, nonce, spki, 16, rd);
	ret = katls_tsm_get_report(NULL, rd, &r);
	o = (struct katls_verify_opts){ .expected_report_data = rd };
	katls_verdict_init(&v);
	tap_ok(ret == 0 && katls_verify_sim(r.outblob, r.outblob_len, &o, &c,
					    &v) == 0,
	       "binder v1 as report data verifies");
	nonce[0] ^= 1;
	katls_binder_v1(GNUTLS_MAC_SHA256, htsc, 32, nonce, spki, 16, rd);
	katls_verdict_init(&v);
	tap_ok(ret == 0 && katls_verify_sim(r.outblob, r.outblob_len, &o, &c,
					    &v) == -1,
	       "evidence for another nonce is rejected");
	katls_tsm_report_free(&r);

	/* Parameters. */
	tap_ok(param_write(PARAM "measurement", m2) == 0,
	       "measurement parameter set");
	ret = quote(rd, &c, &r);
	tap_ok(ret == 0 && c.measurement[0] == 0xff && c.measurement[47] == 0,
	       "report carries the new measurement");
	katls_tsm_report_free(&r);
	tap_ok(param_write(PARAM "measurement", "0011") == -EINVAL &&
	       param_write(PARAM "measurement",
			   "zz" "eeddccbbaa99887766554433221100ffeeddccbbaa9988"
			   "7766554433221100ffeeddccbbaa99887766554433221100") ==
	       -EINVAL,
	       "short or non-hex measurement refused");
	ret = quote(rd, &c, &r);
	tap_ok(ret == 0 && c.measurement[0] == 0xff,
	       "refused writes left the measurement unchanged");
	katls_tsm_report_free(&r);

	tap_ok(param_write(PARAM "debug", "1") == 0, "debug parameter set");
	ret = quote(rd, &c, &r);
	tap_ok(ret == 0 && c.debug && c.sim.flags == KATLS_SIM_FLAG_DEBUG,
	       "report carries the debug flag");
	katls_tsm_report_free(&r);
	param_write(PARAM "debug", "0");

	/* Slow quotes: 300 ms each; concurrent callers all succeed. */
	tap_ok(param_write(PARAM "delay_ms", "300") == 0,
	       "delay_ms parameter set");
	t0 = now();
	ret = quote(rd, &c, &r);
	t0 = now() - t0;
	tap_ok(ret == 0 && t0 >= 0.3, "slow quote took %.3f s", t0);
	katls_tsm_report_free(&r);
	for (i = 0; i < 4; i++) {
		if (getrandom(t[i].rd, 64, 0) != 64)
			memset(t[i].rd, i, 64);
		pthread_create(&th[i], NULL, worker, &t[i]);
	}
	ok = 1;
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok &= t[i].ret == 0;
		tap_diag("worker %d: %d in %.3f s", i, t[i].ret, t[i].took);
	}
	tap_ok(ok, "4 concurrent slow quotes, each on its own entry, verify");
	param_write(PARAM "delay_ms", "0");
	tap_ok(param_write(PARAM "measurement", saved) == 0,
	       "measurement parameter restored");
	if (argc == 2 && !strcmp(argv[1], "--unload"))
		unload_and_no_provider();
	return tap_done();
}
