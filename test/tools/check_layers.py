#!/usr/bin/env python3
"""Checks that every #include in the product points at its own folder or a
folder below it (docs/architecture.md, "Layers"). Prints each violation as
FILE -> INCLUDE and exits 1; exits 0 with a count of checked includes."""
import os
import re
import sys

# Lower rank = lower layer. Folders of equal rank may not include each other.
RANK = {
    'base': 0, 'crypto': 1, 'net': 2, 'net/server': 3,
    'storage/backends': 4, 'storage': 5, 'stashapi': 6,
    'engine': 7, 'kube': 7,
    'apiserver/machinery': 8, 'operator': 8, 'agent': 8,
    'apiserver/auth': 9, 'apiserver/snapshots': 9,
    'apiserver': 10, 'cmd': 11,
}


def main(root):
    bad, checked = [], 0
    for folder in RANK:
        path = os.path.join(root, folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith(('.h', '.cc')):
                continue
            text = open(os.path.join(path, name), encoding='utf-8').read()
            for inc in re.findall(r'^#include "([^"]+)"', text, re.M):
                target = os.path.dirname(inc)
                if target not in RANK:
                    bad.append(f'{folder}/{name} -> {inc} (not a known folder)')
                    continue
                checked += 1
                if target != folder and RANK[target] >= RANK[folder]:
                    bad.append(f'{folder}/{name} -> {inc}')
    for line in bad:
        print(line)
    print(f'{checked} includes checked, {len(bad)} against the layers')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else '.'))
