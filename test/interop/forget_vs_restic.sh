#!/usr/bin/env bash
# `stash forget` keeps exactly the snapshots `restic forget` (0.14) keeps.
#
# Builds five histories (dense multi-host/multi-offset, ISO week 53, DST
# changes, exact ties, sparse with future snapshots), then compares
# `forget --dry-run --json` of both tools for many policies and --group-by
# values, the real removal on copies, text output, and bad input.
#
# Ties in time: restic orders equal times as its parallel loader delivers
# them, so the history with ties is compared without ids and only where
# tied snapshots in one group are identical twins (same time, host, tags,
# paths); the other histories have no ties and compare ids too.
source "$(dirname "$0")/lib.sh"
REPO_TOOL=${REPO_TOOL:?REPO_TOOL must point at repo_tool}
base=$WORK/base
$STASH init -q --repo "$base"
mkdir -p "$WORK/src" && echo data > "$WORK/src/f"
$STASH -r "$base" backup -q --host seed --time 2000-01-01T00:00:00Z "$WORK/src" > /dev/null

# ---- Histories: lines "TIME HOST TAGS PATHS" for repo_tool add-snapshots ----
python3 - "$WORK" <<'PY'
import random, sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
work = sys.argv[1]
rnd = random.Random(20221)
OFFSETS = [0, 19800, -28800, 3600, 7200, -25200, 50400, -43200]  # Z +05:30 -08:00 ... +14:00 -12:00

def stamp(utc, offset):
    tz = timezone(timedelta(seconds=offset))
    return utc.astimezone(tz).isoformat().replace("+00:00", "Z")

def write(name, lines):
    with open(f"{work}/{name}.hist", "w") as f:
        f.write("\n".join(lines) + "\n")

def dense():
    start = datetime(2021, 12, 20, tzinfo=timezone.utc)
    seconds = set()
    while len(seconds) < 450:  # several a day for eight weeks over the new year
        seconds.add(rnd.randrange(0, 58 * 86400))
    while len(seconds) < 560:  # then sparse until 2023
        seconds.add(rnd.randrange(58 * 86400, 390 * 86400))
    out = []
    for s in sorted(seconds):
        host = rnd.choice(["h1", "h1", "h2"])
        paths = rnd.choice(["/data", "/data,/etc"]) if host == "h1" else "/data"
        tags = rnd.choice(["-", "a", "b", "c", "a,b", "b,a"])
        out.append(f"{stamp(start + timedelta(seconds=s), rnd.choice(OFFSETS))} {host} {tags} {paths}")
    return out

def week53():
    out = []
    for first in (datetime(2015, 12, 24), datetime(2020, 12, 20), datetime(2026, 12, 20)):
        for d in range(24):
            utc = (first + timedelta(days=d, hours=12)).replace(tzinfo=timezone.utc)
            out.append(f"{stamp(utc, rnd.choice(OFFSETS))} w - /data")
    # Near midnight, where the offset decides the day and the ISO week.
    for t in ["2021-01-03T23:30:00-08:00", "2021-01-04T00:30:00+05:30", "2021-01-04T07:10:00Z",
              "2020-12-31T23:59:59-12:00", "2021-01-01T00:00:00+14:00", "2027-01-03T23:00:00-08:00"]:
        out.append(f"{t} w - /data")
    return out

def dst():
    out = []
    spans = [("Europe/Berlin", datetime(2022, 3, 26, 12), 30), ("Europe/Berlin", datetime(2022, 10, 29, 20), 12),
             ("America/Los_Angeles", datetime(2022, 11, 5, 20), 14), ("America/Los_Angeles", datetime(2022, 3, 13, 5), 8)]
    for zone, first, hours in spans:
        host = "berlin" if "Berlin" in zone else "la"
        for h in range(hours):
            for minute in (5, 35):
                utc = (first + timedelta(hours=h, minutes=minute)).replace(tzinfo=timezone.utc)
                out.append(f"{utc.astimezone(ZoneInfo(zone)).isoformat()} {host} - /data")
    return out

def ties():
    out = []
    start = datetime(2022, 12, 30, tzinfo=timezone.utc)
    for i in range(40):
        utc = start + timedelta(hours=7 * i)
        line = f"{stamp(utc, rnd.choice(OFFSETS))} {rnd.choice(['t1', 't2'])} {rnd.choice(['-', 'a'])} /data"
        out += [line] * rnd.choice([1, 2, 3])
        out.append(line.replace(" t1 ", " t3 ").replace(" t2 ", " t3 "))  # same time, other group
    return out

