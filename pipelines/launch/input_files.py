"""Inputs the launcher reads must be files: a FIFO (or a device, or a socket) given as --manifest would hang it,
since an index is read more than once (its header checked, its SHA-256 taken, then its rows read)."""

from __future__ import annotations

import os
import stat

from pipelines.console.usage import UsageError


def check_regular_file(flag: str, uri: str | None) -> None:
    """One line, exit 2, for a local path that is there but is no regular file (a folder is left to the readers)."""
    if not uri or "://" in uri:
        return
    try:
        mode = os.stat(uri).st_mode
    except OSError:  # not there: the readers say so in their own words
        return
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    raise UsageError(f"{flag} {uri} is {kind}, not a file: give the file itself (it is read more than once)")
