#!/usr/bin/env python3
"""Measures this machine's per-core speeds of the work every backed-up byte
needs and prints the resulting CPU bound on a first backup's throughput.

usage: bound.py [--chunker PATH] NAME=DIR...   (one JSON line per data set)

Every byte of a first backup is chunked (restic's rolling hash: measured by
PATH, build/bench/chunk_speed, on the data set itself, which skips what the
chunker never hashes: the first 512 KiB of a chunk but its last 64 bytes,
so a file under 512 KiB costs nothing), hashed (SHA-256), encrypted
(AES-256-CTR) and, in a format 2 repository, compressed (zstd level 2, what
stash's `--compression auto` uses; measured on the data set, in 1 MiB
blocks like the chunks). Spread perfectly over all cores, that takes at
least the sum of bytes / speed over those steps, divided by the cores.
Poly1305 and the pack's own SHA-256 are left out, so the bound is loose: a
backup cannot beat it, and may not reach it. Without --chunker (or when it
fails) chunking is left out too, and "chunk_mbs" is null.

"v1_format_seconds" and "v2_format_seconds" add the second SHA-256 the
repository format asks for: a pack file is named by the SHA-256 of its
bytes, so every stored byte (after zstd, in format 2: the data set's size
divided by zstd's ratio) is hashed a second time. Still left out: Poly1305,
reading the files and writing the packs.

"v2_restore_seconds" is the same kind of bound for a restore from a format 2
repository (the one bench/run.sh restores from): every restored byte's
SHA-256 (a blob is checked against its id), every stored byte's
AES-256-CTR, and zstd decompression (zstd's own decompression speed in the
same benchmark). Left out: Poly1305,
the key derivation (scrypt, one core, before anything else can start),
reading the packs and the kernel's work creating and writing the files.
"""
import json
import os
import re
import subprocess
import sys

MB = 1e6


def openssl_speed(alg):
    """Bytes per second of one core for an EVP algorithm on 16 KiB blocks;
    the best of three one-second runs, as others may load the machine."""
    return max(openssl_once(alg) for _ in range(3))


def openssl_once(alg):
    out = subprocess.run(["openssl", "speed", "-mr", "-seconds", "1", "-bytes", "16384",
                          "-evp", alg], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("+F:"):
            return float(line.split(":")[3])
    raise RuntimeError(f"openssl speed {alg}: no result in its output")


def zstd_speed(path):
    """Bytes per second of one core compressing PATH at level 2, 1 MiB blocks
    (zstd reports the fastest pass of at least three seconds), the
    compression ratio, and the bytes per second decompressing them."""
    res = subprocess.run(["zstd", "-q", "-b2", "-i3", "-B1M", "-T1", "-r", path],
                         capture_output=True, text=True, check=True)
    m = re.search(r"\(\s*([\d.]+)\)\s+([\d.]+) MB/s\s+([\d.]+) MB/s", res.stdout + res.stderr)
    if not m:
        raise RuntimeError(f"zstd -b2 {path}: no result in its output")
    return float(m.group(2)) * MB, float(m.group(1)), float(m.group(3)) * MB


def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            if os.path.isfile(p) and not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def chunk_speed(chunker, path):
    """Bytes per second of one core chunking PATH, or None (with a note on
    stderr) when the tool is missing or fails."""
    if not chunker:
        return None
    try:
        out = subprocess.run([chunker, path], capture_output=True, text=True, check=True).stdout
        return json.loads(out)["chunk_mbs"] * MB
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as e:
        print(f"bound.py: chunking speed of {path} not measured ({chunker}: {e})", file=sys.stderr)
        return None


def main():
    args = sys.argv[1:]
    chunker = None
    if len(args) >= 2 and args[0] == "--chunker":
        chunker, args = args[1], args[2:]
    sets = [a.split("=", 1) for a in args]
    if not sets or any(len(s) != 2 or not os.path.isdir(s[1]) for s in sets):
        sys.exit("usage: bound.py [--chunker PATH] NAME=DIR...  (DIR must be a folder)")
    cores = os.cpu_count() or 1
    sha, aes = openssl_speed("sha256"), openssl_speed("aes-256-ctr")
    for name, path in sets:
        (zstd, zstd_ratio, unzstd), size = zstd_speed(path), tree_bytes(path)
        chunk = chunk_speed(chunker, path)
        per_byte = 1 / sha + 1 / aes + (1 / chunk if chunk else 0)
        v1 = size * per_byte / cores
        v2 = size * (per_byte + 1 / zstd) / cores
        print(json.dumps({"bound": name, "bytes": size, "cores": cores,
                          "sha256_mbs": sha / MB, "aes_mbs": aes / MB, "zstd2_mbs": zstd / MB,
                          "zstd2_ratio": zstd_ratio, "unzstd_mbs": unzstd / MB,
                          "chunk_mbs": chunk / MB if chunk else None,
                          "v1_seconds": v1, "v2_seconds": v2,
                          "v1_format_seconds": v1 + size / sha / cores,
                          "v2_format_seconds": v2 + size / zstd_ratio / sha / cores,
                          "v2_restore_seconds":
                              size * (1 / sha + 1 / zstd_ratio / aes + 1 / unzstd) / cores}))


if __name__ == "__main__":
    main()
