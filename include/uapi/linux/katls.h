/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * katls - kernel-enforced attested TLS: user API.
 *
 * An application opts a connected TCP socket in with
 *	setsockopt(fd, SOL_TCP, TCP_ULP, "katls", sizeof("katls"));
 * and asks for an attested handshake with
 *	setsockopt(fd, SOL_KATLS, KATLS_REQUEST, &req, sizeof(req));
 * From the opt-in on, no application byte moves through the socket until
 * the handshake agent (katlsd) reports verified evidence for this
 * connection and the TLS 1.3 keys are in kTLS.  The outcome is read with
 *	getsockopt(fd, SOL_KATLS, KATLS_RESULT, &res, &len);
 *
 * The agent talks to the module over the generic netlink family
 * KATLS_GENL_NAME; Documentation/netlink/specs/katls.yaml describes it.
 *
 * See Documentation/userspace-api.rst for the full contract.
 */
#ifndef _UAPI_LINUX_KATLS_H
#define _UAPI_LINUX_KATLS_H

#include <linux/types.h>

/* The ULP name passed to TCP_ULP. */
#define KATLS_ULP_NAME		"katls"

/*
 * Socket option level.  Private ("ka") until a SOL_ number is assigned;
 * only a socket that carries the katls ULP understands it.
 */
#define SOL_KATLS		0x6b61

/* SOL_KATLS option names. */
#define KATLS_REQUEST		1	/* set: struct katls_request */
#define KATLS_RESULT		2	/* get: struct katls_result */

/* Handshake role of the local end. */
enum katls_role {
	KATLS_ROLE_UNSPEC,
	KATLS_ROLE_CLIENT,	/* verifies the peer's evidence */
	KATLS_ROLE_SERVER,	/* attests: sends evidence */
	__KATLS_ROLE_MAX
};
#define KATLS_ROLE_MAX		(__KATLS_ROLE_MAX - 1)

/* State of an opted-in socket, as reported by KATLS_RESULT and the dump. */
enum katls_state {
	KATLS_STATE_IDLE,	/* opted in, no handshake requested yet */
	KATLS_STATE_PENDING,	/* request queued, agents notified */
	KATLS_STATE_ACCEPTED,	/* an agent owns the handshake */
	KATLS_STATE_HANDOVER,	/* keys being installed into kTLS */
	KATLS_STATE_OPEN,	/* verified; data flows through kTLS */
	KATLS_STATE_FAILED,	/* failed closed; see status */
	__KATLS_STATE_MAX
};
#define KATLS_STATE_MAX		(__KATLS_STATE_MAX - 1)

/* Kind of evidence that was verified. */
enum katls_evidence_type {
	KATLS_EVIDENCE_NONE,
	KATLS_EVIDENCE_TDX,	/* Intel TDX quote (v4, v5) */
	KATLS_EVIDENCE_SNP,	/* AMD SEV-SNP attestation report */
	KATLS_EVIDENCE_CCA,	/* Arm CCA attestation token */
	KATLS_EVIDENCE_SIM,	/* test-only simulated TSM provider */
	__KATLS_EVIDENCE_MAX
};
#define KATLS_EVIDENCE_MAX	(__KATLS_EVIDENCE_MAX - 1)

/* Binding level reached (Intra-handshake.fail, ESORICS 2026). */
enum katls_binding_level {
	KATLS_BINDING_NONE,
	KATLS_BINDING_L1,	/* DH shared secret */
	KATLS_BINDING_L2,	/* client handshake traffic secret (binder v1) */
	KATLS_BINDING_L3,	/* application traffic secret (post mode) */
	__KATLS_BINDING_MAX
};
#define KATLS_BINDING_MAX	(__KATLS_BINDING_MAX - 1)

#define KATLS_POLICY_MAX	64	/* including the NUL */
#define KATLS_PEERNAME_MAX	256	/* including the NUL */
#define KATLS_DIGEST_LEN	32	/* SHA-256 of the evidence */
#define KATLS_MEASUREMENT_MAX	64

#define KATLS_TIMEOUT_DEFAULT_MS	10000
#define KATLS_TIMEOUT_MAX_MS		300000

/**
 * struct katls_request - ask for an attested handshake (KATLS_REQUEST)
 * @role: enum katls_role.
 * @timeout_ms: kernel-side deadline for the whole handshake, from the
 *	request; 0 selects KATLS_TIMEOUT_DEFAULT_MS.  At most
 *	KATLS_TIMEOUT_MAX_MS.
 * @flags: must be 0.
 * @reserved: must be 0.
 * @policy: NUL-terminated name of the agent's policy to apply; must not
 *	be empty.  Characters [A-Za-z0-9._-] only.
 * @peername: NUL-terminated expected peer name (client role), may be
 *	empty.
 */
