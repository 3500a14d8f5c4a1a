// SPDX-License-Identifier: GPL-2.0
/*
 * katls - the ULP and the gate.
 *
 * The ULP init runs kTLS's own init first, so that kTLS sees a plain TCP
 * socket and never builds its global tables from anything of ours, then
 * gives the socket a private copy of kTLS's TLS_BASE proto_ops with every
 * entry that moves application data replaced by a gate.  Until the
 * verdict a gate lets through only the agent that accepted the request
 * (identified by its thread group, not by anything the application can
 * set); everybody else blocks or gets EAGAIN, and after a failure gets
 * the failure's errno.  At the verdict, kernel/handover.c installs the
 * keys with sk->sk_socket pointing at a shadow, so kTLS's table switches
 * never reach the application's struct socket, then katls_gate_open()
 * writes kTLS's functions into the private table: from then on the data
 * path is kTLS's alone.
 *
 * Permanently refused, before and after the verdict: TLS_TX/TLS_RX from
 * the application (keys only come from the agent), reading keys back
 * with getsockopt(SOL_TLS), a second TCP_ULP, TCP_REPAIR*,
 * TCP_ZEROCOPY_RECEIVE, and the in-kernel read_skb/sendmsg_locked entries
 * that would bypass kTLS.
 */

#include <linux/file.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/splice.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>
#include <net/tls.h>

#include "katls.h"

static inline struct katls_sock *katls_ks(struct socket *sock)
{
	return container_of(READ_ONCE(sock->ops), struct katls_sock, ops);
}

/**
 * katls_is_agent() - is the caller the agent that accepted the request?
 * @ks: the socket state
 *
 * Return: true if the caller runs in task context and belongs to the
 * accepting agent's thread group.
 */
bool katls_is_agent(struct katls_sock *ks)
{
	/*
	 * In interrupt context (strparser's data_ready, KCM, timers)
	 * `current` is whatever task was interrupted, perhaps the agent:
	 * never the agent there.
	 */
	if (!in_task())
		return false;
	return READ_ONCE(ks->agent_pid) == task_tgid(current);
}

enum { KATLS_GATE_AGENT, KATLS_GATE_OPEN };

/*
 * katls_gate() - may the caller move data now?
 *
 * Return: KATLS_GATE_OPEN (use kTLS), KATLS_GATE_AGENT (the accepting
 * agent: use the base functions), or a negative errno: -ENOTCONN before
 * a handshake was requested, -EAGAIN when it would block, -EINTR/
 * -ERESTARTSYS on a signal, or the failure status.
 */
static int katls_gate(struct katls_sock *ks, bool nonblock, long timeo)
{
	for (;;) {
		int st = katls_state(ks);
		long ret;

		switch (st) {
		case KATLS_STATE_OPEN:
			return KATLS_GATE_OPEN;
		case KATLS_STATE_FAILED:
		case KATLS_STATE_EXPIRED:
			return -READ_ONCE(ks->status);
		case KATLS_STATE_IDLE:
			return -ENOTCONN;
		case KATLS_STATE_ACCEPTED:
			if (katls_is_agent(ks))
				return KATLS_GATE_AGENT;
			break;
		}
		/* A reset ends a pending or accepted request. */
		if (st != KATLS_STATE_HANDOVER && READ_ONCE(ks->sk->sk_err)) {
			katls_check_reset(ks);
			if (katls_state(ks) != st)
				continue;
		}
		if (nonblock || !timeo)
			return -EAGAIN;
		ret = wait_event_interruptible_timeout(*sk_sleep(ks->sk),
				katls_state(ks) != st ||
				(st != KATLS_STATE_HANDOVER &&
				 READ_ONCE(ks->sk->sk_err)), timeo);
		if (ret < 0)
			return sock_intr_errno(timeo);
		if (!ret && katls_state(ks) == st)
			return -EAGAIN;
		timeo = ret ? ret : 1;
	}
}

/*
 * Re-dispatch through the table after the verdict.  The gate functions
 * are gone from it by then; finding one there would recurse.  Only an
 * expiry (katls_gate_close()) between the caller's state check and this
 * read puts them back: then the caller fails instead, without a warning.
 */
