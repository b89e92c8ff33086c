"""Run a command as a child process and measure its wall time and memory.

Two memory figures: `max_rss_mb` is the kernel's peak resident set of the
largest single process in the tree (`wait4` rusage: the child or any
descendant it waited for, e.g. the dbt process); `tree_rss_mb` is the peak of
the whole tree's summed resident memory, sampled from /proc every 100 ms
(the pipeline and its dbt child are alive at the same time).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True)
class Measured:
    returncode: int
    seconds: float
    max_rss_mb: float
    tree_rss_mb: float


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_rss_kb(root: int) -> int:
    tree = _children()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):  # the process may be gone
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
        stack += tree.get(pid, [])
    return total


def run_measured(argv: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Measured:
    log.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    with log.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.1):
                peak = max(peak, tree_rss_kb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(proc.returncode, seconds, usage.ru_maxrss / 1024, max(peak, usage.ru_maxrss) / 1024)
