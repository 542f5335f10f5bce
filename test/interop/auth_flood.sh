#!/usr/bin/env bash
# `stash apiserver` under a flood of random bearer tokens: bearer tokens go to
# a TokenReview endpoint (test/tools/token_review_server.py, HTTPS) that
# answers unknown tokens only after 5 s. 200 lists with random tokens are
# sent at once; while every auth thread waits on a review, /healthz, a list
# by the admin client certificate and a list by a token reviewed earlier
# (cached) are each asked 100 times and must answer within 100 ms at the
# 99th percentile. Every flooding request must end in 401 (reviewed) or 429
# (the auth queue is full), none hanging. auth_flood.py does the load and
# the measurements and prints the figures.
source "$(dirname "$0")/lib.sh"
command -v openssl > /dev/null || { echo "SKIP: openssl is not installed"; exit 77; }
server_pid= review_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ -n "$review_pid" ] && kill "$review_pid" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
AUTH_THREADS=16

# --- a repository with one snapshot, served from a folder of manifests ---
mkdir -p "$WORK/src" "$WORK/manifests" "$WORK/data"
echo "some data" > "$WORK/src/file"
$STASH -q -r "$WORK/data/repo" init
$STASH -q -r "$WORK/data/repo" backup "$WORK/src" --host web-1
cat > "$WORK/manifests/demo.yaml" <<EOF
apiVersion: v1
kind: Secret
metadata: {name: repo-secret, namespace: demo}
stringData: {RESTIC_PASSWORD: $RESTIC_PASSWORD}
---
apiVersion: stash.appscode.com/v1alpha1
kind: Repository
metadata: {name: app, namespace: demo}
spec:
  backend:
    storageSecretName: repo-secret
    local:
      mountPath: /safe/data
      hostPath: {path: $WORK/data}
      subPath: repo
EOF

# --- the slow TokenReview endpoint, and a kubeconfig that reaches it ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/review-key.pem" \
  -subj "/CN=token-review" -addext "subjectAltName=IP:127.0.0.1" -days 1 -out "$WORK/review.pem" 2>/dev/null
python3 "$HERE/../tools/token_review_server.py" --cert "$WORK/review.pem" --key "$WORK/review-key.pem" \
  --port-file "$WORK/review.port" --log "$WORK/reviews.log" --delay 5 > "$WORK/review-server.log" 2>&1 &
review_pid=$!
wait_until 30 test -s "$WORK/review.port" || { cat "$WORK/review-server.log"; fail "the TokenReview server did not start"; }
cat > "$WORK/review-kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: reviews
  cluster:
    server: https://127.0.0.1:$(cat "$WORK/review.port")
    certificate-authority-data: $(base64 -w0 < "$WORK/review.pem")
users:
- name: reviewer
  user: {token: reviewer-token}
contexts:
- name: reviews
  context: {cluster: reviews, user: reviewer}
current-context: reviews
EOF

# --- the server: thread counts as flags, the good token cached for the whole test ---
$STASH apiserver --standalone-manifests "$WORK/manifests" --standalone-kubeconfig "$WORK/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 0 --authentication-kubeconfig "$WORK/review-kubeconfig" \
  --authentication-token-webhook-cache-ttl 5m --network-threads 2 --request-threads 8 --backend-threads 4 \
  --auth-threads "$AUTH_THREADS" --max-queued-reviews 32 > "$WORK/server.log" 2>&1 &
server_pid=$!
wait_until 30 test -s "$WORK/kubeconfig" || { cat "$WORK/server.log"; fail "the server wrote no kubeconfig"; }

if ! python3 "$HERE/auth_flood.py" "$WORK/kubeconfig" "$WORK/reviews.log" 200 "$AUTH_THREADS" > "$WORK/flood.txt" 2>&1; then
  cat "$WORK/flood.txt"
  tail -5 "$WORK/server.log"
  fail "the server did not keep answering under a flood of tokens waiting on TokenReview"
fi
cat "$WORK/flood.txt"
kill -0 "$server_pid" 2>/dev/null || fail "the server died"
log=$(cat "$WORK/server.log")
grep -q '" 429 user=""' <<< "$log" || fail "no 429 in the request log"
pass "healthz and authorized lists within 100 ms (p99) while 200 random tokens wait on a 5 s TokenReview"