#define KATLS_REDISPATCH(ks, field, self, ...)				\
	({								\
		typeof((ks)->ops.field) __fn = READ_ONCE((ks)->ops.field); \
		if (__fn == (self) &&					\
		    katls_state(ks) == KATLS_STATE_EXPIRED)		\
			__fn = NULL;					\
		else if (WARN_ON_ONCE(!__fn || __fn == (self)))		\
			__fn = NULL;					\
		__fn;							\
	})

static int katls_sendmsg(struct socket *sock, struct msghdr *msg, size_t size)
{
	struct katls_sock *ks = katls_ks(sock);
	bool nonblock = msg->msg_flags & MSG_DONTWAIT;
	int (*fn)(struct socket *, struct msghdr *, size_t);
	int r;

	r = katls_gate(ks, nonblock, sock_sndtimeo(sock->sk, nonblock));
	if (r == KATLS_GATE_AGENT)
		return ks->base_ops->sendmsg(sock, msg, size);
	if (r != KATLS_GATE_OPEN)
		return r;
	fn = KATLS_REDISPATCH(ks, sendmsg, katls_sendmsg);
	return fn ? fn(sock, msg, size) : -EIO;
}

static int katls_recvmsg(struct socket *sock, struct msghdr *msg, size_t size,
			 int flags)
{
	struct katls_sock *ks = katls_ks(sock);
	bool nonblock = flags & MSG_DONTWAIT;
	int (*fn)(struct socket *, struct msghdr *, size_t, int);
	int r;

	r = katls_gate(ks, nonblock, sock_rcvtimeo(sock->sk, nonblock));
	if (r == KATLS_GATE_AGENT)
		return ks->base_ops->recvmsg(sock, msg, size, flags);
	if (r != KATLS_GATE_OPEN)
		return r;
	fn = KATLS_REDISPATCH(ks, recvmsg, katls_recvmsg);
	return fn ? fn(sock, msg, size, flags) : -EIO;
}

static bool katls_file_nonblock(struct socket *sock)
{
	return sock->file && (sock->file->f_flags & O_NONBLOCK);
}

static ssize_t katls_splice_read(struct socket *sock, loff_t *ppos,
				 struct pipe_inode_info *pipe, size_t len,
				 unsigned int flags)
{
	struct katls_sock *ks = katls_ks(sock);
	bool nonblock = (flags & SPLICE_F_NONBLOCK) || katls_file_nonblock(sock);
	ssize_t (*fn)(struct socket *, loff_t *, struct pipe_inode_info *,
		      size_t, unsigned int);
	int r;

	r = katls_gate(ks, nonblock, sock_rcvtimeo(sock->sk, nonblock));
	if (r == KATLS_GATE_AGENT)
		return ks->base_ops->splice_read(sock, ppos, pipe, len, flags);
	if (r != KATLS_GATE_OPEN)
		return r;
	fn = KATLS_REDISPATCH(ks, splice_read, katls_splice_read);
	return fn ? fn(sock, ppos, pipe, len, flags) : -EIO;
}

#ifdef KATLS_HAVE_SPLICE_EOF
static void katls_splice_eof(struct socket *sock)
{
	struct katls_sock *ks = katls_ks(sock);
	void (*fn)(struct socket *);
	int r;

	r = katls_gate(ks, true, 0);
	if (r == KATLS_GATE_AGENT) {
		if (ks->base_ops->splice_eof)
			ks->base_ops->splice_eof(sock);
		return;
	}
	if (r != KATLS_GATE_OPEN)
		return;
	fn = KATLS_REDISPATCH(ks, splice_eof, katls_splice_eof);
	if (fn)
		fn(sock);
}
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
static ssize_t katls_sendpage(struct socket *sock, struct page *page,
			      int offset, size_t size, int flags)
{
	struct katls_sock *ks = katls_ks(sock);
	bool nonblock = flags & MSG_DONTWAIT;
	ssize_t (*fn)(struct socket *, struct page *, int, size_t, int);
	int r;

	r = katls_gate(ks, nonblock, sock_sndtimeo(sock->sk, nonblock));
	if (r == KATLS_GATE_AGENT)
		return ks->base_ops->sendpage(sock, page, offset, size, flags);
	if (r != KATLS_GATE_OPEN)
		return r;
	fn = KATLS_REDISPATCH(ks, sendpage, katls_sendpage);
	return fn ? fn(sock, page, offset, size, flags) : -EIO;
}

