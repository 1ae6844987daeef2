"""The canonical manifest: CSV columns, header checks and row parsing.

Parsing is pure (rows in, DocumentRef out) so it is testable without Beam; a row
that cannot be parsed becomes a DocumentRef carrying a finding, never an exception.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from typing import IO

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.sources.errors import ManifestError
from transforms.sources.layouts.base import Layout
from transforms.sources.layouts.common import build_ref
from transforms.sources.paths import folder_of, resolve_blob_uri
from transforms.sources.profiles import CANONICAL, SourceProfile
from transforms.sources.text_fields import iter_index_rows, open_text, split_metadata, whole_number

REQUIRED_COLUMNS = ("source_system", "document_id", "blob_uri")
KNOWN_COLUMNS = (
    *REQUIRED_COLUMNS,
    "offset",
    "length",
    "nhs_number",
    "document_type",
    "document_date",
    "page_count",
    "checksum_md5",
)


def open_manifest_text(manifest_uri: str) -> IO[str]:
    """The canonical manifest is UTF-8 (a BOM is allowed); undecodable bytes quarantine the row, not the job."""
    return open_text(manifest_uri, "utf-8")


def check_header(manifest_uri: str) -> list[str]:
    """Fail fast, with one clear message, on a manifest the job could not read at all."""
    try:
        with open_manifest_text(manifest_uri) as text:
            header = next(csv.reader(text), None)
    except FileNotFoundError as error:
        raise ManifestError(f"manifest not found: {manifest_uri}") from error
    except csv.Error as error:
        raise ManifestError(f"manifest {manifest_uri} is not valid CSV: {error}") from error
    except Exception as error:  # each filesystem and client raises its own kind; the user needs one line
        if "not found" in str(error).lower() or "404" in str(error):
            raise ManifestError(f"manifest not found: {manifest_uri}") from error
        raise ManifestError(f"cannot read manifest {manifest_uri}: {type(error).__name__}: {error}") from error
    if not header:
        raise ManifestError(f"manifest {manifest_uri} is empty: expected a header row")
    columns = [name.strip() for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ManifestError(f"manifest {manifest_uri} lacks required column(s) {', '.join(missing)}")
    return columns


def iter_manifest_refs(manifest_uri: str, profile_name: str = "canonical") -> Iterator[DocumentRef]:
    """Stream the manifest's rows as refs: memory stays one row, however long the manifest; an unparsable stretch
    is one quarantined record naming its line, and the rows after it are still read."""
    folder = folder_of(manifest_uri)

    def parse(row: Mapping[str | None, str | None], number: int) -> DocumentRef:
        return parse_row(row, manifest_uri=manifest_uri, row_number=number, folder=folder)

    return iter_index_rows(manifest_uri, "utf-8", {}, "", profile_name, parse)


def parse_row(row: Mapping[str, str | None], *, manifest_uri: str, row_number: int, folder: str) -> DocumentRef:
    """One CSV row to a DocumentRef; every problem becomes a finding on the ref."""
    findings: list[Finding] = []
    values = {key: (value or "").strip() for key, value in row.items() if key is not None}
    if None in row:  # csv puts surplus fields under the None key
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, "row has more fields than the header"))
    if any("\ufffd" in value for value in values.values()):
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, "row is not valid UTF-8"))
    for column in REQUIRED_COLUMNS:
        if not values.get(column):
            findings.append(Finding(Reason.MANIFEST_ROW_INVALID, f"required column {column} is empty"))
    offset = whole_number("offset", values.get("offset") or "", findings)
    length = whole_number("length", values.get("length") or "", findings)
    blob = values.get("blob_uri")
    # No profile, no allow-list: a --manifest run keeps its extra columns in the EDMS record only.
    metadata, _ = split_metadata(values, used=KNOWN_COLUMNS, keep=())
    return build_ref(
        source_system=values.get("source_system"),
        document_id=values.get("document_id"),
        manifest_uri=manifest_uri,
        row_number=row_number,
        blob_uri=resolve_blob_uri(blob, folder) if blob else None,
        offset=offset,
        length=length,
        nhs_number=values.get("nhs_number"),
        document_type=values.get("document_type"),
        document_date=values.get("document_date"),
        page_count=("page_count", values.get("page_count") or ""),
        checksum_md5=values.get("checksum_md5"),
        metadata=metadata,
        findings=findings,
    )


def _check(manifest_uri: str, _profile: SourceProfile) -> None:
    check_header(manifest_uri)


def _refs(manifest_uri: str, profile: SourceProfile) -> Iterator[DocumentRef]:
    return iter_manifest_refs(manifest_uri, profile.name)


#: The canonical manifest behind --manifest. Its rows are free to hold line breaks, so it is streamed whole.
LAYOUT = Layout(CANONICAL, _check, _refs)
