// SPDX-License-Identifier: GPL-2.0
/*
 * test_handshake.c - katlsd's handshake code, client against server, over
 * a socketpair on the host: the real GnuTLS sessions, the real katls
 * extension codec, the real binder, the real policies.
 *
 * What cannot be real on a host without a TEE is the evidence.  Nothing
 * here makes evidence the production verifier would accept:
 *
 *  - the fail-closed cases use a real SEV-SNP report from the shared
 *    samples (its report data belongs to another "handshake") or test
 *    bytes, and the production verifier (katls_verify_evidence) decides;
 *  - the positive cases, which show that both ends derive the same binder
 *    and the same kTLS keys, replace katls_verify_evidence() only, through
 *    the params' ops (struct katlsd_hs_ops, verify_evidence), which only
 *    tests set (the Makefile's ops-check fails if a daemon source does).
 *    test_verify() accepts test bytes "KATLSD-TEST-EVIDENCE" ||
 *    report_data || measurement only if report_data equals what the
 *    client expects.
 *
 * The positive path with real configfs-tsm evidence (the simulated TSM
 * provider) runs in the VM tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
#include <linux/capability.h>
#include <katls/merkle.h>
#include <katls/verify.h>

#include "handshake.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"
#include "tap.h"

#define MAGIC		"KATLSD-TEST-EVIDENCE"
#define MAGIC_LEN	(sizeof(MAGIC) - 1)
#define MEAS_LEN	48
#define TEST_EV_LEN	(MAGIC_LEN + 64 + MEAS_LEN)
#define SNP_SAMPLE	KATLS_EVIDENCE_DIR "/sev-snp/gsev_milan_v2_report.bin"

static gnutls_x509_crt_t crt;
static gnutls_x509_privkey_t key;
static gnutls_certificate_credentials_t srv_creds, cli_trust, cli_notrust;
static struct katls_policy_set *policies;
static char policy_dir[] = "/tmp/katlsd-test-XXXXXX";

/* ---- server-side evidence sources (test only) ---- */

enum src_mode {
	SRC_EMBED,		/* test bytes around the real report data */
	SRC_EMBED_WRONG,	/* same, report data of another handshake */
	SRC_EMBED_TDX,		/* test bytes labelled as TDX */
	SRC_SNP_FILE,		/* a real SEV-SNP report from the samples */
	SRC_NODEV,		/* no TEE provider */
	/*
	 * Binder v1 batch mode: our binder is leaf 3 of a batch of 5 whose
	 * batch report data the test bytes carry, with ...
	 */
	SRC_BATCH,		/* ... its proof */
	SRC_BATCH_OTHER_LEAF,	/* ... leaf 2's proof (replayed) */
	SRC_BATCH_WRONG_SIZE,	/* ... its path, tree size 6 */
	SRC_BATCH_SHORT_PATH,	/* ... its path less one hash */
	SRC_BATCH_ROOT_AS_SINGLE, /* ... a single-binder proof */
	SRC_BATCH_SINGLE_AS_BATCH, /* our binder as report data, batch proof */
	SRC_EMBED_WRONG_SECOND,	/* binding both: the second (post) is wrong */
};

static int src_calls;	/* evidence requests in this server process */

/* Report data and proof of the SRC_BATCH* modes; 0 or -errno. */
static int test_batch(enum src_mode mode, const uint8_t binder[64],
		      uint8_t rd[64], struct katls_merkle_proof *p)
{
	uint8_t leaves[5][64];
	struct katls_merkle_tree *t = NULL;
	int i, ret;

	for (i = 0; i < 5; i++)
		memset(leaves[i], 0x30 + i, 64);	/* other handshakes */
	memcpy(leaves[3], binder, 64);
	ret = katls_merkle_tree_build(leaves, 5, &t);
	if (!ret)
		ret = katls_merkle_tree_report_data(t, rd);
	if (!ret)
		ret = katls_merkle_tree_proof(t,
					      mode == SRC_BATCH_OTHER_LEAF ? 2 : 3,
					      p);
	katls_merkle_tree_free(t);
	if (ret)
		return -EIO;
	if (mode == SRC_BATCH_WRONG_SIZE)
		p->tree_size = 6;	/* leaf 3 of 6 has 3 hashes too */
	if (mode == SRC_BATCH_SHORT_PATH)
		p->path_len--;
	if (mode == SRC_BATCH_ROOT_AS_SINGLE)
		katls_merkle_proof_single(p);
	if (mode == SRC_BATCH_SINGLE_AS_BATCH)
		memcpy(rd, binder, 64);
	return 0;
}

static int test_get(void *arg, const uint8_t rd[64], struct katlsd_evidence *ev)
{
	enum src_mode mode = *(enum src_mode *)arg;

	memset(ev, 0, sizeof(*ev));
	if (mode == SRC_NODEV)
		return -ENODEV;
	if (mode == SRC_SNP_FILE) {
		FILE *f = fopen(SNP_SAMPLE, "rb");
		long n;

		if (!f)
			return -EIO;
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		ev->evidence = malloc(n);
		if (!ev->evidence || fread(ev->evidence, 1, n, f) != (size_t)n) {
			fclose(f);
			free(ev->evidence);
			ev->evidence = NULL;
			return -EIO;
		}
		fclose(f);
		ev->evidence_len = n;
		ev->type = KATLS_EVIDENCE_SNP;
		strcpy(ev->provider, "sample");
		return 0;
	}
	ev->evidence = malloc(TEST_EV_LEN);
	if (!ev->evidence)
		return -ENOMEM;
	memcpy(ev->evidence, MAGIC, MAGIC_LEN);
	memcpy(ev->evidence + MAGIC_LEN, rd, 64);
	if (mode >= SRC_BATCH && mode != SRC_EMBED_WRONG_SECOND &&
	    test_batch(mode, rd, ev->evidence + MAGIC_LEN, &ev->proof)) {
		katlsd_evidence_free(ev);
		return -EIO;
	}
	if (mode == SRC_EMBED_WRONG ||
	    (mode == SRC_EMBED_WRONG_SECOND && ++src_calls == 2))
		ev->evidence[MAGIC_LEN] ^= 0x01;
	memset(ev->evidence + MAGIC_LEN + 64, 0x4d, MEAS_LEN);
	ev->evidence_len = TEST_EV_LEN;
	ev->type = mode == SRC_EMBED_TDX ? KATLS_EVIDENCE_TDX : KATLS_EVIDENCE_SIM;
	strcpy(ev->provider, "test");
	return 0;
}