static int katls_sendpage_locked(struct sock *sk, struct page *page,
				 int offset, size_t size, int flags)
{
	struct katls_sock *ks = katls_lookup_sk(sk);
	int (*fn)(struct sock *, struct page *, int, size_t, int) = NULL;
	int r;

	if (!ks)
		return -ENOTCONN;
	/* In-kernel senders (KCM, espintcp) only, never the agent. */
	r = katls_gate(ks, true, 0);
	if (r == KATLS_GATE_OPEN)
		fn = KATLS_REDISPATCH(ks, sendpage_locked,
				      katls_sendpage_locked);
	else if (r == KATLS_GATE_AGENT)
		r = -EAGAIN;
	katls_sock_put(ks);
	if (r < 0)
		return r;
	return fn ? fn(sk, page, offset, size, flags) : -EOPNOTSUPP;
}
#endif

static int katls_read_sock(struct sock *sk, read_descriptor_t *desc,
			   sk_read_actor_t recv_actor)
{
	struct katls_sock *ks = katls_lookup_sk(sk);
	int (*fn)(struct sock *, read_descriptor_t *, sk_read_actor_t) = NULL;
	int r;

	if (!ks)
		return -ENOTCONN;
	/*
	 * Only in-kernel consumers (strparser, KCM, ...) call read_sock,
	 * often from softirq; the agent never does.  Nothing before OPEN.
	 */
	r = katls_gate(ks, true, 0);
	if (r == KATLS_GATE_OPEN)
		fn = KATLS_REDISPATCH(ks, read_sock, katls_read_sock);
	else if (r == KATLS_GATE_AGENT)
		r = -EAGAIN;
	katls_sock_put(ks);
	if (r < 0)
		return r;
	return fn ? fn(sk, desc, recv_actor) : -EOPNOTSUPP;
}

/* Raw skbs (sockmap) and locked plaintext sends (KCM, espintcp) would
 * bypass kTLS even after the verdict: refused for the socket's life.
 */
static int katls_read_skb(struct sock *sk, skb_read_actor_t recv_actor)
{
	katls_stat_inc(KATLS_STAT_GATE_REFUSED);
	return -EOPNOTSUPP;
}

static int katls_sendmsg_locked(struct sock *sk, struct msghdr *msg,
				size_t size)
{
	katls_stat_inc(KATLS_STAT_GATE_REFUSED);
	return -EOPNOTSUPP;
}

static __poll_t katls_poll(struct file *file, struct socket *sock,
			   struct poll_table_struct *wait)
{
	struct katls_sock *ks = katls_ks(sock);
	__poll_t (*fn)(struct file *, struct socket *,
		       struct poll_table_struct *);
	int st = katls_state(ks);

	if (st == KATLS_STATE_ACCEPTED && katls_is_agent(ks))
		return ks->base_ops->poll(file, sock, wait);
	if (st != KATLS_STATE_OPEN) {
		sock_poll_wait(file, sock, wait);
		if (st != KATLS_STATE_IDLE && st != KATLS_STATE_FAILED &&
		    st != KATLS_STATE_EXPIRED)
			katls_check_reset(ks);
		st = katls_state(ks);
	}
	switch (st) {
	case KATLS_STATE_OPEN:
		fn = KATLS_REDISPATCH(ks, poll, katls_poll);
		return fn ? fn(file, sock, wait) : EPOLLERR;
	case KATLS_STATE_FAILED:
	case KATLS_STATE_EXPIRED:
		return EPOLLERR | EPOLLHUP;
	default:
		return 0;
	}
}

static int katls_request(struct katls_sock *ks, struct socket *sock,
			 sockptr_t optval, unsigned int optlen)
{
	struct katls_request req;
	int err;

	if (optlen != sizeof(req))
		return -EINVAL;
	if (copy_from_sockptr(&req, optval, sizeof(req)))
		return -EFAULT;
	err = katls_validate_request(&req);
	if (err)
		return err;
	err = katls_submit(ks, &req);
	if (err)
		return err;
	if (katls_file_nonblock(sock))
		return -EINPROGRESS;
	/*
	 * The kernel-side timeout bounds this wait; -EAGAIN only means a
	 * wake-up before the outcome (a reset during the hand-over).
	 */
	do {
		err = katls_wait_terminal(ks, MAX_SCHEDULE_TIMEOUT);
	} while (err == -EAGAIN);
	if (err)
		return err;
	if (katls_state(ks) == KATLS_STATE_FAILED)
		return -READ_ONCE(ks->status);
	return 0;
}

