#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 proxy for backend tests.

Sits between a client and a plain-HTTP server (rclone serve restic, s3rver
without TLS, ...) on 127.0.0.1 and forwards requests, except that chosen
requests meet a fault instead:

  drop        close the client's connection without forwarding or answering
  lost        forward the request, then close without passing the answer on
              (the server acted; the client never hears of it)
  500         answer 500 Internal Server Error without forwarding
  stall       forward, then send the answer's headers and half its body (half
              the headers if it has none) and go silent until the client
              hangs up
  v1          pass a REST v2 listing on as a v1 one (names only, JSON type)

--delay-ms N holds every forwarded request that --match selects N ms first,
as a distant server would (a round trip); --peak-file F then keeps, in F,
the most of those it has held or forwarded at one time.

Usage:
  fault_proxy.py --upstream 127.0.0.1:PORT --port-file F [--log F]
                 [--match REGEX] [--at N:KIND ...] [--every KIND]
                 [--delay-ms N [--peak-file F]]

Requests are numbered from 1 in arrival order among those whose request
line ("POST /repo/data/ab.. HTTP/1.1") matches --match (default: all).
--at 3:drop faults request 3; --every 500 faults every matching request.
Each request is logged as "N METHOD PATH -> fault|status".
"""
import argparse
import http.client
import json
import os
import re
import select
import socket
import socketserver
import sys
import threading
import time

STALL_LIMIT_S = 120  # a stalled answer is given up after this long in any case


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.count = 0
        self.match = re.compile(args.match)
        self.at = {}
        for spec in args.at:
            n, kind = spec.split(":", 1)
            self.at[int(n)] = kind
        self.every = args.every
        self.log = open(args.log, "a", buffering=1) if args.log else None
        host, port = args.upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.delay = args.delay_ms / 1000.0
        self.peak_file = args.peak_file
        self.in_flight = self.peak = 0

    def enter(self):
        """A request starts its way to the server: delayed, counted."""
        with self.lock:
            self.in_flight += 1
            if self.in_flight > self.peak:
                self.peak = self.in_flight
                if self.peak_file:
                    with open(self.peak_file, "w") as f:
                        f.write(str(self.peak))
        time.sleep(self.delay)

    def leave(self):
        with self.lock:
            self.in_flight -= 1

    def fault_for(self, request_line):
        """The number of this request among matching ones and its fault."""
        if not self.match.search(request_line):
            return 0, None
        with self.lock:
            self.count += 1
            n = self.count
        return n, self.at.get(n, self.every)

    def note(self, text):
        if self.log:
            with self.lock:
                self.log.write(text + "\n")


def read_request(rfile):
    """(request line, [(name, value)], body) or None at end of stream."""
    line = rfile.readline(65537)
    if not line:
        return None
    line = line.decode("latin-1").rstrip("\r\n")
    headers = []
    while True:
        h = rfile.readline(65537).decode("latin-1")
        if h in ("\r\n", "\n", ""):
            break
        name, _, value = h.partition(":")
        headers.append((name.strip(), value.strip()))
    length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
    body = rfile.read(length) if length else b""
    return line, headers, body


def to_v1(body):
    return json.dumps([item["name"] for item in json.loads(body)]).encode()


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        state = self.server.state
        upstream = None
        try:
            while True:
                req = read_request(self.rfile)
                if req is None:
                    return
                line, headers, body = req
                n, fault = state.fault_for(line)
                method, path = line.split(" ")[0], line.split(" ")[1]
                label = f"{n} {method} {path}"
                if fault == "drop":
                    state.note(label + " -> drop")
                    return
                if fault == "500":
                    state.note(label + " -> 500")
                    self.send(500, "Internal Server Error", [], b"injected fault\n")
                    continue
                if upstream is None:
                    upstream = http.client.HTTPConnection(*state.upstream, timeout=60)
                if n:
                    state.enter()
                try:
                    status, reason, rheaders, rbody = self.forward(upstream, method, path, headers, body)
                finally:
                    if n:
                        state.leave()
                if fault == "lost":
                    state.note(label + " -> lost")
                    return
                if fault == "v1" and method == "GET" and path.endswith("/") and status == 200:
                    rbody = to_v1(rbody)
                    rheaders = [(k, v) for k, v in rheaders if k.lower() != "content-type"]
                    rheaders.append(("Content-Type", "application/json"))
                    label += " (as v1)"
                if fault == "stall":
                    state.note(label + " -> stall")
                    self.stall(status, reason, rheaders, rbody)
                    return
                state.note(f"{label} -> {status}")
                self.send(status, reason, rheaders, rbody, head=(method == "HEAD"))
        except (ConnectionError, OSError):
            return
        finally:
            if upstream is not None:
                upstream.close()

    def forward(self, upstream, method, path, headers, body):
        skip = {"connection", "keep-alive", "transfer-encoding"}
        fwd = {k: v for k, v in headers if k.lower() not in skip}
        try:
            upstream.request(method, path, body=body, headers=fwd)
            resp = upstream.getresponse()
        except (http.client.HTTPException, OSError):
            upstream.close()  # reconnect once: the server may have closed an idle connection
            upstream.request(method, path, body=body, headers=fwd)
            resp = upstream.getresponse()
        rbody = resp.read()
        # A HEAD answer's Content-Length describes the body it leaves out.
        length = resp.getheader("Content-Length") if method == "HEAD" else None
        rheaders = [(k, v) for k, v in resp.getheaders()
                    if k.lower() not in skip and k.lower() != "content-length"]
        if length is not None:
            rheaders.append(("Content-Length", length))
        return resp.status, resp.reason, rheaders, rbody

    def head_block(self, status, reason, headers, length):
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
        if not any(k.lower() == "content-length" for k, _ in headers):
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, status, reason, headers, body, head=False):
        self.wfile.write(self.head_block(status, reason, headers, len(body)))
        if not head:
            self.wfile.write(body)
        self.wfile.flush()

    def stall(self, status, reason, headers, body):
        head = self.head_block(status, reason, headers, len(body))
        if len(body) < 2:  # nothing to cut in half: stall inside the header instead
            self.wfile.write(head[: len(head) // 2])
        else:
            self.wfile.write(head + body[: len(body) // 2])
        self.wfile.flush()
        deadline = time.time() + STALL_LIMIT_S
        while time.time() < deadline:
            ready, _, _ = select.select([self.connection], [], [], 0.2)
            if ready and not self.connection.recv(65536):
                return  # the client gave up


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--match", default="")
    p.add_argument("--at", action="append", default=[])
    p.add_argument("--every")
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--peak-file")
    args = p.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.state = State(args)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
