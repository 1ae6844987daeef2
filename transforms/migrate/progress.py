"""Progress lines for long runs: counts and rates, at most one line per interval per worker thread.

Lines carry counts only, never a document's metadata, so they can never leak an NHS number.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

_LOGGER = logging.getLogger("edms_migrate.progress")


class ProgressLog:
    def __init__(self, interval_seconds: float = 10.0) -> None:
        self.interval = interval_seconds
        self.started = time.monotonic()
        self.last_logged = self.started
        self.counts: Counter[str] = Counter()

    def record(self, status: str, pages: int) -> None:
        self.counts["documents"] += 1
        self.counts[status] += 1
        self.counts["pages"] += pages
        now = time.monotonic()
        if now - self.last_logged >= self.interval:
            self.last_logged = now
            self.log(now)

    def log(self, now: float | None = None) -> None:
        elapsed = max((now or time.monotonic()) - self.started, 1e-9)
        c = self.counts
        _LOGGER.info(
            "progress: %d documents (%d stored, %d quarantined), %d pages; %.1f documents/s, %.1f pages/s",
            c["documents"],
            c["migrated"],
            c["quarantined"],
            c["pages"],
            c["documents"] / elapsed,
            c["pages"] / elapsed,
        )