static int katls_setsockopt(struct socket *sock, int level, int optname,
			    sockptr_t optval, unsigned int optlen)
{
	struct katls_sock *ks = katls_ks(sock);

	switch (level) {
	case SOL_KATLS:
		if (optname == KATLS_REQUEST)
			return katls_request(ks, sock, optval, optlen);
		return -ENOPROTOOPT;
	case SOL_TLS:
		/* Keys come from the agent only; other SOL_TLS options need
		 * a configured direction.
		 */
		if (optname == TLS_TX || optname == TLS_RX ||
		    katls_state(ks) != KATLS_STATE_OPEN) {
			katls_stat_inc(KATLS_STAT_GATE_REFUSED);
			return -EPERM;
		}
		break;
	case SOL_TCP:
		switch (optname) {
		case TCP_ULP:
			return -EEXIST;
		case TCP_REPAIR:
		case TCP_REPAIR_QUEUE:
		case TCP_QUEUE_SEQ:
		case TCP_REPAIR_OPTIONS:
		case TCP_REPAIR_WINDOW:
			katls_stat_inc(KATLS_STAT_GATE_REFUSED);
			return -EPERM;
		}
		break;
	}
	return ks->base_ops->setsockopt(sock, level, optname, optval, optlen);
}

static int katls_getsockopt(struct socket *sock, int level, int optname,
			    char __user *optval, int __user *optlen)
{
	struct katls_sock *ks = katls_ks(sock);
	struct katls_result res;
	struct tls_crypto_info ci;
	int len;

	switch (level) {
	case SOL_KATLS:
		if (optname != KATLS_RESULT)
			return -ENOPROTOOPT;
		if (get_user(len, optlen))
			return -EFAULT;
		/*
		 * The structure grows at its end only (mutual attestation
		 * appended the client's evidence): a caller built against
		 * the smaller one gets its prefix.
		 */
		BUILD_BUG_ON(offsetof(struct katls_result, client_evidence_type) !=
			     KATLS_RESULT_SIZE_VER0);
		if (len < KATLS_RESULT_SIZE_VER0)
			return -EINVAL;
		len = min_t(int, len, sizeof(res));
		katls_fill_result(ks, &res);
		if (copy_to_user(optval, &res, len) || put_user(len, optlen))
			return -EFAULT;
		return 0;
	case SOL_TLS:
		if (optname != TLS_TX && optname != TLS_RX)
			break;
		if (katls_state(ks) != KATLS_STATE_OPEN)
			return -ENOTCONN;
		/* Version and cipher only: the keys never leave the kernel. */
		if (get_user(len, optlen))
			return -EFAULT;
		if (len < (int)sizeof(ci))
			return -EINVAL;
		ci.version = ks->tls_version;
		ci.cipher_type = ks->cipher_type;
		if (copy_to_user(optval, &ci, sizeof(ci)) ||
		    put_user((int)sizeof(ci), optlen))
			return -EFAULT;
		return 0;
	case SOL_TCP:
		if (optname == TCP_ZEROCOPY_RECEIVE) {
			katls_stat_inc(KATLS_STAT_GATE_REFUSED);
			return -EOPNOTSUPP;
		}
		break;
	}
	return ks->base_ops->getsockopt(sock, level, optname, optval, optlen);
}

static int katls_release(struct socket *sock)
{
	struct katls_sock *ks = katls_ks(sock);
	int (*base_release)(struct socket *) = ks->base_ops->release;

	spin_lock_bh(&ks->lock);
	ks->sock = NULL;
	spin_unlock_bh(&ks->lock);
	/*
	 * The application closed it before its maximum age: TCP may hold
	 * the orphan for a long while yet (queued data, FIN_WAIT), and an
	 * expiry then would reset what the application sent before the
	 * close.  katls_expire_fn() checks ks->sock in case it is running.
	 */
	katls_expire_cancel(ks);
	katls_cancel(ks, ECONNABORTED);
	/*
	 * A queued request is reset on the wire (katls_abort_fn()); let
	 * that happen before the close, so the peer sees the RST that
	 * Documentation/userspace-api.rst promises and not a FIN first.
	 * The ULP's reference keeps @ks alive until the socket's
	 * destruction, after base_release().
	 */
	flush_work(&ks->abort_work);
	/* ks may be freed from here on (ULP release at destruction). */
	return base_release(sock);
}

