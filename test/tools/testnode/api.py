"""A small Kubernetes API client over HTTPS with the kubeconfig's credentials.

Test infrastructure for test_node.py. The kubeconfig is flattened by kubectl
(YAML is not in Python's standard library); the client certificate, key and
CA are written to files because ssl only loads certificates from files.
"""
import base64
import http.client
import json
import os
import ssl
import subprocess
import urllib.parse


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


def _load_kubeconfig(path, kubectl):
    out = subprocess.run([kubectl, "config", "view", "--raw", "--minify", "--flatten",
                          "-o", "json", "--kubeconfig", path],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"test-node: cannot read kubeconfig {path}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def _write_secret_file(folder, name, b64):
    path = os.path.join(folder, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64decode(b64))
    return path


class Api:
    """REST verbs returning parsed JSON; errors raise ApiError."""

    def __init__(self, kubeconfig, kubectl, cred_dir):
        cfg = _load_kubeconfig(kubeconfig, kubectl)
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0].get("user", {})
        os.makedirs(cred_dir, mode=0o700, exist_ok=True)
        url = urllib.parse.urlparse(cluster["server"])
        self.host = url.hostname
        self.port = url.port or 443
        self.ctx = ssl.create_default_context()
        if "certificate-authority-data" in cluster:
            self.ca_file = _write_secret_file(cred_dir, "ca.crt", cluster["certificate-authority-data"])
            self.ctx.load_verify_locations(self.ca_file)
        else:
            self.ca_file = None
        if cluster.get("insecure-skip-tls-verify"):
            self.ctx.check_hostname = False
            self.ctx.verify_mode = ssl.CERT_NONE
        if "client-certificate-data" in user:
            cert = _write_secret_file(cred_dir, "client.crt", user["client-certificate-data"])
            key = _write_secret_file(cred_dir, "client.key", user["client-key-data"])
            self.ctx.load_cert_chain(cert, key)
        self.token = user.get("token")

    def _conn(self, timeout):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def _headers(self, content_type=None):
        h = {"Accept": "application/json"}
        if content_type:
            h["Content-Type"] = content_type
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        return h

    def request(self, method, path, body=None, content_type="application/json", timeout=30):
        conn = self._conn(timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, path, body=data, headers=self._headers(content_type if data else None))
            resp = conn.getresponse()
            raw = resp.read().decode(errors="replace")
            if resp.status >= 300:
                raise ApiError(resp.status, raw)
            return json.loads(raw) if raw else {}
        finally:
            conn.close()

    def get(self, path):
        return self.request("GET", path)

    def get_or_none(self, path):
        try:
            return self.get(path)
        except ApiError as e:
            if e.status == 404:
                return None
            raise

    def post(self, path, body):
        return self.request("POST", path, body)

    def put(self, path, body):
        return self.request("PUT", path, body)

    def merge_patch(self, path, body):
        return self.request("PATCH", path, body, "application/merge-patch+json")

    def delete(self, path, body=None):
        return self.request("DELETE", path, body)

    def watch(self, path):
        """Yields each watch event (type, object) until the server ends the stream."""
        conn = self._conn(330)  # past the server's timeoutSeconds=300: a dead peer ends it too
        try:
            conn.request("GET", path, headers=self._headers())
            resp = conn.getresponse()
            if resp.status >= 300:
                raise ApiError(resp.status, resp.read().decode(errors="replace"))
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.strip():
                    ev = json.loads(line)
                    yield ev.get("type"), ev.get("object", {})
        finally:
            conn.close()
