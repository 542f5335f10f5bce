# Bad, unauthorized and hostile requests for kubectl.sh: each gets a Status
# (or is dropped) and the server keeps serving. Sourced after the checks.

api=$server/apis/repositories.stash.appscode.com/v1alpha1
# status CURL-ARGS...: "<http code> <Status reason>" of a request.
status() {
  curl_ -o "$WORK/body" -w '%{http_code}' "$@" > "$WORK/code" || true
  local reason
  reason=$(python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1])).get("reason", ""))
except Exception: print("")' "$WORK/body")
  echo "$(cat "$WORK/code") $reason"
}
expect() {  # "CODE REASON" CURL-ARGS...
  local want=$1 got
  shift
  got=$(status "$@")
  [ "$got" = "$want" ] || { head -c 2000 "$WORK/body"; fail "$(echo "$*" | cut -c1-300) -> '$got', wanted '$want'"; }
}
still_serving() {
  [ "$(k get snapshots -n demo --no-headers | wc -l)" -ge 1 ] || fail "server stopped serving ($1)"
}

# --- authentication and authorization ---
[ "$(curl_ "$server/healthz")" = ok ] || fail "anonymous /healthz"
readyz=$(curl_ "$server/readyz?verbose") && grep -q '^\[+\]shutdown ok$' <<< "$readyz" || fail "/readyz?verbose"
expect "401 Unauthorized" "$api/snapshots"
expect "401 Unauthorized" "$server/apis"
expect "401 Unauthorized" --cert "$pki/rogue.pem" --key "$pki/rogue-key.pem" "$api/snapshots"
viewer=(--cert "$pki/viewer.pem" --key "$pki/viewer-key.pem")
expect "200 " "${viewer[@]}" "$api/namespaces/demo/snapshots"
expect "403 Forbidden" "${viewer[@]}" -X DELETE "$api/namespaces/demo/snapshots/$web2"
has 'User \\"viewer\\" cannot delete resource \\"snapshots\\" in API group \\"repositories.stash.appscode.com\\" in the namespace \\"demo\\"' \
  "$WORK/body"
controller=(--cert "$pki/controller.pem" --key "$pki/controller-key.pem")
before=$(ls "$app/snapshots" "$db/snapshots" | wc -l)
expect "200 " "${controller[@]}" -X DELETE -H 'Content-Type: application/json' \
  -d '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}' "$api/namespaces/demo/snapshots"
[ "$(ls "$app/snapshots" "$db/snapshots" | wc -l)" = "$before" ] || fail "the namespace controller deleted backups"
pass "401 for anonymous and untrusted certificates, 403 for readers, namespace controller leaves storage alone"

# --- malformed requests ---
expect "400 BadRequest" "${admin[@]}" "$api/namespaces/demo/snapshots?labelSelector=hostname+in+%28"
expect "400 BadRequest" "${admin[@]}" "$api/namespaces/demo/snapshots?labelSelector=%21%21x"
expect "400 BadRequest" "${admin[@]}" "$api/namespaces/demo/snapshots?fieldSelector=status.hostname%3Dx"
expect "400 BadRequest" "${admin[@]}" "$api/namespaces/demo/snapshots?limit=many"
expect "400 BadRequest" "${admin[@]}" "$api/namespaces/demo/snapshots?limit=1&continue=bm90LWEtdG9rZW4="
expect "400 BadRequest" "${admin[@]}" "$api/namespaces/demo/snapshots?watch=true&resourceVersion=soon"
expect "400 BadRequest" "${admin[@]}" "$server/apis/%zz"
expect "404 NotFound" "${admin[@]}" "$api/namespaces/demo/widgets"
expect "404 NotFound" "${admin[@]}" "$server/apis/stash.appscode.com/v1alpha1/namespaces/demo/repositories"
expect "404 NotFound" "${admin[@]}" "$server/no/such/path"
expect "404 NotFound" "${admin[@]}" "$api/namespaces/demo/snapshots/$web2/status"
expect "405 MethodNotAllowed" "${admin[@]}" -X POST -d '{}' "$api/namespaces/demo/snapshots"
expect "405 MethodNotAllowed" "${admin[@]}" -X PUT -d '{}' "$api/namespaces/demo/snapshots/$web2"
expect "405 MethodNotAllowed" "${admin[@]}" -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{}' \
  "$api/namespaces/demo/snapshots/$web2"