/**
 * katls_gate_install() - give the socket its private, gated proto_ops
 * @ks: state of a socket kTLS has just attached to (TLS_BASE), locked
 */
void katls_gate_install(struct katls_sock *ks)
{
	ks->ops = *ks->base_ops;
	ks->ops.release = katls_release;
	ks->ops.poll = katls_poll;
	ks->ops.setsockopt = katls_setsockopt;
	ks->ops.getsockopt = katls_getsockopt;
	ks->ops.sendmsg = katls_sendmsg;
	ks->ops.recvmsg = katls_recvmsg;
	ks->ops.splice_read = katls_splice_read;
	ks->ops.read_sock = katls_read_sock;
	ks->ops.read_skb = katls_read_skb;
	ks->ops.sendmsg_locked = katls_sendmsg_locked;
#ifdef KATLS_HAVE_SPLICE_EOF
	ks->ops.splice_eof = katls_splice_eof;
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	ks->ops.sendpage = katls_sendpage;
	ks->ops.sendpage_locked = katls_sendpage_locked;
#endif
	WRITE_ONCE(ks->sock->ops, &ks->ops);
}

/**
 * katls_gate_open() - replace the gates by kTLS's functions
 * @ks: the socket state, in KATLS_STATE_HANDOVER, keys installed
 * @tls_ops: the proto_ops kTLS chose for TLS_SW/TLS_SW
 *
 * Only the data entries kTLS is known to override are taken over; if
 * kTLS's table differs from its TLS_BASE one anywhere else, this kernel's
 * kTLS is not what katls was written for and the hand-over fails closed.
 * Each entry is written with one store; callers still holding a gate see
 * the state change and re-dispatch.
 *
 * Return: 0, or -EPROTO.
 */
int katls_gate_open(struct katls_sock *ks, const struct proto_ops *tls_ops)
{
	struct proto_ops check = *tls_ops;

	check.sendmsg = ks->base_ops->sendmsg;
	check.recvmsg = ks->base_ops->recvmsg;
	check.poll = ks->base_ops->poll;
	check.splice_read = ks->base_ops->splice_read;
	check.read_sock = ks->base_ops->read_sock;
#ifdef KATLS_HAVE_SPLICE_EOF
	check.splice_eof = ks->base_ops->splice_eof;
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	check.sendpage = ks->base_ops->sendpage;
	check.sendpage_locked = ks->base_ops->sendpage_locked;
#endif
	if (memcmp(&check, ks->base_ops, sizeof(check))) {
		pr_err("katls: kTLS proto_ops differ unexpectedly; refusing hand-over\n");
		return -EPROTO;
	}

	WRITE_ONCE(ks->ops.sendmsg, tls_ops->sendmsg);
	WRITE_ONCE(ks->ops.recvmsg, tls_ops->recvmsg);
	WRITE_ONCE(ks->ops.splice_read, tls_ops->splice_read);
	WRITE_ONCE(ks->ops.read_sock, tls_ops->read_sock);
#ifdef KATLS_HAVE_SPLICE_EOF
	WRITE_ONCE(ks->ops.splice_eof, tls_ops->splice_eof);
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	WRITE_ONCE(ks->ops.sendpage, tls_ops->sendpage);
	WRITE_ONCE(ks->ops.sendpage_locked, tls_ops->sendpage_locked);
#endif
	WRITE_ONCE(ks->ops.poll, tls_ops->poll);
	return 0;
}

/**
 * katls_gate_close() - put the gates back after the maximum age expired
 * @ks: the socket state, already in KATLS_STATE_EXPIRED
 *
 * The inverse of katls_gate_open(): every data entry of the private
 * table is the gate again, which answers -EKEYEXPIRED (ks->status) in
 * state EXPIRED, and poll reports EPOLLERR | EPOLLHUP.  One store per
 * entry; a call that read kTLS's entry just before the store completes
 * in kTLS, where the reset that follows (tcp_abort()) ends it.  kTLS's
 * context stays attached, so close() frees it as usual.
 */
