#!/usr/bin/env bash
# Killing a backup or a prune with SIGKILL at any moment leaves a repository
# that `restic check --read-data` accepts (orphaned packs at most), and the
# next run works: after `stash unlock`, backup and prune finish and every
# snapshot restores identically.
source "$(dirname "$0")/lib.sh"
RANDOM=20261125  # fixed seed: the same kill points every run
repo=$WORK/repo src=$WORK/src
python3 "$HERE/make_tree.py" "$src" 5
mkdir -p "$src/bulk"
for i in $(seq 1 12); do head -c 6000000 /dev/urandom > "$src/bulk/f$i"; done
$STASH -q -r "$repo" init
$STASH -q -r "$repo" backup "$src"

check_repo() {
  $RESTIC -r "$repo" check --no-lock --read-data > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "$1"; }
}

kill_after() {  # MILLISECONDS CMD...: runs CMD, SIGKILLs it after the delay
  local ms=$1; shift
  "$@" > /dev/null 2>&1 &
  local pid=$!
  sleep "$(printf '0.%03d' "$ms")"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
}
kills=0

for round in $(seq 1 6); do
  # New data each round so the backup has real work to do when killed.
  for i in 1 2 3 4 5 6; do head -c 8000000 /dev/urandom > "$src/bulk/r$round-$i"; done
  kill_after $((RANDOM % 350 + 20)) $STASH -q -r "$repo" backup "$src"
  check_repo "check after backup killed in round $round"
  $STASH -q -r "$repo" unlock > /dev/null
done
[ $kills -ge 3 ] || fail "only $kills of 6 backups were still running when killed"
echo "killed $kills running backups"
kills=0
$STASH -q -r "$repo" backup "$src" || fail "backup after the kills"
cp -a "$src" "$WORK/final"
check_repo "check after the final backup"

for round in $(seq 1 6); do
  # Forget all but the newest snapshot, then kill the prune that frees them.
  ids=$($STASH -r "$repo" snapshots --json | python3 -c 'import json,sys; print(" ".join(s["id"] for s in json.load(sys.stdin)[:-1]))')
  [ -z "$ids" ] || $RESTIC -q -r "$repo" forget $ids
  rm -rf "$src/bulk"/r*; for i in 1 2; do head -c 5000000 /dev/urandom > "$src/bulk/p$round-$i"; done
  $STASH -q -r "$repo" backup "$src"
  cp -a "$src" "$WORK/final-$round"
  kill_after $((RANDOM % 350 + 20)) $STASH -q -r "$repo" prune --max-unused 0%
  check_repo "check after prune killed in round $round"
  $STASH -q -r "$repo" unlock > /dev/null
done
[ $kills -ge 3 ] || fail "only $kills of 6 prunes were still running when killed"
echo "killed $kills running prunes"
$STASH -q -r "$repo" prune --max-unused 0% || fail "prune after the kills"
check_repo "check after the final prune"
$STASH -q -r "$repo" restore latest --target "$WORK/out"
python3 "$HERE/compare_trees.py" "$WORK/final-6" "$WORK/out$src" > /dev/null || fail "restore after the kills"
pass "6 killed backups and 6 killed prunes left a healthy repository"
