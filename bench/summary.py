#!/usr/bin/env python3
"""Prints bench/run.sh's results (JSON lines on stdin) as Markdown tables.

One table per repository location: rows are data set and step, columns the
seconds and peak RSS of each tool, the CPU bound of a first backup (from
bound.py) beside stash's time, and stash's ratios against the better of
the two newest peers on that measure (peer / stash, so above 1 means stash is
faster or smaller; the peer compared with is named). A peer that is
unavailable or failed a step shows "n/a", is listed by name below the tables
and takes no part in the ratio. With repeated rounds, a tool's fastest time
and highest peak RSS count. Exits 1 if stash failed a step.
"""
import json
import sys

TOOLS = ["restic 0.14", "restic 0.18.1", "rustic 0.11.4", "stash"]
NEWEST = ["restic 0.18.1", "rustic 0.11.4"]
STEPS = ["backup v2", "backup v1", "incremental", "check", "restore", "snapshots"]
DATASETS = ("generated", "real", "large")


def short(tool):
    return "rustic" if tool.startswith("rustic") else tool


def ratio(measured, key, suffix="x"):
    """stash's ratio against the best newest peer on KEY, as a table cell."""
    if "stash" not in measured:
        return "n/a"
    peers = [(measured[p][key], p) for p in NEWEST if p in measured]
    if not peers:
        return "n/a (no newer peer)"
    best, peer = min(peers)
    stash = max(measured["stash"][key], 1e-9)
    return f"{best / stash:.2f}{suffix} ({short(peer)})"


def bound_cell(bounds, dataset, step, field):
    """A first backup's CPU bound in seconds (v1_seconds, v2_format_seconds,
    ...), the restore's (of the format 2 repository) in the first column, or
    empty."""
    if step == "restore":
        key = "v2_restore_seconds" if field == "seconds" else None
    elif step.startswith("backup"):
        key = f"{step[-2:]}_{field}"
    else:
        return ""
    b = bounds.get(dataset, {}).get(key) if key else None
    return f"{b:.2f}" if b is not None else ""


def cpu_table(loc, measured, failed):
    """CPU seconds (user + system) per step: steadier than wall time when
    others load the machine, blind to waiting on the disk."""
    print(f"CPU seconds (user + system), repositories on {loc}:\n")
    print("| data set | step | " + " | ".join(TOOLS) + " | stash CPU ratio |")
    print("|---|---|" + "---:|" * (len(TOOLS) + 1))
    for dataset in DATASETS:
        for step in STEPS:
            m = measured.get((loc, dataset, step))
            if not m and not any(f["location"] == loc and f["dataset"] == dataset
                                 and f["step"] == step for f in failed):
                continue
            m = m or {}
            cpu = [f"{m[t]['cpu_seconds']:.2f}" if t in m else "n/a" for t in TOOLS]
            print("| " + " | ".join([dataset, step] + cpu + [ratio(m, "cpu_seconds")]) + " |")
    print()


