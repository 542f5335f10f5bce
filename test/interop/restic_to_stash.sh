#!/usr/bin/env bash
# A repository written by restic is read by stash: snapshot lists, file
# listings and config agree, and restores are identical to the original.
# usage: restic_to_stash.sh REPOSITORY-VERSION [newer]
# With "newer" the writer is restic 0.18.1 rather than 0.14 (use_newer_restic).
source "$(dirname "$0")/lib.sh"
version=${1:?version}
newer=${2:-}
[ "$newer" = newer ] && use_newer_restic
src=$WORK/src repo=$WORK/repo
python3 "$HERE/make_tree.py" "$src"
$RESTIC -q -r "$repo" init --repository-version "$version"
$RESTIC -q -r "$repo" backup "$src" --host first --tag daily
(cd "$WORK" && $RESTIC -q -r "$repo" backup src/docs src/data --host second --tag a --tag b)
if [ "$version" = 2 ]; then
  # Format 2 repositories may hold uncompressed blobs too.
  python3 "$HERE/make_tree.py" "$WORK/plain" 3
  $RESTIC -q -r "$repo" backup "$WORK/plain" --host plain --compression off
  $RESTIC -q -r "$repo" backup "$WORK/plain" --host max --compression max
fi

$RESTIC -r "$repo" snapshots --json > "$WORK/r.json"
$STASH -r "$repo" snapshots --json > "$WORK/s.json"
same_json "snapshots --json" "$WORK/r.json" "$WORK/s.json"
$RESTIC -r "$repo" snapshots --json --host second > "$WORK/r.json"
$STASH -r "$repo" snapshots --json --host second > "$WORK/s.json"
same_json "snapshots --json --host" "$WORK/r.json" "$WORK/s.json"

$RESTIC -r "$repo" ls --json latest --host first > "$WORK/r.jsonl"
$STASH -r "$repo" ls --json latest --host first > "$WORK/s.jsonl"
[ "$newer" = newer ] && drop_keys "$WORK/r.jsonl" message_type inode
same_json "ls --json" "$WORK/r.jsonl" "$WORK/s.jsonl"

$RESTIC -r "$repo" cat config > "$WORK/r.json"
$STASH -r "$repo" cat config > "$WORK/s.json"
same_json "cat config" "$WORK/r.json" "$WORK/s.json"

indexes=$(ls "$repo/index") keys=$(ls "$repo/keys")
for what in masterkey "snapshot $($RESTIC -r "$repo" snapshots --json --host first | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')" \
            "index $(head -n 1 <<< "$indexes")" "key $(head -n 1 <<< "$keys")"; do
  $RESTIC -r "$repo" cat $what > "$WORK/r.json"
  $STASH -r "$repo" cat $what > "$WORK/s.json"
  same_json "cat ${what%% *}" "$WORK/r.json" "$WORK/s.json"
done
tree=$($RESTIC -r "$repo" cat snapshot "$($RESTIC -r "$repo" snapshots --json --host first | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tree"])')
cmp <($RESTIC -r "$repo" cat blob "$tree") <($STASH -r "$repo" cat blob "$tree") || fail "cat blob differs"
pass "cat blob"

$STASH -q -r "$repo" restore latest --host first --target "$WORK/out"
python3 "$HERE/compare_trees.py" "$src" "$WORK/out$src"
$STASH -q -r "$repo" restore "latest:$src/docs" --host first --target "$WORK/out-docs"
python3 "$HERE/compare_trees.py" "$src/docs" "$WORK/out-docs"
# The relative backup keeps its relative shape: src/docs, src/data.
$STASH -q -r "$repo" restore latest --host second --target "$WORK/out-rel"
python3 "$HERE/compare_trees.py" "$src/data" "$WORK/out-rel/src/data"
[ ! -e "$WORK/out-rel/src/small.txt" ] || fail "relative restore has files it should not"
if [ "$version" = 2 ]; then
  $STASH -q -r "$repo" restore latest --host plain --target "$WORK/out-plain"
  python3 "$HERE/compare_trees.py" "$WORK/plain" "$WORK/out-plain$WORK/plain"
  $STASH -q -r "$repo" restore latest --host max --target "$WORK/out-max"
  python3 "$HERE/compare_trees.py" "$WORK/plain" "$WORK/out-max$WORK/plain"
fi
$STASH -r "$repo" check --read-data > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "stash check --read-data"; }
pass "stash check --read-data"

pass "restic v$version repository restored by stash"
