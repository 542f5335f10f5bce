#!/usr/bin/env bash
# The main job on an embedded default: build stash, create a demo repository
# in a local folder, back up a sample tree (this checkout's sources plus a
# few generated files), list the snapshots and files, and restore them; then
# serve the snapshots with `stash apiserver` and list them with kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --build
bash scripts/build.sh
stash=$PWD/build/cmd/stash
demo=${STASH_DEMO_DIR:-/tmp/stash-demo}
rm -rf "$demo"
mkdir -p "$demo/sample"
cp -r base crypto storage engine cmd "$demo/sample/"
printf 'hello from stash\n' > "$demo/sample/hello.txt"
head -c 3000000 /dev/urandom > "$demo/sample/random.bin"
ln -s hello.txt "$demo/sample/link-to-hello"
export RESTIC_REPOSITORY="$demo/repo" RESTIC_PASSWORD=demo-password

set -x
"$stash" init
"$stash" backup "$demo/sample" --tag demo
"$stash" backup "$demo/sample" --tag demo --host second-host
"$stash" snapshots
"$stash" ls latest > "$demo/ls.txt"
head -n 8 "$demo/ls.txt"
"$stash" restore latest --target "$demo/restored"
diff -r "$demo/sample" "$demo/restored$demo/sample" && echo "restore matches the original"

# The Snapshot API: the repository as a user would `kubectl apply` it, served standalone.
set +x
mkdir -p "$demo/manifests"
cat > "$demo/manifests/demo.yaml" <<EOF
apiVersion: v1
kind: Secret
metadata: {name: demo-secret, namespace: demo}
stringData: {RESTIC_PASSWORD: $RESTIC_PASSWORD}
---
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata: {name: deployment.demo, namespace: demo, labels: {workload-kind: Deployment, workload-name: demo}}
spec:
  backend:
    storageSecretName: demo-secret
    local: {mountPath: /safe/data, hostPath: {path: $demo}, subPath: repo}
EOF
set -x
"$stash" apiserver --standalone-manifests "$demo/manifests" --standalone-kubeconfig "$demo/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 0 2> "$demo/apiserver.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
set +x
for _ in $(seq 100); do [ -s "$demo/kubeconfig" ] && break; sleep 0.1; done
set -x
if command -v kubectl > /dev/null; then
  kubectl --kubeconfig "$demo/kubeconfig" --cache-dir "$demo/kube-cache" get snapshots -n demo -o wide
else
  echo "kubectl is not installed; the server's health, with curl:"
  curl -sk "$(sed -n 's/^ *server: "\(.*\)"$/\1/p' "$demo/kubeconfig")/healthz"
  echo
fi
kill $server
wait $server || true
