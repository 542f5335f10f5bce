"""One container as a local process: its environment, its command line and
its volume mounts, made real in a private mount namespace:

  unshare --mount --propagation private sh -c 'mount --bind ... && exec "$@"' sh CMD...

The process leads its own session so that signals reach everything it forks."""
import os
import re
import shlex
import subprocess

from . import volumes
from .volumes import VolumeError

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text, env):
    """Kubernetes' $(VAR) expansion: known names are replaced, $$ escapes."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return _REF.sub(sub, text)


def _env_from(api, ns, c, env):
    for src in c.get("envFrom", []):
        prefix = src.get("prefix", "")
        if "secretRef" in src:
            ref = src["secretRef"]
            data = volumes.secret_data(api, ns, ref["name"], ref.get("optional", False))
        else:
            ref = src["configMapRef"]
            data = volumes.configmap_data(api, ns, ref["name"], ref.get("optional", False))
        for k, v in (data or {}).items():
            env[prefix + k] = v.decode(errors="replace")


def _value_from(api, pod, ns, vf):
    for kind, getter in (("secretKeyRef", volumes.secret_data), ("configMapKeyRef", volumes.configmap_data)):
        if kind in vf:
            ref = vf[kind]
            data = getter(api, ns, ref["name"], ref.get("optional", False))
            if data is None or ref["key"] not in data:
                if ref.get("optional"):
                    return None
                raise VolumeError(f"{kind} {ns}/{ref['name']} has no key {ref['key']}")
            return data[ref["key"]].decode(errors="replace")
    if "fieldRef" in vf:
        return volumes.field_value(pod, vf["fieldRef"]["fieldPath"])
    if "resourceFieldRef" in vf:
        return "0"
    raise VolumeError(f"unsupported valueFrom {sorted(vf)}")


def environment(api, pod, c, apiserver_port):
    """The container's environment; raises VolumeError for a missing reference."""
    ns = pod["metadata"]["namespace"]
    port = str(apiserver_port)
    env = {"PATH": DEFAULT_PATH, "HOME": "/root", "HOSTNAME": pod["metadata"]["name"],
           "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port,
           "KUBERNETES_SERVICE_PORT_HTTPS": port, "KUBERNETES_PORT": f"tcp://127.0.0.1:{port}",
           "KUBERNETES_PORT_443_TCP": f"tcp://127.0.0.1:{port}", "KUBERNETES_PORT_443_TCP_ADDR": "127.0.0.1",
           "KUBERNETES_PORT_443_TCP_PORT": port, "KUBERNETES_PORT_443_TCP_PROTO": "tcp"}
    _env_from(api, ns, c, env)
    for e in c.get("env", []):
        if "valueFrom" in e:
            value = _value_from(api, pod, ns, e["valueFrom"])
            if value is None:
                continue
        else:
            value = expand(e.get("value", ""), env)
        env[e["name"]] = value
    return env


def is_stash_image(image):
    return "stash" in image.split("/")[-1]


def argv(c, env, stash_binary):
    """The command line; an image of stash has the stash binary as entrypoint."""
    command = [expand(x, env) for x in c.get("command", [])]
    args = [expand(x, env) for x in c.get("args", [])]
    if is_stash_image(c.get("image", "")):
        if not command:
            command = [stash_binary]
        elif command[0] in ("stash", "/stash", "/usr/local/bin/stash", "/bin/stash"):
            command = [stash_binary] + command[1:]
    line = command + args
    if not line:
        raise VolumeError(f"container {c['name']}: no command and an image ({c.get('image')}) "
                          "whose entrypoint this test node does not know")
    return line


# Mount points this node had to create on the host, removed (when empty)
# once every container is gone: a later rmdir would detach them from
# namespaces still using them.
created_mount_points = set()


def _ensure_mount_point(path):
    """Creates a missing mount point folder, remembering the topmost new one."""
    top = path
    while not os.path.exists(os.path.dirname(top)):
        top = os.path.dirname(top)
    if not os.path.exists(top):
        os.makedirs(path, exist_ok=True)
        created_mount_points.add(top)


def _other_test_nodes():
    """Whether another test node runs on this machine (tests run in parallel)."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"test_node.py") for a in args[:3]):
            return True
    return False


def remove_created_mount_points():
    # A mount point another node's containers use (one that node found
    # already made by us) would be detached from their namespaces by the
    # rmdir: while another node runs, the folders stay.
    if _other_test_nodes():
        created_mount_points.clear()
        return
    for top in sorted(created_mount_points, key=len, reverse=True):
        for root, _dirs, _files in os.walk(top, topdown=False):
            try:
                os.rmdir(root)
            except OSError:
                pass  # not empty: something of the host's, keep it
    created_mount_points.clear()


# Where a container's mount sources are staged first, on a tmpfs private to
# its namespace: a mount at /tmp would otherwise hide sources that live
# under /tmp (volume folders, hostPaths) from the mounts after it.
STAGE_CANDIDATES = ("/run/test-node-stage", "/var/lib/test-node-stage", "/srv/test-node-stage")


def _stage_dir(mount_paths):
    for cand in STAGE_CANDIDATES:
        if not any(cand == m or cand.startswith(m.rstrip("/") + "/") for m in mount_paths):
            return cand
    raise VolumeError("the volume mounts cover every staging folder of the test node")


def _mount_script(c, vol_paths, workdir):
    mounts = sorted(c.get("volumeMounts", []), key=lambda m: os.path.normpath(m["mountPath"]).count("/"))
    if not mounts:
        stage, steps = None, []
    else:
        stage = _stage_dir([os.path.normpath(m["mountPath"]) for m in mounts])
        _ensure_mount_point(stage)
        steps = [f"mount -t tmpfs test-node-stage {stage}"]
    binds = []
    for i, m in enumerate(mounts):
        if m["name"] not in vol_paths:
            raise VolumeError(f"volumeMount {m['name']}: no such volume")
        src = vol_paths[m["name"]]
        if m.get("subPath"):
            src = os.path.join(src, m["subPath"])
            if not os.path.exists(src):
                os.makedirs(src)
        staged, dst = f"{stage}/{i}", shlex.quote(m["mountPath"])
        is_dir = os.path.isdir(src)
        steps.append(f"mkdir {staged}" if is_dir else f": > {staged}")
        steps.append(f"mount --bind {shlex.quote(src)} {staged}")
        _ensure_mount_point(m["mountPath"] if is_dir else os.path.dirname(m["mountPath"]))
        if is_dir:
            binds.append(f"mkdir -p {dst}")
        else:
            binds.append(f"mkdir -p \"$(dirname {dst})\" && {{ [ -e {dst} ] || : > {dst}; }}")
        binds.append(f"mount --bind {staged} {dst}")
        if m.get("readOnly"):
            binds.append(f"mount -o remount,bind,ro {dst}")
    steps += binds
    if workdir:
        _ensure_mount_point(workdir)
        steps.append(f"mkdir -p {shlex.quote(workdir)} && cd {shlex.quote(workdir)}")
    steps.append('exec "$@"')
    return " && ".join(steps)


def start(c, env, vol_paths, stash_binary, log_path):
    """Starts the container; returns the Popen (its pid leads a new session)."""
    line = argv(c, env, stash_binary)
    script = _mount_script(c, vol_paths, c.get("workingDir"))
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
                                + line, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                start_new_session=True, close_fds=True)
    finally:
        log.close()
