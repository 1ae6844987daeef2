"""Page-per-row exports: rows sharing a document id become one document, in page order, whatever the row order.

Pages are never renumbered: a gap, a repeat or an unusable page number quarantines the whole document with
PAGE_SEQUENCE_INVALID, and a problem on any of its rows is a problem of the document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef, PageBlob

_LISTED = 10  # a message names at most this many page numbers, so a wild page number cannot swell a row


def _listed(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:_LISTED])
    return f"[{shown}, … {len(numbers) - _LISTED} more]" if len(numbers) > _LISTED else f"[{shown}]"


def _sequence_findings(numbers: Sequence[int]) -> list[Finding]:
    counts = Counter(numbers)
    repeated = sorted(n for n, c in counts.items() if c > 1)
    present = set(numbers)
    last = max(numbers) if numbers else 0
    missing = [n for n in range(1, last + 1) if n not in present]
    findings = []
    if repeated:
        findings.append(
            Finding(Reason.PAGE_SEQUENCE_INVALID, f"page number(s) {_listed(repeated)} appear more than once")
        )
    if missing:
        findings.append(Finding(Reason.PAGE_SEQUENCE_INVALID, f"page(s) {_listed(missing)} missing of {last}"))
    return findings


def assemble_pages(rows: Sequence[DocumentRef]) -> DocumentRef:
    """Page rows of one (source_system, document_id) → one DocumentRef whose page_blobs are in page order."""
    ordered = sorted(rows, key=lambda r: (r.page_number or 0, r.manifest_uri, r.manifest_row))
    first = min(rows, key=lambda r: (r.manifest_uri, r.manifest_row))
    findings: list[Finding] = []
    for row in ordered:
        findings += [replace(f, message=f"row {row.manifest_row}: {f.message}") for f in row.findings]
    findings += _sequence_findings([row.page_number or 0 for row in ordered])
    if len({row.nhs_number for row in ordered}) > 1:
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, "the document's rows disagree on the NHS number"))
    pages = tuple(PageBlob(row.blob_uri, row.offset, row.length, row.manifest_row) for row in ordered if row.blob_uri)
    return replace(
        first,
        blob_uri=ordered[0].blob_uri,
        offset=None,
        length=None,
        page_count=None,
        checksum_md5=None,
        page_number=None,
        page_blobs=pages,
        findings=tuple(findings),
    )
