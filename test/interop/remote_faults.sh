#!/usr/bin/env bash
# Faults between stash and a REST server (`rclone serve restic`), injected
# by test/tools/fault_proxy.py: dropped connections, 500 answers, answers
# that stall mid-body and answers lost after the server acted. Transient
# faults are retried and the backup or restore finishes; persistent faults
# fail with one clear line naming the object; either way the repository
# passes `restic check --read-data`.
source "$(dirname "$0")/lib.sh"
source "$HERE/remote_lib.sh"
python3 "$HERE/make_tree.py" "$WORK/src" 7
warm_atimes "$WORK/src"
start_rclone "$WORK/rest"
direct=rest:http://127.0.0.1:$REST_PORT/repo/
$STASH -q -r "$direct" init
# A stalled answer is given up after 2 s; retries start after 50 ms.
export STASH_HTTP_TIMEOUT=2 STASH_HTTP_BACKOFF=50

restic_check() {  # LABEL
  $RESTIC -r "$direct" check --read-data > "$WORK/check.log" 2>&1 ||
    { cat "$WORK/check.log"; fail "$1: restic check --read-data"; }
  pass "$1: restic check --read-data passes"
}

# ---- transient faults of every kind during a backup ----
start_proxy "$REST_PORT" --match ' /repo/' --at 2:drop --at 5:500 --at 8:stall --at 11:lost \
  --at 14:drop --at 17:500
via=rest:http://127.0.0.1:$PROXY_PORT/repo/
$STASH -r "$via" backup "$WORK/src" > "$WORK/out" 2> "$WORK/err" ||
  { cat "$WORK/err"; fail "backup through transient faults"; }
