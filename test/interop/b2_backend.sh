#!/usr/bin/env bash
# The B2 backend against test/tools/b2_server.py, an in-memory B2 native API
# that checks tokens, upload SHA-1s and pages its listings. stash reaches it
# through B2_API_URL; restic 0.14, which only knows
# https://api.backblazeb2.com, reaches the same server as an HTTPS proxy
# (HTTPS_PROXY plus --cacert for a certificate naming that host), so both
# directions are cross-checked. Also: a bucket that init creates, forget +
# prune removing every version of a file, tokens that expire every few
# requests (re-authorization), and the errors for bad credentials.
source "$(dirname "$0")/lib.sh"
source "$HERE/remote_lib.sh"
python3 "$HERE/make_tree.py" "$WORK/src" 7
warm_atimes "$WORK/src"

mkdir -p "$WORK/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=api.backblazeb2.com" \
  -addext "subjectAltName=DNS:api.backblazeb2.com" \
  -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" 2>/dev/null

# Starts the server (plain HTTP for stash, CONNECT+TLS for restic); sets
# B2_PORT and B2_LOG.
start_b2() {  # SERVER-FLAGS...
  local portfile="$WORK/b2.port.$RANDOM"
  B2_LOG="$WORK/b2-$RANDOM.log"
  start_server "$B2_LOG.out" python3 "$TOOLS/b2_server.py" --port-file "$portfile" --log "$B2_LOG" \
    --tls-cert "$WORK/tls/cert.pem" --tls-key "$WORK/tls/key.pem" "$@"
  local i
  wait_until 30 test -s "$portfile" || { cat "$B2_LOG.out"; fail "b2_server.py did not start"; }
  B2_PORT=$(cat "$portfile")
  export B2_API_URL=http://127.0.0.1:$B2_PORT
  # restic through the server as its HTTPS proxy.
  cat > "$WORK/restic-b2" <<SH
#!/bin/sh
unset NO_PROXY no_proxy
HTTPS_PROXY=http://127.0.0.1:$B2_PORT exec restic --cacert "$WORK/tls/cert.pem" "\$@"
SH
  chmod +x "$WORK/restic-b2"
  RESTIC=$WORK/restic-b2
}

stat_of() {  # NAME: a counter from the server
  curl -s "http://127.0.0.1:$B2_PORT/_stash/stats" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"
}

export B2_ACCOUNT_ID=stash-key-id B2_ACCOUNT_KEY=stash-application-key
start_b2 --page-size 5
repo=b2:stash-bucket:/deployment/demo
run_conformance "b2" CONFORMANCE_AUTH_FAILURE=B2_ACCOUNT_KEY=wrong \
  CONFORMANCE_IO_FAILURE="B2_API_URL=http://127.0.0.1:$(free_port)" "b2:conformance-bucket:/"

# ---- both directions; init creates the bucket ----
stash_to_restic "$repo" "b2"
[ "$(stat_of b2_create_bucket)" -ge 1 ] || fail "init did not create the bucket"
pass "b2: init creates a missing bucket (allPrivate)"
restic_to_stash "b2:restic-bucket:restic/repo" "b2"
pages=$(stat_of b2_list_file_names)
[ "$pages" -gt 20 ] || fail "listings of more than 5 names should page (saw $pages calls)"
pass "b2: listings follow nextFileName ($pages b2_list_file_names calls with pages of 5)"

! $STASH -r "$repo" init 2> "$WORK/err" || fail "init over an existing repository"
expect_in "$WORK/err" "already exists" "init refuses an existing repository"
! $STASH -r "b2:stash-bucket:/nothing" snapshots 2> "$WORK/err" || fail "snapshots of a missing repository"
expect_in "$WORK/err" "no repository at b2:stash-bucket:nothing" "a missing repository is named"
! $STASH -r "b2:no-such-bucket:/r" snapshots 2> "$WORK/err" || fail "snapshots in a missing bucket"
expect_in "$WORK/err" "no repository at b2:no-such-bucket:r" "a missing bucket reads as no repository"

