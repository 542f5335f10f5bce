#!/usr/bin/env bash
# The REST backend against a real server (`rclone serve restic`): stash
# writes and restic reads, restic writes and stash reads, over plain HTTP and
# over HTTPS with basic auth; protocol v1 listings (through the fault proxy,
# which rewrites v2 answers) and the error messages users see.
source "$(dirname "$0")/lib.sh"
source "$HERE/remote_lib.sh"
python3 "$HERE/make_tree.py" "$WORK/src" 7
warm_atimes "$WORK/src"

# ---- plain HTTP ----
start_rclone "$WORK/rest"
base=rest:http://127.0.0.1:$REST_PORT
# rclone 1.60 writes a new file in place: concurrent uploads of one name can mix.
run_conformance "rest" CONFORMANCE_QUIRKS=torn-concurrent-writes CONFORMANCE_IO_FAILURE="REPOSITORY=rest:http://127.0.0.1:$(free_port)/x/" \
  "$base/conformance/"
stash_to_restic "$base/stash-repo/" "http"
restic_to_stash "$base/restic-repo" "http"

! $STASH -r "$base/stash-repo" init 2> "$WORK/err" || fail "init over an existing repository"
expect_in "$WORK/err" "already exists" "init refuses an existing repository"
! $STASH -r "$base/nothing/" snapshots 2> "$WORK/err" || fail "snapshots of a missing repository"
expect_in "$WORK/err" "no repository at $base/nothing/" "a missing repository is named"

# ---- protocol v1: listings without sizes, one HEAD per file ----
start_proxy "$REST_PORT" --every v1
v1=rest:http://127.0.0.1:$PROXY_PORT/restic-repo
$RESTIC -r "$base/restic-repo" snapshots --json > "$WORK/r.json"
$STASH -r "$v1" snapshots --json > "$WORK/s.json"
same_json "v1: snapshots" "$WORK/r.json" "$WORK/s.json"
rm -rf "$WORK/out-v1"
$STASH -q -r "$v1" restore latest --target "$WORK/out-v1"
python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out-v1$WORK/src"
$STASH -q -r "$v1" check > /dev/null
expect_in "$PROXY_LOG" "(as v1)" "v1: listings were answered in protocol v1"
stop_last_server

# ---- HTTPS with basic auth (a password that needs escaping) ----
make_cert
start_rclone "$WORK/rest-tls" --cert "$WORK/tls/cert.pem" --key "$WORK/tls/key.pem" \
  --user stash --pass 'p@ss w:rd'
tls=rest:https://stash:p%40ss%20w%3Ard@127.0.0.1:$REST_PORT
run_conformance "rest over https" CONFORMANCE_QUIRKS=torn-concurrent-writes CONFORMANCE_CACERT="$WORK/tls/cert.pem" \
  CONFORMANCE_AUTH_FAILURE="REPOSITORY=rest:https://stash:wrong@127.0.0.1:$REST_PORT/conformance/" \
  "$tls/conformance/"
stash_to_restic "$tls/repo/" "https" --cacert "$WORK/tls/cert.pem"
restic_to_stash "$tls/restic/" "https" --cacert "$WORK/tls/cert.pem"

! $STASH --cacert "$WORK/tls/cert.pem" -r "rest:https://stash:wrong@127.0.0.1:$REST_PORT/repo/" \
  snapshots 2> "$WORK/err" || fail "a wrong password was accepted"
expect_in "$WORK/err" "rest: config: 401 Unauthorized" "a wrong password reads 401 Unauthorized"
grep -q "wrong" "$WORK/err" && fail "the password leaked into the message"
! $STASH -r "$tls/repo/" snapshots 2> "$WORK/err" || fail "an unknown CA was trusted"
expect_in "$WORK/err" "certificate verify failed" "the server certificate is verified"
! $STASH --cacert "$WORK/nonexistent.pem" -r "$tls/repo/" snapshots 2> "$WORK/err" ||
  fail "a missing CA file was ignored"
expect_in "$WORK/err" "nonexistent.pem" "a missing --cacert file is named"
