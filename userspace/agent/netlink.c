// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - the katls agent protocol (katls/agent.h) with libnl-genl-3:
 * READY, ACCEPT, DONE, the GET dump, and the wiping of key material.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include <katls/agent.h>

/* libnl error code -> negative errno, as far as it can be told. */
static int nlerr(int e)
{
	switch (-e) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* ---- key wiping ---- */

/**
 * katls_agent_msg_wipe() - zero a whole message buffer, then free it
 * @msg: the message (it may hold keys); may be NULL.
 *
 * Zeroes the buffer libnl allocated for @msg, not just the used part.
 */
void katls_agent_msg_wipe(struct nl_msg *msg)
{
	if (!msg)
		return;
	explicit_bzero(nlmsg_hdr(msg), nlmsg_get_max_size(msg));
	nlmsg_free(msg);
}

/* ---- sockets ---- */

/* A generic netlink socket; ag->family is the caller's to set. */
static int open_socket(struct katls_agent *ag)
{
	int ret;

	ag->sk = nl_socket_alloc();
	if (!ag->sk)
		return -ENOMEM;
	ret = genl_connect(ag->sk);
	if (ret < 0) {
		katls_agent_close(ag);
		return nlerr(ret);
	}
	return 0;
}

static int open_family(struct katls_agent *ag)
{
	int ret = open_socket(ag);

	if (ret)
		return ret;
	ag->family = genl_ctrl_resolve(ag->sk, KATLS_GENL_NAME);
	if (ag->family < 0) {
		/* The katls module is not loaded: -ENOENT. */
		ret = nlerr(ag->family);
		katls_agent_close(ag);
	}
	return ret;
}

/* Join a multicast group, non-blocking; closes the socket on failure. */
static int join_group(struct katls_agent *ag, const char *family,
		      const char *group)
{
	int ret = genl_ctrl_resolve_grp(ag->sk, family, group);

	/* Notifications are not answers to our requests. */
	nl_socket_disable_seq_check(ag->sk);
	if (ret >= 0)
		ret = nl_socket_add_membership(ag->sk, ret);
	if (ret >= 0)
		ret = nl_socket_set_nonblocking(ag->sk);
	if (ret < 0) {
		katls_agent_close(ag);
		return nlerr(ret);
	}
	return 0;
}

/**
 * katls_agent_cap_ack() - set NETLINK_CAP_ACK on a netlink socket
 * @fd: the socket.
 *
 * Error acks then carry our header only, never the payload (keys) of the
 * message they refuse.
 *
 * Return: 0 or a negative errno.
 */
int katls_agent_cap_ack(int fd)
{
	int one = 1;

	return setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
			  sizeof(one)) ? -errno : 0;
}

/**
 * katls_agent_connect() - a socket for ACCEPT, DONE and the dump
 * @ag: filled in; katls_agent_close() releases it.
 *
 * A request is tied to the socket (port and process) that accepted it,
 * so DONE must come from the same socket.  NETLINK_CAP_ACK is set.
 *
 * Return: 0, -ENOENT if the katls module is not loaded, or another
 * negative errno.
 */
int katls_agent_connect(struct katls_agent *ag)
{
	int ret = open_family(ag);

	if (ret)
		return ret;
	/*
	 * A refused DONE's error ack would otherwise echo the whole
	 * message, traffic secrets included, into a receive buffer.
	 */
	ret = katls_agent_cap_ack(nl_socket_get_fd(ag->sk));
	if (ret)
		katls_agent_close(ag);
	return ret;
}

/**
 * katls_agent_listen() - join the "agent" multicast group (READY)
 * @ag: filled in; katls_agent_close() releases it.
 *
 * The socket is non-blocking, with a 1 MiB receive buffer; the kernel
 * refuses requests (ESRCH) while no socket listens.
 *
 * Return: 0, -ENOENT if the katls module is not loaded, or another
 * negative errno.
 */
int katls_agent_listen(struct katls_agent *ag)
{
	int ret = open_family(ag);

	if (!ret)
		ret = join_group(ag, KATLS_GENL_NAME, KATLS_MCGRP_AGENT);
	if (!ret)
		nl_socket_set_buffer_size(ag->sk, 1 << 20, 0);
	return ret;
}

