// SPDX-License-Identifier: GPL-2.0
/*
 * katls - generic netlink family "katls": the hand-written half.
 *
 * The family is described by Documentation/netlink/specs/katls.yaml;
 * tools/ynl-gen generates from it kernel/genl.c (the operations table
 * katls_nl_ops and the strict attribute policies katls_nl_policy and
 * katls_summary_nl_policy), kernel/genl.h and the uAPI numbers
 * (include/uapi/linux/katls_genl.h).  This file holds what the generator
 * does not: the family struct (the spec is genetlink-legacy with a
 * global policy, so the ops table is a genl_small_ops array that
 * Debian's 6.1 kernel also has), the multicast group with its
 * CAP_NET_ADMIN flag, the handlers, and the URELEASE notifier.
 *
 *   READY   kernel -> multicast "agent": a request is pending
 *   ACCEPT  agent: take the oldest pending request of the caller's netns;
 *           the reply carries an O_CLOEXEC fd for the socket, installed
 *           only once the reply is built
 *   DONE    agent that accepted: status, evidence summary and keys;
 *           parsed here, carried out by katls_done() (request.c)
 *   GET     dump of opted-in sockets
 *
 * All commands, and joining the "agent" group, need CAP_NET_ADMIN (in
 * the initial user namespace: GENL_ADMIN_PERM).
 *
 * DONE carries keys.  The family policy only checks the framing, so that
 * every DONE reaches katls_nl_done_doit(), which parses it strictly with
 * the generated katls_nl_policy and wipes the whole message whatever the
 * outcome (a message rejected by a strict family policy would be freed,
 * keys and all, without a wipe).
 */

#include <linux/file.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/pid_namespace.h>
#include <linux/tls.h>
#include <net/genetlink.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "genl.h"
#include "katls.h"

/**
 * katls_validate_crypto_info() - is this a key kTLS may get from us?
 * @buf: struct tls12_crypto_info_* as sent by the agent
 * @len: its length
 * @cipher: out: the TLS cipher type
 *
 * Only TLS 1.3 with AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305, each
 * with exactly its structure's size.
 *
 * Return: 0, or -EINVAL.
 */
int katls_validate_crypto_info(const void *buf, size_t len, u16 *cipher)
{
	struct tls_crypto_info ci;
	size_t want;

	if (!buf || len < sizeof(ci))
		return -EINVAL;
	memcpy(&ci, buf, sizeof(ci));
	if (ci.version != TLS_1_3_VERSION)
		return -EINVAL;
	switch (ci.cipher_type) {
	case TLS_CIPHER_AES_GCM_128:
		want = sizeof(struct tls12_crypto_info_aes_gcm_128);
		break;
	case TLS_CIPHER_AES_GCM_256:
		want = sizeof(struct tls12_crypto_info_aes_gcm_256);
		break;
	case TLS_CIPHER_CHACHA20_POLY1305:
		want = sizeof(struct tls12_crypto_info_chacha20_poly1305);
		break;
	default:
		return -EINVAL;
	}
	if (len != want)
		return -EINVAL;
	*cipher = ci.cipher_type;
	return 0;
}

/**
 * katls_parse_done() - semantic checks of a DONE beyond the policy
 * @tb: attributes parsed with the generated katls_nl_policy
 * @done: out: the request id, status, evidence summary (status 0 only;
 *	with the optional CLIENT_SUMMARY of mutual attestation in its
 *	client_* fields) and pointers to the keys inside the message
 * @extack: error report
 *
 * Return: 0, or -EINVAL with @extack set: REQ_ID and STATUS are always
 * required; with STATUS 0 also SUMMARY (with type, level, digest,
 * a 1..KATLS_MEASUREMENT_MAX-byte measurement and a policy name), TX and
 * RX with the same TLS 1.3 cipher; CLIENT_SUMMARY is optional and, if
 * present, as complete as SUMMARY with binding level 3; MAX_AGE_MS is
 * optional (at least 1, the generated policy's check).  With a non-zero
 * STATUS, keys, CLIENT_SUMMARY and MAX_AGE_MS are refused.
 */
