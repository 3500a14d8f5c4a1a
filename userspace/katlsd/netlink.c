// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - generic netlink with libnl-genl-3: READY, ACCEPT, DONE.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "log.h"
#include "netlink.h"

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
	default:
		return -EIO;
	}
}

static int open_family(struct katlsd_nl *nl)
{
	int ret;

	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	ret = genl_connect(nl->sk);
	if (ret < 0)
		goto fail;
	nl->family = genl_ctrl_resolve(nl->sk, KATLS_GENL_NAME);
	if (nl->family < 0) {
		/* The katls module is not loaded. */
		ret = nl->family;
		goto fail;
	}
	return 0;
fail:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return ret == -NLE_OBJ_NOTFOUND ? -ENOENT : nlerr(ret);
}

/* Multicast notifications carry sequence number 0: accept them. */
static int seq_ok(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

static int ready_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	unsigned int *ready = arg;

	if (g->cmd == KATLS_CMD_READY)
		(*ready)++;
	return NL_OK;
}

int katlsd_nl_listen(struct katlsd_nl *nl)
{
	int grp, ret;

	ret = open_family(nl);
	if (ret)
		return ret;
	grp = genl_ctrl_resolve_grp(nl->sk, KATLS_GENL_NAME,
				    KATLS_MCGRP_AGENT);
	if (grp < 0) {
		ret = nlerr(grp);
		goto fail;
	}
	/* Notifications are not answers to our requests. */
	nl_socket_disable_seq_check(nl->sk);
	ret = nl_socket_add_membership(nl->sk, grp);
	if (ret < 0) {
		ret = nlerr(ret);
		goto fail;
	}
	nl_socket_set_buffer_size(nl->sk, 1 << 20, 0);
	ret = nl_socket_set_nonblocking(nl->sk);
	if (ret < 0) {
		ret = nlerr(ret);
		goto fail;
	}
	return 0;
fail:
	katlsd_nl_close(nl);
	return ret;
}

int katlsd_nl_fd(const struct katlsd_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

/*
 * Read every queued message of a non-blocking socket through @valid.
 * Returns -ENOMEM, or 0 with libnl's result in @nlret (0: drained).
 */
static int drain(struct katlsd_nl *nl, nl_recvmsg_msg_cb_t valid, void *arg,
		 int *nlret)
{
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, arg);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, seq_ok, NULL);
	do {
		ret = nl_recvmsgs_report(nl->sk, cb);
	} while (ret > 0);
	nl_cb_put(cb);
	*nlret = ret == -NLE_AGAIN ? 0 : ret;
	return 0;
}

int katlsd_nl_drain(struct katlsd_nl *nl, unsigned int *ready)
{
	int ret, err;

	*ready = 0;
	err = drain(nl, ready_cb, ready, &ret);
	if (err || !ret)
		return err;
	/* ENOBUFS (overrun) arrives as NLE_NOMEM from libnl. */
	if (ret == -NLE_NOMEM)
		return -ENOBUFS;
	kdebug("netlink receive: %s", nl_geterror(ret));
	return nlerr(ret);
}

/* ---- the controller's notifications: the family comes and goes ---- */

int katlsd_nl_ctrl_listen(struct katlsd_nl *nl)
{
	int grp, ret;

	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	ret = genl_connect(nl->sk);
	if (ret < 0)
		goto fail;
	nl->family = GENL_ID_CTRL;
	grp = genl_ctrl_resolve_grp(nl->sk, "nlctrl", "notify");
	if (grp < 0) {
		ret = grp;
		goto fail;
	}
	nl_socket_disable_seq_check(nl->sk);
	ret = nl_socket_add_membership(nl->sk, grp);
	if (ret < 0)
		goto fail;
	ret = nl_socket_set_nonblocking(nl->sk);
	if (ret < 0)
		goto fail;
	return 0;
fail:
	katlsd_nl_close(nl);
	return nlerr(ret);
}