struct katls_request {
	__u32	role;
	__u32	timeout_ms;
	__u32	flags;
	__u32	reserved;
	char	policy[KATLS_POLICY_MAX];
	char	peername[KATLS_PEERNAME_MAX];
};

/**
 * struct katls_result - outcome of the handshake (KATLS_RESULT)
 * @state: enum katls_state.
 * @status: 0, or the positive errno the handshake failed with.
 * @evidence_type: enum katls_evidence_type (valid in KATLS_STATE_OPEN).
 * @binding_level: enum katls_binding_level.
 * @measurement_len: valid bytes in @measurement.
 * @reserved: 0.
 * @evidence_digest: SHA-256 of the verified evidence.
 * @measurement: the launch measurement (MRTD, SNP measurement, CCA RIM,
 *	sim measurement), truncated to KATLS_MEASUREMENT_MAX.
 * @policy: name of the policy that accepted the evidence.
 */
struct katls_result {
	__u32	state;
	__u32	status;
	__u32	evidence_type;
	__u32	binding_level;
	__u32	measurement_len;
	__u32	reserved;
	__u8	evidence_digest[KATLS_DIGEST_LEN];
	__u8	measurement[KATLS_MEASUREMENT_MAX];
	char	policy[KATLS_POLICY_MAX];
};

/* ---- generic netlink ---- */

#define KATLS_GENL_NAME		"katls"
#define KATLS_GENL_VERSION	1
#define KATLS_MCGRP_AGENT	"agent"

enum {
	KATLS_CMD_UNSPEC,
	KATLS_CMD_READY,	/* notify: a request is pending */
	KATLS_CMD_ACCEPT,	/* do: take the oldest pending request */
	KATLS_CMD_DONE,		/* do: complete an accepted request */
	KATLS_CMD_GET,		/* dump: opted-in sockets and their state */
	__KATLS_CMD_MAX
};
#define KATLS_CMD_MAX		(__KATLS_CMD_MAX - 1)

enum {
	KATLS_A_UNSPEC,
	KATLS_A_REQ_ID,		/* u64: request handle */
	KATLS_A_SOCKFD,		/* s32: fd installed in the agent (ACCEPT reply) */
	KATLS_A_ROLE,		/* u32: enum katls_role */
	KATLS_A_POLICY,		/* string */
	KATLS_A_PEERNAME,	/* string */
	KATLS_A_TIMEOUT_MS,	/* u32: time left when accepted */
	KATLS_A_STATUS,		/* u32: 0 or positive errno */
	KATLS_A_SUMMARY,	/* nest: KATLS_SUMMARY_A_* */
	KATLS_A_TX,		/* binary: struct tls12_crypto_info_* (TLS 1.3) */
	KATLS_A_RX,		/* binary: struct tls12_crypto_info_* (TLS 1.3) */
	KATLS_A_STATE,		/* u32: enum katls_state (dump) */
	KATLS_A_FAMILY,		/* u16: AF_INET or AF_INET6 (dump) */
	KATLS_A_SADDR,		/* binary: 4 or 16 bytes (dump) */
	KATLS_A_DADDR,		/* binary: 4 or 16 bytes (dump) */
	KATLS_A_SPORT,		/* u16, host order (dump) */
	KATLS_A_DPORT,		/* u16, host order (dump) */
	KATLS_A_AGENT_PID,	/* u32: tgid of the owning agent (dump) */
	KATLS_A_AGE_MS,		/* u32: time since the request (dump) */
	KATLS_A_INODE,		/* u64: socket inode number (dump) */
	KATLS_A_PAD,
	__KATLS_A_MAX
};
#define KATLS_A_MAX		(__KATLS_A_MAX - 1)

enum {
	KATLS_SUMMARY_A_UNSPEC,
	KATLS_SUMMARY_A_EVIDENCE_TYPE,	/* u32: enum katls_evidence_type */
	KATLS_SUMMARY_A_BINDING_LEVEL,	/* u32: enum katls_binding_level */
	KATLS_SUMMARY_A_DIGEST,		/* binary: KATLS_DIGEST_LEN bytes */
	KATLS_SUMMARY_A_MEASUREMENT,	/* binary: 1..KATLS_MEASUREMENT_MAX */
	KATLS_SUMMARY_A_POLICY,		/* string */
	__KATLS_SUMMARY_A_MAX
};
#define KATLS_SUMMARY_A_MAX	(__KATLS_SUMMARY_A_MAX - 1)

#endif /* _UAPI_LINUX_KATLS_H */
