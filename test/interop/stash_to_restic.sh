#!/usr/bin/env bash
# A repository written by stash passes `restic check --read-data`, lists and
# restores identically with restic, and a backup of the same tree by restic
# adds no data and no tree blobs (same chunks, byte-identical trees).
# usage: stash_to_restic.sh REPOSITORY-VERSION [newer]
# With "newer" the reader is restic 0.18.1 rather than 0.14 (use_newer_restic).
source "$(dirname "$0")/lib.sh"
version=${1:?version}
newer=${2:-}
[ "$newer" = newer ] && use_newer_restic
src=$WORK/src repo=$WORK/repo
python3 "$HERE/make_tree.py" "$src" 7
warm_atimes "$src"
$STASH -q -r "$repo" init --repository-version "$version"
$STASH -q -r "$repo" backup "$src" --tag nightly
$RESTIC -r "$repo" check --read-data > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "restic check"; }
pass "restic check --read-data"

$RESTIC -r "$repo" snapshots --json > "$WORK/r.json"
$STASH -r "$repo" snapshots --json > "$WORK/s.json"
same_json "snapshots --json" "$WORK/r.json" "$WORK/s.json"
$RESTIC -r "$repo" ls --json latest > "$WORK/r.jsonl"
$STASH -r "$repo" ls --json latest > "$WORK/s.jsonl"
[ "$newer" = newer ] && drop_keys "$WORK/r.jsonl" message_type inode
same_json "ls --json" "$WORK/r.jsonl" "$WORK/s.jsonl"

$RESTIC -q -r "$repo" restore latest --target "$WORK/out"
python3 "$HERE/compare_trees.py" "$src" "$WORK/out$src"

# Relative targets keep /tmp (which changes all the time) out of the tree.
(cd "$WORK" && $STASH -q -r "$repo" backup src --host same)
(cd "$WORK" && $RESTIC -r "$repo" backup --force --json src --host same) > "$WORK/restic-backup.jsonl"
python3 - "$WORK/restic-backup.jsonl" <<'PY'
import json, sys
summary = [json.loads(l) for l in open(sys.argv[1]) if '"summary"' in l][-1]
if summary["data_blobs"] != 0:
    sys.exit(f"FAIL: restic stored {summary['data_blobs']} new data blobs: chunking or blob ids differ")
print("ok: restic found every data blob stash wrote")
if summary["tree_blobs"] != 0:
    sys.exit(f"FAIL: restic stored {summary['tree_blobs']} new tree blobs: tree JSON differs")
print("ok: restic produced byte-identical trees")
PY
$RESTIC -r "$repo" check > /dev/null 2>&1 || fail "restic check after restic's own backup"
pass "stash v$version repository accepted by restic"