/* Stands in for katls_verify_evidence() on test bytes only. */
static int test_verify(enum katls_evidence_type type, const uint8_t *ev,
		       size_t len, const struct katls_verify_opts *o,
		       struct katls_claims *c, struct katls_verdict *v)
{
	if (len != TEST_EV_LEN || memcmp(ev, MAGIC, MAGIC_LEN)) {
		katls_verdict_error(v, "not test evidence");
		return -1;
	}
	c->tee = type;
	memcpy(c->report_data, ev + MAGIC_LEN, 64);
	memcpy(c->measurement, ev + MAGIC_LEN + 64, MEAS_LEN);
	c->measurement_len = MEAS_LEN;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, ev, len, c->evidence_digest);
	if (!o->expected_report_data ||
	    memcmp(o->expected_report_data, c->report_data, 64)) {
		katls_verdict_error(v, "report data mismatch");
		return -1;
	}
	katls_verdict_check(v, "test evidence, report data matches");
	return 0;
}

/* ---- fixtures ---- */

static int make_cert(void)
{
	time_t now = time(NULL);
	unsigned char serial[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	if (gnutls_x509_privkey_init(&key) ||
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) ||
	    gnutls_x509_crt_init(&crt) ||
	    gnutls_x509_crt_set_version(crt, 3) ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) ||
	    gnutls_x509_crt_set_activation_time(crt, now - 3600) ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 86400) ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  "katls-test", 10) ||
	    gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
						 "katls-test", 10,
						 GNUTLS_FSAN_SET) ||
	    gnutls_x509_crt_set_basic_constraints(crt, 1, -1) ||
	    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
					  GNUTLS_KEY_KEY_CERT_SIGN) ||
	    gnutls_x509_crt_set_key(crt, key) ||
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0))
		return -1;
	if (gnutls_certificate_allocate_credentials(&srv_creds) ||
	    gnutls_certificate_set_x509_key(srv_creds, &crt, 1, key) ||
	    gnutls_certificate_allocate_credentials(&cli_trust) ||
	    gnutls_certificate_set_x509_trust(cli_trust, &crt, 1) != 1 ||
	    gnutls_certificate_allocate_credentials(&cli_notrust))
		return -1;
	return 0;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int make_policies(void)
{
	char good[256], other[256], tdx[256], snp[256], err[512];
	char post[256], both[256], opost[256];
	char mtl[320], mtlp[320], mno[320], ccli[256];

	/* Every policy pins a measurement (secure-default loaders). */
	strcpy(good, "name sim-test\nallow sim\nmeasurement ");
	strcpy(other, "name sim-other\nallow sim\nmeasurement ");
	strcpy(tdx, "name tdx-test\nallow tdx\nmeasurement ");
	strcpy(snp, "name snp-test\nallow snp\nmeasurement ");
	for (int i = 0; i < MEAS_LEN; i++) {
		strcat(good, "4d");
		strcat(other, "99");
		strcat(tdx, "4d");
		strcat(snp, "00");
	}
	strcat(good, "\n");
	/* issue 14: the same pins, post-handshake and both bindings */
	strcpy(post, good);
	strcat(post, "binding post\n");
	strcpy(both, good);
	strcat(both, "binding both\n");
	memcpy(post, "name sim-post", 13);
	memcpy(both, "name sim-both", 13);
	strcat(other, "\n");
	strcpy(opost, "name sim-opst");
	strcat(opost, other + strlen("name sim-other"));
	strcat(opost, "binding post\n");
	strcat(tdx, "\n");
	strcat(snp, "\n");
	/* issue 14 item 3: mutual attestation */
	strcpy(ccli, good);
	memcpy(ccli, "name sim-ccli", 13);
	strcpy(mtl, good);
	memcpy(mtl, "name sim-mtl0", 13);
	strcat(mtl, "require_client_evidence sim-ccli\nclient_attest allow\n");
	strcpy(mtlp, mtl);
	memcpy(mtlp, "name sim-mtlp", 13);
	strcat(mtlp, "binding post\n");
	strcpy(mno, good);
	memcpy(mno, "name sim-mno0", 13);
	strcat(mno, "require_client_evidence sim-other\n");
	if (!mkdtemp(policy_dir) ||
	    write_file(policy_dir, "sim-ccli.policy", ccli) ||
	    write_file(policy_dir, "sim-mtl0.policy", mtl) ||
	    write_file(policy_dir, "sim-mtlp.policy", mtlp) ||
	    write_file(policy_dir, "sim-mno0.policy", mno) ||
	    write_file(policy_dir, "sim-test.policy", good) ||
	    write_file(policy_dir, "sim-other.policy", other) ||
	    write_file(policy_dir, "tdx-test.policy", tdx) ||
	    write_file(policy_dir, "snp-test.policy", snp) ||
	    write_file(policy_dir, "sim-post.policy", post) ||
	    write_file(policy_dir, "sim-both.policy", both) ||
	    write_file(policy_dir, "sim-opst.policy", opost))
		return -1;
	if (katls_policy_load_dir(policy_dir, &policies, err, sizeof(err))) {
		tap_diag("policies: %s", err);
		return -1;
	}
	return 0;
}

static void remove_policies(void)
{
	static const char *const names[] = {
		"sim-test.policy", "sim-other.policy", "snp-test.policy",
		"tdx-test.policy", "sim-post.policy", "sim-both.policy",
		"sim-opst.policy", "sim-ccli.policy", "sim-mtl0.policy",
		"sim-mtlp.policy", "sim-mno0.policy",
	};
	char path[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", policy_dir, names[i]);
		unlink(path);
	}
	rmdir(policy_dir);
}

/* ---- running both ends ---- */

/* Where test_verify (ops->verify_evidence) replaces the verifier. */
#define HOOK_NONE	0
#define HOOK_BOTH	1		/* client verification, server summary */
#define HOOK_SERVER	2		/* server summary only */

