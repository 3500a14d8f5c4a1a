/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/katls.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_KATLS_GENL_H
#define _UAPI_LINUX_KATLS_GENL_H

#define KATLS_GENL_NAME		"katls"
#define KATLS_GENL_VERSION	1

#define KATLS_POLICY_MAX		64
#define KATLS_PEERNAME_MAX		256
#define KATLS_DIGEST_LEN		32
#define KATLS_MEASUREMENT_MAX		64
#define KATLS_TIMEOUT_DEFAULT_MS	10000
#define KATLS_TIMEOUT_MAX_MS		300000

/**
 * enum katls_role - Handshake role of the application's end of the connection.
 * @KATLS_ROLE_CLIENT: Verifies the peer's evidence.
 * @KATLS_ROLE_SERVER: Attests, i.e. sends evidence.
 */
enum katls_role {
	KATLS_ROLE_UNSPEC,
	KATLS_ROLE_CLIENT,
	KATLS_ROLE_SERVER,

	/* private: */
	__KATLS_ROLE_MAX,
	KATLS_ROLE_MAX = (__KATLS_ROLE_MAX - 1)
};

/**
 * enum katls_state - State of an opted-in socket.
 * @KATLS_STATE_IDLE: Opted in, no handshake requested yet.
 * @KATLS_STATE_PENDING: Request queued, agents notified.
 * @KATLS_STATE_ACCEPTED: An agent owns the handshake.
 * @KATLS_STATE_HANDOVER: Keys being installed into kTLS.
 * @KATLS_STATE_OPEN: Verified; data flows through kTLS.
 * @KATLS_STATE_FAILED: Failed closed; the status says why.
 * @KATLS_STATE_EXPIRED: Was open; its maximum age ("max-age-ms") has passed.
 *   Every data call fails with EKEYEXPIRED, the connection was reset.
 */
enum katls_state {
	KATLS_STATE_IDLE,
	KATLS_STATE_PENDING,
	KATLS_STATE_ACCEPTED,
	KATLS_STATE_HANDOVER,
	KATLS_STATE_OPEN,
	KATLS_STATE_FAILED,
	KATLS_STATE_EXPIRED,

	/* private: */
	__KATLS_STATE_MAX,
	KATLS_STATE_MAX = (__KATLS_STATE_MAX - 1)
};

/**
 * enum katls_evidence_type - Kind of evidence that was verified.
 * @KATLS_EVIDENCE_TDX: Intel TDX quote (v4, v5).
 * @KATLS_EVIDENCE_SNP: AMD SEV-SNP attestation report.
 * @KATLS_EVIDENCE_CCA: Arm CCA attestation token.
 * @KATLS_EVIDENCE_SIM: Test-only simulated TSM provider.
 */
enum katls_evidence_type {
	KATLS_EVIDENCE_NONE,
	KATLS_EVIDENCE_TDX,
	KATLS_EVIDENCE_SNP,
	KATLS_EVIDENCE_CCA,
	KATLS_EVIDENCE_SIM,

	/* private: */
	__KATLS_EVIDENCE_MAX,
	KATLS_EVIDENCE_MAX = (__KATLS_EVIDENCE_MAX - 1)
};

/**
 * enum katls_binding_level - Binding level reached between the evidence and
 *   the TLS session.
 * @KATLS_BINDING_L1: DH shared secret.
 * @KATLS_BINDING_L2: Client handshake traffic secret (binder v1).
 * @KATLS_BINDING_L3: Client application traffic secret (post-handshake mode).
 */
enum katls_binding_level {
	KATLS_BINDING_NONE,
	KATLS_BINDING_L1,
	KATLS_BINDING_L2,
	KATLS_BINDING_L3,

	/* private: */
	__KATLS_BINDING_MAX,
	KATLS_BINDING_MAX = (__KATLS_BINDING_MAX - 1)
};

enum {
	KATLS_A_UNSPEC,
	KATLS_A_REQ_ID,
	KATLS_A_SOCKFD,
	KATLS_A_ROLE,
	KATLS_A_POLICY,
	KATLS_A_PEERNAME,
	KATLS_A_TIMEOUT_MS,
	KATLS_A_STATUS,
	KATLS_A_SUMMARY,
	KATLS_A_TX,
	KATLS_A_RX,
	KATLS_A_STATE,
	KATLS_A_FAMILY,
	KATLS_A_SADDR,
	KATLS_A_DADDR,
	KATLS_A_SPORT,
	KATLS_A_DPORT,
	KATLS_A_AGENT_PID,
	KATLS_A_AGE_MS,
	KATLS_A_INODE,
	KATLS_A_PAD,
	KATLS_A_CLIENT_SUMMARY,
	KATLS_A_MAX_AGE_MS,

	__KATLS_A_MAX
};
#define KATLS_A_MAX (__KATLS_A_MAX - 1)

enum {
	KATLS_SUMMARY_A_UNSPEC,
	KATLS_SUMMARY_A_EVIDENCE_TYPE,
	KATLS_SUMMARY_A_BINDING_LEVEL,
	KATLS_SUMMARY_A_DIGEST,
	KATLS_SUMMARY_A_MEASUREMENT,
	KATLS_SUMMARY_A_POLICY,

	__KATLS_SUMMARY_A_MAX
};
#define KATLS_SUMMARY_A_MAX (__KATLS_SUMMARY_A_MAX - 1)

enum {
	KATLS_CMD_UNSPEC,
	KATLS_CMD_READY,
	KATLS_CMD_ACCEPT,
	KATLS_CMD_DONE,
	KATLS_CMD_GET,

	__KATLS_CMD_MAX
};
#define KATLS_CMD_MAX (__KATLS_CMD_MAX - 1)

#define KATLS_MCGRP_AGENT	"agent"

#endif /* _UAPI_LINUX_KATLS_GENL_H */