/**
 * katls_agent_ctrl_listen() - follow the generic netlink controller
 * @ag: filled in; katls_agent_close() releases it.
 *
 * Joins the controller's "notify" group (non-blocking), so that the
 * caller notices when katls.ko is unloaded (the family and its group
 * vanish with it) and loaded again; see katls_agent_ctrl_drain().
 *
 * Return: 0 or a negative errno.
 */
int katls_agent_ctrl_listen(struct katls_agent *ag)
{
	int ret = open_socket(ag);

	if (ret)
		return ret;
	ag->family = GENL_ID_CTRL;
	return join_group(ag, "nlctrl", "notify");
}

/**
 * katls_agent_fd() - the socket's descriptor, for poll(2)
 * @ag: an open agent socket.
 *
 * Return: the descriptor.
 */
int katls_agent_fd(const struct katls_agent *ag)
{
	return nl_socket_get_fd(ag->sk);
}

/**
 * katls_agent_close() - release the socket
 * @ag: the agent socket; closing twice is harmless.
 */
void katls_agent_close(struct katls_agent *ag)
{
	if (ag->sk)
		nl_socket_free(ag->sk);
	ag->sk = NULL;
}

/* Multicast notifications carry sequence number 0: accept them. */
static int seq_ok(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

/*
 * Read every queued message of a non-blocking socket through @valid.
 * Returns 0 once drained, -ENOBUFS after an overrun (libnl reports the
 * kernel's ENOBUFS as NLE_NOMEM), or another negative errno.
 */
static int drain(struct katls_agent *ag, nl_recvmsg_msg_cb_t valid,
		 void *arg)
{
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, arg);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, seq_ok, NULL);
	do {
		ret = nl_recvmsgs_report(ag->sk, cb);
	} while (ret > 0);
	nl_cb_put(cb);
	if (ret == -NLE_AGAIN || !ret)
		return 0;
	return ret == -NLE_NOMEM ? -ENOBUFS : nlerr(ret);
}

static int ready_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	unsigned int *ready = arg;

	if (genlmsg_valid_hdr(h, 0) &&
	    ((struct genlmsghdr *)nlmsg_data(h))->cmd == KATLS_CMD_READY)
		(*ready)++;
	return NL_OK;
}

/**
 * katls_agent_drain() - read every queued READY notification
 * @ag: a socket from katls_agent_listen().
 * @ready: set to the number of READY seen.
 *
 * Return: 0, -ENOBUFS if notifications were lost (socket overrun: the
 * caller should try ACCEPT anyway), or another negative errno.
 */
int katls_agent_drain(struct katls_agent *ag, unsigned int *ready)
{
	*ready = 0;
	return drain(ag, ready_cb, ready);
}

static int ctrl_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct genlmsghdr *g;
	struct nlattr *name;
	unsigned int *ev = arg;

	if (h->nlmsg_type != GENL_ID_CTRL || !genlmsg_valid_hdr(h, 0))
		return NL_SKIP;
	g = nlmsg_data(h);
	name = nla_find(genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0),
			CTRL_ATTR_FAMILY_NAME);
	if (!name || nla_len(name) != sizeof(KATLS_GENL_NAME) ||
	    memcmp(nla_data(name), KATLS_GENL_NAME, sizeof(KATLS_GENL_NAME)))
		return NL_SKIP;
	if (g->cmd == CTRL_CMD_NEWFAMILY)
		*ev |= KATLS_AGENT_FAMILY_NEW;
	else if (g->cmd == CTRL_CMD_DELFAMILY)
		*ev |= KATLS_AGENT_FAMILY_DEL;
	return NL_OK;
}

/**
 * katls_agent_ctrl_drain() - read the controller's queued notifications
 * @ag: a socket from katls_agent_ctrl_listen().
 * @events: set to the KATLS_AGENT_FAMILY_* bits seen for "katls"; after
 *	an overrun both, as nothing can tell what was lost.
 *
 * Return: 0 or a negative errno.
 */
int katls_agent_ctrl_drain(struct katls_agent *ag, unsigned int *events)
{
	int ret;

	*events = 0;
	ret = drain(ag, ctrl_cb, events);
	if (ret == -ENOBUFS) {
		*events |= KATLS_AGENT_FAMILY_DEL | KATLS_AGENT_FAMILY_NEW;
		return 0;
	}
	return ret;
}

