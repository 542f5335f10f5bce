#!/usr/bin/env python3
"""Snapshot list and delete latency: `stash apiserver` against the restic way.

    python3 bench/apiserver.py [--counts 1,10,100] [--snapshots 100] [--rounds 30]

For N repositories of S snapshots each (restic format, written by stash), it
times, in one run on the same repositories:
  - stash apiserver, warm: GET .../namespaces/demo/snapshots (JSON and the
    Table kubectl asks for) over one keep-alive TLS connection, median of
    --rounds requests;
  - stash apiserver, cold: from process start to the first complete list
    (every repository's key derived with scrypt and its snapshots read);
  - the restic way (what Stash 0.8.3 ran per request): `restic snapshots
    --json --no-lock --no-cache` once per repository, one after another;
  - delete: DELETE of one snapshot through the apiserver, against
    `restic forget ID` (the file removal; Stash 0.8.3 also pruned inline);
  - deletecollection: DELETE of the collection, every remaining snapshot
    of namespace demo (one exclusive lock per repository).
Needs build/cmd/stash and build/test/repo_tool (bash scripts/build.sh).
"""
import argparse
import base64
import http.client
import json
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STASH = os.path.join(ROOT, os.environ.get("STASH_BUILD", "build"), "cmd/stash")
REPO_TOOL = os.path.join(ROOT, os.environ.get("STASH_BUILD", "build"), "test/repo_tool")
BASE = "/apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/snapshots"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
PASSWORD = "bench"


def run(*cmd, **kw):
    env = dict(os.environ, RESTIC_PASSWORD=PASSWORD)
    return subprocess.run(cmd, check=True, capture_output=True, env=env, **kw)


def make_template(work, snapshots):
    """One repository with `snapshots` snapshots; the others are copies."""
    repo = os.path.join(work, "template")
    data = os.path.join(work, "data")
    os.makedirs(data)
    with open(os.path.join(data, "file"), "w") as f:
        f.write("x" * 1000)
    run(STASH, "init", "-r", repo)
    run(STASH, "backup", "-r", repo, "-q", "--host", "seed", data)
    lines = os.path.join(work, "snapshots.txt")
    with open(lines, "w") as f:
        for i in range(snapshots - 1):
            day, hour = divmod(i, 24)
            f.write(f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}T{hour:02d}:00:00Z host-{i % 7} - {data}\n")
    subprocess.run([REPO_TOOL, "add-snapshots", repo, PASSWORD, lines], check=True, capture_output=True)
    return repo


def make_repositories(work, template, count):
    root = os.path.join(work, f"repos-{count}")
    manifests = os.path.join(work, f"manifests-{count}")
    os.makedirs(root)
    os.makedirs(manifests)
    docs = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pw", "namespace": "demo"},
             "stringData": {"RESTIC_PASSWORD": PASSWORD}}]
    paths = []
    for i in range(count):
        path = os.path.join(root, f"r{i:03d}")
        shutil.copytree(template, path)
        paths.append(path)
        docs.append({"apiVersion": "stash.appscode.com/v1alpha1", "kind": "Repository",
                     "metadata": {"name": f"repo-{i:03d}", "namespace": "demo"},
                     "spec": {"backend": {"storageSecretName": "pw",
                                          "local": {"mountPath": path}}}})
    with open(os.path.join(manifests, "repos.json"), "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": docs}, f)
    return paths, manifests


