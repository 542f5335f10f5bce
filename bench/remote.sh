#!/usr/bin/env bash
# Backup and restore throughput to a local S3 server, stash against restic,
# in one run on the same data and the same server.
#
#   bash bench/remote.sh [--size MIB]
#
# The server is MinIO when installed (STASH_WITH_MINIO=1 scripts/install-deps.sh),
# else s3rver over HTTPS (restic 0.14 cannot read back what it uploads to
# s3rver over plain HTTP). Both tools get
# a bucket of their own; each step runs once per tool, restic first. The
# table gives MiB/s of source data and the speed-up (restic time / stash time).
set -euo pipefail
cd "$(dirname "$0")/.."
size=256
while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    *) echo "usage: bench/remote.sh [--size MIB]" >&2; exit 2 ;;
  esac
done
bash scripts/build.sh > /dev/null
stash=$PWD/build/cmd/stash
work=$(mktemp -d /tmp/stash-bench-remote-XXXXXX)
server_pid=
trap '[ -n "$server_pid" ] && kill $server_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
export RESTIC_PASSWORD=bench
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
minio=$(command -v minio || echo "$HOME/go/bin/minio")
tls=()
if [ -x "$minio" ]; then
  server=minio
  export AWS_ACCESS_KEY_ID=bench-key AWS_SECRET_ACCESS_KEY=bench-secret
  mkdir -p "$work/s3"
  MINIO_ROOT_USER=$AWS_ACCESS_KEY_ID MINIO_ROOT_PASSWORD=$AWS_SECRET_ACCESS_KEY MINIO_BROWSER=off \
    "$minio" server "$work/s3" --quiet --address "127.0.0.1:$port" > "$work/server.log" 2>&1 &
  server_pid=$!
  base=s3:http://127.0.0.1:$port
else
  server=s3rver
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
  s3rver -d "$work/s3" -a 127.0.0.1 -p "$port" --silent --key "$work/key.pem" --cert "$work/cert.pem" \
    --configure-bucket restic --configure-bucket stash > "$work/server.log" 2>&1 &
  server_pid=$!
  base=s3:https://127.0.0.1:$port
  tls=(--cacert "$work/cert.pem")
fi
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
unset AWS_SESSION_TOKEN AWS_DEFAULT_REGION

python3 bench/gen_tree.py "$work/src" "$size" > /dev/null
tar cf /dev/null "$work/src" 2>/dev/null || true
results=$work/results.jsonl
measure() {  # STEP TOOL CMD...
  local step=$1 tool=$2; shift 2
  echo "{\"step\":\"$step\",\"tool\":\"$tool\",\"m\":$(python3 bench/measure.py -- "$@")}" >> "$results"
}
declare -A bin=([restic]=restic [stash]=$stash)
for tool in restic stash; do
  repo=$base/$tool
  ${bin[$tool]} "${tls[@]}" -r "$repo" init > /dev/null
  measure backup $tool ${bin[$tool]} "${tls[@]}" -r "$repo" backup -q "$work/src"
  measure restore $tool ${bin[$tool]} "${tls[@]}" -r "$repo" restore latest --target "$work/out-$tool"
  rm -rf "$work/out-$tool"
done
python3 - "$results" "$size" "$server" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
size, server = float(sys.argv[2]), sys.argv[3]
by = {(r["step"], r["tool"]): r["m"] for r in rows}
print(f"S3 server: {server}, {size:.0f} MiB generated tree")
print("| step | restic MiB/s | stash MiB/s | speed-up | restic RSS MiB | stash RSS MiB |")
print("|---|---|---|---|---|---|")
for step in ("backup", "restore"):
    r, s = by[(step, "restic")], by[(step, "stash")]
    print(f"| {step} | {size / r['seconds']:.0f} | {size / s['seconds']:.0f} | "
          f"{r['seconds'] / s['seconds']:.2f}x | {r['max_rss_kib'] / 1024:.0f} | {s['max_rss_kib'] / 1024:.0f} |")
PY
