#!/usr/bin/env bash
# The main job on an embedded default: build stash, create a demo repository
# in a local folder, back up a sample tree (this checkout's sources plus a
# few generated files), list the snapshots and files, and restore them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
stash=$PWD/build/cmd/stash
demo=${STASH_DEMO_DIR:-/tmp/stash-demo}
rm -rf "$demo"
mkdir -p "$demo/sample"
cp -r base crypto storage engine cmd "$demo/sample/"
printf 'hello from stash\n' > "$demo/sample/hello.txt"
head -c 3000000 /dev/urandom > "$demo/sample/random.bin"
ln -s hello.txt "$demo/sample/link-to-hello"
export RESTIC_REPOSITORY="$demo/repo" RESTIC_PASSWORD=demo-password

set -x
"$stash" init
"$stash" backup "$demo/sample" --tag demo
"$stash" backup "$demo/sample" --tag demo --host second-host
"$stash" snapshots
"$stash" ls latest | head -n 8
"$stash" restore latest --target "$demo/restored"
diff -r "$demo/sample" "$demo/restored$demo/sample" && echo "restore matches the original"
