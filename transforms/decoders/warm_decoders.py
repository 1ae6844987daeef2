"""Decoder children started early, while the launcher builds and translates the graph (about a second), so the
in-process DirectRunner's first document does not wait for a child to spawn and import the imaging core.

Only where the per-document step runs in the launcher's own process (the launcher decides); a Beam worker process
or a Dataflow VM starts its own children in setup(). A child nobody claims is stopped at exit, and would end with
its parent anyway.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import Protocol

from transforms.decoders.isolation import IsolatedWorker
from transforms.imaging.image_job import ConvertedDocument, convert_blobs

#: What a child is started with; a step claims only a child started exactly as it would start one itself.
ChildSettings = tuple[float, int | None, tuple[str, ...]]  # time limit (s), memory limit (bytes), modules preloaded


class DecoderSettings(Protocol):
    """What of a run's settings decides how its children start: the per-document step's MigrationSettings
    (transforms/migrate/document_step.py) has these fields, and that step sits above decoders/ in the line."""

    isolation: str
    decode_lanes: int
    decode_timeout_seconds: float
    decode_memory_limit_mb: int | None


_lock = threading.Lock()
_waiting: dict[ChildSettings, list[IsolatedWorker]] = {}


def child_settings(
    settings: DecoderSettings, convert: Callable[..., ConvertedDocument] = convert_blobs
) -> ChildSettings:
    """How a lane's decoder child is started: its time and memory limits, and the modules it imports first
    (imagehash: imported by the first page's hash)."""
    memory = settings.decode_memory_limit_mb * 2**20 if settings.decode_memory_limit_mb else None
    image_job = getattr(convert, "__module__", None) or convert_blobs.__module__
    return (settings.decode_timeout_seconds, memory, (image_job, "imagehash"))


def start_decoders_early(settings: DecoderSettings) -> None:
    """For a run whose per-document step will run in this process: its lanes' children start now, beside the
    graph's construction, instead of on the first document's path."""
    if settings.isolation == "always":
        prestart(max(1, settings.decode_lanes), child_settings(settings))


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
