"""Caps on what the job asks of a legacy store, per source system, for the whole job.

The legacy systems keep serving the hospital while the migration runs, so reads and bytes per second are capped
per source system. A token bucket per (source system, process) holds the job-wide cap divided by the number of
worker processes (the per-worker budget of Beam's rampup throttling), shared by every DoFn thread of the process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReadCaps:
    """Job-wide caps per source system (0: no cap), and how many worker processes share them."""

    reads_per_second: float = 0.0
    mib_per_second: float = 0.0
    workers: int = 1

    @property
    def active(self) -> bool:
        return self.reads_per_second > 0 or self.mib_per_second > 0


class TokenBucket:
    """`rate` tokens a second, at most one token saved up (no burst, so the cap holds over any stretch, short runs
    included); a take that overdraws waits it back."""

    def __init__(self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self.tokens = 1.0  # the first read goes at once, the rest at the rate
        self.updated = clock()
        self.lock = threading.Lock()

    def take(self, amount: float) -> float:
        """Spend `amount`; returns the seconds waited to stay within the rate."""
        with self.lock:
            now = self.clock()
            self.tokens = min(1.0, self.tokens + (now - self.updated) * self.rate) - amount
            self.updated = now
            wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if wait:
            self.sleep(wait)
        return wait


class SourceThrottle:
    """Reads and bytes per second per source system, within this process's share of the job-wide caps."""

    def __init__(
        self, caps: ReadCaps, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.caps = caps
        self.clock = clock
        self.sleep = sleep
        self.buckets: dict[tuple[str, str], TokenBucket] = {}
        self.lock = threading.Lock()

    def _bucket(self, source_system: str, kind: str, job_rate: float) -> TokenBucket:
        with self.lock:
            key = (source_system, kind)
            if key not in self.buckets:
                self.buckets[key] = TokenBucket(job_rate / max(1, self.caps.workers), self.clock, self.sleep)
            return self.buckets[key]

    def before_read(self, source_system: str) -> None:
        if self.caps.reads_per_second > 0:
            self._bucket(source_system, "reads", self.caps.reads_per_second).take(1)

    def after_read(self, source_system: str, size: int) -> None:
        if self.caps.mib_per_second > 0:
            self._bucket(source_system, "mib", self.caps.mib_per_second).take(size / 2**20)


_SHARED: dict[ReadCaps, SourceThrottle] = {}
_SHARED_LOCK = threading.Lock()


def shared_throttle(caps: ReadCaps) -> SourceThrottle:
    """One throttle per process for a job's caps: every DoFn instance (thread) of the process draws on it."""
    with _SHARED_LOCK:
        return _SHARED.setdefault(caps, SourceThrottle(caps))
