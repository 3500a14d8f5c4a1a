// SPDX-License-Identifier: GPL-2.0
/*
 * katls_sim_tsm - a simulated configfs-tsm provider, for tests only.
 *
 * Registers the provider "katls_sim" with configfs-tsm so that the whole
 * attestation path (configfs-tsm report entry, inblob, outblob) runs in a
 * VM without TDX or SEV-SNP.  The report is the structure of
 * include/katls/sim_evidence.h: the inblob as report data, a measurement
 * and flags taken from module parameters, and HMAC-SHA256 under a key that
 * is PUBLIC.  This proves nothing about the machine: katlsd's "sim"
 * verifier accepts it only under a policy that names "sim".  Nothing
 * installs this module.
 *
 * Parameters (all writable at run time through /sys/module/.../parameters):
 *   measurement  96 hex digits (48 bytes); default 000102...2f
 *   debug        set KATLS_SIM_FLAG_DEBUG in the report
 *   delay_ms     sleep this long in report_new (slow quote generation);
 *                a signal interrupts it and the read fails with -EINTR
 *
 * configfs-tsm allows a single provider; loading fails with -EBUSY when
 * another one (tdx_guest, sev_guest, ...) is registered.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
#error "configfs-tsm appeared in Linux 6.7; katls_sim_tsm cannot be built here"
#endif

#include <crypto/hash.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tsm.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#include <katls/sim_evidence.h>

/*
 * configfs-tsm provider API generations: 6.7 tsm_register(ops, priv, type);
 * 6.10 tsm_register(ops, priv) and attribute visibility callbacks; 6.16
 * the same under the names tsm_report_register / struct tsm_report_ops.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
#define sim_ops_t		struct tsm_report_ops
#define sim_register(ops)	tsm_report_register(ops, NULL)
#define sim_unregister(ops)	tsm_report_unregister(ops)
#define SIM_HAS_VISIBILITY	1
#define SIM_BIN_INBLOB		TSM_REPORT_INBLOB
#define SIM_BIN_OUTBLOB		TSM_REPORT_OUTBLOB
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define sim_ops_t		struct tsm_ops
#define sim_register(ops)	tsm_register(ops, NULL)
#define sim_unregister(ops)	tsm_unregister(ops)
#define SIM_HAS_VISIBILITY	1
#define SIM_BIN_INBLOB		TSM_REPORT_INBLOB
#define SIM_BIN_OUTBLOB		TSM_REPORT_OUTBLOB
#else
#define sim_ops_t		struct tsm_ops
/* NULL type: the default attributes (no auxblob). */
#define sim_register(ops)	tsm_register(ops, NULL, NULL)
#define sim_unregister(ops)	tsm_unregister(ops)
#define SIM_HAS_VISIBILITY	0
#endif

static DEFINE_SPINLOCK(sim_lock);	/* measurement */
static u8 sim_measurement[KATLS_SIM_MEAS_LEN] = {	/* 00 01 02 ... 2f */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
	0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
};

static struct crypto_shash *sim_hmac;

static int sim_measurement_set(const char *val, const struct kernel_param *kp)
{
	u8 m[KATLS_SIM_MEAS_LEN];
	size_t len = strlen(val);

	if (len && val[len - 1] == '\n')
		len--;
	if (len != 2 * KATLS_SIM_MEAS_LEN || hex2bin(m, val, sizeof(m)))
		return -EINVAL;
	spin_lock(&sim_lock);
	memcpy(sim_measurement, m, sizeof(m));
	spin_unlock(&sim_lock);
	return 0;
}

static int sim_measurement_get(char *buf, const struct kernel_param *kp)
{
	u8 m[KATLS_SIM_MEAS_LEN];

	spin_lock(&sim_lock);
	memcpy(m, sim_measurement, sizeof(m));
	spin_unlock(&sim_lock);
	return sysfs_emit(buf, "%*phN\n", (int)sizeof(m), m);
}

