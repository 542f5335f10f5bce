#!/usr/bin/env bash
# Installs the Debian 12 packages stash needs to build and test, if missing.
set -euo pipefail
packages=(meson ninja-build g++ pkg-config libssl-dev libsodium-dev libzstd-dev
          rapidjson-dev libboost-dev libyaml-cpp-dev catch2 restic python3 attr)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
