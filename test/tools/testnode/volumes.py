"""A pod's volumes as host folders: each volume becomes a folder (or the
hostPath itself) that the container's private mount namespace binds at
its mountPath. Secrets, ConfigMaps, the downward API and service account
tokens are written as files, as the kubelet projects them."""
import base64
import os

from .api import ApiError

SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


class VolumeError(Exception):
    """A volume cannot be prepared yet (missing object, unbound claim)."""


def _write(folder, rel, data, mode):
    path = os.path.join(folder, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def _get(api, path, what, optional):
    try:
        obj = api.get(path)
    except ApiError as e:
        if e.status == 404 and optional:
            return None
        raise VolumeError(f"{what}: {e}")
    return obj


def _key_files(source, data, default_mode):
    """(path, bytes, mode) for each item, or every key when items is empty."""
    items = source.get("items")
    if not items:
        return [(k, v, default_mode) for k, v in sorted(data.items())]
    out = []
    for it in items:
        if it["key"] not in data:
            if source.get("optional"):
                continue
            raise VolumeError(f"key {it['key']} not found")
        out.append((it["path"], data[it["key"]], it.get("mode", default_mode)))
    return out


def secret_data(api, ns, name, optional=False):
    obj = _get(api, f"/api/v1/namespaces/{ns}/secrets/{name}", f"secret {ns}/{name}", optional)
    if obj is None:
        return None
    return {k: base64.b64decode(v) for k, v in obj.get("data", {}).items()}


def configmap_data(api, ns, name, optional=False):
    obj = _get(api, f"/api/v1/namespaces/{ns}/configmaps/{name}", f"configmap {ns}/{name}", optional)
    if obj is None:
        return None
    data = {k: v.encode() for k, v in obj.get("data", {}).items()}
    data.update({k: base64.b64decode(v) for k, v in obj.get("binaryData", {}).items()})
    return data


def field_value(pod, path):
    """The downward API value of fieldPath in pod, as the kubelet renders it."""
    meta = pod["metadata"]
    for key in ("labels", "annotations"):
        if path == f"metadata.{key}":
            return "".join(f'{k}="{v}"\n' for k, v in sorted(meta.get(key, {}).items()))
        prefix = f"metadata.{key}['"
        if path.startswith(prefix) and path.endswith("']"):
            return meta.get(key, {}).get(path[len(prefix):-2], "")
    simple = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"],
              "metadata.uid": meta.get("uid", ""), "spec.nodeName": pod["spec"].get("nodeName", ""),
              "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
              "status.podIP": "127.0.0.1", "status.podIPs": "127.0.0.1",
              "status.hostIP": "127.0.0.1", "status.hostIPs": "127.0.0.1"}
    if path in simple:
        return simple[path]
    raise VolumeError(f"unsupported fieldPath {path}")


def _downward_files(pod, source, default_mode):
    out = []
    for it in source.get("items", []):
        if "fieldRef" in it:
            value = field_value(pod, it["fieldRef"]["fieldPath"])
        else:
            value = "0"  # resourceFieldRef: no limits are enforced here
        out.append((it["path"], value.encode(), it.get("mode", default_mode)))
    return out


