// SPDX-License-Identifier: GPL-2.0
/*
 * chaos-wire - what the chaos run put on the loopback wire (issue 16
 * item 1): an AF_PACKET capture on lo of every TCP segment to or from one
 * port, reassembled per direction by sequence number, that checks
 *
 *   - every payload byte belongs to a well-formed TLS record (type 20,
 *     21, 22 or 23, version 0x0301..0x0303, length 1..2^14+256);
 *   - once a direction has carried an application-data record (type 23;
 *     TLS 1.3 encrypts everything after the ServerHello under it), it
 *     carries nothing else: no plaintext handshake or alert record after
 *     the keys are in use;
 *   - the plaintext marker of tools/chaos/chaos.c never appears, in any
 *     segment or across segment boundaries;
 *   - the capture lost nothing (PACKET_STATISTICS drops, truncated
 *     frames) and left no stream with a hole, so that the checks above
 *     saw every byte.
 *
 *   chaos-wire --port P          capture until SIGINT/SIGTERM, then TAP
 *   chaos-wire --port P --control
 *	the checker's own test: it makes three loopback connections to
 *	port P itself -- plaintext with the marker, well-formed records
 *	(22, 20, 23, 23), and a plaintext alert after application data --
 *	and passes only if exactly the first and the third are flagged.
 *
 * "listening" on stdout once the capture socket is bound.  Runs as root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"

#define MARKER		"KATLS-CHAOS-PLAINTEXT-MARKER"
#define MLEN		(sizeof(MARKER) - 1)
#define REC_MAX		(16384 + 256)
#define OOO_MAX		(8u << 20)	/* bytes held out of order, all flows */

struct seg {
	struct seg *next;
	uint32_t seq;
	uint32_t len;
	unsigned char data[];
};

struct dir {
	int have_isn;
	uint32_t next;
	int appdata;		/* saw a type 23 record */
	int broken;		/* framing lost: stop parsing */
	unsigned char hdr[5];
	int hdr_got;
	uint32_t body_left;
	unsigned char carry[MLEN];
	size_t carry_len;
	struct seg *ooo;
	uint64_t bytes;
};

struct flow {
	struct flow *next;
	int family;
	unsigned char a[16], b[16];	/* a: the side that sent the SYN */
	uint16_t pa, pb;
	struct dir d[2];		/* 0: a->b, 1: b->a */
	unsigned int v_nontls, v_after, v_marker, unverified;
	int closed;
};

#define NBUCKET 4096
static struct flow *flows[NBUCKET];
static unsigned int port;
static volatile sig_atomic_t stop;
static uint64_t ooo_bytes;

static struct {
	uint64_t packets, bytes, flows, records[24], truncated;
	unsigned int nontls, after, marker, unverified, gaps, late;
} g;

static void on_signal(int sig)
{
	stop = 1;
}

static unsigned int hash(const unsigned char *a, const unsigned char *b,
			 uint16_t pa, uint16_t pb)
{
	unsigned int h = pa ^ pb;

	for (int i = 0; i < 16; i++)
		h = h * 31 + (a[i] ^ b[i]);
	return h % NBUCKET;
}

static void finish_dir(struct flow *f, struct dir *d)
{
	struct seg *s, *n;

	if (d->ooo) {
		f->unverified++;
		g.gaps++;
	}
	for (s = d->ooo; s; s = n) {
		n = s->next;
		ooo_bytes -= s->len;
		free(s);
	}
	d->ooo = NULL;
}

static void account(struct flow *f)
{
	finish_dir(f, &f->d[0]);
	finish_dir(f, &f->d[1]);
	g.nontls += !!f->v_nontls;
	g.after += !!f->v_after;
	g.marker += !!f->v_marker;
	g.unverified += !!f->unverified;
}