expect "405 MethodNotAllowed" "${admin[@]}" -X DELETE "$api/snapshots"
expect "406 NotAcceptable" "${admin[@]}" -H 'Accept: application/vnd.kubernetes.protobuf' "$api/snapshots"
expect "415 UnsupportedMediaType" "${admin[@]}" -X DELETE -H 'Content-Type: application/vnd.kubernetes.protobuf' \
  --data-binary $'\x0a\x02' "$api/namespaces/demo/snapshots/$web2"
expect "400 BadRequest" "${admin[@]}" -X DELETE -H 'Content-Type: application/json' -d '{"dryRun":' \
  "$api/namespaces/demo/snapshots/$web2"
expect "409 Conflict" "${admin[@]}" -X DELETE -H 'Content-Type: application/json' \
  -d '{"preconditions":{"uid":"not-this-one"}}' "$api/namespaces/demo/snapshots/$web2"
expect "503 ServiceUnavailable" "${admin[@]}" "$api/namespaces/slow/snapshots/hung-12345678"
still_serving "malformed requests"
pass "malformed requests get 400/404/405/406/409/415/503 Status objects"

# --- oversized requests ---
{ printf 'X-Big: '; head -c 400000 /dev/zero | tr '\0' a; echo; } > "$WORK/big-header"
expect "431 BadRequest" "${admin[@]}" -H @"$WORK/big-header" "$api/snapshots"
head -c 4000000 /dev/zero | tr '\0' ' ' > "$WORK/big-body"
expect "413 RequestEntityTooLarge" "${admin[@]}" -X DELETE -H 'Content-Type: application/json' \
  --data-binary @"$WORK/big-body" "$api/namespaces/demo/snapshots/$web2"
still_serving "oversized requests"
pass "oversized headers (431) and bodies (413)"

