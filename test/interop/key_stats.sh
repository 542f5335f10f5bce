#!/usr/bin/env bash
# `key` and `stats` against restic on one repository (format $1, default 2):
# keys either program adds open the repository in the other, both list the
# same keys the same way, and `stats` gives restic's numbers in every mode
# for snapshots both programs made.
source "$(dirname "$0")/lib.sh"
version=${1:-2}
repo=$WORK/repo
$RESTIC init -q -r "$repo" --repository-version "$version"
first_key=$(ls "$repo/keys")

# must_fail NAME WORD CMD...: exits non-zero with one "Fatal: ..." line naming WORD.
must_fail() {
  local name=$1 word=$2 rc=0
  shift 2
  "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
  [ $rc -ne 0 ] || fail "$name: exit code 0"
  [ "$(wc -l < "$WORK/err")" = 1 ] && grep -q "^Fatal: .*$word" "$WORK/err" ||
    { cat "$WORK/err"; fail "$name: want one Fatal line naming $word"; }
}
# Both programs list the keys identically, as a table and as JSON.
same_key_lists() {  # PASSWORD
  RESTIC_PASSWORD=$1 $RESTIC -r "$repo" key list > "$WORK/rk.txt"
  RESTIC_PASSWORD=$1 $STASH -r "$repo" key list > "$WORK/sk.txt"
  diff "$WORK/rk.txt" "$WORK/sk.txt" || fail "key list tables differ"
  RESTIC_PASSWORD=$1 $RESTIC -r "$repo" key list --json > "$WORK/rk.json"
  RESTIC_PASSWORD=$1 $STASH -r "$repo" key list --json > "$WORK/sk.json"
  same_json "key list --json" "$WORK/rk.json" "$WORK/sk.json"
}

# --- keys ---
printf '  second\n' > "$WORK/pw2"  # restic trims white space from this file
out=$($STASH -r "$repo" key add --new-password-file "$WORK/pw2" --user alice --host h1) &&
  grep -q "saved new key" <<< "$out" || fail "stash key add"
RESTIC_PASSWORD=second $RESTIC -r "$repo" snapshots -q > /dev/null || fail "restic opens stash's new key"
same_key_lists interop-password
same_key_lists second
grep -q ' alice  h1 ' "$WORK/sk.txt" || fail "--user/--host not in the new key"

echo third | $RESTIC -r "$repo" key add -q
RESTIC_PASSWORD=third $STASH -r "$repo" snapshots -q > /dev/null || fail "stash opens restic's new key"
third_key=$(RESTIC_PASSWORD=third $STASH -r "$repo" key list --json |
  python3 -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin) if k["current"]][0])')
out=$($STASH -r "$repo" key remove "$third_key") && grep -q "removed key $third_key" <<< "$out" ||
  fail "stash key remove"
rc=0; RESTIC_PASSWORD=third $RESTIC -r "$repo" snapshots -q > /dev/null 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "the removed key still opens the repository"
same_key_lists interop-password
pass "key add and remove, cross-checked with restic"

# --key-hint / RESTIC_KEY_HINT: of two keys for one password, the hinted one
# opens the repository (it is the one in use), as restic decides.
printf 'interop-password\n' > "$WORK/pw-twin"
keys_before=$(ls "$repo/keys")
$STASH -r "$repo" key add --new-password-file "$WORK/pw-twin" > /dev/null || fail "key add (twin)"
twin_key=$(ls "$repo/keys" | grep -vxF "$keys_before")
[ -n "$twin_key" ] || fail "no id for the key just added"
current() {  # TOOL [FLAGS...]: the short id of the key in use
  "$@" -r "$repo" key list --json | python3 -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin) if k["current"]][0])'
}
for key in "$first_key" "$twin_key"; do
  [ "$(current $STASH --key-hint "${key:0:8}")" = "${key:0:8}" ] || fail "stash --key-hint ${key:0:8} does not use that key"
  [ "$(current $RESTIC --key-hint "${key:0:8}")" = "${key:0:8}" ] || fail "restic --key-hint ${key:0:8} does not use that key"
  [ "$(RESTIC_KEY_HINT=$key current $STASH)" = "${key:0:8}" ] || fail "RESTIC_KEY_HINT=$key does not use that key"
done
# (Without a hint each tries the keys in its own order: restic in the
# backend's listing order, stash in the order of their names.)
[ "$(current $STASH --key-hint nomatch)" = "$(current $STASH)" ] || fail "a hint naming no key changed the key in use"
out=$($STASH -r "$repo" --key-hint "$first_key" key remove "$twin_key") && grep -q "removed key $twin_key" <<< "$out" ||
  fail "stash --key-hint FIRST key remove TWIN"
