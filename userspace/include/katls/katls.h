/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * katls/katls.h - libkatls, helpers for applications using katls sockets.
 *
 * libkatls wraps the socket options of include/uapi/linux/katls.h: it
 * opts a connected TCP socket into the "katls" ULP, asks the kernel for an
 * attested TLS 1.3 handshake (run by the katlsd agent) and returns the
 * verified evidence summary.  Once a call has succeeded the descriptor is
 * an ordinary kTLS socket: send(2), recv(2) and sendfile(2) carry TLS
 * records.  Nothing in libkatls takes part in the handshake itself, and
 * nothing in it can make a socket usable: the kernel enforces the verdict.
 *
 * Error convention: functions returning int return a non-negative value
 * on success and -1 with errno set on failure.  Besides the errnos of the
 * underlying system calls, these values have a katls meaning (see
 * katls_connect(3)):
 *
 *	ENOPROTOOPT	the katls kernel module is not loaded (TCP_ULP "katls"
 *			unknown), or the socket was not opted in
 *	ESRCH		no katls agent (katlsd) is running
 *	ETIMEDOUT	the TCP connect or the attested handshake timed out
 *	ECONNABORTED	the agent went away during the handshake
 *	EACCES		evidence or certificate rejected by the policy
 *	EKEYREJECTED	evidence not bound to this handshake (relay, replay)
 *	ENODEV		the attesting host has no TEE evidence provider
 *	EPROTO		TLS protocol error, or the peer aborted
 *	EINPROGRESS	the handshake has not finished yet (non-blocking use)
 *	ENXIO		the host or service name could not be resolved
 *	EINVAL		invalid argument (policy name, role, timeout, ...)
 *
 * All functions are thread-safe; none keeps state between calls.
 */
#ifndef KATLS_KATLS_H
#define KATLS_KATLS_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/katls.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Policy used when struct katls_options.policy is NULL. */
#define KATLS_POLICY_DEFAULT		"default"
/* TCP connect timeout when struct katls_options.connect_timeout_ms is 0. */
#define KATLS_CONNECT_TIMEOUT_DEFAULT_MS	10000
/* A buffer of this size always holds katls_format_result()'s output. */
/* 1024 since mutual attestation added the client's evidence (issue 14) */
#define KATLS_RESULT_STR_MAX		1024

/**
 * struct katls_options - parameters of an attested handshake
 * @policy: name of the agent's policy ([A-Za-z0-9._-], 1 to
 *	KATLS_POLICY_MAX - 1 characters); NULL selects KATLS_POLICY_DEFAULT.
 * @peername: expected peer name, checked by the agent against the peer's
 *	certificate (client role).  NULL: katls_connect() uses its @host
 *	argument, katls_attach() and katls_attach_start() send none.  "":
 *	explicitly none.  katlsd refuses a CA-verified certificate when no
 *	name is given, so "" only succeeds with a policy that trusts an
 *	evidence-bound key.  At most KATLS_PEERNAME_MAX - 1 printable
 *	characters.
 * @timeout_ms: kernel-side deadline of the handshake; 0 selects
 *	KATLS_TIMEOUT_DEFAULT_MS, at most KATLS_TIMEOUT_MAX_MS.
 * @connect_timeout_ms: katls_connect() only: deadline of the TCP connect
 *	to each address; 0 selects KATLS_CONNECT_TIMEOUT_DEFAULT_MS.
 * @family: katls_connect() only: AF_UNSPEC, AF_INET or AF_INET6.
 * @flags: must be 0.
 *
 * A NULL struct katls_options pointer means all defaults.  Zero-initialise
 * the structure and set the fields you need.
 */
struct katls_options {
	const char *policy;
	const char *peername;
	unsigned int timeout_ms;
	unsigned int connect_timeout_ms;
	int family;
	unsigned int flags;
};

/*
 * Connect to host:port (getaddrinfo(3), IPv4 and IPv6, each address in
 * turn), opt the socket in and run the handshake in the client role
 * (the local end verifies the peer's evidence).  The peer must prove the
 * name @host (certificate name check) unless @opt->peername names
 * another one.  Returns a blocking,
 * close-on-exec kTLS socket, or -1 with errno; if @res is not NULL it
 * receives the outcome, also on a failed handshake (state
 * KATLS_STATE_FAILED) when the kernel reported one.
 */