static int ctrl_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct genlmsghdr *g;
	struct nlattr *name;
	unsigned int *ev = arg;

	if (h->nlmsg_type != GENL_ID_CTRL ||
	    !genlmsg_valid_hdr(h, 0))
		return NL_SKIP;
	g = nlmsg_data(h);
	name = nla_find(genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0),
			CTRL_ATTR_FAMILY_NAME);
	if (!name || nla_len(name) != sizeof(KATLS_GENL_NAME) ||
	    memcmp(nla_data(name), KATLS_GENL_NAME, sizeof(KATLS_GENL_NAME)))
		return NL_SKIP;
	if (g->cmd == CTRL_CMD_NEWFAMILY)
		*ev |= KATLSD_NL_FAMILY_NEW;
	else if (g->cmd == CTRL_CMD_DELFAMILY)
		*ev |= KATLSD_NL_FAMILY_DEL;
	return NL_OK;
}

int katlsd_nl_ctrl_drain(struct katlsd_nl *nl, unsigned int *events)
{
	int ret, err;

	*events = 0;
	err = drain(nl, ctrl_cb, events, &ret);
	if (err || !ret)
		return err;
	if (ret == -NLE_NOMEM) {
		/* Overrun: we cannot tell what was lost, assume both. */
		*events |= KATLSD_NL_FAMILY_DEL | KATLSD_NL_FAMILY_NEW;
		return 0;
	}
	return nlerr(ret);
}

int katlsd_nl_cap_ack(int fd)
{
	int one = 1;

	return setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
			  sizeof(one)) ? -errno : 0;
}

int katlsd_nl_connect(struct katlsd_nl *nl)
{
	int ret = open_family(nl);

	if (ret)
		return ret;
	/*
	 * A refused DONE's error ack would otherwise echo the whole
	 * message, traffic secrets included, into a receive buffer.
	 */
	ret = katlsd_nl_cap_ack(nl_socket_get_fd(nl->sk));
	if (ret)
		katlsd_nl_close(nl);
	return ret;
}

int katlsd_nl_wait_ack(int fd, uint32_t seq, void *buf, size_t cap)
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
	bool done;
	int error;			/* negative errno from NLMSG_ERROR */
	struct katlsd_request *req;	/* ACCEPT only */
	bool got_reply;
};

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct xfer *x = arg;

	x->error = e->error;
	x->done = true;
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct xfer *x = arg;

	x->done = true;
	return NL_STOP;
}

static struct nla_policy accept_policy[KATLS_A_MAX + 1] = {
	[KATLS_A_REQ_ID] = { .type = NLA_U64 },
	[KATLS_A_SOCKFD] = { .type = NLA_U32 },
	[KATLS_A_ROLE] = { .type = NLA_U32 },
	[KATLS_A_POLICY] = { .type = NLA_STRING },
	[KATLS_A_PEERNAME] = { .type = NLA_STRING },
	[KATLS_A_TIMEOUT_MS] = { .type = NLA_U32 },
};

static int copy_str(char *dst, size_t cap, const struct nlattr *a)
{
	const char *s = nla_data(a);
	size_t len = nla_len(a);

	if (len && s[len - 1] == '\0')
		len--;
	if (len >= cap || memchr(s, '\0', len))
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static int accept_cb(struct nl_msg *msg, void *arg)
{
	struct xfer *x = arg;
	struct katlsd_request *req = x->req;
	struct nlattr *tb[KATLS_A_MAX + 1];
	int ret;

	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, KATLS_A_MAX,
			    accept_policy);
	if (ret < 0) {
		x->error = -EPROTO;
		return NL_SKIP;
	}
	/* Take the fd first: it is ours now whatever else is wrong. */
	if (tb[KATLS_A_SOCKFD])
		req->fd = (int)nla_get_u32(tb[KATLS_A_SOCKFD]);
	if (!tb[KATLS_A_REQ_ID] || !tb[KATLS_A_SOCKFD] ||
	    !tb[KATLS_A_ROLE] || !tb[KATLS_A_POLICY]) {
		x->error = -EPROTO;
		return NL_SKIP;
	}
	req->id = nla_get_u64(tb[KATLS_A_REQ_ID]);
	req->role = nla_get_u32(tb[KATLS_A_ROLE]);
	if (tb[KATLS_A_TIMEOUT_MS])
		req->timeout_ms = nla_get_u32(tb[KATLS_A_TIMEOUT_MS]);
	if (copy_str(req->policy, sizeof(req->policy), tb[KATLS_A_POLICY]) ||
	    (tb[KATLS_A_PEERNAME] &&
	     copy_str(req->peername, sizeof(req->peername),
		      tb[KATLS_A_PEERNAME]))) {
		x->error = -EPROTO;
		return NL_SKIP;
	}
	x->got_reply = true;
	return NL_OK;
}

