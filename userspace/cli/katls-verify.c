// SPDX-License-Identifier: GPL-2.0
/*
 * katls-verify - offline verification of TEE evidence.
 *
 *   katls-verify [--type tdx|snp|cca|auto] [--aux FILE] [--certs DIR]
 *                [--collateral DIR] [--policy FILE] [--report-data HEX]
 *                [--at TIME] [--json] [--roots DIR] [--cpak FILE]
 *                EVIDENCE-FILE
 *
 * Exit status: 0 valid (and the policy, if given, satisfied), 1 invalid,
 * 2 usage or I/O error (a missing file or directory named by an option
 * included).  katls-verify(1) and Documentation/verification.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <katls/verify.h>

#define MAX_INPUT	(1u << 20)

static const char *prog = "katls-verify";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--type tdx|snp|cca|auto] [--aux FILE] [--certs DIR]\n"
		"       [--collateral DIR] [--policy FILE] [--report-data HEX]\n"
		"       [--at TIME] [--json] [--roots DIR] [--cpak FILE] EVIDENCE-FILE\n"
		"\n"
		"  --type T          evidence type (default: auto, detect from the bytes)\n"
		"  --aux FILE        configfs-tsm auxblob (SEV-SNP certificate table)\n"
		"  --certs DIR       extra certificates (VCEK, VLEK, ASK, ASVK)\n"
		"  --collateral DIR  CRLs and TCB collateral\n"
		"  --policy FILE     evaluate a policy after verification\n"
		"  --report-data HEX expected report data (up to 64 bytes, zero-padded)\n"
		"  --at TIME         RFC 3339 time for certificate validity (default: now)\n"
		"  --json            one JSON object instead of text\n"
		"  --roots DIR       pinned roots instead of the built-in ones\n"
		"  --cpak FILE       Arm CCA platform key (PEM, DER or EC JWK)\n"
		"\n"
		"exit status: 0 valid, 1 invalid, 2 usage or I/O error\n",
		prog);
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	uint8_t *b;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uintmax_t)st.st_size > MAX_INPUT) {
		fprintf(stderr, "%s: %s: not a regular file of 1..%u bytes\n",
			prog, path, MAX_INPUT);
		close(fd);
		return -1;
	}
	b = malloc((size_t)st.st_size);
	if (!b) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "%s: %s: read error\n", prog, path);
			free(b);
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = got;
	return 0;
}

/* An option naming a directory or a file: exit 2 now, not "invalid" later. */
static int check_path(const char *opt, const char *path, bool dir)
{
	struct stat st;

	if (!path)
		return 0;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: %s %s: %s\n", prog, opt, path, strerror(errno));
		return -1;
	}
	if (dir && !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: %s %s: not a directory\n", prog, opt, path);
		return -1;
	}
	if (!dir && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: %s %s: not a regular file\n", prog, opt, path);
		return -1;
	}
	return 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Up to 64 bytes of hex, zero-padded on the right. */
static int parse_report_data(const char *s, uint8_t out[64])
{
	size_t n = strlen(s), i;

	if (n == 0 || n % 2 || n > 128)
		return -1;
	memset(out, 0, 64);
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n--) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

/* RFC 3339: YYYY-MM-DD[Tt ]hh:mm:ss[.frac](Z|z|+hh:mm|-hh:mm). */
static int parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p = s;
	time_t t;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d)
		return -1;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int cp, n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/*
 * A JSON string: UTF-8 (file names, for one) passes through; control
 * characters are escaped; a byte that is not valid UTF-8 (a line cut by
 * the verdict's length limit, a Latin-1 name) becomes U+FFFD.
 */
static void json_str(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	putchar('"');
	while (*s) {
		size_t n = utf8_len(s);

		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if (*s < 0x20 || *s == 0x7f)
			printf("\\u%04x", *s);
		else if (n == 0)
			printf("\\ufffd");
		else
			fwrite(s, 1, n, stdout);
		s += n ? n : 1;
	}
	putchar('"');
}

static void hex(const uint8_t *p, size_t n)
{
	while (n--)
		printf("%02x", *p++);
}

static void json_hex(const char *key, const uint8_t *p, size_t n, bool comma)
{
	printf("\"%s\":\"", key);
	hex(p, n);
	printf("\"%s", comma ? "," : "");
}