int katls_connect(const char *host, const char *port,
		  const struct katls_options *opt, struct katls_result *res);

/*
 * accept4(2) a connection on @listen_fd and run the handshake on it in the
 * server role (the local end attests).  Returns the new socket or -1 with
 * errno; on a failed handshake the accepted socket is closed.  With a
 * non-blocking @listen_fd and no pending connection: -1/EAGAIN.
 */
int katls_accept(int listen_fd, const struct katls_options *opt,
		 struct katls_result *res);

/*
 * Opt an existing connected TCP socket in and run the handshake in @role;
 * wait for the outcome, also when @fd is non-blocking.  Returns 0 once the
 * socket is open, -1 with errno otherwise.  -1/EINTR: a signal arrived;
 * the handshake goes on, katls_wait() or poll(2) + katls_result_get()
 * collect it.  @res may be NULL.  The socket is not closed on failure.
 */
int katls_attach(int fd, enum katls_role role,
		 const struct katls_options *opt, struct katls_result *res);

/*
 * Non-blocking variant: opt @fd in and submit the request without waiting.
 * Returns 0 once the request is queued (the handshake runs in the
 * background), -1 with errno if it could not be submitted.  The file
 * status flags of @fd are left as they were.  Completion is signalled by
 * poll(2): POLLOUT (open) or POLLERR/POLLHUP (failed); then call
 * katls_result_get().
 */
int katls_attach_start(int fd, enum katls_role role,
		       const struct katls_options *opt);

/*
 * Read the outcome of @fd's handshake into @res (KATLS_RESULT).  Returns 0
 * if the socket is open, -1 with errno EINPROGRESS while the handshake
 * runs, the handshake's status errno if it failed, or the errno of
 * getsockopt(2) (ENOPROTOOPT: not a katls socket).  @res is filled in
 * whenever the kernel answered.
 */
int katls_result_get(int fd, struct katls_result *res);

/*
 * Wait up to @timeout_ms (-1: no limit; the kernel's handshake timer
 * bounds the wait anyway) for @fd's handshake to finish, then behave like
 * katls_result_get().  -1/EINPROGRESS if it is still running at the
 * deadline; -1/EINTR if a signal interrupted the wait.
 */
int katls_wait(int fd, int timeout_ms, struct katls_result *res);

/*
 * The end of the stream (issue 11, item 17).  On an open katls socket a
 * TCP FIN alone is not a clean end: whoever can cut the connection could
 * truncate the data.  The sender ends its data with a TLS close_notify
 * alert, the receiver accepts an end of stream only after one.
 */

/* TLS alert description of close_notify (RFC 8446, 6.1). */
#define KATLS_ALERT_CLOSE_NOTIFY	0

/*
 * Receive application data from an open katls socket, like recv(2)
 * (@flags: MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, ...), but with the TLS
 * record type checked.  Returns the number of bytes (> 0), 0 only after
 * the peer's close_notify (a clean end of its data; stop reading then:
 * a later call sees the TCP FIN as a bare one), or -1 with errno:
 *
 *	ECONNABORTED	the TCP stream ended (FIN) without close_notify:
 *			the data may have been truncated
 *	EPROTO		the peer sent another TLS alert (its description in
 *			*@alert; the connection is over), or a record that
 *			is neither data nor alert (a post-handshake message,
 *			which kTLS cannot process)
 *	ENOPROTOOPT	@fd does not receive through kTLS
 *	EINVAL		@buf NULL or @len 0
 *
 * and recvmsg(2)'s errnos (EAGAIN, EINTR, ECONNRESET, EBADMSG for a
 * record that failed authentication, ...).  @alert may be NULL; if not,
 * it receives the description (0..255) of the alert that was received,
 * -1 if none.  @buf's contents are unspecified unless data was returned.
 */
ssize_t katls_recv(int fd, void *buf, size_t len, int flags, int *alert);

