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

    python3 bench/apiserver.py --fresh [--repositories 100] [--requests 200] [--aggregator]

--fresh measures the warm list of --repositories x --snapshots the way a
kubectl without keep-alive meets it: each of --requests GETs (JSON, then the
Table kubectl asks for) is a new curl process over a new TLS connection
(handshake included), timed by curl (time_total); it prints the median and
p99 and the server's CPU time per request (and, for scale, the median of
/healthz fetched the same way: what the handshake and curl cost alone), from /proc/<pid>/stat (utime +
stime over the requests, less what the idle server spends in the same time:
its refresh of every repository). Beside them, the floor of this machine: the
same bytes as a static file from `openssl s_server -WWW`, fetched the same
way. --aggregator adds the same list through a real kube-apiserver
(bench/apiserver_aggregator.sh: the local control plane of test/controlplane,
root and its cached binaries needed): `kubectl get --raw` runs, each a new
process, timed from outside and as kubectl -v=6 reports the request.
"""
import argparse
import base64
import http.client
import json
import math
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
        self.files = files
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


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def curl_times(url, requests, accept, files=None, cacert=None):
    """Each request a new curl process and TLS connection; curl's time_total in ms."""
    times = []
    for _ in range(requests):
        cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-H", f"Accept: {accept}",
               "--cacert", cacert or files["certificate-authority-data"]]
        if files:
            cmd += ["--cert", files["client-certificate-data"], "--key", files["client-key-data"]]
        out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True).stdout.split()
        if out[0] != "200":
            raise RuntimeError(f"GET {url}: {out[0]}")
        times.append(float(out[1]) * 1000)
    return times


