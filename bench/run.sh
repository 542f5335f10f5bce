#!/usr/bin/env bash
# Times stash against restic 0.14, restic 0.18.1 and rustic 0.11.4 on the same
# data in one run and prints the times, peak RSS and stash's ratios.
#
#   bash bench/run.sh [--size MIB] [--real DIR|none] [--repo-dir DIR] [--both]
#                     [--repeat N] [--stash BIN] [--no-build] [--same-key]
#                     [--keep-results FILE]
#   bash bench/run.sh --large [FILES] [--repo-dir DIR] [--stash BIN] [--no-build]
#                     [--same-key] [--keep-results FILE]
#
# --large is the memory case: FILES (default 1000000) small files, each in a
# folder of its own (bench/gen_tree.py --files), so a repository of about
# 2 x FILES blobs; restic 0.18.1, rustic 0.11.4 and stash run a first
# backup (format 2), an incremental one with nothing changed, check and a
# restore, one tool after the other. The tree lives on the disk of /tmp
# (tmpfs has too few inodes for it and a restore); repositories go to
# --repo-dir (default /dev/shm), and so does each restore when the file
# system has inodes for it (else the disk), deleted after each tool's
# restore, untimed. It takes long: about 25 minutes at 1 million files on
# 2 cores.
#
# Data sets: a generated tree (default 1024 MiB: small and large files, half
# compressible) and a real tree (default /usr/share). For each: first backup
# into a format 2 and a format 1 repository, an incremental backup with
# nothing changed, a restore, and `snapshots`. Each step runs for every tool
# back to back, after a `sync`, so no tool pays for another's dirty pages.
# Page cache is warm for all (each data set is read once before timing). Peak
# RSS is the maximum resident set size of the process. --repeat N runs each
# step N times (every tool once per round, in an order that rotates from
# round to round; first backups into fresh repositories) and keeps each
# tool's fastest time and highest peak RSS, which steadies the ratios when
# others load the machine.
#
# Repositories and restores go to a temporary folder on the disk of /tmp, or
# below --repo-dir (e.g. /dev/shm, a tmpfs, which shows what the tools
# themselves cost rather than the disk); --both runs on the disk and then on
# /dev/shm (or --repo-dir). Nothing is deleted until the run ends: deleting
# thousands of files right before the next tool writes makes ext4 scan for
# free inodes and charges that to the next tool.
#
# Every command of every step derives its key from the password with scrypt,
# at the cost written in the repository's key file, and the tools write
# different costs: stash N=32768 r=8 p=1 (about 80 ms here), restic a
# calibrated p (3 or 4 here, about half a second), rustic N=131072 (four
# times stash's, and 128 MiB). By default each tool keeps its own key, as
# its users get it. --same-key gives every repository, right after its tool
# made it, a key of stash's cost in place of its own (`stash key add`, then
# the tool's key file removed), so the steps compare the engines rather than
# the key costs.
#
# Peers come from bench/peers.sh (built once per machine; --no-build uses
# only what is built already). A peer that is unavailable, or a step that
# fails for one, is named in the output and left out of the ratios, which
# compare stash with the better of restic 0.18.1 and rustic on each measure
# (peer / stash: above 1 means stash is faster or smaller). The run fails if
# stash itself fails a step. Beside stash's first backups the table prints
# the CPU bound from bench/bound.py (chunking, SHA-256, AES and zstd speeds
# measured here).
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bench/run.sh [--size MIB] [--real DIR|none] [--repo-dir DIR] [--both] [--repeat N] [--stash BIN] [--no-build] [--same-key] [--keep-results FILE] | --large [FILES] ..."
size=1024 real=/usr/share repo_dir= both=0 repeat=1 stash= peer_flags=() keep= large= same_key=
while [ $# -gt 0 ]; do
  case $1 in
    --size|--real|--repo-dir|--repeat|--stash|--keep-results)
      if [ $# -lt 2 ] || [ -z "$2" ]; then echo "bench: $1 needs a value" >&2; exit 2; fi ;;
  esac
  case $1 in
    --size) size=$2; shift 2 ;;
    --real) real=$2; shift 2 ;;
    --repo-dir) repo_dir=$2; shift 2 ;;
    --both) both=1; shift ;;
    --repeat) repeat=$2; shift 2 ;;
    --stash) stash=$2; shift 2 ;;
    --no-build) peer_flags+=(--no-build); shift ;;
    --keep-results) keep=$2; shift 2 ;;
    --same-key) same_key=1; shift ;;
    --large)
      large=1000000
      case ${2:-} in ''|-*) shift ;; *) large=$2; shift 2 ;; esac ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
