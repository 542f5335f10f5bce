#!/usr/bin/env bash
# The Kubernetes client (kube/) against a real kube-apiserver: the checks of
# test/unit/kube_cluster_test.cc (paged lists, conflicts, every patch type,
# server-side apply, status subresources, informers across watch
# reconnects, events, leader election), run with the control plane of
# test/controlplane and the Repository CRD applied.
source "$(dirname "$0")/lib.sh"
source "$HERE/../controlplane/lib.sh"
[ -x "${KUBE_CLUSTER_TESTS:-}" ] || { echo "SKIP: KUBE_CLUSTER_TESTS is not built"; exit 77; }
cleanup() { cp_stop || true; rm -rf "$WORK" || true; }
cp_start "$WORK/cp" || { echo "FAIL: the control plane did not start"; exit 1; }
trap cleanup EXIT
"$KUBECTL" apply -f "$HERE/../../manifests/01-crd-repository.yaml" >/dev/null
"$KUBECTL" wait --for condition=established --timeout=60s crd/repositories.stash.appscode.com >/dev/null
"$KUBE_CLUSTER_TESTS" > "$WORK/out" 2>&1 || { cat "$WORK/out"; fail "kube client checks"; }
tail -n 2 "$WORK/out"