static int katls_parse_summary(struct nlattr *nest, u32 *type, u32 *level,
			       u8 *digest, u32 *mlen, u8 *meas, char *policy,
			       struct netlink_ext_ack *extack)
{
	struct nlattr *sb[ARRAY_SIZE(katls_summary_nl_policy)];
	int err;

	err = nla_parse_nested(sb, ARRAY_SIZE(sb) - 1, nest,
			       katls_summary_nl_policy, extack);
	if (err)
		return err;
	if (!sb[KATLS_SUMMARY_A_EVIDENCE_TYPE] ||
	    !sb[KATLS_SUMMARY_A_BINDING_LEVEL] ||
	    !sb[KATLS_SUMMARY_A_DIGEST] || !sb[KATLS_SUMMARY_A_MEASUREMENT] ||
	    !sb[KATLS_SUMMARY_A_POLICY]) {
		NL_SET_ERR_MSG(extack, "incomplete evidence summary");
		return -EINVAL;
	}
	/* The 6.12 generator has no max-len check for binary attributes. */
	if (!nla_len(sb[KATLS_SUMMARY_A_MEASUREMENT]) ||
	    nla_len(sb[KATLS_SUMMARY_A_MEASUREMENT]) > KATLS_MEASUREMENT_MAX ||
	    nla_len(sb[KATLS_SUMMARY_A_POLICY]) < 2) {
		NL_SET_ERR_MSG(extack, "bad measurement length or empty policy");
		return -EINVAL;
	}
	*type = nla_get_u32(sb[KATLS_SUMMARY_A_EVIDENCE_TYPE]);
	*level = nla_get_u32(sb[KATLS_SUMMARY_A_BINDING_LEVEL]);
	nla_memcpy(digest, sb[KATLS_SUMMARY_A_DIGEST], KATLS_DIGEST_LEN);
	*mlen = nla_memcpy(meas, sb[KATLS_SUMMARY_A_MEASUREMENT],
			   KATLS_MEASUREMENT_MAX);
	nla_strscpy(policy, sb[KATLS_SUMMARY_A_POLICY], KATLS_POLICY_MAX);
	return 0;
}

int katls_parse_done(struct nlattr **tb, struct katls_done *done,
		     struct netlink_ext_ack *extack)
{
	struct katls_result *summary = &done->summary;
	u16 ctx, crx;
	int err;

	memset(done, 0, sizeof(*done));
	if (!tb[KATLS_A_REQ_ID] || !tb[KATLS_A_STATUS]) {
		NL_SET_ERR_MSG(extack, "REQ_ID and STATUS are required");
		return -EINVAL;
	}
	done->id = nla_get_u64(tb[KATLS_A_REQ_ID]);
	done->status = nla_get_u32(tb[KATLS_A_STATUS]);
	if (done->status) {
		if (tb[KATLS_A_TX] || tb[KATLS_A_RX] ||
		    tb[KATLS_A_CLIENT_SUMMARY]) {
			NL_SET_ERR_MSG(extack, "keys or a summary with a failure status");
			return -EINVAL;
		}
		if (tb[KATLS_A_MAX_AGE_MS]) {
			NL_SET_ERR_MSG(extack, "MAX_AGE_MS with a failure status");
			return -EINVAL;
		}
		return 0;
	}
	if (!tb[KATLS_A_SUMMARY] || !tb[KATLS_A_TX] || !tb[KATLS_A_RX]) {
		NL_SET_ERR_MSG(extack, "success needs SUMMARY, TX and RX");
		return -EINVAL;
	}
	if (katls_validate_crypto_info(nla_data(tb[KATLS_A_TX]),
				       nla_len(tb[KATLS_A_TX]), &ctx) ||
	    katls_validate_crypto_info(nla_data(tb[KATLS_A_RX]),
				       nla_len(tb[KATLS_A_RX]), &crx)) {
		NL_SET_ERR_MSG(extack, "TX/RX: not a TLS 1.3 kTLS crypto_info");
		return -EINVAL;
	}
	if (ctx != crx) {
		NL_SET_ERR_MSG(extack, "TX and RX ciphers differ");
		return -EINVAL;
	}
	err = katls_parse_summary(tb[KATLS_A_SUMMARY], &summary->evidence_type,
				  &summary->binding_level,
				  summary->evidence_digest,
				  &summary->measurement_len,
				  summary->measurement, summary->policy, extack);
	if (err)
		return err;
	/* issue 14 item 3: the client's evidence (mutual attestation) */
	if (tb[KATLS_A_CLIENT_SUMMARY]) {
		err = katls_parse_summary(tb[KATLS_A_CLIENT_SUMMARY],
					  &summary->client_evidence_type,
					  &summary->client_binding_level,
					  summary->client_evidence_digest,
					  &summary->client_measurement_len,
					  summary->client_measurement,
					  summary->client_policy, extack);
		if (err)
			return err;
		if (summary->client_binding_level != KATLS_BINDING_L3) {
			NL_SET_ERR_MSG(extack, "client evidence is bound at level 3 only");
			return -EINVAL;
		}
	}
	done->tx = nla_data(tb[KATLS_A_TX]);
	done->txlen = nla_len(tb[KATLS_A_TX]);
	done->rx = nla_data(tb[KATLS_A_RX]);
	done->rxlen = nla_len(tb[KATLS_A_RX]);
	if (tb[KATLS_A_MAX_AGE_MS])
		done->max_age_ms = nla_get_u32(tb[KATLS_A_MAX_AGE_MS]);
	return 0;
}

