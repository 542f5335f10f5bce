"""One worker thread per pod bound to the node: init containers in order,
then the containers, restarts by restartPolicy, the pod status written back
through the status subresource, and the end of a deletion (processes killed,
then DELETE with gracePeriodSeconds=0, as the kubelet finishes it)."""
import logging
import os
import shutil
import signal
import threading
import time

from . import container, volumes
from .api import ApiError
from .node import now_rfc3339

log = logging.getLogger("test-node")
POLL = 0.2
MAX_BACKOFF = 20.0


class Config:
    def __init__(self, state_dir, stash_binary, apiserver_port, ca_file):
        self.state_dir = state_dir
        self.stash_binary = stash_binary
        self.apiserver_port = apiserver_port
        self.ca_file = ca_file


def _kill_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _log_tail(path):
    """The kubelet's fallback termination message: the log's last 80 lines, at most 2048 bytes."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 2048))
            tail = f.read()
    except OSError:
        return ""
    return b"\n".join(tail.split(b"\n")[-80:]).decode(errors="replace")


class Record:
    """What the node knows about one container."""

    def __init__(self, spec, init=False):
        self.spec = spec
        self.init = init
        self.proc = None
        self.restarts = 0
        self.started_at = None
        self.state = {"waiting": {"reason": "ContainerCreating"}}
        self.last_state = {}
        self.next_start = 0.0
        self.done = False  # will not run again
        self.exit_code = None
        self.pid = None
        self.restart_pending = False  # the next start counts as a restart

    def status(self):
        running = self.proc is not None
        ready = running or (self.init and self.exit_code == 0)  # a finished init container is ready
        s = {"name": self.spec["name"], "image": self.spec.get("image", ""),
             "imageID": "testnode://" + self.spec.get("image", ""), "ready": ready, "started": running,
             "restartCount": self.restarts, "state": self.state, "lastState": self.last_state}
        if self.proc is not None or self.exit_code is not None:
            s["containerID"] = f"testnode://{self.pid}"
        return s

    def exited(self, code):
        """Records an exit; code from Popen (negative: killed by a signal)."""
        code = 128 - code if code < 0 else code
        self.exit_code = code
        self.state = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                     "startedAt": self.started_at, "finishedAt": now_rfc3339(),
                                     "containerID": f"testnode://{self.pid}"}}
        self.proc = None


class PodWorker(threading.Thread):
    def __init__(self, api, cfg, pod):
        super().__init__(daemon=True, name="pod-" + pod["metadata"]["name"])
        self.api, self.cfg = api, cfg
        self.lock = threading.Lock()
        self.pod = pod
        self.gone_event = threading.Event()
        self.stop_event = threading.Event()
        meta, spec = pod["metadata"], pod["spec"]
        self.ns, self.name, self.uid = meta["namespace"], meta["name"], meta["uid"]
        self.policy = spec.get("restartPolicy", "Always")
        self.dir = os.path.join(cfg.state_dir, f"{self.ns}_{self.name}")
        self.inits = [Record(c, init=True) for c in spec.get("initContainers", [])]
        self.mains = [Record(c) for c in spec.get("containers", [])]
        if self.inits:
            for r in self.mains:
                r.state = {"waiting": {"reason": "PodInitializing"}}
        self.init_index = 0
        self.phase = "Pending"
        self.start_time = now_rfc3339()
        self.conditions = {}
        self.message = None
        self.vol_paths = None
        self.last_written = None

    # --- called from the watch thread ---
    def update(self, pod):
        with self.lock:
            self.pod = pod

    def gone(self):
        """The pod left the API (or the node): stop its processes, write nothing."""
        self.gone_event.set()

    def stop(self):
        self.stop_event.set()

    # --- the worker ---
    def run(self):
        os.makedirs(self.dir, exist_ok=True)
        old_phase = self.pod.get("status", {}).get("phase")
        if old_phase in ("Succeeded", "Failed"):
            self.phase = old_phase  # finished before this node started: only its deletion is left
        else:  # a pod of the same name before this one (a StatefulSet's) leaves no emptyDir behind
            shutil.rmtree(os.path.join(self.dir, "volumes"), ignore_errors=True)
        try:
            self._loop()
        except Exception:
            log.exception("pod %s/%s: worker failed", self.ns, self.name)
        finally:
            self._kill_all(2)

    def _loop(self):
        while not (self.stop_event.is_set() or self.gone_event.is_set()):
            with self.lock:
                pod = self.pod
            if pod["metadata"].get("deletionTimestamp"):
                self._finish_deletion(pod)
                return
            if self.phase not in ("Succeeded", "Failed"):
                try:
                    self._step(pod)
                except Exception as e:  # a spec this node cannot run: say so, keep handling deletion
                    if self.message != str(e):
                        log.exception("pod %s/%s", self.ns, self.name)
                    self.message = str(e)
            self._write_status()
            time.sleep(POLL)

    def _step(self, pod):
        if self.vol_paths is None:
            try:
                self.vol_paths = self._prepare_volumes(pod)
                self.message = None
            except (volumes.VolumeError, ApiError) as e:
                self.message = str(e)
                return
        if self.init_index < len(self.inits):
            self._step_init(pod)
        else:
            for rec in self.mains:
                self._step_main(pod, rec)
        self.phase = self._phase()

    def _prepare_volumes(self, pod):
        paths = volumes.prepare(self.api, pod, self.dir, self.cfg.ca_file)
        mounted = any(m["mountPath"].rstrip("/") == volumes.SA_MOUNT
                      for c in pod["spec"].get("initContainers", []) + pod["spec"].get("containers", [])
                      for m in c.get("volumeMounts", []))
        if pod["spec"].get("automountServiceAccountToken") is not False and not mounted:
            sa_dir = os.path.join(self.dir, "volumes", "test-node-serviceaccount")
            os.makedirs(sa_dir, exist_ok=True)
            for rel, data, mode in volumes.service_account_files(self.api, pod, self.cfg.ca_file):
                with open(os.path.join(sa_dir, rel), "wb") as f:
                    f.write(data)
                os.chmod(os.path.join(sa_dir, rel), mode)
            paths["test-node-serviceaccount"] = sa_dir
        return paths

    def _step_init(self, pod):
        rec = self.inits[self.init_index]
        if rec.proc is None:
            self._maybe_start(pod, rec)
            return
        code = rec.proc.poll()
        if code is None:
            return
        self._exited(rec, code)
        if rec.exit_code == 0:
            rec.done = True
            self.init_index += 1
        elif self.policy == "Never":
            rec.done = True
            self.phase = "Failed"
        else:
            self._schedule_restart(rec)

    def _step_main(self, pod, rec):
        if rec.done:
            return
        if rec.proc is None:
            self._maybe_start(pod, rec)
            return
        code = rec.proc.poll()
        if code is None:
            return
        self._exited(rec, code)
        if self.policy == "Always" or (self.policy == "OnFailure" and rec.exit_code != 0):
            self._schedule_restart(rec)
        else:
            rec.done = True

    def _exited(self, rec, code):
        _kill_group(rec.proc, signal.SIGKILL)  # what the container forked dies with it
        rec.exited(code)
        if rec.exit_code != 0 and rec.spec.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            rec.state["terminated"]["message"] = _log_tail(os.path.join(self.dir, rec.spec["name"] + ".log"))
        log.info("pod %s/%s container %s exited %d", self.ns, self.name, rec.spec["name"], rec.exit_code)

    def _schedule_restart(self, rec):
        delay = min(MAX_BACKOFF, 1.0 * (2 ** rec.restarts))
        rec.next_start = time.monotonic() + delay
        rec.last_state = rec.state
        rec.state = {"waiting": {"reason": "CrashLoopBackOff",
                                 "message": f"back-off {delay:.0f}s restarting failed container"}}
        rec.restart_pending = True

    def _container_spec(self, rec):
        c = dict(rec.spec)
        mounts = list(c.get("volumeMounts", []))
        if "test-node-serviceaccount" in self.vol_paths and \
                not any(m["mountPath"].rstrip("/") == volumes.SA_MOUNT for m in mounts):
            mounts.append({"name": "test-node-serviceaccount", "mountPath": volumes.SA_MOUNT, "readOnly": True})
        c["volumeMounts"] = mounts
        return c

    def _maybe_start(self, pod, rec):
        if time.monotonic() < rec.next_start:
            return
        name = rec.spec["name"]
        try:
            env = container.environment(self.api, pod, rec.spec, self.cfg.apiserver_port)
            rec.proc = container.start(self._container_spec(rec), env, self.vol_paths, self.cfg.stash_binary,
                                       os.path.join(self.dir, name + ".log"))
        except (volumes.VolumeError, ApiError, OSError) as e:
            rec.state = {"waiting": {"reason": "CreateContainerConfigError", "message": str(e)}}
            rec.next_start = time.monotonic() + 2.0
            return
        if rec.restart_pending:
            rec.restarts += 1
            rec.restart_pending = False
        rec.pid = rec.proc.pid
        rec.started_at = now_rfc3339()
        rec.exit_code = None
        rec.state = {"running": {"startedAt": rec.started_at}}
        with open(os.path.join(self.dir, name + ".pid"), "w") as f:
            f.write(f"{rec.pid}\n")
        log.info("pod %s/%s container %s started, pid %d", self.ns, self.name, name, rec.pid)

    def _phase(self):
        if self.phase == "Failed":
            return "Failed"
        if self.init_index < len(self.inits):
            return "Pending"
        if any(r.proc is not None for r in self.mains):
            return "Running"
        if all(r.done for r in self.mains):
            return "Failed" if any(r.exit_code for r in self.mains) else "Succeeded"
        return "Running" if any(r.restarts or r.exit_code is not None for r in self.mains) else "Pending"

    # --- status ---
    def _condition(self, kind, ok, reason=None):
        status = "True" if ok else "False"
        old = self.conditions.get(kind)
        if old is None or old["status"] != status:
            self.conditions[kind] = {"type": kind, "status": status, "lastProbeTime": None,
                                     "lastTransitionTime": now_rfc3339()}
            if reason and not ok:
                self.conditions[kind]["reason"] = reason
        return self.conditions[kind]

    def _status(self):
        inits_done = self.init_index >= len(self.inits)
        all_running = inits_done and all(r.proc is not None for r in self.mains)
        finished = self.phase in ("Succeeded", "Failed")
        not_ready = "PodCompleted" if finished else "ContainersNotReady"
        conds = [self._condition("PodReadyToStartContainers", self.vol_paths is not None),
                 self._condition("Initialized", inits_done or finished, "ContainersNotInitialized"),
                 self._condition("Ready", all_running, not_ready),
                 self._condition("ContainersReady", all_running, not_ready),
                 self._condition("PodScheduled", True)]
        s = {"phase": self.phase, "conditions": conds, "hostIP": "127.0.0.1", "hostIPs": [{"ip": "127.0.0.1"}],
             "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}], "startTime": self.start_time,
             "qosClass": self.pod.get("status", {}).get("qosClass", "BestEffort"),
             "containerStatuses": [r.status() for r in self.mains],
             "message": self.message}
        if self.inits:
            s["initContainerStatuses"] = [r.status() for r in self.inits]
        return s

    def _write_status(self):
        if self.phase in ("Succeeded", "Failed") and self.last_written is None and \
                self.pod.get("status", {}).get("phase") == self.phase:
            return  # finished before this node started; its status stands
        status = self._status()
        if status == self.last_written:
            return
        try:
            self.api.merge_patch(f"/api/v1/namespaces/{self.ns}/pods/{self.name}/status", {"status": status})
            self.last_written = status
        except ApiError as e:
            if e.status == 404:
                self.gone_event.set()
            else:
                log.warning("pod %s/%s: status update failed: %s", self.ns, self.name, e)

    # --- deletion and stopping ---
    def _kill_all(self, grace, interruptible=False):
        """SIGTERM to every process group, SIGKILL after grace seconds (sooner
        when interruptible and the node is stopping)."""
        procs = [r for r in self.inits + self.mains if r.proc is not None]
        for r in procs:
            _kill_group(r.proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while any(r.proc.poll() is None for r in procs) and time.monotonic() < deadline \
                and not (interruptible and self.stop_event.is_set()):
            time.sleep(POLL)
        for r in procs:
            _kill_group(r.proc, signal.SIGKILL)
            r.exited(r.proc.wait())

    def _finish_deletion(self, pod):
        grace = pod["metadata"].get("deletionGracePeriodSeconds", 30)
        log.info("pod %s/%s is being deleted (grace %ss)", self.ns, self.name, grace)
        self._kill_all(grace, interruptible=True)
        if self.phase not in ("Succeeded", "Failed"):
            # Succeeded only when every container ran and exited 0 (one that
            # handles SIGTERM may), as the kubelet decides a deleted pod's phase.
            self.phase = "Succeeded" if all(r.exit_code == 0 for r in self.mains) else "Failed"
            for r in self.mains:
                r.done = True
            self._write_status()
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                "preconditions": {"uid": self.uid}}
        try:
            self.api.delete(f"/api/v1/namespaces/{self.ns}/pods/{self.name}", body)
        except ApiError as e:
            if e.status not in (404, 409):
                log.warning("pod %s/%s: final delete failed: %s", self.ns, self.name, e)
        log.info("pod %s/%s deleted", self.ns, self.name)


class Manager:
    """The workers by pod uid, fed by the watch."""

    def __init__(self, api, cfg):
        self.api, self.cfg = api, cfg
        self.workers = {}

    def observe(self, kind, pod):
        uid = pod["metadata"]["uid"]
        if kind == "DELETED":
            w = self.workers.pop(uid, None)
            if w:
                w.gone()
            return
        w = self.workers.get(uid)
        if w is None:
            w = PodWorker(self.api, self.cfg, pod)
            self.workers[uid] = w
            w.start()
        else:
            w.update(pod)

    def relisted(self, uids):
        for uid in list(self.workers):
            if uid not in uids:
                self.workers.pop(uid).gone()

    def stop_all(self):
        workers = list(self.workers.values())  # the watch thread may still add one
        for w in workers:
            w.stop()
        for w in workers:
            w.join(timeout=15)
        container.remove_created_mount_points()
