#!/usr/bin/env bash
# Finds or builds the tools stash is benchmarked against and prints one line
# per available peer on stdout: "NAME<TAB>PATH". A peer that is missing or
# fails to build is named on stderr ("bench: NAME unavailable: REASON") and
# left out; this script itself fails only on bad arguments.
#
#   bash bench/peers.sh [--cache DIR] [--retry] [--no-build] [--only restic|rustic]
#
# Peers: restic 0.14 (the Debian package, /usr/bin/restic), restic 0.18.1
# (go install) and rustic 0.11.4 (cargo install). The builds happen once per
# machine into the cache (default /var/cache/stash-bench, or
# $STASH_BENCH_CACHE) under a lock, so parallel runs wait for one build
# instead of racing. A failed build leaves its reason and log in the cache and
# is not retried (a rustic build costs 10-20 minutes on 2 cores) until
# --retry. Builds run at nice 10 with two jobs: the machine is shared.
# --no-build only lists what is already built (and does not wait for a build).
# --only restic or --only rustic finds or builds that one of the two (the
# tests need restic 0.18.1 alone, a two-minute build); restic 0.14 is listed
# either way.
set -euo pipefail
cache=${STASH_BENCH_CACHE:-/var/cache/stash-bench} retry=0 no_build=0 only=
usage="usage: bench/peers.sh [--cache DIR] [--retry] [--no-build] [--only restic|rustic]"
while [ $# -gt 0 ]; do
  case $1 in
    --cache)
      if [ $# -lt 2 ] || [ -z "$2" ]; then echo "bench: --cache needs a folder" >&2; exit 2; fi
      cache=$2; shift 2 ;;
    --retry) retry=1; shift ;;
    --no-build) no_build=1; shift ;;
    --only)
      case ${2:-} in restic|rustic) only=$2; shift 2 ;; *) echo "$usage" >&2; exit 2 ;; esac ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
restic_version=0.18.1 rustic_version=0.11.4
go=${GO:-/usr/local/go/bin/go}
cargo=${CARGO:-/root/.cargo/bin/cargo}

unavailable() {  # NAME REASON
  echo "bench: $1 unavailable: $2" >&2
}

# version_ok BIN WANT: BIN runs and its `version` output names WANT.
version_ok() {
  local out
  out=$("$1" version 2>/dev/null || "$1" --version 2>/dev/null) || return 1
  case $out in *"$2"*) return 0 ;; *) return 1 ;; esac
}

# build NAME DIR BIN CMD...: runs CMD (which installs BIN below DIR.tmp) once;
# on success DIR.tmp becomes DIR, on failure DIR.failed keeps the reason.
build() {
  local name=$1 dir=$2 bin=$3; shift 3
  if [ -x "$dir/bin/$bin" ]; then return 0; fi
  if [ -f "$dir.failed" ] && [ $retry = 0 ]; then
    unavailable "$name" "$(cat "$dir.failed") (earlier build; bench/peers.sh --retry builds again)"
    return 1
  fi
  if [ $no_build = 1 ]; then
    unavailable "$name" "not built yet (--no-build)"
    return 1
  fi
  rm -rf "$dir.tmp" "$dir.failed"
  mkdir -p "$dir.tmp"
  echo "bench: building $name (once per machine; log: $dir.log)" >&2
  if nice -n 10 "$@" > "$dir.log" 2>&1 && [ -x "$dir.tmp/bin/$bin" ]; then
    rm -rf "$dir.tmp/target"
    mv "$dir.tmp" "$dir"
    return 0
  fi
  local reason
  reason="build failed: $(grep -m1 -i 'error' "$dir.log" || tail -n 1 "$dir.log")"
  echo "$reason" > "$dir.failed"
  rm -rf "$dir.tmp"
  unavailable "$name" "$reason; log: $dir.log"
  return 1
}

if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  unavailable "restic $restic_version" "cache folder $cache is not writable"
  unavailable "rustic $rustic_version" "cache folder $cache is not writable"
  cache=
fi

if version_ok /usr/bin/restic "restic 0.14"; then
  printf 'restic 0.14\t%s\n' /usr/bin/restic
else
  unavailable "restic 0.14" "/usr/bin/restic is missing or not version 0.14 (apt-get install restic)"
fi

[ -n "$cache" ] || exit 0
exec 9> "$cache/.lock"
if [ $no_build = 1 ]; then
  :  # finished builds appear atomically (a rename), so no lock is needed
elif ! flock -n 9; then
  echo "bench: waiting for another bench/peers.sh to finish building" >&2
  flock 9
fi

restic_dir=$cache/restic-$restic_version
if [ "$only" = rustic ]; then
  :
elif [ ! -x "$go" ]; then
  unavailable "restic $restic_version" "no Go toolchain at $go (set GO=)"
elif build "restic $restic_version" "$restic_dir" restic \
    env GOBIN="$restic_dir.tmp/bin" GOMAXPROCS=2 GOFLAGS=-buildvcs=false \
    "$go" install -p 2 "github.com/restic/restic/cmd/restic@v$restic_version"; then
  if version_ok "$restic_dir/bin/restic" "restic $restic_version"; then
    printf 'restic %s\t%s\n' "$restic_version" "$restic_dir/bin/restic"
  else
    unavailable "restic $restic_version" "$restic_dir/bin/restic does not report version $restic_version"
  fi
fi

rustic_dir=$cache/rustic-$rustic_version
if [ "$only" = restic ]; then
  :
elif [ ! -x "$cargo" ]; then
  unavailable "rustic $rustic_version" "no cargo at $cargo (set CARGO=)"
elif build "rustic $rustic_version" "$rustic_dir" rustic \
    env CARGO_BUILD_JOBS=2 "$cargo" install --locked --root "$rustic_dir.tmp" \
    --target-dir "$rustic_dir.tmp/target" "rustic-rs@$rustic_version"; then
  if version_ok "$rustic_dir/bin/rustic" "$rustic_version"; then
    printf 'rustic %s\t%s\n' "$rustic_version" "$rustic_dir/bin/rustic"
  else
    unavailable "rustic $rustic_version" "$rustic_dir/bin/rustic does not report version $rustic_version"
  fi
fi
