"""Splitting a big index across workers on record boundaries, with exact row numbers.

A layout with a splitter (see base.py) says where its records start; the rest is shared. CSV: Beam's ReadFromText
splits by byte ranges but would cut a quoted field that holds a line break, so a CSV is split only when its
profile says `"embedded_newlines": false`; otherwise one worker streams the whole file (still row by row, never
loaded whole). OnBase DIP: a record runs from its `BEGIN:` line to the next.
Row numbers stay exact (lineage promises the 1-based data row or record): a cheap first pass counts each split's
records, and each reader starts from the sum of the counts before it, from a small side input (one number per
split).
"""

from __future__ import annotations

from collections.abc import Iterator

from apache_beam.io.filesystems import FileSystems

from schemas.records import DocumentRef
from transforms.sources.layouts.base import Split
from transforms.sources.layouts.registry import layout_for
from transforms.sources.profiles import SourceProfile
from transforms.storage.listing import size_of

#: 64 MiB: about half a million manifest rows, a few seconds' work for one worker.
SPLIT_BYTES = 64 * 1024 * 1024


def splittable(profile: SourceProfile) -> bool:
    return layout_for(profile).splittable(profile)


def make_splits(source: tuple[SourceProfile, str], split_bytes: int = SPLIT_BYTES) -> Iterator[Split]:
    profile, uri = source
    size = size_of(uri)
    for start in range(0, max(size, 1), split_bytes):
        yield profile, uri, start, min(start + split_bytes, size)


def _splitter(split: Split):
    splitter = layout_for(split[0]).splitter
    if splitter is None:
        raise ValueError(f"layout {split[0].format!r} cannot be split")
    return splitter


def count_split_rows(split: Split) -> tuple[tuple[str, int], int]:
    _, uri, start, _ = split
    with FileSystems.open(uri, compression_type="uncompressed") as handle:
        return (uri, start), _splitter(split).count(handle, split)


def iter_split_refs(split: Split, counts: dict[tuple[str, int], int]) -> Iterator[DocumentRef]:
    """Parse one split's records, numbered from the records of every split before it in the same file."""
    _, uri, start, _ = split
    before = sum(n for (other, other_start), n in counts.items() if other == uri and other_start < start)
    with FileSystems.open(uri, compression_type="uncompressed") as handle:
        yield from _splitter(split).refs(handle, split, before + 1)
