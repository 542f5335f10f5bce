#!/usr/bin/env bash
# Installs what stash needs, if missing:
#   install-deps.sh --build   the Debian packages to build it (and run the demo)
#   install-deps.sh           those, and every test peer: restic, rclone, the
#                             object-store test servers (npm, Go modules), ...
# Everything comes from Debian's packages, npm and the Go module proxy, so
# both need those registries; a second run finds everything and returns at once.
set -euo pipefail
build_packages=(meson ninja-build g++ pkg-config libssl-dev libsodium-dev libzstd-dev
                rapidjson-dev libboost-dev libyaml-cpp-dev catch2 python3 openssl curl ccache
                ca-certificates)
test_packages=(restic attr rclone umoci jq prometheus prometheus-pushgateway postgresql)
packages=("${build_packages[@]}")
[ "${1:-}" = "--build" ] || packages+=("${test_packages[@]}")
missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ "${1:-}" = "--build" ] && exit 0

# The S3 test server (test/interop/s3_backend.sh), from npm. Node comes
# from Debian when the machine has none.
if ! command -v s3rver >/dev/null; then
  if ! command -v npm >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  echo "installing: s3rver (npm)"
  npm install -g --silent s3rver@3.7.1 >/dev/null
fi

# The Azure Blob test server (test/interop/azure_backend.sh), from npm; it
# checks Shared Key and SAS signatures (3.35.0 tried with Node 20).
if ! command -v azurite-blob >/dev/null; then
  echo "installing: azurite (npm)"
  npm install -g --silent azurite@3.35.0 >/dev/null
fi

# MinIO checks S3 signatures for real (test/interop/s3_minio.sh, skipped
# without it). Building it takes about 15 minutes, so only on request.
if [ "${STASH_WITH_MINIO:-}" = 1 ] && ! command -v minio >/dev/null && [ ! -x "$HOME/go/bin/minio" ]; then
  echo "installing: minio (go install)"
  go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
fi

# The GCS test server (test/interop/gcs_backend.sh, skipped without it).
# It needs Go >= 1.26; a build from an empty module cache takes about 1.5 minutes.
if ! command -v fake-gcs-server >/dev/null && [ ! -x "$HOME/go/bin/fake-gcs-server" ]; then
  if command -v go >/dev/null; then
    echo "installing: fake-gcs-server (go install)"
    go install github.com/fsouza/fake-gcs-server@v1.56.1 ||
      echo "fake-gcs-server did not build (Go >= 1.26 needed): the gcs-backend test will skip"
  else
    echo "not installing fake-gcs-server: no Go toolchain (the gcs-backend test will skip)"
  fi
fi

# Go builds the Swift test server (test/tools/swiftserver, around ncw/swift's
# swifttest) that test/interop/swift_backend.sh runs; skipped without Go.
# Debian's golang is new enough (go.mod asks for 1.19). The module is
# fetched here so the test itself builds offline.
if ! command -v go >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends golang-go >/dev/null
fi
echo "go: $(go version)"
(cd "$(dirname "$0")/../test/tools/swiftserver" && go mod download)