/**
 * katls_agent_status() - the status to record for an agent's verdict
 * @status: KATLS_A_STATUS of a DONE, non-zero
 *
 * The application gets this value back as errno from every call, so only
 * errnos from an allow-list pass; anything else becomes EPROTO.
 *
 * Return: the positive errno the application will see.
 */
int katls_agent_status(u32 status)
{
	switch (status) {
	/* The verdicts katlsd documents (Documentation/katlsd.rst). */
	case EACCES:
	case EKEYREJECTED:
	case EINVAL:
	case ENODEV:
	case EBUSY:
	case ENOKEY:
	case EOPNOTSUPP:
	case EMSGSIZE:
	case ETIMEDOUT:
	case ECONNRESET:
	case EPROTO:
	case ENOMEM:
	case EIO:
	case ECONNABORTED:
	/* Other plain failures an agent may meet on the way. */
	case EPERM:
	case ENOENT:
	case ESRCH:
	case ENXIO:
	case E2BIG:
	case EEXIST:
	case ENFILE:
	case EMFILE:
	case ENOSPC:
	case EPIPE:
	case ERANGE:
	case ENAMETOOLONG:
	case ENODATA:
	case ETIME:
	case EBADMSG:
	case EOVERFLOW:
	case EILSEQ:
	case EPROTONOSUPPORT:
	case EAFNOSUPPORT:
	case ENETDOWN:
	case ENETUNREACH:
	case ENOBUFS:
	case ESHUTDOWN:
	case ECONNREFUSED:
	case EHOSTDOWN:
	case EHOSTUNREACH:
	case ECANCELED:
	case EKEYEXPIRED:
	case EKEYREVOKED:
		return status;
	default:
		/*
		 * Kernel-internal codes (512..529: ERESTARTSYS, EIOCBQUEUED,
		 * ...), values that would make a failed socket look
		 * retryable or unconnected (EAGAIN, EINTR, EINPROGRESS,
		 * EALREADY, EISCONN, ENOTCONN) and anything else unknown.
		 */
		return EPROTO;
	}
}

/*
 * The family policy, applied by the genetlink core before a handler runs.
 * For DONE it must not be able to reject anything: a rejected message
 * would be freed, keys and all, without a wipe, and its error ack would
 * echo it (keys included) to the sender.  So DONE is validated liberally
 * (unknown attributes ignored: "dont-validate" in the spec) against this
 * framing policy, which only names types that cannot fail; the generated
 * katls_nl_policy is applied strictly in katls_nl_done_doit(), after
 * which the message is wiped.  ACCEPT (no attributes) is still parsed
 * strictly against it: any attribute but these seven is refused.
 */