for fault in drop 500 stall lost; do expect_in "$PROXY_LOG" "-> $fault" "backup met a '$fault' fault"; done
expect_in "$WORK/err" "retrying in" "retries are reported"
stop_last_server
restic_check "after transient faults"
[ "$($STASH -r "$direct" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
  fail "the backup did not save exactly one snapshot"

# ---- transient faults on the range reads of a restore ----
start_proxy "$REST_PORT" --match '^GET /repo/data/' --at 1:stall --at 2:500 --at 3:drop --at 5:lost
$STASH -q -r "rest:http://127.0.0.1:$PROXY_PORT/repo/" restore latest --target "$WORK/out-r" 2> "$WORK/err" ||
  { cat "$WORK/err"; fail "restore through transient faults"; }
python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out-r$WORK/src"
for fault in stall 500 drop lost; do expect_in "$PROXY_LOG" "-> $fault" "restore met a '$fault' fault"; done
stop_last_server

# ---- persistent faults on uploads: a clear error, a sound repository ----
python3 "$HERE/make_tree.py" "$WORK/src2" 8  # new data, so there are packs to upload
export STASH_HTTP_RETRIES=3
for fault in 500 drop stall; do
  start_proxy "$REST_PORT" --match '^POST /repo/data/' --every "$fault"
  ! $STASH -r "rest:http://127.0.0.1:$PROXY_PORT/repo/" backup "$WORK/src2" > /dev/null 2> "$WORK/err" ||
    fail "backup succeeded although every upload met '$fault'"
  grep -E "^Fatal: .*rest: data/[0-9a-f]{64}: .*3 attempts\)" "$WORK/err" > /dev/null ||
    { cat "$WORK/err"; fail "persistent '$fault': the error does not name the pack and the attempts"; }
  fatal=$(grep '^Fatal' "$WORK/err" | sed -E 's/[0-9a-f]{64}/<id>/')
  pass "persistent '$fault': $(head -n 1 <<< "$fatal")"
  stop_last_server
  restic_check "after persistent '$fault'"
done

# ---- over a slow link, snapshot files are read several at a time ----
python3 -c '
for i in range(40): print(f"2024-01-01T00:{i:02d}:00Z slow - /data")' > "$WORK/history"
$REPO_TOOL add-snapshots "$WORK/rest/repo" "$RESTIC_PASSWORD" "$WORK/history" > /dev/null
start_proxy "$REST_PORT" --delay-ms 30 --peak-file "$WORK/peak"
$STASH -r "rest:http://127.0.0.1:$PROXY_PORT/repo/" snapshots --json > "$WORK/slow.json" ||
  fail "snapshots over a slow link"
$STASH -r "$direct" snapshots --json > "$WORK/direct.json"
same_json "snapshots over a slow link" "$WORK/direct.json" "$WORK/slow.json"
peak=$(cat "$WORK/peak")
[ "$peak" -ge 4 ] || fail "over a slow link, snapshot files were read $peak at a time"
pass "over a slow link, up to $peak requests at a time"
stop_last_server
# ... and forget removes them several at a time.
start_proxy "$REST_PORT" --match '^DELETE ' --delay-ms 30 --peak-file "$WORK/peak-delete"
$STASH -r "rest:http://127.0.0.1:$PROXY_PORT/repo/" forget -q --host slow --keep-last 1 > /dev/null ||
  fail "forget over a slow link"
[ "$($STASH -r "$direct" snapshots --json --host slow | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
  fail "forget over a slow link did not leave exactly one of its 40 snapshots"
peak=$(cat "$WORK/peak-delete")
[ "$peak" -ge 4 ] || fail "over a slow link, snapshot files were removed $peak at a time"
pass "over a slow link, forget removes up to $peak at a time"
stop_last_server
# ... and check reads the index files several at a time (one backup, one index file).
for i in 1 2 3 4 5 6; do
  mkdir -p "$WORK/idx$i" && echo "index $i" > "$WORK/idx$i/f"
  $STASH -q -r "$direct" backup --host idx "$WORK/idx$i"
done
# check over a proxy that holds the requests MATCH selects 30 ms: they must overlap.
check_overlaps() {  # MATCH WHAT
  start_proxy "$REST_PORT" --match "$1" --delay-ms 30 --peak-file "$WORK/peak-check"
  $STASH -r "rest:http://127.0.0.1:$PROXY_PORT/repo/" check > "$WORK/check.out" 2>&1 ||
    { cat "$WORK/check.out"; fail "check over a slow link"; }
  peak=$(cat "$WORK/peak-check")
  [ "$peak" -ge 4 ] || fail "over a slow link, check read the $2 $peak at a time"
  pass "over a slow link, check reads up to $peak $2 at a time"
  stop_last_server
}
check_overlaps '^GET /repo/index/' "index files"
check_overlaps '^GET /repo/data/' "trees"  # six snapshots: six root trees to start from
# Opening a repository reads the config while it lists the keys.
start_proxy "$REST_PORT" --match '^GET /repo/(config|keys/)' --delay-ms 30 --peak-file "$WORK/peak-open"
$STASH -r "rest:http://127.0.0.1:$PROXY_PORT/repo/" cat config > "$WORK/open.out" 2>&1 ||
  { cat "$WORK/open.out"; fail "cat config over a slow link"; }
peak=$(cat "$WORK/peak-open")
[ "$peak" -ge 2 ] || fail "over a slow link, opening the repository read the config and listed the keys one after the other"
pass "over a slow link, opening the repository reads the config while it lists the keys"
stop_last_server
# ... and tag rewrites several snapshots at a time, each saved before its old file goes.
before=$(ls "$WORK/rest/repo/snapshots" | wc -l)
start_proxy "$REST_PORT" --match '^(POST|DELETE) /repo/snapshots/' --delay-ms 30 --peak-file "$WORK/peak-tag"
$STASH -r "rest:http://127.0.0.1:$PROXY_PORT/repo/" tag --host idx --add slow-tag > "$WORK/tag.out" 2>&1 ||
  { cat "$WORK/tag.out"; fail "tag over a slow link"; }
grep -q "modified tags on 6 snapshots" "$WORK/tag.out" || { cat "$WORK/tag.out"; fail "tag over a slow link: not 6 modified"; }
[ "$($STASH -r "$direct" snapshots --json --tag slow-tag | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 6 ] ||
  fail "tag over a slow link: the 6 snapshots do not all carry the tag"
[ "$(ls "$WORK/rest/repo/snapshots" | wc -l)" = "$before" ] || fail "tag over a slow link left old or lost snapshot files"
peak=$(cat "$WORK/peak-tag")
[ "$peak" -ge 4 ] || fail "over a slow link, tag rewrote snapshots $peak requests at a time"
pass "over a slow link, tag rewrites with up to $peak requests at a time"
stop_last_server
