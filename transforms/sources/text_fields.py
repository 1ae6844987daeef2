"""Reading index text and its number fields: shared by the canonical manifest and every layout.

Kept free of other project imports, so any source module can use it without a cycle.
"""

from __future__ import annotations

import io
from typing import IO

from apache_beam.io.filesystems import FileSystems

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.privacy import nhs_number


def open_text(uri: str, encoding: str) -> IO[str]:
    """Undecodable bytes become U+FFFD, so the record, not the job, is quarantined. Newlines are kept as written."""
    raw = FileSystems.open(uri, compression_type="uncompressed")
    return io.TextIOWrapper(
        raw, encoding="utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding, errors="replace", newline=""
    )


def whole_number(name: str, value: str, findings: list[Finding]) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, f"{name} must be a whole number ≥ 0, got {value!r}"))
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


def keep_as_metadata(name: str, value: str) -> bool:
    """Unmapped fields become metadata in lineage, except an NHS number: a field named like one, or any value that
    is a valid one (a "Patient ID" column often holds it). Never stored; a false positive only drops metadata."""
    if not value or "nhs" in name.casefold():
        return False
    return not nhs_number.is_valid(nhs_number.normalise(value))
