"""What a layout is: one object that checks an index before launch, reads it as refs, and may split it.

Each module in this package that defines a module-level `LAYOUT` is a layout; the registry finds it by its name,
which is the profile's `format`. Onboarding a new layout is one module here and its name in the profile schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Protocol

from schemas.records import DocumentRef
from transforms.sources.profiles import SourceProfile

Split = tuple[SourceProfile, str, int, int]  # (profile, index file, first byte, end byte)


class Splitter(Protocol):
    """How a big index is cut on record boundaries, so several workers read it with exact record numbers."""

    def can_split(self, profile: SourceProfile) -> bool: ...

    def count(self, handle: IO[bytes], split: Split) -> int:
        """The records whose first byte lies in the split."""
        ...

    def refs(self, handle: IO[bytes], split: Split, first_number: int) -> Iterator[DocumentRef]:
        """The split's records as refs, numbered from first_number."""
        ...


@dataclass(frozen=True)
class Layout:
    name: str  # the profile's "format"
    check_header: Callable[[str, SourceProfile], None]  # before launch: ManifestError, one line, if unreadable
    iter_refs: Callable[[str, SourceProfile], Iterator[DocumentRef]]  # one whole index, streamed
    splitter: Splitter | None = None  # None: an index is always streamed whole by one worker

    def splittable(self, profile: SourceProfile) -> bool:
        return self.splitter is not None and self.splitter.can_split(profile)


def newline_is_one_byte(profile: SourceProfile) -> bool:
    """A newline is the byte 0x0A in the profile's encoding (cp1252, latin-1, UTF-8: yes; UTF-16: no)."""
    return "\n".encode(profile.encoding, errors="ignore") == b"\n"


def owned_lines(handle: IO[bytes], start: int, end: int) -> Iterator[bytes]:
    """The non-blank lines whose first byte lies in [start, end); the header line is never one of them."""
    position = 0
    if start > 0:
        handle.seek(start - 1)
        position = start - 1
    skipped = handle.readline()  # the header (start 0) or the end of a line owned by the split before
    position += len(skipped)
    while position < end:
        line = handle.readline()
        if not line:
            return
        position += len(line)
        if line.strip():  # csv skips blank lines; counting must agree with parsing
            yield line
