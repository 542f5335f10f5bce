#!/usr/bin/env python3
"""A stand-in for the kube-apiserver endpoints an extension apiserver's
delegated authentication uses, over HTTPS:

  POST /apis/authentication.k8s.io/v1/tokenreviews
      the token GOOD_TOKEN (--good-token) is user alice, answered at once;
      every other token is refused after --delay seconds, as a slow or
      overloaded API server would;
  GET /api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication
      an empty ConfigMap (no front proxy, no client CA).

Each review of another token appends "start" to --log when it begins, so a
test can wait until the reviews are under way. Writes its port to
--port-file once listening.
"""
import argparse
import json
import os
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFIGMAP = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
TOKENREVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--delay", type=float, default=5.0)
    p.add_argument("--good-token", default="good-token")
    args = p.parse_args()
    log_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, code, doc):
            body = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.split("?")[0] == CONFIGMAP:
                return self.answer(200, {"kind": "ConfigMap", "apiVersion": "v1",
                                         "metadata": {"name": "extension-apiserver-authentication",
                                                      "namespace": "kube-system"}, "data": {}})
            self.answer(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                              "reason": "NotFound", "code": 404})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != TOKENREVIEWS:
                return self.answer(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                         "reason": "NotFound", "code": 404})
            token = json.loads(body).get("spec", {}).get("token", "")
            status = {"authenticated": True, "user": {"username": "alice", "groups": ["team"]}}
            if token != args.good_token:
                with log_lock, open(args.log, "a") as f:
                    f.write("start\n")
                time.sleep(args.delay)
                status = {"authenticated": False, "error": "token not recognized"}
            self.answer(201, {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                              "spec": {}, "status": status})

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    # The handshake happens on the handler's thread, not the accepting one.
    server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
