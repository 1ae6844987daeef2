"""Reading index text and its number fields: shared by the canonical manifest and every layout.

Kept free of other project imports, so any source module can use it without a cycle.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Mapping
from typing import IO

from apache_beam.io.filesystems import FileSystems

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.privacy.redact import describe_value

_WHOLE_NUMBER = re.compile(r"[0-9]+")
#: A page number or page count longer than this is no page count at all (a shifted column, say an NHS number).
PAGE_DIGITS = 6


def open_text(uri: str, encoding: str) -> IO[str]:
    """Undecodable bytes become U+FFFD, so the record, not the job, is quarantined. Newlines are kept as written."""
    raw = FileSystems.open(uri, compression_type="uncompressed")
    return io.TextIOWrapper(
        raw, encoding="utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding, errors="replace", newline=""
    )


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


def unparsable_rest(uri: str, source_system: str, rows_read: int, error: Exception, profile: str) -> DocumentRef:
    """What a CSV that stops parsing (say, an unclosed quote swallowing the rest) leaves: one quarantined record
    that says so, so the job goes on and the rest of the file is not silently lost."""
    return DocumentRef(
        source_system=source_system or "UNKNOWN",
        document_id=f"row-{rows_read + 1}",
        manifest_uri=uri,
        manifest_row=rows_read + 1,
        findings=(
            Finding(
                Reason.MANIFEST_ROW_INVALID,
                f"CSV cannot be parsed from data row {rows_read + 1} on ({error}); the rest of the file "
                "was not read: fix the quoting and re-run",
            ),
        ),
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
