#!/usr/bin/env bash
# The Swift backend against ncw/swift's swifttest (the in-memory server
# restic's Swift library is tested against), built from
# test/tools/swiftserver with Keystone v2/v3 in front: stash writes and
# restic reads and the other way round with v1 auth; stash with Keystone v2
# and v3 and with a preset token; forget + prune; tokens that expire every
# few requests (re-authentication); and the errors for bad credentials.
# Skipped (exit 77) when Go is missing to build the server.
source "$(dirname "$0")/lib.sh"
source "$HERE/remote_lib.sh"
command -v go > /dev/null || { echo "SKIP: go is not installed (scripts/install-deps.sh)"; exit 77; }
(cd "$TOOLS/swiftserver" && go build -o "$WORK/swiftserver" .) ||
  fail "building test/tools/swiftserver"
python3 "$HERE/make_tree.py" "$WORK/src" 7
warm_atimes "$WORK/src"
unset OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_TENANT_ID OS_TENANT_NAME OS_REGION_NAME \
  OS_USER_DOMAIN_NAME OS_PROJECT_NAME OS_PROJECT_DOMAIN_NAME OS_STORAGE_URL OS_AUTH_TOKEN

# Starts the server; sets SWIFT_PORT, KEYSTONE_PORT and SWIFT_LOG.
start_swift() {  # SERVER-FLAGS...
  local ports="$WORK/swift.ports.$RANDOM"
  SWIFT_LOG="$WORK/swift-$RANDOM.log"
  start_server "$SWIFT_LOG" "$WORK/swiftserver" -port-file "$ports" "$@"
  local i
  wait_until 30 test -s "$ports" || { cat "$SWIFT_LOG"; fail "swiftserver did not start"; }
  read -r SWIFT_PORT KEYSTONE_PORT < "$ports" || { cat "$SWIFT_LOG"; fail "swiftserver wrote no ports"; }
}

v1_env() {
  export ST_AUTH=http://127.0.0.1:$SWIFT_PORT/v1.0 ST_USER=stashtest ST_KEY=stashtest
}
keystone_env() {  # VERSION
  unset ST_AUTH ST_USER ST_KEY
  export OS_AUTH_URL=http://127.0.0.1:$KEYSTONE_PORT/$1 OS_USERNAME=demo OS_PASSWORD=secret \
    OS_REGION_NAME=RegionTwo
  if [ "$1" = v2.0 ]; then
    export OS_TENANT_NAME=demo-project
  else
    export OS_USER_DOMAIN_NAME=Default OS_PROJECT_NAME=demo-project OS_PROJECT_DOMAIN_NAME=Default
  fi
}
clear_env() {
  unset ST_AUTH ST_USER ST_KEY OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_TENANT_NAME OS_REGION_NAME \
    OS_USER_DOMAIN_NAME OS_PROJECT_NAME OS_PROJECT_DOMAIN_NAME OS_STORAGE_URL OS_AUTH_TOKEN
}

# ---- v1 auth, both directions ----
start_swift
v1_env
# swifttest slices its objects without checking ranges: a range past the
# end returns stale memory or a 500, so those reads are reported only.
run_conformance "swift" CONFORMANCE_AUTH_FAILURE=ST_KEY=wrong \
  CONFORMANCE_QUIRKS=range-past-end STASH_HTTP_RETRIES=3 STASH_HTTP_BACKOFF=50 \
  CONFORMANCE_IO_FAILURE="ST_AUTH=http://127.0.0.1:$(free_port)/v1.0" "swift:conformance:/"
stash_to_restic "swift:stash:/v1/repo" "swift v1"
restic_to_stash "swift:restic:/repo" "swift v1"

! $STASH -r "swift:stash:/v1/repo" init 2> "$WORK/err" || fail "init over an existing repository"
expect_in "$WORK/err" "already exists" "init refuses an existing repository"
! $STASH -r "swift:stash:/nothing" snapshots 2> "$WORK/err" || fail "snapshots of a missing repository"
expect_in "$WORK/err" "no repository at swift:stash:/nothing" "a missing repository is named"

# ---- forget + prune by stash, checked by restic ----
$STASH -q -r "swift:stash:/v1/repo" backup "$WORK/src/docs" --tag second
$STASH -q -r "swift:stash:/v1/repo" forget --keep-last 1 --group-by host --prune > /dev/null
[ "$($STASH -r swift:stash:/v1/repo snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
  fail "forget --keep-last 1 left other than one snapshot"
$RESTIC -r "swift:stash:/v1/repo" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "restic check after stash's prune"; }
$STASH -q -r "swift:stash:/v1/repo" check --read-data > /dev/null || fail "stash check after prune"
pass "swift v1: forget --prune leaves a repository both checkers accept"

