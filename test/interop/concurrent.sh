#!/usr/bin/env bash
# stash and restic working on one repository at the same time do not
# corrupt it: concurrent backups by both succeed and check clean, and an
# exclusive operation (prune, forget) by either refuses while the other
# holds a lock, leaving the repository intact.
source "$(dirname "$0")/lib.sh"
repo=$WORK/repo
$STASH -q -r "$repo" init
for t in a b; do
  python3 "$HERE/make_tree.py" "$WORK/$t" $([ $t = a ] && echo 1 || echo 2)
  mkdir -p "$WORK/$t/bulk"
done

for round in 1 2 3; do
  for t in a b; do head -c 20000000 /dev/urandom > "$WORK/$t/bulk/r$round"; done
  $RESTIC -q -r "$repo" backup "$WORK/a" --host restic & rpid=$!
  $STASH -q -r "$repo" backup "$WORK/b" --host stash & spid=$!
  wait $rpid || fail "restic backup in round $round"
  wait $spid || fail "stash backup in round $round"
done
$RESTIC -r "$repo" check --read-data > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "check after concurrent backups"; }
pass "3 rounds of concurrent restic and stash backups"

for t in a b; do
  host=$([ $t = a ] && echo restic || echo stash)
  rm -rf "$WORK/out"
  $STASH -q -r "$repo" restore latest --host $host --target "$WORK/out"
  python3 "$HERE/compare_trees.py" "$WORK/$t" "$WORK/out$WORK/$t" > /dev/null || fail "restore of the $host snapshot"
done
pass "both latest snapshots restore identically"

# A long restic backup holds a shared lock: stash prune must refuse.
head -c 300000000 /dev/urandom > "$WORK/a/bulk/huge"
$RESTIC -q -r "$repo" backup "$WORK/a" --host restic & rpid=$!
locked() { [ -n "$(ls "$repo/locks")" ]; }
wait_until 60 locked || fail "restic backup took no lock"
# Repository files only: restic writes each file under a temporary name and
# renames it, so a temporary file may rightly vanish between the two looks.
repo_files() { find "$repo" -type f -not -path "*/locks/*" -regextype egrep -regex '.*/([0-9a-f]{64}|config)' | sort; }
repo_files > "$WORK/before"
rc=0; $STASH -r "$repo" prune 2> "$WORK/err" || rc=$?
repo_files > "$WORK/after"
kill -0 $rpid 2>/dev/null || echo "note: restic finished before prune ran"
wait $rpid || fail "restic backup while stash prune was refused"
[ $rc -ne 0 ] && grep -q "locked" "$WORK/err" || { cat "$WORK/err"; fail "stash prune ran while restic held a lock"; }
# restic is still writing, so files may appear; none may disappear.
[ -z "$(comm -23 "$WORK/before" "$WORK/after")" ] || fail "the refused prune removed files"
pass "stash prune refused while restic backed up: $(head -n 1 "$WORK/err")"

# And the other way round: restic prune refuses while stash backs up.
head -c 300000000 /dev/urandom > "$WORK/b/bulk/huge"
$STASH -q -r "$repo" backup "$WORK/b" --host stash & spid=$!
wait_until 60 locked || fail "stash backup took no lock"
rc=0; $RESTIC -r "$repo" prune > "$WORK/out.log" 2>&1 || rc=$?
wait $spid || fail "stash backup while restic prune was refused"
[ $rc -ne 0 ] && grep -q "locked" "$WORK/out.log" || { cat "$WORK/out.log"; fail "restic prune ran while stash held a lock"; }
pass "restic prune refused while stash backed up"
$RESTIC -r "$repo" check > /dev/null 2>&1 || fail "final check"
