/* SPDX-License-Identifier: GPL-2.0 */
/*
 * katls - kernel-enforced attested TLS: internal definitions.
 *
 * Invariants
 * ----------
 * Numbered as in Documentation/design.rst ("Kernel invariants"); their
 * tests are listed in Documentation/testing.rst under the same numbers.
 *
 * 1. No application byte leaves or enters an opted-in socket before a
 *    positive verdict.  gate.c: katls_ulp_init() opts in only plain TCP
 *    sockets; katls_gate_install() puts a gate on every data entry of the
 *    private proto_ops; katls_gate() lets through only OPEN or the
 *    accepting agent's thread group (katls_is_agent()); katls_poll()
 *    reports no readiness; katls_setsockopt()/katls_getsockopt() refuse
 *    SOL_TLS keys, a second TCP_ULP, TCP_REPAIR* and TCP_ZEROCOPY_RECEIVE;
 *    katls_read_skb()/katls_sendmsg_locked() refuse in-kernel bypasses.
 *    handover.c: katls_handover() keeps kTLS's table switches on a shadow
 *    struct socket until both directions are installed.
 * 2. After a positive verdict every application byte goes through kTLS
 *    with the agent's keys, and katls does no per-byte work.
 *    netlink.c: katls_validate_crypto_info() (TLS 1.3, three ciphers);
 *    handover.c: katls_handover() (TX then RX); gate.c: katls_gate_open()
 *    (checks kTLS's table, then writes kTLS's functions into ks->ops).
 * 3. Every failure fails closed.  request.c: katls_complete() (-> FAILED,
 *    wake waiters, tcp_abort() from katls_abort_fn()), called by
 *    katls_timeout_fn(), katls_agent_gone() (netlink.c's URELEASE
 *    notifier), katls_check_reset(), katls_cancel() (close, ULP release),
 *    katls_submit() (no agent) and katls_done() with a failure status
 *    mapped by katls_agent_status(); katls_finish_handover() if kTLS
 *    refuses.  Unload is refused while any socket holds the ULP's module
 *    reference (tcp_set_ulp()).
 * 4. Exactly-once completion, nothing leaked, unload once unused.
 *    request.c: katls_set_state()/katls_transition_ok() (one table, under
 *    ks->lock), katls_complete() (first caller wins; nothing completes a
 *    HANDOVER but katls_finish_handover()), the ks->ref counting of
 *    katls_sock_put() and katls_request_exit() (warns on leftovers);
 *    netlink.c: katls_nl_done_doit() wipes the whole DONE message, keys
 *    included, whatever the outcome (memzero_explicit()); the ULP holds a
 *    module reference per opted-in socket, dropped at its destruction.
 *
 * Object model
 * ------------
 * One struct katls_sock per opted-in TCP socket, created by the ULP init
 * (kernel/gate.c) and freed after the ULP release at socket destruction.
 * It owns a private copy of the socket's struct proto_ops: sock->ops
 * points at ks->ops for the socket's whole life.  Until the verdict the
 * data entries of that table are the gate's; after a positive verdict the
 * hand-over (kernel/handover.c) rewrites them in place to kTLS's own
 * functions, so the module is out of the data path.
 *
 * Lifetime: ks->ref counts the ULP (from init to release), the pending
 * queue, queued work items and netlink users.  ks->sk is valid while the
 * ULP reference is held, or while ks->sk_held (a sock_hold taken for an
 * in-flight request) is set.
 *
 * State machine (enum katls_state, uapi):
 *   IDLE -> PENDING -> ACCEPTED -> HANDOVER -> OPEN -> EXPIRED
 *   IDLE, PENDING, ACCEPTED -> FAILED;  HANDOVER -> FAILED (kTLS refused)
 *   OPEN -> EXPIRED only by the maximum-age timer (katls_expire_fn()):
 *   the gates go back into the table and answer EKEYEXPIRED.
 * Every transition is made under ks->lock with katls_set_state(); the
 * move to a terminal state happens exactly once (katls_complete()).
 */
#ifndef _KATLS_H
#define _KATLS_H

#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/version.h>
#include <linux/workqueue.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <uapi/linux/katls.h>

struct genl_info;
struct sk_buff;
struct netlink_callback;

