// SPDX-License-Identifier: GPL-2.0
/*
 * test_config.c - katlsd.conf parser: a good file, each kind of bad file
 * with its FILE:LINE, and "an error changes nothing".
 *
 * Usage: test_config DIR   (DIR = tests/unit/katlsd/conf)
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "qbroker.h"
#include "tap.h"

static const struct {
	const char *file;
	int line;			/* 0: no line number */
	const char *needle;
} bad[] = {
	{ "bad-concurrency-zero.conf", 2, "integer in 1..4096" },
	{ "bad-concurrency-text.conf", 3, "integer" },
	{ "bad-level.conf", 2, "expected error, warning" },
	{ "bad-unknown-key.conf", 3, "unknown key \"concurency\"" },
	{ "bad-unknown-section.conf", 1, "unknown section [sever]" },
	{ "bad-no-section.conf", 1, "outside a section" },
	{ "bad-duplicate.conf", 3, "duplicate key" },
	{ "bad-section-syntax.conf", 1, "malformed section" },
	{ "bad-no-equals.conf", 2, "key = value" },
	{ "bad-cert-without-key.conf", 0, "go together" },
	/* issue 11 item 6: the trust decision lives in the policy file */
	{ "bad-evidence-bound-key.conf", 2,
	  "evidence_bound_key moved to the policy files: write \"evidence_bound_key allow\"" },
	{ "bad-empty.conf", 2, "empty value" },
	/* issue 13 item 2: the quote broker's batch cap */
	{ "bad-max-batch-zero.conf", 2, "integer in 1..4096" },
	{ "bad-max-batch-big.conf", 2, "integer in 1..4096" },
};

/*
 * issue 11 item 2: katlsd -t (katlsd_state_load) fails on a configured
 * path that does not exist or is of the wrong kind.
 */
