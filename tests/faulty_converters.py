"""Image jobs that misbehave on purpose, for the isolation tests.

Nothing real makes libtiff hang or segfault on demand, so these stand in for a faulty
decoder: the trigger is synthetic, but the child process, the signal that kills it,
the time limit and the recovery are all real. Module-level, so a spawned child can
import them.
"""

from __future__ import annotations

import os
import signal
import time

from transforms.imaging.image_job import ConvertedDocument, ImageLimits, convert_blobs
from transforms.imaging.legacy_header import LegacyHeader

CRASH_MARKER = b"\x00CRASH-IN-NATIVE-CODE\x00"
HANG_MARKER = b"\x00HANG-FOREVER\x00"
BUG_MARKER = b"\x00PYTHON-BUG\x00"


def misbehaving_convert(
    blobs: tuple[bytes, ...], limits: ImageLimits, recorded_page_count: int | None, legacy_header: LegacyHeader = None
) -> ConvertedDocument:
    data = b"".join(blobs)
    if CRASH_MARKER in data:
        os.kill(os.getpid(), signal.SIGSEGV)
    if HANG_MARKER in data:
        time.sleep(3600)
    if BUG_MARKER in data:
        raise RuntimeError("simulated bug in our own code")
    return convert_blobs(blobs, limits, recorded_page_count, legacy_header)
