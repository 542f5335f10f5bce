#!/usr/bin/env bash
# The S3 backend against MinIO, which (unlike s3rver) verifies every
# Signature V4: stash writes and restic reads and the other way round,
# virtual-hosted addressing, and a wrong secret key refused by name.
# Skipped (exit 77) when no minio binary is installed; build one with
# STASH_WITH_MINIO=1 bash scripts/install-deps.sh.
source "$(dirname "$0")/lib.sh"
source "$HERE/remote_lib.sh"
MINIO=$(command -v minio || echo "$HOME/go/bin/minio")
[ -x "$MINIO" ] || { echo "SKIP: minio is not installed"; exit 77; }
python3 "$HERE/make_tree.py" "$WORK/src" 7
warm_atimes "$WORK/src"
export AWS_ACCESS_KEY_ID=stash-test AWS_SECRET_ACCESS_KEY=stash-test-secret
unset AWS_SESSION_TOKEN AWS_DEFAULT_REGION STASH_S3_BUCKET_LOOKUP

MINIO_PORT=$(free_port)
mkdir -p "$WORK/minio"
# MINIO_DOMAIN: requests for <bucket>.s3.localhost are virtual-hosted.
start_server "$WORK/minio.log" env MINIO_ROOT_USER="$AWS_ACCESS_KEY_ID" \
  MINIO_ROOT_PASSWORD="$AWS_SECRET_ACCESS_KEY" MINIO_DOMAIN=s3.localhost \
  MINIO_BROWSER=off MINIO_UPDATE=off \
  "$MINIO" server "$WORK/minio" --quiet --address "127.0.0.1:$MINIO_PORT"
wait_port "$MINIO_PORT" "minio" "$WORK/minio.log"
base=s3:http://127.0.0.1:$MINIO_PORT/stashbucket

stash_to_restic "$base/stash" "minio"   # stash's init creates the bucket
restic_to_stash "$base/restic" "minio"

STASH_S3_BUCKET_LOOKUP=dns $STASH -q -r "s3:http://s3.localhost:$MINIO_PORT/stashbucket/stash" \
  backup "$WORK/src" --tag vhost
$RESTIC -r "$base/stash" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "restic check after a virtual-hosted backup"; }
pass "virtual-hosted: backup accepted by restic check --read-data"

! AWS_SECRET_ACCESS_KEY=wrong $STASH -r "$base/stash" snapshots 2> "$WORK/err" ||
  fail "a wrong secret key was accepted"
expect_in "$WORK/err" "s3: keys/: 403 Forbidden: SignatureDoesNotMatch" \
  "a wrong secret reads 403 SignatureDoesNotMatch"
