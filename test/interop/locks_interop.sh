#!/usr/bin/env bash
# Locks work across the two programs: each sees, reports and honours the
# other's lock files, and each one's `unlock` clears the other's stale ones.
#
# To hold a lock for as long as we like, we use a real command that locks
# first and then waits: `key add` (shared lock) and `key passwd`
# (exclusive) read the new password from a FIFO we keep open.
source "$(dirname "$0")/lib.sh"
repo=$WORK/repo
host=$(hostname)
$RESTIC init -q -r "$repo"
mkdir -p "$WORK/src" && echo data > "$WORK/src/f"
$STASH -r "$repo" backup -q "$WORK/src"
other_key=$(ls "$repo/keys")  # keys added below come and go; this one stays current

locks() { ls "$repo/locks"; }
locked() { [ -n "$(locks)" ]; }

# hold TOOL SUBCOMMAND: starts `TOOL -r repo key SUBCOMMAND` and returns once
# its lock file is there; it waits for a password on fd 3.
hold() {
  rm -f "$WORK/fifo" && mkfifo "$WORK/fifo"
  "$1" -r "$repo" key "$2" < "$WORK/fifo" > "$WORK/holder.out" 2>&1 &
  holder=$!
  exec 3> "$WORK/fifo"
  wait_until 30 locked || true  # the count below says what went wrong
  [ "$(locks | wc -l)" = 1 ] || fail "$1 key $2 did not create exactly one lock"
}
# finish PASSWORD: lets the holder complete and checks it succeeded.
finish() {
  echo "$1" >&3
  exec 3>&-
  wait "$holder" || { cat "$WORK/holder.out"; fail "holder failed"; }
}
# Kills the holder as a crash would, leaving its lock file behind.
crash() {
  kill -9 "$holder"
  exec 3>&-
  wait "$holder" 2>/dev/null || true
}
# expect_locked OUTPUT-FILE WORDS...: the command failed naming the holder.
expect_locked() {
  local out=$1 how=$2
  grep -qF "repository is already locked ${how}by PID $holder on $host by " "$out" ||
    { cat "$out"; fail "no 'already locked ${how}by PID $holder' message"; }
}

# --- stash's shared lock, seen by restic ---
hold "$STASH" add
id=$(locks)
[ "$($RESTIC --no-lock -r "$repo" list locks)" = "$id" ] || fail "restic lists a different lock"
$RESTIC --no-lock -r "$repo" cat lock "$id" > "$WORK/lock.json"
python3 - "$WORK/lock.json" "$holder" "$host" "$(id -un)" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
pid, host, user = int(sys.argv[2]), sys.argv[3], sys.argv[4]
assert lock["exclusive"] is False and lock["pid"] == pid, lock
assert lock["hostname"] == host and lock["username"] == user, lock
assert set(lock) <= {"time", "exclusive", "hostname", "username", "pid", "uid", "gid"}, lock
print("ok: restic decrypts stash's lock file")
PY
rc=0; $RESTIC -r "$repo" forget --keep-last 1 > "$WORK/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "restic forget ran while stash held a lock"
expect_locked "$WORK/out" ""
rc=0; $RESTIC -r "$repo" prune > "$WORK/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "restic prune ran while stash held a lock"
expect_locked "$WORK/out" ""
$RESTIC -r "$repo" backup -q "$WORK/src" || fail "restic backup must share stash's shared lock"
finish second-password
[ -z "$(locks)" ] || fail "stash left its lock behind"
pass "restic honours stash's shared lock"

# --- stash's exclusive lock; after a crash restic unlock clears it ---
hold "$STASH" passwd
rc=0; $RESTIC -r "$repo" backup -q "$WORK/src" > "$WORK/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "restic backup ran while stash held an exclusive lock"
expect_locked "$WORK/out" "exclusively "
crash
rc=0; $RESTIC -r "$repo" backup -q "$WORK/src" > "$WORK/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "restic 0.14 must not skip a stale lock by itself"
out=$($RESTIC -r "$repo" unlock) && grep -q "successfully removed locks" <<< "$out" || fail "restic unlock"
[ -z "$(locks)" ] || fail "restic unlock left stash's stale lock"
pass "restic honours stash's exclusive lock and removes it once stale"

# --- restic's shared lock, seen by stash ---
hold "$RESTIC" add
rc=0; $STASH -r "$repo" key remove "$other_key" > "$WORK/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "stash key remove ran while restic held a lock"
expect_locked "$WORK/out" ""
[ "$(wc -l < "$WORK/out")" = 1 ] && grep -q '^Fatal: unable to create lock in backend: ' "$WORK/out" ||
  { cat "$WORK/out"; fail "the conflict must be one Fatal line"; }
$STASH -r "$repo" key list > /dev/null || fail "stash key list must share restic's shared lock"
out=$($STASH -r "$repo" unlock) && grep -q "successfully removed 0 locks" <<< "$out" || fail "a live lock is not stale"
finish third-password
pass "stash honours restic's shared lock"

# --- restic's exclusive lock; after a crash stash unlock clears it ---
hold "$RESTIC" passwd
rc=0; $STASH -r "$repo" stats > "$WORK/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "stash stats ran while restic held an exclusive lock"
expect_locked "$WORK/out" "exclusively "
$STASH --no-lock -r "$repo" stats --json > /dev/null || fail "--no-lock must not look at locks"
crash
rc=0; $STASH -r "$repo" key list > "$WORK/out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "a stale lock must still block, as in restic 0.14"
grep -q "the \`unlock\` command can be used to remove stale locks" "$WORK/out" || fail "no unlock hint"
out=$($STASH -r "$repo" unlock) && grep -q "successfully removed 1 locks" <<< "$out" || fail "stash unlock"
[ -z "$(locks)" ] || fail "stash unlock left restic's stale lock"
$STASH -r "$repo" key list > /dev/null || fail "stash key list after unlock"
pass "stash honours restic's exclusive lock and removes it once stale"

# --- unlock --remove-all takes live locks too ---
hold "$RESTIC" add
out=$($STASH -r "$repo" unlock --remove-all) && grep -q "successfully removed 1 locks" <<< "$out" ||
  fail "--remove-all"
[ -z "$(locks)" ] || fail "--remove-all left a lock"
crash
pass "stash unlock --remove-all"
