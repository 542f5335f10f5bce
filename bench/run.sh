#!/usr/bin/env bash
# Times stash against restic on the same data in one run and prints ratios.
#
#   bash bench/run.sh [--size MIB] [--real DIR] [--repo-dir DIR]
#
# Data sets: a generated tree (default 1024 MiB: small and large files, half
# compressible) and a real tree (default /usr/share). For each: first backup
# into a format 2 and a format 1 repository, an incremental backup with
# nothing changed, a restore, and `snapshots`. Page cache is warm for both
# tools (each data set is read once before timing). Peak RSS is the maximum
# resident set size of the process. Repositories go to a temporary folder on
# the disk of /tmp, or below --repo-dir: on this project's machines a local
# disk caps both tools' first backups at its write speed (every pack is
# fsynced; creating many files right after deleting many makes ext4 scan for
# free inodes), so --repo-dir /dev/shm (repositories and restores there) shows
# what the tools themselves cost.
set -euo pipefail
cd "$(dirname "$0")/.."
size=1024 real=/usr/share repo_dir=
while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    --real) real=$2; shift 2 ;;
    --repo-dir) repo_dir=$2; shift 2 ;;
    *) echo "usage: bench/run.sh [--size MIB] [--real DIR] [--repo-dir DIR]" >&2; exit 2 ;;
  esac
done
bash scripts/build.sh
stash=$PWD/build/cmd/stash
work=$(mktemp -d /tmp/stash-bench-XXXXXX)
repos=$work
[ -n "$repo_dir" ] && repos=$(mktemp -d "$repo_dir/stash-bench-repos-XXXXXX")
trap 'rm -rf "$work" "$repos"' EXIT
export RESTIC_PASSWORD=bench
python3 bench/gen_tree.py "$work/generated" "$size"
results=$work/results.jsonl sizes=$work/sizes.jsonl
declare -A bin=([restic]=restic [stash]=$stash)

measure() {  # DATASET STEP TOOL CMD...
  local dataset=$1 step=$2 tool=$3; shift 3
  local m
  m=$(python3 bench/measure.py -- "$@")
  echo "{\"dataset\":\"$dataset\",\"step\":\"$step\",\"tool\":\"$tool\",\"m\":$m}" >> "$results"
}

for dataset in generated real; do
  src=$work/generated
  [ $dataset = real ] && src=$real
  tar cf /dev/null "$src" 2>/dev/null || true  # warm the page cache
  # Each step runs for both tools back to back, after a sync, so neither
  # pays for the other's dirty pages or deletes.
  for v in 2 1; do
    for tool in restic stash; do
      repo=$repos/repo-$dataset-$tool-v$v
      ${bin[$tool]} -q -r "$repo" init --repository-version $v > /dev/null
      sync
      measure $dataset "backup v$v" $tool ${bin[$tool]} -q -r "$repo" backup "$src"
    done
  done
  for step in incremental restore snapshots; do
    for tool in restic stash; do
      repo=$repos/repo-$dataset-$tool-v2
      sync
      case $step in
        incremental) measure $dataset $step $tool ${bin[$tool]} -q -r "$repo" backup "$src" ;;
        restore) measure $dataset $step $tool ${bin[$tool]} -q -r "$repo" restore latest --target "$repos/out-$tool" ;;
        snapshots) measure $dataset $step $tool ${bin[$tool]} -q -r "$repo" snapshots ;;
      esac
    done
    rm -rf "$repos/out-restic" "$repos/out-stash"
  done
  for tool in restic stash; do
    echo "{\"dataset\":\"$dataset\",\"tool\":\"$tool\",\"repo_mib\":$(du -sm "$repos/repo-$dataset-$tool-v2" | cut -f1)}" >> "$sizes"
  done
done

python3 - "$results" "$sizes" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sizes = {(r["dataset"], r["tool"]): r["repo_mib"] for r in map(json.loads, open(sys.argv[2]))}
by = {(r["dataset"], r["step"], r["tool"]): r["m"] for r in rows}
keys = []
for r in rows:
    k = (r["dataset"], r["step"])
    if k not in keys:
        keys.append(k)
print(f"| data set | step | restic s | stash s | speed-up | restic RSS MiB | stash RSS MiB | RSS ratio |")
print(f"|---|---|---:|---:|---:|---:|---:|---:|")
for d, s in keys:
    r, t = by.get((d, s, "restic")), by.get((d, s, "stash"))
    if not r or not t:
        continue
    print(f"| {d} | {s} | {r['seconds']:.2f} | {t['seconds']:.2f} | {r['seconds'] / t['seconds']:.2f}x "
          f"| {r['max_rss_kib'] / 1024:.0f} | {t['max_rss_kib'] / 1024:.0f} | {t['max_rss_kib'] / r['max_rss_kib']:.2f} |")
print()
print("| data set | format 2 repository, restic MiB | stash MiB |")
print("|---|---:|---:|")
for d in sorted({d for d, _ in sizes}):
    print(f"| {d} | {sizes[(d, 'restic')]} | {sizes[(d, 'stash')]} |")
PY
