#!/usr/bin/env bash
# Builds the real control plane the cluster tests run (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl) from Go modules, once per
# machine: the binaries are cached outside the build folder, keyed by version,
# so a second run only checks that they are there.
#
#   test/controlplane/build.sh        prints the folder holding the binaries
#
# From an empty Go build cache this takes about 20 minutes on 2 cores (the
# bulk is kube-apiserver); afterwards it returns at once.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CACHE=${STASH_TEST_CACHE:-/var/cache/stash-test}
bin="$CACHE/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
wanted=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl)

have_all() {
  for b in "${wanted[@]}"; do [ -x "$bin/$b" ] || return 1; done
}
if have_all; then echo "$bin"; exit 0; fi

# One build at a time per machine: a second caller waits for the first.
mkdir -p "$CACHE"
exec 9>"$CACHE/build.lock"
flock 9
if have_all; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "control plane: no Go toolchain to build it with" >&2; exit 1; }
mkdir -p "$bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log() { echo "control plane: $*" >&2; }

# The staging modules k8s.io/kubernetes requires at v0.0.0 with replace
# directives; a consuming module has to repeat those replaces.
staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
  kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller streaming)
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
staging_version="v0.${K8S_VERSION#v1.}"

if [ ! -x "$bin/etcd" ]; then
  log "building etcd $ETCD_VERSION"
  mkdir -p "$work/etcd" && cd "$work/etcd"
  go mod init stash.test/etcd >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
  go build -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$bin/etcd.tmp" "$bin/etcd"
fi

mkdir -p "$work/k8s" && cd "$work/k8s"
{
  echo "module stash.test/controlplane"
  echo "go 1.25"
  echo "require k8s.io/kubernetes $K8S_VERSION"
  for m in "${staging[@]}"; do echo "replace k8s.io/$m => k8s.io/$m $staging_version"; done
} > go.mod
cat > main.go <<'GO'
package main

import (
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {}
GO
log "resolving k8s.io/kubernetes $K8S_VERSION"
go mod tidy >/dev/null 2>&1 || go mod tidy
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
done
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [ -x "$bin/$b" ] && continue
  log "building $b $K8S_VERSION"
  go build -ldflags "$ldflags" -o "$bin/$b.tmp" "k8s.io/kubernetes/cmd/$b"
  mv "$bin/$b.tmp" "$bin/$b"
done
have_all
echo "$bin"