case $size in ''|*[!0-9]*) echo "bench: --size must be a number of MiB, not '$size'" >&2; exit 2 ;; esac
case $large in *[!0-9]*|0) echo "bench: --large takes a number of files, not '$large'" >&2; exit 2 ;; esac
case $repeat in ''|0|*[!0-9]*) echo "bench: --repeat must be a positive number, not '$repeat'" >&2; exit 2 ;; esac
if [ "$real" != none ] && [ ! -d "$real" ]; then
  echo "bench: --real $real is not a folder" >&2; exit 2
fi
locations=()
if [ $both = 1 ]; then locations=("" "${repo_dir:-/dev/shm}"); else locations=("$repo_dir"); fi
for d in "${locations[@]}"; do
  if [ -n "$d" ] && [ ! -d "$d" ]; then echo "bench: --repo-dir $d is not a folder" >&2; exit 2; fi
done

if [ -z "$stash" ]; then
  bash scripts/build.sh
  stash=$PWD/build/cmd/stash
fi
if [ ! -x "$stash" ]; then echo "bench: stash binary $stash is not executable" >&2; exit 2; fi

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d /tmp/stash-bench-XXXXXX)
cleanup=("$work")
trap 'rm -rf "${cleanup[@]}"' EXIT
results=$work/results.jsonl
: > "$results"

# Tools in column order; bin maps a tool's name to its binary.
source bench/peer_tools.sh
load_peers "$work" "$results" "$stash" "${peer_flags[@]}"
echo "bench: comparing ${tools[*]}" >&2
print_key_mode "$same_key"
export RESTIC_PASSWORD=bench RUSTIC_PASSWORD=bench

# command TOOL STEP REPO [ARG]: sets argv to TOOL's command line for STEP
# (init: ARG is the repository version; backup and incremental: ARG is the
# source; restore: ARG is the target). An unknown STEP is a bug here, not a
# reason to rerun the previous command: it stops the run. rustic has no -q
# and takes the target positionally.
command_for() {
  local tool=$1 step=$2 repo=$3 arg=${4:-}
  local b=${bin[$tool]}
  case $tool in
    rustic*)
      case $step in
        init) argv=("$b" -r "$repo" --no-progress init --set-version "$arg") ;;
        backup|incremental) argv=("$b" -r "$repo" --no-progress backup "$arg") ;;
        restore) argv=("$b" -r "$repo" --no-progress restore latest "$arg") ;;
        snapshots) argv=("$b" -r "$repo" --no-progress snapshots) ;;
        check) argv=("$b" -r "$repo" --no-progress check) ;;
        *) echo "bench: no command for step '$step'" >&2; exit 2 ;;
      esac ;;
    *)
      case $step in
        init) argv=("$b" -q -r "$repo" init --repository-version "$arg") ;;
        backup|incremental) argv=("$b" -q -r "$repo" backup "$arg") ;;
        restore) argv=("$b" -q -r "$repo" restore latest --target "$arg") ;;
        snapshots) argv=("$b" -q -r "$repo" snapshots) ;;
        check) argv=("$b" -q -r "$repo" check) ;;
        *) echo "bench: no command for step '$step'" >&2; exit 2 ;;
      esac ;;
  esac
}

