#!/usr/bin/env bash
# Every flag of restic 0.14's `backup` (plus --read-concurrency and
# --skip-if-unchanged of later releases) against restic itself: both tools
# back up one tree with the same flags, and the paths `ls --json` lists for
# the two snapshots, the snapshots' paths, host and tags, the exit codes and
# the messages on stderr must all be equal. Bad flags and inputs must fail
# with restic's exit code and words.
source "$(dirname "$0")/lib.sh"
command -v "$RESTIC" > /dev/null || { echo "SKIP: restic is not installed"; exit 77; }

cd "$WORK"
R=$WORK/repo-restic S=$WORK/repo-stash
$RESTIC init -q -r "$R" > /dev/null
$STASH init -q -r "$S" > /dev/null

# ---- the tree
src=src
mkdir -p $src/sub/deep $src/cache/inner $src/badcache $src/marked $src/photos $src/empty $src/mnt
echo a > $src/a.txt; echo b > $src/B.TXT; echo log > $src/c.log; echo up > $src/sub/Upper.Log
echo deep > $src/sub/deep/file; echo sp > "$src/with space.txt"; ln -s a.txt $src/link
head -c 2000000 /dev/urandom > $src/big.bin
head -c 1500 /dev/urandom > $src/small.bin
head -c 1024 /dev/urandom > $src/exact1k.bin
printf 'Signature: 8a477f597d28d172789f06886806bc55\n# a cache\n' > $src/cache/CACHEDIR.TAG
echo c > $src/cache/data; echo i > $src/cache/inner/x
printf 'Signature: 0000\n' > $src/badcache/CACHEDIR.TAG; echo d > $src/badcache/data
touch $src/marked/.nobackup; echo m > $src/marked/x
echo j > $src/photos/IMG_1.JPG; echo j > $src/photos/img_2.jpg; echo p > $src/photos/p.png
# A file system boundary for -x: a tmpfs mounted inside the tree.
mounted=0
if mount -t tmpfs tmpfs $src/mnt 2> /dev/null; then
  mounted=1
  echo inside > $src/mnt/inside && mkdir $src/mnt/d && echo x > $src/mnt/d/x
  trap 'umount "$WORK/src/mnt" 2>/dev/null; chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
else
  echo "note: cannot mount a tmpfs here; -x is compared without a file system boundary"
fi
warm_atimes $src

# ---- helpers
snapshot_ids() {  # TOOL REPO
  "$1" -r "$2" snapshots --json | python3 -c 'import json,sys; print("\n".join(sorted(s["id"] for s in json.load(sys.stdin) or [])))'
}

# The listing compared between the tools: the snapshot's paths, host, tags
# and excludes (and time with CMP_TIME=1), then every node's path, sorted.
listing() {  # TOOL REPO ID
  "$1" -r "$2" ls --json "$3" | CMP_TIME=${CMP_TIME:-0} python3 -c '
import json, os, sys
out = []
for line in sys.stdin:
    d = json.loads(line)
    if d.get("struct_type") == "snapshot":
        head = ["paths: " + json.dumps(d["paths"]), "host: " + d["hostname"], "tags: " + json.dumps(d.get("tags")),
                "excludes: " + json.dumps(d.get("excludes"))]
        if os.environ["CMP_TIME"] == "1": head.append("time: " + d["time"])
    else:
        out.append(d["path"])
print("\n".join(head + sorted(out)))'
}

