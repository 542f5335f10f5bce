#!/usr/bin/env bash
# A restore never writes outside its target, whatever names and symlinks a
# (hostile or corrupt) tree holds.
source "$(dirname "$0")/lib.sh"
REPO_TOOL=${REPO_TOOL:?REPO_TOOL must point at repo_tool}
repo=$WORK/repo outside=$WORK/outside target=$WORK/jail/target
mkdir -p "$outside" "$target"
$STASH -q -r "$repo" init
id=$("$REPO_TOOL" hostile-snapshot "$repo" "$RESTIC_PASSWORD" "$outside")
rc=0
$STASH -q -r "$repo" restore "$id" --target "$target" 2> "$WORK/err" || rc=$?
cat "$WORK/err"
[ "$rc" -ne 0 ] || fail "restore of a hostile tree reported success"
[ -z "$(ls -A "$outside")" ] || fail "restore wrote into $outside: $(ls -A "$outside")"
[ ! -e "$WORK/jail/escaped" ] && [ ! -e "$WORK/escaped" ] && [ ! -e "$WORK/escaped-slash" ] \
  || fail "restore escaped the target"
[ "$(find "$WORK" -name 'escaped*' | wc -l)" -eq 0 ] || fail "found escaped files: $(find "$WORK" -name 'escaped*')"
[ "$(cat "$target/ok.txt")" = "pwned" ] || fail "the harmless file was not restored"
[ -L "$target/link" ] || fail "the symlink itself should be restored"
pass "hostile tree restored without leaving the target"