static void test_paths(void)
{
	char dir[] = "/tmp/katls-conf.XXXXXX", conf[600], file[600], err[1024];
	static const struct {
		const char *section, *key;
		bool dir;
	} keys[] = {
		{ "katlsd", "policy_dir", true },
		{ "server", "tsm_root", true },
		{ "verify", "roots_dir", true },
		{ "verify", "certs_dir", true },
		{ "verify", "collateral_dir", true },
		{ "verify", "cpak_file", false },
	};
	struct katlsd_config c;
	FILE *f;

	if (!tap_ok(mkdtemp(dir) != NULL, "temp directory for path checks"))
		return;
	snprintf(conf, sizeof(conf), "%s/k.conf", dir);
	snprintf(file, sizeof(file), "%s/cpak.pem", dir);
	f = fopen(file, "w");
	if (f)
		fclose(f);
	for (int which = -1; which < (int)(sizeof(keys) / sizeof(keys[0])); which++) {
		int ret;

		f = fopen(conf, "w");
		if (!f)
			break;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			const char *val = keys[i].dir ? dir : file;

			fprintf(f, "[%s]\n%s = %s%s\n", keys[i].section,
				keys[i].key, val,
				(int)i == which ? "-missing" : "");
		}
		fclose(f);
		katlsd_config_init(&c);
		ret = katlsd_config_load(&c, conf, err, sizeof(err));
		if (ret == 0)
			ret = katlsd_config_check_paths(&c, err, sizeof(err));
		if (which < 0)
			tap_ok(ret == 0, "every configured path exists: accepted (%s)",
			       ret ? err : "ok");
		else
			tap_ok(ret == -1 && strstr(err, keys[which].key) &&
			       strstr(err, "-missing") &&
			       strstr(err, "No such file"),
			       "missing %s refused (%s)", keys[which].key, err);
		katlsd_config_free(&c);
	}
	/* A file where a directory belongs, and the other way round. */
	f = fopen(conf, "w");
	if (f) {
		fprintf(f, "[katlsd]\npolicy_dir = %s\n[verify]\nroots_dir = %s\n",
			dir, file);
		fclose(f);
	}
	katlsd_config_init(&c);
	tap_ok(katlsd_config_load(&c, conf, err, sizeof(err)) == 0 &&
	       katlsd_config_check_paths(&c, err, sizeof(err)) == -1 &&
	       strstr(err, "Not a directory"), "roots_dir naming a file refused (%s)", err);
	katlsd_config_free(&c);
	f = fopen(conf, "w");
	if (f) {
		fprintf(f, "[katlsd]\npolicy_dir = %s\n[verify]\ncpak_file = %s\n",
			dir, dir);
		fclose(f);
	}
	katlsd_config_init(&c);
	tap_ok(katlsd_config_load(&c, conf, err, sizeof(err)) == 0 &&
	       katlsd_config_check_paths(&c, err, sizeof(err)) == -1 &&
	       strstr(err, "Is a directory"), "cpak_file naming a directory refused (%s)", err);
	katlsd_config_free(&c);
	unlink(conf);
	unlink(file);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	struct katlsd_config c;
	char path[512], err[1024], want[600];
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CONFDIR\n", argv[0]);
		return 2;
	}
	tap_plan_lazy();

	katlsd_config_init(&c);
	tap_ok(c.concurrency == KATLSD_DEFAULT_CONCURRENCY &&
	       c.log_level == LOG_INFO && !c.policy_dir,
	       "defaults before loading");
	tap_ok(c.max_batch == KATLSD_DEFAULT_MAX_BATCH && c.max_batch == 64,
	       "[evidence] max_batch defaults to 64");

	snprintf(path, sizeof(path), "%s/good.conf", argv[1]);
	ret = katlsd_config_load(&c, path, err, sizeof(err));
	tap_ok(ret == 0, "good.conf loads (%s)", ret ? err : "ok");
	tap_ok(c.concurrency == 8, "concurrency = 8");
	tap_ok(c.log_level == LOG_DEBUG, "log_level = debug");
	tap_ok(c.policy_dir && !strcmp(c.policy_dir, "/etc/katls/policy.d"),
	       "policy_dir");
	tap_ok(c.certificate && !strcmp(c.certificate, "/etc/katls/server.pem") &&
	       c.private_key && !strcmp(c.private_key, "/etc/katls/server.key"),
	       "certificate and private_key");
	tap_ok(c.truststore && !strcmp(c.truststore, "system"), "truststore");
	tap_ok(c.roots_dir && !strcmp(c.roots_dir, "/etc/katls/roots") &&
	       !c.certs_dir, "roots_dir set, certs_dir unset");
	tap_ok(c.max_batch == 16, "[evidence] max_batch = 16");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[1], bad[i].file);
		err[0] = '\0';
		ret = katlsd_config_load(&c, path, err, sizeof(err));
		if (bad[i].line)
			snprintf(want, sizeof(want), "%s:%d: ", path,
				 bad[i].line);
		else
			snprintf(want, sizeof(want), "%s: ", path);
		tap_ok(ret == -1 && !strncmp(err, want, strlen(want)) &&
		       strstr(err, bad[i].needle),
		       "%s rejected at the right line (%s)", bad[i].file, err);
		/* The previous good configuration is untouched. */
		tap_ok(c.concurrency == 8 && c.truststore &&
		       !strcmp(c.truststore, "system"),
		       "%s: previous configuration kept", bad[i].file);
	}

	snprintf(path, sizeof(path), "%s/does-not-exist.conf", argv[1]);
	ret = katlsd_config_load(&c, path, err, sizeof(err));
	tap_ok(ret == -1 && strstr(err, "No such file"),
	       "missing file reported (%s)", err);

	test_paths();

	katlsd_config_free(&c);
	tap_ok(!c.truststore && c.concurrency == KATLSD_DEFAULT_CONCURRENCY,
	       "free resets to defaults");
	return tap_done();
}
