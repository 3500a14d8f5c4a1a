// SPDX-License-Identifier: GPL-2.0
/*
 * test-result.c - libkatls enum names, katls_format_result() and
 * katls_strerror().
 */
#include <errno.h>
#include <string.h>

#include <katls/katls.h>
#include "tap.h"

static void test_names(void)
{
	static const char *const states[] = {
		"idle", "pending", "accepted", "handover", "open", "failed",
		"expired",
	};
	static const char *const types[] = { "none", "tdx", "snp", "cca", "sim" };
	unsigned int i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		tap_ok(!strcmp(katls_state_name(i), states[i]),
		       "state %u is \"%s\" (got \"%s\")", i, states[i],
		       katls_state_name(i));
	tap_ok(!strcmp(katls_state_name(__KATLS_STATE_MAX), "unknown"),
	       "state past the last is \"unknown\"");
	tap_ok(!strcmp(katls_state_name(~0u), "unknown"),
	       "state ~0 is \"unknown\"");

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		tap_ok(!strcmp(katls_evidence_type_name(i), types[i]),
		       "evidence type %u is \"%s\"", i, types[i]);
	tap_ok(!strcmp(katls_evidence_type_name(__KATLS_EVIDENCE_MAX),
		       "unknown"), "evidence type past the last is \"unknown\"");

	tap_ok(!strcmp(katls_binding_level_name(KATLS_BINDING_L2), "L2") &&
	       !strcmp(katls_binding_level_name(KATLS_BINDING_NONE), "none") &&
	       !strcmp(katls_binding_level_name(99), "unknown"),
	       "binding level names");
	tap_ok(!strcmp(katls_role_name(KATLS_ROLE_CLIENT), "client") &&
	       !strcmp(katls_role_name(KATLS_ROLE_SERVER), "server") &&
	       !strcmp(katls_role_name(3), "unknown"), "role names");
}

static void open_result(struct katls_result *r)
{
	static const unsigned char m[] = { 0xde, 0xad, 0xbe, 0xef };

	memset(r, 0, sizeof(*r));
	r->state = KATLS_STATE_OPEN;
	r->evidence_type = KATLS_EVIDENCE_SIM;
	r->binding_level = KATLS_BINDING_L2;
	r->measurement_len = sizeof(m);
	memcpy(r->measurement, m, sizeof(m));
	for (int i = 0; i < KATLS_DIGEST_LEN; i++)
		r->evidence_digest[i] = (unsigned char)i;
	strcpy(r->policy, "sim-test");
}

#define DIGEST_HEX "000102030405060708090a0b0c0d0e0f" \
		   "101112131415161718191a1b1c1d1e1f"

