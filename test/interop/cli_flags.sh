#!/usr/bin/env bash
# The ways restic users and Stash's secrets pass the repository and the
# password all work, and global flags may stand before or after the command.
source "$(dirname "$0")/lib.sh"
repo=$WORK/repo
unset RESTIC_PASSWORD
printf 'file-password\n' > "$WORK/pw"
$STASH init -q --repo "$repo" --password-file "$WORK/pw"
mkdir -p "$WORK/src" && echo data > "$WORK/src/f"

RESTIC_PASSWORD_FILE=$WORK/pw $STASH -r "$repo" backup -q "$WORK/src" || fail "RESTIC_PASSWORD_FILE"
RESTIC_REPOSITORY=$repo RESTIC_PASSWORD=file-password $STASH snapshots --json > "$WORK/a.json" || fail "RESTIC_REPOSITORY"
$STASH snapshots --json -r "$repo" -p "$WORK/pw" > "$WORK/b.json" || fail "flags after the command"
$STASH --json --repo="$repo" --password-file="$WORK/pw" snapshots > "$WORK/c.json" || fail "--flag=value before the command"
echo file-password | $STASH -r "$repo" snapshots --json > "$WORK/d.json" || fail "password on stdin"
RESTIC_PASSWORD_COMMAND="cat $WORK/pw" $STASH -r "$repo" snapshots --json > "$WORK/e.json" || fail "RESTIC_PASSWORD_COMMAND"
for f in b c d e; do same_json "snapshots via $f" "$WORK/a.json" "$WORK/$f.json"; done
RESTIC_PASSWORD_FILE=$WORK/pw $RESTIC -r "$repo" snapshots --json > "$WORK/r.json"
same_json "restic reads the same" "$WORK/a.json" "$WORK/r.json"

RESTIC_PASSWORD=file-password $STASH -r "$repo" backup --json "$WORK/src" > "$WORK/backup.jsonl"
python3 - "$WORK/backup.jsonl" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])][-1]
want = {"message_type", "files_new", "files_changed", "files_unmodified", "dirs_new", "dirs_changed",
        "dirs_unmodified", "data_blobs", "tree_blobs", "data_added", "total_files_processed",
        "total_bytes_processed", "total_duration", "snapshot_id"}
assert s["message_type"] == "summary" and want <= set(s), s
assert s["total_files_processed"] == 1 and s["total_bytes_processed"] == 5, s
print("ok: backup --json summary has restic's fields")
PY
out=$(RESTIC_PASSWORD=file-password $STASH -q -r "$repo" snapshots --latest 1 | grep -c "$WORK/src" || true)
[ "$out" = 1 ] || fail "--latest 1 shows $out rows"
rc=0; $STASH -r "$repo" snapshots < /dev/null 2> "$WORK/err" || rc=$?
[ $rc -ne 0 ] && grep -q "empty password" "$WORK/err" || fail "empty password must be refused"
rc=0; RESTIC_PASSWORD=x $STASH snapshots 2> "$WORK/err" || rc=$?
[ $rc -ne 0 ] && grep -q "repository location" "$WORK/err" || fail "missing -r must be explained"
rc=0; RESTIC_PASSWORD=x env -u AZURE_ACCOUNT_NAME $STASH -r "azure:container:/prefix" snapshots 2> "$WORK/err" || rc=$?
[ $rc -ne 0 ] && grep -q 'AZURE_ACCOUNT_NAME' "$WORK/err" || fail "azure without an account must name the variable"
pass "repository and password from every source"

# Help per command, as restic and cobra print it.
$STASH backup --help > "$WORK/help" || fail "backup --help exits non-zero"
grep -q "stash backup \[flags\]" "$WORK/help" && grep -q -- "--exclude" "$WORK/help" || fail "backup --help lists its flags"
help=$($STASH help forget) && grep -q -- "--keep-last" <<< "$help" || fail "help forget lists its flags"
help=$($STASH apiserver --help) && grep -q -- "--secure-port" <<< "$help" || fail "apiserver --help lists its flags"
# --compression as restic 0.14 takes it.
repo2=$WORK/repo-off
RESTIC_PASSWORD=x $STASH init -q -r "$repo2" || fail "init for --compression"
RESTIC_PASSWORD=x $STASH -r "$repo2" --compression off backup -q "$WORK/src" || fail "--compression off"
RESTIC_PASSWORD=x RESTIC_COMPRESSION=max $STASH -r "$repo2" backup -q --force "$WORK/src" || fail "RESTIC_COMPRESSION=max"
rc=0; RESTIC_PASSWORD=x $STASH -r "$repo2" --compression fastest snapshots 2> "$WORK/err" || rc=$?
[ $rc -ne 0 ] && grep -q 'invalid compression mode "fastest"' "$WORK/err" || fail "a bad compression mode is named"
RESTIC_PASSWORD=x restic -r "$repo2" check --read-data -q > /dev/null || fail "restic check after --compression off and max"
pass "help per command; --compression"

# Help as restic and kubectl users read it: Usage with the arguments, flag
# values named by type, global flags apart, repository flags only where a
# repository is opened; `stash help CMD` shows the same.
$STASH restore --help > "$WORK/help" || fail "restore --help exits non-zero"
help=$(cat "$WORK/help")
grep -q "^  stash restore \[flags\] snapshotID$" <<< "$help" || fail "restore --help: Usage line with its argument"
grep -Eq "^  -H, --host string +only consider" <<< "$help" || fail "restore --help: --host string"
grep -Eq "^      --verify +verify restored" <<< "$help" || fail "restore --help: --verify without a value"
grep -q "^Global Flags:$" <<< "$help" && grep -Eq "^  -r, --repo repository +" <<< "$help" || fail "restore --help: global repository flags"
# Help columns line up: every description of a section starts at one column.
python3 - "$WORK/help" <<'PY' || fail "restore --help: columns not aligned"
import re, sys
section, cols = None, {}
for line in open(sys.argv[1]):
    if line.rstrip().endswith(":") and not line.startswith(" "):
        section = line.strip()
    elif section in ("Flags:", "Global Flags:") and line.startswith("  "):
        m = re.match(r"^(\s+(?:-\w, )?--\S+(?: \S+)?)\s{3,}\S", line)
        assert m, line
        cols.setdefault(section, set()).add(len(m.group(0)) - 1)
assert cols and all(len(c) == 1 for c in cols.values()), cols
PY
$STASH help restore > "$WORK/help2" || fail "stash help restore"
cmp -s "$WORK/help" "$WORK/help2" || fail "stash help restore differs from restore --help"
help=$($STASH forget --help)
grep -Eq -- "--keep-last n +" <<< "$help" && grep -Eq -- "--keep-within duration +" <<< "$help" || fail "forget --help: value names"
help=$($STASH dump --help)
grep -q "stash dump \[flags\] snapshotID file" <<< "$help" || fail "dump --help: Usage"
help=$($STASH apiserver --help)
grep -q "^Global Flags:$" <<< "$help" && grep -q -- "--json" <<< "$help" || fail "apiserver --help: general global flags"
if grep -Eq -- "--repo |--password-file |--no-lock" <<< "$help"; then fail "apiserver --help lists repository flags"; fi
for c in dump find tag diff copy; do
  $STASH $c --help > "$WORK/help" || fail "$c --help"
  grep -q "^Usage:$" "$WORK/help" || fail "$c --help has no Usage"
done
pass "help: usage lines, value names, aligned columns, global flags where they apply"