/* ---- the codec ---- */

/**
 * katls_agent_msg_new() - a new katls request message
 * @family: the family id (struct katls_agent.family).
 * @cmd: KATLS_CMD_*.
 *
 * Return: the message with its generic netlink header (version
 * KATLS_GENL_VERSION) and no attribute, or NULL (out of memory).
 */
struct nl_msg *katls_agent_msg_new(int family, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd,
			 KATLS_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static bool done_valid(const struct katls_agent_done *d)
{
	const struct katls_agent_summary *s = &d->summary;

	if (d->status)
		return true;
	return d->keys.len &&
	       katls_crypto_info_len(&d->keys.tx) == d->keys.len &&
	       katls_crypto_info_len(&d->keys.rx) == d->keys.len &&
	       d->keys.tx.info.cipher_type == d->keys.rx.info.cipher_type &&
	       s->measurement_len <= KATLS_MEASUREMENT_MAX &&
	       memchr(s->policy, '\0', sizeof(s->policy)) &&
	       (!d->has_client ||
		(d->client.measurement_len <= KATLS_MEASUREMENT_MAX &&
		 memchr(d->client.policy, '\0', sizeof(d->client.policy))));
}

/* One nested summary (KATLS_A_SUMMARY, KATLS_A_CLIENT_SUMMARY). */
static int put_summary(struct nl_msg *msg, int attr,
		       const struct katls_agent_summary *s)
{
	struct nlattr *nest = nla_nest_start(msg, attr);

	if (!nest)
		return -1;
	if (nla_put_u32(msg, KATLS_SUMMARY_A_EVIDENCE_TYPE, s->evidence_type) ||
	    nla_put_u32(msg, KATLS_SUMMARY_A_BINDING_LEVEL, s->binding_level) ||
	    nla_put(msg, KATLS_SUMMARY_A_DIGEST, KATLS_DIGEST_LEN, s->digest))
		return -1;
	if (s->measurement_len &&
	    nla_put(msg, KATLS_SUMMARY_A_MEASUREMENT, (int)s->measurement_len,
		    s->measurement))
		return -1;
	if (nla_put_string(msg, KATLS_SUMMARY_A_POLICY, s->policy))
		return -1;
	nla_nest_end(msg, nest);
	return 0;
}

/**
 * katls_agent_done_msg() - build the DONE message
 * @family: the family id.
 * @d: the request id, the status, and for status 0 the summary and keys.
 *
 * A failure (status != 0) carries the status only, never a summary or a
 * key.  The caller sends the message and frees it with
 * katls_agent_msg_wipe().
 *
 * Return: the message, or NULL with errno EINVAL (status 0 with keys of
 * no handed-over cipher or of two lengths, a measurement over
 * KATLS_MEASUREMENT_MAX, an unterminated policy) or ENOMEM.
 */
struct nl_msg *katls_agent_done_msg(int family,
				    const struct katls_agent_done *d)
{
	struct nl_msg *msg;

	if (!done_valid(d)) {
		errno = EINVAL;
		return NULL;
	}
	msg = katls_agent_msg_new(family, KATLS_CMD_DONE);
	if (!msg)
		goto nomem;
	if (nla_put_u64(msg, KATLS_A_REQ_ID, d->id) ||
	    nla_put_u32(msg, KATLS_A_STATUS, d->status))
		goto fail;
	if (d->status)
		return msg;

	if (put_summary(msg, KATLS_A_SUMMARY, &d->summary))
		goto fail;
	if (nla_put(msg, KATLS_A_TX, (int)d->keys.len, &d->keys.tx) ||
	    nla_put(msg, KATLS_A_RX, (int)d->keys.len, &d->keys.rx))
		goto fail;
	/* issue 14 item 3: after the version 1 attributes */
	if (d->has_client && put_summary(msg, KATLS_A_CLIENT_SUMMARY, &d->client))
		goto fail;
	/* issue 14 item 7: after it */
	if (d->max_age_ms &&
	    nla_put_u32(msg, KATLS_A_MAX_AGE_MS, d->max_age_ms))
		goto fail;
	return msg;
fail:
	katls_agent_msg_wipe(msg);
nomem:
	errno = ENOMEM;
	return NULL;
}

/* Exact sizes: a longer integer is as malformed as a shorter one. */
#define U64	{ .type = NLA_U64, .minlen = 8, .maxlen = 8 }
#define U32	{ .type = NLA_U32, .minlen = 4, .maxlen = 4 }
#define U16	{ .type = NLA_U16, .minlen = 2, .maxlen = 2 }

static struct nla_policy accept_policy[KATLS_A_MAX + 1] = {
	[KATLS_A_REQ_ID] = U64,
	[KATLS_A_SOCKFD] = U32,
	[KATLS_A_ROLE] = U32,
	[KATLS_A_POLICY] = { .type = NLA_STRING, .maxlen = KATLS_POLICY_MAX },
	[KATLS_A_PEERNAME] = { .type = NLA_STRING,
			       .maxlen = KATLS_PEERNAME_MAX },
	[KATLS_A_TIMEOUT_MS] = U32,
};

/* A NUL-terminated string attribute into dst; libnl checked the NUL. */
static int copy_str(char *dst, size_t cap, const struct nlattr *a)
{
	const char *s = nla_data(a);
	size_t len = strnlen(s, (size_t)nla_len(a));

	if (len >= cap || len + 1 != (size_t)nla_len(a))
		return -EPROTO;
	memcpy(dst, s, len + 1);
	return 0;
}

static const struct nlattr *find_attr(const struct nlmsghdr *h, int type)
{
	struct genlmsghdr *g = nlmsg_data(h);

	return nla_find(genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), type);
}

