#!/usr/bin/env bash
# The OCI image from scripts/image.sh: its configuration and tag, exactly the
# files it should carry, and the binary run in a chroot of its unpacked root
# file system (so every library it loads must be inside): `version`,
# `apiserver --help`, a backup that names the user from the image's passwd,
# HTTPS that trusts the image's CA bundle through OpenSSL's default paths,
# and a library taken away failing the run.
source "$(dirname "$0")/lib.sh"
source "$HERE/remote_lib.sh"
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root (umoci unpack keeps owners; chroot)"
if ! command -v umoci >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends umoci \
    > "$WORK/apt.log" 2>&1 || true
fi
command -v umoci >/dev/null || skip "umoci is not installed and apt-get could not install it"
command -v rclone >/dev/null || skip "rclone (the HTTPS server) is not installed"
SRC=$(cd "$HERE/../.." && pwd)

layout=$WORK/oci archive=$WORK/stash.tar
bash "$SRC/scripts/image.sh" --binary "$STASH" --layout "$layout" --archive "$archive" \
  > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "scripts/image.sh failed"; }
version_line=$("$STASH" version)
version=$(awk '{print $2}' <<< "$version_line")
built=$(tail -n 2 "$WORK/build.log")
pass "image built: $(head -n 1 <<< "$built")"

# ---- the tag, the configuration and the archive ----
python3 - "$layout" "$version" <<'PY' || fail "image configuration"
import json, os, sys
layout, version = sys.argv[1:3]
def blob(digest):
    algo, hexd = digest.split(":")
    return json.load(open(os.path.join(layout, "blobs", algo, hexd)))
index = json.load(open(os.path.join(layout, "index.json")))
refs = [m.get("annotations", {}).get("org.opencontainers.image.ref.name") for m in index["manifests"]]
assert refs == [version], f"tags {refs}, want [{version!r}]"
manifest = blob(index["manifests"][0]["digest"])
assert len(manifest["layers"]) == 1, f"{len(manifest['layers'])} layers, want 1"
config = blob(manifest["config"]["digest"])["config"]
assert config.get("Entrypoint") == ["/usr/local/bin/stash"], config.get("Entrypoint")
assert not config.get("Cmd"), config.get("Cmd")
assert config.get("User") == "0:0", config.get("User")
labels = config.get("Labels", {})
assert labels.get("org.opencontainers.image.version") == version, labels
assert labels.get("org.opencontainers.image.title") == "stash", labels
path = [e for e in config.get("Env", []) if e.startswith("PATH=")]
assert path and "/usr/local/bin" in path[0].split("=", 1)[1].split(":"), config.get("Env")
print(f"ok: tag {version}, entrypoint, user 0:0, labels, PATH")
PY
tar -tf "$archive" > "$WORK/archive.list"
for f in oci-layout index.json; do
  grep -qx "$f" "$WORK/archive.list" || fail "the archive has no $f at its top"
done
[ "$(grep -c '^blobs/sha256/.' "$WORK/archive.list")" -ge 3 ] || fail "the archive lacks blobs"
pass "the oci-archive holds the layout at its top"
# The Deployment runs this very tag (the runtime may not pull it from anywhere).
grep -qx "        image: stash:$version" "$SRC/manifests/03-deployment.yaml" ||
  fail "manifests/03-deployment.yaml does not run image stash:$version"
pass "manifests/03-deployment.yaml runs stash:$version"
if command -v skopeo >/dev/null; then
  skopeo inspect "oci-archive:$archive:$version" > "$WORK/inspect.json" || fail "skopeo cannot read the archive"
  grep -q "\"org.opencontainers.image.version\": \"$version\"" "$WORK/inspect.json" ||
    { cat "$WORK/inspect.json"; fail "skopeo does not see the version label"; }
  pass "skopeo reads the oci-archive"
fi

# ---- exactly the expected files ----
umoci unpack --image "$layout:$version" "$WORK/bundle" > "$WORK/unpack.log" 2>&1 ||
  { cat "$WORK/unpack.log"; fail "umoci unpack"; }