# error_text FILE: a tool's error output as one short line (no colours, no
# rustic [INFO] lines, measure.py's echo of the command cut to its status).
error_text() {
  local text
  text=$(sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^command failed (\(-\?[0-9]*\)): .*/exit status \1:/' "$1" \
    | { grep -v '^\[INFO\]' || true; } | tr '\n' ' ') || true
  text=${text%%Backtrace:*}  # rustic appends one; it names no cause
  printf '%s' "${text:0:300}"
}

# record LOCATION DATASET STEP TOOL KEY VALUE: appends one result line.
record() {
  python3 -c 'import json,sys; l,d,s,t,k,v=sys.argv[1:]
print(json.dumps({"location": l, "dataset": d, "step": s, "tool": t,
                  k: json.loads(v) if k == "m" else v}))' "$@" >> "$results"
}

# measure LOCATION DATASET STEP TOOL CMD...: times CMD; a failure is recorded
# with its first error lines and named on stderr, and returns 1.
measure() {
  local loc=$1 dataset=$2 step=$3 tool=$4; shift 4
  local m reason
  if m=$(python3 bench/measure.py -- "$@" 2> "$work/err"); then
    record "$loc" "$dataset" "$step" "$tool" m "$m"
    return 0
  fi
  reason=$(error_text "$work/err")
  echo "bench: $tool $step ($dataset, $loc) failed: $reason" >&2
  record "$loc" "$dataset" "$step" "$tool" failed "$reason"
  return 1
}

# init_repo LOCATION DATASET TOOL REPO VERSION: creates the repository; a
# failure is recorded against that version's first backup.
init_repo() {
  local loc=$1 dataset=$2 tool=$3 repo=$4 v=$5 reason
  command_for "$tool" init "$repo" "$v"
  if "${argv[@]}" > /dev/null 2> "$work/err"; then
    [ -z "$same_key" ] && return 0
    if replace_key "$stash" "$work" "$repo" 2> "$work/err"; then return 0; fi
    reason="key of stash's cost not set (format $v): $(error_text "$work/err")"
  else
    reason="init (format $v) failed: $(error_text "$work/err")"
  fi
  echo "bench: $tool $reason ($dataset, $loc)" >&2
  record "$loc" "$dataset" "backup v$v" "$tool" failed "$reason"
  return 1
}

if [ -n "$large" ]; then
  # The memory case: the two newest peers and stash, steps one tool after
  # the other, each after a sync.
  large_tools=()
  for tool in "${tools[@]}"; do [ "$tool" = "restic 0.14" ] || large_tools+=("$tool"); done
  echo "bench: --large compares ${large_tools[*]}" >&2
  src=$work/large
  python3 bench/gen_tree.py --files "$large" "$src" >&2
  where=${repo_dir:-/dev/shm}
  if [ ! -d "$where" ]; then echo "bench: --repo-dir $where is not a folder" >&2; exit 2; fi
  repos=$(mktemp -d "$where/stash-bench-large-XXXXXX"); cleanup+=("$repos")
  loc="$(df --output=fstype "$repos" | tail -n 1) $(df --output=target "$repos" | tail -n 1)"
  restores=$repos
  if [ "$(df --output=iavail "$repos" | tail -n 1)" -lt $(( large * 21 / 10 + 10000 )) ]; then
    restores=$work/restores; mkdir -p "$restores"
  fi
  echo "bench: $large files; repositories on $loc ($repos), restores in $restores" >&2
  declare -A have_v2=()
  for tool in "${large_tools[@]}"; do
    repo=$repos/large-${tool// /-}
    init_repo "$loc" large "$tool" "$repo" 2 || continue
    sync
    command_for "$tool" backup "$repo" "$src"
    measure "$loc" large "backup v2" "$tool" "${argv[@]}" && have_v2[$tool]=1
  done
  for step in incremental check restore; do
    for tool in "${large_tools[@]}"; do
      [ -n "${have_v2[$tool]:-}" ] || continue
      repo=$repos/large-${tool// /-}
      target=$restores/restored-${tool// /-}
      arg=$src
      [ $step = restore ] && arg=$target
      sync
      command_for "$tool" $step "$repo" "$arg"
      measure "$loc" large $step "$tool" "${argv[@]}" || true
      [ $step = restore ] && rm -rf "$target"
    done
  done
  for tool in "${large_tools[@]}"; do
    [ -n "${have_v2[$tool]:-}" ] || continue
    mib=$(du -sm "$repos/large-${tool// /-}" | cut -f1) || continue
    record "$loc" large "repository MiB" "$tool" m "{\"mib\": $mib}"
  done
  status=0
  [ -z "$keep" ] || cp "$results" "$keep"
  python3 bench/summary.py < "$results" || status=$?
  echo "load average (1, 5, 15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit $status
fi

python3 bench/gen_tree.py "$work/generated" "$size" >&2
datasets=(generated) bound_sets=("generated=$work/generated")
[ "$real" != none ] && datasets+=(real) bound_sets+=("real=$real")
# The CPU bound of a first backup on this machine, printed beside stash's;
# chunking speed from the chunk_speed tool of stash's build.
chunker=$(dirname "$stash")/../bench/chunk_speed
[ -x "$chunker" ] || chunker=$PWD/build/bench/chunk_speed
if [ ! -x "$chunker" ]; then
  echo "bench: no chunk_speed tool beside $stash or in build/bench: the CPU bound leaves chunking out" >&2
  chunker=
fi
if ! python3 bench/bound.py ${chunker:+--chunker "$chunker"} "${bound_sets[@]}" >> "$results" 2> "$work/err"; then
  echo "bench: no CPU bound (openssl speed or zstd -b failed): $(head -c 300 "$work/err")" >&2
else
  cat "$work/err" >&2
fi

# Nothing is deleted before the end, so each location must hold about three
# copies of the data (two first backups, a restore) per tool and round.
data_kib=0
for d in "${datasets[@]}"; do
  src=$work/generated
  [ $d = real ] && src=$real
  data_kib=$(( data_kib + $(du -sk "$src" 2>/dev/null | cut -f1) ))
done
need_kib=$(( data_kib * 3 * ${#tools[@]} * repeat ))
for where in "${locations[@]}"; do
  avail_kib=$(df --output=avail -k "${where:-$work}" | tail -n 1)
  if [ "$avail_kib" -lt "$need_kib" ]; then
    echo "bench: ${where:-$work} has $((avail_kib >> 10)) MiB free; this run needs about $((need_kib >> 10)) MiB there (smaller --size or --repeat, or --real none)" >&2
    exit 2
  fi
done

for where in "${locations[@]}"; do
  if [ -n "$where" ]; then repos=$(mktemp -d "$where/stash-bench-repos-XXXXXX"); cleanup+=("$repos")
  else repos=$work/repos; mkdir -p "$repos"; fi
  loc="$(df --output=fstype "$repos" | tail -n 1) $(df --output=target "$repos" | tail -n 1)"
  echo "bench: repositories on $loc ($repos)" >&2
  for dataset in "${datasets[@]}"; do
    src=$work/generated
    [ $dataset = real ] && src=$real
    tar cf /dev/null "$src" 2>/dev/null || true  # warm the page cache
    declare -A have_v2=()
    # Repeat r of a step runs every tool once, so a burst of load from
    # others hits all tools alike; the summary keeps each tool's fastest.
    for v in 2 1; do
      for r in $(seq "$repeat"); do
        round_order "$r"
        for tool in "${order[@]}"; do
          repo=$repos/$dataset-${tool// /-}-v$v-$r
          init_repo "$loc" $dataset "$tool" "$repo" $v || continue
          sync
          command_for "$tool" backup "$repo" "$src"
          if measure "$loc" $dataset "backup v$v" "$tool" "${argv[@]}" && [ $v$r = 21 ]; then
            have_v2[$tool]=1
          fi
        done
      done
    done
    for step in incremental restore snapshots; do
      for r in $(seq "$repeat"); do
        round_order "$r"
        for tool in "${order[@]}"; do
          [ -n "${have_v2[$tool]:-}" ] || continue  # its backup v2 failure is reported already
          repo=$repos/$dataset-${tool// /-}-v2-1
          arg=$src
          [ $step = restore ] && arg=$repos/restored-$dataset-${tool// /-}-$r
          sync
          command_for "$tool" $step "$repo" "$arg"
          measure "$loc" $dataset $step "$tool" "${argv[@]}" || true
        done
      done
    done
    for tool in "${tools[@]}"; do
      [ -n "${have_v2[$tool]:-}" ] || continue
      mib=$(du -sm "$repos/$dataset-${tool// /-}-v2-1" | cut -f1) || continue
      record "$loc" $dataset "repository MiB" "$tool" m "{\"mib\": $mib}"
    done
    unset have_v2
  done
done

status=0
[ -z "$keep" ] || cp "$results" "$keep"  # raw results: python3 bench/summary.py < FILE
python3 bench/summary.py < "$results" || status=$?
# Others share the machine: the load says how much to trust the run.
echo "load average (1, 5, 15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