/**
 * katls_agent_parse_accept() - decode an ACCEPT reply
 * @h: the message.
 * @req: filled in; @req->fd is -1 unless the message named one.
 *
 * The descriptor is taken first: it is installed in the caller whatever
 * else is wrong with the message, and the caller must close it.  The
 * request id, descriptor, role and policy are required; integers must
 * have their exact size, strings must be NUL-terminated and fit.
 *
 * Return: 0 or -EPROTO.
 */
int katls_agent_parse_accept(const struct nlmsghdr *h,
			     struct katls_agent_request *req)
{
	struct nlmsghdr *hh = (struct nlmsghdr *)h;
	struct nlattr *tb[KATLS_A_MAX + 1];
	const struct nlattr *fd;

	memset(req, 0, sizeof(*req));
	req->fd = -1;
	if (!genlmsg_valid_hdr(hh, 0))
		return -EPROTO;
	fd = find_attr(h, KATLS_A_SOCKFD);
	if (fd && nla_len(fd) == sizeof(uint32_t) &&
	    (int32_t)nla_get_u32((struct nlattr *)fd) >= 0)
		req->fd = (int32_t)nla_get_u32((struct nlattr *)fd);
	if (genlmsg_parse(hh, 0, tb, KATLS_A_MAX, accept_policy) < 0)
		return -EPROTO;
	if (!tb[KATLS_A_REQ_ID] || req->fd < 0 || !tb[KATLS_A_ROLE] ||
	    !tb[KATLS_A_POLICY])
		return -EPROTO;
	req->id = nla_get_u64(tb[KATLS_A_REQ_ID]);
	req->role = nla_get_u32(tb[KATLS_A_ROLE]);
	if (tb[KATLS_A_TIMEOUT_MS])
		req->timeout_ms = nla_get_u32(tb[KATLS_A_TIMEOUT_MS]);
	if (copy_str(req->policy, sizeof(req->policy), tb[KATLS_A_POLICY]) ||
	    !req->policy[0] ||
	    (tb[KATLS_A_PEERNAME] &&
	     copy_str(req->peername, sizeof(req->peername),
		      tb[KATLS_A_PEERNAME])))
		return -EPROTO;
	return 0;
}

static struct nla_policy done_policy[KATLS_A_MAX + 1] = {
	[KATLS_A_REQ_ID] = U64,
	[KATLS_A_STATUS] = U32,
	[KATLS_A_SUMMARY] = { .type = NLA_NESTED },
	[KATLS_A_CLIENT_SUMMARY] = { .type = NLA_NESTED },
	[KATLS_A_TX] = { .type = NLA_UNSPEC, .minlen = 1,
			 .maxlen = sizeof(union katls_crypto_info) },
	[KATLS_A_RX] = { .type = NLA_UNSPEC, .minlen = 1,
			 .maxlen = sizeof(union katls_crypto_info) },
	[KATLS_A_MAX_AGE_MS] = U32,
};

