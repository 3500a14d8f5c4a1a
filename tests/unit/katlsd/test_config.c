// SPDX-License-Identifier: GPL-2.0
/*
 * test_config.c - katlsd.conf parser: a good file, each kind of bad file
 * with its FILE:LINE, and "an error changes nothing".
 *
 * Usage: test_config DIR   (DIR = tests/unit/katlsd/conf)
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
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
	{ "bad-policy-name.conf", 2, "policy names" },
	{ "bad-empty.conf", 2, "empty value" },
};

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
	tap_ok(katlsd_config_evidence_bound_key(&c, "sim-demo") &&
	       katlsd_config_evidence_bound_key(&c, "tdx.prod") &&
	       katlsd_config_evidence_bound_key(&c, "snp_1") &&
	       !katlsd_config_evidence_bound_key(&c, "sim") &&
	       !katlsd_config_evidence_bound_key(&c, "sim-demo2"),
	       "evidence_bound_key list: exact names only");

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

	katlsd_config_free(&c);
	tap_ok(!c.truststore && c.concurrency == KATLSD_DEFAULT_CONCURRENCY,
	       "free resets to defaults");
	return tap_done();
}