def main():
    unavailable, failed, measured, order, bounds = {}, [], {}, [], {}
    for line in sys.stdin:
        r = json.loads(line)
        if "bound" in r:
            bounds[r["bound"]] = r
            continue
        if "unavailable" in r:
            unavailable[r["unavailable"]] = r["reason"]
            continue
        if r["location"] not in order:
            order.append(r["location"])
        key = (r["location"], r["dataset"], r["step"])
        if "failed" in r:
            failed.append(r)
        elif r["tool"] in measured.get(key, {}):  # a repeat: fastest time, highest RSS
            old = measured[key][r["tool"]]
            old["max_rss_kib"] = max(old["max_rss_kib"], r["m"]["max_rss_kib"])
            old["seconds"] = min(old["seconds"], r["m"]["seconds"])
            old["cpu_seconds"] = min(old["cpu_seconds"], r["m"]["cpu_seconds"])
        else:
            measured.setdefault(key, {})[r["tool"]] = r["m"]
    for f in failed:  # a tool that failed any round of a step is not compared on it
        measured.get((f["location"], f["dataset"], f["step"]), {}).pop(f["tool"], None)
    # Columns for the tools this run had (--large leaves restic 0.14 out).
    seen = {t for m in measured.values() for t in m} | {f["tool"] for f in failed} | set(unavailable)
    TOOLS[:] = [t for t in TOOLS if t in seen]

    for loc in order:
        print(f"Repositories and restores on {loc}:\n")
        head = ["data set", "step"] + [f"{t} s" for t in TOOLS] + ["CPU bound s", "with pack SHA-256 s", "stash speed-up"] \
            + [f"{t} RSS MiB" for t in TOOLS] + ["stash RSS ratio"]
        print("| " + " | ".join(head) + " |")
        print("|---|---|" + "---:|" * (len(head) - 2))
        for dataset in DATASETS:
            for step in STEPS:
                m = measured.get((loc, dataset, step))
                if not m and not any(f["location"] == loc and f["dataset"] == dataset
                                     and f["step"] == step for f in failed):
                    continue
                m = m or {}
                secs = [f"{m[t]['seconds']:.2f}" if t in m else "n/a" for t in TOOLS]
                rss = [f"{m[t]['max_rss_kib'] / 1024:.0f}" if t in m else "n/a" for t in TOOLS]
                bound = [bound_cell(bounds, dataset, step, f) for f in ("seconds", "format_seconds")]
                print("| " + " | ".join([dataset, step] + secs + bound + [ratio(m, "seconds")] + rss
                                        + [ratio(m, "max_rss_kib", "")]) + " |")
        print()
        cpu_table(loc, measured, failed)

    if order:
        loc = order[0]
        print("| data set | format 2 repository MiB: " + " | ".join(TOOLS) + " |")
        print("|---|" + "---:|" * len(TOOLS))
        for dataset in DATASETS:
            m = measured.get((loc, dataset, "repository MiB"))
            if m:
                print(f"| {dataset} | " + " | ".join(str(m[t]["mib"]) if t in m else "n/a"
                                                     for t in TOOLS) + " |")
        print()

    if bounds:
        unmeasured = any(not b.get("chunk_mbs") for b in bounds.values())
        print("CPU bound of a first backup: bytes x (1/chunking + 1/SHA-256 + 1/AES-256-CTR [+ 1/zstd -2 in"
              " format 2]) / cores; Poly1305 and the pack's SHA-256 not counted, so no backup can beat it."
              " \"With pack SHA-256\" adds the second SHA-256 of every stored byte (bytes / zstd's ratio in"
              " format 2) that a pack's name takes"
              + (" (chunking n/a: not measured, and not counted either)." if unmeasured else ".")
              + " A restore's CPU bound: bytes x (1/SHA-256 + 1/zstd decompression) + stored bytes / AES-256-CTR,"
              " over the cores; Poly1305, scrypt and the kernel's writes not counted.")
        print("| data set | MB | cores | chunking MB/s | SHA-256 MB/s | AES-256-CTR MB/s | zstd -2 MB/s "
              "| zstd -2 ratio | zstd decompression MB/s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, b in bounds.items():
            chunk = f"{b['chunk_mbs']:.0f}" if b.get("chunk_mbs") else "n/a"
            unzstd = f"{b['unzstd_mbs']:.0f}" if b.get("unzstd_mbs") else "n/a"
            print(f"| {name} | {b['bytes'] / 1e6:.0f} | {b['cores']} | {chunk} | {b['sha256_mbs']:.0f} "
                  f"| {b['aes_mbs']:.0f} | {b['zstd2_mbs']:.0f} | {b.get('zstd2_ratio', 0):.2f} | {unzstd} |")
        print()

    for tool, reason in unavailable.items():
        print(f"bench: {tool} unavailable (n/a above, not in the ratios): {reason}")
    # The same failure on every data set and location is one line.
    grouped = {}
    for f in failed:
        where = grouped.setdefault((f["tool"], f["step"], f["failed"]), ([], []))
        for i, k in enumerate(("dataset", "location")):
            if f[k] not in where[i]:
                where[i].append(f[k])
    for (tool, step, reason), (datasets, locations) in grouped.items():
        print(f"bench: {tool} {step} ({', '.join(datasets)}; {', '.join(locations)}) failed "
              f"(n/a above, not in the ratios): {reason}")
    return 1 if any(f["tool"] == "stash" for f in failed) else 0


if __name__ == "__main__":
    sys.exit(main())
