"""Running a command and measuring its whole process tree: wall time, CPU time and peak RSS per process.

Linux only (/proc). Peak RSS is each process's own high-water mark (VmHWM), sampled every few tenths of a second
while it lives, so a process is measured even when it is killed rather than waited for; CPU time is the
RUSAGE_CHILDREN difference, which counts every descendant that was waited for.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: How a process is named in the report, from its command line.
_ROLES = (
    ("sdk_worker_main", "beam worker"),
    ("resource_tracker", "other"),
    ("multiprocessing", "decoder child"),
)


@dataclass
class TreeRun:
    """What one command cost."""

    returncode: int
    wall_seconds: float
    cpu_seconds: float
    started_at: float  # time.time() at launch
    stdout: str
    peak_rss_mib: dict[str, list[float]] = field(default_factory=dict)  # role → each process's peak
    cpu_seconds_by_role: dict[str, float] = field(default_factory=dict)  # as last sampled: a little low
    cpu_seconds_each: dict[str, list[float]] = field(default_factory=dict)  # role → each process's CPU seconds

    def peak(self, role: str) -> float:
        return max(self.peak_rss_mib.get(role, [0.0]))


def _children_by_parent() -> dict[int, list[int]]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    return parents


def _tree(root: int) -> list[int]:
    parents, found, todo = _children_by_parent(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


_TICKS = os.sysconf("SC_CLK_TCK")


def _sample(pid: int) -> tuple[str, float, float] | None:
    """(command line, peak RSS MiB, CPU seconds so far) of a live process."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return command, int(line.split()[1]) / 1024, cpu
    return None


def _role(command: str, pid: int, root: int) -> str:
    if pid == root:
        return "main"
    return next((role for marker, role in _ROLES if marker in command), "other")


def run_tree(
    command: list[str],
    *,
    cwd: str | None = None,
    interval: float = 0.2,
    stderr: Path | None = None,
    roles: Callable[[str, str], str] | None = None,
) -> TreeRun:
    """Run COMMAND to the end, watching its tree; its stdout is kept, its stderr written to STDERR (or dropped).
    ROLES(command line, role found here) names a process's role where a benchmark knows more kinds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started_at, started = time.time(), time.monotonic()
    errors = open(stderr, "w") if stderr else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=errors, text=True)
    peaks: dict[int, tuple[str, float, float]] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for pid in _tree(process.pid):
                sample = _sample(pid)
                if sample is not None:
                    _, peak, _ = peaks.get(pid, ("", 0.0, 0.0))
                    role = _role(sample[0], pid, process.pid)
                    if roles and pid != process.pid:
                        role = roles(sample[0], role)
                    peaks[pid] = (role, max(sample[1], peak), sample[2])
            done.wait(interval)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, _ = process.communicate()
    wall = time.monotonic() - started
    if stderr:
        errors.close()
    done.set()
    watcher.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    by_role: dict[str, list[float]] = {}
    cpu_by_role: dict[str, float] = {}
    cpu_each: dict[str, list[float]] = {}
    for role, peak, seconds in peaks.values():
        by_role.setdefault(role, []).append(round(peak, 1))
        cpu_by_role[role] = round(cpu_by_role.get(role, 0.0) + seconds, 2)
        cpu_each.setdefault(role, []).append(round(seconds, 2))
    return TreeRun(process.returncode, wall, cpu, started_at, stdout, by_role, cpu_by_role, cpu_each)


def first_file_time(folder: Path) -> float | None:
    """The earliest modification time of any file under FOLDER: when the first document was stored."""
    times = [entry.stat().st_mtime for entry in folder.rglob("*") if entry.is_file()] if folder.exists() else []
    return min(times) if times else None


def load_average() -> float:
    return os.getloadavg()[0]