static struct nla_policy summary_policy[KATLS_SUMMARY_A_MAX + 1] = {
	[KATLS_SUMMARY_A_EVIDENCE_TYPE] = U32,
	[KATLS_SUMMARY_A_BINDING_LEVEL] = U32,
	[KATLS_SUMMARY_A_DIGEST] = { .type = NLA_UNSPEC,
				     .minlen = KATLS_DIGEST_LEN,
				     .maxlen = KATLS_DIGEST_LEN },
	[KATLS_SUMMARY_A_MEASUREMENT] = { .type = NLA_UNSPEC, .minlen = 1,
					  .maxlen = KATLS_MEASUREMENT_MAX },
	[KATLS_SUMMARY_A_POLICY] = { .type = NLA_STRING,
				     .maxlen = KATLS_POLICY_MAX },
};

static int parse_key(const struct nlattr *a, union katls_crypto_info *ci)
{
	size_t len = (size_t)nla_len(a);

	memcpy(ci, nla_data(a), len);
	return katls_crypto_info_len(ci) == len ? (int)len : -EPROTO;
}

static int parse_summary(struct nlattr *nest, struct katls_agent_summary *s)
{
	struct nlattr *sb[KATLS_SUMMARY_A_MAX + 1];

	if (nla_parse_nested(sb, KATLS_SUMMARY_A_MAX, nest, summary_policy) < 0)
		return -EPROTO;
	if (!sb[KATLS_SUMMARY_A_EVIDENCE_TYPE] ||
	    !sb[KATLS_SUMMARY_A_BINDING_LEVEL] ||
	    !sb[KATLS_SUMMARY_A_DIGEST] || !sb[KATLS_SUMMARY_A_POLICY] ||
	    copy_str(s->policy, sizeof(s->policy), sb[KATLS_SUMMARY_A_POLICY]))
		return -EPROTO;
	s->evidence_type = nla_get_u32(sb[KATLS_SUMMARY_A_EVIDENCE_TYPE]);
	s->binding_level = nla_get_u32(sb[KATLS_SUMMARY_A_BINDING_LEVEL]);
	memcpy(s->digest, nla_data(sb[KATLS_SUMMARY_A_DIGEST]),
	       KATLS_DIGEST_LEN);
	if (sb[KATLS_SUMMARY_A_MEASUREMENT]) {
		s->measurement_len =
			(size_t)nla_len(sb[KATLS_SUMMARY_A_MEASUREMENT]);
		memcpy(s->measurement,
		       nla_data(sb[KATLS_SUMMARY_A_MEASUREMENT]),
		       s->measurement_len);
	}
	return 0;
}

static int parse_done(struct nlmsghdr *h, struct katls_agent_done *d)
{
	struct nlattr *tb[KATLS_A_MAX + 1];
	int tx, rx;

	if (!genlmsg_valid_hdr(h, 0) ||
	    genlmsg_parse(h, 0, tb, KATLS_A_MAX, done_policy) < 0 ||
	    !tb[KATLS_A_REQ_ID] || !tb[KATLS_A_STATUS])
		return -EPROTO;
	d->id = nla_get_u64(tb[KATLS_A_REQ_ID]);
	d->status = nla_get_u32(tb[KATLS_A_STATUS]);
	/* A failure carries no key and no summary. */
	if (d->status)
		return tb[KATLS_A_TX] || tb[KATLS_A_RX] ||
		       tb[KATLS_A_SUMMARY] || tb[KATLS_A_CLIENT_SUMMARY] ||
		       tb[KATLS_A_MAX_AGE_MS] ?
		       -EPROTO : 0;
	if (!tb[KATLS_A_SUMMARY] || !tb[KATLS_A_TX] || !tb[KATLS_A_RX] ||
	    parse_summary(tb[KATLS_A_SUMMARY], &d->summary))
		return -EPROTO;
	if (tb[KATLS_A_CLIENT_SUMMARY]) {
		if (parse_summary(tb[KATLS_A_CLIENT_SUMMARY], &d->client))
			return -EPROTO;
		d->has_client = true;
	}
	tx = parse_key(tb[KATLS_A_TX], &d->keys.tx);
	rx = parse_key(tb[KATLS_A_RX], &d->keys.rx);
	if (tx < 0 || rx != tx ||
	    d->keys.tx.info.cipher_type != d->keys.rx.info.cipher_type)
		return -EPROTO;
	d->keys.len = (size_t)tx;
	if (tb[KATLS_A_MAX_AGE_MS]) {
		d->max_age_ms = nla_get_u32(tb[KATLS_A_MAX_AGE_MS]);
		if (!d->max_age_ms)
			return -EPROTO;
	}
	return 0;
}

