#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# stream-backend.py - the token-streaming backend of the serving scenario
# (tests/e2e/serving/serving.sh, tools/demo-serving): the shape of an
# inference server's streamed completion.  HTTP/1.1 on a UNIX socket (the
# one nginx proxies /v1/ to; it never listens on TCP), GET /v1/stream
# answers "200 text/event-stream" with Transfer-Encoding: chunked, one
# server-sent event per token, each written and flushed on its own after
# a short pause, like a model emitting tokens.
#
#   stream-backend.py serve SOCKET TOKENS DELAY_MS   (threads, until killed)
#   stream-backend.py expect TOKENS                  (the body, to stdout)
#
# The body is deterministic (TOKENS events and "data: [DONE]"), so the
# clients check it byte for byte against "expect".  Every event carries
# the plaintext marker KATLS-SERVING-TOKEN, which the capture check
# looks for on the wire.
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler

WORDS = ("the", "model", "streams", "tokens", "over", "attested", "kernel",
         "TLS", "to", "a", "verified", "client", "and", "nothing", "else")


def event(i):
    w = WORDS[(i * 7 + 3) % len(WORDS)]
    return ('data: {"id":%d,"token":"%s","marker":"KATLS-SERVING-TOKEN"}'
            '\n\n' % (i, w)).encode()


def body(tokens):
    return b"".join(event(i) for i in range(tokens)) + b"data: [DONE]\n\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def address_string(self):
        return "unix"

    def log_message(self, fmt, *args):
        pass

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def do_GET(self):
        if self.path.split("?")[0] != "/v1/stream":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(self.server.tokens):
            self.chunk(event(i))
            if self.server.delay:
                time.sleep(self.server.delay)
        self.chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")


class Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "expect":
        sys.stdout.buffer.write(body(int(sys.argv[2])))
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        srv = Server(sys.argv[2], Handler)
        srv.tokens = int(sys.argv[3])
        srv.delay = int(sys.argv[4]) / 1000.0
        print("stream-backend: listening on %s" % sys.argv[2], flush=True)
        srv.serve_forever()
        return 0
    print("usage: stream-backend.py serve SOCKET TOKENS DELAY_MS | "
          "expect TOKENS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