static void test_format(void)
{
	const char *want = "state=open evidence=sim binding=L2 "
			   "measurement=deadbeef digest=" DIGEST_HEX
			   " policy=sim-test";
	char buf[KATLS_RESULT_STR_MAX], small[16];
	struct katls_result r;
	int n;

	open_result(&r);
	n = katls_format_result(&r, buf, sizeof(buf));
	tap_ok(n == (int)strlen(want) && !strcmp(buf, want),
	       "open result summary: \"%s\"", buf);

	memset(small, 'x', sizeof(small));
	n = katls_format_result(&r, small, sizeof(small));
	tap_ok(n == (int)strlen(want), "truncated: returns the full length %d",
	       n);
	tap_ok(small[sizeof(small) - 1] == '\0' &&
	       !strncmp(small, want, sizeof(small) - 1),
	       "truncated: NUL-terminated prefix \"%s\"", small);

	n = katls_format_result(&r, NULL, 0);
	tap_ok(n == (int)strlen(want), "NULL buffer of length 0 sizes it");

	errno = 0;
	tap_ok(katls_format_result(NULL, buf, sizeof(buf)) == -1 &&
	       errno == EINVAL, "NULL result: EINVAL");
	errno = 0;
	tap_ok(katls_format_result(&r, NULL, 10) == -1 && errno == EINVAL,
	       "NULL buffer with a length: EINVAL");

	/* A measurement length beyond the field is clamped, not overread. */
	r.measurement_len = 1000;
	memset(r.measurement, 0xab, sizeof(r.measurement));
	n = katls_format_result(&r, buf, sizeof(buf));
	{
		const char *m = strstr(buf, "measurement=");
		const char *end = m ? strchr(m, ' ') : NULL;

		tap_ok(n > 0 && m && end &&
		       end - m == (long)strlen("measurement=") +
				  2 * KATLS_MEASUREMENT_MAX,
		       "oversized measurement_len clamped to %d bytes",
		       KATLS_MEASUREMENT_MAX);
	}
	/* Full-size fields still fit in KATLS_RESULT_STR_MAX. */
	memset(r.policy, 'p', sizeof(r.policy) - 1);
	r.policy[sizeof(r.policy) - 1] = '\0';
	r.state = KATLS_STATE_FAILED;
	r.status = EKEYREJECTED;
	n = katls_format_result(&r, buf, sizeof(buf));
	tap_ok(n > 0 && n < KATLS_RESULT_STR_MAX,
	       "largest summary (%d) fits KATLS_RESULT_STR_MAX", n);

	/* issue 14 item 3: with the client's evidence, full size, it fits */
	r.client_evidence_type = KATLS_EVIDENCE_SIM;
	r.client_binding_level = KATLS_BINDING_L3;
	r.client_measurement_len = 1000;
	memset(r.client_measurement, 0xcd, sizeof(r.client_measurement));
	memset(r.client_policy, 'c', sizeof(r.client_policy) - 1);
	n = katls_format_result(&r, buf, sizeof(buf));
	tap_ok(n > 0 && n < KATLS_RESULT_STR_MAX &&
	       strstr(buf, " client_evidence=sim client_binding=L3 client_measurement=cdcd") &&
	       strstr(buf, " client_policy=ccc"),
	       "largest summary with the client's evidence (%d) fits KATLS_RESULT_STR_MAX",
	       n);
	r.client_evidence_type = KATLS_EVIDENCE_NONE;

	/* Unterminated policy from a broken kernel: bounded, no overread. */
	memset(r.policy, 'q', sizeof(r.policy));
	n = katls_format_result(&r, buf, sizeof(buf));
	tap_ok(n > 0 && strstr(buf, "policy=") &&
	       strlen(strstr(buf, "policy=")) == 7 + KATLS_POLICY_MAX,
	       "unterminated policy printed up to KATLS_POLICY_MAX");

	/* Non-printable bytes in the policy do not reach the output. */
	strcpy(r.policy, "a\nb\x1b");
	katls_format_result(&r, buf, sizeof(buf));
	tap_ok(strstr(buf, "policy=a?b?") && !strchr(buf, '\n'),
	       "control characters in the policy are masked");

	memset(&r, 0, sizeof(r));
	r.state = KATLS_STATE_FAILED;
	r.status = EKEYREJECTED;
	n = katls_format_result(&r, buf, sizeof(buf));
	tap_ok(n > 0 && !strncmp(buf, "state=failed status=EKEYREJECTED (", 34)
	       && !strstr(buf, "digest="),
	       "failed result without evidence: \"%s\"", buf);

	memset(&r, 0, sizeof(r));
	r.state = KATLS_STATE_PENDING;
	katls_format_result(&r, buf, sizeof(buf));
	tap_ok(!strcmp(buf, "state=pending"), "pending result: \"%s\"", buf);

	memset(&r, 0, sizeof(r));
	r.state = KATLS_STATE_FAILED;
	r.status = 99999;
	katls_format_result(&r, buf, sizeof(buf));
	tap_ok(!strcmp(buf, "state=failed status=99999"),
	       "unknown status printed as a number: \"%s\"", buf);

	open_result(&r);
	r.measurement_len = 0;
	r.policy[0] = '\0';
	katls_format_result(&r, buf, sizeof(buf));
	tap_ok(strstr(buf, " measurement=- ") && strstr(buf, " policy=-"),
	       "empty measurement and policy shown as '-'");
}

static void test_strerror(void)
{
	tap_ok(strstr(katls_strerror(ESRCH), "katlsd") != NULL,
	       "ESRCH names the agent");
	tap_ok(strstr(katls_strerror(ENOPROTOOPT), "module") != NULL,
	       "ENOPROTOOPT names the kernel module");
	tap_ok(strstr(katls_strerror(EKEYREJECTED), "bound") != NULL,
	       "EKEYREJECTED: evidence not bound to this handshake");
	tap_ok(strstr(katls_strerror(EACCES), "policy") != NULL,
	       "EACCES: rejected by the policy");
	tap_ok(!strcmp(katls_strerror(ENOMEM), strerror(ENOMEM)),
	       "other errno: strerror text");
	tap_ok(katls_strerror(-5) != NULL && katls_strerror(100000) != NULL,
	       "out-of-range errno: not NULL");
}

int main(void)
{
	tap_plan_lazy();
	test_names();
	test_format();
	test_strerror();
	return tap_done();
}
