#!/usr/bin/env bash
# The Azure backend against Azurite (npm's azurite-blob, which checks Shared
# Key signatures). restic 0.14 cannot be pointed at an emulator, so the
# interop runs through copies: a small Python client with its own Shared Key
# signer downloads what stash wrote for `restic check --read-data`, and
# uploads a restic-made repository for stash to read. Also: init creating
# the container, backup/restore/check/forget+prune through Azure, and the
# errors for a wrong key, a missing key and an unreachable endpoint.
source "$(dirname "$0")/lib.sh"
source "$HERE/remote_lib.sh"
command -v azurite-blob > /dev/null || fail "azurite-blob is not installed (scripts/install-deps.sh)"
python3 "$HERE/make_tree.py" "$WORK/src" 13
warm_atimes "$WORK/src"

AZ_PORT=$(free_port)
start_server "$WORK/azurite.log" azurite-blob --blobHost 127.0.0.1 --blobPort "$AZ_PORT" \
  --location "$WORK/azurite" --silent --skipApiVersionCheck --loose
wait_port "$AZ_PORT" "azurite-blob" "$WORK/azurite.log"
# Azurite's well-known development account.
DEV_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZURE_ACCOUNT_NAME=devstoreaccount1 AZURE_ACCOUNT_KEY=$DEV_KEY
export AZURE_ENDPOINT=http://127.0.0.1:$AZ_PORT/devstoreaccount1
unset AZURE_ACCOUNT_SAS
# 1 MiB blocks: the 3.5 MB file goes up as four blocks and a block list.
run_conformance "azure" STASH_AZURE_BLOCK_SIZE=1048576 CONFORMANCE_LARGE_SIZE=3500000 \
  CONFORMANCE_AUTH_FAILURE="AZURE_ACCOUNT_KEY=$(printf 'not the key' | base64)" \
  CONFORMANCE_IO_FAILURE="AZURE_ENDPOINT=http://127.0.0.1:$(free_port)/devstoreaccount1" \
  "azure:conformance:/"

# Copies blobs between Azurite and a folder with an independent Shared Key
# client (Python's standard library only).
#   az_copy download CONTAINER PREFIX DIR | upload DIR CONTAINER PREFIX
az_copy() {
  python3 - "$@" <<'PY'
import base64, email.utils, hashlib, hmac, os, sys, urllib.parse, urllib.request
import xml.etree.ElementTree as ET

endpoint = urllib.parse.urlparse(os.environ["AZURE_ENDPOINT"])
account = os.environ["AZURE_ACCOUNT_NAME"]
key = base64.b64decode(os.environ["AZURE_ACCOUNT_KEY"])
STANDARD = ["Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type",
            "Date", "If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"]

def call(method, path, query=None, body=b"", headers=None):
    query, headers = query or {}, dict(headers or {})
    headers["x-ms-date"] = email.utils.formatdate(usegmt=True)
    headers["x-ms-version"] = "2019-12-12"
    if body:
        headers["Content-Length"] = str(len(body))
    path = endpoint.path.rstrip("/") + urllib.parse.quote(path)
    lines = [method] + [headers.get(h, "") for h in STANDARD]
    lines += sorted(f"{k.lower()}:{v}" for k, v in headers.items() if k.lower().startswith("x-ms-"))
    resource = f"/{account}{path}" + "".join(f"\n{k}:{v}" for k, v in sorted(query.items()))
    mac = hmac.new(key, ("\n".join(lines) + "\n" + resource).encode(), hashlib.sha256).digest()
    headers["Authorization"] = f"SharedKey {account}:{base64.b64encode(mac).decode()}"
    headers.pop("Content-Length", None)
    url = f"{endpoint.scheme}://{endpoint.netloc}{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    req = urllib.request.Request(url, data=body if method == "PUT" else None, method=method,
                                 headers=headers)
    with urllib.request.urlopen(req) as answer:
        return answer.read()

def blobs(container, prefix):
    marker = ""
    while True:
        query = {"restype": "container", "comp": "list", "prefix": prefix}
        if marker:
            query["marker"] = marker
        root = ET.fromstring(call("GET", "/" + container, query))
        for blob in root.iter("Blob"):
            yield blob.findtext("Name")
        marker = root.findtext("NextMarker") or ""
        if not marker:
            return