/*
 * The largest plaintext of one TLS record (RFC 8446, 5.1: 2^14 bytes),
 * the piece size of katls_send().
 */
#define KATLS_RECORD_MAX		16384

/*
 * Send @len bytes of @buf on a katls (kTLS) socket the way the kernel
 * encrypts best: send(2) in pieces of at most KATLS_RECORD_MAX bytes,
 * one TLS record each.  kTLS holds the socket lock while it encrypts a
 * whole send(2), so one large send() delays the ACKs and window updates
 * of the whole message; record-sized pieces let them in between records
 * (Documentation/userspace-api.rst, "Writing data").  @flags go to
 * every send(2) (MSG_NOSIGNAL, MSG_DONTWAIT, MSG_MORE, ...).
 *
 * Returns @len once all of it is queued; a blocking socket's send(2)
 * that returns early (a signal, SO_SNDTIMEO) or fails with EINTR is
 * continued with the rest.  On a non-blocking socket (O_NONBLOCK or
 * MSG_DONTWAIT) whose send buffer fills, it returns the count queued so
 * far (0 < count < @len; send the rest after POLLOUT), or -1 with errno
 * EAGAIN if nothing was queued.  -1 with errno for any other error,
 * even after part of @buf was queued (the stream is then broken:
 * EPIPE, ECONNRESET, ...), and EINVAL if @buf is NULL with a non-zero
 * @len.  A @len of 0 sends nothing and returns 0.  Works on any stream
 * socket; the piece size matters for kTLS.
 */
ssize_t katls_send(int fd, const void *buf, size_t len, int flags);

/*
 * shutdown(2) that ends the data stream cleanly: for SHUT_WR and
 * SHUT_RDWR it first sends a close_notify alert through kTLS, then shuts
 * the socket down.  Returns 0 or -1 with errno: ENOPROTOOPT if @fd does
 * not send through kTLS (nothing sent, the socket is not shut down),
 * EAGAIN on a non-blocking socket whose send buffer is full (nothing
 * sent, retry on POLLOUT), EINVAL for another @how, and the errnos of
 * sendmsg(2) and shutdown(2).  SHUT_RD sends nothing.
 */
int katls_shutdown(int fd, int how);

/*
 * Send a close_notify alert (unless the write side is already shut
 * down), waiting up to 5 s for room in the send buffer, then close(2) @fd.
 * @fd is closed in every case.  Returns 0, or -1 with errno if the alert
 * could not be sent (ENOPROTOOPT: not a kTLS socket; ETIMEDOUT; ECONNRESET,
 * ...): the peer then sees a bare end of stream.  Unread received data
 * makes the kernel reset the connection on close(2), which can discard
 * the alert: read to the end first.
 */
int katls_close(int fd);

/* Name of a TLS alert description ("close_notify", "decrypt_error");
 * "unknown" if not defined.  Never NULL, static storage. */
const char *katls_alert_name(int desc);

/* Names of enum values: "open", "tdx", "L2", "client"; "unknown" if out
 * of range.  Never NULL, static storage. */
const char *katls_state_name(unsigned int state);
const char *katls_evidence_type_name(unsigned int type);
const char *katls_binding_level_name(unsigned int level);
const char *katls_role_name(unsigned int role);

/*
 * One-line summary of @r, without a newline, e.g.
 *   state=open evidence=sim binding=L2 measurement=00ab.. digest=3f1c..
 *   policy=sim-demo
 *   state=failed status=EKEYREJECTED (Key was rejected by service)
 * Like snprintf(3): returns the length of the full summary, writes at most
 * @len bytes including the NUL (nothing if @len is 0); a return value
 * >= @len means the output was truncated.  -1/EINVAL if @r is NULL, or
 * @buf is NULL while @len is not 0.
 */
int katls_format_result(const struct katls_result *r, char *buf, size_t len);

/*
 * Human explanation of an errno returned by libkatls, with the katls
 * meaning where there is one ("no katls agent (katlsd) is running" for
 * ESRCH), strerror(3)'s text otherwise.  Never NULL, static storage.
 */
const char *katls_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* KATLS_KATLS_H */