def service_account_token(api, pod, audience=None, seconds=3607):
    ns, sa = pod["metadata"]["namespace"], pod["spec"].get("serviceAccountName", "default")
    spec = {"expirationSeconds": seconds,
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": pod["metadata"]["name"],
                               "uid": pod["metadata"]["uid"]}}
    if audience:
        spec["audiences"] = [audience]
    try:
        tr = api.post(f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token",
                      {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
    except ApiError as e:
        raise VolumeError(f"token for service account {ns}/{sa}: {e}")
    return tr["status"]["token"].encode()


def _projected_files(api, pod, source, ns):
    mode = source.get("defaultMode", 0o644)
    out = []
    for s in source.get("sources", []):
        if "secret" in s:
            data = secret_data(api, ns, s["secret"]["name"], s["secret"].get("optional", False))
            out += _key_files(s["secret"], data or {}, mode)
        elif "configMap" in s:
            data = configmap_data(api, ns, s["configMap"]["name"], s["configMap"].get("optional", False))
            out += _key_files(s["configMap"], data or {}, mode)
        elif "downwardAPI" in s:
            out += _downward_files(pod, s["downwardAPI"], mode)
        elif "serviceAccountToken" in s:
            t = s["serviceAccountToken"]
            token = service_account_token(api, pod, t.get("audience"), t.get("expirationSeconds", 3607))
            out.append((t["path"], token, 0o600 if mode == 0o644 else mode))
    return out


def service_account_files(api, pod, ca_file):
    """The files of an automounted token when no admission plugin projected one."""
    ca = open(ca_file, "rb").read() if ca_file else b""
    return [("token", service_account_token(api, pod), 0o600), ("ca.crt", ca, 0o644),
            ("namespace", pod["metadata"]["namespace"].encode(), 0o644)]


def _pvc_path(api, ns, claim):
    pvc = _get(api, f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{claim}", f"claim {ns}/{claim}", False)
    pv_name = pvc.get("spec", {}).get("volumeName")
    if not pv_name or pvc.get("status", {}).get("phase") != "Bound":
        raise VolumeError(f"claim {ns}/{claim} is not bound yet")
    pv = _get(api, f"/api/v1/persistentvolumes/{pv_name}", f"volume {pv_name}", False)
    spec = pv["spec"]
    path = spec.get("hostPath", {}).get("path") or spec.get("local", {}).get("path")
    if not path:
        raise VolumeError(f"volume {pv_name} has neither hostPath nor local.path")
    os.makedirs(path, exist_ok=True)
    return path


def _host_path(source):
    path, kind = source["path"], source.get("type", "")
    if kind == "DirectoryOrCreate":
        os.makedirs(path, exist_ok=True)
    elif kind == "FileOrCreate" and not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "a").close()
    elif kind == "Directory" and not os.path.isdir(path):
        raise VolumeError(f"hostPath {path} is not a directory")
    elif kind == "File" and not os.path.isfile(path):
        raise VolumeError(f"hostPath {path} is not a file")
    return path


def prepare(api, pod, pod_dir, ca_file):
    """{volume name: host path} for every volume of pod; raises VolumeError."""
    ns = pod["metadata"]["namespace"]
    paths = {}
    for vol in pod["spec"].get("volumes", []):
        name = vol["name"]
        folder = os.path.join(pod_dir, "volumes", name)
        files = None
        if "hostPath" in vol:
            paths[name] = _host_path(vol["hostPath"])
            continue
        if "persistentVolumeClaim" in vol:
            paths[name] = _pvc_path(api, ns, vol["persistentVolumeClaim"]["claimName"])
            continue
        if "emptyDir" in vol:
            files = []
        elif "secret" in vol:
            src = vol["secret"]
            data = secret_data(api, ns, src["secretName"], src.get("optional", False))
            files = _key_files(src, data or {}, src.get("defaultMode", 0o644))
        elif "configMap" in vol:
            src = vol["configMap"]
            data = configmap_data(api, ns, src["name"], src.get("optional", False))
            files = _key_files(src, data or {}, src.get("defaultMode", 0o644))
        elif "downwardAPI" in vol:
            src = vol["downwardAPI"]
            files = _downward_files(pod, src, src.get("defaultMode", 0o644))
        elif "projected" in vol:
            files = _projected_files(api, pod, vol["projected"], ns)
        else:
            raise VolumeError(f"volume {name}: unsupported volume source {sorted(vol)}")
        os.makedirs(folder, exist_ok=True)
        for rel, data, mode in files:
            _write(folder, rel, data, mode)
        paths[name] = folder
    return paths
