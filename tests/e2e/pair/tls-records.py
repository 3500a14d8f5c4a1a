#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/pair/tls-records.py PCAP PORT MIN_APPDATA
#
# Reassembles, for every TCP connection to or from PORT in the capture
# (Ethernet or Linux cooked link type, IPv4 or IPv6), each direction's
# byte stream from the SYN on, and checks that it is nothing but TLS
# records: every record has a known content type (change_cipher_spec,
# alert, handshake, application_data), the legacy version 0x0303 (0x0301
# allowed in the first ClientHello), and a length of at most 2^14 + 256;
# the stream ends on a record boundary and has no hole (a hole means the
# capture missed a segment, which proves nothing).  Then it checks that
# the server-to-client direction of at least one connection carried
# MIN_APPDATA bytes or more inside application_data records, i.e. that
# the data went as TLS records.  Prints one line per direction and exits
# 0 only if every check holds.
import struct
import sys

MAX_REC = (1 << 14) + 256
TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake",
         23: "application_data"}


def packets(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        sys.exit("%s: not a pcap file" % path)
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        end = "<"
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        end = ">"
    else:
        sys.exit("%s: not a pcap file (magic %#x)" % (path, magic))
    link = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl, orig = struct.unpack(end + "II", data[off + 8:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if incl != orig:
            sys.exit("a packet was truncated by the snap length")
        if link == 1:
            eth, pkt = struct.unpack(">H", pkt[12:14])[0], pkt[14:]
        elif link == 113:
            eth, pkt = struct.unpack(">H", pkt[14:16])[0], pkt[16:]
        else:
            sys.exit("link type %d not handled" % link)
        if eth == 0x0800:
            ihl = (pkt[0] & 15) * 4
            total = struct.unpack(">H", pkt[2:4])[0]
            src, dst, proto = pkt[12:16], pkt[16:20], pkt[9]
            l4 = pkt[ihl:total]
        elif eth == 0x86dd:
            plen = struct.unpack(">H", pkt[4:6])[0]
            src, dst, proto = pkt[8:24], pkt[24:40], pkt[6]
            l4 = pkt[40:40 + plen]
        else:
            continue
        if proto != 6:
            continue
        sport, dport, seq = struct.unpack(">HHI", l4[:8])
        hl = (l4[12] >> 4) * 4
        yield (src, sport, dst, dport), seq, l4[13], l4[hl:]


def main():
    path, port, min_app = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    isn = {}
    segs = {}
    for key, seq, flags, payload in packets(path):
        if port not in (key[1], key[3]):
            continue
        if flags & 2:  # SYN
            isn[key] = seq
        if payload:
            segs.setdefault(key, []).append((seq, payload))
    ok = True
    best = 0
    if not isn:
        print("no connection on port %d in the capture" % port)
        return 1
    for key in sorted(isn):
        to_client = key[1] == port
        name = "server->client" if to_client else "client->server"
        # Reassemble from ISN + 1: offsets modulo 2^32, overlaps
        # (retransmissions) taken once, a hole is an error.
        parts = sorted(((s - isn[key] - 1) & 0xffffffff, p)
                       for s, p in segs.get(key, []))
        stream = bytearray()
        for rel, p in parts:
            if rel > len(stream):
                print("%s port %d: hole at byte %d" %
                      (name, key[1], len(stream)))
                ok = False
                break
            stream += p[len(stream) - rel:]
        off = 0
        counts = {}
        app = 0
        first = True
        while off < len(stream):
            if off + 5 > len(stream):
                print("%s: stream ends inside a record header" % name)
                ok = False
                break
            typ, ver, n = struct.unpack(">BHH", stream[off:off + 5])
            allowed = (0x0303, 0x0301) if first else (0x0303,)
            if typ not in TYPES or ver not in allowed or n > MAX_REC:
                print("%s: not a TLS record at byte %d "
                      "(type %d, version %#06x, length %d)" %
                      (name, off, typ, ver, n))
                ok = False
                break
            if off + 5 + n > len(stream):
                print("%s: stream ends inside a record" % name)
                ok = False
                break
            counts[TYPES[typ]] = counts.get(TYPES[typ], 0) + 1
            if typ == 23:
                app += n
            first = False
            off += 5 + n
        print("%s (port %d -> %d): %d bytes, records %s, "
              "application_data payload %d bytes" %
              (name, key[1], key[3], len(stream),
               " ".join("%s=%d" % kv for kv in sorted(counts.items())),
               app))
        if to_client:
            best = max(best, app)
    if best < min_app:
        print("server->client application_data: %d bytes < %d" %
              (best, min_app))
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
