"""Helpers every layout shares: opening an index as text in its encoding, numbers, dates and paths."""

from __future__ import annotations

import datetime as dt

from schemas.reasons import Finding, Reason
from transforms.privacy.redact import describe_value
from transforms.sources.path_map import map_path
from transforms.sources.profiles import SourceProfile


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
