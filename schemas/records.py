"""Records that flow between pipeline stages: references, hashes and rows — never image bytes."""

from __future__ import annotations

import hashlib
import json
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
    """One manifest document: where its bytes are and what the legacy system said about it.

    Metadata comes in two sets, because two readers with different rights read it: `metadata` is every field the
    export carried beyond the canonical ones (names, dates of birth, hospital and NHS numbers included), for the
    EDMS index record only, which names the patient anyway; `lineage_metadata` is the subset the source profile's
    `keep_metadata` allows into analyst tables, where lineage writes it redacted (transforms/privacy/redact.py).
    Neither is in a repr, so neither reaches a log line.
    """

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
    metadata: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # for the EDMS index record only
    lineage_metadata: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # allow-listed, for lineage
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

    @property
    def reference_sha256(self) -> str:
        """Where the document's bytes are and what the legacy system said they are: a re-run redoes a finished
        document only when this changes."""
        parts = [self.blob_uri, self.offset, self.length, self.checksum_md5]
        parts += [(page.blob_uri, page.offset, page.length) for page in self.page_blobs]
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()

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
