#!/usr/bin/env bash
# Partial failures as restic 0.14 handles them.
#  Backup: a missing target is skipped with a warning (exit 0); a file or
#  folder that cannot be read is left out with restic's "error: ..." line
#  and the backup ends with exit 3. Both tools run the same backups; exit
#  codes, stderr and snapshot contents must agree.
#  Restore: one pack of a repository is damaged (a byte flipped, or the
#  pack deleted); the restore goes on, every file that does not need that
#  pack comes back byte for byte, each damaged file is named on stderr,
#  and the exit code is 1. restic names the same files for the flipped byte.
source "$(dirname "$0")/lib.sh"
command -v "$RESTIC" > /dev/null || { echo "SKIP: restic is not installed"; exit 77; }

cd "$WORK"
R=$WORK/repo-restic S=$WORK/repo-stash
$RESTIC init -q -r "$R" > /dev/null
$STASH init -q -r "$S" > /dev/null

# Unreadable files need a process that permission bits stop: as root, one
# without the capabilities that bypass them.
as_user=()
if [ "$(id -u)" = 0 ]; then
  as_user=(setpriv --bounding-set=-dac_override,-dac_read_search)
  "${as_user[@]}" true 2> /dev/null || { echo "SKIP: running as root and setpriv cannot drop capabilities"; exit 77; }
fi

listing() {  # TOOL REPO
  "$1" -r "$2" ls --json latest | python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    print("paths: " + json.dumps(d["paths"]) if d.get("struct_type") == "snapshot" else d["path"])' | sort
}

# Both tools back up with the same arguments; exit codes, stderr lines and
# (if a snapshot is expected) the snapshots must agree.
same_backup() {  # LABEL WANT-EXIT ARGS...
  local label=$1 want=$2; shift 2
  local rc_r=0 rc_s=0
  "${as_user[@]}" "$RESTIC" -r "$R" backup "$@" > r.out 2> r.err || rc_r=$?
  "${as_user[@]}" "$STASH" -r "$S" backup "$@" > s.out 2> s.err || rc_s=$?
  [ "$rc_r" = "$want" ] || { cat r.err >&2; fail "$label: restic exits $rc_r, the test expects $want"; }
  [ "$rc_s" = "$want" ] || { cat s.err >&2; fail "$label: stash exits $rc_s, restic $want"; }
  diff <(sort r.err) <(sort s.err) > diff.txt || { cat diff.txt >&2; fail "$label: stderr differs (< restic, > stash)"; }
  if [ "$want" != 1 ]; then
    diff <(listing "$RESTIC" "$R") <(listing "$STASH" "$S") > diff.txt ||
      { cat diff.txt >&2; fail "$label: snapshots differ (< restic, > stash)"; }
  fi
  pass "$label: exit $want, $(wc -l < s.err) stderr lines as restic's"
}

# ---- backup
mkdir -p src/ok src/locked-dir src/open
echo fine > src/ok/a; echo fine > src/open/b; echo hidden > src/locked-dir/c; echo secret > src/locked-file
chmod 000 src/locked-dir src/locked-file
same_backup "a missing target" 0 src/ok src/missing
same_backup "an unreadable file and folder" 3 src
grep -q "^error: open src/locked-file: permission denied$" s.err || fail "the unreadable file is not named in restic's words"
grep -q "^Warning: at least one source file could not be read$" s.err || fail "no closing warning"
same_backup "an unreadable target" 3 src/locked-file src/ok
same_backup "only missing targets" 1 nope1 nope2
chmod 755 src/locked-dir; chmod 644 src/locked-file