static const struct nla_policy katls_nl_framing_policy[KATLS_A_MAX + 1] = {
	[KATLS_A_REQ_ID] = { .type = NLA_BINARY },
	[KATLS_A_STATUS] = { .type = NLA_BINARY },
	[KATLS_A_SUMMARY] = { .type = NLA_BINARY },
	[KATLS_A_TX] = { .type = NLA_BINARY },
	[KATLS_A_RX] = { .type = NLA_BINARY },
	[KATLS_A_CLIENT_SUMMARY] = { .type = NLA_BINARY },
	[KATLS_A_MAX_AGE_MS] = { .type = NLA_BINARY },
};

static struct genl_family katls_family;

/* As the generated katls_nl_mcgrps, plus the capability the spec lacks. */
static const struct genl_multicast_group katls_mcgrps[] = {
	[KATLS_NLGRP_AGENT] = { .name = KATLS_MCGRP_AGENT,
				.flags = GENL_MCAST_CAP_NET_ADMIN },
};

bool katls_agents_listening(struct net *net)
{
	return genl_has_listeners(&katls_family, net, KATLS_NLGRP_AGENT);
}

/**
 * katls_notify_ready() - multicast READY for a pending request
 * @ks: the request
 *
 * Return: 0, -ESRCH if no agent listens in the socket's namespace, or
 * -ENOMEM / -EMSGSIZE (the request stays pending).
 */
int katls_notify_ready(struct katls_sock *ks)
{
	struct sk_buff *msg;
	void *hdr;

	if (!katls_agents_listening(ks->net))
		return -ESRCH;
	msg = genlmsg_new(nla_total_size_64bit(sizeof(u64)) +
			  nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &katls_family, 0, KATLS_CMD_READY);
	if (!hdr ||
	    nla_put_u64_64bit(msg, KATLS_A_REQ_ID, ks->id, KATLS_A_PAD) ||
	    nla_put_u32(msg, KATLS_A_ROLE, ks->req.role)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	/*
	 * A listener whose receive queue is full misses the notification
	 * (the broadcast then reports -ESRCH): the request stays pending
	 * and agents still find it with ACCEPT.
	 */
	genlmsg_multicast_netns(&katls_family, ks->net, msg, 0,
				KATLS_NLGRP_AGENT, GFP_KERNEL);
	return 0;
}

static u32 katls_ms_left(struct katls_sock *ks)
{
	unsigned long deadline = ks->req_jiffies +
				 msecs_to_jiffies(ks->req.timeout_ms);

	if (time_after_eq(jiffies, deadline))
		return 0;
	return jiffies_to_msecs(deadline - jiffies);
}

int katls_nl_accept_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct katls_sock *ks;
	struct sk_buff *msg;
	struct file *file;
	void *hdr;
	int fd, err;

	for (;;) {
		ks = katls_accept_next(genl_info_net(info), info->snd_portid,
				       task_tgid(current));
		if (!ks) {
			NL_SET_ERR_MSG(info->extack, "no pending request");
			return -ENOENT;
		}
		/* A connection reset while queued is not worth a handshake. */
		err = READ_ONCE(ks->sk->sk_err);
		if (likely(!err))
			break;
		katls_fail(ks, err, KATLS_STAT_CLOSED);
		katls_sock_put(ks);
	}
	file = katls_get_file(ks);
	if (!file) {
		/* The application is closing it: its close, counted so. */
		katls_cancel(ks, ECONNABORTED);
		katls_sock_put(ks);
		return -ECONNABORTED;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto fail_file;
	}
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto fail_fd;
	}
	hdr = genlmsg_put_reply(msg, info, &katls_family, 0, KATLS_CMD_ACCEPT);
	if (!hdr ||
	    nla_put_u64_64bit(msg, KATLS_A_REQ_ID, ks->id, KATLS_A_PAD) ||
	    nla_put_s32(msg, KATLS_A_SOCKFD, fd) ||
	    nla_put_u32(msg, KATLS_A_ROLE, ks->req.role) ||
	    nla_put_string(msg, KATLS_A_POLICY, ks->req.policy) ||
	    (ks->req.peername[0] &&
	     nla_put_string(msg, KATLS_A_PEERNAME, ks->req.peername)) ||
	    nla_put_u32(msg, KATLS_A_TIMEOUT_MS, katls_ms_left(ks))) {
		nlmsg_free(msg);
		err = -EMSGSIZE;
		goto fail_fd;
	}
	genlmsg_end(msg, hdr);
	/*
	 * As net/handshake does: send the reply first, install the fd only
	 * once the agent has it.  A reply that cannot be delivered (the
	 * agent's receive queue is full, its socket is gone) leaves no
	 * descriptor behind, and the request fails closed: its agent never
	 * learnt of it.  Until fd_install() the number is reserved but
	 * unusable (EBADF) for the agent's other threads.
	 */
	err = genlmsg_reply(msg, info);
	if (err) {
		put_unused_fd(fd);
		fput(file);
		katls_fail(ks, ECONNABORTED, KATLS_STAT_AGENT_LOST);
		katls_sock_put(ks);
		return err;
	}
	fd_install(fd, file);
	katls_sock_put(ks);	/* the pending list's reference */
	return 0;

