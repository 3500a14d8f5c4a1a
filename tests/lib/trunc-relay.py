#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# trunc-relay.py [options] LISTEN_PORT TARGET_HOST TARGET_PORT
#
# A TCP relay that cuts a transfer short, as an attacker on the path
# could (issue 11, item 17): it accepts one connection on 127.0.0.1 (or
# ::1 with -6), connects to the target and copies bytes both ways until,
# in the chosen direction, --cut bytes have been forwarded.  Then it sends
# the receiver a plain TCP FIN (shutdown SHUT_WR), no TLS close_notify,
# and drops the connection to the sender.  Without --cut it is a plain
# relay.
#
#   --dir down      cut what the target (server) sends (default)
#   --dir up        cut what the client sends
#   --cut N         forward N bytes of that direction, then cut
#   --records       with --cut: cut at the first TLS record boundary at or
#                   after N bytes (5-byte record headers), so that the
#                   receiver gets only whole records
#   -6              IPv6
#
# Prints "relay: cut after B bytes" (or "relay: done") on stderr.
import argparse
import select
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", choices=("down", "up"), default="down")
    ap.add_argument("--cut", type=int, default=-1)
    ap.add_argument("--records", action="store_true")
    ap.add_argument("-6", dest="v6", action="store_true")
    ap.add_argument("port", type=int)
    ap.add_argument("host")
    ap.add_argument("target_port", type=int)
    a = ap.parse_args()

    fam = socket.AF_INET6 if a.v6 else socket.AF_INET
    lsock = socket.socket(fam, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("::1" if a.v6 else "127.0.0.1", a.port))
    lsock.listen(1)
    cli, _ = lsock.accept()
    lsock.close()
    srv = socket.create_connection((a.host, a.target_port))

    # The direction that may be cut: from `src` to `dst`.
    src, dst = (srv, cli) if a.dir == "down" else (cli, srv)
    peer = {cli: srv, srv: cli}
    open_in = {cli: True, srv: True}
    sent = 0            # bytes forwarded src -> dst
    pending = b""       # src bytes held back to find a record boundary
    boundary = 0        # offset (in src's stream) of the next record

    while open_in[cli] or open_in[srv]:
        rl = [s for s in (cli, srv) if open_in[s]]
        r, _, _ = select.select(rl, [], [], 60)
        if not r:
            print("relay: idle for 60 s", file=sys.stderr)
            return 1
        for s in r:
            try:
                data = s.recv(65536)
            except ConnectionError:
                data = b""
            if not data:
                open_in[s] = False
                try:
                    peer[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            if s is not src or a.cut < 0:
                peer[s].sendall(data)
                continue
            # The direction to cut: where does it end?
            if not a.records:
                limit = a.cut
            else:
                pending += data
                # Find the first record boundary at or after --cut,
                # reading the 5-byte headers as the bytes pass.
                stream = sent + len(pending)
                while boundary < a.cut and boundary + 5 <= stream:
                    off = boundary - sent
                    hdr = pending[off:off + 5]
                    boundary += 5 + (hdr[3] << 8 | hdr[4])
                if boundary < a.cut:
                    # Forward the whole records seen so far.
                    whole = min(boundary, stream) - sent
                    dst.sendall(pending[:whole])
                    sent += whole
                    pending = pending[whole:]
                    continue
                data, pending = pending, b""
                limit = boundary
            if sent + len(data) < limit:
                dst.sendall(data)
                sent += len(data)
                continue
            dst.sendall(data[:limit - sent])
            sent = limit
            dst.shutdown(socket.SHUT_WR)        # a bare FIN
            print(f"relay: cut after {sent} bytes", file=sys.stderr)
            # Drop the sender; let the receiver see the FIN and go.
            src.close()
            dst.settimeout(30)
            try:
                while dst.recv(65536):
                    pass
            except OSError:
                pass
            dst.close()
            return 0
    print("relay: done", file=sys.stderr)
    cli.close()
    srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
