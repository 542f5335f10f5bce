#!/usr/bin/env bash
# The GCS backend against fake-gcs-server (Google's JSON API, in memory),
# reached through STORAGE_EMULATOR_HOST: init creates the bucket, backup,
# restore, check --read-data, forget --prune; a service-account key whose
# token comes from a local token endpoint (the JWT it receives is verified
# with openssl); and the errors for refused grants and unreachable servers.
# restic 0.14 cannot be pointed at an emulator (its gs backend always dials
# storage.googleapis.com), so the repositories are compared through a local
# copy: stash's objects downloaded are checked by restic, and a repository
# restic made locally, uploaded, is read by stash.
# Skipped (exit 77) without fake-gcs-server (scripts/install-deps.sh).
source "$(dirname "$0")/lib.sh"
source "$HERE/remote_lib.sh"
FAKE_GCS=$(command -v fake-gcs-server || echo "$HOME/go/bin/fake-gcs-server")
[ -x "$FAKE_GCS" ] || { echo "SKIP: fake-gcs-server is not installed (scripts/install-deps.sh, needs Go >= 1.26)"; exit 77; }
python3 "$HERE/make_tree.py" "$WORK/src" 7
warm_atimes "$WORK/src"
unset GOOGLE_ACCESS_TOKEN GOOGLE_APPLICATION_CREDENTIALS GOOGLE_SERVICE_ACCOUNT_JSON_KEY

GCS_PORT=$(free_port)
start_server "$WORK/gcs.log" "$FAKE_GCS" -scheme http -host 127.0.0.1 -port "$GCS_PORT" \
  -backend memory -log-level warn
wait_port "$GCS_PORT" "fake-gcs-server" "$WORK/gcs.log"
export STORAGE_EMULATOR_HOST=http://127.0.0.1:$GCS_PORT GOOGLE_PROJECT_ID=stash-test
repo=gs:stashbucket:/stash/deployment/app
# The emulator checks no credentials: no kAuth check here.
run_conformance "gcs" CONFORMANCE_IO_FAILURE="STORAGE_EMULATOR_HOST=http://127.0.0.1:$(free_port)" \
  "gs:conformance:/"

# Copies every object under a prefix to a folder, or a folder's files up
# under a prefix, through the JSON API.
gcs_copy() {  # down BUCKET PREFIX DIR | up DIR BUCKET PREFIX
  python3 - "$STORAGE_EMULATOR_HOST" "$@" <<'PY'
import json, os, sys, urllib.parse, urllib.request
base, mode = sys.argv[1], sys.argv[2]
q = lambda s: urllib.parse.quote(s, safe="")
if mode == "down":
    bucket, prefix, out = sys.argv[3:6]
    token, n = "", 0
    while True:
        url = f"{base}/storage/v1/b/{bucket}/o?prefix={q(prefix + '/')}"
        page = json.load(urllib.request.urlopen(url + (f"&pageToken={q(token)}" if token else "")))
        for item in page.get("items", []):
            path = os.path.join(out, item["name"][len(prefix) + 1:])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            data = urllib.request.urlopen(f"{base}/storage/v1/b/{bucket}/o/{q(item['name'])}?alt=media").read()
            open(path, "wb").write(data)
            n += 1
        token = page.get("nextPageToken", "")
        if not token:
            break
    print(f"downloaded {n} objects")
else:
    src, bucket, prefix = sys.argv[3:6]
    n = 0
    for folder, _, files in os.walk(src):
        for f in files:
            rel = os.path.relpath(os.path.join(folder, f), src)
            req = urllib.request.Request(
                f"{base}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={q(prefix + '/' + rel)}",
                data=open(os.path.join(folder, f), "rb").read(), method="POST",
                headers={"Content-Type": "application/octet-stream"})
            urllib.request.urlopen(req).read()
            n += 1
    print(f"uploaded {n} files")
PY
}

