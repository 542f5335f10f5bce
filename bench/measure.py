#!/usr/bin/env python3
"""Runs a command and prints its wall time and peak RSS as JSON.

usage: measure.py -- CMD ARGS...   (stdout/stderr of CMD go to /dev/null)
"""
import json
import os
import subprocess
import sys
import time

cmd = sys.argv[sys.argv.index("--") + 1:]
start = time.monotonic()
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(proc.pid, 0)
elapsed = time.monotonic() - start
err = proc.stderr.read().decode(errors="replace")
code = os.waitstatus_to_exitcode(status)
if code != 0:
    sys.exit(f"command failed ({code}): {' '.join(cmd)}\n{err}")
print(json.dumps({"seconds": elapsed, "max_rss_kib": usage.ru_maxrss,
                  "cpu_seconds": usage.ru_utime + usage.ru_stime}))