root=$WORK/bundle/rootfs
openssl_dir=$(openssl version -d | sed -n 's/^OPENSSLDIR: "\(.*\)"$/\1/p')
[ -n "$openssl_dir" ] || fail "cannot read OPENSSLDIR"
ldd "$STASH" > "$WORK/ldd.txt"
libs=$(sed -n -e 's/.*=> \(\/[^ ]*\).*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' "$WORK/ldd.txt")
[ -n "$libs" ] || fail "ldd found no libraries for $STASH"
{ printf '%s\n' /usr/local/bin/stash /etc/passwd /etc/group /etc/ssl/certs/ca-certificates.crt \
    "$openssl_dir/cert.pem" "$openssl_dir/certs"; printf '%s\n' "$libs"; } | sort > "$WORK/want.txt"
(cd "$root" && find . ! -type d | sed 's/^\.//' | sort) > "$WORK/have.txt"
diff "$WORK/want.txt" "$WORK/have.txt" || fail "the root file system's files differ (-want +have)"
[ "$(stat -c '%a %u' "$root/tmp")" = "1777 0" ] || fail "/tmp is not root's with mode 1777"
[ "$(stat -c '%u:%g' "$root/usr/local/bin/stash")" = "0:0" ] || fail "the binary is not root's"
[ "$(readlink "$root$openssl_dir/cert.pem")" = /etc/ssl/certs/ca-certificates.crt ] ||
  fail "$openssl_dir/cert.pem does not point at the CA bundle"
cmp -s /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" ||
  fail "the CA bundle differs from the system's"
pass "root file system: the binary, $(wc -w <<< "$libs") libraries, CA bundle, passwd, group, /tmp"

# ---- the binary runs from the image alone ----
# Only the image's environment (the machine's may name CA files, e.g. SSL_CERT_FILE).
chroot_bin=$(command -v chroot) || skip "chroot is not installed"
in_image() {
  env -i PATH=/usr/local/bin:/usr/bin:/bin RESTIC_PASSWORD="$RESTIC_PASSWORD" \
    "$chroot_bin" "$root" /usr/local/bin/stash "$@"
}
out=$(in_image version 2>&1) || { echo "$out"; fail "stash version in the image"; }
[ "$out" = "$version_line" ] || fail "stash version in the image printed \"$out\", want \"$version_line\""
pass "stash version in the image: $out"
in_image apiserver --help > "$WORK/help.txt" 2>&1 || { cat "$WORK/help.txt"; fail "stash apiserver --help"; }
grep -q -- "--secure-port" "$WORK/help.txt" || { cat "$WORK/help.txt"; fail "apiserver --help lacks --secure-port"; }
pass "stash apiserver --help in the image"

# A backup inside the image records the user name from the image's passwd.
mkdir -p "$root/tmp/src" && echo data > "$root/tmp/src/file"
in_image -q -r /tmp/repo init > "$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; fail "init in the image"; }
in_image -q -r /tmp/repo backup /tmp/src > "$WORK/backup.log" 2>&1 || { cat "$WORK/backup.log"; fail "backup in the image"; }
in_image -r /tmp/repo snapshots --json > "$WORK/snaps.json" || fail "snapshots in the image"
grep -q '"username":"root"' "$WORK/snaps.json" || { cat "$WORK/snaps.json"; fail "no user name root in the snapshot"; }
pass "backup in the image names user root (from its /etc/passwd)"

# ---- HTTPS trusts exactly the image's CA bundle ----
make_cert
start_rclone "$WORK/rest" --cert "$WORK/tls/cert.pem" --key "$WORK/tls/key.pem"
url=rest:https://127.0.0.1:$REST_PORT
! in_image -r "$url/one/" init 2> "$WORK/err" || fail "a CA outside the image's bundle was trusted"
expect_in "$WORK/err" "certificate verify failed" "a certificate outside the bundle is refused"
cat "$WORK/tls/cert.pem" >> "$root/etc/ssl/certs/ca-certificates.crt"
in_image -q -r "$url/two/" init > "$WORK/tls.log" 2>&1 ||
  { cat "$WORK/tls.log"; fail "HTTPS with the CA in the image's bundle ($openssl_dir/cert.pem) failed"; }
pass "HTTPS verification reads /etc/ssl/certs/ca-certificates.crt through $openssl_dir/cert.pem"

# ---- a library missing from the image fails the run ----
others=$(grep -v -e 'ld-linux' -e '/libc\.so' <<< "$libs") || true
victim=$(head -n 1 <<< "$others")
[ -n "$victim" ] || fail "no library to take away"
rm "$root$victim"
! in_image version > "$WORK/missing.log" 2>&1 || fail "stash ran without $victim"
expect_in "$WORK/missing.log" "$(basename "$victim")" "a missing library fails the run naming it"
