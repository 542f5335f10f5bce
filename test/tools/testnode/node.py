"""The Node object and its heartbeats: what a kubelet posts so that the node
lifecycle controller keeps the node Ready and never taints it unreachable."""
import datetime
import logging
import threading

from .api import ApiError

log = logging.getLogger("test-node")
HEARTBEAT_SECONDS = 10
LEASE_SECONDS = 40


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _capacity():
    return {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"}


def _conditions(since):
    ts = now_rfc3339()
    def cond(kind, status, reason, message):
        return {"type": kind, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": ts, "lastTransitionTime": since}
    return [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "test node has sufficient memory"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "test node has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "test node has sufficient PID"),
        cond("Ready", "True", "KubeletReady", "test node is posting ready status"),
    ]


class Node:
    def __init__(self, api, name):
        self.api = api
        self.name = name
        self.since = now_rfc3339()
        self.stop = threading.Event()

    def _status(self):
        return {
            "capacity": _capacity(), "allocatable": _capacity(),
            "conditions": _conditions(self.since),
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                          {"type": "Hostname", "address": self.name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
            "nodeInfo": {"machineID": "test-node", "systemUUID": "test-node", "bootID": "test-node",
                         "kernelVersion": "", "osImage": "test node", "containerRuntimeVersion": "testnode://0",
                         "kubeletVersion": "v1.37.2", "kubeProxyVersion": "", "operatingSystem": "linux",
                         "architecture": "amd64"},
        }

    def register(self):
        body = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.name,
                             "labels": {"kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux",
                                        "kubernetes.io/arch": "amd64"}}}
        try:
            self.api.post("/api/v1/nodes", body)
            log.info("node %s registered", self.name)
        except ApiError as e:
            if e.status != 409:
                raise
            log.info("node %s exists; taking it over", self.name)
        self.post_status()
        self.renew_lease()

    def post_status(self):
        self.api.merge_patch(f"/api/v1/nodes/{self.name}/status", {"status": self._status()})

    def renew_lease(self):
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{self.name}"
        spec = {"holderIdentity": self.name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": now_micro()}
        lease = self.api.get_or_none(path)
        if lease is None:
            self.api.post("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                          {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                           "metadata": {"name": self.name, "namespace": "kube-node-lease"}, "spec": spec})
        else:
            lease["spec"].update(spec)
            self.api.put(path, lease)

    def heartbeat_loop(self):
        while not self.stop.wait(HEARTBEAT_SECONDS):
            try:
                self.post_status()
                self.renew_lease()
            except Exception as e:  # keep beating: one failed round is not fatal
                log.warning("heartbeat failed: %s", e)
