#!/usr/bin/env python3
"""Generates a benchmark tree: many small files and some large ones, half
compressible text and half random bytes, deterministic for a seed.

usage: gen_tree.py DIR TOTAL_MIB
       gen_tree.py --files N DIR

--files N makes the large case instead: N small files (40 to 400 bytes, each
different, so each is one data blob), every one in a folder of its own, and
those folders 1000 to a parent: N data blobs plus about N tree blobs, so a
repository of 2 million blobs from 1 million files.
"""
import os
import random
import sys


def many_files(root, n):
    rng = random.Random(7)
    for i in range(n):
        d = os.path.join(root, f"g{i // 1000:04d}", f"d{i % 1000:03d}")
        os.makedirs(d)
        with open(os.path.join(d, "f.txt"), "wb") as f:
            f.write(b"file %d " % i + rng.randbytes(rng.randint(32, 392)))
    print(f"{n} files in {n} folders, {n + (n + 999) // 1000 + 1} folders in all")


if len(sys.argv) == 4 and sys.argv[1] == "--files":
    many_files(sys.argv[3], int(sys.argv[2]))
    sys.exit(0)

root, total_mib = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
         for _ in range(4000)]


def text(n):
    out = bytearray()
    while len(out) < n:
        out += b" ".join(rng.choice(words) for _ in range(200)) + b"\n"
    return bytes(out[:n])


budget = total_mib << 20
small_budget = budget // 4
i = 0
while small_budget > 0:  # small files: 1-64 KiB in 100 folders
    n = rng.randint(1024, 65536)
    d = os.path.join(root, "small", f"d{i % 100:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:06d}.txt" if i % 2 else f"f{i:06d}.bin"), "wb") as f:
        f.write(text(n) if i % 2 else rng.randbytes(n))
    small_budget -= n
    i += 1
large = budget - budget // 4
os.makedirs(os.path.join(root, "large"), exist_ok=True)
j = 0
while large > 0:  # large files of 64 MiB
    n = min(64 << 20, large)
    with open(os.path.join(root, "large", f"big{j}.dat"), "wb") as f:
        left = n
        while left > 0:
            piece = min(4 << 20, left)
            f.write(text(piece) if j % 2 else rng.randbytes(piece))
            left -= piece
    large -= n
    j += 1
print(f"{i} small files, {j} large files, {total_mib} MiB")