cmd = sys.argv[1]
if cmd == "download":
    container, prefix, target = sys.argv[2:5]
    count = 0
    for name in blobs(container, prefix + "/"):
        out = os.path.join(target, name[len(prefix) + 1:])
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(call("GET", f"/{container}/{name}"))
        count += 1
    print(f"downloaded {count} blobs")
elif cmd == "upload":
    source, container, prefix = sys.argv[2:5]
    for folder, _, files in os.walk(source):
        for f in files:
            rel = os.path.relpath(os.path.join(folder, f), source)
            with open(os.path.join(folder, f), "rb") as data:
                call("PUT", f"/{container}/{prefix}/{rel}", body=data.read(),
                     headers={"x-ms-blob-type": "BlockBlob", "Content-Type": "application/octet-stream"})
PY
}

snapshot_count() {  # REPO
  $STASH -r "$1" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

repo=azure:stashtest:/backups/host-1

# ---- init creates the container; a second init is refused ----
$STASH -q -r "$repo" init
[ -d "$WORK/azurite" ] || fail "azurite keeps no data folder"
! $STASH -r "$repo" init 2> "$WORK/err" || fail "a second init succeeded"
expect_in "$WORK/err" "already exists" "init refuses an existing repository"

# ---- backup, snapshots, restore, check through Azure ----
$STASH -q -r "$repo" backup "$WORK/src" --tag first --host h1
[ "$(snapshot_count "$repo")" = 1 ] || fail "one snapshot expected after the first backup"
rm -rf "$WORK/out"
$STASH -q -r "$repo" restore latest --target "$WORK/out"
python3 "$HERE/compare_trees.py" "$WORK/src" "$WORK/out$WORK/src"
pass "azure: stash restores its snapshot exactly"
$STASH -r "$repo" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "azure: stash check --read-data"; }
pass "azure: stash check --read-data"

# ---- forget + prune ----
head -c 3000000 /dev/urandom > "$WORK/src/azure-extra.bin"
$STASH -q -r "$repo" backup "$WORK/src" --tag second --host h1
cp -a "$WORK/src" "$WORK/state-2"
rm -f "$WORK/src/azure-extra.bin"
[ "$(snapshot_count "$repo")" = 2 ] || fail "two snapshots expected"
$STASH -q -r "$repo" forget --keep-last 1 --prune
[ "$(snapshot_count "$repo")" = 1 ] || fail "forget --keep-last 1 left more than one snapshot"
$STASH -r "$repo" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "azure: check after prune"; }
rm -rf "$WORK/out"
$STASH -q -r "$repo" restore latest --target "$WORK/out"
python3 "$HERE/compare_trees.py" "$WORK/state-2" "$WORK/out$WORK/src"
pass "azure: forget --prune keeps the latest snapshot intact"

