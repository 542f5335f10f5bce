#!/usr/bin/env bash
# stash check finds what restic 0.14's check finds. A clean repository made
# by MAKER passes both checks (with --read-data); then for each kind of
# damage, on a fresh copy, both exit with the same status and stash names
# the damaged pack, blob, tree, index or snapshot.
# usage: check_vs_restic.sh restic|stash REPOSITORY-VERSION [newer]
# With "newer" restic is 0.18.1 rather than 0.14 (use_newer_restic).
source "$(dirname "$0")/lib.sh"
maker=${1:?maker} version=${2:?version}
[ "${3:-}" = newer ] && use_newer_restic
src=$WORK/src base=$WORK/base
python3 "$HERE/make_tree.py" "$src" 5
tool=$STASH; [ "$maker" = restic ] && tool=$RESTIC
$tool -q -r "$base" init --repository-version "$version"
$tool -q -r "$base" backup "$src"
echo "second backup" > "$src/changed.txt"
$tool -q -r "$base" backup "$src"
chmod -R u+w "$base"

# What the index says, from restic's own reading of it: `idx WHAT [ARG]`.
#   data-pack        the biggest pack holding only data blobs
#   blob-at P OFF    the blob of pack P covering byte OFF
#   pack-of B        the pack holding blob B
#   index-of B       the index file listing blob B
mkdir "$WORK/idx"
for i in $(ls "$base/index"); do $RESTIC -r "$base" cat index "$i" > "$WORK/idx/$i"; done
idx() {
  python3 - "$WORK/idx" "$@" <<'PY'
import json, os, sys
folder, what, args = sys.argv[1], sys.argv[2], sys.argv[3:]
packs = {}  # pack id -> (index id, blobs)
for name in os.listdir(folder):
    for p in json.load(open(os.path.join(folder, name)))["packs"]:
        packs[p["id"]] = (name, p["blobs"])
if what == "data-pack":
    data = [(sum(b["length"] for b in bl), p) for p, (_, bl) in packs.items()
            if all(b["type"] == "data" for b in bl)]
    print(max(data)[1])
elif what == "blob-at":
    off = int(args[1])
    print(next(b["id"] for b in packs[args[0]][1] if b["offset"] <= off < b["offset"] + b["length"]))
else:
    hit = next((p, i) for p, (i, bl) in packs.items() if any(b["id"] == args[0] for b in bl))
    print(hit[0] if what == "pack-of" else hit[1])
PY
}
packfile() { echo "$r/data/${1:0:2}/$1"; }
flip() { python3 -c "
import sys; p, off = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p,'rb').read())
b[off % len(b)] ^= 0x40; open(p,'wb').write(b)" "$1" "$2"; }
fresh() { rm -rf "$WORK/r"; cp -a "$base" "$WORK/r"; r=$WORK/r; }

# both NAME WANT-RC [CHECK-FLAGS...]: runs restic's and stash's check on $r;
# both must exit WANT-RC. Outputs in $WORK/{restic,stash}.{out,err}.
both() {
  local name=$1 want=$2 rc; shift 2
  rc=0; $RESTIC --no-cache -r "$r" check "$@" > "$WORK/restic.out" 2> "$WORK/restic.err" || rc=$?
  [ "$rc" = "$want" ] || { cat "$WORK/restic.out" "$WORK/restic.err"; fail "$name: restic check exit $rc, want $want"; }
  rc=0; $STASH -r "$r" check "$@" > "$WORK/stash.out" 2> "$WORK/stash.err" || rc=$?
  [ "$rc" = "$want" ] || { cat "$WORK/stash.out" "$WORK/stash.err"; fail "$name: stash check exit $rc, want $want"; }
}
# names NAME FILE PATTERN...: stash's output FILE (out|err) matches every PATTERN.
names() {
  local name=$1 file=$WORK/stash.$2; shift 2
  for p in "$@"; do grep -qE -- "$p" "$file" || { cat "$WORK/stash.out" "$WORK/stash.err"; fail "$name: no /$p/"; }; done
  pass "$name: $(grep -m1 -E -- "$1" "$file")"
}

