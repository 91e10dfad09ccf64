"""CPU seconds used by the processes a benchmark drives, to report CPU per request.

Unlike rates, CPU per request hardly depends on what else runs on the machine, so the
benchmarks print it next to their throughput figures.
"""

from __future__ import annotations

import contextlib
import resource
from collections.abc import Iterable
from pathlib import Path

import psutil


def _tree(proc: psutil.Process) -> float:
    t = proc.cpu_times()  # with the children it reaped (PostgreSQL backends that ended)
    total = t.user + t.system + t.children_user + t.children_system
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            t = child.cpu_times()
            total += t.user + t.system
    return total


def snapshot(data_dir: str, groups: dict[str, Iterable[int]]) -> dict[str, float]:
    """CPU seconds so far of each named group of processes (pids, with their children), of the
    embedded PostgreSQL and Redis under `data_dir`, of this process (`driver`) and of the
    child processes it has reaped (`client`: wrk, once it has exited)."""
    out: dict[str, float] = {}
    for name, pids in groups.items():
        out[name] = 0.0
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                out[name] += _tree(psutil.Process(pid))
    out["postgres"], out["redis"] = 0.0, 0.0
    data_dir = str(Path(data_dir).resolve())
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if data_dir not in " ".join(cmdline):
            continue
        with contextlib.suppress(psutil.Error):
            if proc.info["name"] == "postgres" and "-D" in cmdline:
                out["postgres"] += _tree(proc)
            elif "redis" in (proc.info["name"] or ""):
                out["redis"] += _tree(proc)
    own = resource.getrusage(resource.RUSAGE_SELF)
    out["driver"] = own.ru_utime + own.ru_stime
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["client"] = children.ru_utime + children.ru_stime
    return out


def ms_per_request(before: dict, after: dict, requests: int) -> dict[str, float]:
    """CPU milliseconds per request of each group between two snapshots."""
    return {k: round((after[k] - before[k]) * 1000 / max(1, requests), 3) for k in before}
