"""CSV records read to the end of the file, whatever one bad stretch holds.

Python's csv reader, given an unbalanced quote, reads the rest of the file into one field: 19,999 rows become
two, silently. Here each record is read from whole lines, and a record still open after MAX_RECORD_LINES lines
(or at the end of the file) is an unparsable stretch: its first line is reported, and reading starts again on
the line after it, so every later row is still read. At the end the characters read are checked against the
file's size, so a short read is never taken for the whole file.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

#: A quoted field may hold line breaks (free-text notes), but no real record runs to this many lines.
MAX_RECORD_LINES = 500
#: Nor to this many characters: the stretch is reported instead of growing a buffer without bound.
MAX_RECORD_CHARS = 1_000_000


@dataclass(frozen=True)
class CsvRecord:
    """One record (values) or one unparsable stretch (problem), with the physical line it starts on (1-based)."""

    line: int
    values: list[str] | None = None
    problem: str | None = None


class _Unparsable(Exception):
    """The text cannot be a CSV record however many lines follow (say, a field over csv's size limit)."""


def _parse(text: str, dialect: dict[str, Any]) -> list[str] | None:
    """The record's fields, or None while a quoted field is still open at the end of the text."""
    try:
        rows = list(csv.reader(io.StringIO(text), strict=True, **dialect))
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            return None
        try:  # lenient, as csv always was, for a stray quote mid-field
            rows = list(csv.reader(io.StringIO(text), **dialect))
        except csv.Error as lenient_error:
            raise _Unparsable(str(lenient_error)) from lenient_error
    return [value for row in rows for value in row] if rows else []


def _parse_or_give_up(text: str, dialect: dict[str, Any]) -> list[str] | None:
    """As _parse, but a record that can never parse counts as one still open, so it becomes a reported stretch."""
    try:
        return _parse(text, dialect)
    except _Unparsable:
        return None


def iter_csv_records(text: IO[str], dialect: dict[str, Any]) -> Iterator[CsvRecord]:
    """Every record of a CSV text, the header first; blank lines are skipped, as csv's DictReader skips them."""
    pending: deque[tuple[int, str]] = deque()  # lines given back after an unparsable stretch
    line_number = 0

    def next_line() -> tuple[int, str] | None:
        nonlocal line_number
        if pending:
            return pending.popleft()
        line = text.readline()
        if not line:
            return None
        line_number += 1
        return line_number, line

    while (first := next_line()) is not None:
        start, buffer = first
        lines = [first]
        while (values := _parse_or_give_up(buffer, dialect)) is None:
            following = None
            if len(lines) < MAX_RECORD_LINES and len(buffer) < MAX_RECORD_CHARS:
                following = next_line()
            if following is None:  # still open: an unbalanced quote at `start`, never the rest of the file
                yield CsvRecord(start, problem=f"a quoted field opened on line {start} does not close")
                pending.extendleft(reversed(lines[1:]))
                break
            lines.append(following)
            buffer += following[1]
        else:
            if values:
                yield CsvRecord(start, values=values)


def size_problem(bytes_read: int, size_in_bytes: int) -> str | None:
    """A read that stopped short of the file (a dropped connection, a cut copy) is reported, never taken whole."""
    if bytes_read != size_in_bytes:
        return f"read {bytes_read} of the file's {size_in_bytes} bytes"
    return None


def csv_rows(text: IO[str], dialect: dict[str, Any]) -> Iterator[tuple[int, dict[str | None, Any] | None, CsvRecord]]:
    """(data record number, row as csv.DictReader makes it, the record): the header's names stripped, surplus
    fields under the key None, missing ones None; an unparsable stretch comes with no row."""
    header: list[str] | None = None
    number = 0
    for record in iter_csv_records(text, dialect):
        if header is None and record.values is not None:
            header = [name.strip() for name in record.values]
            continue
        number += 1
        if record.values is None or header is None:
            yield number, None, record
            continue
        row: dict[str | None, Any] = dict(zip(header, record.values, strict=False))
        row.update({name: None for name in header[len(record.values) :]})
        if len(record.values) > len(header):
            row[None] = record.values[len(header) :]
        yield number, row, record