static const struct kernel_param_ops sim_measurement_ops = {
	.set = sim_measurement_set,
	.get = sim_measurement_get,
};
module_param_cb(measurement, &sim_measurement_ops, NULL, 0644);
MODULE_PARM_DESC(measurement,
		 "48-byte measurement, 96 hex digits (default 000102...2f)");

static bool debug;
module_param(debug, bool, 0644);
MODULE_PARM_DESC(debug, "report the TEE as debuggable (flag 0x0001)");

static unsigned int delay_ms;
module_param(delay_ms, uint, 0644);
MODULE_PARM_DESC(delay_ms, "delay report generation (slow quote emulation)");

static int sim_report_new(struct tsm_report *report, void *data)
{
	unsigned int delay = READ_ONCE(delay_ms);
	u8 *ev;
	int ret;

	if (report->desc.inblob_len != KATLS_SIM_RD_LEN)
		return -EINVAL;
	if (delay && msleep_interruptible(delay))
		return -EINTR;

	ev = kvzalloc(KATLS_SIM_LEN, GFP_KERNEL);
	if (!ev)
		return -ENOMEM;
	memcpy(ev + KATLS_SIM_OFF_MAGIC, KATLS_SIM_MAGIC, 8);
	put_unaligned_le16(KATLS_SIM_VERSION, ev + KATLS_SIM_OFF_VERSION);
	put_unaligned_le16(READ_ONCE(debug) ? KATLS_SIM_FLAG_DEBUG : 0,
			   ev + KATLS_SIM_OFF_FLAGS);
	spin_lock(&sim_lock);
	memcpy(ev + KATLS_SIM_OFF_MEAS, sim_measurement, KATLS_SIM_MEAS_LEN);
	spin_unlock(&sim_lock);
	memcpy(ev + KATLS_SIM_OFF_RD, report->desc.inblob, KATLS_SIM_RD_LEN);

	/* The key is set once at init; digest calls are reentrant. */
	ret = crypto_shash_tfm_digest(sim_hmac, ev, KATLS_SIM_OFF_MAC,
				      ev + KATLS_SIM_OFF_MAC);
	if (ret) {
		kvfree(ev);
		return ret;
	}
	report->outblob = ev;
	report->outblob_len = KATLS_SIM_LEN;
	return 0;
}

#if SIM_HAS_VISIBILITY
/* generation, provider, privlevel, privlevel_floor; no SVSM service. */
static bool sim_attr_visible(int n)
{
	return n <= TSM_REPORT_PRIVLEVEL_FLOOR;
}

/* inblob and outblob only: no auxblob, no manifestblob. */
static bool sim_bin_attr_visible(int n)
{
	return n == SIM_BIN_INBLOB || n == SIM_BIN_OUTBLOB;
}
#endif

static const sim_ops_t sim_ops = {
	.name = KATLS_SIM_PROVIDER,
	.report_new = sim_report_new,
#if SIM_HAS_VISIBILITY
	.report_attr_visible = sim_attr_visible,
	.report_bin_attr_visible = sim_bin_attr_visible,
#endif
};

static int __init sim_init(void)
{
	int ret;

	sim_hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(sim_hmac))
		return PTR_ERR(sim_hmac);
	ret = crypto_shash_setkey(sim_hmac, (const u8 *)KATLS_SIM_KEY,
				  KATLS_SIM_KEY_LEN);
	if (ret)
		goto err;
	ret = sim_register(&sim_ops);
	if (ret) {
		pr_err("cannot register the configfs-tsm provider: %d\n", ret);
		goto err;
	}
	pr_warn("simulated TEE loaded: evidence is signed with a PUBLIC test key\n");
	return 0;
err:
	crypto_free_shash(sim_hmac);
	return ret;
}

static void __exit sim_exit(void)
{
	sim_unregister(&sim_ops);
	crypto_free_shash(sim_hmac);
}

module_init(sim_init);
module_exit(sim_exit);

MODULE_DESCRIPTION("katls test-only simulated configfs-tsm provider (public key)");
MODULE_LICENSE("GPL");