# ---- restore from a damaged repository
# Two backups: the files of the second go to packs of their own. Each file
# is smaller than a chunk, so one flipped byte damages exactly one file.
mkdir -p tree/one tree/two
for i in 1 2 3 4; do head -c $((100000 + i * 1000)) /dev/urandom > tree/one/f$i; done
$STASH -r "$S" backup -q tree
for i in 1 2 3 4 5 6; do head -c $((120000 + i * 1000)) /dev/urandom > tree/two/g$i; done
ls "$S"/data/*/ > packs.before
$STASH -r "$S" backup -q tree
# The data packs the second backup wrote: id, the middle of the first
# blob, and how many blobs (files of tree/two) the pack holds.
python3 - "$S" > victims.txt <<'PY'
import json, os, subprocess, sys
repo = sys.argv[1]
env = dict(os.environ, RESTIC_PASSWORD=os.environ["RESTIC_PASSWORD"])
out = []
for name in os.listdir(os.path.join(repo, "index")):
    idx = json.loads(subprocess.check_output([os.environ["STASH"], "-r", repo, "cat", "index", name], env=env))
    for p in idx["packs"]:
        if all(b["type"] == "data" for b in p["blobs"]):
            b = min(p["blobs"], key=lambda b: b["offset"])
            out.append(f'{p["id"]} {b["offset"] + b["length"] // 2} {len(p["blobs"])}')
print("\n".join(out))
PY
new_packs=()
while read -r pack offset count; do
  grep -q "$pack" packs.before || new_packs+=("$pack $offset $count")
done < victims.txt
[ ${#new_packs[@]} -ge 1 ] || fail "the second backup wrote no data pack of its own"
read -r pack offset count <<< "${new_packs[0]}"
packfile=$(ls "$S"/data/*/"$pack")
cp -a "$S" "$WORK/repo-missing"

# Restores `repo` with TOOL into DIR; checks that every file is either
# byte-identical or named on stderr (and the other way round), that no file
# of tree/one is damaged, and that the exit code is 1. Leaves the sorted
# damaged names in DIR.named.
check_restore() {  # LABEL TOOL REPO DIR
  local label=$1 tool=$2 repo=$3 dir=$4 rc=0
  "$tool" -r "$repo" restore latest --target "$dir" > "$dir.out" 2> "$dir.err" || rc=$?
  [ $rc = 1 ] || { cat "$dir.err" >&2; fail "$label: exit $rc, want 1"; }
  grep -q "^Fatal: There were [0-9]* errors$" "$dir.err" || fail "$label: no 'There were N errors'"
  sed -n 's/^ignoring error for \(\/tree\/[^:]*\): .*/\1/p' "$dir.err" | sort -u > "$dir.named"
  : > "$dir.differs"
  for f in tree/one/* tree/two/*; do
    cmp -s "$f" "$dir/$f" || echo "/$f" >> "$dir.differs"
  done
  diff "$dir.named" "$dir.differs" > diff.txt || { cat "$dir.err" diff.txt >&2; fail "$label: named files (<) and damaged files (>) differ"; }
  [ -s "$dir.named" ] || fail "$label: nothing was damaged"
  ! grep -q "^/tree/one/" "$dir.named" || fail "$label: a file outside the damaged pack was damaged"
  pass "$label: exit 1, $(wc -l < "$dir.named") damaged file(s) named, all others identical"
}

chmod u+w "$packfile"
python3 -c "
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x55]))" "$packfile" "$offset"
check_restore "stash, a flipped byte" "$STASH" "$S" out-stash
[ "$(wc -l < out-stash.named)" = 1 ] || fail "one flipped byte should damage one file"
grep -q "ciphertext verification failed" out-stash.err || fail "the damage is not described as restic does"
check_restore "restic, a flipped byte" "$RESTIC" "$S" out-restic
diff out-stash.named out-restic.named > diff.txt || { cat diff.txt >&2; fail "stash and restic name different files"; }
pass "stash and restic name the same damaged files"

rm "$WORK/repo-missing/data/${pack:0:2}/$pack"
check_restore "stash, a missing pack" "$STASH" "$WORK/repo-missing" out-missing
[ "$(wc -l < out-missing.named)" = "$count" ] || fail "a missing pack of $count blobs should damage $count files"
