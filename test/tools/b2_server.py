#!/usr/bin/env python3
"""An in-memory Backblaze B2 (native API v1 and v2) for the interop tests.

Implements what stash's and restic's B2 backends call, with B2's shapes and
checks as documented at https://www.backblaze.com/b2/docs/ (pages
b2_authorize_account, b2_list_buckets, b2_create_bucket, b2_get_upload_url,
b2_upload_file, b2_list_file_names, b2_list_file_versions,
b2_delete_file_version, b2_get_file_info, b2_download_file_by_name):

  * basic auth on b2_authorize_account, the account token on every other
    call and download, the upload token (from b2_get_upload_url) on uploads;
    unknown tokens get 401 bad_auth_token, expired ones 401
    expired_auth_token;
  * uploads must carry Content-Length, a percent-encoded X-Bz-File-Name and
    X-Bz-Content-Sha1 (the SHA-1 of the body, "hex_digits_at_end" or
    "do_not_verify"); a wrong SHA-1 is 400 bad_request;
  * every upload is a new version; listings return the newest version of
    each name, at most min(maxFileCount, --page-size) per call, with
    nextFileName (and nextFileId) to continue: a small --page-size makes
    clients page;
  * downloads honour Range (206, or 416 past the end).

Test hooks (no auth): POST /_stash/expire expires every token issued so
far; GET /_stash/stats answers request counts per call as JSON (and
"expired_answers"). --expire-every N expires all tokens after every N
requests that carried a valid token, so long runs must re-authorize.

With --tls-cert/--tls-key the server also answers CONNECT (as an HTTPS
proxy would) by speaking TLS itself on the tunnel, so a client that only
knows https://api.backblazeb2.com (restic) can be pointed here with
HTTPS_PROXY and a --cacert for a certificate naming that host.
"""
import argparse
import base64
import collections
import hashlib
import itertools
import json
import re
import secrets
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCOUNT_ID = "000stashtestacct"


class Store:
    def __init__(self, key_id, key, page_size, expire_every):
        self.key_id, self.key, self.page_size = key_id, key, page_size
        self.expire_every, self.served = expire_every, 0
        self.lock = threading.Lock()
        self.tokens = set()          # account tokens
        self.upload_tokens = {}      # token -> bucketId
        self.expired = set()
        self.buckets = {}            # name -> {"bucketId", "bucketType", "versions": {fileId: file}}
        self.ids = itertools.count(1)
        self.stats = collections.Counter()

    def expire_all(self):
        self.expired |= self.tokens | set(self.upload_tokens)
        self.tokens.clear()
        self.upload_tokens.clear()

    def count_valid(self):
        self.served += 1
        if self.expire_every and self.served % self.expire_every == 0:
            self.expire_all()

    def new_token(self, kind):
        return "4_%s_%s" % (kind, secrets.token_hex(12))

    def bucket_by_id(self, bucket_id):
        for name, b in self.buckets.items():
            if b["bucketId"] == bucket_id:
                return name, b
        return None, None


class B2Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def file_json(bucket, f, with_data=True):
    return {
        "accountId": ACCOUNT_ID, "action": f["action"], "bucketId": bucket["bucketId"],
        "contentLength": len(f["data"]), "contentSha1": f["sha1"],
        "contentType": f["contentType"], "fileId": f["fileId"], "fileInfo": {},
        "fileName": f["fileName"], "uploadTimestamp": f["uploadTimestamp"],
    }


