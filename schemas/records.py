"""Records that flow between pipeline stages: references, hashes and rows — never image bytes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from schemas.reasons import Finding


class Status:
    MIGRATED = "migrated"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    ALL = (MIGRATED, DUPLICATE, QUARANTINED)


@dataclass(frozen=True)
class PageBlob:
    """One page file of a page-per-row document: where its bytes are, and the manifest row that named it."""

    blob_uri: str
    offset: int | None = None
    length: int | None = None
    manifest_row: int = 0


@dataclass(frozen=True)
class DocumentRef:
    """One manifest document: where its bytes are and what the legacy system said about it."""

    source_system: str
    document_id: str
    manifest_uri: str
    manifest_row: int
    blob_uri: str | None = None
    offset: int | None = None
    length: int | None = None
    nhs_number: str | None = field(default=None, repr=False)  # never in a repr, so never in a log line
    document_type: str | None = None
    document_date: str | None = None
    page_count: int | None = None
    checksum_md5: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    findings: tuple[Finding, ...] = ()
    source_profile: str = "canonical"  # the profile (file name) the document was read through
    page_number: int | None = None  # page-per-row: this row's page, before the rows are assembled
    page_blobs: tuple[PageBlob, ...] = ()  # page-per-row: the document's page files, in page order
    legacy_header: str | int | None = None  # the profile's policy: None (no header), "search", or a length

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_system, self.document_id)

    @property
    def label(self) -> str:
        return f"{self.source_system}/{self.document_id}"

    def with_finding(self, finding: Finding) -> DocumentRef:
        return replace(self, findings=(*self.findings, finding))


@dataclass(frozen=True)
class DocumentOutcome:
    """The single outcome of one document: its documents-table row and, if migrated, its page rows.

    dedupe_key is (patient key, content hash) for documents that may be merged, None otherwise.
    """

    document: dict[str, Any]
    pages: tuple[dict[str, Any], ...] = ()
    dedupe_key: tuple[str, str] | None = field(default=None, repr=False)
    objects_written: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.document["source_system"], self.document["document_id"])

    @property
    def label(self) -> str:
        return f"{self.document['source_system']}/{self.document['document_id']}"
