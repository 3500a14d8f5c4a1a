/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katls/agent.h - the agent side of the "katls" generic netlink family
 * (libkatlsagent, userspace/agent/).
 *
 * One implementation of the protocol of include/uapi/linux/katls.h and
 * Documentation/netlink/specs/katls.yaml, on top of libnl-genl-3, for
 * every program that plays the agent or reads the dump: katlsd, katlsctl,
 * the VM test agent, the benchmarks.
 *
 *	READY	multicast "agent": a request is pending
 *		(katls_agent_listen(), katls_agent_drain())
 *	ACCEPT	take the oldest pending request: the socket arrives as a new
 *		descriptor in the caller (katls_agent_accept())
 *	DONE	complete an accepted request: a status, and on success the
 *		evidence summary and both TLS 1.3 crypto_infos
 *		(katls_agent_done())
 *	GET	dump the opted-in sockets (katls_agent_dump())
 *
 * Key material: a DONE message holds traffic keys.  Every buffer the
 * library fills with them -- the message, the socket's answer buffer, a
 * decoded struct katls_agent_done -- is wiped with explicit_bzero()
 * before it is freed or returned on an error path, and the sockets from
 * katls_agent_connect() have NETLINK_CAP_ACK set, so that a refused DONE
 * does not come back with its keys in the error ack.
 *
 * Error convention: functions returning int return 0 (or a count) on
 * success and a negative errno on failure; -ENOENT from
 * katls_agent_connect() and katls_agent_listen() means the katls module
 * is not loaded, from katls_agent_accept() that nothing is pending.
 * -EPROTO: a message that does not follow the protocol.
 */
#ifndef KATLS_AGENT_H
#define KATLS_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/katls.h>
#include <linux/tls.h>

struct nl_sock;
struct nl_msg;
struct nlmsghdr;

/** union katls_crypto_info - one direction's kTLS key, any cipher */
union katls_crypto_info {
	struct tls_crypto_info info;
	struct tls12_crypto_info_aes_gcm_128 aes128;
	struct tls12_crypto_info_aes_gcm_256 aes256;
	struct tls12_crypto_info_chacha20_poly1305 chacha;
};

/**
 * struct katls_keys - the TLS 1.3 traffic keys of both directions
 * @tx: what the local end sends with.
 * @rx: what the local end receives with.
 * @len: size of each of @tx and @rx (the struct of the cipher); 0: none.
 */
struct katls_keys {
	union katls_crypto_info tx, rx;
	size_t len;
};

/**
 * struct katls_agent_request - an accepted request (the ACCEPT reply)
 * @id: the request handle DONE names.
 * @fd: the socket, installed in the caller by ACCEPT; -1 if none.  The
 *	caller owns it (also when katls_agent_accept() fails after it came).
 * @role: enum katls_role of the local end.
 * @timeout_ms: time left of the kernel's deadline when accepted.
 * @policy: policy name, NUL-terminated, never empty.
 * @peername: expected peer name, may be empty.
 */
struct katls_agent_request {
	uint64_t id;
	int fd;
	uint32_t role;
	uint32_t timeout_ms;
	char policy[KATLS_POLICY_MAX];
	char peername[KATLS_PEERNAME_MAX];
};

/**
 * struct katls_agent_summary - the evidence summary a successful DONE
 *	carries (what KATLS_RESULT reports to the application)
 * @evidence_type: enum katls_evidence_type.
 * @binding_level: enum katls_binding_level.
 * @digest: SHA-256 of the verified evidence.
 * @measurement: launch measurement, @measurement_len bytes (0 to
 *	KATLS_MEASUREMENT_MAX; 0 sends none).
 * @measurement_len: valid bytes in @measurement.
 * @policy: name of the policy that accepted the evidence.
 */
struct katls_agent_summary {
	uint32_t evidence_type;
	uint32_t binding_level;
	uint8_t digest[KATLS_DIGEST_LEN];
	uint8_t measurement[KATLS_MEASUREMENT_MAX];
	size_t measurement_len;
	char policy[KATLS_POLICY_MAX];
};

