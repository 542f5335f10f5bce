#!/usr/bin/env bash
# dump, find, diff, tag and copy of stash against restic 0.14 on the same
# repository: byte-identical output where restic's is deterministic; for
# tag and copy, restic reads what stash wrote (check --read-data, the same
# snapshots apart from their ids).
source "$(dirname "$0")/lib.sh"
command -v "$RESTIC" > /dev/null || { echo "SKIP: restic not installed"; exit 77; }
repo=$WORK/repo
src=$WORK/src
long=$src/$(printf 'd%.0s' {1..60})/$(printf 'e%.0s' {1..70})
mkdir -p "$src/a/b" "$src/c" "$long"
echo hello > "$src/a/f1.txt"
echo World > "$src/a/b/F2.TXT"
ln -s f1.txt "$src/a/link"
printf 'xyz' > "$src/c/g"
head -c 300000 /dev/urandom > "$src/c/big"
echo deep > "$long/$(printf 'f%.0s' {1..90})"
echo umlaut > "$src/a/Grüße.txt"
warm_atimes "$src"
$RESTIC init -q --repo "$repo"
$RESTIC -r "$repo" backup -q --host h1 --tag t1 "$src"
echo more >> "$src/a/f1.txt"
rm "$src/c/g"
mkdir "$src/d" && echo n > "$src/d/new"
chmod 700 "$src/a/b"
warm_atimes "$src"
$RESTIC -r "$repo" backup -q --host h1 "$src"
mapfile -t ids < <($RESTIC -r "$repo" snapshots --json | python3 -c 'import json,sys; [print(s["id"]) for s in json.load(sys.stdin)]')
[ "${#ids[@]}" = 2 ] || fail "expected 2 snapshots"
root=${src#/}

# Runs both tools with the same arguments; stdout, stderr and exit codes
# must be identical.
both() {  # LABEL ARGS...
  local label=$1 rc_r=0 rc_s=0
  shift
  $RESTIC -r "$repo" "$@" > "$WORK/r.out" 2> "$WORK/r.err" || rc_r=$?
  $STASH -r "$repo" "$@" > "$WORK/s.out" 2> "$WORK/s.err" || rc_s=$?
  [ "$rc_r" = "$rc_s" ] || fail "$label: exit $rc_s, restic $rc_r ($(cat "$WORK/s.err"))"
  cmp -s "$WORK/r.out" "$WORK/s.out" || { diff "$WORK/r.out" "$WORK/s.out" | head -20; fail "$label: stdout differs"; }
  cmp -s "$WORK/r.err" "$WORK/s.err" || { diff "$WORK/r.err" "$WORK/s.err" | head -5; fail "$label: stderr differs"; }
  pass "$label"
}

# ---- dump ----
both "dump file" dump latest "/$root/a/f1.txt"
both "dump big file" dump "${ids[0]}" "/$root/c/big"
both "dump folder as tar" dump latest "/$root/a"
both "dump folder with long names as tar" dump latest "/$root"
both "dump snapshot as tar" dump "${ids[0]}" /
both "dump relative path" dump latest "$root/a/"
both "dump missing path" dump latest "/$root/nope"
both "dump symlink" dump latest "/$root/a/link"
both "dump with --host" dump --host h1 latest "/$root/d/new"
both "dump snapshot as zip" dump --archive zip "${ids[0]}" /
both "dump folder as zip" dump -a zip latest "/$root"
$STASH -r "$repo" dump -a zip latest "/$root" > "$WORK/s.zip"
if command -v unzip > /dev/null; then
  unzip -tq "$WORK/s.zip" > /dev/null || fail "unzip -t of stash's zip"
fi
out=$($STASH -r "$repo" dump latest "/$root/a" | tar -tf -)
[[ "$out" == *"a/b/F2.TXT"* ]] || fail "tar from dump does not list a/b/F2.TXT"
rc=0; $STASH -r "$repo" dump --archive cpio latest / > /dev/null 2> "$WORK/err" || rc=$?
[ "$rc" = 1 ] && grep -q 'unknown archive format "cpio"' "$WORK/err" || fail "dump --archive cpio: exit $rc"
pass "dump --archive cpio refused"

# ---- find (one snapshot at a time: restic's order over several varies) ----
for id in "${ids[@]}"; do
  both "find name ${id:0:8}" find -s "$id" f1.txt
  both "find glob --long ${id:0:8}" find -s "$id" -l '*.txt'
  both "find --ignore-case --json ${id:0:8}" find -s "$id" --json -i 'f2*' '*.TXT'
  both "find folder ${id:0:8}" find -s "$id" "/$root/a"
  both "find subpath ${id:0:8}" find -s "$id" 'a/b'
  both "find long symlink ${id:0:8}" find -s "$id" -l link
  both "find json symlink ${id:0:8}" find -s "$id" --json link '*.TXT'
  both "find --oldest ${id:0:8}" find -s "$id" --oldest 2000-01-01 '*'
  both "find --newest ${id:0:8}" find -s "$id" --newest '2000-01-01 00:00' '*'
done
both "find no match" find nomatch
both "find no match --json" find --json nomatch
both "find latest --host" find -s latest --host h1 new

# ---- diff ----
both "diff" diff "${ids[0]}" "${ids[1]}"
both "diff reversed" diff "${ids[1]}" "${ids[0]}"
both "diff --metadata" diff --metadata "${ids[0]}" "${ids[1]}"
both "diff --json --metadata" diff --json --metadata "${ids[0]}" "${ids[1]}"
both "diff same snapshot" diff "${ids[0]}" "${ids[0]:0:8}"

# ---- restore: --iinclude/--iexclude, --verify, --host/--tag for latest ----
restore_both() {  # LABEL FIND-TYPE ARGS...
  local label=$1 type=$2 rc_r=0 rc_s=0
  shift 2
  rm -rf "$WORK/rr" "$WORK/rs"
  $RESTIC -r "$repo" restore "$@" --target "$WORK/rr" > "$WORK/r.out" 2> "$WORK/r.err" || rc_r=$?
  $STASH -r "$repo" restore "$@" --target "$WORK/rs" > "$WORK/s.out" 2> "$WORK/s.err" || rc_s=$?
  [ "$rc_r" = "$rc_s" ] || fail "restore $label: exit $rc_s, restic $rc_r ($(cat "$WORK/s.err"))"
  (cd "$WORK/rr" 2>/dev/null && find . $type | sort || true) > "$WORK/r.list"
  (cd "$WORK/rs" 2>/dev/null && find . $type | sort || true) > "$WORK/s.list"
  cmp -s "$WORK/r.list" "$WORK/s.list" || { diff "$WORK/r.list" "$WORK/s.list"; fail "restore $label: other files"; }
  while read -r f; do
    [ ! -f "$WORK/rr/$f" ] || cmp -s "$WORK/rr/$f" "$WORK/rs/$f" || fail "restore $label: $f differs"
  done < "$WORK/r.list"
  pass "restore $label"
}
# Folders only on the way to an included file: stash creates them, restic
# does not (a restorer difference outside these flags), so --iinclude
# compares files.
restore_both "--iinclude" "-type f" --iinclude '*.txt' latest
restore_both "--iinclude with --include" "-type f" --iinclude "/${root^^}/A/B" --include '*/f1.txt' latest
restore_both "--iexclude" "" --iexclude 'f2*' --iexclude "/${root^^}/C" latest
restore_both "--iexclude with --include" "" --iexclude x --include y latest
restore_both "--host/--tag pick latest" "" --host h1 --tag t1 latest
restore_both "--path picks latest" "" --path "$src" latest
restore_both "--verify" "" --verify latest
# restic 0.14 wraps the snapshot in "<Snapshot ...>"; stash prints restic 0.18's words.
sed -E 's/ \(took .*\)$//; s/^restoring <Snapshot (.*)> to /restoring snapshot \1 to /' "$WORK/r.out" > "$WORK/r.v"
sed 's/ (took .*)$//' "$WORK/s.out" > "$WORK/s.v"
sed -i "s#$WORK/rr#TARGET#" "$WORK/r.v"; sed -i "s#$WORK/rs#TARGET#" "$WORK/s.v"
cmp -s "$WORK/r.v" "$WORK/s.v" || { diff "$WORK/r.v" "$WORK/s.v"; fail "restore --verify messages"; }
pass "restore --verify messages (and the restoring line) as restic's"

# ---- tag: the same changes on two copies ----
snapshots_without_ids() {  # REPO OUT
  $RESTIC -r "$1" snapshots --json | python3 -c '
import json, sys
l = json.load(sys.stdin)
for s in l:
    s.pop("id"); s.pop("short_id")
print(json.dumps(sorted(l, key=lambda s: s["time"]), sort_keys=True))' > "$2"
}
cp -a "$repo" "$WORK/tag-r"
cp -a "$repo" "$WORK/tag-s"
tag_both() {  # LABEL ARGS...
  local label=$1 rc_r=0 rc_s=0
  shift
  $RESTIC -r "$WORK/tag-r" tag "$@" > "$WORK/r.out" 2> "$WORK/r.err" || rc_r=$?
  $STASH -r "$WORK/tag-s" tag "$@" > "$WORK/s.out" 2> "$WORK/s.err" || rc_s=$?
  [ "$rc_r" = "$rc_s" ] || fail "tag $label: exit $rc_s, restic $rc_r"
  cmp -s "$WORK/r.out" "$WORK/s.out" || { diff "$WORK/r.out" "$WORK/s.out"; fail "tag $label: stdout differs"; }
  cmp -s "$WORK/r.err" "$WORK/s.err" || { diff "$WORK/r.err" "$WORK/s.err"; fail "tag $label: stderr differs"; }
  snapshots_without_ids "$WORK/tag-r" "$WORK/r.json"
  snapshots_without_ids "$WORK/tag-s" "$WORK/s.json"
  same_json "tag $label: snapshots" "$WORK/r.json" "$WORK/s.json"
}
tag_both "nothing to do"
tag_both "--set with --add" --set a --add b
tag_both "--add to one" --add x,y "${ids[0]:0:8}"
tag_both "--remove and --add" --remove t1 --add x
tag_both "unchanged" --add x
tag_both "quiet" -q --add z
tag_both "unknown id" --add q nonexist
tag_both "--set empty" --set ""
tag_both "--set with spaces" --set " a, b,,c" --host h1
tag_both "--remove reorders" --remove b,a --add k,l,m
tag_both "--remove middle" --remove l
$RESTIC -r "$WORK/tag-s" check --read-data > "$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; fail "restic check of stash's tags"; }
pass "restic check --read-data after stash tag"

# ---- copy ----
echo "$RESTIC_PASSWORD" > "$WORK/pw"
$RESTIC init -q --repo "$WORK/copy-r"
$RESTIC init -q --repo "$WORK/copy-s"
$RESTIC -r "$WORK/copy-r" copy -q --from-repo "$repo" --from-password-file "$WORK/pw" "${ids[0]}"
$STASH -r "$WORK/copy-s" copy -q --from-repo "$repo" --from-password-file "$WORK/pw" --from-key-hint "$(ls "$repo/keys" | head -n 1)" "${ids[0]}"
$RESTIC -r "$WORK/copy-r" copy -q --from-repo "$repo" --from-password-file "$WORK/pw"
RESTIC_FROM_PASSWORD=$RESTIC_PASSWORD RESTIC_FROM_REPOSITORY=$repo $STASH -r "$WORK/copy-s" copy > "$WORK/copy.out"
grep -q "skipping source snapshot ${ids[0]:0:8}, was already copied to snapshot" "$WORK/copy.out" || { cat "$WORK/copy.out"; fail "second copy did not skip the first snapshot"; }
snapshots_without_ids "$WORK/copy-r" "$WORK/r.json"
snapshots_without_ids "$WORK/copy-s" "$WORK/s.json"
same_json "copy: snapshots" "$WORK/r.json" "$WORK/s.json"
$RESTIC -r "$WORK/copy-s" check --read-data > "$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; fail "restic check of stash's copy"; }
pass "restic check --read-data after stash copy"
$RESTIC -r "$WORK/copy-s" restore latest --target "$WORK/restored" > /dev/null
diff -r "$src" "$WORK/restored$src" || fail "restore of the copied snapshot differs"
pass "copied snapshot restores"
rc=0; $STASH -r "$WORK/copy-s" copy > /dev/null 2> "$WORK/err" || rc=$?
[ "$rc" = 1 ] && grep -q "Please specify a source repository location" "$WORK/err" || fail "copy without --from-repo: exit $rc"
pass "copy without --from-repo refused"
echo "all commands-vs-restic checks passed"