/* The flow of this segment; @dir gets 0 (from the SYN's sender) or 1. */
static struct flow *lookup(int family, const unsigned char *src,
			   const unsigned char *dst, uint16_t sp, uint16_t dp,
			   int syn, int ack, int *dir)
{
	unsigned int h = hash(src, dst, sp, dp);
	struct flow *f, **pp;

	for (pp = &flows[h]; (f = *pp); pp = &f->next) {
		if (f->family != family)
			continue;
		if (f->pa == sp && f->pb == dp && !memcmp(f->a, src, 16) &&
		    !memcmp(f->b, dst, 16))
			*dir = 0;
		else if (f->pa == dp && f->pb == sp && !memcmp(f->a, dst, 16) &&
			 !memcmp(f->b, src, 16))
			*dir = 1;
		else
			continue;
		if (syn && !ack && *dir == 0 && f->d[0].have_isn) {
			/* the 4-tuple is used again: a new connection */
			*pp = f->next;
			account(f);
			free(f);
			break;
		}
		return f;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->family = family;
	/* the SYN's sender is side a; without a SYN, the lower port is b */
	if (syn && ack) {
		memcpy(f->a, dst, 16);
		memcpy(f->b, src, 16);
		f->pa = dp;
		f->pb = sp;
		*dir = 1;
	} else {
		memcpy(f->a, src, 16);
		memcpy(f->b, dst, 16);
		f->pa = sp;
		f->pb = dp;
		*dir = 0;
	}
	if (!syn)
		g.late++;
	f->next = flows[h];
	flows[h] = f;
	g.flows++;
	return f;
}

static void marker_scan(struct flow *f, struct dir *d, const unsigned char *p,
			size_t n)
{
	unsigned char edge[2 * MLEN];
	size_t k = n < MLEN ? n : MLEN;

	/* across the previous bytes of the stream and these */
	memcpy(edge, d->carry, d->carry_len);
	memcpy(edge + d->carry_len, p, k);
	if (memmem(edge, d->carry_len + k, MARKER, MLEN))
		f->v_marker++;
	if (n >= MLEN) {
		memcpy(d->carry, p + n - (MLEN - 1), MLEN - 1);
		d->carry_len = MLEN - 1;
	} else {
		size_t keep = d->carry_len + n > MLEN - 1 ?
			      MLEN - 1 - n : d->carry_len;

		memmove(d->carry, d->carry + d->carry_len - keep, keep);
		memcpy(d->carry + keep, p, n);
		d->carry_len = keep + n;
	}
}

/* In-order stream bytes of one direction. */
static void feed(struct flow *f, struct dir *d, const unsigned char *p,
		 size_t n)
{
	marker_scan(f, d, p, n);
	d->bytes += n;
	g.bytes += n;
	while (n && !d->broken) {
		if (d->body_left) {
			size_t k = n < d->body_left ? n : d->body_left;

			d->body_left -= k;
			p += k;
			n -= k;
			continue;
		}
		d->hdr[d->hdr_got++] = *p++;
		n--;
		if (d->hdr_got < 5)
			continue;
		d->hdr_got = 0;
		{
			unsigned int type = d->hdr[0];
			unsigned int len = d->hdr[3] << 8 | d->hdr[4];

			if (type < 20 || type > 23 || d->hdr[1] != 3 ||
			    d->hdr[2] < 1 || d->hdr[2] > 3 || !len ||
			    len > REC_MAX) {
				f->v_nontls++;
				d->broken = 1;
				break;
			}
			g.records[type]++;
			if (type == 23)
				d->appdata = 1;
			else if (d->appdata)
				f->v_after++;
			d->body_left = len;
		}
	}
}

static void drain_ooo(struct flow *f, struct dir *d)
{
	int progress = 1;

	while (progress) {
		struct seg **pp, *s;

		progress = 0;
		for (pp = &d->ooo; (s = *pp); ) {
			int32_t off = (int32_t)(s->seq - d->next);

			if (off > 0) {
				pp = &s->next;
				continue;
			}
			*pp = s->next;
			if ((uint32_t)-off < s->len) {
				feed(f, d, s->data - off, s->len + off);
				d->next += s->len + off;
			}
			ooo_bytes -= s->len;
			free(s);
			progress = 1;
		}
	}
}

static void segment(struct flow *f, struct dir *d, uint32_t seq,
		    const unsigned char *p, size_t n)
{
	int32_t off;

	/* a marker inside one segment, whatever its order */
	if (memmem(p, n, MARKER, MLEN))
		f->v_marker++;
	if (!d->have_isn) {
		/* capture began after the SYN: start here, unverified */
		d->have_isn = 1;
		d->next = seq;
		f->unverified++;
	}
	off = (int32_t)(seq - d->next);
	if (off < 0) {
		if ((size_t)-off >= n)
			return;		/* a retransmission of known bytes */
		p -= off;
		n += off;
		off = 0;
	}
	if (off > 0) {
		struct seg *s;

		if (ooo_bytes + n > OOO_MAX ||
		    !(s = malloc(sizeof(*s) + n))) {
			f->unverified++;
			return;
		}
		s->seq = seq;
		s->len = n;
		memcpy(s->data, p, n);
		s->next = d->ooo;
		d->ooo = s;
		ooo_bytes += n;
		return;
	}
	feed(f, d, p, n);
	d->next += n;
	drain_ooo(f, d);
}

static void packet(const unsigned char *pkt, size_t len)
{
	unsigned char src[16] = { 0 }, dst[16] = { 0 };
	const unsigned char *ip = pkt + ETH_HLEN, *tcp, *data;
	size_t iplen, tlen;
	int family, dir;
	uint16_t sp, dp;
	unsigned int etype, flags, doff;
	uint32_t seq;
	struct flow *f;

	if (len < ETH_HLEN)
		return;
	etype = pkt[12] << 8 | pkt[13];
	len -= ETH_HLEN;
	if (etype == ETH_P_IP) {
		unsigned int ihl;

		if (len < 20 || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP)
			return;
		ihl = (ip[0] & 15) * 4;
		iplen = ip[2] << 8 | ip[3];
		if (iplen > len || iplen < ihl)
			return;
		family = AF_INET;
		memcpy(src, ip + 12, 4);
		memcpy(dst, ip + 16, 4);
		tcp = ip + ihl;
		tlen = iplen - ihl;
	} else if (etype == ETH_P_IPV6) {
		if (len < 40 || ip[6] != IPPROTO_TCP)
			return;
		iplen = 40 + (ip[4] << 8 | ip[5]);
		if (iplen > len)
			return;
		family = AF_INET6;
		memcpy(src, ip + 8, 16);
		memcpy(dst, ip + 24, 16);
		tcp = ip + 40;
		tlen = iplen - 40;
	} else {
		return;
	}
	if (tlen < 20)
		return;
	sp = tcp[0] << 8 | tcp[1];
	dp = tcp[2] << 8 | tcp[3];
	if (sp != port && dp != port)
		return;
	seq = (uint32_t)tcp[4] << 24 | tcp[5] << 16 | tcp[6] << 8 | tcp[7];
	doff = (tcp[12] >> 4) * 4;
	flags = tcp[13];
	if (doff < 20 || doff > tlen)
		return;
	g.packets++;
	f = lookup(family, src, dst, sp, dp, flags & 0x02, flags & 0x10, &dir);
	if (!f)
		return;
	if (flags & 0x02) {		/* SYN */
		f->d[dir].have_isn = 1;
		f->d[dir].next = seq + 1;
		return;
	}
	data = tcp + doff;
	if (tlen > doff)
		segment(f, &f->d[dir], seq, data, tlen - doff);
}

static int capture_socket(void)
{
	struct sockaddr_ll sll = { 0 };
	int fd, sz = 64 << 20;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    htons(ETH_P_ALL));
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = if_nametoindex("lo");
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read what is queued; 0 when nothing is left. */
static int drain(int fd, unsigned char *buf, size_t size)
{
	int n = 0;

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, size, MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);

		if (r < 0)
			return n;
		n++;
		/* lo: each frame is seen leaving and arriving; keep one */
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if ((size_t)r > size) {
			g.truncated++;
			continue;
		}
		packet(buf, r);
	}
}