static void json_lines(const char *key, char (*l)[KATLS_VERDICT_LINE],
		       unsigned int n)
{
	unsigned int i;

	printf("\"%s\":[", key);
	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		json_str(l[i]);
	}
	putchar(']');
}

static const char *snp_product(uint8_t p)
{
	static const char *const names[] = { "unknown", "milan", "genoa", "turin" };

	return p < 4 ? names[p] : "unknown";
}

static void print_json(const struct katls_claims *c,
		       const struct katls_verdict *v, bool ok,
		       const char *policy)
{
	printf("{\"verdict\":\"%s\",\"tee\":", ok ? "valid" : "invalid");
	json_str(c->tee ? katls_evidence_name(c->tee) : "unknown");
	printf(",\"version\":%u,", c->version);
	json_hex("measurement", c->measurement, c->measurement_len, true);
	json_hex("report_data", c->report_data, sizeof(c->report_data), true);
	printf("\"debug\":%s,", c->debug ? "true" : "false");
	json_hex("evidence_digest", c->evidence_digest, 32, true);
	printf("\"tcb_status\":");
	json_str(c->tcb_status);
	printf(",\"policy\":");
	if (policy)
		json_str(policy);
	else
		printf("null");
	putchar(',');
	if (c->tee == KATLS_EVIDENCE_TDX) {
		printf("\"tdx\":{");
		for (int i = 0; i < 4; i++) {
			char k[16];

			snprintf(k, sizeof(k), "rtmr%d", i);
			json_hex(k, c->tdx.rtmr[i], 48, true);
		}
		json_hex("mrconfigid", c->tdx.mrconfigid, 48, true);
		json_hex("mrowner", c->tdx.mrowner, 48, true);
		json_hex("mrownerconfig", c->tdx.mrownerconfig, 48, true);
		json_hex("mrseam", c->tdx.mrseam, 48, true);
		json_hex("mrsignerseam", c->tdx.mrsignerseam, 48, true);
		printf("\"td_attributes\":\"%016llx\",\"xfam\":\"%016llx\",",
		       (unsigned long long)c->tdx.td_attributes,
		       (unsigned long long)c->tdx.xfam);
		json_hex("tee_tcb_svn", c->tdx.tee_tcb_svn, 16, true);
		printf("\"body_type\":%u,\"seam_attributes\":\"%016llx\",",
		       c->tdx.body_type,
		       (unsigned long long)c->tdx.seam_attributes);
		if (c->tdx.body_type == 3) {	/* TDX 1.5 */
			json_hex("tee_tcb_svn2", c->tdx.tee_tcb_svn2, 16, true);
			json_hex("mrservicetd", c->tdx.mrservicetd, 48, true);
		} else {
			printf("\"tee_tcb_svn2\":null,\"mrservicetd\":null,");
		}
		printf("\"qe\":{");
		json_hex("mrsigner", c->tdx.qe_mrsigner, 32, true);
		printf("\"isvprodid\":%u,\"isvsvn\":%u},",
		       c->tdx.qe_isvprodid, c->tdx.qe_isvsvn);
		if (c->tdx.fmspc_valid)
			json_hex("fmspc", c->tdx.fmspc, 6, false);
		else
			printf("\"fmspc\":null");
		printf("},");
	} else if (c->tee == KATLS_EVIDENCE_SNP) {
		printf("\"snp\":{\"policy\":\"0x%llx\",\"vmpl\":%u,\"guest_svn\":%u,"
		       "\"signing_key\":\"%s\",\"product\":\"%s\",",
		       (unsigned long long)c->snp.policy, c->snp.vmpl,
		       c->snp.guest_svn, c->snp.signing_key ? "vlek" : "vcek",
		       snp_product(c->snp.product));
		printf("\"current_tcb\":\"%016llx\",\"reported_tcb\":\"%016llx\","
		       "\"committed_tcb\":\"%016llx\",\"launch_tcb\":\"%016llx\",",
		       (unsigned long long)c->snp.current_tcb,
		       (unsigned long long)c->snp.reported_tcb,
		       (unsigned long long)c->snp.committed_tcb,
		       (unsigned long long)c->snp.launch_tcb);
		json_hex("host_data", c->snp.host_data, 32, true);
		json_hex("id_key_digest", c->snp.id_key_digest, 48, true);
		json_hex("author_key_digest", c->snp.author_key_digest, 48, true);
		json_hex("family_id", c->snp.family_id, 16, true);
		json_hex("image_id", c->snp.image_id, 16, true);
		json_hex("chip_id", c->snp.chip_id, 64, true);
		printf("\"platform_info\":\"0x%llx\",\"author_key_en\":%s,"
		       "\"mask_chip_key\":%s,",
		       (unsigned long long)c->snp.platform_info,
		       c->snp.author_key_en ? "true" : "false",
		       c->snp.mask_chip_key ? "true" : "false");
		json_hex("report_id", c->snp.report_id, 32, true);
		json_hex("report_id_ma", c->snp.report_id_ma, 32, true);
		if (c->version >= 3)
			printf("\"cpuid\":{\"family\":%u,\"model\":%u,\"stepping\":%u},",
			       c->snp.cpuid_fam, c->snp.cpuid_mod,
			       c->snp.cpuid_step);
		else
			printf("\"cpuid\":null,");
		printf("\"current_version\":\"%u.%u.%u\",\"committed_version\":\"%u.%u.%u\",",
		       c->snp.current_version[0], c->snp.current_version[1],
		       c->snp.current_version[2], c->snp.committed_version[0],
		       c->snp.committed_version[1], c->snp.committed_version[2]);
		if (c->version >= 5)
			printf("\"launch_mit_vector\":\"0x%llx\",\"current_mit_vector\":\"0x%llx\"",
			       (unsigned long long)c->snp.launch_mit_vector,
			       (unsigned long long)c->snp.current_mit_vector);
		else
			printf("\"launch_mit_vector\":null,\"current_mit_vector\":null");
		printf("},");
	} else if (c->tee == KATLS_EVIDENCE_CCA) {
		size_t rl = c->cca.rem_len <= 64 ? c->cca.rem_len : 64;
		size_t il = c->cca.platform_impl_id_len <= 64 ?
			    c->cca.platform_impl_id_len : 64;

		printf("\"cca\":{\"rem\":[");
		for (int i = 0; i < 4; i++) {
			printf("%s\"", i ? "," : "");
			hex(c->cca.rem[i], rl);
			putchar('"');
		}
		printf("],");
		json_hex("personalization", c->cca.personalization, 64, true);
		printf("\"hash_alg\":");
		json_str(c->cca.hash_alg);
		printf(",\"platform_profile\":");
		json_str(c->cca.platform_profile);
		putchar(',');
		json_hex("platform_impl_id", c->cca.platform_impl_id, il, true);
		json_hex("platform_instance_id", c->cca.platform_instance_id,
			 c->cca.platform_instance_id_len, true);
		printf("\"platform_hash_alg\":");
		json_str(c->cca.platform_hash_alg);
		printf(",\"verification_service\":");
		if (c->cca.verification_service[0])
			json_str(c->cca.verification_service);
		else
			printf("null");
		printf(",\"platform_sw_components\":%u,",
		       c->cca.platform_sw_components);
		json_hex("realm_pub_key", c->cca.realm_pub_key,
			 c->cca.realm_pub_key_len, true);
		printf("\"realm_pub_key_hash_alg\":");
		json_str(c->cca.realm_pub_key_hash_alg);
		printf(",\"platform_lifecycle\":%u},", c->cca.platform_lifecycle);
	}
	json_lines("checks", (char (*)[KATLS_VERDICT_LINE])v->checks, v->nchecks);
	putchar(',');
	json_lines("errors", (char (*)[KATLS_VERDICT_LINE])v->errors, v->nerrors);
	printf("}\n");
}

