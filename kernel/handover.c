// SPDX-License-Identifier: GPL-2.0
/*
 * katls - hand-over of the agent's TLS 1.3 keys to kTLS.
 *
 * kTLS installs a direction with setsockopt(SOL_TLS, TLS_TX/TLS_RX) and,
 * inside that call, switches both sk->sk_prot and sk->sk_socket->ops to
 * its table for the new configuration.  Done naively, a fresh reader
 * entering between TLS_TX and TLS_RX would run plain tcp_recvmsg() and
 * consume ciphertext (and, with RX first, a sender would put plaintext on
 * the wire).  Instead, for the duration of the two calls sk->sk_socket
 * points at a private shadow struct socket: kTLS's ops switch lands in
 * the shadow while the application's struct socket keeps the gated
 * table, so no application thread can reach a kTLS or TCP data function
 * before both directions are installed.  Only then does
 * katls_gate_open() write kTLS's functions into the private table.
 *
 * The shadow is installed and removed with the socket owned (lock_sock)
 * and sk_callback_lock held: TCP input, timers and sock_i_uid()/ino()
 * all read sk->sk_socket under one of those, so nobody holds a pointer
 * to the shadow once it is freed.  Between the two, the only readers are
 * softirq write-space and error reports, which touch flags (merged back
 * afterwards) and the wait queue (reached through sk->sk_wq, untouched).
 */

#include <linux/slab.h>
#include <net/sock.h>
#include <net/tls.h>

#include "katls.h"

/*
 * TLS 1.3 receive: tell kTLS to expect unpadded records
 * (TLS_RX_EXPECT_NO_PAD, since 6.0; Debian 6.1 and 6.12 have it), so that
 * a record that fits the reader's buffer is decrypted straight into it
 * instead of into a kernel buffer and then copied.  A record that turns
 * out padded (or not data) is decrypted a second time the slow way, which
 * kTLS counts in TlsDecryptRetry and TlsRxNoPadViolation; so a peer can at
 * most double the receiver's decrypt cost of its own records.  It is an
 * optimisation, not a security property: a failure leaves the socket
 * correct but slower, so it does not fail the hand-over; it is counted
 * (no_pad_failed in /proc/net/katls_stat).  The application can turn it
 * off with setsockopt(SOL_TLS, TLS_RX_EXPECT_NO_PAD, 0) once OPEN.
 */
static void katls_rx_no_pad(struct katls_sock *ks,
			    const struct tls_crypto_info *rx)
{
#ifdef TLS_RX_EXPECT_NO_PAD
	unsigned int on = 1;

	if (rx->version != TLS_1_3_VERSION)
		return;
	if (ks->tls_setsockopt(ks->sk, SOL_TLS, TLS_RX_EXPECT_NO_PAD,
			       KERNEL_SOCKPTR(&on), sizeof(on)))
		katls_stat_inc(KATLS_STAT_NO_PAD_FAILED);
#endif
}

static void katls_swap_socket(struct sock *sk, struct socket *to)
{
	lock_sock(sk);
	write_lock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(sk->sk_socket, to);
	write_unlock_bh(&sk->sk_callback_lock);
	release_sock(sk);
}

/**
 * katls_handover() - install TX then RX keys into kTLS, then open the gate
 * @ks: a socket in KATLS_STATE_HANDOVER whose file the caller holds
 * @tx: kTLS crypto_info for the send direction (validated)
 * @txlen: its length
 * @rx: kTLS crypto_info for the receive direction (validated)
 * @rxlen: its length
 *
 * Must be called without the socket lock (kTLS takes it).  kTLS copies
 * the keys into its own context; the caller wipes @tx and @rx.
 *
 * Return: 0, or a negative errno from kTLS or the table check; the
 * caller then fails the socket closed.
 */
int katls_handover(struct katls_sock *ks, void *tx, size_t txlen,
		   void *rx, size_t rxlen)
{
	struct sock *sk = ks->sk;
	struct socket *real = ks->sock;
	const struct proto_ops *tls_ops;
	struct socket_alloc *sh;
	struct socket *shadow;
	int err;

	if (!real)
		return -ECONNABORTED;
	sh = kzalloc(sizeof(*sh), GFP_KERNEL);
	if (!sh)
		return -ENOMEM;
	shadow = &sh->socket;
	shadow->state = real->state;
	shadow->type = real->type;
	shadow->flags = real->flags;
	shadow->file = real->file;
	shadow->sk = sk;
	shadow->ops = READ_ONCE(real->ops);
	init_waitqueue_head(&shadow->wq.wait);
	sh->vfs_inode.i_ino = SOCK_INODE(real)->i_ino;
	sh->vfs_inode.i_uid = SOCK_INODE(real)->i_uid;

	katls_swap_socket(sk, shadow);

	err = ks->tls_setsockopt(sk, SOL_TLS, TLS_TX,
				 KERNEL_SOCKPTR(tx), txlen);
	if (!err)
		err = ks->tls_setsockopt(sk, SOL_TLS, TLS_RX,
					 KERNEL_SOCKPTR(rx), rxlen);
	if (!err)
		katls_rx_no_pad(ks, rx);

	tls_ops = READ_ONCE(shadow->ops);
	if (test_bit(SOCK_NOSPACE, &shadow->flags))
		set_bit(SOCK_NOSPACE, &real->flags);
	katls_swap_socket(sk, real);
	kfree(sh);

	if (!err) {
		const struct tls_crypto_info *ci = tx;

		ks->tls_version = ci->version;
		ks->cipher_type = ci->cipher_type;
		err = katls_gate_open(ks, tls_ops);
	}
	return err;
}
