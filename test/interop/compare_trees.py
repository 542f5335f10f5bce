#!/usr/bin/env python3
"""Compares two trees as a restore must reproduce them: types, contents,
permission bits, mtimes (to the nanosecond), symlink targets, and owners.

usage: compare_trees.py ORIGINAL RESTORED [--no-dir-mtime]
Exits 1 and prints every difference if they differ.
"""
import os
import stat
import sys

a_root, b_root = sys.argv[1], sys.argv[2]
check_dir_mtime = "--no-dir-mtime" not in sys.argv
problems = []


def describe(root, rel):
    p = os.path.join(root, rel) if rel else root
    st = os.lstat(p)
    d = {"type": stat.S_IFMT(st.st_mode), "mode": stat.S_IMODE(st.st_mode),
         "uid": st.st_uid, "gid": st.st_gid}
    if not stat.S_ISDIR(st.st_mode) or check_dir_mtime:
        d["mtime"] = st.st_mtime_ns
    if stat.S_ISREG(st.st_mode):
        with open(p, "rb") as f:
            d["content"] = f.read()
    if stat.S_ISLNK(st.st_mode):
        d["target"] = os.readlink(p)
        d.pop("mode")
    else:
        try:
            d["xattrs"] = {n: os.getxattr(p, n) for n in os.listxattr(p) if n.startswith("user.")}
        except OSError:
            pass
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        d["inode"] = (st.st_dev, st.st_ino)
    return d


def walk(root):
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            if stat.S_ISSOCK(os.lstat(os.path.join(dirpath, n)).st_mode):
                continue  # backups leave sockets out
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


a_set, b_set = walk(a_root), walk(b_root)
for rel in sorted(a_set - b_set):
    problems.append(f"missing in restore: {rel!r}")
for rel in sorted(b_set - a_set):
    problems.append(f"extra in restore: {rel!r}")
# Hard links: files that share an inode in the original share one in the
# restore (inode numbers themselves differ, so compare the groups).
groups_a, groups_b = {}, {}
for rel in sorted(a_set & b_set):
    da, db = describe(a_root, rel), describe(b_root, rel)
    if "inode" in da:
        groups_a.setdefault(da.pop("inode"), []).append(rel)
        groups_b.setdefault(db.pop("inode", rel), []).append(rel)
    else:
        db.pop("inode", None)
    for k in sorted(set(da) | set(db)):
        if da.get(k) != db.get(k):
            va, vb = da.get(k), db.get(k)
            if k == "content":
                va, vb = f"{len(va or b'')} bytes", f"{len(vb or b'')} bytes (differs)"
            problems.append(f"{rel!r}: {k} {va!r} != {vb!r}")
if sorted(groups_a.values()) != sorted(groups_b.values()):
    problems.append(f"hard links differ: {sorted(groups_a.values())} != {sorted(groups_b.values())}")
for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"trees equal ({len(a_set)} entries)")
