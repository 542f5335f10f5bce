#!/usr/bin/env bash
# PostgreSQL through the v1beta1 job model, on a real control plane with the
# test node running the Task's Job as local processes of the stash binary
# (and of pg_dumpall / psql from the PostgreSQL packages). A real PostgreSQL
# server runs as this test's own process (user postgres, a data directory
# under the test's folder, a free port on 127.0.0.1, stopped by its pid).
# Checked:
# - a BackupSession created with kubectl for a BackupConfiguration of an
#   AppBinding (Task postgres-backup-15): the operator's Job runs
#   backup-pg and update-status; the session Succeeded with host-0's stats
#   (a snapshot of /dumpfile.sql); the Repository's status counts it;
#   restic 0.14 lists the snapshot (host host-0), dumps the file, and
#   `check --read-data` passes;
# - a second session, then retention (keepLast 1, prune) leaves one snapshot;
# - the database dropped, a RestoreSession (Task postgres-restore-15) brings
#   back the same rows (count and checksum);
# - bad input: an AppBinding whose Secret lacks `password`: the session
#   Failed, its error naming the key and the Secret, no new snapshot.
source "$(dirname "$0")/lib.sh"
source "$HERE/../controlplane/lib.sh"
command -v "$RESTIC" >/dev/null || { echo "SKIP: restic is not installed"; exit 77; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/postgres" ] && [ -x "$PGBIN/initdb" ] ||
  { echo "SKIP: no PostgreSQL server (the postgresql package)"; exit 77; }
command -v pg_dumpall >/dev/null && command -v psql >/dev/null ||
  { echo "SKIP: no PostgreSQL client tools (pg_dumpall, psql)"; exit 77; }
command -v runuser >/dev/null && id postgres >/dev/null 2>&1 ||
  { echo "SKIP: needs runuser and the user postgres (the postgresql package)"; exit 77; }
cp_require_node

STATE=$WORK/node
OPERATOR_PID=
PG_PID=
PG_SERVER_PID=
stop_postgres() {
  [ -n "$PG_PID" ] || return 0
  # The postmaster (runuser's child) shuts down fast on SIGINT.
  [ -n "$PG_SERVER_PID" ] && kill -INT "$PG_SERVER_PID" 2>/dev/null || true
  cp_stop_pid PG_PID
}
cp_test_cleanup() { cp_stop_pid OPERATOR_PID; stop_postgres; }

# --- PostgreSQL ---
chmod 755 "$WORK"
PGDATA=$WORK/pgdata
PGPASS=pg-secret-$RANDOM
mkdir -p "$PGDATA" "$WORK/pgsock"
echo "$PGPASS" > "$WORK/pgpw"
chown postgres "$PGDATA" "$WORK/pgsock" "$WORK/pgpw"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  --pwfile="$WORK/pgpw" > "$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; fail "initdb"; }
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$PGBIN/postgres" -D "$PGDATA" -p "$PGPORT" -k "$WORK/pgsock" \
  -c listen_addresses=127.0.0.1 > "$WORK/postgres.log" 2>&1 &
PG_PID=$!
sql() { PGPASSWORD=$PGPASS psql -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
wait_until 60 sql -c 'select 1' >/dev/null 2>&1 || { cat "$WORK/postgres.log"; fail "PostgreSQL did not start"; }
PG_SERVER_PID=$(head -1 "$PGDATA/postmaster.pid")
sql -c "CREATE DATABASE shop" >/dev/null
sql -d shop >/dev/null <<'SQL'
CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, price numeric(10,2), added timestamptz);
INSERT INTO items SELECT g, 'item ' || g || repeat(' x', g % 17), g * 1.25, '2024-01-01'::timestamptz + g * interval '1 hour'
  FROM generate_series(1, 5000) g;
CREATE VIEW cheap AS SELECT id, name FROM items WHERE price < 100;
SQL
checksum() { sql -d shop -c "SELECT count(*) || ' ' || md5(string_agg(id || '|' || name || '|' || price || '|' || added, ',' ORDER BY id)) FROM items"; }
want=$(checksum)
echo "ran: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT (pid $PG_SERVER_PID), database shop: $want"

# --- the cluster ---
cp_start_for_test "$WORK/cp" --controllers
k() { "$KUBECTL" --request-timeout=60s "$@"; }
jp() { k -n demo get "$1" -o "jsonpath=$2" 2>/dev/null || true; }  # jp KIND/NAME JSONPATH
cp_start_node test-node-1 "$STATE" "$WORK/test-node.log" || fail "node test-node-1 never became Ready"
manifest_without_workloads "$HERE/../../manifests/05-operator.yaml" "$WORK/operator-rbac.yaml"
k apply -f "$WORK/operator-rbac.yaml" >/dev/null
k apply -f "$HERE/../../manifests/06-postgres.yaml" >/dev/null
k create namespace demo >/dev/null
wait_until 60 k -n demo get serviceaccount default -o name >/dev/null 2>&1 || fail "no default service account"

REPO=$WORK/backups/postgres
k -n demo create secret generic repo-secret --from-literal=RESTIC_PASSWORD="$RESTIC_PASSWORD" >/dev/null
k -n demo create secret generic pg-auth --from-literal=username=postgres --from-literal=password="$PGPASS" >/dev/null
k -n demo create secret generic pg-nopass --from-literal=username=postgres >/dev/null
appbinding() {  # NAME SECRET
  cat <<EOR
apiVersion: appcatalog.appscode.com/v1alpha1
kind: AppBinding
metadata: {name: $1, namespace: demo}
spec:
  type: kubedb.com/postgres
  version: "15"
  clientConfig:
    url: postgresql://127.0.0.1:$PGPORT/postgres
    service: null
  secret: {name: $2}
EOR
}
backupconfiguration() {  # NAME APPBINDING
  cat <<EOR
apiVersion: stash.appscode.com/v1beta1
kind: BackupConfiguration
metadata: {name: $1, namespace: demo}
spec:
  schedule: "0 3 1 1 *"
  task: {name: postgres-backup-15}
  repository: {name: pg-repo}
  target:
    ref: {apiVersion: appcatalog.appscode.com/v1alpha1, kind: AppBinding, name: $2}
  retentionPolicy: {name: keep-last-1, keepLast: 1, prune: true}
EOR
}
{ appbinding pg pg-auth; echo ---; appbinding pg-nopass pg-nopass; echo ---
  cat <<EOR
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata: {name: pg-repo, namespace: demo}
spec:
  backend:
    storageSecretName: repo-secret
    local: {mountPath: /stash-repository, subPath: postgres, hostPath: {path: $WORK/backups}}
EOR
  echo ---; backupconfiguration pg-backup pg; echo ---; backupconfiguration pg-bad pg-nopass; } | k apply -f - >/dev/null
mkdir -p "$WORK/backups"

cp_token_kubeconfig stash stash-operator "$WORK/operator.kubeconfig"
"$STASH" operator --kubeconfig "$WORK/operator.kubeconfig" --lease-namespace stash --no-webhook \
  --image stash:test > "$WORK/operator.log" 2>&1 &
OPERATOR_PID=$!
wait_until 60 grep -q "Recovery controller running" "$WORK/operator.log" ||
  { cat "$WORK/operator.log"; fail "the operator did not start"; }
echo "ran: stash operator --kubeconfig (service account stash/stash-operator) --image stash:test"

phase() { jp "$1" '{.status.phase}'; }
finished() { local p; p=$(phase "$1"); [ "$p" = Succeeded ] || [ "$p" = Failed ] || [ "$p" = Skipped ]; }
show() {  # OBJECT: what a failure needs to see
  tail -30 "$WORK/operator.log"; k -n demo get jobs,pods -o wide || true
  k -n demo get "$1" -o yaml || true
  for f in "$STATE"/demo_stash-*/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
}
session() {  # KIND NAME BC-or-nothing: a session created with kubectl
  if [ "$1" = BackupSession ]; then
    printf 'apiVersion: stash.appscode.com/v1beta1\nkind: BackupSession\nmetadata: {name: %s, namespace: demo}\nspec:\n  backupConfiguration: {name: %s}\n' "$2" "$3"
  fi | k create -f - >/dev/null
}
wait_finished() {  # OBJECT
  wait_until 240 finished "$1" || { show "$1"; fail "$1 did not finish: phase '$(phase "$1")'"; }
}
snapshots() { "$RESTIC" -r "$REPO" snapshots --json --no-lock 2>/dev/null; }
count_snapshots() { snapshots | python3 -c 'import json,sys; print(len(json.load(sys.stdin) or []))'; }

# --- a backup ---
session BackupSession pg-backup-1 pg-backup
wait_finished backupsession/pg-backup-1
[ "$(phase backupsession/pg-backup-1)" = Succeeded ] || { show backupsession/pg-backup-1; fail "pg-backup-1: $(jp backupsession/pg-backup-1 '{.status}')"; }
stats=$(jp backupsession/pg-backup-1 '{.status.totalHosts} {.status.stats[0].hostname} {.status.stats[0].phase} {.status.stats[0].snapshots[0].path}')
[ "$stats" = "1 host-0 Succeeded /dumpfile.sql" ] || fail "stats of pg-backup-1: $stats ($(jp backupsession/pg-backup-1 '{.status}'))"
first=$(jp backupsession/pg-backup-1 '{.status.stats[0].snapshots[0].name}')
hosts=$(snapshots | python3 -c 'import json,sys; print(" ".join(s["hostname"] + ":" + ",".join(s["paths"]) for s in json.load(sys.stdin)))')
[ "$hosts" = "host-0:/dumpfile.sql" ] || fail "restic sees: $hosts"
"$RESTIC" -r "$REPO" dump --no-lock latest /dumpfile.sql > "$WORK/dump.sql" || fail "restic dump"
grep -q "CREATE TABLE public.items" "$WORK/dump.sql" && grep -q "CREATE DATABASE shop" "$WORK/dump.sql" ||
  fail "the dump restic reads holds no table items / database shop"
[ "$(jp repository/pg-repo '{.status.backupCount}')" = 1 ] || fail "Repository status: $(jp repository/pg-repo '{.status}')"
echo "ran: BackupSession pg-backup-1 -> $(jp backupsession/pg-backup-1 '{.status.stats[0]}')"
pass "a BackupSession of the AppBinding: Succeeded, host-0's snapshot ${first} of /dumpfile.sql, read back by restic 0.14"

# --- a second one; retention keeps the last ---
sql -d shop -c "UPDATE items SET price = price + 1 WHERE id <= 10" >/dev/null
want=$(checksum)
session BackupSession pg-backup-2 pg-backup
wait_finished backupsession/pg-backup-2
[ "$(phase backupsession/pg-backup-2)" = Succeeded ] || { show backupsession/pg-backup-2; fail "pg-backup-2: $(jp backupsession/pg-backup-2 '{.status}')"; }
second=$(jp backupsession/pg-backup-2 '{.status.stats[0].snapshots[0].name}')
[ "$(count_snapshots)" = 1 ] && snapshots | grep -q "\"short_id\":\"$second\"" ||
  fail "after keepLast 1: $(snapshots)"
"$RESTIC" -r "$REPO" check --read-data > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "restic check --read-data"; }
pass "a second session (${second}); retention keepLast 1 + prune left only it; restic check --read-data passes"

