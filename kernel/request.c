// SPDX-License-Identifier: GPL-2.0
/*
 * katls - request lifecycle: registry, pending queue, state machine,
 * kernel-side timeout and exactly-once completion.
 *
 * Lookups on the hot path are O(1) whatever the number of opted-in
 * sockets: by socket (katls_hash), by request id for DONE (katls_ids, an
 * xarray), by agent for agent loss (katls_agents: each agent's accepted
 * requests on a list of their own, so that the release of an unrelated
 * netlink socket is one hash lookup).
 *
 * Locking: katls_pending_lock (global, short) nests outside ks->lock,
 * which nests outside katls_agent_lock.  All are taken with BHs disabled
 * because the ULP release can run from softirq context.  The registry
 * hash and the id xarray are read under RCU only.
 */

#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <net/netns/generic.h>
#include <net/tcp.h>

#include "katls.h"

static DEFINE_HASHTABLE(katls_hash, 10);
static DEFINE_SPINLOCK(katls_hash_lock);
static LIST_HEAD(katls_pending_list);
static DEFINE_SPINLOCK(katls_pending_lock);
static atomic64_t katls_next_id = ATOMIC64_INIT(0);

/* Request id -> katls_sock, from enqueue until unregister or free. */
static DEFINE_XARRAY_FLAGS(katls_ids, XA_FLAGS_LOCK_BH);

/**
 * struct katls_agent - an agent's netlink port and what it accepted
 * @node: in katls_agents, keyed by (@net, @portid)
 * @reqs: its requests in KATLS_STATE_ACCEPTED (ks->agent_node), each
 *	holding a reference on its katls_sock
 * @net: the port's namespace (compared, never dereferenced)
 * @portid: the port
 *
 * Exists while @reqs is not empty; everything under katls_agent_lock.
 */
struct katls_agent {
	struct hlist_node	node;
	struct list_head	reqs;
	const struct net	*net;
	u32			portid;
};

static DEFINE_HASHTABLE(katls_agents, 8);
static DEFINE_SPINLOCK(katls_agent_lock);

static u32 katls_agent_hash(const struct net *net, u32 portid)
{
	return hash_ptr(net, 32) ^ portid;
}

static struct katls_agent *katls_agent_find(const struct net *net,
					    u32 portid)
{
	struct katls_agent *a;

	lockdep_assert_held(&katls_agent_lock);
	hash_for_each_possible(katls_agents, a, node,
			       katls_agent_hash(net, portid))
		if (a->net == net && a->portid == portid)
			return a;
	return NULL;
}

/* Take @ks off its agent's list; drops the list's reference. */
static void katls_agent_unlink(struct katls_sock *ks)
{
	struct katls_agent *a, *empty = NULL;

	spin_lock_bh(&katls_agent_lock);
	a = ks->agent;
	if (a) {
		list_del_init(&ks->agent_node);
		ks->agent = NULL;
		if (list_empty(&a->reqs)) {
			hash_del(&a->node);
			empty = a;
		}
	}
	spin_unlock_bh(&katls_agent_lock);
	kfree(empty);
	if (a)
		katls_sock_put(ks);
}

static unsigned int *katls_npending(const struct net *net)
{
	return &katls_net((struct net *)net)->npending;
}

static void katls_timeout_fn(struct work_struct *work);
static void katls_abort_fn(struct work_struct *work);
static void katls_expire_fn(struct work_struct *work);

/**
 * katls_sock_alloc() - allocate the per-socket state, in state IDLE
 *
 * Return: the new object holding one reference, or NULL.
 */
struct katls_sock *katls_sock_alloc(void)
{
	struct katls_sock *ks;

	ks = kzalloc(sizeof(*ks), GFP_KERNEL);
	if (!ks)
		return NULL;
	refcount_set(&ks->ref, 1);
	spin_lock_init(&ks->lock);
	INIT_LIST_HEAD(&ks->pending);
	INIT_LIST_HEAD(&ks->agent_node);
	INIT_HLIST_NODE(&ks->hnode);
	INIT_DELAYED_WORK(&ks->timeout_work, katls_timeout_fn);
	INIT_WORK(&ks->abort_work, katls_abort_fn);
	INIT_DELAYED_WORK(&ks->expire_work, katls_expire_fn);
	ks->state = KATLS_STATE_IDLE;
	return ks;
}

/**
 * katls_sock_put() - drop a reference; the last one frees after RCU
 * @ks: the object
 */