# ---- bad credentials and settings ----
! ST_KEY=wrong $STASH -r "swift:stash:/v1/repo" snapshots 2> "$WORK/err" || fail "a wrong key was accepted"
expect_in "$WORK/err" "swift: auth (v1): 401 Unauthorized" "a wrong v1 key reads 401 from swift auth"
! env -u ST_KEY $STASH -r "swift:stash:/v1/repo" snapshots 2> "$WORK/err" || fail "a missing key was accepted"
expect_in "$WORK/err" "ST_KEY" "a missing key names the variable"
! $STASH -r "swift:stash" snapshots 2> "$WORK/err" || fail "a location without prefix"
expect_in "$WORK/err" "swift:container-name:/[prefix]" "a malformed location shows the expected form"

# ---- Keystone v2 ----
keystone_env v2.0
$STASH -r "swift:stash:/v1/repo" snapshots --json > "$WORK/v2.json"
$RESTIC -r "swift:stash:/v1/repo" snapshots --json > "$WORK/r.json"
same_json "Keystone v2: snapshots" "$WORK/r.json" "$WORK/v2.json"
$STASH -q -r "swift:stash:/v2/repo" init
$STASH -q -r "swift:stash:/v2/repo" backup "$WORK/src"
$RESTIC -r "swift:stash:/v2/repo" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "Keystone v2: restic check --read-data"; }
expect_in "$SWIFT_LOG" "keystone: v2 token for demo" "Keystone v2: stash and restic authenticate through v2"
! OS_PASSWORD=wrong $STASH -r "swift:stash:/v2/repo" snapshots 2> "$WORK/err" || fail "v2: a wrong password"
expect_in "$WORK/err" "swift: auth (Keystone v2): 401 Unauthorized" "Keystone v2: a wrong password reads 401"
! OS_REGION_NAME=Nowhere $STASH -r "swift:stash:/v2/repo" snapshots 2> "$WORK/err" || fail "v2: no region"
expect_in "$WORK/err" "no object-store endpoint in region \"Nowhere\"" "Keystone v2: an unknown region is named"

# ---- Keystone v3 ----
clear_env
keystone_env v3
$STASH -q -r "swift:stash:/v3/repo" init
$STASH -q -r "swift:stash:/v3/repo" backup "$WORK/src"
rm -rf "$WORK/out-v3"
$STASH -q -r "swift:stash:/v3/repo" restore latest --target "$WORK/out-v3"
python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out-v3$WORK/src"
$RESTIC -r "swift:stash:/v3/repo" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "Keystone v3: restic check --read-data"; }
expect_in "$SWIFT_LOG" "keystone: v3 token for demo project \"demo-project\"" \
  "Keystone v3: stash and restic authenticate through v3"
! OS_USER_DOMAIN_NAME=Other $STASH -r "swift:stash:/v3/repo" snapshots 2> "$WORK/err" || fail "v3: wrong domain"
expect_in "$WORK/err" "swift: auth (Keystone v3): 401 Unauthorized" "Keystone v3: a wrong user domain reads 401"

# ---- a preset token (OS_STORAGE_URL + OS_AUTH_TOKEN) ----
clear_env
curl -s -D "$WORK/login.h" -o /dev/null -H "X-Auth-User: stashtest" -H "X-Auth-Key: stashtest" \
  "http://127.0.0.1:$SWIFT_PORT/v1.0"
export OS_STORAGE_URL=$(tr -d '\r' < "$WORK/login.h" | sed -n 's/^X-Storage-Url: //Ip')
export OS_AUTH_TOKEN=$(tr -d '\r' < "$WORK/login.h" | sed -n 's/^X-Auth-Token: //Ip')
$STASH -r "swift:stash:/v3/repo" snapshots --json > "$WORK/token.json"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/token.json")" = 1 ] ||
  fail "token auth: snapshots"
curl -s -X POST "http://127.0.0.1:$KEYSTONE_PORT/_stash/expire"
! $STASH -r "swift:stash:/v3/repo" snapshots 2> "$WORK/err" || fail "an expired preset token was accepted"
expect_in "$WORK/err" "401 Unauthorized" "token auth: an expired token fails with 401"
clear_env
stop_last_server

# ---- tokens that expire every 20 requests: stash re-authenticates ----
start_swift -expire-every 20
v1_env
$STASH -q -r "swift:stash:/expiring" init
$STASH -q -r "swift:stash:/expiring" backup "$WORK/src"
$STASH -q -r "swift:stash:/expiring" check --read-data > /dev/null || fail "check with expiring tokens"
rm -rf "$WORK/out-exp"
$STASH -q -r "swift:stash:/expiring" restore latest --target "$WORK/out-exp"
python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out-exp$WORK/src"
logins=$(grep -c 'v1 auth for "stashtest": 200' "$SWIFT_LOG")
[ "$logins" -gt 6 ] || { cat "$SWIFT_LOG"; fail "expected re-authentication, saw $logins logins for 4 runs"; }
pass "swift: tokens expiring every 20 requests are renewed ($logins logins for 4 runs)"
$RESTIC -r "swift:stash:/expiring" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "restic check of the repository written with expiring tokens"; }
pass "swift: restic accepts the repository written while tokens expired"