class Server:
    def __init__(self, work, manifests):
        self.kubeconfig = os.path.join(work, "kubeconfig")
        if os.path.exists(self.kubeconfig):
            os.remove(self.kubeconfig)
        self.log = open(os.path.join(work, "server.log"), "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [STASH, "apiserver", "--standalone-manifests", manifests, "--standalone-kubeconfig",
             self.kubeconfig, "--bind-address", "127.0.0.1", "--secure-port", "0",
             "--backend-timeout", "120s"], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if os.path.exists(self.kubeconfig) and os.path.getsize(self.kubeconfig) > 0:
                break
            time.sleep(0.02)
        text = open(self.kubeconfig).read()
        self.port = int(re.search(r'server: "https://127.0.0.1:(\d+)"', text).group(1))
        files = {}
        for key in ("certificate-authority-data", "client-certificate-data", "client-key-data"):
            files[key] = os.path.join(work, key + ".pem")
            with open(files[key], "wb") as f:
                f.write(base64.b64decode(re.search(key + r": (\S+)", text).group(1)))
        self.context = ssl.create_default_context(cafile=files["certificate-authority-data"])
        self.context.load_cert_chain(files["client-certificate-data"], files["client-key-data"])
        self.conn = None

    def request(self, method, path, accept="application/json"):
        if self.conn is None:
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context)
        self.conn.request(method, path, headers={"Accept": accept})
        response = self.conn.getresponse()
        body = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {body[:200]!r}")
        return body

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_count(work, template, count, snapshots, rounds, results):
    paths, manifests = make_repositories(work, template, count)
    # restic forget first: the apiserver's deletecollection empties them.
    snap_id = json.loads(run("restic", "-r", paths[0], "snapshots", "--json", "--no-cache").stdout)[0]["id"]
    restic_delete, _ = timed(lambda: run("restic", "-r", paths[0], "forget", "--no-cache", snap_id))
    expected = count * snapshots - 1
    server = Server(work, manifests)
    try:
        # Cold: the first list that holds every snapshot, timed from start.
        while True:
            items = json.loads(server.request("GET", BASE))["items"]
            if len(items) == expected:
                break
            time.sleep(0.01)
        cold = time.monotonic() - server.started
        warm_json = [timed(lambda: server.request("GET", BASE))[0] for _ in range(rounds)]
        warm_table = [timed(lambda: server.request("GET", BASE, TABLE))[0] for _ in range(rounds)]
        name = items[-1]["metadata"]["name"]
        delete, _ = timed(lambda: server.request("DELETE", f"{BASE}/{name}"))
        # deletecollection of every other snapshot: one lock per repository.
        collection, body = timed(lambda: server.request("DELETE", BASE))
        collected = len(json.loads(body)["items"])
    finally:
        server.stop()

    def restic_list():
        for path in paths:
            run("restic", "-r", path, "snapshots", "--json", "--no-lock", "--no-cache")
    restic_rounds = 3 if count < 100 else 1
    restic = [timed(restic_list)[0] for _ in range(restic_rounds)]
    shutil.rmtree(os.path.dirname(paths[0]))
    row = {
        "repositories": count, "snapshots": expected,
        "stash_warm_json_ms": statistics.median(warm_json) * 1000,
        "stash_warm_table_ms": statistics.median(warm_table) * 1000,
        "stash_cold_s": cold,
        "restic_list_s": statistics.median(restic),
        "stash_delete_ms": delete * 1000,
        "restic_forget_ms": restic_delete * 1000,
        "stash_deletecollection_ms": collection * 1000, "deletecollection_items": collected,
    }
    results.append(row)
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="1,10,100")
    parser.add_argument("--snapshots", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    for tool in (STASH, REPO_TOOL):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} is missing: run bash scripts/build.sh first")
    work = tempfile.mkdtemp(prefix="stash-bench-apiserver-")
    results = []
    try:
        template = make_template(work, args.snapshots)
        print("| repos x snapshots | stash warm list (JSON / Table), median | stash cold list | "
              "restic snapshots --json per repo | warm speed-up | stash delete | restic forget | "
              "deletecollection (snapshots) |")
        print("|---|---|---|---|---|---|---|---|")
        for count in [int(c) for c in args.counts.split(",")]:
            r = bench_count(work, template, count, args.snapshots, args.rounds, results)
            speedup = r["restic_list_s"] * 1000 / r["stash_warm_table_ms"]
            print(f"| {count} x {args.snapshots} | {r['stash_warm_json_ms']:.1f} ms / "
                  f"{r['stash_warm_table_ms']:.1f} ms | {r['stash_cold_s']:.2f} s | "
                  f"{r['restic_list_s']:.2f} s | {speedup:.0f}x | {r['stash_delete_ms']:.0f} ms | "
                  f"{r['restic_forget_ms']:.0f} ms | {r['stash_deletecollection_ms']:.0f} ms "
                  f"({r['deletecollection_items']}) |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