def bucket_json(name, b):
    return {"accountId": ACCOUNT_ID, "bucketId": b["bucketId"], "bucketName": name,
            "bucketType": b["bucketType"], "bucketInfo": {}, "lifecycleRules": [],
            "corsRules": [], "revision": 1, "options": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tls = False

    def log_message(self, fmt, *args):
        if self.server.log:
            self.server.log.write("%s %s\n" % (self.log_date_time_string(), fmt % args))
            self.server.log.flush()

    # ---- plumbing ----

    def base_url(self):
        return ("https" if self.tls else "http") + "://" + self.headers.get("Host", "")

    def send_json(self, status, obj, extra=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        self.body_read = True
        length = self.headers.get("Content-Length")
        if length is None:
            raise B2Error(411, "bad_request", "Content-Length is required")
        return self.rfile.read(int(length))

    def read_json(self):
        body = self.read_body()
        try:
            return json.loads(body or b"{}")
        except ValueError:
            raise B2Error(400, "bad_request", "request body is not JSON")

    def check_token(self, store, upload_bucket=None):
        token = self.headers.get("Authorization", "")
        if token in store.expired:
            store.stats["expired_answers"] += 1
            raise B2Error(401, "expired_auth_token", "Authorization token has expired")
        if upload_bucket is not None:
            if store.upload_tokens.get(token) != upload_bucket:
                raise B2Error(401, "bad_auth_token", "Invalid authorization token for this upload URL")
        elif token not in store.tokens:
            raise B2Error(401, "bad_auth_token", "Invalid authorization token")
        store.count_valid()

    def run(self, fn):
        self.body_read = False
        try:
            fn()
        except B2Error as e:
            # An unread request body would be taken for the next request.
            if not self.body_read and int(self.headers.get("Content-Length") or 0) > 0:
                self.close_connection = True
            self.send_json(e.status, {"status": e.status, "code": e.code, "message": e.message})

    # ---- dispatch ----

    def do_CONNECT(self):
        if not self.server.tls_context:
            return self.send_json(405, {"status": 405, "code": "method_not_allowed", "message": "no TLS"})
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.connection = self.server.tls_context.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb", -1)
        self.wfile = socketserver._SocketWriter(self.connection)
        self.tls = True
        self.close_connection = False

    def do_GET(self):
        self.run(self.route)

    do_HEAD = do_GET

    def do_POST(self):
        self.run(self.route)

    def route(self):
        store = self.server.store
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_stash/expire":
            with store.lock:
                store.expire_all()
            return self.send_json(200, {"expired": True})
        if path == "/_stash/stats":
            with store.lock:
                return self.send_json(200, dict(store.stats))
        if path.startswith("/file/"):
            return self.download(store, path[len("/file/"):])
        m = re.fullmatch(r"/b2api/v[12]/(b2_upload_file)/([^/]+)/[^/]+|/b2api/v[12]/(b2_\w+)", path)
        if not m:
            raise B2Error(404, "not_found", "unknown path " + path)
        call = m.group(1) or m.group(3)
        with store.lock:
            store.stats[call] += 1
        if call == "b2_authorize_account":
            return self.authorize(store)
        if call == "b2_upload_file":
            return self.upload(store, m.group(2))
        handler = getattr(self, "api_" + call[3:], None)
        if handler is None or self.command != "POST":
            raise B2Error(400, "bad_request", "unsupported call " + call)
        body = self.read_json()
        with store.lock:
            self.check_token(store)
            status, answer = handler(store, body)
        self.send_json(status, answer)

    # ---- calls ----

    def authorize(self, store):
        auth = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(("%s:%s" % (store.key_id, store.key)).encode()).decode()
        if auth != want:
            raise B2Error(401, "unauthorized", "invalid application key id or key")
        token = store.new_token("acct")
        with store.lock:
            store.tokens.add(token)
        base = self.base_url()
        self.send_json(200, {
            "accountId": ACCOUNT_ID, "authorizationToken": token, "apiUrl": base,
            "downloadUrl": base, "s3ApiUrl": base, "recommendedPartSize": 100000000,
            "absoluteMinimumPartSize": 5000000, "minimumPartSize": 100000000,
            "allowed": {"capabilities": ["listBuckets", "writeBuckets", "listFiles", "readFiles",
                                         "writeFiles", "deleteFiles"],
                        "bucketId": None, "bucketName": None, "namePrefix": None},
        })

    def need(self, body, *fields):
        for f in fields:
            if not body.get(f):
                raise B2Error(400, "bad_request", "required field %s is missing" % f)

    def bucket_of(self, store, body):
        self.need(body, "bucketId")
        name, bucket = store.bucket_by_id(body["bucketId"])
        if bucket is None:
            raise B2Error(400, "bad_request", "Invalid bucketId: " + body["bucketId"])
        return name, bucket

    def api_list_buckets(self, store, body):
        self.need(body, "accountId")
        if body["accountId"] != ACCOUNT_ID:
            raise B2Error(401, "unauthorized", "accountId does not match the token")
        out = [bucket_json(n, b) for n, b in sorted(store.buckets.items())
               if body.get("bucketName") in (None, n) and body.get("bucketId") in (None, b["bucketId"])]
        return 200, {"buckets": out}

    def api_create_bucket(self, store, body):
        self.need(body, "accountId", "bucketName", "bucketType")
        name = body["bucketName"]
        if not re.fullmatch(r"[A-Za-z0-9-]{6,50}", name):
            raise B2Error(400, "bad_request", "bad bucket name: " + name)
        if body["bucketType"] not in ("allPrivate", "allPublic"):
            raise B2Error(400, "bad_request", "bad bucketType")
        if name in store.buckets:
            raise B2Error(400, "duplicate_bucket_name", "Bucket name is already in use.")
        store.buckets[name] = {"bucketId": "b%06d" % next(store.ids), "bucketType": body["bucketType"],
                               "versions": {}}
        return 200, bucket_json(name, store.buckets[name])

    def api_get_upload_url(self, store, body):
        _, bucket = self.bucket_of(store, body)
        token = store.new_token("upld")
        store.upload_tokens[token] = bucket["bucketId"]
        url = "%s/b2api/v2/b2_upload_file/%s/%s" % (self.base_url(), bucket["bucketId"], secrets.token_hex(4))
        return 200, {"bucketId": bucket["bucketId"], "uploadUrl": url, "authorizationToken": token}

    def page_size(self, store, body):
        count = body.get("maxFileCount", 100)
        if not isinstance(count, int) or count < 1 or count > 10000:
            raise B2Error(400, "bad_request", "maxFileCount out of range: %r" % (count,))
        return min(count, store.page_size)

    def sorted_versions(self, bucket, prefix):
        # Name order; for one name, newest first (B2's order in version listings).
        files = [f for f in bucket["versions"].values() if f["fileName"].startswith(prefix)]
        return sorted(files, key=lambda f: (f["fileName"], -f["seq"]))

    def api_list_file_names(self, store, body):
        _, bucket = self.bucket_of(store, body)
        limit = self.page_size(store, body)
        start, prefix = body.get("startFileName") or "", body.get("prefix") or ""
        if body.get("delimiter"):
            raise B2Error(400, "bad_request", "this test server does not do delimiters")
        latest = {}
        for f in self.sorted_versions(bucket, prefix):
            latest.setdefault(f["fileName"], f)
        names = [n for n in sorted(latest) if n >= start and latest[n]["action"] == "upload"]
        page = names[:limit]
        nxt = names[limit] if len(names) > limit else None
        return 200, {"files": [file_json(bucket, latest[n]) for n in page], "nextFileName": nxt}

    def api_list_file_versions(self, store, body):
        _, bucket = self.bucket_of(store, body)
        limit = self.page_size(store, body)
        start, start_id = body.get("startFileName") or "", body.get("startFileId")
        if start_id and not start:
            raise B2Error(400, "bad_request", "startFileId needs startFileName")
        files = [f for f in self.sorted_versions(bucket, body.get("prefix") or "") if f["fileName"] >= start]
        if start_id:
            ids = [f["fileId"] for f in files]
            files = files[ids.index(start_id):] if start_id in ids else files
        page, rest = files[:limit], files[limit:]
        return 200, {"files": [file_json(bucket, f) for f in page],
                     "nextFileName": rest[0]["fileName"] if rest else None,
                     "nextFileId": rest[0]["fileId"] if rest else None}

    def api_delete_file_version(self, store, body):
        self.need(body, "fileName", "fileId")
        for bucket in store.buckets.values():
            f = bucket["versions"].get(body["fileId"])
            if f and f["fileName"] == body["fileName"]:
                del bucket["versions"][body["fileId"]]
                return 200, {"fileId": f["fileId"], "fileName": f["fileName"]}
        raise B2Error(400, "file_not_present", "File not present: %s %s" % (body["fileName"], body["fileId"]))

    def api_get_file_info(self, store, body):
        self.need(body, "fileId")
        for bucket in store.buckets.values():
            f = bucket["versions"].get(body["fileId"])
            if f:
                return 200, file_json(bucket, f)
        raise B2Error(404, "not_found", "file not found: " + body["fileId"])

    def api_hide_file(self, store, body):
        _, bucket = self.bucket_of(store, body)
        self.need(body, "fileName")
        return 200, file_json(bucket, self.add_version(store, bucket, body["fileName"], b"", "hide"))

    def add_version(self, store, bucket, name, data, action):
        seq = next(store.ids)
        f = {"fileId": "4_z%s_f%09d" % (bucket["bucketId"], seq), "fileName": name, "data": data,
             "sha1": hashlib.sha1(data).hexdigest() if action == "upload" else "none",
             "contentType": "application/octet-stream" if action == "upload" else "application/x-bz-hide-marker",
             "action": action, "seq": seq, "uploadTimestamp": int(time.time() * 1000)}
        bucket["versions"][f["fileId"]] = f
        return f

    def upload(self, store, bucket_id):
        if self.command != "POST":
            raise B2Error(405, "method_not_allowed", "uploads are POSTs")
        data = self.read_body()
        with store.lock:
            self.check_token(store, upload_bucket=bucket_id)
        name = urllib.parse.unquote(self.headers.get("X-Bz-File-Name", ""))
        sha1 = self.headers.get("X-Bz-Content-Sha1", "")
        if not name or not self.headers.get("Content-Type"):
            raise B2Error(400, "bad_request", "X-Bz-File-Name and Content-Type are required")
        if sha1 == "hex_digits_at_end":
            data, sha1 = data[:-40], data[-40:].decode()
        if sha1 != "do_not_verify" and sha1 != hashlib.sha1(data).hexdigest():
            raise B2Error(400, "bad_request", "Checksum did not match data received")
        with store.lock:
            _, bucket = store.bucket_by_id(bucket_id)
            if bucket is None:
                raise B2Error(400, "bad_request", "bucket is gone")
            f = self.add_version(store, bucket, name, data, "upload")
            answer = file_json(bucket, f)
        self.send_json(200, answer)

    def download(self, store, rest):
        bucket_name, _, name = rest.partition("/")
        bucket_name, name = urllib.parse.unquote(bucket_name), urllib.parse.unquote(name)
        with store.lock:
            store.stats["download_" + self.command] += 1
            self.check_token(store)
            bucket = store.buckets.get(bucket_name)
            versions = [f for f in (bucket or {"versions": {}})["versions"].values() if f["fileName"] == name]
        latest = max(versions, key=lambda f: f["seq"]) if versions else None
        if latest is None or latest["action"] != "upload":
            raise B2Error(404, "not_found", "File with such name does not exist.")
        data, status, headers = latest["data"], 200, []
        rng = self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng)
            if not m:
                raise B2Error(400, "bad_request", "bad Range " + rng)
            first = int(m.group(1))
            last = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
            if first >= len(data):
                raise B2Error(416, "range_not_satisfiable", "nothing at offset %d" % first)
            headers.append(("Content-Range", "bytes %d-%d/%d" % (first, last, len(data))))
            data, status = data[first:last + 1], 206
        self.send_response(status)
        for k, v in headers + [("Content-Length", str(len(data))), ("Content-Type", latest["contentType"]),
                               ("Accept-Ranges", "bytes"), ("X-Bz-File-Id", latest["fileId"]),
                               ("X-Bz-File-Name", urllib.parse.quote(name)),
                               ("X-Bz-Content-Sha1", latest["sha1"]),
                               ("X-Bz-Upload-Timestamp", str(latest["uploadTimestamp"]))]:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--key-id", default="stash-key-id")
    p.add_argument("--key", default="stash-application-key")
    p.add_argument("--page-size", type=int, default=1000, help="most names per listing call")
    p.add_argument("--expire-every", type=int, default=0, help="expire all tokens every N requests")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--log")
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.store = Store(args.key_id, args.key, args.page_size, args.expire_every)
    server.log = open(args.log, "a") if args.log else None
    server.tls_context = None
    if args.tls_cert:
        server.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % server.server_address[1])
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
