#!/usr/bin/env python3
"""The load and the measurements of auth_flood.sh.

Usage: auth_flood.py KUBECONFIG REVIEW_LOG FLOOD AUTH_THREADS

KUBECONFIG is the standalone server's (its CA and the admin certificate).
Sends FLOOD concurrent lists with random bearer tokens (each reviewed by the
slow TokenReview endpoint), waits until AUTH_THREADS reviews are under way
(REVIEW_LOG has a line per review begun), then measures 100 requests each
of /healthz, a list by the admin certificate, and a list by a token already
reviewed and cached, while the flood is still waiting. Prints the figures;
exits 1 naming what failed.
"""
import base64
import http.client
import os
import re
import secrets
import ssl
import sys
import tempfile
import threading
import time

LIST = "/apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/snapshots"
PROBES = 100
PROBE_TIMEOUT = 10.0
FLOOD_TIMEOUT = 60.0
P99_LIMIT_MS = 100.0

kubeconfig, review_log, flood_size, auth_threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
failures = []


def field(name):
    m = re.search(r"^\s*" + name + r":\s*\"?([^\"\n]+)\"?\s*$", open(kubeconfig).read(), re.M)
    if not m:
        sys.exit(f"FAIL: {kubeconfig} has no {name}")
    return m.group(1)


server = field("server")
host, port = re.match(r"https://([^:/]+):(\d+)", server).groups()
tmp = tempfile.mkdtemp()
paths = {}
for key in ("certificate-authority-data", "client-certificate-data", "client-key-data"):
    paths[key] = os.path.join(tmp, key)
    with open(paths[key], "wb") as f:
        f.write(base64.b64decode(field(key)))


def context(admin):
    ctx = ssl.create_default_context(cafile=paths["certificate-authority-data"])
    ctx.check_hostname = False  # the server certificate names localhost and 127.0.0.1; the CA is what counts
    if admin:
        ctx.load_cert_chain(paths["client-certificate-data"], paths["client-key-data"])
    return ctx


def connect(admin, timeout):
    return http.client.HTTPSConnection(host, int(port), context=context(admin), timeout=timeout)


def get(conn, path, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    return r.status, r.getheader("Retry-After"), body


def wait_ready():
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if get(connect(True, 5), "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("FAIL: the server did not become ready within 60s")


def reviews_begun():
    try:
        return open(review_log).read().count("start")
    except FileNotFoundError:
        return 0


# --- before the flood: the good token is reviewed (at once) and cached ---
wait_ready()
status, _, body = get(connect(False, PROBE_TIMEOUT), LIST, "good-token")
if status != 200:
    sys.exit(f"FAIL: the good token's list answered {status}: {body[:300]!r}")

# --- the flood: FLOOD lists with random tokens, all at once ---
flood = [None] * flood_size
flood_done = threading.Semaphore(0)


def flood_one(i):
    start = time.monotonic()
    try:
        status, retry_after, _ = get(connect(False, FLOOD_TIMEOUT), LIST, secrets.token_hex(24))
        flood[i] = (status, retry_after, time.monotonic() - start, "")
    except Exception as e:  # a timeout or a dropped connection: judged below
        flood[i] = (None, None, time.monotonic() - start, repr(e))
    flood_done.release()


threads = [threading.Thread(target=flood_one, args=(i,), daemon=True) for i in range(flood_size)]
for t in threads:
    t.start()
# Every auth thread busy; a server that reviews on fewer threads (on its
# network threads, say) gets 15 s, then is measured as it is.
deadline = time.time() + 15
while reviews_begun() < auth_threads and time.time() < deadline:
    time.sleep(0.05)
print(f"TokenReviews begun before the probes: {reviews_begun()}")
if reviews_begun() == 0:
    sys.exit("FAIL: no TokenReview began within 15s of the flood")

# --- the probes, while every auth thread waits on a review ---
def probe(name, admin, path, token, out):
    conn = connect(admin, PROBE_TIMEOUT)
    for _ in range(PROBES):
        start = time.monotonic()
        try:
            status, _, body = get(conn, path, token)
        except Exception as e:
            out.append((None, time.monotonic() - start))
            failures.append(f"{name}: no answer within {PROBE_TIMEOUT:.0f}s ({e!r})")
            return
        out.append((status, time.monotonic() - start))
        if status != 200:
            failures.append(f"{name}: answered {status}: {body[:200]!r}")
            return
        time.sleep(0.01)  # pacing, so the probes span the flood rather than a burst


probes = {"healthz": (False, "/healthz", None), "admin list": (True, LIST, None),
          "cached-token list": (False, LIST, "good-token")}
samples = {name: [] for name in probes}
probe_threads = [threading.Thread(target=probe, args=(name, *spec, samples[name]), daemon=True)
                 for name, spec in probes.items()]
for t in probe_threads:
    t.start()
for t in probe_threads:
    t.join()
still_waiting = sum(1 for r in flood if r is None)

# --- the flood's end: every request answered 401 or 429, none hanging ---
deadline = time.time() + FLOOD_TIMEOUT + 30
for _ in range(flood_size):
    if not flood_done.acquire(timeout=max(0.0, deadline - time.time())):
        break
unfinished = sum(1 for r in flood if r is None)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)]  # nearest rank


for name, got in samples.items():
    ms = [s * 1000 for _, s in got]
    if len(got) == PROBES:
        p50, p99, worst = percentile(ms, 50), percentile(ms, 99), max(ms)
        print(f"{name}: {len(ms)} requests, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms")
        if p99 >= P99_LIMIT_MS:
            failures.append(f"{name}: p99 {p99:.1f} ms, limit {P99_LIMIT_MS:.0f} ms")
    else:
        print(f"{name}: only {sum(1 for status, _ in got if status is not None)} of {PROBES} requests answered")
print(f"flood requests still waiting when the probes ended: {still_waiting} of {flood_size}")
if still_waiting == 0:
    failures.append("the flood was over before the probes ended: nothing was measured under load")

answered = [r for r in flood if r is not None]
codes = {}
for status, _, _, error in answered:
    key = status if status is not None else "error"
    codes[key] = codes.get(key, 0) + 1
slowest = max((seconds for _, _, seconds, _ in answered), default=0)
print("flood: " + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items(), key=str)) +
      f"; slowest answer {slowest:.1f} s; unfinished {unfinished}")
if unfinished:
    failures.append(f"{unfinished} flood requests had no answer within {FLOOD_TIMEOUT + 30:.0f}s")
for status, retry_after, seconds, error in answered:
    if status not in (401, 429):
        failures.append(f"a flood request ended in {status or error} after {seconds:.1f}s")
        break
    if status == 429 and retry_after != "1":
        failures.append(f"a 429 came with Retry-After {retry_after!r}")
        break
if codes.get(401, 0) == 0:
    failures.append("no flood request was reviewed and refused (401)")
if codes.get(429, 0) == 0:
    failures.append("no flood request was turned away (429): the auth queue is not bounded")

if failures:
    for f in failures:
        print("FAIL: " + f)
    sys.exit(1)
print("ok: healthz, admin and cached-token lists answered under the flood")
