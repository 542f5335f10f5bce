#!/usr/bin/env bash
# Bad input gets one clear error that names the thing, a non-zero exit, and
# leaves the repository exactly as it was.
source "$(dirname "$0")/lib.sh"
REPO_TOOL=${REPO_TOOL:?REPO_TOOL must point at repo_tool}
src=$WORK/src base=$WORK/base
mkdir -p "$src"
head -c 2000000 /dev/urandom > "$src/file.bin"
echo small > "$src/small.txt"
$STASH -q -r "$base" init
for i in $(seq 1 18); do $STASH -q -r "$base" backup "$src" --host "h$i"; done
chmod -R u+w "$base"

fingerprint() { (cd "$1" && find . -type f -printf '%p %s %m\n' | sort && find . -type f -exec cat {} + | sha256sum); }

# expect_error NAME PATTERN REPO -- stash args...: fails with one line that
# matches PATTERN, and REPO is unchanged.
expect_error() {
  local name=$1 pattern=$2 repo=$3; shift 4
  local before after rc=0
  before=$(fingerprint "$repo")
  "$STASH" -r "$repo" "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
  after=$(fingerprint "$repo")
  [ "$rc" -ne 0 ] || fail "$name: exit code 0"
  [ "$(grep -c . "$WORK/err")" -eq 1 ] || { cat "$WORK/err"; fail "$name: want exactly one error line"; }
  grep -qE -- "$pattern" "$WORK/err" || { cat "$WORK/err"; fail "$name: message does not match /$pattern/"; }
  [ "$before" = "$after" ] || fail "$name: the repository changed"
  pass "$name: $(cat "$WORK/err")"
}

# expect_damage NAME PATTERN REPO -- stash restore args...: a restore that
# meets missing or broken repository data goes on (as restic's does): one
# "ignoring error for ..." line per damaged file or folder, some matching
# PATTERN, then "Fatal: There were N errors"; REPO is unchanged.
expect_damage() {
  local name=$1 pattern=$2 repo=$3; shift 4
  local before after rc=0
  before=$(fingerprint "$repo")
  "$STASH" -r "$repo" "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
  after=$(fingerprint "$repo")
  [ "$rc" -ne 0 ] || fail "$name: exit code 0"
  local lines errors
  lines=$(grep -c . "$WORK/err" || true)
  errors=$(grep -c "^ignoring error for " "$WORK/err" || true)
  [ "$errors" -ge 1 ] && [ "$lines" -eq $((errors + 1)) ] || { cat "$WORK/err"; fail "$name: want 'ignoring error' lines and one summary"; }
  grep -qx "Fatal: There were $errors errors" "$WORK/err" || { cat "$WORK/err"; fail "$name: no 'There were $errors errors'"; }
  grep -qE -- "$pattern" "$WORK/err" || { cat "$WORK/err"; fail "$name: message does not match /$pattern/"; }
  [ "$before" = "$after" ] || fail "$name: the repository changed"
  pass "$name: $(head -n 1 "$WORK/err")"
}

fresh() { rm -rf "$WORK/r"; cp -a "$base" "$WORK/r"; chmod -R u+w "$WORK/r"; echo "$WORK/r"; }
first() { local files; files=$(find "$1/$2" -type f | sort); head -n 1 <<< "$files"; }
# A pack of more than 1 MB (its first block is data, not the header).
big_pack() { local packs; packs=$(find "$1/data" -type f -size +1000k); head -n 1 <<< "$packs"; }
flip() { python3 -c "
import sys; p, off = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p,'rb').read())
b[off % len(b)] ^= 0x40; open(p,'wb').write(b)" "$1" "$2"; }

RESTIC_PASSWORD=wrong expect_error "wrong password" "wrong password" "$base" -- snapshots
expect_error "no repository" "no repository at $WORK/none" "$base" -- -r "$WORK/none" snapshots

r=$(fresh); snap=$(first "$r" snapshots)
flip "$snap" 40
expect_error "flipped byte in a snapshot" "snapshots/$(basename "$snap")" "$r" -- snapshots
r=$(fresh); snap=$(first "$r" snapshots)
truncate -s 20 "$snap"
expect_error "truncated snapshot" "snapshots/$(basename "$snap")" "$r" -- snapshots

r=$(fresh); idx=$(first "$r" index)
flip "$idx" 100
expect_error "flipped byte in an index" "index/$(basename "$idx")" "$r" -- restore latest --target "$WORK/t1"
r=$(fresh); rm "$r"/index/*
expect_damage "missing index files" "not found in index" "$r" -- restore latest --target "$WORK/t2"

r=$(fresh); pack=$(big_pack "$r")
flip "$pack" 5000
expect_damage "flipped byte in a pack" "$(basename "$pack")" "$r" -- restore latest --target "$WORK/t3"
r=$(fresh); pack=$(big_pack "$r")
truncate -s 1000 "$pack"
expect_damage "truncated pack" "$(basename "$pack")" "$r" -- restore latest --target "$WORK/t4"
r=$(fresh); pack=$(big_pack "$r")
rm "$pack"
expect_damage "missing pack" "$(basename "$pack")" "$r" -- restore latest --target "$WORK/t5"

r=$(fresh)
"$REPO_TOOL" set-config-version "$r" "$RESTIC_PASSWORD" 3
expect_error "unknown repository version" "unsupported repository version 3" "$r" -- snapshots

expect_error "unknown snapshot id" "no snapshot found with id \"deadbeef\"" "$base" -- restore deadbeef --target "$WORK/t6"
prefixes=$(ls "$base/snapshots" | cut -c1 | sort | uniq -d)
prefix=$(head -n 1 <<< "$prefixes")
expect_error "ambiguous snapshot prefix" "prefix \"$prefix\" is ambiguous" "$base" -- ls "$prefix"
expect_error "invalid snapshot id" "invalid snapshot id" "$base" -- ls "not-hex!"
expect_error "latest with no match" "no snapshot found" "$base" -- restore latest --host nobody --target "$WORK/t7"
expect_error "missing subfolder" "not found in snapshot" "$base" -- restore latest:/nope --target "$WORK/t8"
expect_error "unknown flag" "unknown flag" "$base" -- snapshots --frobnicate
pass "all bad inputs rejected cleanly"
