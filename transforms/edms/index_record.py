"""The EDMS index record: PREFIX/documents/<source>/<document>.json, what the EDMS ingests.

It is the only output that names the patient, so the identifiers never travel further
than the per-document step that reads them from the manifest: the record is written
there, beside the page objects. De-duplication decides later that a document is a
duplicate; it then rewrites that document's own record (read back, not carried
through the shuffle) to point at the canonical one. The JSON is canonical (sorted
keys, fixed separators), so the same inputs and run give the same bytes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from schemas.records import DocumentOutcome, DocumentRef, RecordedOutcome, Status
from transforms.privacy import nhs_number
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.storage.emulators import StorageDoFn
from transforms.storage.objects import read_all, write_all
from transforms.storage.output_layout import index_record_uri, retired_record_uri

_LOGGER = logging.getLogger(__name__)
FORMAT = "edms-migrate.index-record/1"


def canonical_json(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def index_record(
    ref: DocumentRef,
    document: dict[str, Any],
    pages: Sequence[dict[str, Any]],
    pseudonyms: Pseudonyms | None = None,
) -> dict[str, Any]:
    """The record of a migrated document, from its manifest ref and its lineage rows. Restricted: it names the
    document as the export did (its file is named by the pseudonymised id lineage uses), and keeps the map from
    each pseudonym lineage shows for it back to the identifier, for --show_identifiers."""
    _, normalised = nhs_number.classify(ref.nhs_number)
    source_system, document_id = ref.legacy_key
    identifiers = pseudonyms.identifiers(source_system, document_id, ref.blob_uri) if pseudonyms else {}
    return {
        "format": FORMAT,
        "run_id": document["run_id"],
        "source_system": source_system,
        "document_id": document_id,
        "lineage_label": ref.label,
        "identifiers": identifiers,
        "status": document["status"],
        "duplicate_of": None,
        "canonical_record": None,
        "patient": {"nhs_number": normalised, "patient_key": document["patient_key"]},
        "document_type": ref.document_type,
        "document_date": document["document_date"].isoformat() if document["document_date"] else None,
        "metadata": dict(ref.metadata),
        "source": {
            "manifest_uri": ref.manifest_uri,
            "manifest_row": ref.manifest_row,
            "blob_uri": ref.blob_uri,
            "byte_offset": ref.offset,
            "byte_length": ref.length,
            "sha256": document["source_sha256"],
            "format": document["source_format"],
        },
        "content_sha256": document["content_sha256"],
        "page_count": document["page_count"],  # a PDF's pages are all in its one object
        "pages": [
            {
                "page_number": page["page_number"],
                "object_uri": page["object_uri"],
                "object_sha256": page["object_sha256"],
                "object_format": page["object_format"],
                "object_bytes": page["object_bytes"],
                "width": page["width"],
                "height": page["height"],
                "mode": page["mode"],
                "dpi": [page["dpi"], page["dpi_y"]] if page["dpi"] else None,
            }
            for page in pages
        ],
    }


def write_index_record(
    output_prefix: str, ref: DocumentRef, outcome: DocumentOutcome, pseudonyms: Pseudonyms | None = None
) -> str:
    """Named by the ref's (pseudonymised) source system and id: object names show in listings and access logs."""
    uri = index_record_uri(output_prefix, ref.source_system, ref.document_id)
    write_all(uri, canonical_json(index_record(ref, outcome.document, outcome.pages, pseudonyms)))
    return uri


def retire_index_records(output_prefix: str, run_id: str, documents: Iterable[tuple[str, str]]) -> int:
    """Documents quarantined by a run that passed every check may have been migrated by an earlier one: the EDMS
    must not ingest that record any more, yet it is evidence. It moves to PREFIX/retired/<run>/documents/."""
    retired = 0
    for source_system, document_id in documents:
        uri = index_record_uri(output_prefix, source_system, document_id)
        if FileSystems.exists(uri):
            write_all(retired_record_uri(output_prefix, run_id, source_system, document_id), read_all(uri))
            FileSystems.delete([uri])
            retired += 1
    return retired


class MarkDuplicateRecordsFn(StorageDoFn):
    """Rewrite a duplicate's index record to point at its canonical document; others pass by untouched."""

    def __init__(self, output_prefix: str) -> None:
        self.output_prefix = output_prefix

    def process(self, outcome: RecordedOutcome) -> Iterator[RecordedOutcome]:
        if outcome.status == Status.DUPLICATE:
            try:
                self.mark(outcome)
            except Exception as error:  # a full disk or a lost record: this record stays as it was, the job goes on
                _LOGGER.error(
                    "could not mark %s/%s's index record a duplicate: %s",
                    outcome.source_system,
                    outcome.document_id,
                    type(error).__name__,
                )
                Metrics.counter("edms", "index_record_rewrite_failures").inc()
        yield outcome

    def mark(self, outcome: RecordedOutcome) -> None:
        uri = index_record_uri(self.output_prefix, outcome.source_system, outcome.document_id)
        record = json.loads(read_all(uri))
        record.update(
            status=Status.DUPLICATE,
            duplicate_of=outcome.duplicate_of,
            canonical_record=index_record_uri(self.output_prefix, *outcome.canonical_key),
        )
        write_all(uri, canonical_json(record))