r=$base
both "clean $maker v$version repository" 0 --read-data
grep -q "no errors were found" "$WORK/stash.out" || fail "clean: no 'no errors were found'"
[ -z "$(ls "$base/locks")" ] || fail "check left a lock behind"
pass "clean $maker v$version repository passes restic and stash check --read-data"

# Groups 1/2 and 2/2 split the packs as restic splits them, reading each once.
total=$(find "$base/data" -type f | wc -l)
sum=0
for g in 1 2; do
  both "subset $g/2" 0 --read-data-subset "$g/2"
  line=$(grep "read group" "$WORK/stash.out")
  [ "$line" = "$(grep "read group" "$WORK/restic.out")" ] || fail "subset $g/2: stash '$line', restic '$(grep "read group" "$WORK/restic.out")'"
  n=$(sed -E 's/.* of ([0-9]+) data packs .*/\1/' <<< "$line")
  sum=$((sum + n))
done
[ "$sum" = "$total" ] || fail "subsets 1/2 + 2/2 read $sum packs of $total"
pass "--read-data-subset 1/2 + 2/2 read all $total packs once, grouped as restic groups them"

snaps=$(ls "$base/snapshots")
snap=$(head -n 1 <<< "$snaps")
root=$($RESTIC -r "$base" cat snapshot "$snap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tree"])')
data_pack=$(idx data-pack)
tree_pack=$(idx pack-of "$root")
root_index=$(idx index-of "$root")

fresh; flip "$(packfile "$data_pack")" 100
blob=$(idx blob-at "$data_pack" 100)
both "flipped byte in a blob" 1 --read-data
names "flipped byte in a blob" err "pack $data_pack: content does not match" "pack $data_pack: data blob $blob: ciphertext verification failed"

fresh; flip "$(packfile "$data_pack")" -10
both "flipped byte in a pack header" 1 --read-data
names "flipped byte in a pack header" err "pack $data_pack: pack header"

# Reading a missing or short pack makes restic retry for a minute; the pack
# listing phase already finds these.
fresh; truncate -s 1000 "$(packfile "$data_pack")"
both "truncated pack" 1
names "truncated pack" err "pack $data_pack: unexpected file size: got 1000"

fresh; rm "$(packfile "$data_pack")"
both "missing data pack" 1
names "missing data pack" err "pack $data_pack: does not exist"

stray=$(printf 'ab%062d' 0)
fresh; mkdir -p "$r/data/ab"; cp "$(packfile "$data_pack")" "$r/data/ab/$stray"
both "copy of a pack under a wrong name (non-critical in restic 0.14)" 0 --read-data
names "unreferenced pack" out "pack $stray: not referenced in any index"

fresh; rm "$r/index/$root_index"
both "missing index" 1
names "missing index" err "tree $root: not found in index"

fresh; flip "$r/index/$root_index" 50
both "flipped byte in an index" 1
names "flipped byte in an index" err "index/$root_index"

fresh; flip "$r/snapshots/$snap" 50
both "flipped byte in a snapshot" 1
names "flipped byte in a snapshot" err "snapshots/$snap"

# restic retries each tree it cannot read for about 45 s: keep one snapshot.
fresh; rm "$(packfile "$tree_pack")"
find "$r/snapshots" -type f ! -name "$snap" -delete
both "missing tree pack" 1
names "missing tree pack" err "pack $tree_pack: does not exist" "tree $root: pack $tree_pack"

# restic's rebuild-index drops a pack that is gone; putting it back leaves
# its trees (the snapshot's root among them) out of the index.
fresh; cp "$(packfile "$tree_pack")" "$WORK/tree_pack"; rm "$(packfile "$tree_pack")"
$RESTIC --no-cache -q -r "$r" rebuild-index > /dev/null
cp "$WORK/tree_pack" "$(packfile "$tree_pack")"
both "root tree left out of the index" 1
names "root tree left out of the index" err "tree $root: not found in index \(referenced by snapshot $snap\)"
names "root tree left out of the index" out "pack $tree_pack: not referenced in any index"

pass "stash check agrees with restic check on a $maker v$version repository"
