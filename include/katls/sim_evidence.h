/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Evidence produced by the test-only simulated configfs-tsm provider
 * (tests/sim-tsm) and checked by the "sim" verifier.  Shared by kernel
 * and userspace; all integers little-endian.
 *
 * NOT A SECURITY MECHANISM: the MAC key is public.  The verifier accepts
 * sim evidence only under a policy that names "sim" explicitly.
 */
#ifndef KATLS_SIM_EVIDENCE_H
#define KATLS_SIM_EVIDENCE_H

#define KATLS_SIM_MAGIC		"KATLSSIM"	/* 8 bytes, no NUL */
#define KATLS_SIM_VERSION	1
#define KATLS_SIM_FLAG_DEBUG	0x0001
#define KATLS_SIM_MEAS_LEN	48
#define KATLS_SIM_RD_LEN	64
#define KATLS_SIM_MAC_LEN	32

/*
 * Layout (160 bytes):
 *   0  magic[8]        "KATLSSIM"
 *   8  version  le16   1
 *  10  flags    le16   KATLS_SIM_FLAG_*
 *  12  reserved le32   0
 *  16  measurement[48] module parameter "measurement"
 *  64  report_data[64] the configfs-tsm inblob
 * 128  mac[32]         HMAC-SHA256(KATLS_SIM_KEY, bytes 0..127)
 */
#define KATLS_SIM_OFF_MAGIC	0
#define KATLS_SIM_OFF_VERSION	8
#define KATLS_SIM_OFF_FLAGS	10
#define KATLS_SIM_OFF_MEAS	16
#define KATLS_SIM_OFF_RD	64
#define KATLS_SIM_OFF_MAC	128
#define KATLS_SIM_LEN		160

/* The public test key: the 32 ASCII bytes below. */
#define KATLS_SIM_KEY		"katls-sim-tsm test key, public!!"
#define KATLS_SIM_KEY_LEN	32

/* Provider name the simulated module registers with configfs-tsm. */
#define KATLS_SIM_PROVIDER	"katls_sim"

#endif /* KATLS_SIM_EVIDENCE_H */
