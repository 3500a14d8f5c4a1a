// SPDX-License-Identifier: GPL-2.0
/*
 * katls - kernel-enforced attested TLS.
 *
 * Module init and exit, ULP registration, and the one-time capture of
 * kTLS's struct tcp_ulp_ops (static in tls.ko, not exported): kTLS is
 * attached to a private, never-connected kernel socket marked
 * established for the duration of the call, and its ops are read back
 * from icsk_ulp_ops.  No packet is sent and no network set-up is needed.
 */

#include <linux/module.h>
#include <linux/net.h>
#include <net/genetlink.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>

#include "katls.h"

unsigned int katls_max_pending = 65536;
module_param_named(max_pending, katls_max_pending, uint, 0644);
MODULE_PARM_DESC(max_pending,
		 "Requests of one network namespace that may wait for an agent at once (default 65536)");

struct workqueue_struct *katls_wq;
const struct proto *katls_base_prot[KATLS_NUM_FAMILIES];
const struct proto_ops *katls_base_ops[KATLS_NUM_FAMILIES];
const struct tcp_ulp_ops *katls_tls_ulp;

static void katls_ulp_update(struct sock *sk, struct proto *p,
			     void (*write_space)(struct sock *sk))
{
	if (katls_tls_ulp->update)
		katls_tls_ulp->update(sk, p, write_space);
}

static int katls_ulp_get_info(struct sock *sk, struct sk_buff *skb)
{
	return katls_tls_ulp->get_info ? katls_tls_ulp->get_info(sk, skb) : 0;
}

static size_t katls_ulp_get_info_size(const struct sock *sk)
{
	return katls_tls_ulp->get_info_size ?
	       katls_tls_ulp->get_info_size(sk) : 0;
}

static struct tcp_ulp_ops katls_ulp_ops __read_mostly = {
	.name		= KATLS_ULP_NAME,
	.owner		= THIS_MODULE,
	.init		= katls_ulp_init,
	.update		= katls_ulp_update,
	.release	= katls_ulp_release,
	.get_info	= katls_ulp_get_info,
	.get_info_size	= katls_ulp_get_info_size,
};

static int katls_capture_family(int family, int v)
{
	const struct tcp_ulp_ops *ulp;
	struct socket *sock;
	struct sock *sk;
	int err;

	err = sock_create_kern(&init_net, family, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return err;
	sk = sock->sk;
	katls_base_prot[v] = READ_ONCE(sk->sk_prot);
	katls_base_ops[v] = READ_ONCE(sock->ops);
	if (v != KATLS_V4)
		goto out;

	lock_sock(sk);
	inet_sk_set_state(sk, TCP_ESTABLISHED);
	release_sock(sk);
	err = sk->sk_prot->setsockopt(sk, SOL_TCP, TCP_ULP,
				      KERNEL_SOCKPTR("tls"), 3);
	ulp = inet_csk(sk)->icsk_ulp_ops;
	if (!err && (!ulp || strcmp(ulp->name, "tls") ||
		     !try_module_get(ulp->owner)))
		err = -ENOPROTOOPT;
	if (!err)
		katls_tls_ulp = ulp;
	lock_sock(sk);
	inet_sk_set_state(sk, TCP_CLOSE);
	release_sock(sk);
out:
	sock_release(sock);
	return err;
}

static int __init katls_init(void)
{
	int err;

	err = katls_capture_family(AF_INET, KATLS_V4);
	if (err) {
		pr_err("katls: cannot attach kTLS (is tls.ko available?): %d\n",
		       err);
		return err;
	}
#if IS_ENABLED(CONFIG_IPV6)
	err = katls_capture_family(AF_INET6, KATLS_V6);
	if (err == -EAFNOSUPPORT) {
		/*
		 * ipv6.disable=1: no AF_INET6 socket can exist, so none can
		 * opt in; IPv4 works as usual.
		 */
		pr_info("katls: IPv6 is disabled; IPv4 only\n");
		err = 0;
	} else if (err) {
		pr_err("katls: no IPv6 TCP base: %d\n", err);
		goto put_tls;
	}
#endif
	katls_wq = alloc_workqueue("katls", WQ_UNBOUND, 0);
	if (!katls_wq) {
		err = -ENOMEM;
		goto put_tls;
	}
	err = katls_stats_init();
	if (err)
		goto destroy_wq;
	err = katls_netlink_init();
	if (err)
		goto stats;
	err = tcp_register_ulp(&katls_ulp_ops);
	if (err)
		goto netlink;
	pr_info("katls: loaded (kTLS ulp captured)\n");
	return 0;

netlink:
	katls_netlink_exit();
stats:
	katls_stats_exit();
destroy_wq:
	destroy_workqueue(katls_wq);
put_tls:
	module_put(katls_tls_ulp->owner);
	return err;
}

static void __exit katls_exit(void)
{
	tcp_unregister_ulp(&katls_ulp_ops);
	katls_netlink_exit();
	destroy_workqueue(katls_wq);
	rcu_barrier();
	katls_request_exit();
	katls_stats_exit();
	module_put(katls_tls_ulp->owner);
}

module_init(katls_init);
module_exit(katls_exit);

MODULE_AUTHOR("katls developers");
MODULE_DESCRIPTION("Kernel-enforced attested TLS: gate TCP sockets until TEE evidence is verified, then kTLS");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: tls");
MODULE_ALIAS_TCP_ULP("katls");
MODULE_ALIAS_GENL_FAMILY("katls");
