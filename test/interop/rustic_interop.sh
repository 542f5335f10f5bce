#!/usr/bin/env bash
# stash and rustic 0.11.4 on one repository. rustic writes the restic format
# with its own habits (no locks/ folder, snapshots with `parents` and its own
# summary); stash reads, checks, restores and writes there, and rustic
# checks and restores what stash wrote.
#
# rustic takes 10 to 20 minutes to build, too long for every test run: this
# test runs where bench/peers.sh has built it (the benchmarks do) and
# reports SKIP elsewhere.
source "$(dirname "$0")/lib.sh"
peers_err=$WORK/peers.err
RUSTIC=$(bash "$HERE/../../bench/peers.sh" --only rustic --no-build 2> "$peers_err" |
  awk -F'\t' '$1 ~ /^rustic / { print $2 }')
if [ -z "$RUSTIC" ]; then
  echo "SKIP: $(grep -m1 'rustic' "$peers_err" || echo 'rustic is not built') (bash bench/peers.sh --only rustic builds it)"
  exit 77
fi
echo "rustic: $("$RUSTIC" --version)"
export RUSTIC_PASSWORD=$RESTIC_PASSWORD
export XDG_CONFIG_HOME=$WORK/config XDG_CACHE_HOME=$WORK/cache  # no profile, cache in $WORK
rustic() { "$RUSTIC" -r "$repo" --no-progress "$@" 2> "$WORK/rustic.err" || { cat "$WORK/rustic.err"; return 1; }; }
src=$WORK/src repo=$WORK/repo
python3 "$HERE/make_tree.py" "$src" 5
rustic init > /dev/null
[ ! -e "$repo/locks" ] || echo "note: this rustic made a locks/ folder"
(cd "$WORK" && rustic backup src > /dev/null)
echo "second backup" > "$src/changed.txt"
(cd "$WORK" && rustic backup src > /dev/null)

[ "$($STASH -r "$repo" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
  fail "stash does not list rustic's two snapshots"
$STASH -r "$repo" check --read-data > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "stash check of rustic's repository"; }
pass "stash check --read-data of rustic's repository"
$STASH -q -r "$repo" restore latest --target "$WORK/out"
python3 "$HERE/compare_trees.py" "$src" "$WORK/out/src"
pass "stash restores rustic's snapshot"

# stash writes: its lock needs the folder rustic did not make.
echo "third backup" > "$src/changed.txt"
(cd "$WORK" && $STASH -q -r "$repo" backup src --host stash)
$STASH -r "$repo" forget -q --keep-last 1 --prune > /dev/null || fail "stash forget --prune"
[ -z "$(ls "$repo/locks")" ] || fail "stash left a lock behind"
# Without rustic's cache: two of its threads fetching one pack race on the
# cache's temporary file name and warn ("Failed to move ...-tmp-"), which
# says nothing of the repository.
rustic --no-cache check --read-data > /dev/null || fail "rustic check after stash's backup and prune"
grep -E '^\[(ERROR|WARN)' "$WORK/rustic.err" && fail "rustic check complains"
pass "rustic check --read-data after stash's backup, forget and prune"
id=$($STASH -r "$repo" snapshots --json --host stash | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
rustic restore "$id" "$WORK/out-rustic" > /dev/null
python3 "$HERE/compare_trees.py" "$src" "$WORK/out-rustic/src"
pass "rustic restores stash's snapshot"
