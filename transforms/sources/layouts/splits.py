"""Splitting a big index across workers on record boundaries, with exact row numbers.

CSV: Beam's ReadFromText splits by byte ranges but would cut a quoted field that holds a line break, so a CSV is
split only when its profile says `"embedded_newlines": false`; otherwise one worker streams the whole file
(still row by row, never loaded whole). A line belongs to the split its first byte lies in.
OnBase DIP: a record belongs to the split its `BEGIN:` line starts in, and runs on to the next `BEGIN:`, past the
split's end if need be; values never hold line breaks, so a DIP index can always be split.
Row numbers stay exact (lineage promises the 1-based data row or record): a cheap first pass counts each split's
records, and each reader starts from the sum of the counts before it, from a small side input (one number per
split).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from apache_beam.io.filesystems import FileSystems

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.sources.layouts.csv_layout import parse_csv_row
from transforms.sources.layouts.onbase_dip import refs_from_lines
from transforms.sources.profiles import SourceProfile

#: 64 MiB: about half a million manifest rows, a few seconds' work for one worker.
SPLIT_BYTES = 64 * 1024 * 1024

Split = tuple[SourceProfile, str, int, int]  # (profile, index file, first byte, end byte)


def splittable(profile: SourceProfile) -> bool:
    """Only when the profile rules out line breaks in fields, and a newline is the byte 0x0A in its encoding
    (cp1252, latin-1, UTF-8: yes; UTF-16: no, so such a file is streamed whole)."""
    ascii_newline = "\n".encode(profile.encoding, errors="ignore") == b"\n"
    if profile.format == "onbase-dip":
        return ascii_newline
    return profile.format == "csv" and not profile.embedded_newlines and ascii_newline


def make_splits(source: tuple[SourceProfile, str], split_bytes: int = SPLIT_BYTES) -> Iterator[Split]:
    profile, uri = source
    size = FileSystems.match([uri])[0].metadata_list[0].size_in_bytes
    for start in range(0, max(size, 1), split_bytes):
        yield profile, uri, start, min(start + split_bytes, size)


def _lines(handle: IO[bytes], start: int, end: int) -> Iterator[bytes]:
    """The lines whose first byte lies in [start, end); the header line is never one of them."""
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


def _dip_lines(handle: IO[bytes], start: int, end: int) -> Iterator[bytes]:
    """The lines of the DIP records whose BEGIN: line starts in [start, end), through to each record's end."""
    position = 0
    if start > 0:
        handle.seek(start - 1)
        position = start - 1 + len(handle.readline())  # the rest of a line owned by the split before
    owned = False
    while True:
        line = handle.readline()
        if not line:
            return
        line_start, position = position, position + len(line)
        if line.startswith(b"BEGIN:"):
            if line_start >= end:
                return
            owned = True
        if owned:
            yield line


def count_split_rows(split: Split) -> tuple[tuple[str, int], int]:
    profile, uri, start, end = split
    with FileSystems.open(uri, compression_type="uncompressed") as handle:
        if profile.format == "onbase-dip":
            return (uri, start), sum(1 for line in _dip_lines(handle, start, end) if line.startswith(b"BEGIN:"))
        return (uri, start), sum(1 for _ in _lines(handle, start, end))


def _header(uri: str, profile: SourceProfile) -> list[str]:
    with FileSystems.open(uri, compression_type="uncompressed") as handle:
        first = handle.readline().decode(profile.encoding, errors="replace").lstrip("\ufeff")
    return [name.strip() for name in next(csv.reader([first], **profile.csv_dialect))]


def iter_split_refs(split: Split, counts: dict[tuple[str, int], int]) -> Iterator[DocumentRef]:
    """Parse one split's rows, numbered from the rows of every split before it in the same file."""
    profile, uri, start, end = split
    number = sum(n for (other, other_start), n in counts.items() if other == uri and other_start < start)
    if profile.format == "onbase-dip":
        with FileSystems.open(uri, compression_type="uncompressed") as handle:
            lines = (line.decode(profile.encoding, errors="replace") for line in _dip_lines(handle, start, end))
            yield from refs_from_lines(lines, profile=profile, manifest_uri=uri, first_number=number + 1)
        return
    header = _header(uri, profile)
    folder = FileSystems.split(uri)[0]
    with FileSystems.open(uri, compression_type="uncompressed") as handle:
        for line in _lines(handle, start, end):
            number += 1
            text = line.decode(profile.encoding, errors="replace").rstrip("\r\n")
            try:
                values = next(csv.reader([text], **profile.csv_dialect), [])
            except csv.Error as error:  # one bad line is one quarantined row: lines are independent here
                values, problem = [], Finding(Reason.MANIFEST_ROW_INVALID, f"line cannot be parsed as CSV: {error}")
            else:
                problem = None
            row: dict[str | None, object] = dict(zip(header, values, strict=False))
            if len(values) > len(header):
                row[None] = values[len(header) :]
            ref = parse_csv_row(row, profile=profile, manifest_uri=uri, row_number=number, folder=folder)
            yield ref.with_finding(problem) if problem else ref
