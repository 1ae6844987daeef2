"""Decoder lanes: a few documents in flight at once inside one DoFn instance, each on a decoder of its own.

The in-process DirectRunner runs the per-document step on one thread, so one decoder child works while the
machine's other cores wait. A lane is a thread that reads a document, hands it to its own decoder (an isolated
child, or the parent itself when isolation does not apply) and writes what comes back: the thread mostly waits on
that child's pipe or on storage, so several lanes share the GIL without queueing on it. No Beam here: the DoFn
submits work and is given back finished documents (value or exception), on its own thread, in completion order.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from transforms.decoders.isolation import InProcessWorker, IsolatedWorker

K = TypeVar("K")  # what the caller knows a document by (its DocumentRef)
L = TypeVar("L")  # a lane: the decoder(s) one document at a time may use
R = TypeVar("R")


@dataclass
class DecoderLane:
    """The decoders one document in flight may use: its own isolated child, or the parent itself."""

    isolated: IsolatedWorker
    in_process: InProcessWorker = field(default_factory=InProcessWorker)


@dataclass(frozen=True)
class Finished(Generic[K, R]):
    """One document's work, done: its result, or the exception that ended it (never both)."""

    key: K
    result: R | None
    error: BaseException | None


class Lanes(Generic[K, L, R]):
    """At most len(lanes) documents in flight, each with a lane of its own for as long as it runs.

    Memory stays bounded: submit() never queues work behind the lanes; the caller waits (wait_for_free_lane)
    once every lane is busy, and takes finished documents as they come.
    """

    def __init__(self, lanes: Sequence[L]) -> None:
        self.lanes = tuple(lanes)
        self._idle: queue.SimpleQueue[L] = queue.SimpleQueue()
        for lane in self.lanes:
            self._idle.put(lane)
        self._threads = concurrent.futures.ThreadPoolExecutor(len(self.lanes), thread_name_prefix="decode-lane")
        self._running: dict[concurrent.futures.Future[R], K] = {}

    @property
    def busy(self) -> int:
        return len(self._running)

    def submit(self, key: K, work: Callable[[L], R]) -> None:
        """Start KEY's work on a free lane; the caller has made sure one is free."""
        if self.busy >= len(self.lanes):
            raise RuntimeError("every lane is busy: take a finished document first")
        self._running[self._threads.submit(self._on_a_lane, work)] = key

    def _on_a_lane(self, work: Callable[[L], R]) -> R:
        lane = self._idle.get_nowait()  # never empty: no more tasks run than there are lanes
        try:
            return work(lane)
        finally:
            self._idle.put(lane)

    def finished(self, *, wait: bool = False) -> list[Finished[K, R]]:
        """Documents done so far; with WAIT, at least one (if any is running)."""
        if wait and self._running:
            concurrent.futures.wait(self._running, return_when=concurrent.futures.FIRST_COMPLETED)
        done = [future for future in self._running if future.done()]
        return [self._take(future) for future in done]

    def wait_for_free_lane(self) -> list[Finished[K, R]]:
        """What has finished, waiting for a document to finish if every lane is busy."""
        return self.finished(wait=self.busy >= len(self.lanes))

    def drain(self) -> list[Finished[K, R]]:
        """Every document still running, once it is done (the end of a bundle)."""
        concurrent.futures.wait(self._running)
        return self.finished()

    def _take(self, future: concurrent.futures.Future[R]) -> Finished[K, R]:
        key = self._running.pop(future)
        error = future.exception()
        return Finished(key, None if error else future.result(), error)

    def close(self) -> None:
        """Wait for running work to end, then stop the lane threads."""
        self._threads.shutdown(wait=True, cancel_futures=True)
        self._running.clear()


class DeferredCounts:
    """Counts made on lane threads, applied later by the thread that owns the metrics.

    Beam finds a counter's cell through the calling thread's state: an increment on a lane thread would be lost.
    """

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, name: str, value: int = 1) -> None:
        with self._lock:
            self._counts[name] += value

    def take(self) -> dict[str, int]:
        with self._lock:
            counts, self._counts = dict(self._counts), Counter()
        return counts
