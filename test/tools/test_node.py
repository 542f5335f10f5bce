#!/usr/bin/env python3
"""A stand-in for the kubelet and the container runtime, for tests on a real
control plane started as local processes (no kubelet, no images here).

  test_node.py --kubeconfig FILE [--node-name N] --state-dir DIR
               --stash-binary PATH [--apiserver-port P] [--kubectl PATH]

It registers a Node and keeps it Ready (status and Lease every 10 s), runs
the pods bound to it as local processes with their volumes mounted in a
private mount namespace, writes their status back and finishes their
deletion. Logs: DIR/<ns>_<pod>/<container>.log; pids: <container>.pid;
its own pid: DIR/test-node.pid. Test infrastructure, not part of stash."""
import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from testnode.api import Api, ApiError
from testnode.node import Node
from testnode.pods import Config, Manager

log = logging.getLogger("test-node")


def parse_args():
    p = argparse.ArgumentParser(description="plays a Kubernetes node: runs pods bound to it as local processes")
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--node-name", default="test-node-1")
    p.add_argument("--state-dir", required=True)
    p.add_argument("--stash-binary", required=True)
    p.add_argument("--apiserver-port", type=int, default=None)
    p.add_argument("--kubectl", default=os.environ.get("KUBECTL", "kubectl"))
    a = p.parse_args()
    if not os.path.isfile(a.kubeconfig):
        p.error(f"--kubeconfig {a.kubeconfig}: no such file")
    if not (os.path.isfile(a.stash_binary) and os.access(a.stash_binary, os.X_OK)):
        p.error(f"--stash-binary {a.stash_binary}: not an executable file")
    if shutil.which("unshare") is None:
        p.error("unshare is not installed (util-linux): volumes cannot be mounted")
    return a


def pod_path(node_name, rv=None):
    sel = urllib.parse.quote(f"spec.nodeName={node_name}")
    q = f"/api/v1/pods?fieldSelector={sel}"
    if rv:
        q += f"&watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion={rv}"
    return q


def watch_pods(api, node_name, manager, stop):
    """List, then watch from that version; relist when the watch expires."""
    while not stop.is_set():
        try:
            listed = api.get(pod_path(node_name))
            uids = set()
            for pod in listed.get("items", []):
                uids.add(pod["metadata"]["uid"])
                manager.observe("ADDED", pod)
            manager.relisted(uids)
            rv = listed["metadata"]["resourceVersion"]
            for kind, obj in api.watch(pod_path(node_name, rv)):
                if stop.is_set():
                    return
                if kind == "ERROR":
                    break  # 410 Gone and the like: relist
                if kind == "BOOKMARK":
                    continue
                manager.observe(kind, obj)
        except (ApiError, OSError, ValueError) as e:
            if stop.is_set():
                return
            log.warning("pod watch: %s; relisting", e)
            time.sleep(1)


def private_copy(binary):
    """A copy of `binary` in a new folder outside /tmp: a pod volume mounted
    at /tmp (Stash's scratch dir) would hide a binary living there inside
    the container's mount namespace. Returns (folder, copy)."""
    base = "/run" if os.access("/run", os.W_OK) else "/var/tmp"
    folder = tempfile.mkdtemp(prefix="test-node-", dir=base)
    copy = os.path.join(folder, os.path.basename(binary))
    shutil.copy2(binary, copy)
    return folder, copy


def main():
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s test-node %(message)s", stream=sys.stderr)
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    api = Api(args.kubeconfig, args.kubectl, os.path.join(state_dir, ".credentials"))
    port = args.apiserver_port or api.port
    binary_dir, stash_binary = private_copy(os.path.abspath(args.stash_binary))
    cfg = Config(state_dir, stash_binary, port, api.ca_file)
    pid_file = os.path.join(state_dir, "test-node.pid")
    with open(pid_file, "w") as f:
        f.write(f"{os.getpid()}\n")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    node = Node(api, args.node_name)
    try:
        node.register()
    except (ApiError, OSError) as e:
        os.unlink(pid_file)
        shutil.rmtree(binary_dir, ignore_errors=True)
        print(f"test-node: cannot register node {args.node_name}: {e}", file=sys.stderr)
        return 1
    manager = Manager(api, cfg)
    threading.Thread(target=node.heartbeat_loop, daemon=True, name="heartbeat").start()
    threading.Thread(target=watch_pods, args=(api, args.node_name, manager, stop), daemon=True,
                     name="watch").start()
    log.info("node %s ready; state in %s", args.node_name, state_dir)
    while not stop.wait(1):
        pass
    log.info("stopping: killing every container process")
    node.stop.set()
    manager.stop_all()
    os.unlink(pid_file)
    shutil.rmtree(binary_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