struct scenario {
	const char *name;
	/* client */
	const char *policy;		/* NULL: none given */
	const char *srv_policy;		/* server's; NULL: same as policy */
	bool trust, bound_key;
	int hook;			/* HOOK_* */
	const char *peername;
	unsigned int timeout_ms;
	/* server */
	enum src_mode src;
	enum { PEER_KATLSD, PEER_PLAIN, PEER_SILENT } server, client;
	bool nonblock;			/* client socket O_NONBLOCK */
	bool no_server_cert;		/* server has no credentials */
	const char *cipher;		/* only this AEAD (both ends) */
	int cipher_type;		/* the TLS_CIPHER_* expected then */
	int plain_alert;		/* alert a PEER_PLAIN must receive */
	const char *srv_reason;		/* in the katlsd server's reason */
	const char *cli_reason;		/* in the katlsd client's reason */
	bool privsep;			/* server as monitor + sandbox */
	bool bytes_left;		/* server transport: bytes not taken */
	unsigned int level;		/* binding level expected; 0: L2 */
	/* issue 14 item 3: mutual attestation */
	enum src_mode cli_src;		/* the client's evidence source */
	bool mutual;			/* success: the client attested */
};

/* on_failure: how often, and with which status. */
static int fail_calls, fail_status;

/*
 * Stands in for the daemon's DONE: on a failure status the kernel
 * resets the connection at once.  Here the connection is shut down both
 * ways, so that anything the handshake code writes after reporting --
 * an alert sent too late -- never reaches the peer.
 */
static void on_failure(void *arg, const struct katlsd_hs_result *r)
{
	fail_calls++;
	fail_status = r->status;
	shutdown(*(int *)arg, SHUT_RDWR);
}

static void srv_on_failure(void *arg, const struct katlsd_hs_result *r)
{
	shutdown(*(int *)arg, SHUT_RDWR);
}

static void sandbox_checks(const struct katlsd_hs_params *p);

/* The test seams of one end of @sc (struct katlsd_hs_ops, handshake.h). */
static const struct katlsd_hs_ops *
scenario_ops(const struct scenario *sc, bool server, struct katlsd_hs_ops *ops)
{
	static char prio[160];

	memset(ops, 0, sizeof(*ops));
	if (sc->cipher) {
		snprintf(prio, sizeof(prio),
			 "NORMAL:-VERS-ALL:+VERS-TLS1.3:%%NO_TICKETS:-CIPHER-ALL:+%s",
			 sc->cipher);
		ops->priority = prio;
	}
	/* Both ends: the server parses its own evidence for the summary. */
	if (server ? sc->hook != HOOK_NONE : sc->hook == HOOK_BOTH)
		ops->verify_evidence = test_verify;
	if (server && sc->privsep)
		ops->sandbox_entered = sandbox_checks;
	return ops;
}

static void client_params(const struct scenario *sc, int fd,
			  struct katlsd_hs_params *p,
			  struct katlsd_hs_ops *ops)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->role = KATLS_ROLE_CLIENT;
	p->timeout_ms = sc->timeout_ms ? sc->timeout_ms : 5000;
	p->policy_name = sc->policy ? sc->policy : "no-such-policy";
	p->policy = sc->policy ? katls_policy_find(policies, sc->policy) : NULL;
	p->peername = sc->peername;
	p->client_creds = sc->trust ? cli_trust : cli_notrust;
	p->have_truststore = sc->trust;
	p->evidence_bound_key = sc->bound_key;
	p->on_failure = on_failure;
	p->on_failure_arg = &p->fd;
	p->ops = scenario_ops(sc, false, ops);
	/* issue 14 item 3: the client's own evidence, if a server asks */
	{
		static enum src_mode cmode;
		static struct katlsd_evidence_source csrc = { test_get, &cmode };

		cmode = sc->cli_src;
		p->evsrc = &csrc;
	}
	fail_calls = 0;
	fail_status = -1;
}

/*
 * A GnuTLS peer without katls: no extension either way.  Returns the
 * handshake's result; *alert is the fatal alert received, or -1.
 */
static int plain_peer(int fd, bool server, int *alert)
{
	gnutls_session_t s;
	int ret;

	*alert = -1;
	gnutls_init(&s, server ? GNUTLS_SERVER : GNUTLS_CLIENT);
	gnutls_priority_set_direct(s, KATLS_GNUTLS_PRIORITY, NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
			       server ? srv_creds : cli_notrust);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 5000);
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
		*alert = (int)gnutls_alert_get(s);
	gnutls_deinit(s);
	return ret;
}

/* ---- the server privilege-separated, as katlsd's worker runs it ---- */

static int sentinel_fd = -1;	/* an fd the sandbox must not keep */

/*
 * In the confined sandbox, before any peer input: no capability, not
 * root (when the test runs as root), the monitor's other descriptors
 * gone, no_new_privs, not dumpable, no core dumps, and the credentials
 * it signs with hold no private key of their own.  A failed check kills
 * the sandbox, so the handshake (and the scenario) fails.
 */
static void sandbox_checks(const struct katlsd_hs_params *p)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	gnutls_x509_privkey_t x;
	struct rlimit rl;

	if (syscall(SYS_capget, &h, d) || d[0].effective || d[0].permitted ||
	    d[1].effective || d[1].permitted || d[0].inheritable)
		_exit(40);
	if (getuid() == 0 || geteuid() == 0)
		_exit(41);
	if (fcntl(sentinel_fd, F_GETFD) != -1 || errno != EBADF)
		_exit(42);
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		_exit(43);
	if (getrlimit(RLIMIT_CORE, &rl) || rl.rlim_cur || rl.rlim_max)
		_exit(44);
	if (p->server_creds &&
	    gnutls_certificate_get_x509_key(p->server_creds, 0, &x) >= 0)
		_exit(45);
}

/* The result, then how many record-relay requests the monitor served. */
struct privsep_out {
	int fd;
	const struct katlsd_monitor *m;
};

static int privsep_done(void *arg, const struct katlsd_hs_result *r)
{
	const struct privsep_out *po = arg;
	uint32_t io = po->m->io_calls;

	return write(po->fd, r, sizeof(*r)) == sizeof(*r) &&
	       write(po->fd, &io, sizeof(io)) == sizeof(io) ? 0 : -EIO;
}

