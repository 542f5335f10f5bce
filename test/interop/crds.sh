#!/usr/bin/env bash
# The CustomResourceDefinitions of manifests/ on a real kube-apiserver (with
# etcd, on loopback): every CRD is accepted and becomes Established without
# warnings; every object of crd-examples/valid/ is created and `kubectl get`
# shows it with the CRD's printer columns; statuses written through the
# status subresource show in the columns and a bad one is refused; every
# object of crd-examples/invalid/ is refused with an error naming the field
# (each file lists the substrings it expects in `# expect:` lines); the
# categories, short names and `kubectl explain` work; and finally
# `kubectl apply -f manifests/` applies the whole folder in file order.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
EXAMPLES=$HERE/crd-examples

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
skip() { echo "SKIP: $*"; exit 77; }

work=$(mktemp -d /tmp/stash-crds-XXXXXX)
trap 'rm -rf "$work"' EXIT
source "$HERE/../controlplane/lib.sh"
echo "building or finding the control plane binaries (test/controlplane/build.sh)"
bash "$HERE/../controlplane/build.sh" > "$work/build.out" 2> "$work/build.log" || {
  tail -5 "$work/build.log"
  skip "the control plane binaries could not be built"
}
cp_start "$work/cp" || fail "the control plane did not start (logs above)"
# cp_start's EXIT trap stops the processes; keep removing the scratch folder too.
trap 'cp_stop; rm -rf "$work"' EXIT
export HOME=$work/home KUBECACHEDIR=$work/kube-cache
mkdir -p "$HOME"
echo "kube-apiserver $CP_SERVER, kubectl $("$KUBECTL" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"
k() { "$KUBECTL" --request-timeout=30s "$@"; }

# The substrings a file lists in its `# NAME: ...` comment lines.
comment_values() {  # NAME FILE
  sed -n "s/^# $1: //p" "$2"
}

# ---- every CRD file: applied without warnings, Established ----
declare -A crd_of_kind=()
want_crds=(repositories.stash.appscode.com restics.stash.appscode.com recoveries.stash.appscode.com
  backupconfigurations.stash.appscode.com backupsessions.stash.appscode.com
  restoresessions.stash.appscode.com functions.stash.appscode.com tasks.stash.appscode.com
  backupconfigurationtemplates.stash.appscode.com appbindings.appcatalog.appscode.com)
crd_files=("$SRC"/manifests/*-crd-*.yaml)
[ -e "${crd_files[0]}" ] || fail "no manifests/*-crd-*.yaml"
for f in "${crd_files[@]}"; do
  name=$(k apply -f "$f" -o name 2> "$work/err") || { cat "$work/err"; fail "kubectl apply -f $f"; }
  grep -i "warning" "$work/err" && fail "$f: the apiserver warned about the CRD"
  name=${name#*/}
  k wait --for condition=established --timeout=60s "crd/$name" > /dev/null 2> "$work/err" ||
    { cat "$work/err"; fail "$name did not become Established"; }
  kind=$(k get crd "$name" -o jsonpath='{.spec.names.kind}')
  crd_of_kind[$kind]=$name
  pass "$(basename "$f"): $name ($kind) applied and Established"
done
for name in "${want_crds[@]}"; do
  k get crd "$name" > /dev/null 2>&1 || fail "manifests/ has no CRD $name"
done
pass "all ${#want_crds[@]} CRDs are there"

out=$(k api-resources --api-group=stash.appscode.com -o wide 2>&1) || { echo "$out"; fail "api-resources"; }
for want in "restics  *rst  *stash.appscode.com/v1alpha1  *true  *Restic" \
            "functions  *fn  *stash.appscode.com/v1beta1  *false  *Function" \
            "backupconfigurationtemplates  *btpl  *stash.appscode.com/v1beta1  *false"; do
  grep -Eq "$want" <<< "$out" || { echo "$out"; fail "api-resources has no line like '$want'"; }
