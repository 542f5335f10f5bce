#!/usr/bin/env bash
# Builds stash into build/ (release) and, with --asan, build-asan/ too.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
if [ "${1:-}" = "--asan" ]; then
  [ -d build-asan ] || meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null
  ninja -C build-asan >/dev/null
fi