pass "--key-hint and RESTIC_KEY_HINT choose the key in use, as in restic"

must_fail "removing the key in use" "${first_key:0:8}" $STASH -r "$repo" key remove "${first_key:0:8}"
must_fail "unknown key id" deadbeef $STASH -r "$repo" key remove deadbeef
must_fail "bad key id" '"zz"' $STASH -r "$repo" key remove zz
must_fail "unknown subcommand" frobnicate $STASH -r "$repo" key frobnicate
must_fail "missing subcommand" subcommand $STASH -r "$repo" key
must_fail "extra argument" extra $STASH -r "$repo" key list extra
must_fail "missing password file" "$WORK/nope" $STASH -r "$repo" key add --new-password-file "$WORK/nope"
[ "$(ls "$repo/keys" | wc -l)" = 2 ] || fail "a failed key command changed the keys"
pass "bad key input is refused with one Fatal line"

printf 'fourth\n' > "$WORK/pw4"
RESTIC_PASSWORD=second $STASH -r "$repo" key passwd --new-password-file "$WORK/pw4" > /dev/null || fail "passwd"
rc=0; RESTIC_PASSWORD=second $RESTIC -r "$repo" snapshots -q > /dev/null 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "the old password still works after passwd"
echo fifth | RESTIC_PASSWORD=fourth $STASH -r "$repo" key passwd > /dev/null || fail "passwd from stdin"
RESTIC_PASSWORD=fifth $RESTIC -r "$repo" snapshots -q > /dev/null || fail "restic opens the passwd key"
[ "$(ls "$repo/keys" | wc -l)" = 2 ] || fail "passwd must replace the key, not add one"
same_key_lists fifth
[ -z "$(ls "$repo/locks")" ] || fail "key commands left locks behind"
pass "key passwd, cross-checked with restic"

# --- stats ---
src=$WORK/src
mkdir -p "$src/a/deep" "$src/b" "$src/c"
head -c 3000000 /dev/urandom > "$src/a/big"  # several chunks
cp "$src/a/big" "$src/b/big-copy"             # same content, another path
echo hi > "$src/a/deep/x"
cp -r "$src/a/deep" "$src/c/"                 # an identical subtree
ln "$src/a/deep/x" "$src/a/hl"                # a hard link
: > "$src/empty"
ln -s a/big "$src/link"
echo second > "$src/b/s"
warm_atimes "$src"
$RESTIC -r "$repo" backup -q "$src" --host h1 --tag t1
$STASH -r "$repo" backup -q "$src" --host h2
# Contents change in place (both copies alike), so each content is first
# met at the same path whichever order the snapshots are walked in: then
# blobs-per-file does not depend on restic's unordered snapshot listing.
echo more | tee -a "$src/a/deep/x" >> "$src/c/deep/x"
head -c 700000 /dev/urandom > "$src/c/new"
warm_atimes "$src"
$STASH -r "$repo" backup -q "$src"
$RESTIC -r "$repo" backup -q "$src/a" --host h1
$STASH -r "$repo" backup -q "$src/b" --tag t2
some=$($RESTIC -r "$repo" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[1]["short_id"])')

export RESTIC_PASSWORD=fifth
for mode in restore-size files-by-contents blobs-per-file raw-data; do
  for sel in "" "latest" "latest --host h1" "$some" "$some latest" "--tag t2" "--host h2"; do
    # shellcheck disable=SC2086  # $sel is several words on purpose
    $RESTIC -r "$repo" stats --json --mode $mode $sel > "$WORK/r.json" 2> /dev/null
    # shellcheck disable=SC2086
    $STASH -r "$repo" stats --json --mode $mode $sel > "$WORK/s.json"
    same_json "stats --mode $mode $sel" "$WORK/r.json" "$WORK/s.json" > /dev/null ||
      fail "stats --mode $mode $sel: restic $(cat "$WORK/r.json"), stash $(cat "$WORK/s.json")"
  done
  diff <($RESTIC -r "$repo" stats --mode $mode) <($STASH -r "$repo" stats --mode $mode) ||
    fail "stats --mode $mode text differs"
done
pass "stats equal restic's in all four modes"

must_fail "unknown mode" bogus $STASH -r "$repo" stats --mode bogus
must_fail "unknown snapshot" deadbeef $STASH -r "$repo" stats deadbeef
pass "bad stats input is refused with one Fatal line"
