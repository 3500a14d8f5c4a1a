#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# tls-capture.py - check a tcpdump capture of katls connections: every
# byte of every TCP stream to or from PORT is a TLS record, each
# direction opens with a cleartext handshake record (ClientHello,
# ServerHello) and an optional compatibility change_cipher_spec, and
# everything after is application_data (TLS 1.3 gives every encrypted
# record, handshake and alerts included, that outer type); no stream has
# a gap, a retransmission that disagrees, or a partial record at its
# end; no plaintext marker appears in any payload.
#
#   tls-capture.py PCAP PORT [MARKER...]
#
# Prints one summary line (tls-capture: conns=... bad=...) and, for each
# problem, a line "tls-capture: BAD ...".  Exit 0 when the capture is
# complete and every stream passes, 1 otherwise, 2 on usage errors.
import struct
import sys

CT_CCS, CT_ALERT, CT_HS, CT_DATA = 20, 21, 22, 23
MAX_REC = 16384 + 256


def packets(buf):
    magic = struct.unpack_from("<I", buf)[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = "<"
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        e = ">"
    else:
        raise ValueError("not a pcap file")
    link = struct.unpack_from(e + "I", buf, 20)[0] & 0xfffffff
    off = 24
    while off + 16 <= len(buf):
        incl, orig = struct.unpack_from(e + "II", buf, off + 8)
        off += 16
        if incl != orig:
            raise ValueError("packet cut by the snap length")
        yield link, memoryview(buf)[off:off + incl]
        off += incl


def tcp_of(link, p):
    """(src, sport, dst, dport, seq, flags, payload) or None."""
    if link == 1:               # Ethernet (lo on Linux)
        et, l3 = struct.unpack_from("!H", p, 12)[0], 14
    elif link == 113:           # Linux cooked (SLL)
        et, l3 = struct.unpack_from("!H", p, 14)[0], 16
    elif link == 276:           # Linux cooked v2
        et, l3 = struct.unpack_from("!H", p, 0)[0], 20
    else:
        raise ValueError("link type %d" % link)
    if et == 0x0800:
        ihl = (p[l3] & 0x0f) * 4
        if p[l3 + 9] != 6:
            return None
        tot = struct.unpack_from("!H", p, l3 + 2)[0]
        src, dst = bytes(p[l3 + 12:l3 + 16]), bytes(p[l3 + 16:l3 + 20])
        l4, end = l3 + ihl, l3 + tot
    elif et == 0x86dd:
        if p[l3 + 6] != 6:
            return None
        plen = struct.unpack_from("!H", p, l3 + 4)[0]
        src, dst = bytes(p[l3 + 8:l3 + 24]), bytes(p[l3 + 24:l3 + 40])
        l4, end = l3 + 40, l3 + 40 + plen
    else:
        return None
    sport, dport, seq = struct.unpack_from("!HHI", p, l4)
    doff = (p[l4 + 12] >> 4) * 4
    flags = p[l4 + 13]
    return src, sport, dst, dport, seq, flags, p[l4 + doff:end]


def records(data):
    """[(type, body)] and the number of bytes left over."""
    out, off = [], 0
    while off + 5 <= len(data):
        ct, ver, ln = struct.unpack_from("!BHH", data, off)
        if ct not in (CT_CCS, CT_ALERT, CT_HS, CT_DATA) or \
                ver not in (0x0301, 0x0303) or ln > MAX_REC:
            return out, len(data) - off, "not a TLS record at offset %d " \
                "(type %d version %#x length %d)" % (off, ct, ver, ln)
        if off + 5 + ln > len(data):
            break
        out.append((ct, data[off + 5:off + 5 + ln]))
        off += 5 + ln
    return out, len(data) - off, None


def main():
    if len(sys.argv) < 3:
        print("usage: tls-capture.py PCAP PORT [MARKER...]", file=sys.stderr)
        return 2
    port = int(sys.argv[2])
    markers = [m.encode() for m in sys.argv[3:]]
    with open(sys.argv[1], "rb") as f:
        buf = f.read()
    streams = {}        # (src, sport, dst, dport) -> {"isn":, "segs": {}}
    bad = []
    for link, p in packets(buf):
        t = tcp_of(link, p)
        if t is None:
            continue
        src, sport, dst, dport, seq, flags, pay = t
        if port not in (sport, dport):
            continue
        s = streams.setdefault((src, sport, dst, dport),
                               {"isn": None, "segs": {}})
        if flags & 0x02:                        # SYN
            s["isn"] = (seq + 1) & 0xffffffff
            continue
        if not len(pay):
            continue
        if s["isn"] is None:
            bad.append("data before the SYN on %d->%d" % (sport, dport))
            continue
        rel = (seq - s["isn"]) & 0xffffffff
        old = s["segs"].get(rel)
        if old is not None and bytes(old[:len(pay)]) != bytes(pay[:len(old)]):
            bad.append("retransmission differs on %d->%d" % (sport, dport))
        if old is None or len(pay) > len(old):
            s["segs"][rel] = pay
    counts = {CT_HS: 0, CT_CCS: 0, CT_DATA: 0, CT_ALERT: 0}
    conns = sum(1 for k in streams if k[3] == port)
    total = 0
    for (src, sport, dst, dport), s in sorted(streams.items()):
        name = "%d->%d" % (sport, dport)
        parts, end = [], 0
        for rel in sorted(s["segs"]):
            pay = s["segs"][rel]
            if rel > end:
                bad.append("gap of %d bytes at %d on %s" %
                           (rel - end, end, name))
                break
            if rel + len(pay) > end:
                parts.append(bytes(pay[end - rel:]))
                end = rel + len(pay)
        data = b"".join(parts)
        total += len(data)
        for m in markers:
            if m in data:
                bad.append("plaintext %r on %s" % (m.decode(), name))
        if not data:
            continue
        recs, left, err = records(data)
        if err:
            bad.append("%s: %s" % (name, err))
        elif left:
            bad.append("%s: %d bytes of a partial record at the end" %
                       (name, left))
        want_hs = 1 if dport == port else 2     # ClientHello, ServerHello
        for i, (ct, body) in enumerate(recs):
            counts[ct] += 1
            if i == 0:
                if ct != CT_HS or not body or body[0] != want_hs:
                    bad.append("%s opens with record type %d, not the %s" %
                               (name, ct, "ClientHello" if want_hs == 1
                                else "ServerHello"))
                continue
            if ct == CT_DATA:
                continue
            if ct == CT_CCS and bytes(body) == b"\x01" and \
                    all(c != CT_DATA for c, _ in recs[:i]):
                continue
            bad.append("%s: record %d has cleartext type %d" % (name, i, ct))
    print("tls-capture: conns=%d streams=%d bytes=%d handshake=%d ccs=%d "
          "application_data=%d alert=%d bad=%d" %
          (conns, len(streams), total, counts[CT_HS], counts[CT_CCS],
           counts[CT_DATA], counts[CT_ALERT], len(bad)))
    for b in bad[:20]:
        print("tls-capture: BAD " + b)
    return 1 if bad or not conns else 0


if __name__ == "__main__":
    sys.exit(main())
