"""The access log: how often clinicians opened each document, so the records they use most migrate first.

Columns: source_system, document_id, access_count, last_accessed (any header order; extra columns ignored).
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


def check_access_log(uri: str) -> None:
    """Before launch: a log that cannot be read or lacks a column stops the job with one line."""
    try:
        with open_text(uri, "utf-8") as text:
            header = next(csv.reader(text), None) or []
    except Exception as error:  # every filesystem raises its own kind; the user needs one line
        raise ManifestError(f"cannot read --access_log {uri}: {type(error).__name__}") from error
    missing = [name for name in REQUIRED_COLUMNS if name not in {column.strip() for column in header}]
    if missing:
        raise ManifestError(f"--access_log {uri} lacks column(s) {', '.join(missing)}")


def read_access_log(uri: str) -> Iterator[tuple[tuple[str, str], Access]]:
    """(key, access) per row; a row whose count is not a whole number counts as no access, never a failure."""
    with open_text(uri, "utf-8") as text:
        for row in csv.DictReader(text):
            values = {(name or "").strip(): (value or "").strip() for name, value in row.items() if name}
            count = values.get("access_count", "")
            key = (values.get("source_system", ""), values.get("document_id", ""))
            yield key, Access(int(count) if count.isascii() and count.isdigit() else 0, values.get("last_accessed"))
