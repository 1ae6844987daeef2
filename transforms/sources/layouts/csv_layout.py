"""The csv layout: any delimiter, quoting, encoding and column names, mapped to canonical fields by the profile.

When the profile maps page_number, each row is one page; rows are assembled into documents later, in the
shuffle that already groups refs by (source_system, document_id) (see transforms/sources/layouts/page_per_row.py).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator, Mapping
from typing import IO

from apache_beam.io.filesystems import FileSystems

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.sources.errors import ManifestError
from transforms.sources.layouts.base import Layout, Split, newline_is_one_byte, owned_lines
from transforms.sources.layouts.common import blob_location, build_ref, iso_date, mapped_fields
from transforms.sources.profiles import SourceProfile
from transforms.sources.text_fields import PAGE_DIGITS, iter_index_rows, open_text, split_metadata, whole_number

_LOGGER = logging.getLogger(__name__)

REQUIRED = ("document_id", "blob_uri")


def check_csv_header(uri: str, profile: SourceProfile) -> None:
    """Every column the profile maps must be in the header: otherwise no row could be read, so stop now."""
    try:
        with open_text(uri, profile.encoding) as text:
            header = next(csv.reader(text, **profile.csv_dialect), None)
    except Exception as error:  # every filesystem raises its own kind; the user needs one line
        raise ManifestError(f"cannot read manifest {uri}: {type(error).__name__}: {error}") from error
    if not header:
        raise ManifestError(f"manifest {uri} is empty: expected a header row (profile {profile.name})")
    columns = {name.strip() for name in header}
    missing = [f"{column} (for {field})" for field, column in profile.fields if column not in columns]
    if missing:
        raise ManifestError(f"manifest {uri} lacks column(s) {', '.join(missing)} named by profile {profile.name}")
    absent = sorted(profile.keep_metadata - columns)
    if absent:  # a misspelt name only keeps less from lineage: worth a warning, not a stopped job
        _LOGGER.warning("profile %s: keep_metadata column(s) %s are not in %s", profile.name, ", ".join(absent), uri)


def iter_csv_refs(uri: str, profile: SourceProfile) -> Iterator[DocumentRef]:
    """Stream one CSV index into refs: memory is one row, however long the file."""
    folder = FileSystems.split(uri)[0]

    def parse(row: Mapping[str | None, object], number: int) -> DocumentRef:
        return parse_csv_row(row, profile=profile, manifest_uri=uri, row_number=number, folder=folder)

    return iter_index_rows(uri, profile.encoding, profile.csv_dialect, profile.source_system or "", profile.name, parse)


def parse_csv_row(
    row: Mapping[str | None, object], *, profile: SourceProfile, manifest_uri: str, row_number: int, folder: str
) -> DocumentRef:
    """One source row → a DocumentRef in canonical terms; every problem becomes a finding."""
    findings: list[Finding] = []
    if None in row:
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, "row has more fields than the header"))
    values = {key: str(value or "").strip() for key, value in row.items() if key is not None}
    if any("\ufffd" in value for value in values.values()):
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, f"row is not valid {profile.encoding}"))
    mapped = mapped_fields(values, profile)
    for field in REQUIRED:
        if not mapped.get(field):
            findings.append(Finding(Reason.MANIFEST_ROW_INVALID, f"{profile.field(field)} (the {field}) is empty"))
    blob = mapped.get("blob_uri")
    page_number = None
    if profile.page_per_row:
        if not mapped.get("page_number"):
            findings.append(Finding(Reason.MANIFEST_ROW_INVALID, f"{profile.field('page_number')} is empty"))
        # 0 is never a page: a row whose number is unusable still joins its document, and spoils it
        page_number = whole_number("page number", mapped.get("page_number", ""), findings, max_digits=PAGE_DIGITS) or 0
    metadata, kept = split_metadata(values, used={column for _, column in profile.fields}, keep=profile.keep_metadata)
    blob_uri = blob_location(blob, profile, folder, findings) if blob else None
    offset = whole_number("offset", mapped.get("offset", ""), findings)
    length = whole_number("length", mapped.get("length", ""), findings)
    document_date = iso_date(mapped.get("document_date", ""), profile.date_format, findings)
    return build_ref(
        source_system=profile.source_system,
        document_id=mapped.get("document_id"),
        manifest_uri=manifest_uri,
        row_number=row_number,
        blob_uri=blob_uri,
        offset=offset,
        length=length,
        nhs_number=mapped.get("nhs_number"),
        document_type=mapped.get("document_type"),
        document_date=document_date,
        page_count=("page count", mapped.get("page_count", "")),
        checksum_md5=mapped.get("checksum_md5"),
        metadata=metadata,
        findings=findings,
        profile=profile,
        kept=kept,
        page_number=page_number,
    )


class CsvSplitter:
    """A CSV is split on line boundaries only when its profile rules out line breaks inside fields
    (`"embedded_newlines": false`) and a newline is one byte in its encoding; a line belongs to the split its
    first byte lies in."""

    def can_split(self, profile: SourceProfile) -> bool:
        return not profile.embedded_newlines and newline_is_one_byte(profile)

    def count(self, handle: IO[bytes], split: Split) -> int:
        _, _, start, end = split
        return sum(1 for _ in owned_lines(handle, start, end))

    def refs(self, handle: IO[bytes], split: Split, first_number: int) -> Iterator[DocumentRef]:
        profile, uri, start, end = split
        header = _split_header(handle, profile)
        folder = FileSystems.split(uri)[0]
        for number, line in enumerate(owned_lines(handle, start, end), start=first_number):
            text = line.decode(profile.encoding, errors="replace").rstrip("\r\n")
            try:
                values = next(csv.reader([text], strict=True, **profile.csv_dialect), [])
            except csv.Error:  # one bad line is one stretch: lines are independent here, the next one is read
                values, problem = [], Finding(Reason.MANIFEST_UNPARSABLE, "the line does not parse as CSV")
            else:
                problem = None
            row: dict[str | None, object] = dict(zip(header, values, strict=False))
            if len(values) > len(header):
                row[None] = values[len(header) :]
            ref = parse_csv_row(row, profile=profile, manifest_uri=uri, row_number=number, folder=folder)
            yield ref.with_finding(problem) if problem else ref


def _split_header(handle: IO[bytes], profile: SourceProfile) -> list[str]:
    position = handle.tell()
    handle.seek(0)
    first = handle.readline().decode(profile.encoding, errors="replace").lstrip("\ufeff")
    handle.seek(position)
    return [name.strip() for name in next(csv.reader([first], **profile.csv_dialect))]


LAYOUT = Layout("csv", check_csv_header, iter_csv_refs, CsvSplitter())