/* --control: three connections of our own, see the top comment. */
static int control_conns(uint16_t cports[3])
{
	static const unsigned char good[] = {
		22, 3, 1, 0, 4, 1, 0, 0, 0,
		20, 3, 3, 0, 1, 1,
		23, 3, 3, 0, 3, 0xaa, 0xbb, 0xcc,
		23, 3, 3, 0, 2, 0xdd, 0xee };
	static const unsigned char late_alert[] = {
		22, 3, 1, 0, 2, 1, 0,
		23, 3, 3, 0, 3, 0xaa, 0xbb, 0xcc,
		21, 3, 3, 0, 2, 2, 40 };
	static const char plain[] = "GET / HTTP/1.0\r\n" MARKER "\r\n\r\n";
	const void *bufs[3] = { plain, good, late_alert };
	size_t lens[3] = { sizeof(plain) - 1, sizeof(good), sizeof(late_alert) };
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (ls < 0)
		return -1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 4)) {
		close(ls);
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		struct sockaddr_in c;
		socklen_t cl = sizeof(c);
		char sink[256];
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), t;

		if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(s, (struct sockaddr *)&c, &cl) ||
		    (t = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (s >= 0)
				close(s);
			close(ls);
			return -1;
		}
		cports[i] = ntohs(c.sin_port);
		if (send(s, bufs[i], lens[i], 0) != (ssize_t)lens[i])
			cports[i] = 0;
		shutdown(s, SHUT_WR);
		while (recv(t, sink, sizeof(sink), 0) > 0)
			;
		close(t);
		close(s);
	}
	close(ls);
	return 0;
}