# Runs one tool's backup in $WORK: stdin from $IN (default /dev/null),
# without RESTIC_PASSWORD if NO_PASSWORD=1;
# "@LATEST@" stands for that tool's newest snapshot. Leaves $1.rc, $1.out,
# $1.err and $1.ls (the new snapshot's listing, or "no snapshot").
run_backup() {  # NAME TOOL REPO ARGS...
  local name=$1 tool=$2 repo=$3; shift 3
  local args=() a
  for a in "$@"; do
    [ "$a" = @LATEST@ ] && a=$("$tool" -r "$repo" snapshots --json --latest 1 |
      python3 -c 'import json,sys; l=json.load(sys.stdin) or []; print(l[-1]["id"] if l else "")')
    args+=("$a")
  done
  # Each name always goes with one repository: its last listing still holds.
  if [ -f "$name.after" ]; then mv "$name.after" "$name.before"; else snapshot_ids "$tool" "$repo" > "$name.before"; fi
  local rc=0
  local env=()
  [ "${NO_PASSWORD:-0}" = 1 ] && env=(env -u RESTIC_PASSWORD)
  "${env[@]}" "$tool" -r "$repo" backup "${args[@]}" < "${IN:-/dev/null}" > "$name.out" 2> "$name.err" || rc=$?
  echo $rc > "$name.rc"
  snapshot_ids "$tool" "$repo" > "$name.after"
  local id
  id=$(comm -13 "$name.before" "$name.after")
  if [ -n "$id" ]; then listing "$tool" "$repo" "$id" > "$name.ls"; else echo "no snapshot" > "$name.ls"; fi
}

# Same flags for both tools: same exit code, same stderr lines (in any
# order: both report from several threads), same snapshot contents.
summary_lines() {  # OUTPUT-FILE
  grep -E '^(Files|Dirs):|^processed |parent snapshot' "$1" |
    sed -E 's/ in [0-9]+:[0-9]{2}(:[0-9]{2})?$/ in M:SS/; s/^using parent snapshot [0-9a-f]{8}$/using parent snapshot ID/'
}

same() {  # LABEL ARGS...
  local label=$1; shift
  run_backup r "$RESTIC" "$R" "$@"
  run_backup s "$STASH" "$S" "$@"
  [ "$(cat r.rc)" = "$(cat s.rc)" ] || { cat r.err s.err >&2; fail "$label: exit code restic $(cat r.rc), stash $(cat s.rc)"; }
  if ! diff <(sort r.err) <(sort s.err) > diff.txt; then cat diff.txt >&2; fail "$label: stderr differs (< restic, > stash)"; fi
  if ! diff r.ls s.ls > diff.txt; then cat diff.txt >&2; fail "$label: snapshot contents differ (< restic, > stash)"; fi
  # The same files and folders counted new, changed and unmodified (not
  # where atimes are kept: each tool's run moves the other's folder atimes),
  # the same word on the parent (its id aside) and the same "processed" line
  # but for how long each took (its m:ss shape).
  if [ "${CMP_COUNTS:-1}" = 1 ] && ! diff <(summary_lines r.out) <(summary_lines s.out) > diff.txt; then
    cat diff.txt >&2; fail "$label: counts differ (< restic, > stash)"
  fi
  pass "$label (exit $(cat r.rc), $(grep -c '^/' s.ls || true) paths)"
}

# A refused invocation: same exit code and same first line on stderr
# (restic adds a Go stack trace to some).
refused() {  # LABEL ARGS...
  local label=$1; shift
  run_backup r "$RESTIC" "$R" "$@"
  run_backup s "$STASH" "$S" "$@"
  [ "$(cat r.rc)" = "$(cat s.rc)" ] && [ "$(cat s.rc)" != 0 ] || fail "$label: exit code restic $(cat r.rc), stash $(cat s.rc)"
  [ "$(head -1 r.err)" = "$(head -1 s.err)" ] || fail "$label: restic says '$(head -1 r.err)', stash '$(head -1 s.err)'"
  [ "$(cat s.ls)" = "no snapshot" ] || fail "$label: stash saved a snapshot"
  pass "$label refused: $(head -1 s.err)"
}