/**
 * struct katls_done - a parsed DONE (netlink.c: katls_parse_done())
 * @id: KATLS_A_REQ_ID
 * @status: KATLS_A_STATUS: 0, or the agent's positive errno
 * @summary: the evidence summary (status 0 only)
 * @tx: kTLS crypto_info for the send direction, inside the message
 * @txlen: its length
 * @rx: same for the receive direction
 * @rxlen: its length
 * @max_age_ms: KATLS_A_MAX_AGE_MS, 0 if absent (no maximum age)
 *
 * Lives on the handler's stack; the handler wipes it and the message.
 */
struct katls_done {
	u64			id;
	u32			status;
	struct katls_result	summary;
	void			*tx;
	void			*rx;
	size_t			txlen;
	size_t			rxlen;
	u32			max_age_ms;
};

/* Address family index of the per-family bases. */
enum { KATLS_V4, KATLS_V6, KATLS_NUM_FAMILIES };

struct katls_agent;

/* Per network namespace state (stats.c registers it). */
struct katls_net {
	unsigned int		npending;	/* under katls_pending_lock */
};

struct katls_sock {
	struct hlist_node	hnode;		/* katls_hash, keyed by sk */
	struct list_head	pending;	/* katls_pending_list */
	struct list_head	agent_node;	/* ks->agent->reqs */
	struct katls_agent	*agent;		/* while ACCEPTED */
	refcount_t		ref;
	spinlock_t		lock;		/* state, agent, result */

	struct sock		*sk;
	struct socket		*sock;		/* NULL once the application
						 * closed it (katls_release()):
						 * no expiry after that */
	struct net		*net;		/* not refcounted: sk's */
	int			family;		/* KATLS_V4 / KATLS_V6 */

	/* sock->ops == &ops for the socket's whole life. */
	struct proto_ops	ops;
	/* kTLS's TLS_BASE/TLS_BASE ops and proto, as seen at init. */
	const struct proto_ops	*base_ops;
	int (*tls_setsockopt)(struct sock *sk, int level, int optname,
			      sockptr_t optval, unsigned int optlen);

	int			state;		/* enum katls_state */
	int			status;		/* positive errno if FAILED */
	bool			in_pending;
	bool			sk_held;
	bool			ulp_released;

	u64			id;
	struct katls_request	req;
	struct katls_result	result;
	u16			cipher_type;	/* kTLS cipher after OPEN */
	u16			tls_version;

	u32			agent_portid;
	struct pid		*agent_pid;	/* tgid of the accepting agent */
	unsigned long		req_jiffies;

	struct delayed_work	timeout_work;
	struct work_struct	abort_work;

	/*
	 * Maximum connection age (KATLS_A_MAX_AGE_MS, 0: none), set by the
	 * accepting agent's DONE before the hand-over; expire_work runs
	 * max_age_ms after OPEN (katls_expire_fn()), holding a reference on
	 * @ks and one on @sk while queued.
	 */
	u32			max_age_ms;
	struct delayed_work	expire_work;
	struct rcu_head		rcu;
};

/* main.c */
extern struct workqueue_struct *katls_wq;
extern const struct proto *katls_base_prot[KATLS_NUM_FAMILIES];
extern const struct proto_ops *katls_base_ops[KATLS_NUM_FAMILIES];
extern const struct tcp_ulp_ops *katls_tls_ulp;
extern unsigned int katls_max_pending;

/* gate.c */
int katls_ulp_init(struct sock *sk);
void katls_ulp_release(struct sock *sk);
void katls_gate_install(struct katls_sock *ks);
bool katls_is_agent(struct katls_sock *ks);
int katls_gate_open(struct katls_sock *ks, const struct proto_ops *tls_ops);
void katls_gate_close(struct katls_sock *ks);

/* request.c */
struct katls_sock *katls_sock_alloc(void);
void katls_sock_put(struct katls_sock *ks);
/**
 * katls_state() - the state of @ks, for a reader without ks->lock
 * @ks: the socket state
 *
 * Return: the state, read with acquire semantics.  It pairs with the
 * release in katls_set_state(): a reader that sees KATLS_STATE_OPEN also
 * sees the kTLS ops and context the hand-over installed before it, and
 * one that sees KATLS_STATE_FAILED sees ks->status.
 */
static inline int katls_state(struct katls_sock *ks)
{
	/* Pairs with smp_store_release() in katls_set_state(). */
	return smp_load_acquire(&ks->state);
}

