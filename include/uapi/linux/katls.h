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
 * KATLS_GENL_NAME.  Its numbers, and the enums and sizes this header
 * shares with it (enum katls_role, katls_state, katls_evidence_type,
 * katls_binding_level, KATLS_POLICY_MAX, ...), are in katls_genl.h,
 * generated from Documentation/netlink/specs/katls.yaml by tools/ynl-gen;
 * this header adds the socket options, which the spec cannot express.
 *
 * See Documentation/userspace-api.rst for the full contract.
 */
#ifndef _UAPI_LINUX_KATLS_H
#define _UAPI_LINUX_KATLS_H

#include <linux/types.h>

#include "katls_genl.h"		/* generated: tools/ynl-gen */

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
 *
 * The fields above describe the server's evidence (on the client: what
 * it verified; on the server: what it presented).  Mutual attestation
 * (issue 14 item 3, policy "require_client_evidence") appends the
 * client's evidence, same layout; its type is KATLS_EVIDENCE_NONE and
 * everything else zero when the client did not attest:
 * @client_evidence_type: enum katls_evidence_type of the client's
 *	evidence.
 * @client_binding_level: always KATLS_BINDING_L3 (an Exported
 *	Authenticator after the handshake).
 * @client_measurement_len: valid bytes in @client_measurement.
 * @client_reserved: 0.
 * @client_evidence_digest: SHA-256 of the client's evidence.
 * @client_measurement: the client's launch measurement.
 * @client_policy: on the server, the policy that accepted the client's
 *	evidence (the one "require_client_evidence" names); on the client,
 *	its own policy.
 *
 * The structure only grows at its end.  KATLS_RESULT accepts any length
 * from KATLS_RESULT_SIZE_VER0 (the structure before mutual attestation)
 * up, copies min(length, sizeof(struct katls_result)) bytes and writes
 * that length back: old binaries keep working unchanged.
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
	/* appended: mutual attestation (issue 14 item 3) */
	__u32	client_evidence_type;
	__u32	client_binding_level;
	__u32	client_measurement_len;
	__u32	client_reserved;
	__u8	client_evidence_digest[KATLS_DIGEST_LEN];
	__u8	client_measurement[KATLS_MEASUREMENT_MAX];
	char	client_policy[KATLS_POLICY_MAX];
};

/* sizeof(struct katls_result) before mutual attestation: 184 bytes */
#define KATLS_RESULT_SIZE_VER0	(6 * 4 + KATLS_DIGEST_LEN + \
				 KATLS_MEASUREMENT_MAX + KATLS_POLICY_MAX)

#endif /* _UAPI_LINUX_KATLS_H */