def sparse():
    out = []
    utc = datetime(2010, 1, 1, 3, tzinfo=timezone.utc)
    while utc.year < 2025:
        out.append(f"{stamp(utc, rnd.choice(OFFSETS))} s {rnd.choice(['-', 'a', 'c'])} /data")
        utc += timedelta(days=rnd.randrange(20, 70), hours=rnd.randrange(0, 24))
    out += ["2080-06-01T00:00:00Z s - /data", "2099-01-01T00:00:00+05:30 s a /data"]
    return out

for name, fn in [("dense", dense), ("week53", week53), ("dst", dst), ("ties", ties), ("sparse", sparse)]:
    write(name, fn())
PY

histories=(dense week53 dst ties sparse)
for h in "${histories[@]}"; do
  cp -a "$base" "$WORK/$h"
  n=$($REPO_TOOL add-snapshots "$WORK/$h" "$RESTIC_PASSWORD" "$WORK/$h.hist")
  echo "history $h: $n snapshots"
done

# ---- JSON comparison ----
cat > "$WORK/cmp.py" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[5])
from restic_view import as_restic_014_shows
mode, a, b, label = sys.argv[1:5]
def load(p):
    text = open(p).read().strip()
    return as_restic_014_shows(json.loads(text)) if text else []
def snap(s):
    return s if mode == "strict" else {k: v for k, v in s.items() if k not in ("id", "short_id")}
def norm(doc):
    out = []
    for g in doc:
        g = dict(g)
        for k in ("keep", "remove"):
            g[k] = None if g[k] is None else [snap(s) for s in g[k]]
        out.append(g)
    return sorted(out, key=lambda g: json.dumps([g["host"], g["paths"], g["tags"]]))
ra, rb = norm(load(a)), norm(load(b))
if ra != rb:
    print(f"FAIL: {label}")
    for ga, gb in zip(ra, rb):
        if ga != gb:
            print("restic:", json.dumps(ga)[:4000]); print("stash: ", json.dumps(gb)[:4000]); break
    else:
        print(f"group counts {len(ra)} vs {len(rb)}")
    sys.exit(1)
PY

compared=0
compare() {  # HISTORY ARGS...
  local h=$1; shift
  local mode=strict; [ "$h" = ties ] && mode=loose
  $RESTIC -r "$WORK/$h" --no-lock forget --dry-run --json "$@" > "$WORK/r.json" 2> "$WORK/r.err" ||
    fail "restic forget $* on $h: $(cat "$WORK/r.err")"
  $STASH -r "$WORK/$h" --no-lock forget --dry-run --json "$@" > "$WORK/s.json" 2> "$WORK/s.err" ||
    fail "stash forget $* on $h: $(cat "$WORK/s.err")"
  python3 "$WORK/cmp.py" $mode "$WORK/r.json" "$WORK/s.json" "forget $* on $h" "$HERE" || exit 1
  compared=$((compared + 1))
}

policies=(
  "--keep-last 1" "--keep-last 7" "-l 1000" "--keep-hourly 30" "-H 5 -d 3" "--keep-daily 10"
  "--keep-weekly 8" "--keep-monthly 6" "--keep-yearly 3" "-l 2 -H 12 -d 7 -w 5 -m 12 -y 10"
  "--keep-within 1d" "--keep-within 36h" "--keep-within 1m" "--keep-within 1y2m3d4h"
  "--keep-within 400d" "--keep-within-hourly 2d" "--keep-within-daily 1m"
  "--keep-within-weekly 3m" "--keep-within-monthly 1y" "--keep-within-yearly 10y"
  "--keep-within-daily 7d --keep-within-weekly 2m --keep-within-monthly 2y --keep-daily 3"
  "--keep-tag a" "--keep-tag a,b" "--keep-tag c --keep-tag b,a --keep-last 2" "--keep-tag="
  "--keep-last -1" "--keep-within -2d --keep-daily 1" "--keep-daily 3 --host h1 --host berlin"
  "--keep-weekly 2 --tag a" "--keep-last 2 --path /data" "--keep-monthly 2 --tag a,b --tag c"
)
group_policies=("-l 3" "-d 4 -w 2" "--keep-within 2m" "--keep-within-weekly 1y --keep-tag c" "-m 3 -y 2")
group_bys=("--group-by host" "--group-by paths" "--group-by tags" "-g host,tags" "--group-by=" "-g hosts,paths,tags")
for h in "${histories[@]}"; do
  for p in "${policies[@]}"; do compare "$h" $p; done
  for p in "${group_policies[@]}"; do
    for g in "${group_bys[@]}"; do
      # Twins that differ only in host would meet in one group: restic's
      # choice between them is random there.
      [ "$h" = ties ] && [[ "$g" != *host* ]] && continue
      compare "$h" $p $g
    done
  done
