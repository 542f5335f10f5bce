#!/usr/bin/env bash
# Backup and restore through a local S3 server: stash against restic 0.14,
# restic 0.18.1 and rustic 0.11.4, in one run on the same data and server.
#
#   bash bench/remote.sh [--size MIB] [--repeat N] [--restore-dir DIR]
#                        [--stash BIN] [--no-build] [--same-key]
#                        [--keep-results FILE]
#
# The server is MinIO when installed (STASH_WITH_MINIO=1 scripts/install-deps.sh,
# or ~/go/bin/minio), else s3rver over HTTPS (restic 0.14 cannot read back what
# it uploads to s3rver over plain HTTP). Every tool gets a folder of its own
# in one bucket; restic and stash reach it as s3:URL/bench/TOOL, rustic through
# its opendal S3 service (a profile naming endpoint, bucket and root). The
# data is a generated tree (bench/gen_tree.py, default 256 MiB, warm in the
# page cache). Steps: a first backup into a format 2 repository, then a
# restore to the local disk; each step runs for every tool back to back
# (in an order that rotates from round to round: bench/peer_tools.sh
# round_order), after a sync. Restores go to the disk of /tmp,
# or below --restore-dir (e.g. /dev/shm, a tmpfs: what the tools cost rather
# than the file system), and are deleted only when the run ends: on ext4,
# creating files right after thousands were deleted makes the kernel scan
# for free inodes, which would charge one tool's clean-up to the next.
# --repeat N runs each step N times (backups into fresh repositories) and
# keeps each tool's fastest time. --same-key gives every repository a key of
# stash's scrypt cost in place of its tool's own, as in bench/run.sh.
#
# Peers come from bench/peers.sh, as for bench/run.sh: a peer that is
# unavailable, or fails a step, is named in the output and left out of the
# ratios, which compare stash with the faster of restic 0.18.1 and rustic
# (peer seconds / stash seconds: above 1 means stash is faster). The table
# is bench/summary.py's; the run fails if stash fails a step. The load
# average is printed at the start and the end: others share the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bench/remote.sh [--size MIB] [--repeat N] [--restore-dir DIR] [--stash BIN] [--no-build] [--same-key] [--keep-results FILE]"
size=256 repeat=1 stash= peer_flags=() keep= restore_dir= same_key=
while [ $# -gt 0 ]; do
  case $1 in
    --size|--repeat|--restore-dir|--stash|--keep-results)
      if [ $# -lt 2 ] || [ -z "$2" ]; then echo "bench: $1 needs a value" >&2; exit 2; fi ;;
  esac
  case $1 in
    --size) size=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --restore-dir) restore_dir=$2; shift 2 ;;
    --stash) stash=$2; shift 2 ;;
    --no-build) peer_flags+=(--no-build); shift ;;
    --keep-results) keep=$2; shift 2 ;;
    --same-key) same_key=1; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
case $size in ''|0|*[!0-9]*) echo "bench: --size must be a number of MiB, not '$size'" >&2; exit 2 ;; esac
case $repeat in ''|0|*[!0-9]*) echo "bench: --repeat must be a positive number, not '$repeat'" >&2; exit 2 ;; esac
if [ -n "$restore_dir" ] && [ ! -d "$restore_dir" ]; then
  echo "bench: --restore-dir $restore_dir is not a folder" >&2; exit 2
fi
if [ -z "$stash" ]; then
  bash scripts/build.sh > /dev/null
  stash=$PWD/build/cmd/stash
fi
if [ ! -x "$stash" ]; then echo "bench: stash binary $stash is not executable" >&2; exit 2; fi

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d /tmp/stash-bench-remote-XXXXXX)
server_pid=
restores=$work/restores
[ -z "$restore_dir" ] || restores=$(mktemp -d "$restore_dir/stash-bench-restores-XXXXXX")
trap '[ -n "$server_pid" ] && kill $server_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work" "$restores"' EXIT
mkdir -p "$restores"
results=$work/results.jsonl
: > "$results"
# Fresh caches (restic and rustic keep one) and rustic's profile, all in
# the work folder.
export XDG_CACHE_HOME=$work/cache XDG_CONFIG_HOME=$work/config
export RESTIC_PASSWORD=bench RUSTIC_PASSWORD=bench
unset AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_PROFILE