fail_fd:
	put_unused_fd(fd);
fail_file:
	fput(file);
	/* The agent could not take it (counted as for an undeliverable reply). */
	katls_fail(ks, -err, KATLS_STAT_AGENT_LOST);
	katls_sock_put(ks);
	return err;
}

/*
 * DONE: parse, then one call into the request lifecycle, which owns the
 * checks against the request, the hand-over and the completion.
 */
int katls_nl_done_doit(struct sk_buff *skb, struct genl_info *info)
{
	void *payload = genlmsg_data(info->genlhdr);
	int plen = genlmsg_len(info->genlhdr);
	struct nlattr *tb[ARRAY_SIZE(katls_nl_policy)];
	struct katls_done done;
	int err;

	err = nla_parse(tb, ARRAY_SIZE(tb) - 1, payload, plen, katls_nl_policy,
			info->extack);
	if (!err)
		err = katls_parse_done(tb, &done, info->extack);
	if (!err)
		err = katls_done(genl_info_net(info), info->snd_portid, &done,
				 info->extack);
	/*
	 * The keys were in this message: leave no copy behind, not even in
	 * the request echoed back with an error.
	 */
	memzero_explicit(payload, plen);
	memzero_explicit(&done, sizeof(done));
	return err;
}

struct katls_dump_ctx {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

static int katls_dump_fill(struct katls_dump_ctx *d, struct katls_sock *ks,
			   struct sock *sk);

/**
 * katls_dump_pin() - pin the socket of a listed entry, or skip it
 * @ks: an entry of the registry, under rcu_read_lock()
 *
 * Return: @ks's socket with a reference held, or NULL if it is going
 * away or no longer @ks's.
 */
struct sock *katls_dump_pin(struct katls_sock *ks)
{
	struct sock *sk = ks->sk;
	struct katls_sock *now;

