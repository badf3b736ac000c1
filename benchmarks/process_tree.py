"""Processes below a process (Linux /proc): the tree of a supervised component, its CPU seconds
and its resident memory, for benchmarks that measure a platform from outside."""

from __future__ import annotations

import os
from collections import defaultdict

from benchmarks.harness import process_cpu_s


def descendants(pid: int) -> list[int]:
    kids: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    kids[int(f.read().rsplit(")", 1)[1].split()[1])].append(int(entry))
            except OSError:
                continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and all below it (a process gone counts 0)."""
    return sum(process_cpu_s(p) or 0.0 for p in descendants(pid))


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all below it."""
    return sum(rss_mb(p) for p in descendants(pid))
