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

# The same backups, first and then after a change, by both tools into twin
# repositories (same chunker): backup --json counts the same files, folders
# (those leading to the target too), blobs and bytes added. The snapshot
# records those counts as restic 0.17 and later do; 0.18 shows its Size.
(cd "$WORK" && mkdir -p deep/er && cp -a src deep/er/)
$STASH -q -r "$WORK/twin-s" init --repository-version "$version"
$RESTIC -q -r "$WORK/twin-r" init --repository-version "$version" --from-repo "$WORK/twin-s" \
  --copy-chunker-params --from-password-file <(echo "$RESTIC_PASSWORD")
for round in first second; do
  [ $round = second ] && { echo changed > "$WORK/deep/er/src/new-file"; rm -rf "$WORK/deep/er/src/empty-dir"; }
  (cd "$WORK" && $STASH -r "$WORK/twin-s" backup --json deep/er/src) | tail -1 > "$WORK/s-$round.json"
  (cd "$WORK" && $RESTIC -r "$WORK/twin-r" backup --json deep/er/src) | tail -1 > "$WORK/r-$round.json"
  $STASH -r "$WORK/twin-s" snapshots --json latest > "$WORK/s-snap-$round.json"
  python3 - "$WORK/s-$round.json" "$WORK/r-$round.json" "$WORK/s-snap-$round.json" "$round" <<'PY'
import json, sys
ours, theirs, snaps, label = [json.load(open(p)) for p in sys.argv[1:4]] + [sys.argv[4]]
keys = ["files_new", "files_changed", "files_unmodified", "dirs_new", "dirs_changed", "dirs_unmodified",
        "data_blobs", "tree_blobs", "data_added", "total_files_processed", "total_bytes_processed"]
diff = {k: (ours[k], theirs[k]) for k in keys if ours[k] != theirs[k]}
if diff:
    sys.exit(f"FAIL: {label} backup --json counts differ (stash, restic): {diff}")
summary = snaps[0].get("summary")
if not summary or any(summary[k] != ours[k] for k in keys + ["data_added_packed", "backup_start", "backup_end"]):
    sys.exit(f"FAIL: {label} snapshot's summary {summary} is not the backup's {ours}")
if not snaps[0].get("program_version", "").startswith("stash "):
    sys.exit(f"FAIL: program_version {snaps[0].get('program_version')!r}")
print(f"ok: {label} backup counts as restic does and is recorded in the snapshot: {[ours[k] for k in keys]}")
PY
done
if [ "$newer" = newer ]; then
  $RESTIC -r "$WORK/twin-s" snapshots --latest 1 > "$WORK/table.txt"
  size=$(awk '$NF == "B" || $NF ~ /iB$/ { print $(NF-1), $NF }' "$WORK/table.txt" | tail -1)
  [ -n "$size" ] || { cat "$WORK/table.txt"; fail "restic 0.18 shows no Size for stash's snapshot"; }
  pass "restic 0.18 shows the Size of stash's snapshot: $size"
fi