# --- bad input: no password in the AppBinding's Secret ---
session BackupSession pg-bad-1 pg-bad
wait_finished backupsession/pg-bad-1
[ "$(phase backupsession/pg-bad-1)" = Failed ] || fail "pg-bad-1: $(jp backupsession/pg-bad-1 '{.status}')"
error=$(jp backupsession/pg-bad-1 '{.status.stats[0].error}')
grep -q '"password"' <<<"$error" && grep -q "pg-nopass" <<<"$error" || fail "the error names neither the key nor the Secret: $error"
[ "$(count_snapshots)" = 1 ] || fail "a failed session left a snapshot: $(snapshots)"
pass "a Secret without password: pg-bad-1 Failed: $error"

# --- restore into a dropped database ---
sql -c "DROP DATABASE shop" >/dev/null
cat <<EOR | k apply -f - >/dev/null
apiVersion: stash.appscode.com/v1beta1
kind: RestoreSession
metadata: {name: pg-restore, namespace: demo}
spec:
  task: {name: postgres-restore-15}
  repository: {name: pg-repo}
  target:
    ref: {apiVersion: appcatalog.appscode.com/v1alpha1, kind: AppBinding, name: pg}
  rules:
  - snapshots: [latest]
EOR
wait_finished restoresession/pg-restore
[ "$(phase restoresession/pg-restore)" = Succeeded ] || { show restoresession/pg-restore; fail "pg-restore: $(jp restoresession/pg-restore '{.status}')"; }
got=$(checksum) || fail "database shop is not back"
[ "$got" = "$want" ] || fail "rows after the restore: $got, want $want"
[ "$(sql -d shop -c 'SELECT count(*) FROM cheap')" = 79 ] || fail "the view cheap is not back"
pass "RestoreSession pg-restore: database shop back with the same rows ($got)"
