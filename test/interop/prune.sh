#!/usr/bin/env bash
# stash prune frees what forgotten snapshots used, never what remaining ones
# need: restic check --read-data passes afterwards, every remaining snapshot
# restores identically, and restic's own prune then finds nothing to do.
# Runs on a stash-made and a restic-made repository of the given version.
# usage: prune.sh REPOSITORY-VERSION [newer]
# With "newer" restic is 0.18.1 rather than 0.14 (use_newer_restic).
source "$(dirname "$0")/lib.sh"
version=${1:?version}
newer=${2:-}
[ "$newer" = newer ] && use_newer_restic

history() {  # TOOL REPO: five snapshots of a changing tree
  local tool=$1 repo=$2 src=$WORK/src
  rm -rf "$src"
  python3 "$HERE/make_tree.py" "$src" 11
  $tool -q -r "$repo" init --repository-version "$version"
  for i in 1 2 3 4 5; do
    head -c $((i * 700000)) /dev/urandom > "$src/data/gen-$i.bin"
    [ $i -gt 2 ] && rm -f "$src/data/gen-$((i - 2)).bin"
    [ $i = 3 ] && rm -f "$src/data/big-9MiB.bin"
    cp -a "$src" "$WORK/state-$i"
    $tool -q -r "$repo" backup "$src" --tag "v$i" --host h
  done
}

check_repo() {  # REPO LABEL
  $RESTIC -r "$1" check --read-data > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "$2: restic check"; }
}

for tool in "$STASH" "$RESTIC"; do
  repo=$WORK/repo-$(basename "$tool")
  rm -rf "$WORK"/state-*
  history "$tool" "$repo"
  # Forget the first three snapshots (restic forget removes only snapshot files).
  for tag in v1 v2 v3; do
    $RESTIC -q -r "$repo" forget "$($RESTIC -r "$repo" snapshots --json --tag $tag | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
  done
  before=$(du -sb "$repo" | cut -f1)
  $STASH -q -r "$repo" prune --dry-run
  [ "$(du -sb "$repo" | cut -f1)" = "$before" ] || fail "prune --dry-run changed the repository"
  # What prune says, its plan's figures included, reads as restic's when
  # restic prunes a copy of the same repository (its progress lines aside).
  rm -rf "$WORK/twin" && cp -a "$repo" "$WORK/twin"
  $RESTIC -r "$WORK/twin" prune > "$WORK/restic-prune.out" 2>&1 || { cat "$WORK/restic-prune.out"; fail "restic prune of the twin"; }
  $STASH -r "$repo" prune > "$WORK/stash-prune.out" 2>&1 || { cat "$WORK/stash-prune.out"; fail "stash prune"; }
  if [ "$newer" != newer ]; then
    diff <(grep -v -e '^\[' -e '^$' "$WORK/restic-prune.out") <(grep -v '^$' "$WORK/stash-prune.out") > "$WORK/prune.diff" ||
      { cat "$WORK/prune.diff"; fail "stash prune's output differs from restic's (< restic, > stash)"; }
  fi
  grep -q "^to delete: " "$WORK/stash-prune.out" || { cat "$WORK/stash-prune.out"; fail "stash prune printed no plan"; }
  after=$(du -sb "$repo" | cut -f1)
  [ "$after" -lt "$before" ] || fail "prune freed nothing ($before -> $after bytes)"
  check_repo "$repo" "after stash prune"
  for i in 4 5; do
    rm -rf "$WORK/out"
    $STASH -q -r "$repo" restore latest --tag "v$i" --target "$WORK/out"
    python3 "$HERE/compare_trees.py" "$WORK/state-$i" "$WORK/out$WORK/src" > /dev/null || fail "restore of v$i after prune"
  done
  $RESTIC -r "$repo" prune --dry-run > "$WORK/rp.log"
  grep -qE "^to delete: +0 blobs" "$WORK/rp.log" || { cat "$WORK/rp.log"; fail "restic would still delete after stash prune"; }
  # Unused space down to zero: everything partly used gets repacked.
  $STASH -q -r "$repo" prune --max-unused 0%
  check_repo "$repo" "after prune --max-unused 0%"
  grep -qE "^unused size after prune: 0 B" <($RESTIC -r "$repo" prune --dry-run) || fail "unused data left"
  pass "prune of a $(basename "$tool")-made v$version repository: $before -> $after bytes"
done
