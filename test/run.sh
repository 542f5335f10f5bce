#!/usr/bin/env bash
# Installs what is missing, builds (release and ASan/UBSan), runs every test
# and ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
# The real control plane the cluster tests run (etcd, kube-apiserver, its
# controllers, kubectl), built once per machine from Go modules and cached:
# about 20 minutes on 2 cores the first time, then nothing.
control_plane=$(bash test/controlplane/build.sh) ||
  { echo "the control plane could not be built"; echo "0 passed, 1 failed"; exit 1; }
echo "control plane binaries: $control_plane"
# restic 0.18.1, the newest restic, which the interop tests marked "0.18" run
# against beside Debian's 0.14: built once per machine from Go modules
# (about 2 minutes) into bench/peers.sh's cache. If it cannot be built those
# tests report SKIP with the reason.
peers_log=$(mktemp)
RESTIC_NEWER=$(bash bench/peers.sh --only restic 2> "$peers_log" | awk -F'\t' '$1 == "restic 0.18.1" { print $2 }')
RESTIC_NEWER_MISSING=$(grep -m1 'restic 0.18.1 unavailable' "$peers_log" || true)
rm -f "$peers_log"
export RESTIC_NEWER RESTIC_NEWER_MISSING
echo "restic 0.18.1: ${RESTIC_NEWER:-$RESTIC_NEWER_MISSING}"
bash scripts/build.sh --asan || { echo "0 passed, 1 failed"; exit 1; }

# Count only what this run runs: `test/run.sh NAME` must not count an
# earlier run's results.
rm -f build/meson-logs/testlog.json build-asan/meson-logs/testlog.json
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1
meson test -C build --print-errorlogs --num-processes 2 "$@"
release_rc=$?
# The parsers of bytes from storage run again under the sanitizers.
meson test -C build-asan --print-errorlogs --num-processes 2 --suite sanitized "$@"
asan_rc=$?

python3 - build/meson-logs/testlog.json $release_rc build-asan/meson-logs/testlog.json $asan_rc <<'PY'
import json, sys
passed = failed = 0
skipped = []
args = sys.argv[1:]
for path, rc in zip(args[0::2], args[1::2]):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        # No log: that build ran none of the tests asked for, or meson
        # itself failed (a build error), which counts as a failure.
        failed += rc != "0"
        continue
    for line in lines:
        t = json.loads(line)
        r = t["result"]
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP":
            why = [l for l in (t.get("stdout") or "").splitlines() if l.startswith("SKIP")]
            skipped.append(f'{t["name"]}: {why[-1] if why else "SKIP"}')
        else: failed += 1
for s in skipped:
    print(f"skipped {s}")
if skipped:
    print(f"{len(skipped)} skipped")
print(f"{passed} passed, {failed} failed")
PY
[ $release_rc -eq 0 ] && [ $asan_rc -eq 0 ]
