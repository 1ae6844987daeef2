"""Tests that hold only on some platforms: skipped with their reason elsewhere, failed in CI (CI=true), where the
platform is ours and its absence means the image changed, as for Chromium in tests/pipelines/test_report.py."""

from __future__ import annotations

import functools
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

#: glibc's malloc, whose mallopt the decoder child tunes (transforms/imaging/isolation.py: reuse_freed_memory).
GLIBC = platform.libc_ver()[0] == "glibc"
#: Linux's /proc, where a process's state (running, zombie) can be read by any process.
PROC = Path("/proc/self/stat").is_file()


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def requires(available: bool, reason: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run the test where AVAILABLE; elsewhere skip it with REASON, except in CI, where it fails with REASON."""

    def decorate(test: Callable[..., Any]) -> Callable[..., Any]:
        if available:
            return test
        if on_ci():

            @functools.wraps(test)  # keeps the fixtures' signature
            def absent(*args: Any, **kwargs: Any) -> None:
                pytest.fail(f"{reason} (CI=true: absence is a failure, not a skip)")

            return absent
        return pytest.mark.skipif(True, reason=reason)(test)

    return decorate