void katls_sock_put(struct katls_sock *ks)
{
	if (!refcount_dec_and_test(&ks->ref))
		return;
	/* Lookups by id that still find it fail refcount_inc_not_zero(). */
	if (ks->id)
		xa_cmpxchg_bh(&katls_ids, ks->id, ks, NULL, 0);
	put_pid(ks->agent_pid);
	memzero_explicit(&ks->result, sizeof(ks->result));
	kfree_rcu(ks, rcu);
}

void katls_register(struct katls_sock *ks)
{
	spin_lock_bh(&katls_hash_lock);
	hash_add_rcu(katls_hash, &ks->hnode, (unsigned long)ks->sk);
	spin_unlock_bh(&katls_hash_lock);
}

void katls_unregister(struct katls_sock *ks)
{
	spin_lock_bh(&katls_hash_lock);
	if (!hlist_unhashed(&ks->hnode))
		hash_del_rcu(&ks->hnode);
	spin_unlock_bh(&katls_hash_lock);
	/* A released socket's request is no longer found by DONE. */
	if (READ_ONCE(ks->id))
		xa_cmpxchg_bh(&katls_ids, ks->id, ks, NULL, 0);
}

/**
 * katls_lookup_sk() - find the state of an opted-in socket
 * @sk: the socket
 *
 * Return: a referenced katls_sock, or NULL if @sk is not (or no longer)
 * registered.
 */
struct katls_sock *katls_lookup_sk(const struct sock *sk)
{
	struct katls_sock *ks;

	rcu_read_lock();
	hash_for_each_possible_rcu(katls_hash, ks, hnode, (unsigned long)sk) {
		if (ks->sk == sk && refcount_inc_not_zero(&ks->ref)) {
			rcu_read_unlock();
			return ks;
		}
	}
	rcu_read_unlock();
	return NULL;
}