# ---- forget + prune removes every version ----
# A second version of the newest snapshot file, as a retried upload leaves.
python3 - "$B2_PORT" "$($STASH -r "$repo" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')" <<'PY'
import base64, hashlib, json, sys, urllib.request
port, snap = sys.argv[1], sys.argv[2]
base = "http://127.0.0.1:%s" % port
def call(url, body=None, headers={}):
    req = urllib.request.Request(url, data=body, headers=headers)
    return json.load(urllib.request.urlopen(req))
basic = base64.b64encode(b"stash-key-id:stash-application-key").decode()
auth = call(base + "/b2api/v2/b2_authorize_account", headers={"Authorization": "Basic " + basic})
tok = {"Authorization": auth["authorizationToken"]}
bucket = [b for b in call(base + "/b2api/v2/b2_list_buckets", json.dumps({"accountId": auth["accountId"]}).encode(), tok)["buckets"] if b["bucketName"] == "stash-bucket"][0]
name = "deployment/demo/snapshots/" + snap
data = urllib.request.urlopen(urllib.request.Request(base + "/file/stash-bucket/" + name, headers=tok)).read()
up = call(base + "/b2api/v2/b2_get_upload_url", json.dumps({"bucketId": bucket["bucketId"]}).encode(), tok)
call(up["uploadUrl"], data, {"Authorization": up["authorizationToken"], "X-Bz-File-Name": name,
     "Content-Type": "application/octet-stream", "X-Bz-Content-Sha1": hashlib.sha1(data).hexdigest()})
PY
$STASH -q -r "$repo" backup "$WORK/src/docs" --tag second
$STASH -q -r "$repo" forget --keep-last 1 --group-by host --prune > /dev/null
[ "$($STASH -r "$repo" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
  fail "forget --keep-last 1 left other than one snapshot (an older version came back?)"
$RESTIC -r "$repo" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "restic check after stash's prune"; }
$STASH -q -r "$repo" check --read-data > /dev/null || fail "stash check after prune"
pass "b2: forget --prune removes all versions and leaves a repository both checkers accept"

# ---- bad credentials and settings ----
! B2_ACCOUNT_KEY=wrong $STASH -r "$repo" snapshots 2> "$WORK/err" || fail "a wrong key was accepted"
expect_in "$WORK/err" "b2: b2_authorize_account: 401 Unauthorized: unauthorized" "a wrong key reads 401 from b2"
! env -u B2_ACCOUNT_ID $STASH -r "$repo" snapshots 2> "$WORK/err" || fail "a missing key id was accepted"
expect_in "$WORK/err" "B2_ACCOUNT_ID" "a missing key id names the variable"
! $STASH -r "b2:bad_bucket" snapshots 2> "$WORK/err" || fail "a bad bucket name"
expect_in "$WORK/err" "invalid characters" "a bad bucket name is refused as restic refuses it"
stop_last_server

# ---- tokens that expire every 20 requests: stash re-authorizes ----
start_b2 --page-size 5 --expire-every 20
expiring=b2:expiring-bucket:/repo
$STASH -q -r "$expiring" init
$STASH -q -r "$expiring" backup "$WORK/src"
$STASH -q -r "$expiring" check --read-data > /dev/null || fail "check with expiring tokens"
rm -rf "$WORK/out-exp"
$STASH -q -r "$expiring" restore latest --target "$WORK/out-exp"
python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out-exp$WORK/src"
logins=$(stat_of b2_authorize_account)
[ "$logins" -gt 6 ] || fail "expected re-authorization, saw $logins for 4 runs"
[ "$(stat_of expired_answers)" -gt 0 ] || fail "no request met an expired token"
pass "b2: tokens expiring every 20 requests are renewed ($logins authorizations for 4 runs)"
