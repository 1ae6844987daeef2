"""Checks of what the legacy system said about a document against the document itself.

Each check returns findings rather than raising, so one document can carry every
problem it has and an operator fixes them in one pass. A message describes a bad value's
shape, never the value: a shifted column puts an NHS number or a name into any field, and
messages reach lineage, BigQuery and the quarantine records. The value itself stays in the
manifest row the message points to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.privacy import nhs_number
from transforms.privacy.redact import describe_value

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST_DOCUMENT_DATE = dt.date(1900, 1, 1)


def parse_document_date(text: str | None) -> dt.date | None:
    """YYYY-MM-DD, or None when the text is not a real date in that form."""
    if not text or not _ISO_DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def check_metadata(
    ref: DocumentRef, *, today: dt.date, document_types: dict[str, frozenset[str]] | None = None
) -> list[Finding]:
    """NHS number, date and document type: the checks that need no bytes."""
    findings = []
    allowed_types = (document_types or {}).get(ref.source_system, (document_types or {}).get("*"))
    if allowed_types is not None and ref.document_type not in allowed_types:
        shape = describe_value(ref.document_type) if ref.document_type else "missing"
        findings.append(Finding(Reason.DOCUMENT_TYPE_UNKNOWN, f"document_type ({shape}) is not on this source's list"))
    status, _ = nhs_number.classify(ref.nhs_number)
    if status is nhs_number.NhsNumberStatus.INVALID:
        # Never put the number itself in a message: messages reach logs and lineage.
        findings.append(Finding(Reason.NHS_NUMBER_INVALID, "NHS number is not 10 digits passing the Modulus 11 check"))
    if ref.document_date:
        date = parse_document_date(ref.document_date)
        if date is None:
            findings.append(
                Finding(
                    Reason.DATE_INVALID, f"document_date ({describe_value(ref.document_date)}) is not a YYYY-MM-DD date"
                )
            )
        elif date > today:
            findings.append(Finding(Reason.DATE_INVALID, "document_date is a date in the future"))
        elif date < EARLIEST_DOCUMENT_DATE:
            findings.append(Finding(Reason.DATE_INVALID, "document_date is a date before 1900"))
    return findings


def check_checksum(ref: DocumentRef, data: bytes) -> list[Finding]:
    if not ref.checksum_md5:
        return []
    actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if actual != ref.checksum_md5:
        recorded = describe_value(ref.checksum_md5)
        return [Finding(Reason.CHECKSUM_MISMATCH, f"MD5 is {actual}; the legacy system recorded another ({recorded})")]
    return []