static bool katls_policy_name_ok(const char *p, size_t max)
{
	size_t i;

	for (i = 0; i < max && p[i]; i++) {
		char c = p[i];

		/* ASCII only: the kernel's isalnum() accepts Latin-1. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return i > 0 && i < max;
}

/**
 * katls_validate_request() - check a KATLS_REQUEST from userspace
 * @req: the request, already copied into the kernel
 *
 * Return: 0, or -EINVAL for an unknown role, non-zero flags or reserved
 * field, a timeout above KATLS_TIMEOUT_MAX_MS, an empty, unterminated or
 * badly formed policy name, or an unterminated peer name.
 */
int katls_validate_request(const struct katls_request *req)
{
	if (req->role != KATLS_ROLE_CLIENT && req->role != KATLS_ROLE_SERVER)
		return -EINVAL;
	if (req->flags || req->reserved)
		return -EINVAL;
	if (req->timeout_ms > KATLS_TIMEOUT_MAX_MS)
		return -EINVAL;
	if (!katls_policy_name_ok(req->policy, sizeof(req->policy)))
		return -EINVAL;
	if (strnlen(req->peername, sizeof(req->peername)) ==
	    sizeof(req->peername))
		return -EINVAL;
	return 0;
}

/**
 * katls_transition_ok() - is @from -> @to an edge of the state machine?
 * @from: current enum katls_state
 * @to: wanted enum katls_state
 */
bool katls_transition_ok(int from, int to)
{
	switch (from) {
	case KATLS_STATE_IDLE:
		return to == KATLS_STATE_PENDING || to == KATLS_STATE_FAILED;
	case KATLS_STATE_PENDING:
		return to == KATLS_STATE_ACCEPTED || to == KATLS_STATE_FAILED;
	case KATLS_STATE_ACCEPTED:
		return to == KATLS_STATE_HANDOVER || to == KATLS_STATE_FAILED;
	case KATLS_STATE_HANDOVER:
		return to == KATLS_STATE_OPEN || to == KATLS_STATE_FAILED;
	case KATLS_STATE_OPEN:
		/* Only the maximum-age timer (katls_expire_fn()). */
		return to == KATLS_STATE_EXPIRED;
	default:	/* FAILED and EXPIRED are terminal */
		return false;
	}
}

static bool katls_busy(int state)
{
	return state == KATLS_STATE_ACCEPTED || state == KATLS_STATE_HANDOVER;
}

/**
 * katls_set_state() - move @ks along one edge of the state machine
 * @ks: the socket state, ks->lock held
 * @to: the new state
 *
 * Keeps the gauges in /proc/net/katls_stat in step.  The store has
 * release semantics: lock-free readers (the gate) that observe the new
 * state with katls_state() also observe everything written before.
 *
 * Return: 0, or -EINVAL if the edge does not exist.
 */
int katls_set_state(struct katls_sock *ks, int to)
{
	int from = ks->state;

	lockdep_assert_held(&ks->lock);
	if (!katls_transition_ok(from, to))
		return -EINVAL;
	if (from == KATLS_STATE_PENDING)
		katls_stat_dec(KATLS_STAT_PENDING);
	if (katls_busy(from) && !katls_busy(to))
		katls_stat_dec(KATLS_STAT_IN_PROGRESS);
	switch (to) {
	case KATLS_STATE_PENDING:
		katls_stat_inc(KATLS_STAT_PENDING);
		katls_stat_inc(KATLS_STAT_REQUESTED);
		break;
	case KATLS_STATE_ACCEPTED:
		katls_stat_inc(KATLS_STAT_IN_PROGRESS);
		katls_stat_inc(KATLS_STAT_ACCEPTED);
		break;
	case KATLS_STATE_OPEN:
		katls_stat_inc(KATLS_STAT_VERIFIED);
		break;
	case KATLS_STATE_EXPIRED:
		katls_stat_inc(KATLS_STAT_EXPIRED);
		break;
	}
	/* Pairs with smp_load_acquire() in katls_state(). */
	smp_store_release(&ks->state, to);
	return 0;
}

static void katls_wake(struct katls_sock *ks)
{
	struct socket_wq *wq;

	if (!ks->sk)
		return;
	rcu_read_lock();
	wq = rcu_dereference(ks->sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLIN | EPOLLOUT |
					   EPOLLRDNORM | EPOLLWRNORM |
					   EPOLLERR | EPOLLHUP);
	rcu_read_unlock();
}

/* Drop the timeout's reference if we stopped it before it ran. */
void katls_timer_cancel(struct katls_sock *ks)
{
	if (cancel_delayed_work(&ks->timeout_work))
		katls_sock_put(ks);
}

/**
 * katls_enqueue() - IDLE -> PENDING: queue a request and arm its timeout
 * @ks: the socket state
 * @req: a request that passed katls_validate_request()
 *
 * The request gets a new id, under which DONE finds it (katls_ids).
 * At most katls_max_pending requests of one network namespace wait for
 * an agent at once.  May sleep.
 *
 * Return: 0 once the request is pending; -EALREADY if a handshake is
 * already under way, -EISCONN if the socket is already verified, the
 * failure status if it already failed, -EAGAIN if too many requests of
 * the socket's namespace are pending (the socket stays IDLE), -ENOMEM.
 */
int katls_enqueue(struct katls_sock *ks, const struct katls_request *req)
{
	u64 id = atomic64_inc_return(&katls_next_id);
	unsigned int *npending;
	int err;

	/*
	 * The xarray index is an unsigned long, 64 bits on the 64-bit
	 * kernels katls supports: ids are never truncated nor reused.
	 */
	BUILD_BUG_ON(sizeof(unsigned long) < sizeof(u64));
	err = xa_insert_bh(&katls_ids, (unsigned long)id, ks, GFP_KERNEL);
	if (err)
		return err == -EBUSY ? -EAGAIN : err;

	spin_lock_bh(&katls_pending_lock);
	spin_lock(&ks->lock);
	switch (ks->state) {
	case KATLS_STATE_IDLE:
		break;
	case KATLS_STATE_OPEN:
		err = -EISCONN;
		goto unlock;
	case KATLS_STATE_FAILED:
	case KATLS_STATE_EXPIRED:
		err = -ks->status;
		goto unlock;
	default:
		err = -EALREADY;
		goto unlock;
	}
	npending = katls_npending(ks->net);
	if (*npending >= READ_ONCE(katls_max_pending)) {
		err = -EAGAIN;
		goto unlock;
	}
	ks->req = *req;
	if (!ks->req.timeout_ms)
		ks->req.timeout_ms = KATLS_TIMEOUT_DEFAULT_MS;
	WRITE_ONCE(ks->id, id);
	ks->req_jiffies = jiffies;
	if (ks->sk) {
		sock_hold(ks->sk);
		ks->sk_held = true;
	}
	WARN_ON(katls_set_state(ks, KATLS_STATE_PENDING));
	list_add_tail(&ks->pending, &katls_pending_list);
	ks->in_pending = true;
	(*npending)++;
	katls_sock_get(ks);		/* for the pending list */
	katls_sock_get(ks);		/* for the timeout */
	queue_delayed_work(katls_wq, &ks->timeout_work,
			   msecs_to_jiffies(ks->req.timeout_ms));
unlock:
	spin_unlock(&ks->lock);
	spin_unlock_bh(&katls_pending_lock);
	if (err)
		xa_erase_bh(&katls_ids, (unsigned long)id);
	return err;
}

/**
 * katls_submit() - queue a handshake request and notify the agents
 * @ks: the socket state
 * @req: a request that passed katls_validate_request()
 *
 * Return: as katls_enqueue(), or -ESRCH if no agent listens in the
 * socket's namespace and none has taken the request yet (the socket then
 * fails closed); 0 when an agent took it before the broadcast, whatever
 * became of it since (the caller's wait reports the outcome).
 */
int katls_submit(struct katls_sock *ks, const struct katls_request *req)
{
	int err = katls_enqueue(ks, req);

	if (err)
		return err;
	err = katls_notify_ready(ks);
	if (err == -ESRCH) {
		/*
		 * An agent that polls ACCEPT may have taken the request
		 * between the enqueue and the broadcast, and even finished
		 * it and closed its socket: then the outcome is its, and the
		 * caller waits for it like for any accepted request.
		 */
		if (!katls_fail(ks, ESRCH, KATLS_STAT_NO_AGENT))
			return 0;
		return -ESRCH;
	}
	/* Any other notification error: agents still find it by ACCEPT. */
	return 0;
}

static void katls_pending_del(struct katls_sock *ks)
{
	lockdep_assert_held(&katls_pending_lock);
	if (!ks->in_pending)
		return;
	list_del_init(&ks->pending);
	ks->in_pending = false;
	(*katls_npending(ks->net))--;
}

/**
 * katls_complete() - fail a request that has not reached the hand-over
 * @ks: the socket state
 * @status: positive errno to report
 *
 * The first caller wins; later calls (a timeout racing with DONE, agent
 * loss racing with close, ...) change nothing.  The winner wakes every
 * waiter and queues the abort of the TCP connection (RST): the socket
 * fails closed.  Safe from any context that may take BH spinlocks.
 *
 * Return: true if this call completed the request.
 */
bool katls_complete(struct katls_sock *ks, int status)
{
	return katls_fail(ks, status, __KATLS_STAT_MAX);
}

/**
 * katls_fail() - katls_complete(), counting the failure before the wake
 * @ks: the socket state
 * @status: positive errno to record
 * @stat: the /proc/net/katls_stat counter to increment if this call
 *	completes the request, or __KATLS_STAT_MAX for none
 *
 * The counter is incremented before the state FAILED is published, so
 * that an application that sees the failure also sees it counted.
 *
 * Return: true if this call completed the request.
 */
bool katls_fail(struct katls_sock *ks, int status, enum katls_stat_item stat)
{
	bool was_pending;

	if (WARN_ON_ONCE(status <= 0 || status >= MAX_ERRNO))
		status = EPROTO;

	spin_lock_bh(&katls_pending_lock);
	spin_lock(&ks->lock);
	if (ks->state == KATLS_STATE_HANDOVER ||
	    !katls_transition_ok(ks->state, KATLS_STATE_FAILED)) {
		spin_unlock(&ks->lock);
		spin_unlock_bh(&katls_pending_lock);
		return false;
	}
	/*
	 * Counted before FAILED is published (katls_set_state() releases
	 * the state): whoever sees the failure, the woken application or
	 * a poller, also sees it counted.
	 */
	if (stat < __KATLS_STAT_MAX)
		katls_stat_inc(stat);
	WARN_ON_ONCE(katls_set_state(ks, KATLS_STATE_FAILED));
	ks->status = status;
	ks->result.binding_level = KATLS_BINDING_NONE;
	was_pending = ks->in_pending;
	katls_pending_del(ks);
	spin_unlock(&ks->lock);
	spin_unlock_bh(&katls_pending_lock);

	if (was_pending)
		katls_sock_put(ks);	/* the pending list's reference */
	katls_agent_unlink(ks);
	katls_timer_cancel(ks);
	katls_wake(ks);
	katls_sock_get(ks);
	if (!queue_work(katls_wq, &ks->abort_work))
		katls_sock_put(ks);
	return true;
}

/**
 * katls_cancel() - the application closed a socket that is not verified
 * @ks: the socket state
 * @status: status to record
 */
void katls_cancel(struct katls_sock *ks, int status)
{
	katls_fail(ks, status, KATLS_STAT_CLOSED);
}

static void katls_timeout_fn(struct work_struct *work)
{
	struct katls_sock *ks = container_of(to_delayed_work(work),
					     struct katls_sock, timeout_work);

	katls_fail(ks, ETIMEDOUT, KATLS_STAT_TIMED_OUT);
	katls_sock_put(ks);
}

/*
 * Fail closed on the wire: reset the connection and drop the socket
 * reference the request held.  Runs in process context.
 */
static void katls_abort_fn(struct work_struct *work)
{
	struct katls_sock *ks = container_of(work, struct katls_sock,
					     abort_work);
	struct sock *sk = ks->sk;
	bool held;

	spin_lock_bh(&ks->lock);
	held = ks->sk_held;
	ks->sk_held = false;
	spin_unlock_bh(&ks->lock);

	if (held) {
		tcp_abort(sk, ECONNABORTED);
		sock_put(sk);
	}
	katls_sock_put(ks);
}

/**
 * katls_accept_next() - hand the oldest pending request of @net to an agent
 * @net: the agent's network namespace
 * @portid: the agent's netlink port
 * @agent: the agent's thread-group pid (a reference is taken)
 *
 * Return: the request, now ACCEPTED, with the pending list's reference
 * transferred to the caller; or NULL if nothing is pending.
 */
struct katls_sock *katls_accept_next(struct net *net, u32 portid,
				     struct pid *agent)
{
	struct katls_sock *ks, *found = NULL;
	struct katls_agent *new = NULL, *a;

again:
	spin_lock_bh(&katls_pending_lock);
	list_for_each_entry(ks, &katls_pending_list, pending) {
		if (!net_eq(ks->net, net))
			continue;
		spin_lock(&ks->lock);
		if (!katls_transition_ok(ks->state, KATLS_STATE_ACCEPTED)) {
			spin_unlock(&ks->lock);
			continue;
		}
		/*
		 * On the agent's list before anyone can see it ACCEPTED:
		 * agent loss finds it there.  Most ACCEPTs come from an
		 * agent that has a list already; the others allocate one
		 * outside the locks and look again.
		 */
		spin_lock(&katls_agent_lock);
		a = katls_agent_find(net, portid);
		if (!a && !new) {
			spin_unlock(&katls_agent_lock);
			spin_unlock(&ks->lock);
			spin_unlock_bh(&katls_pending_lock);
			new = kzalloc(sizeof(*new), GFP_KERNEL);
			if (!new)
				return NULL;
			INIT_LIST_HEAD(&new->reqs);
			new->net = net;
			new->portid = portid;
			goto again;
		}
		if (!a) {
			a = new;
			new = NULL;
			hash_add(katls_agents, &a->node,
				 katls_agent_hash(net, portid));
		}
		WARN_ON_ONCE(katls_set_state(ks, KATLS_STATE_ACCEPTED));
		ks->agent_portid = portid;
		put_pid(ks->agent_pid);
		ks->agent_pid = get_pid(agent);
		katls_pending_del(ks);
		katls_sock_get(ks);	/* for the agent's list */
		list_add_tail(&ks->agent_node, &a->reqs);
		ks->agent = a;
		spin_unlock(&katls_agent_lock);
		spin_unlock(&ks->lock);
		found = ks;
		break;
	}
	spin_unlock_bh(&katls_pending_lock);
	kfree(new);
	return found;
}

/**
 * katls_find_id() - look a request up by its id
 * @net: namespace the caller lives in
 * @id: KATLS_A_REQ_ID
 *
 * Return: a referenced katls_sock or NULL.
 */
struct katls_sock *katls_find_id(struct net *net, u64 id)
{
	struct katls_sock *ks;

	if (!id)
		return NULL;
	rcu_read_lock();
	ks = xa_load(&katls_ids, (unsigned long)id);
	/* kfree_rcu(): a found entry stays readable until the unlock. */
	if (ks && (READ_ONCE(ks->id) != id || !net_eq(ks->net, net) ||
		   !refcount_inc_not_zero(&ks->ref)))
		ks = NULL;
	rcu_read_unlock();
	return ks;
}

/**
 * katls_done() - carry out an agent's DONE
 * @net: the agent's network namespace
 * @portid: the agent's netlink port
 * @done: the parsed message (netlink.c: katls_parse_done())
 * @extack: error report
 *
 * The whole transaction of a DONE: find the request, check that the
 * caller is the agent that accepted it, then either fail it closed with
 * the agent's status (mapped by katls_agent_status()), or move it to
 * HANDOVER, install the keys into kTLS (handover.c) and open the gate or
 * fail closed (katls_finish_handover()).  The caller wipes @done and the
 * message.
 *
 * Return: 0 once the verdict is the request's outcome; -ENOENT for an
 * unknown request or one not in KATLS_STATE_ACCEPTED, also one that
 * completed otherwise while this DONE ran; -EPERM if another agent
 * accepted it;
 * -ECONNABORTED if the application's socket is gone (the request then
 * fails closed); or the hand-over's error (the request failed closed).
 */
int katls_done(struct net *net, u32 portid, const struct katls_done *done,
	       struct netlink_ext_ack *extack)
{
	struct katls_sock *ks;
	struct file *file;
	int err;

	ks = katls_find_id(net, done->id);
	if (!ks) {
		NL_SET_ERR_MSG(extack, "unknown request");
		return -ENOENT;
	}
	if (done->status) {
		err = katls_check_owner(ks, portid);
		if (err)
			goto put;
		/*
		 * Between the owner check and here the request may have
		 * completed otherwise (reset, timeout, close, agent loss):
		 * then this verdict is not the one the application sees, and
		 * the agent must not be told that it is.
		 */
		if (!katls_fail(ks, katls_agent_status(done->status),
				KATLS_STAT_REJECTED)) {
			NL_SET_ERR_MSG(extack, "request completed meanwhile");
			err = -ENOENT;
		}
		goto put;
	}

	/* The file pins the struct socket for the hand-over. */
	file = katls_get_file(ks);
	if (!file) {
		err = katls_check_owner(ks, portid);
		if (!err)
			katls_cancel(ks, ECONNABORTED);
		err = err ?: -ECONNABORTED;
		goto put;
	}
	err = katls_begin_handover(ks, portid, &done->summary);
	if (!err) {
		/* Only the owner gets here; read by the hand-over's end. */
		ks->max_age_ms = done->max_age_ms;
		err = katls_handover(ks, done->tx, done->txlen,
				     done->rx, done->rxlen);
		katls_finish_handover(ks, err);
	}
	fput(file);
put:
	katls_sock_put(ks);
	return err;
}

/**
 * katls_agent_gone() - a generic netlink socket was released
 * @net: its namespace
 * @portid: its port
 *
 * Every request that port had accepted fails with ECONNABORTED.  Called
 * for every generic netlink socket released anywhere: for a port that
 * never accepted anything it costs one hash lookup; otherwise it walks
 * that agent's requests only.
 */
void katls_agent_gone(struct net *net, u32 portid)
{
	struct katls_sock *ks, *tmp;
	struct katls_agent *a;
	LIST_HEAD(reqs);

	spin_lock_bh(&katls_agent_lock);
	a = katls_agent_find(net, portid);
	if (a) {
		hash_del(&a->node);
		list_splice_init(&a->reqs, &reqs);
		/* The list's references are ours now. */
		list_for_each_entry(ks, &reqs, agent_node)
			ks->agent = NULL;
	}
	spin_unlock_bh(&katls_agent_lock);
	kfree(a);

	list_for_each_entry_safe(ks, tmp, &reqs, agent_node) {
		list_del_init(&ks->agent_node);
		katls_fail(ks, ECONNABORTED, KATLS_STAT_AGENT_LOST);
		katls_sock_put(ks);
	}
}

static bool katls_terminal(struct katls_sock *ks)
{
	int st = katls_state(ks);

	return st == KATLS_STATE_OPEN || st == KATLS_STATE_FAILED ||
	       st == KATLS_STATE_EXPIRED;
}

/**
 * katls_check_reset() - a reset connection ends its request
 * @ks: the socket state
 *
 * If the socket has an error (RST from the peer, ...), a request that is
 * pending or accepted fails with it instead of waiting for the agent or
 * the timeout.
 */
void katls_check_reset(struct katls_sock *ks)
{
	int err = READ_ONCE(ks->sk->sk_err);

	if (unlikely(err))
		katls_fail(ks, err, KATLS_STAT_CLOSED);
}

/**
 * katls_wait_terminal() - sleep until the handshake has an outcome
 * @ks: the socket state (the caller is in a syscall on the socket)
 * @timeo: maximum jiffies to wait
 *
 * Return: 0 when OPEN or FAILED, -EAGAIN when @timeo ran out,
 * -EINTR when a signal arrived (the handshake goes on).
 */
int katls_wait_terminal(struct katls_sock *ks, long timeo)
{
	long ret;

	/* A reset ends the wait, except during the (short) hand-over. */
	ret = wait_event_interruptible_timeout(*sk_sleep(ks->sk),
			katls_terminal(ks) ||
			(READ_ONCE(ks->sk->sk_err) &&
			 READ_ONCE(ks->state) != KATLS_STATE_HANDOVER), timeo);
	katls_check_reset(ks);
	if (katls_terminal(ks))
		return 0;
	if (ret < 0)
		return -EINTR;
	return -EAGAIN;
}

/**
 * katls_fill_result() - snapshot the outcome for KATLS_RESULT
 * @ks: the socket state
 * @res: output
 */
void katls_fill_result(struct katls_sock *ks, struct katls_result *res)
{
	spin_lock_bh(&ks->lock);
	*res = ks->result;
	res->state = ks->state;
	res->status = (ks->state == KATLS_STATE_FAILED ||
		       ks->state == KATLS_STATE_EXPIRED) ? ks->status : 0;
	spin_unlock_bh(&ks->lock);
}

/**
 * katls_for_each() - walk the opted-in sockets of @net, resumable
 * @net: namespace
 * @pos: in: entries to skip; out: entries visited when @fn stopped
 * @fn: callback; a non-zero return stops the walk before that entry
 * @arg: passed to @fn
 */
void katls_for_each(struct net *net, unsigned long *pos,
		    int (*fn)(struct katls_sock *ks, void *arg), void *arg)
{
	unsigned long idx = 0;
	struct katls_sock *ks;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(katls_hash, bkt, ks, hnode) {
		if (!net_eq(ks->net, net))
			continue;
		if (idx++ < *pos)
			continue;
		if (fn(ks, arg)) {
			idx--;
			break;
		}
	}
	rcu_read_unlock();
	*pos = idx;
}

static struct file *katls_file_get(struct file *f)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	return file_ref_get(&f->f_ref) ? f : NULL;
#else
	return atomic_long_inc_not_zero(&f->f_count) ? f : NULL;
#endif
}

/**
 * katls_get_file() - a reference on the application's socket file
 * @ks: the socket state
 *
 * The file pins the struct socket, so that it cannot be released under
 * an ACCEPT or a hand-over.
 *
 * Return: the file, or NULL if the socket is being or has been released.
 */
struct file *katls_get_file(struct katls_sock *ks)
{
	struct file *f = NULL;

	spin_lock_bh(&ks->lock);
	if (ks->sock && ks->sock->file)
		f = katls_file_get(ks->sock->file);
	spin_unlock_bh(&ks->lock);
	return f;
}

/**
 * katls_check_owner() - is the caller the agent that accepted @ks?
 * @ks: the socket state
 * @portid: the caller's netlink port
 *
 * Return: 0; -ENOENT if @ks is not in KATLS_STATE_ACCEPTED (never
 * accepted, or already finished, e.g. timed out); -EPERM if another
 * agent accepted it.
 */
int katls_check_owner(struct katls_sock *ks, u32 portid)
{
	int err = 0;

	spin_lock_bh(&ks->lock);
	if (ks->state != KATLS_STATE_ACCEPTED)
		err = -ENOENT;
	else if (ks->agent_portid != portid ||
		 ks->agent_pid != task_tgid(current))
		err = -EPERM;
	spin_unlock_bh(&ks->lock);
	return err;
}

/**
 * katls_begin_handover() - ACCEPTED -> HANDOVER for the owning agent
 * @ks: the socket state
 * @portid: the caller's netlink port
 * @summary: evidence summary to publish with the verdict
 *
 * From here on neither the timeout nor agent loss nor close can complete
 * the request: katls_finish_handover() does, exactly once.
 *
 * Return: 0, or the katls_check_owner() errors.
 */
int katls_begin_handover(struct katls_sock *ks, u32 portid,
			 const struct katls_result *summary)
{
	int err;

	spin_lock_bh(&ks->lock);
	if (ks->state != KATLS_STATE_ACCEPTED)
		err = -ENOENT;
	else if (ks->agent_portid != portid ||
		 ks->agent_pid != task_tgid(current))
		err = -EPERM;
	else
		err = katls_set_state(ks, KATLS_STATE_HANDOVER);
	if (!err) {
		ks->result.evidence_type = summary->evidence_type;
		ks->result.binding_level = summary->binding_level;
		ks->result.measurement_len = summary->measurement_len;
		memcpy(ks->result.evidence_digest, summary->evidence_digest,
		       sizeof(ks->result.evidence_digest));
		memcpy(ks->result.measurement, summary->measurement,
		       sizeof(ks->result.measurement));
		memcpy(ks->result.policy, summary->policy,
		       sizeof(ks->result.policy));
		/* issue 14 item 3: zero unless the client attested */
		ks->result.client_evidence_type = summary->client_evidence_type;
		ks->result.client_binding_level = summary->client_binding_level;
		ks->result.client_measurement_len =
			summary->client_measurement_len;
		memcpy(ks->result.client_evidence_digest,
		       summary->client_evidence_digest,
		       sizeof(ks->result.client_evidence_digest));
		memcpy(ks->result.client_measurement,
		       summary->client_measurement,
		       sizeof(ks->result.client_measurement));
		memcpy(ks->result.client_policy, summary->client_policy,
		       sizeof(ks->result.client_policy));
	}
	spin_unlock_bh(&ks->lock);
	if (!err) {
		katls_timer_cancel(ks);
		katls_agent_unlink(ks);	/* agent loss cannot touch it now */
	}
	return err;
}

/**
 * katls_finish_handover() - HANDOVER -> OPEN, or -> FAILED with @err
 * @ks: the socket state
 * @err: 0 if kTLS took both keys, else a negative errno
 *
 * On success with a maximum age (ks->max_age_ms, from DONE), arms the
 * expiry: katls_expire_fn() runs that many milliseconds later.
 */
void katls_finish_handover(struct katls_sock *ks, int err)
{
	struct sock *sk = NULL;

	spin_lock_bh(&ks->lock);
	if (err) {
		ks->status = -err;
		memset(&ks->result, 0, sizeof(ks->result));
		WARN_ON(katls_set_state(ks, KATLS_STATE_FAILED));
	} else {
		WARN_ON(katls_set_state(ks, KATLS_STATE_OPEN));
		if (ks->sk_held) {
			ks->sk_held = false;
			sk = ks->sk;
		}
		if (ks->max_age_ms && ks->sk && ks->sock && !ks->ulp_released) {
			/* Both references are dropped by the work or its
			 * cancellation (katls_expire_cancel()).
			 */
			sock_hold(ks->sk);
			katls_sock_get(ks);
			queue_delayed_work(katls_wq, &ks->expire_work,
					   msecs_to_jiffies(ks->max_age_ms));
		}
	}
	spin_unlock_bh(&ks->lock);

	katls_wake(ks);
	if (err) {
		katls_stat_inc(KATLS_STAT_HANDOVER_FAILED);
		katls_sock_get(ks);
		if (!queue_work(katls_wq, &ks->abort_work))
			katls_sock_put(ks);
	} else if (sk) {
		sock_put(sk);
	}
}

/*
 * The maximum connection age has passed: OPEN -> EXPIRED, the gates go
 * back into the socket's table (every data call then fails with
 * EKEYEXPIRED, whatever kTLS holds), and the connection is reset, which
 * also wakes every thread asleep inside kTLS with sk_err EKEYEXPIRED.
 * Runs in process context (tcp_abort() takes the socket lock).
 */
static void katls_expire_fn(struct work_struct *work)
{
	struct katls_sock *ks = container_of(to_delayed_work(work),
					     struct katls_sock, expire_work);
	struct sock *sk = ks->sk;
	bool expired = false;

	spin_lock_bh(&ks->lock);
	if (!READ_ONCE(ks->ulp_released) && ks->sock &&
	    ks->state == KATLS_STATE_OPEN) {
		/* Before the state: the gates read it after seeing EXPIRED. */
		ks->status = EKEYEXPIRED;
		WARN_ON(katls_set_state(ks, KATLS_STATE_EXPIRED));
		expired = true;
	}
	spin_unlock_bh(&ks->lock);
	if (expired) {
		katls_gate_close(ks);
		tcp_abort(sk, EKEYEXPIRED);
		katls_wake(ks);
	}
	sock_put(sk);
	katls_sock_put(ks);
}

/**
 * katls_expire_cancel() - stop a pending maximum-age expiry
 * @ks: the socket state (the socket is being released)
 *
 * Called when the application closes the socket and again when it is
 * destroyed; safe from any context.  An expiry already running sees
 * ks->sock NULL or ks->ulp_released and changes nothing.
 */
void katls_expire_cancel(struct katls_sock *ks)
{
	if (cancel_delayed_work(&ks->expire_work)) {
		sock_put(ks->sk);
		katls_sock_put(ks);
	}
}

void katls_request_exit(void)
{
	WARN_ON(!list_empty(&katls_pending_list));
	WARN_ON(!hash_empty(katls_hash));
	WARN_ON(!hash_empty(katls_agents));
	WARN_ON(!xa_empty(&katls_ids));
	xa_destroy(&katls_ids);
}
