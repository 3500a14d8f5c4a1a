// SPDX-License-Identifier: GPL-2.0
/*
 * test_netlink.c - the DONE message katlsd builds, parsed back with the
 * attribute layout of include/uapi/linux/katls.h.  (ACCEPT and the
 * multicast group need the kernel module: tested in the VM.)
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "netlink.h"
#include "tap.h"

#define FAMILY 0x1234

static struct nla_policy top[KATLS_A_MAX + 1] = {
	[KATLS_A_REQ_ID] = { .type = NLA_U64 },
	[KATLS_A_STATUS] = { .type = NLA_U32 },
	[KATLS_A_SUMMARY] = { .type = NLA_NESTED },
};

static struct nla_policy sum[KATLS_SUMMARY_A_MAX + 1] = {
	[KATLS_SUMMARY_A_EVIDENCE_TYPE] = { .type = NLA_U32 },
	[KATLS_SUMMARY_A_BINDING_LEVEL] = { .type = NLA_U32 },
	[KATLS_SUMMARY_A_POLICY] = { .type = NLA_STRING },
};

/* Does buf hold the 16 key bytes 0x11... of the test result? */
static bool has_key(const uint8_t *buf, size_t n)
{
	static const uint8_t key[16] = {
		0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
		0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 };

	return memmem(buf, n, key, sizeof(key)) != NULL;
}

/*
 * Issue 11 item 7: a DONE the kernel refuses (here: the controller
 * family, which has no such command) comes back as an error ack.  Without
 * NETLINK_CAP_ACK that ack echoes the whole message, keys included; with
 * it (katlsd's worker socket) only the header.  katls_agent_wait_ack()
 * reads it into the caller's buffer and wipes that.
 */
static void refused_done(const struct katlsd_hs_result *r, bool capped)
{
	static uint8_t buf[8192] __attribute__((aligned(8)));
	struct nl_msg *msg = katlsd_nl_build_done(GENL_ID_CTRL, 9, r);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlmsghdr *h;
	ssize_t n;
	int ret;

	if (!msg || fd < 0) {
		tap_ok(0, "netlink socket and message");
		return;
	}
	h = nlmsg_hdr(msg);
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = 4242;
	if (capped && katls_agent_cap_ack(fd)) {
		tap_ok(0, "NETLINK_CAP_ACK");
		return;
	}
	n = sendto(fd, h, h->nlmsg_len, 0, (void *)&kernel, sizeof(kernel));
	katls_agent_msg_wipe(msg);
	n = n < 0 ? n : recv(fd, buf, sizeof(buf), MSG_PEEK);
	if (!capped) {
		/* the control case: the test can see an echoed key */
		tap_ok(n > 0 && has_key(buf, (size_t)n),
		       "without NETLINK_CAP_ACK the error ack echoes the keys (%zd bytes)",
		       n);
	} else {
		tap_ok(n > 0 && !has_key(buf, (size_t)n),
		       "with NETLINK_CAP_ACK the error ack carries no key (%zd bytes)",
		       n);
	}
	ret = katls_agent_wait_ack(fd, 4242, buf, sizeof(buf));
	tap_ok(ret < 0, "%s: the refusal arrives as an error (%d)",
	       capped ? "capped" : "uncapped", ret);
	tap_ok(!has_key(buf, sizeof(buf)) && buf[0] == 0 && buf[100] == 0,
	       "%s: the receive buffer is wiped",
	       capped ? "capped" : "uncapped");
	close(fd);
}