	if (READ_ONCE(ks->ulp_released) || !refcount_inc_not_zero(&sk->sk_refcnt))
		return NULL;
	/*
	 * TCP sockets are SLAB_TYPESAFE_BY_RCU: between the check above and
	 * the pin, @sk may have been released, freed and reused by another
	 * socket, which the pin then holds.  Report it only if the registry
	 * still maps it to this entry (a released entry is unregistered
	 * before its socket is freed).
	 */
	now = katls_lookup_sk(sk);
	if (now)
		katls_sock_put(now);
	if (now != ks || READ_ONCE(ks->ulp_released)) {
		sock_put(sk);
		return NULL;
	}
	return sk;
}

static int katls_dump_one(struct katls_sock *ks, void *arg)
{
	struct katls_dump_ctx *d = arg;
	struct sock *sk;
	int err;

	/* The socket may be going away under us: pin it or skip it. */
	sk = katls_dump_pin(ks);
	if (!sk)
		return 0;
	err = katls_dump_fill(d, ks, sk);
	sock_put(sk);
	return err;
}

static int katls_dump_fill(struct katls_dump_ctx *d, struct katls_sock *ks,
			   struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct katls_request req;
	u32 agent = 0, age;
	int state;
	void *hdr;

	spin_lock_bh(&ks->lock);
	state = ks->state;
	req = ks->req;
	if (ks->agent_pid && state == KATLS_STATE_ACCEPTED)
		agent = pid_nr_ns(ks->agent_pid, task_active_pid_ns(current));
	spin_unlock_bh(&ks->lock);
	age = ks->req_jiffies ? jiffies_to_msecs(jiffies - ks->req_jiffies) : 0;

	hdr = genlmsg_put(d->skb, NETLINK_CB(d->cb->skb).portid,
			  d->cb->nlh->nlmsg_seq, &katls_family, NLM_F_MULTI,
			  KATLS_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(d->skb, KATLS_A_REQ_ID, ks->id, KATLS_A_PAD) ||
	    nla_put_u32(d->skb, KATLS_A_STATE, state) ||
	    nla_put_u32(d->skb, KATLS_A_ROLE, req.role) ||
	    (req.policy[0] &&
	     nla_put_string(d->skb, KATLS_A_POLICY, req.policy)) ||
	    nla_put_u16(d->skb, KATLS_A_FAMILY, sk->sk_family) ||
	    nla_put_u16(d->skb, KATLS_A_SPORT, ntohs(inet->inet_sport)) ||
	    nla_put_u16(d->skb, KATLS_A_DPORT, ntohs(inet->inet_dport)) ||
	    nla_put_u32(d->skb, KATLS_A_AGENT_PID, agent) ||
	    nla_put_u32(d->skb, KATLS_A_AGE_MS, age) ||
	    nla_put_u64_64bit(d->skb, KATLS_A_INODE, sock_i_ino(sk),
			      KATLS_A_PAD))
		goto cancel;
	if (sk->sk_family == AF_INET) {
		if (nla_put_in_addr(d->skb, KATLS_A_SADDR, inet->inet_saddr) ||
		    nla_put_in_addr(d->skb, KATLS_A_DADDR, inet->inet_daddr))
			goto cancel;
#if IS_ENABLED(CONFIG_IPV6)
	} else {
		if (nla_put_in6_addr(d->skb, KATLS_A_SADDR,
				     &sk->sk_v6_rcv_saddr) ||
		    nla_put_in6_addr(d->skb, KATLS_A_DADDR, &sk->sk_v6_daddr))
			goto cancel;
#endif
	}
	genlmsg_end(d->skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(d->skb, hdr);
	return -EMSGSIZE;
}

int katls_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct katls_dump_ctx d = { .skb = skb, .cb = cb };
	unsigned long pos = cb->args[0];

	katls_for_each(sock_net(skb->sk), &pos, katls_dump_one, &d);
	cb->args[0] = pos;
	return skb->len;
}

static struct genl_family katls_family __ro_after_init = {
	/*
	 * DONE must reach its handler whatever it holds (see
	 * katls_nl_framing_policy), so it keeps the pre-6.1 validation
	 * semantics that allow GENL_DONT_VALIDATE_STRICT: the core checks
	 * neither the reserved header byte nor the netlink flags of ACCEPT
	 * and DONE; ACCEPT is still parsed strictly.  GET and any later
	 * command get the full checks.  The ops table katls_nl_ops is
	 * generated (kernel/genl.c).
	 */
	.resv_start_op = KATLS_CMD_DONE + 1,
	.name = KATLS_GENL_NAME,
	.version = KATLS_GENL_VERSION,
	.maxattr = KATLS_A_MAX,
	.policy = katls_nl_framing_policy,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.small_ops = katls_nl_ops,
	.n_small_ops = ARRAY_SIZE(katls_nl_ops),
	.mcgrps = katls_mcgrps,
	.n_mcgrps = ARRAY_SIZE(katls_mcgrps),
};

static int katls_netlink_event(struct notifier_block *nb,
			       unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid)
		katls_agent_gone(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block katls_netlink_nb = {
	.notifier_call = katls_netlink_event,
};

int katls_netlink_init(void)
{
	int err;

	err = genl_register_family(&katls_family);
	if (err)
		return err;
	err = netlink_register_notifier(&katls_netlink_nb);
	if (err)
		genl_unregister_family(&katls_family);
	return err;
}

void katls_netlink_exit(void)
{
	netlink_unregister_notifier(&katls_netlink_nb);
	genl_unregister_family(&katls_family);
}