snapshot_count() { $STASH -r "$1" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# ---- stash on its own: init, backup, restore, check, forget --prune ----
$STASH -q -r "$repo" init
curl -sf "$STORAGE_EMULATOR_HOST/storage/v1/b/stashbucket" > /dev/null || fail "init did not create the bucket"
curl -sf "$STORAGE_EMULATOR_HOST/storage/v1/b/stashbucket/o/stash%2Fdeployment%2Fapp%2Fconfig" > /dev/null ||
  fail "the config is not at <prefix>/config"
pass "init creates the bucket and the repository under the prefix"
! $STASH -r "$repo" init 2> "$WORK/err" || fail "init over an existing repository"
expect_in "$WORK/err" "already exists" "init refuses an existing repository"

$STASH -q -r "$repo" backup "$WORK/src" --host gcs-host --tag first
echo "changed" > "$WORK/src/added-later.txt"
$STASH -q -r "$repo" backup "$WORK/src" --host gcs-host --tag second
[ "$(snapshot_count "$repo")" = 2 ] || fail "expected 2 snapshots"
pass "two backups listed by snapshots"
rm -rf "$WORK/out"
$STASH -q -r "$repo" restore latest --target "$WORK/out"
python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out$WORK/src"
pass "restore of the latest snapshot equals the source"
$STASH -r "$repo" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "stash check --read-data"; }
pass "stash check --read-data"
$STASH -q -r "$repo" forget --keep-last 1 --prune > /dev/null
[ "$(snapshot_count "$repo")" = 1 ] || fail "forget --keep-last 1 left other than 1 snapshot"
$STASH -r "$repo" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "check --read-data after prune"; }
pass "forget --keep-last 1 --prune, then check --read-data"

# The precondition stash's uploads rely on: an existing object is not replaced.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary x \
  "$STORAGE_EMULATOR_HOST/upload/storage/v1/b/stashbucket/o?uploadType=media&name=stash%2Fdeployment%2Fapp%2Fconfig&ifGenerationMatch=0")
[ "$code" = 412 ] || fail "the server replaced an existing object (HTTP $code)"
pass "uploads with ifGenerationMatch=0 do not replace existing objects"

# ---- stash's repository, copied to a folder, passes restic's check ----
gcs_copy down stashbucket stash/deployment/app "$WORK/copy-of-stash"
$RESTIC -r "$WORK/copy-of-stash" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "restic check --read-data on stash's GCS repository"; }
pass "restic check --read-data accepts stash's GCS repository"
$RESTIC -r "$WORK/copy-of-stash" snapshots --json > "$WORK/r.json"
$STASH -r "$repo" snapshots --json > "$WORK/s.json"
same_json "stash's GCS repository: snapshots" "$WORK/r.json" "$WORK/s.json"
rm -rf "$WORK/out-r"
$RESTIC -q -r "$WORK/copy-of-stash" restore latest --target "$WORK/out-r"
python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out-r$WORK/src"
pass "restic restores stash's GCS snapshot exactly"

# ---- a repository restic made, uploaded, is read by stash ----
$RESTIC -q -r "$WORK/restic-local" init
$RESTIC -q -r "$WORK/restic-local" backup "$WORK/src" --host restic-host
gcs_copy up "$WORK/restic-local" stashbucket restic
$RESTIC -r "$WORK/restic-local" snapshots --json > "$WORK/r.json"
$STASH -r gs:stashbucket:/restic snapshots --json > "$WORK/s.json"
same_json "restic's repository on GCS: snapshots" "$WORK/r.json" "$WORK/s.json"
$RESTIC -r "$WORK/restic-local" ls --json latest > "$WORK/r.jsonl"
$STASH -r gs:stashbucket:/restic ls --json latest > "$WORK/s.jsonl"
same_json "restic's repository on GCS: ls" "$WORK/r.jsonl" "$WORK/s.jsonl"
rm -rf "$WORK/out-s"
$STASH -q -r gs:stashbucket:/restic restore latest --target "$WORK/out-s"
python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out-s$WORK/src"
$STASH -r gs:stashbucket:/restic check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "stash check --read-data on restic's repository"; }
pass "stash reads, restores and checks restic's repository on GCS"

# ---- a service-account key: a signed JWT traded for a token ----
TOKEN_PORT=$(free_port)
cat > "$WORK/token_server.py" <<'PY'
import json, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
port, log = int(sys.argv[1]), sys.argv[2]
class Token(BaseHTTPRequestHandler):
    def do_POST(self):
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        jwt = form["assertion"][0]
        with open(log, "a") as f:
            f.write(form["grant_type"][0] + " " + jwt + "\n")
        claims = json.loads(__import__("base64").urlsafe_b64decode(jwt.split(".")[1] + "=="))
        if claims["iss"].startswith("refused@"):
            status, body = 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        else:
            status, body = 200, {"access_token": "tok-" + claims["iss"], "expires_in": 3600}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", port), Token).serve_forever()
