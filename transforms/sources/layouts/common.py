"""Helpers every layout shares: dates, paths, and the one place a parsed row or record becomes a DocumentRef."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.privacy.redact import describe_value
from transforms.sources.path_map import map_path
from transforms.sources.profiles import SourceProfile
from transforms.sources.text_fields import PAGE_DIGITS, whole_number


def iso_date(value: str, date_format: str, findings: list[Finding]) -> str | None:
    """The source's date in its own format → YYYY-MM-DD; a date that does not parse is a finding."""
    value = value.strip()
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, date_format).date().isoformat()
    except ValueError:
        findings.append(
            Finding(Reason.DATE_INVALID, f"document date ({describe_value(value)}) does not match {date_format!r}")
        )
        return None


def blob_location(raw: str, profile: SourceProfile, manifest_folder: str, findings: list[Finding]) -> str | None:
    uri, finding = map_path(raw.strip(), profile.path_map, manifest_folder)
    if finding:
        findings.append(finding)
    return uri


def build_ref(
    *,
    source_system: str | None,
    document_id: str | None,
    manifest_uri: str,
    row_number: int,
    blob_uri: str | None,
    offset: int | None,
    length: int | None,
    nhs_number: str | None,
    document_type: str | None,
    document_date: str | None,
    page_count: tuple[str, str],
    checksum_md5: str | None,
    metadata: tuple[tuple[str, str], ...],
    findings: list[Finding],
    profile: SourceProfile | None = None,
    kept: tuple[tuple[str, str], ...] = (),
    page_number: int | None = None,
) -> DocumentRef:
    """A layout's parsed fields → its DocumentRef, the same way for every layout: a row without a source system
    or id is still a document ("UNKNOWN", "row-N") that its findings quarantine; empty text is None; the page
    count (its name in messages, its text) is read here, after the fields before it, so findings keep their order.
    With a profile, the ref carries its name, its legacy-header policy and the metadata it keeps for lineage."""
    name, text = page_count
    pages = whole_number(name, text, findings, max_digits=PAGE_DIGITS)
    by_profile = (
        {"lineage_metadata": kept, "source_profile": profile.name, "legacy_header": profile.legacy_header}
        if profile is not None
        else {}
    )
    return DocumentRef(
        source_system=source_system or "UNKNOWN",
        document_id=document_id or f"row-{row_number}",
        manifest_uri=manifest_uri,
        manifest_row=row_number,
        blob_uri=blob_uri,
        offset=offset,
        length=length,
        nhs_number=nhs_number or None,
        document_type=document_type or None,
        document_date=document_date or None,
        page_count=pages,
        checksum_md5=(checksum_md5 or "").lower() or None,
        metadata=metadata,
        findings=tuple(findings),
        page_number=page_number,
        **by_profile,
    )


def mapped_fields(values: Mapping[str, str], profile: SourceProfile) -> dict[str, str]:
    """A row's values under their canonical field names, through the profile's mapping."""
    return {field: values.get(column, "") for field, column in profile.fields}