# ---- flags that choose what is saved
same "no flags" $src
same "--exclude" -e '*.log' $src
same "--exclude twice" --exclude '*.log' --exclude sub/deep $src
same "--exclude with a negation" --exclude 'photos/*' --exclude '!photos/p.png' $src
same "--iexclude" --iexclude '*.jpg' --iexclude 'SRC/SUB' $src
printf '# comment\n\n  *.log  \n$EXCL_DIR\n' > excludes.txt
EXCL_DIR=photos same "--exclude-file (comments, blanks, \$VAR)" --exclude-file excludes.txt $src
printf '*.JPG\n' > iexcludes.txt
same "--iexclude-file" --iexclude-file iexcludes.txt $src
same "--exclude-caches" --exclude-caches $src
same "--exclude-if-present FILE" --exclude-if-present .nobackup $src
same "--exclude-if-present FILE:HEADER" --exclude-if-present 'CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55' $src
same "--exclude-larger-than 1M" --exclude-larger-than 1M $src
same "--exclude-larger-than 1k" --exclude-larger-than 1k $src
same "--exclude-larger-than 1500" --exclude-larger-than 1500 $src
same "-x" -x $src
same "--one-file-system (target inside the mount)" --one-file-system $src/photos $src/mnt/d
printf '# list\nsrc/*.txt\n\n  src/sub  \nsrc/nomatch*\n' > list.txt
same "--files-from (globs, comments, no match)" --files-from list.txt
printf 'src/with space.txt\n src/a.txt\n\nsrc/photos\n' > verbatim.txt
same "--files-from-verbatim" --files-from-verbatim verbatim.txt
printf 'src/a.txt\0src/sub\0src/missing\0' > raw.txt
same "--files-from-raw" --files-from-raw raw.txt
same "--files-from and arguments" --files-from list.txt $src/photos
IN=list.txt same "--files-from - (standard input)" --files-from -
same "a missing target is skipped" $src/a.txt $src/missing
printf 'some data\n' > data.txt
IN=data.txt same "--stdin" --stdin
IN=data.txt same "--stdin --stdin-filename" --stdin --stdin-filename db/dump.sql
cp $src/big.bin big.bin
IN=big.bin same "--stdin, several chunks" --stdin --stdin-filename big
CMP_TIME=1 same "--tag, --host, --time" --tag a,b --tag ' c ' --host myhost --time '2012-11-01 22:08:41' $src
same "-H" -H other $src
same "--hostname (deprecated)" --hostname old $src
CMP_COUNTS=0 same "--with-atime" --with-atime $src
same "--ignore-inode --ignore-ctime" --ignore-inode --ignore-ctime $src
same "--force" --force $src
same "-f --parent" -f --parent @LATEST@ $src
same "--parent" --parent @LATEST@ $src

# ---- --dry-run writes nothing at all
for flag in -n --dry-run; do
  find "$R" "$S" -type f | sort > files.before
  same "$flag" $flag $src
  find "$R" "$S" -type f | sort > files.after
  cmp -s files.before files.after || fail "$flag changed a repository: $(diff files.before files.after)"
  grep -q "^Would add to the repository" s.out || fail "$flag: no 'Would add' line"
done
pass "--dry-run leaves both repositories unchanged"

# ---- flags of later restic releases (restic 0.14 does not know them)
run_backup r "$RESTIC" "$R" $src
run_backup s "$STASH" "$S" --read-concurrency 3 $src
diff r.ls s.ls > diff.txt || { cat diff.txt >&2; fail "--read-concurrency changes the snapshot"; }
RESTIC_READ_CONCURRENCY=1 run_backup s "$STASH" "$S" $src
diff r.ls s.ls > diff.txt || fail "RESTIC_READ_CONCURRENCY changes the snapshot"
RESTIC_READ_CONCURRENCY=x run_backup s "$STASH" "$S" $src
[ "$(cat s.rc)" = 1 ] && grep -q 'invalid value for RESTIC_READ_CONCURRENCY "x"' s.err || fail "a bad RESTIC_READ_CONCURRENCY is named"
pass "--read-concurrency, RESTIC_READ_CONCURRENCY"
run_backup s "$STASH" "$S" --skip-if-unchanged $src
[ "$(cat s.rc)" = 0 ] && grep -q "^skipped creating snapshot" s.out && [ "$(cat s.ls)" = "no snapshot" ] ||
  fail "--skip-if-unchanged saved a snapshot of an unchanged tree"