source bench/peer_tools.sh
load_peers "$work" "$results" "$stash" "${peer_flags[@]}"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
minio=$(command -v minio || echo "$HOME/go/bin/minio")
bucket=bench tls=() scheme=http
mkdir -p "$work/s3"
if [ -x "$minio" ]; then
  # A `go install` build reports no version of its own; its module version says which.
  server="MinIO $(go version -m "$minio" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')"
  export AWS_ACCESS_KEY_ID=bench-key AWS_SECRET_ACCESS_KEY=bench-secret
  MINIO_ROOT_USER=$AWS_ACCESS_KEY_ID MINIO_ROOT_PASSWORD=$AWS_SECRET_ACCESS_KEY MINIO_BROWSER=off \
    "$minio" server "$work/s3" --quiet --address "127.0.0.1:$port" > "$work/server.log" 2>&1 &
  server_pid=$!
else
  server=s3rver scheme=https
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  # A CA and a server certificate it signs: rustic's TLS refuses a
  # self-signed certificate serving as its own CA.
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=stash bench CA" \
    -keyout "$work/ca-key.pem" -out "$work/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$work/cert.ext"
  openssl x509 -req -in "$work/cert.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" -CAcreateserial \
    -days 1 -extfile "$work/cert.ext" -out "$work/cert.pem" 2>/dev/null
  s3rver -d "$work/s3" -a 127.0.0.1 -p "$port" --silent --key "$work/key.pem" --cert "$work/cert.pem" \
    --configure-bucket "$bucket" > "$work/server.log" 2>&1 &
  server_pid=$!
  tls=(--cacert "$work/ca.pem")
  export SSL_CERT_FILE=$work/ca.pem  # for rustic
fi
endpoint=$scheme://127.0.0.1:$port
up=0
for _ in $(seq 300); do
  if curl -s -o /dev/null "${tls[@]}" "$endpoint/"; then up=1; break; fi
  sleep 0.1
done
if [ $up = 0 ]; then echo "bench: $server did not start: $(tail -n 5 "$work/server.log")" >&2; exit 1; fi
# The bucket, made once: rustic's opendal service does not create one.
if [ "$server" != s3rver ] && ! curl -sf -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$endpoint/$bucket" > /dev/null; then
  echo "bench: could not create bucket $bucket on $server" >&2; exit 1
fi
echo "bench: $server at $endpoint; comparing ${tools[*]}" >&2
print_key_mode "$same_key"

# repo_for TOOL ROUND: sets `repo` (the s3: location restic and stash take)
# and `profile`, rustic's profile naming the same folder.
repo_for() {
  local slug=${1// /-}-$2
  repo=s3:$endpoint/$bucket/$slug
  profile=bench-$slug
  mkdir -p "$XDG_CONFIG_HOME/rustic"
  cat > "$XDG_CONFIG_HOME/rustic/$profile.toml" <<EOF
[repository]
repository = "opendal:s3"
[repository.options]
endpoint = "$endpoint"
bucket = "$bucket"
root = "/$slug"
region = "us-east-1"
access_key_id = "$AWS_ACCESS_KEY_ID"
secret_access_key = "$AWS_SECRET_ACCESS_KEY"
EOF
}

# command_for TOOL STEP [ARG]: sets argv for STEP on `repo` / `profile`.
command_for() {
  local tool=$1 step=$2 arg=${3:-} b=${bin[$1]}
  case $tool in
    rustic*)
      case $step in
        init) argv=("$b" -P "$profile" --no-progress init --set-version 2) ;;
        backup) argv=("$b" -P "$profile" --no-progress backup "$arg") ;;
        restore) argv=("$b" -P "$profile" --no-progress restore latest "$arg") ;;
        *) echo "bench: no command for step '$step'" >&2; exit 2 ;;
      esac ;;
    *)
      case $step in
        init) argv=("$b" -q "${tls[@]}" -r "$repo" init --repository-version 2) ;;
        backup) argv=("$b" -q "${tls[@]}" -r "$repo" backup "$arg") ;;
        restore) argv=("$b" -q "${tls[@]}" -r "$repo" restore latest --target "$arg") ;;
        *) echo "bench: no command for step '$step'" >&2; exit 2 ;;
      esac ;;
  esac
}