# ---- restic checks a copy of what stash wrote to Azurite ----
local_copy=$WORK/copy
az_copy download stashtest backups/host-1 "$local_copy"
mkdir -p "$local_copy"/{keys,snapshots,index,locks,data}
[ -f "$local_copy/config" ] && ls "$local_copy"/data/*/* > /dev/null ||
  fail "the downloaded repository lacks config or packs in data/xx/"
$RESTIC -r "$local_copy" check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "restic check --read-data of the Azure copy"; }
pass "azure: restic check --read-data accepts stash's blobs"
$RESTIC -r "$local_copy" snapshots --json > "$WORK/r.json"
$STASH -r "$repo" snapshots --json > "$WORK/s.json"
same_json "azure: restic's snapshots of the copy" "$WORK/r.json" "$WORK/s.json"

# ---- stash reads a restic-made repository uploaded to Azurite ----
$RESTIC -q -r "$WORK/restic-repo" init
$RESTIC -q -r "$WORK/restic-repo" backup "$WORK/state-2" --host restic-host
az_copy upload "$WORK/restic-repo" stashtest from-restic
$RESTIC -r "$WORK/restic-repo" snapshots --json > "$WORK/r.json"
$STASH -r azure:stashtest:/from-restic snapshots --json > "$WORK/s.json"
same_json "azure: stash lists restic's snapshots" "$WORK/r.json" "$WORK/s.json"
rm -rf "$WORK/out"
$STASH -q -r azure:stashtest:/from-restic restore latest --target "$WORK/out"
python3 "$HERE/compare_trees.py" "$WORK/state-2" "$WORK/out$WORK/state-2"
$STASH -r azure:stashtest:/from-restic check --read-data > "$WORK/check.log" 2>&1 ||
  { cat "$WORK/check.log"; fail "stash check of restic's repository in Azure"; }
pass "azure: stash reads, restores and checks restic's repository"

# ---- a SAS token instead of the key (an account SAS, version 2019-12-12) ----
sas=$(python3 - <<'PY'
import base64, hashlib, hmac, os, urllib.parse
fields = {"sv": "2019-12-12", "ss": "b", "srt": "sco", "sp": "rwdlac",
          "se": "2099-01-01T00:00:00Z", "spr": "https,http"}
# account, permissions, services, resource types, start, expiry, IP, protocol, version
sts = "\n".join([os.environ["AZURE_ACCOUNT_NAME"], fields["sp"], fields["ss"], fields["srt"], "",
                 fields["se"], "", fields["spr"], fields["sv"]]) + "\n"
key = base64.b64decode(os.environ["AZURE_ACCOUNT_KEY"])
fields["sig"] = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode()
print(urllib.parse.urlencode(fields))
PY
)
env -u AZURE_ACCOUNT_KEY AZURE_ACCOUNT_SAS="?$sas" $STASH -q -r "$repo" backup "$WORK/state-2" --tag sas
env -u AZURE_ACCOUNT_KEY AZURE_ACCOUNT_SAS="$sas" $STASH -r "$repo" snapshots --json --tag sas > "$WORK/sas.json"
python3 -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))) != 1)' "$WORK/sas.json" ||
  fail "azure: the backup made with a SAS token is not listed"
! env -u AZURE_ACCOUNT_KEY AZURE_ACCOUNT_SAS="${sas/sig=/sig=AA}" $STASH -r "$repo" snapshots 2> "$WORK/err" ||
  fail "a forged SAS token was accepted"
expect_in "$WORK/err" "azure: config: 403 " "azure: a SAS token authorizes, a forged one is refused"

# ---- errors name the backend, the object and the status ----
wrong=$(printf 'not-the-key-%052d' 0 | base64 -w0)
! AZURE_ACCOUNT_KEY=$wrong $STASH -r "$repo" snapshots 2> "$WORK/err" || fail "a wrong key was accepted"
# Azurite puts its message in the reason phrase and answers HEAD with the
# code AuthorizationFailure (Azure itself says AuthenticationFailed).
expect_in "$WORK/err" "azure: config: 403 " "a wrong key fails with 403 naming the object"
expect_in "$WORK/err" "AuthorizationFailure" "a wrong key: the service's error code is shown"
! env -u AZURE_ACCOUNT_KEY $STASH -r "$repo" snapshots 2> "$WORK/err" || fail "a missing key was accepted"
expect_in "$WORK/err" 'AZURE_ACCOUNT_KEY' "a missing key names the variable"
! env -u AZURE_ACCOUNT_NAME $STASH -r "$repo" snapshots 2> "$WORK/err" || fail "a missing account was accepted"
expect_in "$WORK/err" 'AZURE_ACCOUNT_NAME' "a missing account names the variable"
! $STASH -r azure:stashtest:/nothing-here snapshots 2> "$WORK/err" || fail "a missing repository"
expect_in "$WORK/err" "no repository at azure:stashtest:/nothing-here" "a missing repository is named"
dead=$(free_port)
rc=0
STASH_HTTP_RETRIES=2 STASH_HTTP_BACKOFF=10 AZURE_ENDPOINT=http://127.0.0.1:$dead/devstoreaccount1 \
  timeout 60 $STASH -r "$repo" snapshots 2> "$WORK/err" || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || { cat "$WORK/err"; fail "an unreachable endpoint: exit $rc"; }
expect_in "$WORK/err" "azure: " "an unreachable endpoint fails naming the backend"
