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

# Both tools' prune output, restic's progress lines and blank lines aside,
# must be the same (only against restic 0.14: 0.18 words some lines anew).
same_output() {  # RESTIC-OUT STASH-OUT WHAT
  [ "$newer" = newer ] && return 0
  diff <(grep -v -e '^\[' -e '^$' "$1") <(grep -v '^$' "$2") > "$WORK/prune.diff" ||
    { cat "$WORK/prune.diff"; fail "$3: stash's output differs from restic's (< restic, > stash)"; }
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
  # What prune says as it goes reads as restic's when restic prunes a copy.
  rm -rf "$WORK/twin" && cp -a "$repo" "$WORK/twin"
  $RESTIC -r "$WORK/twin" prune > "$WORK/restic-prune.out" 2>&1 || { cat "$WORK/restic-prune.out"; fail "restic prune of the twin"; }
  $STASH -r "$repo" prune > "$WORK/stash-prune.out" 2>&1 || { cat "$WORK/stash-prune.out"; fail "stash prune"; }
  same_output "$WORK/restic-prune.out" "$WORK/stash-prune.out" "prune"
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

# Each way of choosing what to repack plans as restic's does, on a history
# made to tell them apart: 16 data packs of about 900 KB (small for
# --repack-small, not for the default), the oldest three partly used, and
# tree packs partly used. Every file is under the chunker's 512 KiB
# minimum, so each is one blob and the plans do not depend on chance.
plans() {  # TOOL
  local tool=$1 repo=$WORK/plans-$(basename "$1") src=$WORK/plans-src
  rm -rf "$src" && mkdir -p "$src"
  $tool -q -r "$repo" init --repository-version "$version"
  for i in $(seq 16); do
    head -c 400000 /dev/urandom > "$src/a$i-1"
    head -c 400000 /dev/urandom > "$src/a$i-2"
    head -c 100000 /dev/urandom > "$src/b$i"
    rm -f "$src/a$((i - 2))-1" "$src/a$((i - 2))-2"
    $tool -q -r "$repo" backup "$src" --host h
  done
  $RESTIC -q -r "$repo" forget --keep-last 12
  for opts in "" "--max-unused 0" "--max-unused unlimited" "--max-unused 1M" "--repack-small" \
              "--repack-cacheable-only" "--max-repack-size 100K"; do
    # shellcheck disable=SC2086
    $RESTIC -r "$repo" prune --dry-run $opts > "$WORK/restic-plan.out" 2>&1 || { cat "$WORK/restic-plan.out"; fail "restic prune --dry-run $opts"; }
    # shellcheck disable=SC2086
    $STASH -r "$repo" prune --dry-run $opts > "$WORK/stash-plan.out" 2>&1 || { cat "$WORK/stash-plan.out"; fail "stash prune --dry-run $opts"; }
    same_output "$WORK/restic-plan.out" "$WORK/stash-plan.out" "prune --dry-run $opts"
    grep -E "^(to repack|to delete):" "$WORK/stash-plan.out" | md5sum >> "$WORK/plans"
  done
  # The options lead to different plans here, so the comparison tells them
  # apart: the default, unlimited and --repack-small differ whatever packs
  # the backups' blobs landed in (two writers fill packs at once); others
  # may coincide with one of those.
  local distinct
  distinct=$(sort -u "$WORK/plans" | wc -l)
  rm -f "$WORK/plans"
  [ "$distinct" -ge 3 ] || fail "the prune options gave only $distinct different plans"
  pass "prune plans of a $(basename "$tool")-made v$version repository: $distinct different ones for 7 option sets"
}
plans "$STASH"
plans "$RESTIC"