/**
 * struct katls_agent_done - the DONE message
 * @id: the request handle from ACCEPT.
 * @status: 0, or the positive errno the handshake failed with.
 * @summary: status 0 only.
 * @keys: status 0 only; @keys.len must be the size of one of the three
 *	crypto_info structs, the same for both directions.
 * @has_client: status 0 only: mutual attestation (issue 14 item 3), the
 *	message carries @client as KATLS_A_CLIENT_SUMMARY.
 * @client: the client's evidence summary (binding level 3).
 * @max_age_ms: status 0 only: the connection's maximum age after the
 *	verdict (KATLS_A_MAX_AGE_MS; the kernel then fails every data call
 *	with EKEYEXPIRED and resets the connection); 0 sends none (no
 *	limit).
 */
struct katls_agent_done {
	uint64_t id;
	uint32_t status;
	struct katls_agent_summary summary;
	struct katls_keys keys;
	bool has_client;
	struct katls_agent_summary client;
	uint32_t max_age_ms;
};

/* Attributes present in a dump entry: bit KATLS_A_* of ->present. */
#define KATLS_AGENT_HAS(s, a)	(((s)->present >> (a)) & 1)

/**
 * struct katls_agent_sock - one opted-in socket of the KATLS_CMD_GET dump
 * @present: 1 << KATLS_A_* for each attribute the entry had.
 * @req_id: request handle (always present).
 * @inode: socket inode number.
 * @state: enum katls_state (always present).
 * @role: enum katls_role.
 * @agent_pid: tgid of the agent that owns the request, 0 if none.
 * @age_ms: time since the request.
 * @family: AF_INET or AF_INET6.
 * @sport: local port, host order.
 * @dport: peer port, host order.
 * @saddr: local address, 4 or 16 bytes as @family says.
 * @daddr: peer address.
 * @policy: policy name, NUL-terminated.
 */
struct katls_agent_sock {
	uint64_t present;
	uint64_t req_id, inode;
	uint32_t state, role, agent_pid, age_ms;
	uint16_t family, sport, dport;
	uint8_t saddr[16], daddr[16];
	char policy[KATLS_POLICY_MAX];
};

/**
 * struct katls_agent - one generic netlink socket of the katls family
 * @sk: the libnl socket (NULL when closed).
 * @family: the family id the controller resolved.
 */
struct katls_agent {
	struct nl_sock *sk;
	int family;
};

/* katls_agent_ctrl_drain() events */
#define KATLS_AGENT_FAMILY_NEW	0x1	/* the katls family (re)appeared */
#define KATLS_AGENT_FAMILY_DEL	0x2	/* the katls family went away */

/* ---- sockets ---- */

int katls_agent_connect(struct katls_agent *ag);
int katls_agent_listen(struct katls_agent *ag);
int katls_agent_ctrl_listen(struct katls_agent *ag);
int katls_agent_fd(const struct katls_agent *ag);
int katls_agent_drain(struct katls_agent *ag, unsigned int *ready);
int katls_agent_ctrl_drain(struct katls_agent *ag, unsigned int *events);
void katls_agent_close(struct katls_agent *ag);

/* ---- transactions ---- */

int katls_agent_accept(struct katls_agent *ag,
		       struct katls_agent_request *req);
int katls_agent_done(struct katls_agent *ag, const struct katls_agent_done *d);
int katls_agent_dump(struct katls_agent *ag,
		     int (*cb)(const struct katls_agent_sock *s, void *arg),
		     void *arg);

/* ---- messages (the codec; the transactions use these) ---- */

struct nl_msg *katls_agent_msg_new(int family, uint8_t cmd);
struct nl_msg *katls_agent_done_msg(int family,
				    const struct katls_agent_done *d);
int katls_agent_parse_accept(const struct nlmsghdr *h,
			     struct katls_agent_request *req);
int katls_agent_parse_done(const struct nlmsghdr *h,
			   struct katls_agent_done *d);
int katls_agent_parse_sock(const struct nlmsghdr *h,
			   struct katls_agent_sock *s);
int katls_agent_cap_ack(int fd);
int katls_agent_wait_ack(int fd, uint32_t seq, void *buf, size_t cap);

/* ---- key wiping ---- */

void katls_agent_msg_wipe(struct nl_msg *msg);
void katls_keys_wipe(struct katls_keys *k);
void katls_agent_done_wipe(struct katls_agent_done *d);
size_t katls_crypto_info_len(const union katls_crypto_info *ci);

#endif /* KATLS_AGENT_H */
