#!/usr/bin/env python3
"""Creates a sample tree with everything a backup must keep:
empty files and folders, files over 8 MiB (several chunks), names with spaces,
quotes, backslashes, HTML characters and non-ASCII, symlinks (relative,
absolute, dangling), unusual modes, nanosecond mtimes, a FIFO and hard links.

usage: make_tree.py DIR [SEED]
"""
import os
import random
import sys

root = sys.argv[1]
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)


def write(path, data, mode=0o644):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)
    os.chmod(full, mode)


def blob(n):
    return rng.randbytes(n)


os.makedirs(root, exist_ok=True)
write("small.txt", b"hello world\n")
write("empty.bin", b"")
write("docs/readme with spaces.md", b"# spaces\n" * 100)
write("docs/caf\u00e9 \u65e5\u672c\u8a9e.txt", "non-ascii \u2603\n".encode())
write('docs/quote"back\\slash<&>.txt', b"odd characters\n")
write("docs/tab\tname", b"tab\n")
write("data/big-9MiB.bin", blob(9 * 1024 * 1024 + 123))
write("data/medium.bin", blob(700 * 1024))
# Repetitive data compresses; a repeated 1 MiB block also dedups across chunks.
block = blob(1024 * 1024)
write("data/repeated.bin", block * 12)
write("bin/tool.sh", b"#!/bin/sh\necho tool\n", 0o755)
write("secret/key.pem", b"not really a key\n", 0o600)
write("bin/setuid-tool", b"suid\n", 0o4755)
os.makedirs(os.path.join(root, "empty-dir"))
os.makedirs(os.path.join(root, "sticky"))
os.chmod(os.path.join(root, "sticky"), 0o1777)
os.makedirs(os.path.join(root, "private"), mode=0o700)
os.symlink("small.txt", os.path.join(root, "link-relative"))
os.symlink("/etc/hostname", os.path.join(root, "link-absolute"))
os.symlink("does/not/exist", os.path.join(root, "link-dangling"))
os.mkfifo(os.path.join(root, "fifo"))
import socket
sock = socket.socket(socket.AF_UNIX)
sock.bind(os.path.join(root, "unix.sock"))  # left out of backups, as restic does
sock.close()
os.link(os.path.join(root, "small.txt"), os.path.join(root, "docs/hardlink-to-small"))

# Foreign owners and extended attributes, where this machine allows them.
if os.geteuid() == 0:
    write("owned/by-someone-else.txt", b"uid 1234\n")
    os.chown(os.path.join(root, "owned/by-someone-else.txt"), 1234, 5678)
    os.chown(os.path.join(root, "owned"), 4321, 8765)
    os.lchown(os.path.join(root, "link-relative"), 1234, 5678)
try:
    os.setxattr(os.path.join(root, "small.txt"), "user.stash.test", b"xattr value\x00\x01")
    os.setxattr(os.path.join(root, "docs"), "user.stash.dir", b"on a folder")
except OSError:
    pass

# Distinct nanosecond mtimes, set children first so folder times stick.
stamp = 1_600_000_000_123_456_789
for dirpath, dirnames, filenames in sorted(os.walk(root), key=lambda w: -w[0].count("/")):
    for name in filenames + dirnames:
        stamp += 1_000_000_007
        os.utime(os.path.join(dirpath, name), ns=(stamp, stamp), follow_symlinks=False)
    stamp += 7
    os.utime(dirpath, ns=(stamp, stamp))