static struct flow *flow_of_client(uint16_t cport)
{
	for (int h = 0; h < NBUCKET; h++)
		for (struct flow *f = flows[h]; f; f = f->next)
			if (f->pa == cport && f->pb == port)
				return f;
	return NULL;
}

int main(int argc, char **argv)
{
	static unsigned char buf[256 * 1024];
	struct tpacket_stats ps = { 0 };
	socklen_t pl = sizeof(ps);
	uint16_t cports[3] = { 0 };
	int control = 0, fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--control"))
			control = 1;
		else
			port = 0;
	}
	if (!port || port > 65535) {
		fprintf(stderr, "usage: chaos-wire --port P [--control]\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fd = capture_socket();
	if (fd < 0) {
		printf("not ok 1 - wire: AF_PACKET capture on lo: %s\n",
		       strerror(errno));
		return 1;
	}
	printf("# chaos-wire: listening on lo, TCP port %u\n", port);
	fflush(stdout);

	if (control) {
		int ok = !control_conns(cports);

		usleep(200000);
		drain(fd, buf, sizeof(buf));
		tap_ok(ok, "wire control: three loopback connections made");
		{
			struct flow *p = flow_of_client(cports[0]);
			struct flow *w = flow_of_client(cports[1]);
			struct flow *l = flow_of_client(cports[2]);

			tap_ok(p && p->v_marker && p->v_nontls,
			       "wire control: plaintext with the marker is flagged (marker %u, not TLS %u)",
			       p ? p->v_marker : 0, p ? p->v_nontls : 0);
			tap_ok(w && !w->v_marker && !w->v_nontls && !w->v_after &&
			       !w->unverified,
			       "wire control: well-formed records pass");
			tap_ok(l && l->v_after && !l->v_nontls,
			       "wire control: a plaintext alert after application data is flagged");
		}
		close(fd);
		return tap_done();
	}

	while (!stop) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 200) > 0)
			drain(fd, buf, sizeof(buf));
	}
	drain(fd, buf, sizeof(buf));
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ps, &pl);
	close(fd);
	for (int h = 0; h < NBUCKET; h++) {
		struct flow *f, *n;

		for (f = flows[h]; f; f = n) {
			n = f->next;
			account(f);
			free(f);
		}
	}
	printf("# wire: %llu packets, %llu payload bytes in %llu flows; records: %llu handshake, %llu change_cipher_spec, %llu alert, %llu application_data\n",
	       (unsigned long long)g.packets, (unsigned long long)g.bytes,
	       (unsigned long long)g.flows, (unsigned long long)g.records[22],
	       (unsigned long long)g.records[20],
	       (unsigned long long)g.records[21],
	       (unsigned long long)g.records[23]);
	tap_ok(g.flows > 0 && g.records[23] > 0,
	       "wire: the capture saw the run (%llu flows)",
	       (unsigned long long)g.flows);
	tap_ok(ps.tp_drops == 0 && g.truncated == 0 && g.unverified == 0 &&
	       g.late == 0,
	       "wire: every byte was checked (%u drops, %llu truncated frames, %u flows with a hole, %u flows without their SYN)",
	       ps.tp_drops, (unsigned long long)g.truncated, g.unverified,
	       g.late);
	tap_ok(g.nontls == 0,
	       "wire: every TCP payload is TLS records (%u flows with other bytes)",
	       g.nontls);
	tap_ok(g.after == 0,
	       "wire: after the first application-data record only application data (%u flows with another record type)",
	       g.after);
	tap_ok(g.marker == 0,
	       "wire: the plaintext marker never appears (%u flows)", g.marker);
	return tap_done();
}
