#!/usr/bin/env bash
# Snapshot tables, filters and the `ls` header of stash and restic 0.14,
# byte for byte, on one repository written by restic.
#
# The snapshots are taken in several time zones (restic reads --time in
# the zone of TZ and stores that offset), on host names of different
# lengths, with no tag, one tag and several; one has two paths (restic
# then puts a blank line between rows). Both tools print them under the
# same TZ values, where tables show local time and `ls` shows the stored
# time with the local zone's abbreviation when the offsets agree.
#
# restic prints groups in Go's random map order, so outputs with several
# groups are compared as sets of group blocks.
source "$(dirname "$0")/lib.sh"
command -v "$RESTIC" > /dev/null || { echo "SKIP: restic is not installed"; exit 77; }

repo=$WORK/repo
mkdir -p "$WORK/d1" "$WORK/d2"
echo one > "$WORK/d1/f"
echo two > "$WORK/d2/g"
"$RESTIC" init -q -r "$repo"
take() {  # TZ TIME HOST [restic backup flags...] -- PATHS...
  local tz=$1 time=$2 host=$3
  shift 3
  TZ=$tz "$RESTIC" -r "$repo" backup -q --time "$time" --host "$host" "$@" > /dev/null
}
take UTC "2024-01-02 03:04:05" h "$WORK/d1"
take Asia/Kolkata "2024-01-03 03:04:05" a-much-longer-hostname --tag a --tag b "$WORK/d1" "$WORK/d2"
take America/New_York "2024-01-04 03:04:05" h --tag a,b,c --tag verylongtagname "$WORK/d2"
take Pacific/Chatham "2024-06-04 23:59:05" hostX --tag a "$WORK/d1"
take America/New_York "2024-07-01 12:00:00" h --tag b "$WORK/d1"
take Asia/Kolkata "2024-07-02 00:10:00" hh "$WORK/d2"
# One written by stash, with the nanoseconds of "now" in its time.
$STASH -r "$repo" backup -q --host stash-host --tag s "$WORK/d1" > /dev/null

# Splits output into blocks starting at a group header (or forget's
# "keep N snapshots:" when not verbose) and prints them sorted, between
# what comes before the first block and forget's closing summary.
blocks() {  # FILE
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
head, blocks, tail = [], [], []
for line in lines:
    if tail or line.startswith("Would have removed"):
        tail.append(line)
    elif re.match(r"^(snapshots for \(|keep \d+ snapshots:)", line):
        blocks.append([line])
    elif blocks:
        blocks[-1].append(line)
    else:
        head.append(line)
parts = ["\n".join(head)] + sorted("\n".join(b) for b in blocks) + ["\n".join(tail)]
print("\n=====\n".join(parts))
PY
}

# Runs ARGS with both tools under TZ; outputs and exit codes must be equal.
compare() {  # MODE(exact|blocks) TZ ARGS...
  local mode=$1 tz=$2
  shift 2
  local label="$* (TZ=$tz)"
  local rc_r=0 rc_s=0
  TZ=$tz "$RESTIC" -r "$repo" "$@" > "$WORK/restic.out" 2> "$WORK/restic.err" || rc_r=$?
  TZ=$tz $STASH -r "$repo" "$@" > "$WORK/stash.out" 2> "$WORK/stash.err" || rc_s=$?
  [ "$rc_r" = "$rc_s" ] || fail "$label: exit $rc_s, restic $rc_r: $(cat "$WORK/stash.err")"
  if [ "$mode" = blocks ]; then
    blocks "$WORK/restic.out" > "$WORK/restic.cmp"
    blocks "$WORK/stash.out" > "$WORK/stash.cmp"
  else
    cp "$WORK/restic.out" "$WORK/restic.cmp"
    cp "$WORK/stash.out" "$WORK/stash.cmp"
  fi
  if ! cmp -s "$WORK/restic.cmp" "$WORK/stash.cmp"; then
    diff -u "$WORK/restic.cmp" "$WORK/stash.cmp" >&2 || true
    fail "$label: output differs from restic's"
  fi
  [ -s "$WORK/restic.out" ] || [ "$rc_r" != 0 ] || [ "$*" = "snapshots --host nobody" ] ||
    fail "$label: restic printed nothing"
  pass "$label"
}

for tz in America/New_York Asia/Kolkata Pacific/Chatham; do
  compare exact "$tz" snapshots
  compare exact "$tz" snapshots --compact
  compare exact "$tz" snapshots --tag "a, b"
  compare exact "$tz" snapshots --tag ""
  compare exact "$tz" snapshots --tag "" --tag verylongtagname
  compare exact "$tz" snapshots --host h --path "$WORK/d1"
  compare exact "$tz" snapshots --host hostX --host a-much-longer-hostname -c
  compare exact "$tz" snapshots --host nobody
  compare exact "$tz" snapshots --latest 1
  compare blocks "$tz" snapshots --group-by host
  compare blocks "$tz" snapshots --group-by host,tags --compact
  compare exact "$tz" forget --dry-run --keep-last 1 --group-by ""
  compare blocks "$tz" forget --dry-run --keep-last 1
  compare blocks "$tz" forget --dry-run --keep-last 1 --compact --group-by host
  compare blocks "$tz" forget --dry-run --keep-last 1 --host h --tag "a, b" --tag ""
  compare exact "$tz" ls latest
  compare exact "$tz" ls latest --host h
  compare exact "$tz" ls latest --host hostX "$WORK/d1"
  compare exact "$tz" ls latest --host a-much-longer-hostname
  compare exact "$tz" ls latest --tag s
done
compare exact America/New_York ls -q latest
compare exact UTC ls latest --host h --recursive "$WORK"
compare exact UTC ls latest "$WORK/d1" "$WORK//d2/"
compare exact UTC ls latest relative/dir
compare exact UTC snapshots
compare exact America/New_York snapshots --tag "a, b" --json
compare exact America/New_York snapshots --group-by host --host h --json

# The blank line between rows appears only with several paths; once the
# two-path snapshot is filtered out the table is dense.
out=$(TZ=UTC $STASH -r "$repo" snapshots --host h)
[[ "$out" != *$'\n\n'* ]] || fail "a table of one-path snapshots has blank lines"
pass "dense table without multi-path snapshots"