done
pass "forget --dry-run --json equal for $compared policy runs over ${#histories[@]} histories"

# ---- Text output, on one group without ties (restic prints groups in random order) ----
for p in "-d 3 -w 2 --keep-tag a" "-l 4 -c" "--keep-within 2d -v"; do
  TZ=America/New_York $RESTIC -r "$WORK/dst" --no-lock forget --dry-run --host berlin $p > "$WORK/r.txt" 2>&1
  TZ=America/New_York $STASH -r "$WORK/dst" --no-lock forget --dry-run --host berlin $p > "$WORK/s.txt" 2>&1
  diff "$WORK/r.txt" "$WORK/s.txt" || fail "text output of forget $p differs"
done
pass "text output matches"

# ---- Real removal on copies of the repository ----
remaining() { $RESTIC -r "$1" snapshots --json | python3 -c 'import json,sys; print(sorted(s["id"] for s in json.load(sys.stdin)))'; }
removal() {  # HISTORY ARGS...
  local h=$1; shift
  rm -rf "$WORK/by-restic" "$WORK/by-stash"
  cp -a "$WORK/$h" "$WORK/by-restic" && cp -a "$WORK/$h" "$WORK/by-stash"
  $RESTIC -r "$WORK/by-restic" forget -q "$@" || fail "restic forget $*"
  $STASH -r "$WORK/by-stash" forget -q "$@" || fail "stash forget $*"
  [ "$(remaining "$WORK/by-restic")" = "$(remaining "$WORK/by-stash")" ] ||
    fail "different snapshots remain after forget $* on $h"
  $RESTIC -r "$WORK/by-stash" check -q > /dev/null 2>&1 || fail "restic check after stash forget $*"
}
removal dense -l 2 -d 7 -w 5 -m 12 -y 10
removal dense --keep-within 1m --keep-tag a
removal dst --keep-hourly 10 --group-by=
removal week53 --keep-weekly 3 --keep-within-daily 5d
ids=$($RESTIC -r "$WORK/sparse" snapshots --json | python3 -c 'import json,sys; l=json.load(sys.stdin); print(l[3]["id"], l[7]["short_id"], l[3]["id"][:12])')
removal sparse $ids
pass "removal leaves the same snapshots and restic check passes"

# forget --prune: the data only the forgotten snapshot used goes, restic still agrees.
cp -a "$WORK/dense" "$WORK/pruned"
echo other > "$WORK/src/g"
$STASH -r "$WORK/pruned" backup -q --host seed --time 1999-12-31T00:00:00Z "$WORK/src" > /dev/null
$STASH -r "$WORK/pruned" forget -q --host seed --keep-last 1 --prune > /dev/null || fail "forget --prune"
$RESTIC -r "$WORK/pruned" check --read-data -q > /dev/null 2>&1 || fail "restic check after forget --prune"
pass "forget --prune leaves a repository restic checks clean"

# ---- Bad input: non-zero exit, one Fatal line naming the problem ----
before=$(remaining "$WORK/sparse")
refuse() {  # WHAT-TO-FIND ARGS...
  local want=$1; shift
  rc=0; $STASH -r "$WORK/sparse" forget "$@" > "$WORK/out" 2> "$WORK/err" || rc=$?
  [ $rc -ne 0 ] || fail "forget $* must fail"
  [ "$(wc -l < "$WORK/err")" = 1 ] && grep -q "^Fatal: .*$want" "$WORK/err" ||
    fail "forget $*: want one Fatal line naming $want, got: $(cat "$WORK/err")"
}
refuse '"deadbeef"' deadbeef
refuse '"3x" for "--keep-within" flag: invalid unit' --keep-within 3x
refuse "unknown grouping option: 'foo'" -l 1 --group-by host,foo
refuse "no policy was specified" --dry-run
refuse '"x" for "-l, --keep-last" flag' -l x
refuse "only applicable in combination with --dry-run" --no-lock -l 1
[ "$(remaining "$WORK/sparse")" = "$before" ] || fail "a refused forget removed snapshots"
pass "bad input refused with one Fatal line"