/**
 * katls_agent_parse_done() - decode a DONE message (tests, tools)
 * @h: the message.
 * @d: filled in; wiped whenever the message is refused, so that no
 *	partial key is left behind.
 *
 * Checks what the module's DONE handler relies on: id and status; for a
 * failure nothing else; for success a summary with evidence type,
 * binding level, a KATLS_DIGEST_LEN digest, a measurement of 1 to
 * KATLS_MEASUREMENT_MAX bytes if any, a NUL-terminated policy, and two
 * TLS 1.3 crypto_infos of one supported cipher, each exactly its
 * struct's size.
 *
 * Return: 0 or -EPROTO.
 */
int katls_agent_parse_done(const struct nlmsghdr *h,
			   struct katls_agent_done *d)
{
	int ret;

	memset(d, 0, sizeof(*d));
	ret = parse_done((struct nlmsghdr *)h, d);
	if (ret)
		katls_agent_done_wipe(d);
	return ret;
}

static struct nla_policy sock_policy[KATLS_A_MAX + 1] = {
	[KATLS_A_REQ_ID] = U64,
	[KATLS_A_STATE] = U32,
	[KATLS_A_ROLE] = U32,
	[KATLS_A_FAMILY] = U16,
	[KATLS_A_SADDR] = { .type = NLA_UNSPEC, .minlen = 4, .maxlen = 16 },
	[KATLS_A_DADDR] = { .type = NLA_UNSPEC, .minlen = 4, .maxlen = 16 },
	[KATLS_A_SPORT] = U16,
	[KATLS_A_DPORT] = U16,
	[KATLS_A_AGENT_PID] = U32,
	[KATLS_A_AGE_MS] = U32,
	[KATLS_A_POLICY] = { .type = NLA_STRING, .maxlen = KATLS_POLICY_MAX },
	[KATLS_A_INODE] = U64,
};

static int addr_len(uint16_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : -1;
}

/**
 * katls_agent_parse_sock() - decode one entry of the KATLS_CMD_GET dump
 * @h: the message.
 * @s: filled in; @s->present says which attributes came.
 *
 * Request id and state are required; integers have their exact sizes,
 * addresses 4 bytes for AF_INET and 16 for AF_INET6 (a family is then
 * required), the policy is NUL-terminated within KATLS_POLICY_MAX.
 *
 * Return: 0 or -EPROTO.
 */
int katls_agent_parse_sock(const struct nlmsghdr *h,
			   struct katls_agent_sock *s)
{
	struct nlmsghdr *hh = (struct nlmsghdr *)h;
	struct nlattr *tb[KATLS_A_MAX + 1];
	int alen;

