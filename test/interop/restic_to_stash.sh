#!/usr/bin/env bash
# A repository written by restic is read by stash: snapshot lists, file
# listings and config agree, and restores are identical to the original.
# usage: restic_to_stash.sh REPOSITORY-VERSION
source "$(dirname "$0")/lib.sh"
version=${1:?version}
src=$WORK/src repo=$WORK/repo
python3 "$HERE/make_tree.py" "$src"
$RESTIC -q -r "$repo" init --repository-version "$version"
$RESTIC -q -r "$repo" backup "$src" --host first --tag daily
(cd "$WORK" && $RESTIC -q -r "$repo" backup src/docs src/data --host second --tag a --tag b)

$RESTIC -r "$repo" snapshots --json > "$WORK/r.json"
$STASH -r "$repo" snapshots --json > "$WORK/s.json"
same_json "snapshots --json" "$WORK/r.json" "$WORK/s.json"
$RESTIC -r "$repo" snapshots --json --host second > "$WORK/r.json"
$STASH -r "$repo" snapshots --json --host second > "$WORK/s.json"
same_json "snapshots --json --host" "$WORK/r.json" "$WORK/s.json"

$RESTIC -r "$repo" ls --json latest --host first > "$WORK/r.jsonl"
$STASH -r "$repo" ls --json latest --host first > "$WORK/s.jsonl"
same_json "ls --json" "$WORK/r.jsonl" "$WORK/s.jsonl"

$RESTIC -r "$repo" cat config > "$WORK/r.json"
$STASH -r "$repo" cat config > "$WORK/s.json"
same_json "cat config" "$WORK/r.json" "$WORK/s.json"

$STASH -q -r "$repo" restore latest --host first --target "$WORK/out"
python3 "$HERE/compare_trees.py" "$src" "$WORK/out$src"
$STASH -q -r "$repo" restore "latest:$src/docs" --host first --target "$WORK/out-docs"
python3 "$HERE/compare_trees.py" "$src/docs" "$WORK/out-docs"
# The relative backup keeps its relative shape: src/docs, src/data.
$STASH -q -r "$repo" restore latest --host second --target "$WORK/out-rel"
python3 "$HERE/compare_trees.py" "$src/data" "$WORK/out-rel/src/data"
[ ! -e "$WORK/out-rel/src/small.txt" ] || fail "relative restore has files it should not"
pass "restic v$version repository restored by stash"