error_text() {  # FILE: a tool's error output as one short line
  local text
  text=$(sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^command failed (\(-\?[0-9]*\)): .*/exit status \1:/' "$1" \
    | { grep -v '^\[INFO\]' || true; } | tr '\n' ' ') || true
  text=${text%%Backtrace:*}
  printf '%s' "${text:0:300}"
}

loc="$server (S3 on loopback), restores on $(df --output=fstype "$restores" | tail -n 1) $(df --output=target "$restores" | tail -n 1)"
record() {  # STEP TOOL KEY VALUE
  python3 -c 'import json,sys; l,s,t,k,v=sys.argv[1:]
print(json.dumps({"location": l, "dataset": "generated", "step": s, "tool": t,
                  k: json.loads(v) if k == "m" else v}))' "$loc" "$@" >> "$results"
}
measure() {  # STEP TOOL CMD...: a failure is recorded and named, and returns 1
  local step=$1 tool=$2 m reason; shift 2
  if m=$(python3 bench/measure.py -- "$@" 2> "$work/err"); then
    record "$step" "$tool" m "$m"
    return 0
  fi
  reason=$(error_text "$work/err")
  echo "bench: $tool $step failed: $reason" >&2
  record "$step" "$tool" failed "$reason"
  return 1
}

src=$work/src
python3 bench/gen_tree.py "$src" "$size" > /dev/null
tar cf /dev/null "$src" 2>/dev/null || true  # warm the page cache
declare -A have=()
for r in $(seq "$repeat"); do
  round_order "$r"
  for tool in "${order[@]}"; do
    repo_for "$tool" "$r"
    command_for "$tool" init
    reason=
    if ! "${argv[@]}" > /dev/null 2> "$work/err"; then
      reason="init failed: $(error_text "$work/err")"
    elif [ -n "$same_key" ] && ! replace_key "$stash" "$work" "$repo" "${tls[@]}" 2> "$work/err"; then
      reason="key of stash's cost not set: $(error_text "$work/err")"
    fi
    if [ -n "$reason" ]; then
      echo "bench: $tool $reason" >&2
      record "backup v2" "$tool" failed "$reason"
      continue
    fi
    sync
    command_for "$tool" backup "$src"
    measure "backup v2" "$tool" "${argv[@]}" && [ "$r" = 1 ] && have[$tool]=1
  done
done
for r in $(seq "$repeat"); do
  round_order "$r"
  for tool in "${order[@]}"; do
    [ -n "${have[$tool]:-}" ] || continue
    repo_for "$tool" 1
    target=$restores/${tool// /-}-$r
    sync
    command_for "$tool" restore "$target"
    measure restore "$tool" "${argv[@]}" || true
  done
done
# What each repository holds on the server (MinIO and s3rver keep an
# object as a file, plus a little metadata).
for tool in "${tools[@]}"; do
  [ -n "${have[$tool]:-}" ] || continue
  mib=$(du -sm "$work/s3/$bucket/${tool// /-}-1" 2>/dev/null | cut -f1) || continue
  record "repository MiB" "$tool" m "{\"mib\": $mib}"
done

status=0
[ -z "$keep" ] || cp "$results" "$keep"  # raw results: python3 bench/summary.py < FILE
echo "S3 server: $server; ${size} MiB generated tree; $repeat round(s)"
python3 bench/summary.py < "$results" || status=$?
echo "load average (1, 5, 15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