int main(void)
{
	struct nlattr *tb[KATLS_A_MAX + 1], *sb[KATLS_SUMMARY_A_MAX + 1];
	struct katlsd_hs_result r;
	struct genlmsghdr *g;
	struct nl_msg *msg;
	int ret;

	tap_plan(22);

	memset(&r, 0, sizeof(r));
	r.status = 0;
	r.ev.evidence_type = KATLS_EVIDENCE_SIM;
	r.ev.binding_level = KATLS_BINDING_L2;
	memset(r.ev.digest, 0xd1, sizeof(r.ev.digest));
	memset(r.ev.measurement, 0x4d, 48);
	r.ev.measurement_len = 48;
	strcpy(r.ev.policy, "sim-demo");
	r.keys.tx.aes128.info.version = TLS_1_3_VERSION;
	r.keys.tx.aes128.info.cipher_type = TLS_CIPHER_AES_GCM_128;
	memset(r.keys.tx.aes128.key, 0x11, 16);
	r.keys.rx.aes128.info.version = TLS_1_3_VERSION;
	r.keys.rx.aes128.info.cipher_type = TLS_CIPHER_AES_GCM_128;
	memset(r.keys.rx.aes128.key, 0x22, 16);
	r.keys.len = sizeof(r.keys.tx.aes128);

	msg = katlsd_nl_build_done(FAMILY, 0x0102030405060708ull, &r);
	tap_ok(msg != NULL, "success DONE built");
	if (!msg)
		return tap_done();
	g = nlmsg_data(nlmsg_hdr(msg));
	tap_ok(nlmsg_hdr(msg)->nlmsg_type == FAMILY && g->cmd == KATLS_CMD_DONE &&
	       g->version == KATLS_GENL_VERSION, "family, command, version");
	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX, top);
	tap_ok(ret == 0, "parses");
	tap_ok(tb[KATLS_A_REQ_ID] &&
	       nla_get_u64(tb[KATLS_A_REQ_ID]) == 0x0102030405060708ull,
	       "REQ_ID");
	tap_ok(tb[KATLS_A_STATUS] && nla_get_u32(tb[KATLS_A_STATUS]) == 0,
	       "STATUS 0");
	tap_ok(tb[KATLS_A_TX] && nla_len(tb[KATLS_A_TX]) == (int)r.keys.len &&
	       !memcmp(nla_data(tb[KATLS_A_TX]), &r.keys.tx, r.keys.len),
	       "TX holds the crypto_info");
	tap_ok(tb[KATLS_A_RX] && nla_len(tb[KATLS_A_RX]) == (int)r.keys.len &&
	       !memcmp(nla_data(tb[KATLS_A_RX]), &r.keys.rx, r.keys.len),
	       "RX holds the crypto_info");
	ret = tb[KATLS_A_SUMMARY] ?
	      nla_parse_nested(sb, KATLS_SUMMARY_A_MAX, tb[KATLS_A_SUMMARY],
			       sum) : -1;
	tap_ok(ret == 0, "SUMMARY nest parses");
	tap_ok(ret == 0 && sb[KATLS_SUMMARY_A_EVIDENCE_TYPE] &&
	       nla_get_u32(sb[KATLS_SUMMARY_A_EVIDENCE_TYPE]) ==
	       KATLS_EVIDENCE_SIM &&
	       sb[KATLS_SUMMARY_A_BINDING_LEVEL] &&
	       nla_get_u32(sb[KATLS_SUMMARY_A_BINDING_LEVEL]) == 2,
	       "summary evidence type and binding level 2");
	tap_ok(ret == 0 && sb[KATLS_SUMMARY_A_DIGEST] &&
	       nla_len(sb[KATLS_SUMMARY_A_DIGEST]) == KATLS_DIGEST_LEN &&
	       !memcmp(nla_data(sb[KATLS_SUMMARY_A_DIGEST]), r.ev.digest, 32),
	       "summary digest");
	tap_ok(ret == 0 && sb[KATLS_SUMMARY_A_MEASUREMENT] &&
	       nla_len(sb[KATLS_SUMMARY_A_MEASUREMENT]) == 48 &&
	       !memcmp(nla_data(sb[KATLS_SUMMARY_A_MEASUREMENT]),
		       r.ev.measurement, 48), "summary measurement");
	tap_ok(ret == 0 && sb[KATLS_SUMMARY_A_POLICY] &&
	       !strcmp(nla_get_string(sb[KATLS_SUMMARY_A_POLICY]), "sim-demo"),
	       "summary policy");
	katls_agent_msg_wipe(msg);

	/* A failure carries the status and nothing else: no keys. */
	r.status = EKEYREJECTED;
	msg = katlsd_nl_build_done(FAMILY, 7, &r);
	tap_ok(msg != NULL, "failure DONE built");
	if (!msg)
		return tap_done();
	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX, top);
	tap_ok(ret == 0 && tb[KATLS_A_STATUS] &&
	       nla_get_u32(tb[KATLS_A_STATUS]) == EKEYREJECTED,
	       "failure STATUS EKEYREJECTED");
	tap_ok(!tb[KATLS_A_TX] && !tb[KATLS_A_RX],
	       "failure DONE carries no key");
	tap_ok(!tb[KATLS_A_SUMMARY], "failure DONE carries no summary");
	katls_agent_msg_wipe(msg);

	r.status = 0;
	refused_done(&r, false);
	refused_done(&r, true);
	return tap_done();
}