echo new > $src/new.txt
run_backup s "$STASH" "$S" --skip-if-unchanged $src
grep -q "/src/new.txt" s.ls || fail "--skip-if-unchanged skipped a changed tree"
rm $src/new.txt
pass "--skip-if-unchanged"

# ---- refused
refused "an unknown flag" --frobnicate $src
refused "--use-fs-snapshot (Windows only)" --use-fs-snapshot $src
refused "no targets"
refused "only missing targets" nope1 nope2
refused "a missing --exclude-file" --exclude-file /nonexistent $src
refused "a missing --iexclude-file" --iexclude-file /nonexistent $src
refused "a folder as --exclude-file" --exclude-file "$WORK" $src
refused "a missing --files-from" --files-from /nonexistent
refused "--files-from-raw without the last NUL" --files-from-raw list.txt
refused "a bad --exclude-larger-than" --exclude-larger-than 1.5M $src
refused "a bad --exclude pattern" --exclude '[' $src
printf '*.o\n[x\n' > bad-excludes.txt
refused "a bad --exclude-file pattern" --exclude-file bad-excludes.txt $src
refused "an empty --exclude-if-present" --exclude-if-present= $src
refused "--exclude-if-present without a name" --exclude-if-present :Signature $src
refused "a bad --time" --time garbage $src
NO_PASSWORD=1 IN=list.txt refused "--files-from - with the password on stdin too" --files-from -
refused "--stdin with arguments" --stdin $src
refused "--stdin with --files-from" --stdin --files-from list.txt
refused "--stdin with nothing on it" --stdin
IN=/dev/null refused "--stdin with nothing on it, named" --stdin --stdin-filename x.sql
[ "$(cat r.err)" = "$(cat s.err)" ] || fail "--stdin with nothing: restic says '$(cat r.err)', stash '$(cat s.err)'"
refused "--parent that does not exist" --parent ffffffff $src

# ---- --stdin-from-command (restic 0.17; restic 0.14 has none): the command's
# output stored as --stdin stores ours, read back by restic 0.14; a command
# that fails fails the backup and leaves no snapshot.
$STASH -r "$S" backup -q --host cmdhost --stdin-from-command --stdin-filename db/dump.sql -- \
  sh -c 'printf "line1\nline2\n"; echo "to stderr" >&2' > cmd.out 2> cmd.err || fail "--stdin-from-command: $(cat cmd.err)"
[ "$($RESTIC -r "$S" dump --host cmdhost latest /db/dump.sql)" = "$(printf 'line1\nline2')" ] ||
  fail "restic dumps $($RESTIC -r "$S" dump --host cmdhost latest /db/dump.sql)"
count() { $STASH -r "$S" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin) or []))'; }
n=$(count)
$STASH -r "$S" backup -q --stdin-from-command -- sh -c 'echo partial; exit 3' > cmd.out 2> cmd.err &&
  fail "a command exiting 3 gave a successful backup"
grep -q "command sh exited with status 3" cmd.err || fail "the error does not name the exit status: $(cat cmd.err)"
$STASH -r "$S" backup -q --stdin-from-command -- /no/such/command > cmd.out 2> cmd.err && fail "a missing command gave a backup"
grep -q "/no/such/command" cmd.err || fail "the error does not name the missing command: $(cat cmd.err)"
[ "$(count)" = "$n" ] || fail "a failed --stdin-from-command left a snapshot"
$STASH -r "$S" backup -q --stdin-from-command > cmd.out 2> cmd.err && fail "--stdin-from-command without a command succeeded"
"$RESTIC" -r "$S" check --read-data > cmd.out 2>&1 || { cat cmd.out; fail "restic check after the failed runs"; }
pass "--stdin-from-command: the output stored (restic dumps it), failing and missing commands leave no snapshot"