void katls_gate_close(struct katls_sock *ks)
{
	WRITE_ONCE(ks->ops.poll, katls_poll);
	WRITE_ONCE(ks->ops.sendmsg, katls_sendmsg);
	WRITE_ONCE(ks->ops.recvmsg, katls_recvmsg);
	WRITE_ONCE(ks->ops.splice_read, katls_splice_read);
	WRITE_ONCE(ks->ops.read_sock, katls_read_sock);
#ifdef KATLS_HAVE_SPLICE_EOF
	WRITE_ONCE(ks->ops.splice_eof, katls_splice_eof);
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	WRITE_ONCE(ks->ops.sendpage, katls_sendpage);
	WRITE_ONCE(ks->ops.sendpage_locked, katls_sendpage_locked);
#endif
}

/* Undo kTLS's attach when we cannot go on (mirrors tls_ctx_free()). */
static void katls_undo_tls(struct sock *sk, struct socket *sock,
			   const struct proto_ops *ops)
{
	struct inet_connection_sock *icsk = inet_csk(sk);
	struct tls_context *ctx = tls_get_ctx(sk);

	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_pointer(icsk->icsk_ulp_data, NULL);
	WRITE_ONCE(sk->sk_prot, ctx->sk_proto);
	write_unlock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(sock->ops, ops);
	mutex_destroy(&ctx->tx_lock);
	kfree_rcu(ctx, rcu);
}

/**
 * katls_ulp_init() - TCP_ULP "katls": opt a socket in
 * @sk: an established TCP socket, locked by tcp_set_ulp()
 *
 * Return: 0; -ENOTCONN if not established; -EOPNOTSUPP for a socket
 * whose proto or ops are not plain TCP (sockmap, another wrapper, a
 * kernel socket); -ENOMEM.
 */
int katls_ulp_init(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct katls_sock *ks;
	int v, err;

	if (sk->sk_family == AF_INET)
		v = KATLS_V4;
	else if (sk->sk_family == AF_INET6)
		v = KATLS_V6;
	else
		return -EOPNOTSUPP;
	if (!sock || !sock->file)
		return -EOPNOTSUPP;
	/* No base for a family that was unavailable at load (IPv6 off). */
	if (!katls_base_prot[v] || !katls_base_ops[v])
		return -EOPNOTSUPP;
	if (READ_ONCE(sk->sk_prot) != katls_base_prot[v] ||
	    READ_ONCE(sock->ops) != katls_base_ops[v])
		return -EOPNOTSUPP;
	if (sk->sk_state != TCP_ESTABLISHED)
		return -ENOTCONN;

	ks = katls_sock_alloc();
	if (!ks)
		return -ENOMEM;

	err = katls_tls_ulp->init(sk);
	if (err) {
		katls_sock_put(ks);
		return err;
	}
	/* kTLS's TLS_BASE table must be its copy of the plain base. */
	if (memcmp(READ_ONCE(sock->ops), katls_base_ops[v],
		   sizeof(struct proto_ops))) {
		pr_err("katls: kTLS base ops are not plain TCP; refusing\n");
		katls_undo_tls(sk, sock, katls_base_ops[v]);
		katls_sock_put(ks);
		return -EOPNOTSUPP;
	}

	ks->sk = sk;
	ks->sock = sock;
	ks->net = sock_net(sk);
	ks->family = v;
	ks->base_ops = READ_ONCE(sock->ops);
	ks->tls_setsockopt = READ_ONCE(sk->sk_prot)->setsockopt;
	katls_gate_install(ks);
	katls_register(ks);
	katls_stat_inc(KATLS_STAT_OPTED_IN);
	return 0;
}

/**
 * katls_ulp_release() - the socket is being destroyed
 * @sk: the socket; may be called from softirq context
 */
void katls_ulp_release(struct sock *sk)
{
	struct katls_sock *ks = katls_lookup_sk(sk);

	if (katls_tls_ulp->release)
		katls_tls_ulp->release(sk);
	if (!ks)
		return;
	WRITE_ONCE(ks->ulp_released, true);
	katls_expire_cancel(ks);
	katls_unregister(ks);
	katls_cancel(ks, ECONNABORTED);
	katls_stat_dec(KATLS_STAT_OPTED_IN);
	katls_sock_put(ks);		/* lookup */
	katls_sock_put(ks);		/* the ULP's reference */
}