static void serve_privsep(struct katlsd_hs_params *p, int out)
{
	struct katlsd_monitor m = {
		.fd = p->fd, .timeout_ms = p->timeout_ms,
		.evsrc = p->evsrc, .server = true,
		.done = privsep_done,
		.binding = katls_policy_binding(p->policy),
	};
	struct privsep_out po = { out, &m };
	gnutls_certificate_credentials_t creds = p->server_creds;
	gnutls_pk_algorithm_t pk = GNUTLS_PK_UNKNOWN;
	struct katlsd_sandbox sb = { 0 };
	unsigned int bits = 0;
	int sp[2], status;
	pid_t pid;

	if (creds && (gnutls_privkey_init(&m.key) ||
		      gnutls_privkey_import_x509(m.key, key, 0)))
		_exit(2);
	if (m.key)
		pk = gnutls_privkey_get_pk_algorithm(m.key, &bits);
	m.done_arg = &po;
	if (katlsd_sandbox_user(&sb) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
		_exit(2);
	sb.parent = getpid();
	sentinel_fd = open("/dev/null", O_RDONLY);
	pid = fork();
	if (pid < 0)
		_exit(2);
	if (pid == 0) {
		close(sp[0]);
		katlsd_sandbox_main(p, &creds, sp[1], &sb, pk, bits);
	}
	close(sp[1]);
	close(sentinel_fd);
	katlsd_monitor_serve(&m, sp[0]);
	close(sp[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		tap_diag("sandbox ended with status 0x%x", status);
	if (m.key)
		gnutls_privkey_deinit(m.key);
}

/*
 * A server transport over the socket whose pending() always says that
 * one byte read from the socket was not taken by GnuTLS: what a
 * privilege-separated sandbox reports when it holds part of a record.
 */
static ssize_t fd_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	return send(*(int *)ptr, buf, len, MSG_NOSIGNAL);
}

static ssize_t fd_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	return recv(*(int *)ptr, buf, len, 0);
}

static int fd_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct pollfd pf = { .fd = *(int *)ptr, .events = POLLIN };

	return poll(&pf, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

static size_t one_left(gnutls_transport_ptr_t ptr)
{
	(void)ptr;
	return 1;
}

static void serve(const struct scenario *sc, int fd, int out)
{
	struct katlsd_transport left = {
		.push = fd_push, .pull = fd_pull,
		.pull_timeout = fd_pull_timeout, .pending = one_left,
	};
	struct katlsd_evidence_source src = { test_get, (void *)&sc->src };
	struct katlsd_hs_ops ops;
	struct katlsd_hs_params p;
	struct katlsd_hs_result r;

	if (sc->server == PEER_SILENT) {
		/* Hold the connection open and say nothing. */
		sleep(3);
		_exit(0);
	}
	if (sc->server == PEER_PLAIN) {
		int ret, alert;

		ret = plain_peer(fd, true, &alert);
		/* what the plain server saw: result and alert, to the parent */
		memset(&r, 0, sizeof(r));
		r.status = -ret;
		r.ev.binding_level = (unsigned int)alert;
		if (write(out, &r, sizeof(r)) != sizeof(r))
			_exit(2);
		_exit(0);
	}
	memset(&p, 0, sizeof(p));
	p.fd = fd;
	p.role = KATLS_ROLE_SERVER;
	p.timeout_ms = 5000;
	p.policy_name = sc->srv_policy ? sc->srv_policy :
			sc->policy ? sc->policy : "";
	p.policy = katls_policy_find(policies, p.policy_name);
	p.client_policy = katls_policy_find(policies,
		katls_policy_client_evidence(p.policy));
	p.server_creds = sc->no_server_cert ? NULL : srv_creds;
	p.evsrc = &src;
	p.ops = scenario_ops(sc, true, &ops);
	if (sc->privsep) {
		serve_privsep(&p, out);
		memset(&r, 0, sizeof(r));
	} else {
		p.on_failure = srv_on_failure;
		p.on_failure_arg = &p.fd;
		if (sc->bytes_left) {
			left.ptr = &p.fd;
			p.transport = &left;
		}
		/* issue 14: the key that signs the Exported Authenticator */
		if (p.server_creds && (gnutls_privkey_init(&p.server_key) ||
				       gnutls_privkey_import_x509(p.server_key,
								  key, 0)))
			_exit(2);
		katlsd_handshake(&p, &r);
		if (p.server_key)
			gnutls_privkey_deinit(p.server_key);
		if (write(out, &r, sizeof(r)) != sizeof(r))
			_exit(2);
	}
	/*
	 * Read what the client still sends until it closes.  Closing with
	 * unread data would reset the connection (AF_UNIX as TCP), and the
	 * client could see ECONNRESET before our alert: a real race the
	 * documentation describes, but here the alert's mapping is tested.
	 */
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char sink[4096];

		if (poll(&pfd, 1, 5000) <= 0 || read(fd, sink, sizeof(sink)) <= 0)
			break;
	}
	katlsd_hs_result_wipe(&r);
	_exit(0);
}

struct outcome {
	struct katlsd_hs_result cli, srv;
	bool have_srv;
	uint32_t srv_io;		/* privsep: record-relay requests */
	int plain_ret, plain_alert;
};

static int run(const struct scenario *sc, struct outcome *o)
{
	struct katlsd_hs_ops ops;
	struct katlsd_hs_params p;
	int sv[2], pipefd[2], status;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ||
	    pipe(pipefd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(sv[0]);
		close(pipefd[0]);
		serve(sc, sv[1], pipefd[1]);
	}
	close(sv[1]);
	close(pipefd[1]);

	if (sc->nonblock)
		fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	if (sc->client == PEER_PLAIN) {
		o->plain_ret = plain_peer(sv[0], false, &o->plain_alert);
	} else {
		client_params(sc, sv[0], &p, &ops);
		katlsd_handshake(&p, &o->cli);
	}
	close(sv[0]);

	if (sc->server != PEER_SILENT)
		o->have_srv = read(pipefd[0], &o->srv, sizeof(o->srv)) ==
			      sizeof(o->srv);
	if (o->have_srv && sc->privsep &&
	    read(pipefd[0], &o->srv_io, sizeof(o->srv_io)) !=
	    sizeof(o->srv_io))
		o->have_srv = false;
	if (sc->server == PEER_PLAIN && o->have_srv) {
		/* the plain server's result, see serve() */
		o->plain_ret = -o->srv.status;
		o->plain_alert = (int)o->srv.ev.binding_level;
		o->have_srv = false;
		memset(&o->srv, 0, sizeof(o->srv));
	}
	close(pipefd[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (o->cli.status)
		tap_diag("%s: client %s: %s", sc->name,
			 strerror(o->cli.status), o->cli.reason);
	if (o->have_srv && o->srv.status)
		tap_diag("%s: server %s: %s", sc->name,
			 strerror(o->srv.status), o->srv.reason);
	return 0;
}

static bool no_keys(const struct katlsd_hs_result *r)
{
	static const struct katls_keys zero;

	return !memcmp(&r->keys, &zero, sizeof(zero));
}

static void expect_fail(const struct scenario *sc, int cli_err, int srv_err)
{
	struct outcome o;

	if (run(sc, &o)) {
		tap_ok(0, "%s: could not run", sc->name);
		return;
	}
	if (sc->client != PEER_PLAIN) {
		tap_ok(o.cli.status == cli_err && no_keys(&o.cli),
		       "%s: client fails closed with %s (got %d), no keys",
		       sc->name, strerror(cli_err), o.cli.status);
		/* Reported before the alert, once, with the final status. */
		tap_ok(fail_calls <= 1 &&
		       (fail_calls == 0 || fail_status == o.cli.status),
		       "%s: on_failure called %d time(s) with the final status",
		       sc->name, fail_calls);
	}
	else
		tap_ok(o.plain_ret < 0, "%s: plain client fails (%d)",
		       sc->name, o.plain_ret);
	/* The stock peer got an alert that says why, not a bare reset. */
	if (sc->plain_alert)
		tap_ok(o.plain_ret == GNUTLS_E_FATAL_ALERT_RECEIVED &&
		       o.plain_alert == sc->plain_alert,
		       "%s: the plain %s received the alert %s before the reset (got %s, alert %s)",
		       sc->name, sc->client == PEER_PLAIN ? "client" : "server",
		       gnutls_alert_get_name(sc->plain_alert),
		       gnutls_strerror(o.plain_ret),
		       o.plain_alert < 0 ? "none" :
		       gnutls_alert_get_name(o.plain_alert));
	if (sc->server == PEER_KATLSD)
		tap_ok(o.have_srv && o.srv.status == srv_err && no_keys(&o.srv),
		       "%s: server fails with %s (got %d), no keys", sc->name,
		       strerror(srv_err), o.have_srv ? o.srv.status : -1);
	if (sc->cli_reason)
		tap_ok(strstr(o.cli.reason, sc->cli_reason) != NULL,
		       "%s: the client says why: \"%s\" (reason: %s)",
		       sc->name, sc->cli_reason, o.cli.reason);
	/* The alert says why: the katlsd peer logs its name. */
	if (sc->srv_reason)
		tap_ok(o.have_srv && strstr(o.srv.reason, sc->srv_reason),
		       "%s: the server learns why: \"%s\" (reason: %s)",
		       sc->name, sc->srv_reason, o.have_srv ? o.srv.reason : "-");
	katlsd_hs_result_wipe(&o.cli);
	katlsd_hs_result_wipe(&o.srv);
}

/*
 * The server's transport says it holds bytes GnuTLS has not taken (part
 * of a record, in a privilege-separated sandbox): kTLS could not take
 * them over, so the server fails closed at the end of its handshake,
 * without keys.  The client has finished by then (its Finished was the
 * last message); in katls the server's failure resets the connection.
 */
static void expect_bytes_left_refused(void)
{
	struct scenario sc = { .name = "server transport left holding part of a record",
			       .policy = "sim-test", .bound_key = true,
			       .hook = HOOK_BOTH, .src = SRC_EMBED,
			       .server = PEER_KATLSD, .client = PEER_KATLSD,
			       .bytes_left = true };
	struct outcome o;

	if (run(&sc, &o)) {
		tap_ok(0, "%s: could not run", sc.name);
		return;
	}
	tap_ok(o.have_srv && o.srv.status == EPROTO && no_keys(&o.srv) &&
	       strstr(o.srv.reason, "records buffered"),
	       "%s: the server fails closed with EPROTO, no keys (got %d: %s)",
	       sc.name, o.have_srv ? o.srv.status : -1,
	       o.have_srv ? o.srv.reason : "-");
	katlsd_hs_result_wipe(&o.cli);
	katlsd_hs_result_wipe(&o.srv);
}

static void expect_success(const struct scenario *sc)
{
	unsigned int level = sc->level ? sc->level : KATLS_BINDING_L2;
	uint8_t meas[MEAS_LEN];
	struct outcome o;
	size_t len;

	memset(meas, 0x4d, sizeof(meas));
	if (run(sc, &o)) {
		tap_ok(0, "%s: could not run", sc->name);
		return;
	}
	tap_ok(o.cli.status == 0 && fail_calls == 0,
	       "%s: client succeeds, on_failure not called", sc->name);
	tap_ok(o.have_srv && o.srv.status == 0, "%s: server succeeds", sc->name);
	/*
	 * The record relay costs one request per record received and one
	 * per flight sent: intra, the server receives ClientHello,
	 * ChangeCipherSpec and Finished and sends two flights (5; a pull
	 * and a poll for each header and body, and a push per record, made
	 * 18); post-handshake and mutual exchanges add their records.
	 */
	if (sc->privsep) {
		uint32_t max_io = sc->mutual ? 12 :
				  sc->level == KATLS_BINDING_L3 ? 8 : 5;

		tap_ok(o.srv_io && o.srv_io <= max_io,
		       "%s: the record relay took %u round trips (at most %u)",
		       sc->name, o.srv_io, max_io);
	}
	len = o.cli.keys.len;
	tap_ok(len && len == o.srv.keys.len &&
	       o.cli.keys.tx.info.version == TLS_1_3_VERSION,
	       "%s: TLS 1.3 crypto_info of %zu bytes on both ends", sc->name,
	       len);
	tap_ok(len && !memcmp(&o.cli.keys.tx, &o.srv.keys.rx, len) &&
	       !memcmp(&o.cli.keys.rx, &o.srv.keys.tx, len),
	       "%s: client TX == server RX and client RX == server TX",
	       sc->name);
	tap_ok(len && memcmp(&o.cli.keys.tx, &o.cli.keys.rx, len),
	       "%s: the two directions differ", sc->name);
	if (sc->cipher)
		tap_ok(o.cli.keys.tx.info.cipher_type == sc->cipher_type &&
		       o.srv.keys.rx.info.cipher_type == sc->cipher_type,
		       "%s: crypto_info for %s", sc->name, sc->cipher);
	tap_ok(o.cli.ev.evidence_type == KATLS_EVIDENCE_SIM &&
	       o.cli.ev.binding_level == level &&
	       o.cli.ev.measurement_len == MEAS_LEN &&
	       !memcmp(o.cli.ev.measurement, meas, MEAS_LEN) &&
	       !strcmp(o.cli.ev.policy, sc->policy),
	       "%s: client summary (sim, level %u, measurement, policy)",
	       sc->name, level);
	/*
	 * issue 14: the keys start past the exchange's records.  The
	 * client sent its request and its accept, and received one
	 * authenticator record; the server the other way round.
	 */
	if (sc->cipher_type == TLS_CIPHER_AES_GCM_128) {
		static const uint8_t seq0[8], seq1[8] = { [7] = 1 },
			seq2[8] = { [7] = 2 };
		static const uint8_t seq3[8] = { [7] = 3 };
		const uint8_t *seqs[] = { seq0, seq1, seq2, seq3 };
		bool post = level == KATLS_BINDING_L3;
		/* mutual: + our authenticator out, its request and accept in */
		int tx = (post ? 2 : 0) + (sc->mutual ? 1 : 0);
		int rx = (post ? 1 : 0) + (sc->mutual ? 2 : 0);

		tap_ok(!memcmp(o.cli.keys.tx.aes128.rec_seq, seqs[tx], 8) &&
		       !memcmp(o.cli.keys.rx.aes128.rec_seq, seqs[rx], 8),
		       "%s: record sequence numbers start at tx %d, rx %d",
		       sc->name, tx, rx);
	}
	tap_ok(!memcmp(o.cli.ev.digest, o.srv.ev.digest, KATLS_DIGEST_LEN) &&
	       o.srv.ev.evidence_type == KATLS_EVIDENCE_SIM,
	       "%s: both ends report the same evidence digest", sc->name);
	tap_ok(o.srv.ev.measurement_len == MEAS_LEN &&
	       !memcmp(o.srv.ev.measurement, meas, MEAS_LEN) &&
	       o.srv.ev.binding_level == level &&
	       !strcmp(o.srv.ev.policy, sc->srv_policy ? sc->srv_policy :
		       sc->policy),
	       "%s: server summary (own measurement, level %u, policy evaluated)",
	       sc->name, level);
	/* issue 14 item 3: the client's evidence, on both ends */
	if (sc->mutual)
		tap_ok(o.srv.client_attested && o.cli.client_attested &&
		       o.srv.client.evidence_type == KATLS_EVIDENCE_SIM &&
		       o.srv.client.binding_level == KATLS_BINDING_L3 &&
		       o.srv.client.measurement_len == MEAS_LEN &&
		       !memcmp(o.srv.client.measurement, meas, MEAS_LEN) &&
		       !strcmp(o.srv.client.policy, "sim-ccli") &&
		       !memcmp(o.srv.client.digest, o.cli.client.digest,
			       KATLS_DIGEST_LEN) &&
		       o.cli.client.evidence_type == KATLS_EVIDENCE_SIM,
		       "%s: the server sees the client's evidence summary (sim, L3, measurement, policy sim-ccli, same digest)",
		       sc->name);
	else
		tap_ok(!o.srv.client_attested && !o.cli.client_attested,
		       "%s: no client evidence summary", sc->name);
	katlsd_hs_result_wipe(&o.cli);
	katlsd_hs_result_wipe(&o.srv);
}

/* Each scenario overrides the defaults of SC(): that is the point. */
#pragma GCC diagnostic push
#ifdef __clang__
#pragma GCC diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif

int main(void)
{
	/*
	 * Defaults of every scenario: policy sim-test, no trust store, the
	 * server key accepted as evidence-bound, the verifier hook on both
	 * ends, test evidence with the right report data, katlsd on both
	 * ends.  Each case changes what it tests.
	 */
#define SC(...) { .policy = "sim-test", .bound_key = true, .hook = HOOK_BOTH, \
		  .src = SRC_EMBED, .server = PEER_KATLSD, \
		  .client = PEER_KATLSD, __VA_ARGS__ }
	static const struct scenario ok[] = {
		SC(.name = "evidence-bound key"),
		SC(.name = "non-blocking client socket", .nonblock = true),
		SC(.name = "AES-128-GCM", .cipher = "AES-128-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_128),
		SC(.name = "AES-256-GCM", .cipher = "AES-256-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_256),
		SC(.name = "ChaCha20-Poly1305", .cipher = "CHACHA20-POLY1305",
		   .cipher_type = TLS_CIPHER_CHACHA20_POLY1305),
		SC(.name = "CA-verified key", .trust = true, .bound_key = false,
		   .peername = "katls-test"),
		/* item 19: the name is checked against the certificate */
		SC(.name = "evidence-bound key, the certificate's name",
		   .peername = "katls-test"),
		/* issue 11 item 7: the same through monitor and sandbox */
		SC(.name = "privsep: evidence-bound key", .privsep = true),
		SC(.name = "privsep: CA-verified key", .trust = true,
		   .bound_key = false, .peername = "katls-test",
		   .privsep = true),
		SC(.name = "privsep: ChaCha20-Poly1305",
		   .cipher = "CHACHA20-POLY1305",
		   .cipher_type = TLS_CIPHER_CHACHA20_POLY1305,
		   .privsep = true),
		/* issue 13 item 1: evidence that vouches for a batch */
		SC(.name = "batch: leaf 3 of 5 with its proof",
		   .src = SRC_BATCH),
		/* issue 13 item 2: EVIDENCE_REP carries the proof */
		SC(.name = "privsep: batch leaf 3 of 5 crosses the IPC with its proof",
		   .src = SRC_BATCH, .privsep = true),
		/* issue 14: post-handshake attestation (RFC 9261) */
		SC(.name = "binding post", .policy = "sim-post",
		   .level = KATLS_BINDING_L3, .cipher = "AES-128-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_128),
		SC(.name = "binding both", .policy = "sim-both",
		   .level = KATLS_BINDING_L3, .cipher = "AES-128-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_128),
		SC(.name = "binding post, AES-256-GCM (SHA-384 exporter)",
		   .policy = "sim-post", .level = KATLS_BINDING_L3,
		   .cipher = "AES-256-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_256),
		SC(.name = "binding post, non-blocking client socket",
		   .policy = "sim-post", .level = KATLS_BINDING_L3,
		   .nonblock = true),
		SC(.name = "binding post, CA-verified key", .policy = "sim-post",
		   .level = KATLS_BINDING_L3, .trust = true,
		   .bound_key = false, .peername = "katls-test"),
		SC(.name = "binding post, batch leaf 3 of 5",
		   .policy = "sim-post", .level = KATLS_BINDING_L3,
		   .src = SRC_BATCH),
		SC(.name = "privsep: binding post", .policy = "sim-post",
		   .level = KATLS_BINDING_L3, .privsep = true,
		   .cipher = "AES-128-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_128),
		SC(.name = "privsep: binding both", .policy = "sim-both",
		   .level = KATLS_BINDING_L3, .privsep = true,
		   .cipher = "AES-128-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_128),
		/*
		 * issue 14 item 4: post-handshake leaves in a batch, on the
		 * daemon's path (sandbox -> monitor -> evidence source): the
		 * binder ea v1 value is the leaf, its proof crosses the IPC
		 * and goes into the authenticator's cmw_attestation record.
		 */
		SC(.name = "privsep: binding post, batch leaf 3 of 5 in the authenticator",
		   .policy = "sim-post", .level = KATLS_BINDING_L3,
		   .src = SRC_BATCH, .privsep = true,
		   .cipher = "AES-128-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_128),
		SC(.name = "privsep: binding both, both leaves batched",
		   .policy = "sim-both", .level = KATLS_BINDING_L3,
		   .src = SRC_BATCH, .privsep = true),
		/* issue 14 item 3: mutual attestation */
		SC(.name = "mutual, binding intra", .policy = "sim-mtl0",
		   .mutual = true, .cipher = "AES-128-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_128),
		SC(.name = "mutual, binding post (both directions L3)",
		   .policy = "sim-mtlp", .level = KATLS_BINDING_L3,
		   .mutual = true, .cipher = "AES-128-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_128),
		SC(.name = "privsep: mutual, binding post", .policy = "sim-mtlp",
		   .level = KATLS_BINDING_L3, .mutual = true, .privsep = true,
		   .cipher = "AES-128-GCM",
		   .cipher_type = TLS_CIPHER_AES_GCM_128),
	};
	static const struct {
		struct scenario sc;
		int cli_err, srv_err;
	} fails[] = {
		{ SC(.name = "relayed evidence (other report data)",
		     .src = SRC_EMBED_WRONG,
		     .srv_reason = "Access was denied"), EKEYREJECTED, EPROTO },
		{ SC(.name = "real SNP sample, not bound to this handshake",
		     .policy = "snp-test", .hook = HOOK_NONE,
		     .src = SRC_SNP_FILE), EKEYREJECTED, EPROTO },
		{ SC(.name = "test bytes before the production verifier",
		     .hook = HOOK_SERVER), EACCES, EPROTO },
		{ SC(.name = "measurement not in the policy",
		     .policy = "sim-other", .srv_reason = "Access was denied"),
		  EACCES, EPROTO },
		{ SC(.name = "wrong peer name", .trust = true,
		     .bound_key = false, .peername = "other.example",
		     .srv_reason = "Certificate is bad"), EACCES, EPROTO },
		{ SC(.name = "no trust store, key not evidence-bound",
		     .bound_key = false), EACCES, EPROTO },
		{ SC(.name = "unknown policy", .policy = NULL,
		     .srv_policy = "sim-test"), EINVAL, ECONNRESET },
		/* item 5: CA mode without a name is refused, not "any name" */
		{ SC(.name = "CA mode without a peer name", .trust = true,
		     .bound_key = false), EINVAL, ECONNRESET },
		{ SC(.name = "CA mode with an empty peer name", .trust = true,
		     .bound_key = false, .peername = ""), EINVAL, ECONNRESET },
		/* item 19: a peer name is never ignored */
		{ SC(.name = "evidence-bound key, another peer name",
		     .peername = "other.example"), EACCES, EPROTO },
		{ SC(.name = "evidence-bound key, an address not in the certificate",
		     .peername = "127.0.0.1"), EACCES, EPROTO },
		/* item 18: the server evaluates the policy it names */
		{ SC(.name = "server: unknown policy",
		     .srv_policy = "no-such-policy"), ECONNRESET, EINVAL },
		{ SC(.name = "server: its policy does not allow its evidence",
		     .srv_policy = "snp-test"), EPROTO, EACCES },
		{ SC(.name = "evidence type the client does not accept",
		     .srv_policy = "tdx-test", .src = SRC_EMBED_TDX),
		  EPROTO, EACCES },
		{ SC(.name = "server without a TEE provider", .src = SRC_NODEV),
		  EPROTO, ENODEV },

		/* issue 13 item 1: batch proofs that must fail closed */
		{ SC(.name = "batch: another connection's proof replayed",
		     .src = SRC_BATCH_OTHER_LEAF,
		     .cli_reason = "not bound to this handshake (batch root mismatch, leaf 2 of 5)"),
		  EKEYREJECTED, EPROTO },
		{ SC(.name = "batch: wrong tree size",
		     .src = SRC_BATCH_WRONG_SIZE,
		     .cli_reason = "not bound to this handshake (batch root mismatch, leaf 3 of 6)"),
		  EKEYREJECTED, EPROTO },
		{ SC(.name = "batch: batch report data presented as a single binder",
		     .src = SRC_BATCH_ROOT_AS_SINGLE,
		     .cli_reason = "not bound to this handshake (single binder)"),
		  EKEYREJECTED, EPROTO },
		{ SC(.name = "batch: a single binder presented as a batch",
		     .src = SRC_BATCH_SINGLE_AS_BATCH,
		     .cli_reason = "single binder presented as a batch"),
		  EKEYREJECTED, EPROTO },
		{ SC(.name = "batch: the source's path is short, server refuses it",
		     .src = SRC_BATCH_SHORT_PATH,
		     .srv_reason = "audit path too short"), EPROTO, EIO },
		{ SC(.name = "server without a certificate",
		     .no_server_cert = true), ECONNRESET, ENOKEY },
		/* item 20: stock peers get an alert that says why */
		{ SC(.name = "server without the extension",
		     .server = PEER_PLAIN,
		     .plain_alert = GNUTLS_A_MISSING_EXTENSION), EACCES, 0 },
		{ SC(.name = "client without the extension",
		     .client = PEER_PLAIN,
		     .plain_alert = GNUTLS_A_MISSING_EXTENSION), 0, EPROTO },
		/*
		 * (Not "relayed evidence" here: over this socketpair the
		 * client's close can beat the server's last flight, which then
		 * fails on EPIPE instead of reading the alert -- a harness race,
		 * not privsep; the VM e2e runs sim-wrong over TCP.)
		 */
		{ SC(.name = "privsep: server without a TEE provider",
		     .src = SRC_NODEV, .privsep = true), EPROTO, ENODEV },
		{ SC(.name = "privsep: server without a certificate",
		     .no_server_cert = true, .privsep = true),
		  ECONNRESET, ENOKEY },
		/* issue 14: post-handshake attestation fails closed */
		{ SC(.name = "binding post: relayed evidence (other report data)",
		     .policy = "sim-post", .src = SRC_EMBED_WRONG,
		     .cli_reason = "not bound to this handshake",
		     .srv_reason = "peer aborted the post-handshake attestation"),
		  EKEYREJECTED, EPROTO },
		{ SC(.name = "binding both: the handshake's evidence good, the post one relayed",
		     .policy = "sim-both", .src = SRC_EMBED_WRONG_SECOND,
		     .cli_reason = "not bound to this handshake",
		     .srv_reason = "peer aborted the post-handshake attestation"),
		  EKEYREJECTED, EPROTO },
		{ SC(.name = "binding post: measurement not in the policy",
		     .policy = "sim-opst",
		     .cli_reason = "rejected the evidence"), EACCES, EPROTO },
		{ SC(.name = "binding post: server without a TEE provider",
		     .policy = "sim-post", .src = SRC_NODEV,
		     .cli_reason = "peer aborted the post-handshake attestation"),
		  EPROTO, ENODEV },
		{ SC(.name = "binding post: the server's policy says intra",
		     .policy = "sim-post", .srv_policy = "sim-test",
		     .srv_reason = "peer asked for binding post, policy sim-test says intra"),
		  EPROTO, EACCES },
		{ SC(.name = "binding intra: the server's policy says post",
		     .policy = "sim-test", .srv_policy = "sim-post",
		     .srv_reason = "peer asked for binding intra, policy sim-post says post"),
		  EPROTO, EACCES },
		{ SC(.name = "binding post: a plain TLS server skips the exchange",
		     .policy = "sim-post", .server = PEER_PLAIN,
		     .plain_alert = GNUTLS_A_MISSING_EXTENSION), EACCES, 0 },
		/* issue 14 item 4: a post leaf's batch proof is checked */
		{ SC(.name = "binding post: another connection's batch proof replayed",
		     .policy = "sim-post", .src = SRC_BATCH_OTHER_LEAF,
		     .cli_reason = "not bound to this handshake (batch root mismatch, leaf 2 of 5)",
		     .srv_reason = "peer aborted the post-handshake attestation"),
		  EKEYREJECTED, EPROTO },
		{ SC(.name = "binding post: a single binder presented as a batch",
		     .policy = "sim-post", .src = SRC_BATCH_SINGLE_AS_BATCH,
		     .cli_reason = "single binder presented as a batch"),
		  EKEYREJECTED, EPROTO },
		{ SC(.name = "privsep: binding post, server without a TEE provider",
		     .policy = "sim-post", .src = SRC_NODEV, .privsep = true),
		  EPROTO, ENODEV },
		/* issue 14 item 3: mutual attestation fails closed */
		{ SC(.name = "mutual: the client's policy does not consent",
		     .policy = "sim-test", .srv_policy = "sim-mtl0",
		     .cli_reason = "does not consent to attest",
		     .srv_reason = "the client refused to attest"),
		  EACCES, EACCES },
		{ SC(.name = "mutual: client without a TEE provider",
		     .policy = "sim-mtl0", .cli_src = SRC_NODEV,
		     .cli_reason = "no evidence for the server",
		     .srv_reason = "the client refused to attest"),
		  ENODEV, EACCES },
		{ SC(.name = "mutual: the client's evidence fails the server's policy",
		     .policy = "sim-mtl0", .srv_policy = "sim-mno0",
		     .cli_reason = "peer aborted the mutual attestation",
		     .srv_reason = "policy sim-other rejected the client's evidence"),
		  EPROTO, EACCES },
		{ SC(.name = "mutual: the client's evidence bound to another connection",
		     .policy = "sim-mtlp", .cli_src = SRC_EMBED_WRONG,
		     .cli_reason = "peer aborted the mutual attestation",
		     .srv_reason = "not bound to this handshake"),
		  EPROTO, EKEYREJECTED },
		{ SC(.name = "privsep: mutual, client without a TEE provider",
		     .policy = "sim-mtlp", .cli_src = SRC_NODEV, .privsep = true,
		     .srv_reason = "the client refused to attest"),
		  ENODEV, EACCES },
	};
	static const struct scenario silent =
		SC(.name = "silent server", .timeout_ms = 300,
		   .server = PEER_SILENT);
#undef SC

	signal(SIGPIPE, SIG_IGN);
	tap_plan_lazy();
	katlsd_log_open(true, getenv("KATLSD_TEST_DEBUG") ? LOG_DEBUG : LOG_ERR);
	if (!tap_ok(gnutls_global_init() == 0 && make_cert() == 0,
		    "self-signed ECDSA P-256 server certificate") ||
	    !tap_ok(make_policies() == 0, "test policies load"))
		return tap_done();

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_success(&ok[i]);
	for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++)
		expect_fail(&fails[i].sc, fails[i].cli_err, fails[i].srv_err);
	expect_bytes_left_refused();
	{
		struct timespec a, b;
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &a);
		expect_fail(&silent, ETIMEDOUT, 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (b.tv_sec - a.tv_sec) * 1000 +
		     (b.tv_nsec - a.tv_nsec) / 1000000;
		tap_ok(ms >= 250 && ms < 2500,
		       "silent server: timed out after %ld ms (limit 300)", ms);
	}

	remove_policies();
	katls_policy_set_free(policies);
	gnutls_certificate_free_credentials(srv_creds);
	gnutls_certificate_free_credentials(cli_trust);
	gnutls_certificate_free_credentials(cli_notrust);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	gnutls_global_deinit();
	return tap_done();
}

#pragma GCC diagnostic pop