# --- clients that stall or speak nonsense ---
python3 - "$port" > "$WORK/stall.txt" 2>&1 <<'PY' &
import socket, ssl, sys, time
port = int(sys.argv[1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def dropped(sock):
    """Seconds until the server closes `sock` (it must, within its read timeout)."""
    sock.settimeout(15)
    start = time.time()
    try:
        while sock.recv(4096):
            pass
    except (ssl.SSLError, OSError):
        pass
    return time.time() - start
conns = []
for i in range(40):  # half-written requests
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
    t.sendall(b"GET /apis HTTP/1.1\r\nHost: x\r\nX-Partial: ")
    conns.append(t)
for i in range(20):  # TCP without a TLS handshake
    conns.append(socket.create_connection(("127.0.0.1", port)))
junk = socket.create_connection(("127.0.0.1", port))
junk.sendall(b"GET / HTTP/1.1\r\nHost: plain-http\r\n\r\n" + bytes(range(256)) * 8)
conns.append(junk)
print("stalling", flush=True)
times = [dropped(c) for c in conns]
print("dropped after at most %.1fs" % max(times), flush=True)
PY
stall=$!
wait_until 30 grep -q stalling "$WORK/stall.txt" || { cat "$WORK/stall.txt"; fail "the stalling client did not start"; }
still_serving "61 stalled connections open"
[ "$(curl_ "$server/healthz")" = ok ] || fail "healthz while clients stall"
wait "$stall" || { cat "$WORK/stall.txt"; fail "stall client failed"; }
python3 -c 'import re,sys; t=float(re.search(r"at most ([0-9.]+)s", open(sys.argv[1]).read()).group(1)); sys.exit(t > 10)' \
  "$WORK/stall.txt" || { cat "$WORK/stall.txt"; fail "stalled clients were not dropped in time"; }
still_serving "after dropping stalled clients"
pass "stalled and non-TLS clients are dropped ($(tail -1 "$WORK/stall.txt")), others keep being served"

# --- watch details over curl: bookmarks, timeoutSeconds, Table rows, expired versions ---
start=$(date +%s)
curl_ "${admin[@]}" -N "$api/namespaces/demo/snapshots?watch=true&timeoutSeconds=2&allowWatchBookmarks=true" > "$WORK/w.jsonl"
[ $(( $(date +%s) - start )) -le 5 ] || fail "watch outlived timeoutSeconds"
python3 - "$WORK/w.jsonl" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
types = [e["type"] for e in events]
assert types[:-1] == ["ADDED"] * (len(types) - 1) and len(types) >= 3, types
assert types[-1] == "BOOKMARK", types
assert events[-1]["object"]["metadata"]["resourceVersion"], events[-1]
print("ok: watch: initial ADDED events, ends at timeoutSeconds with a BOOKMARK")
PY
curl_ "${admin[@]}" -N -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' \
  "$api/namespaces/demo/snapshots?watch=true&timeoutSeconds=1" > "$WORK/wt.jsonl"
python3 - "$WORK/wt.jsonl" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert all(e["object"]["kind"] == "Table" and len(e["object"]["rows"]) == 1 for e in events), events
assert events[0]["object"]["columnDefinitions"] and not events[1]["object"]["columnDefinitions"], events
print("ok: watch as Table rows, column definitions on the first event only")
PY
curl_ "${admin[@]}" -N "$api/namespaces/demo/snapshots?watch=true&resourceVersion=1" > "$WORK/old.jsonl"
grep -q '"type":"ERROR".*"reason":"Expired".*"code":410' "$WORK/old.jsonl" || { cat "$WORK/old.jsonl"; fail "expired watch"; }
pass "watch bookmarks, timeoutSeconds, Table events, 410 Expired"

# --- metrics, discovery while a backend hangs, and shutdown ---
curl_ "${admin[@]}" "$server/metrics" > "$WORK/metrics.txt"
has '^# TYPE apiserver_request_total counter' "$WORK/metrics.txt"
has '^apiserver_request_total\{verb="list",group="repositories.stash.appscode.com",version="v1alpha1",resource="snapshots",code="200"\} [0-9]+' \
  "$WORK/metrics.txt"
has '^stash_apiserver_repository_errors_total\{namespace="broken",repository="bad-password"\} [1-9]' "$WORK/metrics.txt"
has '^stash_apiserver_repositories\{state="loading"\} 1' "$WORK/metrics.txt"
start=$(date +%s%N)
curl_ "${admin[@]}" -H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' "$server/apis" > /dev/null
curl_ "${admin[@]}" "$api" > /dev/null
curl_ "$server/readyz" > /dev/null
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$took" -lt 1000 ] || fail "discovery and health took ${took}ms while a backend hangs"
pass "metrics; discovery and health answer at once (${took}ms) while a backend hangs"

grep -q '"GET /apis/repositories.stash.appscode.com/v1alpha1/namespaces/demo/snapshots?limit=500[^"]*" 200 user="stash-admin"' \
  "$WORK/server.log" || { tail "$WORK/server.log"; fail "request log"; }
kill -TERM "$server_pid"
stopped() { ! kill -0 "$server_pid" 2>/dev/null; }
wait_until 10 stopped || fail "server still running 10s after SIGTERM"
wait "$server_pid" || fail "server exited with $?"
server_pid=
pass "SIGTERM stops the server promptly, even with a hung backend"

# --- a serving certificate of our own (--tls-cert-file), self-signed ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/serving-key.pem" \
  -subj "/CN=stash-test" -addext "subjectAltName=IP:127.0.0.1" -days 1 -out "$pki/serving.pem" 2>/dev/null
rm -f "$KUBECONFIG"
$STASH apiserver --standalone-manifests "$manifests" --standalone-kubeconfig "$KUBECONFIG" --bind-address 127.0.0.1 \
  --secure-port 0 --tls-cert-file "$pki/serving.pem" --tls-private-key-file "$pki/serving-key.pem" \
  > "$WORK/server2.log" 2>&1 &
server_pid=$!
wait_until 30 test -s "$KUBECONFIG" || { cat "$WORK/server2.log"; fail "the second server wrote no kubeconfig"; }
serves() { [ "$(k get snapshots -n demo --no-headers 2>/dev/null | wc -l)" -ge 1 ]; }
wait_until 30 serves || { cat "$WORK/server2.log"; fail "serving with --tls-cert-file"; }
presented=$(echo | openssl s_client -connect "127.0.0.1:$(sed -n 's/^ *server: "https:.*:\([0-9]*\)"$/\1/p' "$KUBECONFIG")" 2>/dev/null) || true
grep -q 'subject=CN = stash-test' <<< "$presented" || fail "the server does not present the given certificate"
kill -TERM "$server_pid" && wait "$server_pid" || fail "second server exited badly"
server_pid=
pass "--tls-cert-file/--tls-private-key-file serve the given certificate; kubectl trusts it through the kubeconfig"