static inline void katls_sock_get(struct katls_sock *ks)
{
	refcount_inc(&ks->ref);
}
void katls_register(struct katls_sock *ks);
void katls_unregister(struct katls_sock *ks);
struct katls_sock *katls_lookup_sk(const struct sock *sk);
int katls_validate_request(const struct katls_request *req);
bool katls_transition_ok(int from, int to);
int katls_set_state(struct katls_sock *ks, int to);
int katls_enqueue(struct katls_sock *ks, const struct katls_request *req);
int katls_submit(struct katls_sock *ks, const struct katls_request *req);
bool katls_complete(struct katls_sock *ks, int status);
void katls_cancel(struct katls_sock *ks, int status);
struct katls_sock *katls_accept_next(struct net *net, u32 portid,
				     struct pid *agent);
struct katls_sock *katls_find_id(struct net *net, u64 id);
int katls_done(struct net *net, u32 portid, const struct katls_done *done,
	       struct netlink_ext_ack *extack);
void katls_agent_gone(struct net *net, u32 portid);
void katls_timer_cancel(struct katls_sock *ks);
struct file *katls_get_file(struct katls_sock *ks);
int katls_check_owner(struct katls_sock *ks, u32 portid);
int katls_begin_handover(struct katls_sock *ks, u32 portid,
			 const struct katls_result *summary);
void katls_finish_handover(struct katls_sock *ks, int err);
void katls_check_reset(struct katls_sock *ks);
int katls_wait_terminal(struct katls_sock *ks, long timeo);
void katls_fill_result(struct katls_sock *ks, struct katls_result *res);
void katls_for_each(struct net *net, unsigned long *pos,
		    int (*fn)(struct katls_sock *ks, void *arg), void *arg);
void katls_expire_cancel(struct katls_sock *ks);
void katls_request_exit(void);

/* netlink.c */
int katls_netlink_init(void);
void katls_netlink_exit(void);
int katls_notify_ready(struct katls_sock *ks);
bool katls_agents_listening(struct net *net);
int katls_validate_crypto_info(const void *buf, size_t len, u16 *cipher);
struct nlattr;
struct netlink_ext_ack;
int katls_parse_done(struct nlattr **tb, struct katls_done *done,
		     struct netlink_ext_ack *extack);
int katls_agent_status(u32 status);
struct sock *katls_dump_pin(struct katls_sock *ks);

/* handover.c */
int katls_handover(struct katls_sock *ks, void *tx, size_t txlen,
		   void *rx, size_t rxlen);

/* stats.c */
extern unsigned int katls_net_id;
static inline struct katls_net *katls_net(struct net *net)
{
	return net_generic(net, katls_net_id);
}

enum katls_stat_item {
	KATLS_STAT_OPTED_IN,		/* gauge: sockets with the ULP */
	KATLS_STAT_PENDING,		/* gauge: requests not yet accepted */
	KATLS_STAT_IN_PROGRESS,		/* gauge: accepted, not finished */
	KATLS_STAT_REQUESTED,
	KATLS_STAT_ACCEPTED,
	KATLS_STAT_VERIFIED,
	KATLS_STAT_REJECTED,
	KATLS_STAT_TIMED_OUT,
	KATLS_STAT_AGENT_LOST,
	KATLS_STAT_NO_AGENT,
	KATLS_STAT_CLOSED,
	KATLS_STAT_HANDOVER_FAILED,
	KATLS_STAT_GATE_REFUSED,
	KATLS_STAT_NO_PAD_FAILED,	/* TLS_RX_EXPECT_NO_PAD not set */
	KATLS_STAT_EXPIRED,		/* OPEN -> EXPIRED (max age) */
	__KATLS_STAT_MAX
};
void katls_stat_inc(enum katls_stat_item i);
void katls_stat_dec(enum katls_stat_item i);
s64 katls_stat_read(enum katls_stat_item i);
bool katls_fail(struct katls_sock *ks, int status, enum katls_stat_item stat);
int katls_stats_init(void);
void katls_stats_exit(void);

#define KATLS_WARN_ONCE(cond, fmt, ...) \
	WARN_ONCE(cond, "katls: " fmt, ##__VA_ARGS__)

#endif /* _KATLS_H */
