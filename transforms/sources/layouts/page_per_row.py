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

#: How many missing page numbers a finding lists; the count is always exact.
LISTED_PAGES = 20
#: No scanned document has more pages than this: a larger page number is a wrong value, not a long document.
PLAUSIBLE_PAGES = 100_000


def _missing_pages(distinct: Sequence[int]) -> tuple[int, list[int]]:
    """(how many of 1..max are absent, the first few of them), in time and memory of the rows, not of the largest
    number: a page number like 9434765919 (an NHS number in the wrong column) must not build a ten-billion set."""
    missing, listed, expected = 0, [], 1
    for number in distinct:
        if number > expected:
            missing += number - expected
            listed += range(expected, min(number, expected + LISTED_PAGES - len(listed)))
        expected = number + 1
    return missing, listed[:LISTED_PAGES]


def _sequence_findings(numbers: Sequence[int]) -> list[Finding]:
    findings = []
    implausible = [n for n in numbers if n > PLAUSIBLE_PAGES]
    if implausible:  # a shifted column, say: its value is never repeated in a message (it may be an identifier)
        digits = sorted({len(str(n)) for n in implausible})
        findings.append(
            Finding(Reason.PAGE_SEQUENCE_INVALID, f"a page number of {digits[-1]} digits is beyond {PLAUSIBLE_PAGES}")
        )
        numbers = [n for n in numbers if n <= PLAUSIBLE_PAGES]
    counts = Counter(numbers)
    repeated = sorted(n for n, c in counts.items() if c > 1)
    missing, listed = _missing_pages(sorted(n for n in counts if n > 0))
    if repeated:
        findings.append(
            Finding(Reason.PAGE_SEQUENCE_INVALID, f"page number(s) {repeated[:LISTED_PAGES]} appear more than once")
        )
    if missing:
        more = f" and {missing - len(listed)} more" if missing > len(listed) else ""
        findings.append(Finding(Reason.PAGE_SEQUENCE_INVALID, f"page(s) {listed}{more} missing of {max(numbers)}"))
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