done
pass "api-resources shows short names and scopes"

# ---- valid examples: created, and listed with every printer column ----
columns_of() {  # KIND: the CRD's column names, upper-cased as kubectl prints them
  k get crd "${crd_of_kind[$1]}" \
    -o jsonpath='{range .spec.versions[0].additionalPrinterColumns[*]}{.name}{"\n"}{end}' | tr '[:lower:]' '[:upper:]'
}
valid=("$EXAMPLES"/valid/*.yaml)
[ -e "${valid[0]}" ] || fail "no valid examples"
declare -A valid_kinds=()
for f in "${valid[@]}"; do
  ex=$(basename "$f")
  k apply -f "$f" > "$work/out" 2> "$work/err" || { cat "$work/err"; fail "valid example $ex was refused"; }
  grep -i "warning" "$work/err" && fail "$ex: the apiserver warned"
  kind=$(k get -f "$f" -o jsonpath='{.kind}')
  [ -n "${crd_of_kind[$kind]:-}" ] || fail "$ex: kind $kind has no CRD in manifests/"
  valid_kinds[$kind]=1
  table=$(k get -f "$f" -o wide 2>&1) || { echo "$table"; fail "kubectl get -f $ex"; }
  header=$(head -n 1 <<< "$table")
  while read -r column; do
    [[ " $header " == *" $column "* ]] || { echo "$table"; fail "$ex: no column $column"; }
  done < <(columns_of "$kind")
  rows=0
  while read -r row; do
    rows=$((rows + 1))
    [[ "$(tail -n +2 <<< "$table")" == *"$row"* ]] || { echo "$table"; fail "$ex: no '$row' in the row"; }
  done < <(comment_values row "$f")
  [ "$rows" -gt 0 ] || fail "$ex has no '# row:' line to check"
  pass "valid $ex: created; $(tr -s ' ' <<< "$header")"
done
for kind in "${!crd_of_kind[@]}"; do
  [ -n "${valid_kinds[$kind]:-}" ] || fail "no valid example of $kind"
done
pass "every kind has a valid example that the apiserver accepts"

# ---- status subresource: written through /status, shown in the columns ----
set_status() {  # RESOURCE NAME JSON WANT...
  local resource=$1 name=$2 json=$3; shift 3
  k patch "$resource" "$name" --subresource=status --type=merge -p "$json" > /dev/null 2> "$work/err" ||
    { cat "$work/err"; fail "status of $resource $name was refused"; }
  local table
  table=$(k get "$resource" "$name" -o wide 2>&1)
  for want in "$@"; do
    [[ "$table" == *"$want"* ]] || { echo "$table"; fail "$resource $name: no '$want' after the status patch"; }
  done
  pass "status of $resource $name written; the row shows $*"
}
set_status repository deployment.stash-demo \
  '{"status":{"backupCount":7,"firstBackupTime":"2018-04-10T05:10:11Z","lastBackupTime":"2018-04-10T05:16:12Z",
    "lastBackupDuration":"3.026137088s","integrity":true,"size":"10.2 MiB","snapshotCount":7,"observedGeneration":"1$123"}}' \
  "10.2 MiB" " true "
set_status backupsession deployment-backup-1561974001 \
  '{"status":{"phase":"Succeeded","totalHosts":1,"sessionDuration":"12s","stats":[{"hostname":"host-0",
    "phase":"Succeeded","duration":"12s","snapshots":[{"name":"4bc21d6f","path":"/source/data","size":"10.500 MiB",
    "uploaded":"1.2 MiB","processingTime":"0:02","fileStats":{"totalFiles":10,"newFiles":2,"modifiedFiles":1,
    "unmodifiedFiles":7}}]}]}}' Succeeded
set_status restoresession deployment-restore \
  '{"status":{"phase":"Running","totalHosts":2,"stats":[{"hostname":"host-0","phase":"Succeeded","duration":"3s"}]}}' Running
set_status recovery stash-demo \
  '{"status":{"phase":"Failed","stats":[{"path":"/source/data","phase":"Failed","duration":"1s"}]}}' Failed
# The object as read back keeps what the schema types.
got=$(k get backupsession deployment-backup-1561974001 -o jsonpath='{.status.stats[0].snapshots[0].fileStats.newFiles}')
[ "$got" = 2 ] || fail "backupsession status read back newFiles=$got, want 2"
if k patch backupsession deployment-backup-1561974001 --subresource=status --type=merge \
    -p '{"status":{"phase":"Done"}}' > /dev/null 2> "$work/err"; then
  fail "a BackupSession phase Done was accepted"
fi
grep -q 'status.phase: Unsupported value: "Done"' "$work/err" || { cat "$work/err"; fail "bad phase error"; }
pass "a BackupSession status with phase Done is refused: $(head -n 1 "$work/err")"
# Status sent with the object is ignored (the status subresource owns it).
k patch repository minio-repo --type=merge -p '{"status":{"backupCount":99}}' > /dev/null 2>&1
got=$(k get repository minio-repo -o jsonpath='{.status.backupCount}')
[ -z "$got" ] || fail "status written through the main resource: backupCount=$got"
pass "status written with the object (not /status) is dropped"

# ---- invalid examples: refused, naming the field ----
invalid=("$EXAMPLES"/invalid/*.yaml)
[ -e "${invalid[0]}" ] || fail "no invalid examples"
declare -A invalid_kinds=()
for f in "${invalid[@]}"; do
  ex=$(basename "$f")
  mapfile -t expects < <(comment_values expect "$f")
  [ "${#expects[@]}" -gt 0 ] || fail "$ex has no '# expect:' line"
  if k apply -f "$f" > "$work/out" 2> "$work/err"; then
    fail "invalid example $ex was accepted: $(cat "$work/out")"
  fi
  for want in "${expects[@]}"; do
    grep -qF -- "$want" "$work/err" || { cat "$work/err"; fail "$ex: the error does not say '$want'"; }
  done
  kind=$(sed -n 's/^kind: //p' "$f")
  invalid_kinds[$kind]=1
  pass "invalid $ex refused: $(tr -s '\n' ' ' < "$work/err" | sed -n 's/.*is invalid: *//p; s/.*strict decoding error: //p' | cut -c1-200)"
done
for kind in "${!crd_of_kind[@]}"; do
  [ -n "${invalid_kinds[$kind]:-}" ] || fail "no invalid example of $kind"
done
pass "every kind has invalid examples, each refused with its field named"

# ---- categories and short names ----
has_names() {  # LABEL OUTPUT NAME...
  local label=$1 listing=$2; shift 2
  for n in "$@"; do
    grep -qxF "$n" <<< "$listing" || { echo "$listing"; fail "$label does not list $n"; }
  done
}
lacks_names() {  # LABEL OUTPUT PATTERN...
  local label=$1 listing=$2; shift 2
  for n in "$@"; do
    grep -q "$n" <<< "$listing" && { echo "$listing"; fail "$label lists $n"; }
  done
  return 0
}
stash=$(k get stash -A -o name 2>&1) || { echo "$stash"; fail "kubectl get stash"; }
has_names "kubectl get stash" "$stash" \
  backupconfiguration.stash.appscode.com/deployment-backup \
  backupsession.stash.appscode.com/deployment-backup-1561974001 \
  restoresession.stash.appscode.com/deployment-restore \
  function.stash.appscode.com/update-status task.stash.appscode.com/pvc-backup \
  backupconfigurationtemplate.stash.appscode.com/workload-backup-template
lacks_names "kubectl get stash" "$stash" '^repository' '^appbinding'
pass "kubectl get stash lists $(wc -l <<< "$stash") objects of the v1beta1 kinds"
storage=$(k get storage -A -o name 2>&1) || { echo "$storage"; fail "kubectl get storage"; }
has_names "kubectl get storage" "$storage" repository.stash.appscode.com/deployment.stash-demo \
  restic.stash.appscode.com/stash-demo recovery.stash.appscode.com/stash-demo
pass "kubectl get storage lists $(wc -l <<< "$storage") Repositories, Restics and Recoveries"
catalog=$(k get catalog -o name 2>&1) || { echo "$catalog"; fail "kubectl get catalog"; }
has_names "kubectl get catalog" "$catalog" appbinding.appcatalog.appscode.com/sample-postgres
appscode=$(k get appscode -A -o name 2>&1) || { echo "$appscode"; fail "kubectl get appscode"; }
[ "$(wc -l <<< "$appscode")" -ge "${#valid[@]}" ] || { echo "$appscode"; fail "kubectl get appscode lists too few"; }
all=$(k get all -o name 2>&1) || { echo "$all"; fail "kubectl get all"; }
has_names "kubectl get all" "$all" restic.stash.appscode.com/stash-demo \
  appbinding.appcatalog.appscode.com/sample-postgres
lacks_names "kubectl get all" "$all" '^function' '^backupconfiguration'
pass "categories catalog, appscode and all list what they should"
short=$(k get repo,rst,rec,bc,restore,fn,task,btpl -A -o name 2>&1) || { echo "$short"; fail "short names"; }
has_names "short names" "$short" repository.stash.appscode.com/minio-repo restic.stash.appscode.com/db-offline \
  recovery.stash.appscode.com/stash-demo backupconfiguration.stash.appscode.com/sample-postgres-backup \
  restoresession.stash.appscode.com/pvc-restore function.stash.appscode.com/pvc-backup \
  task.stash.appscode.com/pvc-backup backupconfigurationtemplate.stash.appscode.com/workload-backup-template
pass "short names repo, rst, rec, bc, restore, fn, task, btpl resolve"

# ---- kubectl explain (the CRD's OpenAPI is published a moment after Established) ----
explain() {  # PATH WANT...
  local path=$1 text="" i; shift
  for i in $(seq 1 60); do
    text=$(k explain "$path" 2>&1) && break
    sleep 0.5
  done
  for want in "$@"; do
    [[ "$text" == *"$want"* ]] || { echo "$text"; fail "kubectl explain $path does not show '$want'"; }
  done
  pass "kubectl explain $path shows $*"
}
explain restics.spec.fileGroups retentionPolicyName "Name of an entry of retentionPolicies"
explain repository.spec.backend.s3 region endpoint
explain appbindings.spec.clientConfig "exactly one of url and service" caBundle

# ---- the machine's kubectl (1.32) reads the same tables ----
if command -v kubectl > /dev/null && [ "$(command -v kubectl)" != "$KUBECTL" ]; then
  table=$(kubectl --request-timeout=30s get restic stash-demo 2>&1) || { echo "$table"; fail "kubectl 1.32 get restic"; }
  [[ "$table" == *"@every 1m"* && "$table" == *SCHEDULE* ]] || { echo "$table"; fail "kubectl 1.32 table"; }
  stash=$(kubectl --request-timeout=30s get stash -A -o name 2>&1) || { echo "$stash"; fail "kubectl 1.32 get stash"; }
  has_names "kubectl 1.32 get stash" "$stash" backupconfiguration.stash.appscode.com/deployment-backup
  client=$(kubectl version --client 2>/dev/null) || true
  pass "$(head -n 1 <<< "$client") shows the same tables and categories"
fi

# ---- the whole folder, in file order ----
out=$(k apply -f "$SRC/manifests/" 2>&1) || { echo "$out"; fail "kubectl apply -f manifests/"; }
pass "kubectl apply -f manifests/ applied $(wc -l <<< "$out") objects in file order"
echo "PASS: crds"
