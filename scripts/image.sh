#!/usr/bin/env bash
# Builds an OCI image of the stash binary with umoci, without a container
# daemon or a base image: the root file system holds the binary, the shared
# libraries ldd finds for it (with the dynamic loader), the CA bundle, a
# minimal passwd/group and /tmp. See docs/image.md.
#
#   scripts/image.sh [--binary PATH] [--layout DIR] [--archive FILE | --no-archive] [--tag TAG]
#
# Defaults: build/cmd/stash, build/image/stash-oci, build/image/stash.tar and
# the version `stash version` prints as the tag. An existing layout or
# archive at the output paths is replaced.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "image.sh: $*" >&2; exit 1; }

binary=build/cmd/stash layout=build/image/stash-oci archive=build/image/stash.tar tag=
while [ $# -gt 0 ]; do
  case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --layout) layout=${2:?--layout needs a folder}; shift 2 ;;
    --archive) archive=${2:?--archive needs a file}; shift 2 ;;
    --no-archive) archive=; shift ;;
    --tag) tag=${2:?--tag needs a value}; shift 2 ;;
    *) die "unknown argument \"$1\" (see the usage at the top of scripts/image.sh)" ;;
  esac
done

[ -x "$binary" ] || die "no stash binary at $binary (build it first, or pass --binary PATH)"
if ! command -v umoci >/dev/null; then
  [ "$(id -u)" = 0 ] || die "umoci is not installed (apt-get install umoci as root)"
  echo "installing: umoci"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends umoci >/dev/null
fi

# The version comes from the binary itself ("stash 0.1.0 (...)"), so the tag
# and labels can never disagree with what the image runs.
version_line=$("$binary" version) || die "$binary version failed"
version=$(awk '{print $2}' <<< "$version_line")
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([.+-][0-9A-Za-z.-]+)?$ ]] ||
  die "cannot read a version from \"$binary version\": \"$version_line\""
tag=${tag:-$version}
[[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$ ]] || die "invalid tag \"$tag\" (letters, digits, . _ -)"

# OpenSSL finds the system CAs through OPENSSLDIR/cert.pem and OPENSSLDIR/certs
# (set_default_verify_paths); Debian points both into /etc/ssl/certs.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca_bundle" ] || die "no CA bundle at $ca_bundle (apt-get install ca-certificates)"
openssl_dir=$(openssl version -d | sed -n 's/^OPENSSLDIR: "\(.*\)"$/\1/p')
[ -n "$openssl_dir" ] || die "cannot read OPENSSLDIR from 'openssl version -d'"

stage=$(mktemp -d /tmp/stash-image-XXXXXX)
trap 'rm -rf "$stage"' EXIT
rootless=()
[ "$(id -u)" = 0 ] || rootless=(--rootless)

# The layout is made anew; refuse to remove a folder that is not one.
if [ -e "$layout" ]; then
  [ -f "$layout/oci-layout" ] || die "$layout exists and is not an OCI layout; not replacing it"
  rm -rf "$layout"
fi
mkdir -p "$(dirname "$layout")"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack "${rootless[@]}" --image "$layout:$tag" "$stage/bundle" >/dev/null
root=$stage/bundle/rootfs

# Every library ldd resolves, at the path it reports, with symlinks followed
# (the loader looks the names up there; no ld.so.cache in the image).
copy_libraries() {
  local deps line path
  deps=$(ldd "$binary" 2>&1) || { [[ $deps == *"not a dynamic executable"* ]] && return 0; die "ldd $binary: $deps"; }
  while IFS= read -r line; do
    [[ $line == *"not found"* ]] && die "ldd $binary: a library is missing: $line"
    if [[ $line =~ =\>\ (/[^ ]+) ]]; then path=${BASH_REMATCH[1]}
    elif [[ $line =~ ^[[:space:]]*(/[^ ]+) ]]; then path=${BASH_REMATCH[1]}
    else continue  # linux-vdso.so.1: provided by the kernel
    fi
    mkdir -p "$root$(dirname "$path")"
    cp -L --preserve=mode "$path" "$root$path"
    echo "library: $path"
  done <<< "$deps"
}

install -D -m 0755 "$binary" "$root/usr/local/bin/stash"
copy_libraries
install -D -m 0644 "$ca_bundle" "$root$ca_bundle"
mkdir -p "$root$openssl_dir"
ln -s "$ca_bundle" "$root$openssl_dir/cert.pem"
ln -s "$(dirname "$ca_bundle")" "$root$openssl_dir/certs"
mkdir -p "$root/etc"
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
  'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' > "$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' > "$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
mkdir -p "$root/tmp"
chmod 1777 "$root/tmp"

umoci repack --image "$layout:$tag" --history.created_by "scripts/image.sh" "$stage/bundle" >/dev/null

# Root by default: as a Stash sidecar the binary reads the workload's files,
# whoever owns them. The apiserver Deployment sets runAsUser 65534 itself.
created=()
[ -z "${SOURCE_DATE_EPOCH:-}" ] || created=(--created "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)")
umoci config --image "$layout:$tag" "${created[@]}" \
  --history.created_by "scripts/image.sh (config)" \
  --config.user 0:0 \
  --config.workingdir / \
  --config.env PATH=/usr/local/bin:/usr/bin:/bin \
  --config.entrypoint /usr/local/bin/stash \
  --config.label org.opencontainers.image.title=stash \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.description=Kubernetes backups in restic repositories (Stash 0.8.3 compatible)" \
  --manifest.annotation "org.opencontainers.image.version=$version"
umoci gc --layout "$layout"
echo "image: $layout:$tag (stash $version)"

# An oci-archive is the layout in a tar, its files at the top.
if [ -n "$archive" ]; then
  mkdir -p "$(dirname "$archive")"
  tar -C "$layout" -cf "$archive.part" oci-layout index.json blobs
  mv "$archive.part" "$archive"
  echo "archive: $archive"
fi