static void line_hex(const char *key, const uint8_t *p, size_t n)
{
	printf("%-18s ", key);
	hex(p, n);
	putchar('\n');
}

static void print_text(const struct katls_claims *c,
		       const struct katls_verdict *v, bool ok,
		       const char *policy)
{
	unsigned int i;

	printf("verdict:           %s\n", ok ? "valid" : "invalid");
	printf("tee:               %s\n",
	       c->tee ? katls_evidence_name(c->tee) : "unknown");
	printf("version:           %u\n", c->version);
	if (policy)
		printf("policy:            %s\n", policy);
	line_hex("measurement:", c->measurement, c->measurement_len);
	line_hex("report_data:", c->report_data, sizeof(c->report_data));
	printf("debug:             %s\n", c->debug ? "yes" : "no");
	printf("tcb_status:        %s\n", c->tcb_status[0] ? c->tcb_status : "unknown");
	line_hex("evidence_digest:", c->evidence_digest, 32);
	if (c->tee == KATLS_EVIDENCE_TDX) {
		for (int r = 0; r < 4; r++) {
			char k[16];

			snprintf(k, sizeof(k), "rtmr%d:", r);
			line_hex(k, c->tdx.rtmr[r], 48);
		}
		line_hex("mrconfigid:", c->tdx.mrconfigid, 48);
		line_hex("mrowner:", c->tdx.mrowner, 48);
		line_hex("mrownerconfig:", c->tdx.mrownerconfig, 48);
		line_hex("mrseam:", c->tdx.mrseam, 48);
		printf("td_attributes:     %016llx\nxfam:              %016llx\n",
		       (unsigned long long)c->tdx.td_attributes,
		       (unsigned long long)c->tdx.xfam);
		line_hex("tee_tcb_svn:", c->tdx.tee_tcb_svn, 16);
		if (c->tdx.body_type == 3) {
			line_hex("tee_tcb_svn2:", c->tdx.tee_tcb_svn2, 16);
			line_hex("mrservicetd:", c->tdx.mrservicetd, 48);
		}
		line_hex("qe_mrsigner:", c->tdx.qe_mrsigner, 32);
		printf("qe_isvprodid:      %u\nqe_isvsvn:         %u\n",
		       c->tdx.qe_isvprodid, c->tdx.qe_isvsvn);
		if (c->tdx.fmspc_valid)
			line_hex("fmspc:", c->tdx.fmspc, 6);
	} else if (c->tee == KATLS_EVIDENCE_SNP) {
		printf("guest_policy:      0x%llx\nvmpl:              %u\n"
		       "guest_svn:         %u\nsigning_key:       %s\n"
		       "product:           %s\n",
		       (unsigned long long)c->snp.policy, c->snp.vmpl,
		       c->snp.guest_svn, c->snp.signing_key ? "VLEK" : "VCEK",
		       snp_product(c->snp.product));
		printf("reported_tcb:      %016llx\ncurrent_tcb:       %016llx\n",
		       (unsigned long long)c->snp.reported_tcb,
		       (unsigned long long)c->snp.current_tcb);
		line_hex("host_data:", c->snp.host_data, 32);
		line_hex("id_key_digest:", c->snp.id_key_digest, 48);
		line_hex("author_key_digest:", c->snp.author_key_digest, 48);
		line_hex("chip_id:", c->snp.chip_id, 64);
		printf("platform_info:     0x%llx\n",
		       (unsigned long long)c->snp.platform_info);
		printf("firmware:          %u.%u.%u (committed %u.%u.%u)\n",
		       c->snp.current_version[0], c->snp.current_version[1],
		       c->snp.current_version[2], c->snp.committed_version[0],
		       c->snp.committed_version[1], c->snp.committed_version[2]);
	} else if (c->tee == KATLS_EVIDENCE_CCA) {
		size_t rl = c->cca.rem_len <= 64 ? c->cca.rem_len : 64;
		size_t il = c->cca.platform_impl_id_len <= 64 ?
			    c->cca.platform_impl_id_len : 64;

		printf("hash_alg:          %s\n", c->cca.hash_alg);
		for (int r = 0; r < 4; r++) {
			char k[16];

			snprintf(k, sizeof(k), "rem%d:", r);
			line_hex(k, c->cca.rem[r], rl);
		}
		line_hex("personalization:", c->cca.personalization, 64);
		line_hex("realm_pub_key:", c->cca.realm_pub_key,
			 c->cca.realm_pub_key_len);
		printf("platform_profile:  %s\n", c->cca.platform_profile);
		line_hex("platform_impl_id:", c->cca.platform_impl_id, il);
		line_hex("platform_instance:", c->cca.platform_instance_id,
			 c->cca.platform_instance_id_len);
		printf("platform_lifecycle: 0x%04x\n", c->cca.platform_lifecycle);
		printf("platform_sw_components: %u\n",
		       c->cca.platform_sw_components);
		if (c->cca.verification_service[0])
			printf("verification_service: %s\n",
			       c->cca.verification_service);
	}
	printf("checks:\n");
	for (i = 0; i < v->nchecks; i++)
		printf("  %s\n", v->checks[i]);
	printf("errors:\n");
	for (i = 0; i < v->nerrors; i++)
		printf("  %s\n", v->errors[i]);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "aux", required_argument, NULL, 'a' },
		{ "certs", required_argument, NULL, 'c' },
		{ "collateral", required_argument, NULL, 'C' },
		{ "policy", required_argument, NULL, 'p' },
		{ "report-data", required_argument, NULL, 'r' },
		{ "at", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "roots", required_argument, NULL, 'R' },
		{ "cpak", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum katls_evidence_type type = KATLS_EVIDENCE_NONE;
	struct katls_verify_opts o = { 0 };
	struct katls_policy *pol = NULL;
	struct katls_claims *c = NULL;
	struct katls_verdict *v = NULL;
	const char *policy_file = NULL;
	uint8_t rd[64], *ev = NULL, *aux = NULL;
	size_t evlen = 0, auxlen = 0;
	bool json = false, ok;
	char err[512];
	int opt, ret = 2;

	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (!strcmp(optarg, "tdx"))
				type = KATLS_EVIDENCE_TDX;
			else if (!strcmp(optarg, "snp"))
				type = KATLS_EVIDENCE_SNP;
			else if (!strcmp(optarg, "cca"))
				type = KATLS_EVIDENCE_CCA;
			else if (!strcmp(optarg, "auto"))
				type = KATLS_EVIDENCE_NONE;
			else {
				fprintf(stderr, "%s: --type: tdx, snp, cca or auto\n", prog);
				return 2;
			}
			break;
		case 'a':
			if (aux) {
				fprintf(stderr, "%s: --aux given twice\n", prog);
				goto out;
			}
			if (read_file(optarg, &aux, &auxlen) < 0)
				goto out;
			o.aux = aux;
			o.aux_len = auxlen;
			break;
		case 'c':
			o.certs_dir = optarg;
			break;
		case 'C':
			o.collateral_dir = optarg;
			break;
		case 'p':
			policy_file = optarg;
			break;
		case 'r':
			if (parse_report_data(optarg, rd) < 0) {
				fprintf(stderr, "%s: --report-data: 1 to 64 bytes of hex\n", prog);
				goto out;
			}
			o.expected_report_data = rd;
			break;
		case 'T':
			if (parse_rfc3339(optarg, &o.at) < 0 || o.at <= 0) {
				fprintf(stderr, "%s: --at: not an RFC 3339 time: %s\n",
					prog, optarg);
				goto out;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'R':
			o.roots_dir = optarg;
			break;
		case 'k':
			o.cpak_file = optarg;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		goto out;
	}
	if (check_path("--certs", o.certs_dir, true) < 0 ||
	    check_path("--collateral", o.collateral_dir, true) < 0 ||
	    check_path("--roots", o.roots_dir, true) < 0 ||
	    check_path("--cpak", o.cpak_file, false) < 0)
		goto out;
	if (read_file(argv[optind], &ev, &evlen) < 0)
		goto out;
	if (policy_file &&
	    katls_policy_load_file(policy_file, &pol, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto out;
	}

	c = calloc(1, sizeof(*c));
	v = calloc(1, sizeof(*v));
	if (!c || !v)
		goto out;
	ok = katls_verify_evidence(type, ev, evlen, &o, c, v) == 0;
	if (pol) {
		if (ok)
			ok = katls_policy_eval(pol, c, v) == 0;
		else
			katls_verdict_check(v, "not checked: policy \"%s\" (evidence invalid)",
					    katls_policy_name(pol));
	}
	if (json)
		print_json(c, v, ok, pol ? katls_policy_name(pol) : NULL);
	else
		print_text(c, v, ok, pol ? katls_policy_name(pol) : NULL);
	ret = ok ? 0 : 1;
	if (fflush(stdout) != 0)
		ret = 2;
out:
	katls_policy_free(pol);
	free(c);
	free(v);
	free(ev);
	free(aux);
	return ret;
}