PY
start_server "$WORK/token.log" python3 "$WORK/token_server.py" "$TOKEN_PORT" "$WORK/assertions"
wait_port "$TOKEN_PORT" "token endpoint" "$WORK/token.log"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/sa.pem" 2>/dev/null
openssl pkey -in "$WORK/sa.pem" -pubout -out "$WORK/sa.pub"
key_json() {  # EMAIL
  python3 -c 'import json,sys; print(json.dumps({"type": "service_account", "project_id": "stash-test",
    "client_email": sys.argv[1], "private_key": open(sys.argv[2]).read(), "token_uri": sys.argv[3]}))' \
    "$1" "$WORK/sa.pem" "http://127.0.0.1:$TOKEN_PORT/token"
}
$STASH -r "$repo" snapshots --json > "$WORK/anonymous.json"
GOOGLE_SERVICE_ACCOUNT_JSON_KEY=$(key_json backup@stash-test.iam.gserviceaccount.com) \
  $STASH -r "$repo" snapshots --json > "$WORK/with-key.json"
same_json "with a service-account key: snapshots" "$WORK/anonymous.json" "$WORK/with-key.json"
[ -s "$WORK/assertions" ] || fail "no token was requested with a service-account key"
read -r grant jwt < <(head -1 "$WORK/assertions")
[ "$grant" = "urn:ietf:params:oauth:grant-type:jwt-bearer" ] || fail "grant type $grant"
b64url() { tr '_-' '/+' | python3 -c 'import base64,sys; s=sys.stdin.read().strip(); sys.stdout.buffer.write(base64.b64decode(s + "=" * (-len(s) % 4)))'; }
printf '%s' "${jwt%.*}" > "$WORK/jwt.signed"
printf '%s' "${jwt##*.}" | b64url > "$WORK/jwt.sig"
openssl dgst -sha256 -verify "$WORK/sa.pub" -signature "$WORK/jwt.sig" "$WORK/jwt.signed" > /dev/null ||
  fail "the JWT signature does not verify with the account's public key"
printf '%s' "$jwt" | cut -d. -f2 | b64url > "$WORK/claims.json"
python3 - "$WORK/claims.json" "http://127.0.0.1:$TOKEN_PORT/token" <<'PY' || fail "JWT claims"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["iss"] == "backup@stash-test.iam.gserviceaccount.com", c
assert c["aud"] == sys.argv[2], c
assert c["scope"] == "https://www.googleapis.com/auth/devstorage.read_write", c
assert c["exp"] - c["iat"] == 3600, c
PY
[ "$(wc -l < "$WORK/assertions")" = 1 ] || fail "the token was not reused within one run"
pass "a service-account key: one RS256 JWT, verified with the public key, traded for a token"

printf '%s' "$(key_json backup@stash-test.iam.gserviceaccount.com)" > "$WORK/sa.json"
GOOGLE_APPLICATION_CREDENTIALS=$WORK/sa.json $STASH -r "$repo" snapshots > /dev/null ||
  fail "GOOGLE_APPLICATION_CREDENTIALS"
[ "$(wc -l < "$WORK/assertions")" = 2 ] || fail "GOOGLE_APPLICATION_CREDENTIALS did not request a token"
pass "GOOGLE_APPLICATION_CREDENTIALS names a key file"

# ---- errors ----
! GOOGLE_SERVICE_ACCOUNT_JSON_KEY=$(key_json refused@stash-test.iam.gserviceaccount.com) \
  $STASH -r "$repo" snapshots 2> "$WORK/err" || fail "a refused grant was accepted"
expect_in "$WORK/err" "gs: token for refused@stash-test.iam.gserviceaccount.com: 400" \
  "a refused grant names the account and the status"
expect_in "$WORK/err" "invalid_grant: Invalid JWT Signature." "a refused grant gives Google's reason"
! env -u STORAGE_EMULATOR_HOST $STASH -r "$repo" snapshots 2> "$WORK/err" ||
  fail "no credentials and no emulator were accepted"
expect_in "$WORK/err" "GOOGLE_APPLICATION_CREDENTIALS" "missing credentials name the variables"
! $STASH -r gs:stashbucket:/nothing-here snapshots 2> "$WORK/err" || fail "a missing repository"
expect_in "$WORK/err" "no repository at gs:stashbucket:/nothing-here" "a missing repository is named"
dead=$(free_port)
! STORAGE_EMULATOR_HOST=http://127.0.0.1:$dead STASH_HTTP_RETRIES=2 STASH_HTTP_BACKOFF=10 \
  $STASH -r "$repo" snapshots 2> "$WORK/err" || fail "an unreachable endpoint"
expect_in "$WORK/err" "gs: " "an unreachable endpoint names the backend"
expect_in "$WORK/err" "127.0.0.1:$dead" "an unreachable endpoint names the server"
