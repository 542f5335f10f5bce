#!/usr/bin/env bash
# Builds stash into build/ (release) and, with --asan, build-asan/ too,
# printing progress every 10% (a first build takes a few minutes on 2 cores;
# ccache makes later ones quick). build-asan/ builds only what the tests of
# suite "sanitized" run (the unit tests and fuzz targets, not the stash
# binary), with line tables only (-g1): sanitizer reports still name files
# and lines, and the build takes about a fifth less time.
set -euo pipefail
cd "$(dirname "$0")/.."

# ninja_progress DIR NAME [TARGET...]: builds DIR (or those targets in it),
# printing "NAME: 40% (120/300)" lines; the full output goes to
# DIR/build.log, shown when the build fails.
ninja_progress() {
  local dir=$1 name=$2 rc
  shift 2
  set +e
  NINJA_STATUS="[%f/%t] " ninja -C "$dir" "$@" > "$dir/build.log" 2>&1 &
  local pid=$!
  local last=-1
  while kill -0 "$pid" 2>/dev/null; do
    local status
    status=$(grep -o '^\[[0-9]*/[0-9]*\]' "$dir/build.log" | tail -n 1)
    if [ -n "$status" ]; then
      local done_steps=${status#[} total
      done_steps=${done_steps%%/*}
      total=${status#*/}; total=${total%]}
      local pct=$(( done_steps * 100 / total / 10 * 10 ))
      if [ "$pct" -gt "$last" ]; then echo "$name: $pct% ($done_steps/$total)"; last=$pct; fi
    fi
    sleep 2
  done
  wait "$pid"; rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    grep -B2 -A12 -m3 'error' "$dir/build.log" >&2 || tail -n 40 "$dir/build.log" >&2
    echo "$name: build failed (full log: $dir/build.log)" >&2
    return $rc
  fi
  echo "$name: built"
}

[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja_progress build "build (release)"
if [ "${1:-}" = "--asan" ]; then
  [ -d build-asan ] || meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
    -Db_lundef=false -Dcpp_args=-g1 >/dev/null
  # The files the sanitized tests run, from meson's own description.
  mapfile -t targets < <(python3 - build-asan <<'PY'
import json, os, subprocess, sys
build = os.path.abspath(sys.argv[1])
def introspect(what):
    return json.loads(subprocess.run(['meson', 'introspect', build, what], check=True,
                                     capture_output=True, text=True).stdout)
files = {t['id']: t['filename'] for t in introspect('--targets')}
needed = {os.path.relpath(f, build) for test in introspect('--tests') if 'stash:sanitized' in test['suite']
          for dep in test['depends'] for f in files[dep]}
print('\n'.join(sorted(needed)))
PY
  )
  [ ${#targets[@]} -gt 0 ] || { echo "build-asan: no sanitized tests found" >&2; exit 1; }
  ninja_progress build-asan "build (ASan/UBSan)" "${targets[@]}"
fi