	memset(s, 0, sizeof(*s));
	if (!genlmsg_valid_hdr(hh, 0) ||
	    genlmsg_parse(hh, 0, tb, KATLS_A_MAX, sock_policy) < 0)
		return -EPROTO;
	for (int a = 1; a <= KATLS_A_MAX; a++)
		if (tb[a])
			s->present |= 1ull << a;
	/* Every entry is a request; without its id it is not one of ours. */
	if (!tb[KATLS_A_REQ_ID] || !tb[KATLS_A_STATE])
		return -EPROTO;
	s->req_id = nla_get_u64(tb[KATLS_A_REQ_ID]);
	s->state = nla_get_u32(tb[KATLS_A_STATE]);
	if (tb[KATLS_A_ROLE])
		s->role = nla_get_u32(tb[KATLS_A_ROLE]);
	if (tb[KATLS_A_AGENT_PID])
		s->agent_pid = nla_get_u32(tb[KATLS_A_AGENT_PID]);
	if (tb[KATLS_A_AGE_MS])
		s->age_ms = nla_get_u32(tb[KATLS_A_AGE_MS]);
	if (tb[KATLS_A_INODE])
		s->inode = nla_get_u64(tb[KATLS_A_INODE]);
	if (tb[KATLS_A_SPORT])
		s->sport = nla_get_u16(tb[KATLS_A_SPORT]);
	if (tb[KATLS_A_DPORT])
		s->dport = nla_get_u16(tb[KATLS_A_DPORT]);
	if (tb[KATLS_A_FAMILY])
		s->family = nla_get_u16(tb[KATLS_A_FAMILY]);
	alen = addr_len(s->family);
	if ((tb[KATLS_A_SADDR] || tb[KATLS_A_DADDR]) && alen < 0)
		return -EPROTO;
	if (tb[KATLS_A_SADDR]) {
		if (nla_len(tb[KATLS_A_SADDR]) != alen)
			return -EPROTO;
		memcpy(s->saddr, nla_data(tb[KATLS_A_SADDR]), (size_t)alen);
	}
	if (tb[KATLS_A_DADDR]) {
		if (nla_len(tb[KATLS_A_DADDR]) != alen)
			return -EPROTO;
		memcpy(s->daddr, nla_data(tb[KATLS_A_DADDR]), (size_t)alen);
	}
	if (tb[KATLS_A_POLICY] &&
	    copy_str(s->policy, sizeof(s->policy), tb[KATLS_A_POLICY]))
		return -EPROTO;
	return 0;
}

/**
 * katls_agent_wait_ack() - read until the ack or error for @seq
 * @fd: the netlink socket.
 * @seq: sequence number of the request.
 * @buf: receive buffer of @cap bytes, wiped before returning (an echoed
 *	request may hold keys).
 * @cap: its size.
 *
 * Return: 0 for an ack, the negative errno of an error ack, -EPROTO for
 * a malformed one, or the negative errno of recv(2).
 */
int katls_agent_wait_ack(int fd, uint32_t seq, void *buf, size_t cap)
{
	int ret = 1;

	while (ret > 0) {
		struct nlmsghdr *h = buf;
		ssize_t n;

		n = recv(fd, buf, cap, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				ret = -EPROTO;
			else
				ret = e->error > 0 ? -EPROTO : e->error;
			break;
		}
	}
	explicit_bzero(buf, cap);
	return ret;
}

/* ---- request/answer over one socket ---- */

struct xfer {
	uint32_t seq;			/* of the request */
	bool done;
	int error;			/* negative errno */
	struct katls_agent_request *req;	/* ACCEPT */
	bool got_reply;
	int (*sock_cb)(const struct katls_agent_sock *s, void *arg); /* GET */
	void *sock_arg;
};

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct xfer *x = arg;

	x->error = e->error > 0 ? -EPROTO : e->error;
	x->done = true;
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct xfer *x = arg;

	x->done = true;
	return NL_STOP;
}

static int accept_cb(struct nl_msg *msg, void *arg)
{
	struct xfer *x = arg;
	int ret;

	if (x->got_reply)	/* one reply only */
		return NL_SKIP;
	ret = katls_agent_parse_accept(nlmsg_hdr(msg), x->req);
	/* Take the fd first: it is ours now whatever else is wrong. */
	x->got_reply = true;
	if (ret)
		x->error = ret;
	return NL_OK;
}

static int sock_cb(struct nl_msg *msg, void *arg)
{
	struct xfer *x = arg;
	struct katls_agent_sock s;
	int ret;

	ret = katls_agent_parse_sock(nlmsg_hdr(msg), &s);
	if (!ret)
		ret = x->sock_cb(&s, x->sock_arg);
	if (ret) {
		x->error = ret;
		return NL_STOP;
	}
	return NL_OK;
}

/*
 * Only answers to this request count.  Our own check rather than libnl's:
 * katls_agent_done() reads its ack past libnl, so libnl's idea of the
 * next expected sequence number would be one behind on this socket's
 * next transaction.
 */
static int seq_check_cb(struct nl_msg *msg, void *arg)
{
	struct xfer *x = arg;

	return nlmsg_hdr(msg)->nlmsg_seq == x->seq ? NL_OK : NL_SKIP;
}

