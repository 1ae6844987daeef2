"""The access log: how often clinicians opened each document, so the records they use most migrate first.

Columns: source_system, document_id, access_count, last_accessed (any header order; extra columns ignored).
One reading, shared by `run` (its ranking) and `status` (its tiers), so they never disagree about a document:
- a count is a whole number of ASCII digits, however large; anything else (-5, `abc`, an empty cell) counts as
  no access, never a failure;
- a ragged row (too few or too many cells) is read for the cells it has;
- bytes that are not UTF-8 become U+FFFD, so such a row matches no document;
- an error is one line naming the file, never quoting its content.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from transforms.sources.errors import ManifestError
from transforms.sources.text_fields import open_text

REQUIRED_COLUMNS = ("source_system", "document_id", "access_count")


@dataclass(frozen=True, slots=True)
class Access:
    count: int
    last_accessed: str | None = None


def access_count(text: str) -> int:
    """The count a cell gives: its ASCII digits as a number, or 0 for anything else."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else 0


def check_access_log(uri: str) -> None:
    """Before launch: a log that cannot be read or lacks a column stops the job with one line."""
    try:
        with open_text(uri, "utf-8") as text:
            header = next(csv.reader(text), None) or []
    except Exception as error:  # every filesystem raises its own kind; the user needs one line
        raise ManifestError(f"cannot read --access_log {uri}: {type(error).__name__}") from error
    missing = sorted(set(REQUIRED_COLUMNS) - {column.strip() for column in header})
    if missing:
        raise ManifestError(f"--access_log {uri} lacks column(s) {', '.join(missing)}")


def read_access_log(uri: str) -> Iterator[tuple[tuple[str, str], Access]]:
    """(key, access) per row."""
    try:
        with open_text(uri, "utf-8") as text:
            for row in csv.DictReader(text):
                values = {(name or "").strip(): (value or "").strip() for name, value in row.items() if name}
                key = (values.get("source_system", ""), values.get("document_id", ""))
                yield key, Access(access_count(values.get("access_count", "")), values.get("last_accessed"))
    except csv.Error as error:  # a NUL byte, say: one line, never the file's text
        raise ManifestError(f"cannot read --access_log {uri}: it is not a CSV file ({type(error).__name__})") from error