def static_floor(work, body, requests):
    """The same bytes as a static file from openssl s_server over fresh TLS connections."""
    www = os.path.join(work, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "list.json"), "wb") as f:
        f.write(body)
    key, cert = os.path.join(work, "floor.key"), os.path.join(work, "floor.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-days", "1"], check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(["openssl", "s_server", "-WWW", "-quiet", "-accept", f"127.0.0.1:{port}",
                               "-cert", cert, "-key", key], cwd=www, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                curl_times(f"https://127.0.0.1:{port}/list.json", 1, "*/*", cacert=cert)
                break
            except (subprocess.CalledProcessError, RuntimeError):
                time.sleep(0.05)
        return curl_times(f"https://127.0.0.1:{port}/list.json", requests, "*/*", cacert=cert)
    finally:
        server.terminate()
        server.wait()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_manifest(work, paths):
    """Namespace demo, the password Secret and one Repository per path, for kubectl apply."""
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pw", "namespace": "demo"},
             "stringData": {"RESTIC_PASSWORD": PASSWORD}}]
    for i, path in enumerate(paths):
        docs.append({"apiVersion": "stash.appscode.com/v1alpha1", "kind": "Repository",
                     "metadata": {"name": f"repo-{i:03d}", "namespace": "demo"},
                     "spec": {"backend": {"storageSecretName": "pw", "local": {"mountPath": path}}}})
    manifest = os.path.join(work, "cluster.json")
    with open(manifest, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": docs}, f)
    return manifest


def bench_fresh(work, template, count, snapshots, requests, aggregator):
    paths, manifests = make_repositories(work, template, count)
    expected = count * snapshots
    server = Server(work, manifests)
    url = f"https://127.0.0.1:{server.port}{BASE}"
    row = {"repositories": count, "snapshots": expected, "requests": requests}
    try:
        while len(json.loads(server.request("GET", BASE))["items"]) != expected:
            time.sleep(0.05)
        body = server.request("GET", BASE)
        row["bytes"] = len(body)
        curl_times(url, 5, "application/json", server.files)  # warm
        # What the idle server spends (its refresh of every repository), to take out.
        idle_start, idle_cpu = time.monotonic(), cpu_seconds(server.proc.pid)
        time.sleep(3)
        idle_rate = (cpu_seconds(server.proc.pid) - idle_cpu) / (time.monotonic() - idle_start)
        row["idle_cpu_ms_per_s"] = idle_rate * 1000
        for name, accept in (("json", "application/json"), ("table", TABLE)):
            start, cpu = time.monotonic(), cpu_seconds(server.proc.pid)
            times = curl_times(url, requests, accept, server.files)
            cpu_used = cpu_seconds(server.proc.pid) - cpu - idle_rate * (time.monotonic() - start)
            row[name] = {"median_ms": statistics.median(times), "p99_ms": percentile(times, 99),
                         "cpu_ms_per_request": cpu_used * 1000 / requests}
        # What any request over a new connection costs: the handshake and
        # curl's own work, with a 2-byte answer.
        row["healthz_median_ms"] = statistics.median(
            curl_times(f"https://127.0.0.1:{server.port}/healthz", requests, "*/*", server.files))
    finally:
        server.stop()
    row["floor"] = {"median_ms": statistics.median(static_floor(work, body, requests))}
    if aggregator:
        out = subprocess.run(["bash", os.path.join(ROOT, "bench/apiserver_aggregator.sh"), STASH,
                              cluster_manifest(work, paths), str(expected), str(min(requests, 50))],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        agg = json.loads(out.strip().splitlines()[-1])
        row["aggregator"] = {"median_ms": statistics.median(agg["wall_ms"]), "p99_ms": percentile(agg["wall_ms"], 99),
                             "request_median_ms": statistics.median(agg["request_ms"]),
                             "curl_median_ms": statistics.median(agg["curl_ms"]),
                             "curl_p99_ms": percentile(agg["curl_ms"], 99),
                             "kubectl_healthz_median_ms": statistics.median(agg["kubectl_healthz_ms"]),
                             # a kubectl run and a curl per round
                             "server_cpu_ms_per_request": agg["server_cpu_s"] * 1000 / (2 * len(agg["wall_ms"])),
                             "bytes": agg["bytes"]}
    shutil.rmtree(os.path.dirname(paths[0]))
    return row


def print_fresh(r):
    print(f"{r['repositories']} x {r['snapshots'] // r['repositories']} warm list, {r['requests']} requests, "
          f"each over a new TLS connection (curl), {r['bytes']} bytes of JSON:")
    print("| representation | median | p99 | server CPU per request |")
    print("|---|---:|---:|---:|")
    for name, label in (("json", "JSON (SnapshotList)"), ("table", "Table (kubectl get)")):
        m = r[name]
        print(f"| {label} | {m['median_ms']:.1f} ms | {m['p99_ms']:.1f} ms | {m['cpu_ms_per_request']:.1f} ms |")
    print(f"| the same bytes, a static file from openssl s_server | {r['floor']['median_ms']:.1f} ms | | |")
    print(f"| /healthz (2 bytes), the same way: handshake and curl | {r['healthz_median_ms']:.1f} ms | | |")
    if "aggregator" in r:
        a = r["aggregator"]
        print(f"| through kube-apiserver: kubectl get --raw, a new process each | {a['median_ms']:.1f} ms | "
              f"{a['p99_ms']:.1f} ms | {a['server_cpu_ms_per_request']:.1f} ms |")
        print(f"| through kube-apiserver: curl, a new TLS connection each | {a['curl_median_ms']:.1f} ms | "
              f"{a['curl_p99_ms']:.1f} ms | |")
        print(f"| kubectl get --raw /healthz of kube-apiserver itself: kubectl's start-up and a request | "
              f"{a['kubectl_healthz_median_ms']:.1f} ms | | |")
        print(f"(kubectl -v=6: the response's headers after a median of {a['request_median_ms']:.0f} ms)")
    print(f"(idle server: {r['idle_cpu_ms_per_s']:.1f} ms CPU per second, taken out of the CPU per request; "
          f"load average at the end: {' '.join(open('/proc/loadavg').read().split()[:3])})")
    print(json.dumps(r))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="1,10,100")
    parser.add_argument("--snapshots", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--fresh", action="store_true",
                        help="the warm list over a new TLS connection per request: median, p99, CPU")
    parser.add_argument("--repositories", type=int, default=100, help="with --fresh")
    parser.add_argument("--requests", type=int, default=200, help="with --fresh")
    parser.add_argument("--aggregator", action="store_true",
                        help="with --fresh: also through a real kube-apiserver (needs root)")
    args = parser.parse_args()
    for tool in (STASH, REPO_TOOL):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} is missing: run bash scripts/build.sh first")
    work = tempfile.mkdtemp(prefix="stash-bench-apiserver-")
    results = []
    try:
        template = make_template(work, args.snapshots)
        if args.fresh:
            print_fresh(bench_fresh(work, template, args.repositories, args.snapshots, args.requests,
                                    args.aggregator))
            return
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
