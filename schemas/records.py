"""Records that flow between pipeline stages: references, hashes and rows — never image bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from schemas.reasons import Finding


class Status:
    MIGRATED = "migrated"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    ALL = (MIGRATED, DUPLICATE, QUARANTINED)


def document_label(source_system: str, document_id: str) -> str:
    """How lineage and logs name a document ("PAS/12345"); one format for refs, outcomes and recorded rows."""
    return f"{source_system}/{document_id}"


def split_document_label(label: str) -> tuple[str, str]:
    """A stored label back into (source system, document id), for a label that arrived without its key. A label is
    ambiguous when a name holds "/" (this reads "A/B/C" as ("A", "B/C")): whatever knows the key carries it instead
    (RecordedOutcome.duplicate_of_key, EarlierDocument)."""
    source_system, _, document_id = label.partition("/")
    return source_system, document_id


@dataclass(frozen=True, slots=True)
class PageBlob:
    """One page file of a page-per-row document: where its bytes are, and the manifest row that named it."""

    blob_uri: str
    offset: int | None = None
    length: int | None = None
    manifest_row: int = 0


@dataclass(frozen=True, slots=True)
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
    replaces_earlier: bool = False  # an earlier run migrated this document from another reference (selection)
    #: (source_system, document_id) as the export wrote them, when either held an identifier and the two fields
    #: above carry pseudonyms (transforms/privacy/pseudonyms.py): for the restricted records only.
    legacy_identity: tuple[str, str] | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_system, self.document_id)

    @property
    def label(self) -> str:
        return document_label(self.source_system, self.document_id)

    @property
    def legacy_key(self) -> tuple[str, str]:
        """The export's own (source_system, document_id): for the restricted records, never a lineage row."""
        return self.legacy_identity or self.key

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
    edms: Any = None  # transforms/edms/record.EdmsRecord: the document's FHIR resources, when migrated

    @property
    def key(self) -> tuple[str, str]:
        return (self.document["source_system"], self.document["document_id"])

    @property
    def label(self) -> str:
        return document_label(self.document["source_system"], self.document["document_id"])


class RecordedOutcome(NamedTuple):
    """What travels on once the journal has written a document's rows (transforms/migrate/journal.py): the fields
    de-duplication, the summary, review and the index-record marker read, a few hundred bytes where the rows with
    their pages are kilobytes. FnApiRunner holds every element that crosses a stage boundary, so this is what each
    document costs the launcher's memory. A NamedTuple, so neither its pickle nor its object carries field names.

    A duplicate's documents row is not here: it is read back from the journal (transforms/dedupe/duplicate_rows.py).
    """

    source_system: str
    document_id: str
    status: str
    patient_key: str | None = None
    content_sha256: str | None = None
    dedupe_key: tuple[str, str] | None = None  # as DocumentOutcome's: (patient key, content hash) when mergeable
    duplicate_of: str | None = None
    reasons: tuple[str, ...] = ()
    source_bytes: int = 0
    objects_written: int = 0
    page_count: int | None = None
    object_bytes: int | None = None
    manifest_uri: str | None = None  # quarantined documents only: the summary names where an index is unparsable
    document_type: str | None = None
    document_date: dt.date | None = None
    page_hashes: tuple[str | None, ...] = ()  # perceptual, in page order; migrated documents with a patient key only
    edms: Any = None  # transforms/edms/record.EdmsRecord (its repr names nothing): the EDMS resources, built and
    # validated by the per-document step, written once de-duplication has put duplicates' identifiers on canonicals
    duplicate_of_key: tuple[str, str] | None = None  # the canonical's (source system, document id): never re-split
    reference_sha256: str | None = None  # a late-settled duplicate's reference, kept in its row: never redone

    @classmethod
    def of(cls, outcome: DocumentOutcome) -> RecordedOutcome:
        row = outcome.document
        reviewed = row["status"] == Status.MIGRATED and row["patient_key"]
        pages = sorted(outcome.pages, key=lambda page: page["page_number"]) if reviewed else ()
        return cls(
            source_system=row["source_system"],
            document_id=row["document_id"],
            status=row["status"],
            patient_key=row["patient_key"],
            content_sha256=row["content_sha256"],
            dedupe_key=outcome.dedupe_key,
            duplicate_of=row["duplicate_of"],
            reasons=tuple(row["reasons"]),
            source_bytes=row["source_bytes"] or 0,
            objects_written=outcome.objects_written,
            page_count=row["page_count"],
            object_bytes=row["object_bytes"],
            manifest_uri=row["manifest_uri"] if row["status"] == Status.QUARANTINED else None,
            document_type=row["document_type"],
            document_date=row["document_date"],
            page_hashes=tuple(page["perceptual_hash"] for page in pages),
            edms=outcome.edms if row["status"] == Status.MIGRATED else None,
        )

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_system, self.document_id)

    @property
    def label(self) -> str:
        return document_label(self.source_system, self.document_id)

    def as_duplicate_of(self, canonical: tuple[str, str]) -> RecordedOutcome:
        """The same document, now pointing at its canonical twin (source system, document id); its pages are the
        canonical's."""
        return self._replace(
            status=Status.DUPLICATE, duplicate_of=document_label(*canonical), duplicate_of_key=canonical, page_hashes=()
        )

    @property
    def canonical_key(self) -> tuple[str, str] | None:
        """A duplicate's canonical document as (source system, document id)."""
        if self.duplicate_of_key is not None:
            return self.duplicate_of_key
        return split_document_label(self.duplicate_of) if self.duplicate_of else None
