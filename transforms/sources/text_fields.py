"""Reading index text and its number fields: shared by the canonical manifest and every layout.

It imports only schemas, privacy's redaction and sources/csv_records.py, none of which imports a source module
back, so any source module can use it without a cycle.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import IO, Any

from apache_beam.io.filesystems import FileSystems

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.privacy.redact import describe_value
from transforms.sources.csv_records import csv_rows, size_problem
from transforms.storage.listing import size_of

_WHOLE_NUMBER = re.compile(r"[0-9]+")
#: A page number or page count longer than this is no page count at all (a shifted column, say an NHS number).
PAGE_DIGITS = 6

#: One CSV row (as csv.DictReader makes it) and its data record number → a ref.
RowParser = Callable[[Mapping[str | None, Any], int], DocumentRef]


class CountingReader(io.RawIOBase):
    """A file handle that counts the bytes read through it, so a reader can prove it reached the end."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.handle.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)

    def close(self) -> None:
        self.handle.close()
        super().close()


def open_text(uri: str, encoding: str) -> IO[str]:
    """Undecodable bytes become U+FFFD, so the record, not the job, is quarantined. Newlines are kept as written.
    `bytes_read(text)` says how many bytes of the file it has read so far."""
    raw = CountingReader(FileSystems.open(uri, compression_type="uncompressed"))
    return io.TextIOWrapper(
        io.BufferedReader(raw),
        encoding="utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding,
        errors="replace",
        newline="",
    )


def bytes_read(text: IO[str]) -> int:
    return text.buffer.raw.bytes_read  # type: ignore[attr-defined]


def file_size(uri: str) -> int:
    return size_of(uri)


def whole_number(name: str, value: str, findings: list[Finding], *, max_digits: int | None = None) -> int | None:
    """A field of ASCII digits as an int; anything else is a finding that describes the value, never quotes it."""
    value = value.strip()
    if not value:
        return None
    if not _WHOLE_NUMBER.fullmatch(value):
        findings.append(
            Finding(Reason.MANIFEST_ROW_INVALID, f"{name} must be a whole number ≥ 0, got {describe_value(value)}")
        )
        return None
    if max_digits is not None and len(value) > max_digits:
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, f"{name} has {len(value)} digits: too many for a {name}"))
        return None
    return int(value)


def unparsable_stretch(uri: str, source_system: str, record: int, line: int, problem: str, profile: str) -> DocumentRef:
    """A stretch of an index that does not parse (an unbalanced quote, a short read): one quarantined record that
    names its line, so the run fails loudly after its lineage while every other row is still read. Its id names
    the line, so the summary and the launcher's message can too."""
    return DocumentRef(
        source_system=source_system or "UNKNOWN",
        document_id=f"line-{line}",
        manifest_uri=uri,
        manifest_row=record,
        findings=(Finding(Reason.MANIFEST_UNPARSABLE, f"line {line}: {problem}; the rows after it were read"),),
        source_profile=profile,
    )


def split_metadata(
    fields: Mapping[str, str], *, used: Collection[str], keep: Collection[str]
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(every non-empty field not `used` for a canonical field, for the EDMS record; those named in `keep`, the
    profile's keep_metadata, for lineage). An allow-list, because a deny-list misses the column nobody thought of:
    names, dates of birth, hospital numbers, an NHS number under any heading."""
    everything = tuple(sorted((name, value) for name, value in fields.items() if name not in used and value))
    return everything, tuple((name, value) for name, value in everything if name in keep)


def iter_index_rows(
    uri: str, encoding: str, dialect: dict[str, Any], source_system: str, profile: str, parse: RowParser
) -> Iterator[DocumentRef]:
    """Every row of a CSV index as a ref, streamed: memory is one record, however long the file. An unparsable
    stretch is one quarantined ref naming its line, and reading goes on after it; a file read short is another."""
    number, line = 0, 0
    with open_text(uri, encoding) as text:
        for number, row, record in csv_rows(text, dialect):
            line = record.line
            if row is None:
                yield unparsable_stretch(uri, source_system, number, record.line, record.problem or "", profile)
            else:
                yield parse(row, number)
        problem = size_problem(bytes_read(text), file_size(uri))
    if problem:
        yield unparsable_stretch(uri, source_system, number + 1, line + 1, problem, profile)
