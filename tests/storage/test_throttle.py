"""Read caps per source system: the bucket arithmetic, on a clock the test controls (no timing in tests)."""

from __future__ import annotations

from transforms.storage.throttle import ReadCaps, SourceThrottle


class Clock:
    """A clock that moves only when the throttle sleeps: what the caps allow is exact, not timed."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_reads_per_second_hold_per_source_system_after_the_first_seconds_burst():
    clock = Clock()
    throttle = SourceThrottle(ReadCaps(reads_per_second=10), clock, clock.sleep)
    for _ in range(110):
        throttle.before_read("PAS")
    assert abs(clock.now - 10.9) < 1e-9  # the first at once, the other 109 at 10 a second: no burst
    before = clock.now
    throttle.before_read("ONBASE")  # another store has its own budget
    assert clock.now == before


def test_the_job_wide_cap_is_shared_between_worker_processes():
    clock = Clock()
    throttle = SourceThrottle(ReadCaps(reads_per_second=10, workers=4), clock, clock.sleep)
    for _ in range(52):
        throttle.before_read("PAS")
    assert abs(clock.now - 20.4) < 1e-9  # 2.5 a second in this process (the first at once): 4 make the job's 10


def test_bytes_per_second_are_charged_after_each_read():
    clock = Clock()
    throttle = SourceThrottle(ReadCaps(mib_per_second=2), clock, clock.sleep)
    for _ in range(12):
        throttle.after_read("PAS", 2**20)
    assert abs(clock.now - 5.5) < 1e-9  # 1 MiB at once, then 11 MiB at 2 MiB/s