static int transact(struct katlsd_nl *nl, struct nl_msg *msg, struct xfer *x)
{
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_err(cb, NL_CB_CUSTOM, err_cb, x);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, x);
	if (x->req)
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, accept_cb, x);
	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		ret = nlerr(ret);
		goto out;
	}
	ret = 0;
	while (!x->done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0) {
			ret = nlerr(ret);
			break;
		}
	}
	if (!ret && x->error)
		ret = x->error;
out:
	nl_cb_put(cb);
	return ret;
}

int katlsd_nl_accept(struct katlsd_nl *nl, struct katlsd_request *req)
{
	struct xfer x = { .req = req };
	struct nl_msg *msg;
	int ret;

	memset(req, 0, sizeof(*req));
	req->fd = -1;
	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0,
			 KATLS_CMD_ACCEPT, KATLS_GENL_VERSION)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	ret = transact(nl, msg, &x);
	nlmsg_free(msg);
	if (!ret && !x.got_reply)
		ret = -EPROTO;
	return ret;
}

struct nl_msg *katlsd_nl_build_done(int family, uint64_t id,
				    const struct katlsd_hs_result *r)
{
	struct nl_msg *msg;
	struct nlattr *nest;

	msg = nlmsg_alloc();
	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
			 KATLS_CMD_DONE, KATLS_GENL_VERSION))
		goto fail;
	if (nla_put_u64(msg, KATLS_A_REQ_ID, id) ||
	    nla_put_u32(msg, KATLS_A_STATUS, (uint32_t)r->status))
		goto fail;
	if (r->status)
		return msg;

	nest = nla_nest_start(msg, KATLS_A_SUMMARY);
	if (!nest)
		goto fail;
	if (nla_put_u32(msg, KATLS_SUMMARY_A_EVIDENCE_TYPE,
			r->evidence_type) ||
	    nla_put_u32(msg, KATLS_SUMMARY_A_BINDING_LEVEL,
			r->binding_level) ||
	    nla_put(msg, KATLS_SUMMARY_A_DIGEST, KATLS_DIGEST_LEN, r->digest))
		goto fail;
	if (r->measurement_len &&
	    nla_put(msg, KATLS_SUMMARY_A_MEASUREMENT, r->measurement_len,
		    r->measurement))
		goto fail;
	if (nla_put_string(msg, KATLS_SUMMARY_A_POLICY, r->policy))
		goto fail;
	nla_nest_end(msg, nest);
	if (nla_put(msg, KATLS_A_TX, r->keys.len, &r->keys.tx) ||
	    nla_put(msg, KATLS_A_RX, r->keys.len, &r->keys.rx))
		goto fail;
	return msg;
fail:
	katlsd_nl_msg_wipe(msg);
	return NULL;
}

void katlsd_nl_msg_wipe(struct nl_msg *msg)
{
	if (!msg)
		return;
	explicit_bzero(nlmsg_hdr(msg), nlmsg_get_max_size(msg));
	nlmsg_free(msg);
}

int katlsd_nl_done(struct katlsd_nl *nl, uint64_t id,
		   const struct katlsd_hs_result *r)
{
	static uint8_t buf[8192] __attribute__((aligned(8)));
	struct nl_msg *msg;
	uint32_t seq;
	int ret;

	msg = katlsd_nl_build_done(nl->family, id, r);
	if (!msg)
		return -ENOMEM;
	ret = nl_send_auto(nl->sk, msg);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	katlsd_nl_msg_wipe(msg);
	if (ret < 0)
		return nlerr(ret);
	/*
	 * The answer goes into our own buffer, wiped afterwards, not into
	 * one that libnl would free with whatever it held.
	 */
	return katlsd_nl_wait_ack(nl_socket_get_fd(nl->sk), seq, buf,
				  sizeof(buf));
}

void katlsd_nl_close(struct katlsd_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}
