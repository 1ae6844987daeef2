"""Decoder children started early, while the launcher builds and translates the graph (about a second), so the
in-process DirectRunner's first document does not wait for a child to spawn and import the imaging core.

Only where the per-document step runs in the launcher's own process (the launcher decides); a Beam worker process
or a Dataflow VM starts its own children in setup(). A child nobody claims is stopped at exit, and would end with
its parent anyway.
"""

from __future__ import annotations

import atexit
import threading

from transforms.imaging.isolation import IsolatedWorker

#: What a child is started with; a step claims only a child started exactly as it would start one itself.
ChildSettings = tuple[float, int | None, tuple[str, ...]]  # time limit (s), memory limit (bytes), modules preloaded

_lock = threading.Lock()
_waiting: dict[ChildSettings, list[IsolatedWorker]] = {}


def _started(settings: ChildSettings) -> IsolatedWorker:
    timeout_seconds, memory_limit_bytes, preload = settings
    worker = IsolatedWorker(timeout_seconds=timeout_seconds, memory_limit_bytes=memory_limit_bytes)
    worker.start(preload)
    return worker


def prestart(count: int, settings: ChildSettings) -> None:
    """Start COUNT children now, without waiting for them, for the step to claim when it is set up."""
    workers = [_started(settings) for _ in range(count)]
    with _lock:
        _waiting.setdefault(settings, []).extend(workers)


def claim(settings: ChildSettings) -> IsolatedWorker:
    """A child started early with these settings if one is waiting, else one started now."""
    with _lock:
        waiting = _waiting.get(settings)
        if waiting:
            return waiting.pop()
    return _started(settings)


def waiting() -> int:
    with _lock:
        return sum(len(workers) for workers in _waiting.values())


@atexit.register
def stop_unclaimed() -> None:
    """A run that failed before its step was set up, or a re-run with nothing left to migrate, never claims them."""
    with _lock:
        workers = [worker for group in _waiting.values() for worker in group]
        _waiting.clear()
    for worker in workers:
        worker.stop()