static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct xfer *x = arg;

	x->done = true;
	return NL_STOP;
}

static int transact(struct katls_agent *ag, struct nl_msg *msg,
		    struct xfer *x)
{
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_err(cb, NL_CB_CUSTOM, err_cb, x);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, x);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, finish_cb, x);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, seq_check_cb, x);
	if (x->req)
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, accept_cb, x);
	if (x->sock_cb)
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, sock_cb, x);
	ret = nl_send_auto(ag->sk, msg);
	if (ret < 0) {
		ret = nlerr(ret);
		goto out;
	}
	x->seq = nlmsg_hdr(msg)->nlmsg_seq;
	ret = 0;
	while (!x->done) {
		ret = nl_recvmsgs(ag->sk, cb);
		if (ret < 0) {
			ret = x->error ? x->error : nlerr(ret);
			break;
		}
		if (x->error && x->sock_cb)
			break;		/* the callback refused an entry */
	}
	if (!ret && x->error)
		ret = x->error;
out:
	nl_cb_put(cb);
	return ret;
}

/**
 * katls_agent_accept() - take the oldest pending request
 * @ag: a socket from katls_agent_connect(); DONE must use it too.
 * @req: the request; @req->fd is the socket, installed in this process.
 *
 * On an error after the descriptor arrived (a malformed reply),
 * @req->fd is still set and the caller must close it.
 *
 * Return: 0, -ENOENT if nothing is pending, -EPROTO for a malformed
 * reply, or another negative errno (-EPERM: not allowed to be an agent).
 */
int katls_agent_accept(struct katls_agent *ag,
		       struct katls_agent_request *req)
{
	struct xfer x = { .req = req };
	struct nl_msg *msg;
	int ret;

	memset(req, 0, sizeof(*req));
	req->fd = -1;
	msg = katls_agent_msg_new(ag->family, KATLS_CMD_ACCEPT);
	if (!msg)
		return -ENOMEM;
	ret = transact(ag, msg, &x);
	nlmsg_free(msg);
	if (!ret && !x.got_reply)
		ret = -EPROTO;
	return ret;
}

/**
 * katls_agent_done() - complete an accepted request
 * @ag: the socket that accepted it.
 * @d: id, status, and for status 0 the summary and both keys.
 *
 * The message is wiped as soon as it is sent; the kernel's answer goes
 * into a buffer of the library's own that is wiped after reading, not
 * into one libnl would free with whatever it held.
 *
 * Return: 0 or a negative errno (-EINVAL: @d is not a valid DONE; the
 * kernel's refusal otherwise).
 */
int katls_agent_done(struct katls_agent *ag, const struct katls_agent_done *d)
{
	static __thread uint8_t buf[8192] __attribute__((aligned(8)));
	struct nl_msg *msg;
	uint32_t seq;
	int ret;

	msg = katls_agent_done_msg(ag->family, d);
	if (!msg)
		return -errno;
	ret = nl_send_auto(ag->sk, msg);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	katls_agent_msg_wipe(msg);
	if (ret < 0)
		return nlerr(ret);
	return katls_agent_wait_ack(nl_socket_get_fd(ag->sk), seq, buf,
				    sizeof(buf));
}

/**
 * katls_agent_dump() - list the opted-in sockets (KATLS_CMD_GET)
 * @ag: a socket from katls_agent_connect().
 * @cb: called for each entry; a non-zero (negative errno) return stops
 *	the dump and is returned.
 * @arg: passed to @cb.
 *
 * Return: 0, -EPROTO for a malformed entry, -EPERM without
 * CAP_NET_ADMIN, @cb's error, or another negative errno.
 */
int katls_agent_dump(struct katls_agent *ag,
		     int (*cb)(const struct katls_agent_sock *s, void *arg),
		     void *arg)
{
	struct xfer x = { .sock_cb = cb, .sock_arg = arg };
	struct nl_msg *msg;
	int ret;

	msg = katls_agent_msg_new(ag->family, KATLS_CMD_GET);
	if (!msg)
		return -ENOMEM;
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_DUMP;
	ret = transact(ag, msg, &x);
	nlmsg_free(msg);
	return ret;
}
