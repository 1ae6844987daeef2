"""Building lineage rows and quarantine records from a document's ref and what happened to it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from schemas.reasons import OPERATOR_ACTIONS, Finding, Reason
from schemas.records import DocumentRef
from schemas.tables import DOCUMENTS, PAGES
from transforms.imaging.image_job import ConvertedPage
from transforms.privacy import nhs_number
from transforms.privacy.patient_key import patient_key
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.privacy.redact import redact
from transforms.sources.validate import parse_document_date


def repeat_suffix(ref: DocumentRef, findings: Sequence[Finding]) -> str:
    """A repeated id's later row (DUPLICATE_DOCUMENT_ID) is named by its index file and row: its quarantine files,
    so two index files cannot overwrite each other, and its lineage row's document_id, so the repeat never becomes
    the id's current outcome in place of the first row's (which would then be re-read and re-migrated)."""
    if not any(f.reason is Reason.DUPLICATE_DOCUMENT_ID for f in findings):
        return ""
    return f"~{hashlib.sha256(ref.manifest_uri.encode()).hexdigest()[:8]}-row{ref.manifest_row}"


def document_row(
    ref: DocumentRef,
    *,
    run_id: str,
    status: str,
    findings: Sequence[Finding] = (),
    key: bytes | None = None,
    pseudonyms: Pseudonyms | None = None,
    **measured: Any,
) -> dict[str, Any]:
    """The documents-table row; `measured` carries what reading and decoding found out.

    With the run's patient key, a valid NHS number becomes its pseudonym; the number itself is never in a row.
    Free text from the export reaches the row only redacted: the profile's keep_metadata fields (nothing else of
    ref.metadata, which is the EDMS record's) and the document type, which a shifted column can fill with anything.
    The row is analyst-side: the ref's source system and id already carry pseudonyms (ReadSources), and here every
    identifier in its location and messages becomes one too, and an identifier-shaped offset or length is null.
    """
    nhs_status, normalised = nhs_number.classify(ref.nhs_number)
    hide = pseudonyms or Pseudonyms(key)
    return DOCUMENTS.row(
        run_id=run_id,
        source_system=ref.source_system,
        document_id=ref.document_id + repeat_suffix(ref, findings),
        status=status,
        reasons=[finding.reason.value for finding in findings],
        reason_messages=hide.values(finding.message for finding in findings),
        manifest_uri=ref.manifest_uri,
        manifest_row=ref.manifest_row,
        nhs_number_status=nhs_status.value,
        nhs_number_scheme=nhs_number.scheme(normalised) if normalised else None,
        patient_key=patient_key(key, normalised) if key and normalised else None,
        document_type=hide.value(redact(ref.document_type)) if ref.document_type else None,
        document_date=parse_document_date(ref.document_date),
        recorded_page_count=hide.number(ref.page_count),
        blob_uri=hide.value(ref.blob_uri),
        byte_offset=hide.number(ref.offset),
        byte_length=hide.number(ref.length),
        metadata_json=lineage_metadata_json(ref, hide),
        source_profile=ref.source_profile,
        page_files=len(ref.page_blobs) or None,
        recorded_at=dt.datetime.now(dt.UTC),
        reference_sha256=ref.reference_sha256,
        **measured,
    )


def lineage_metadata_json(ref: DocumentRef, pseudonyms: Pseudonyms | None = None) -> str | None:
    """The allow-listed metadata as a JSON object, each value redacted of any 10-digit run (and local identifiers
    pseudonymised); None when there is none."""
    if not ref.lineage_metadata:
        return None
    hide = pseudonyms or Pseudonyms(None)
    return json.dumps({name: hide.value(redact(value)) for name, value in ref.lineage_metadata}, sort_keys=True)


def page_row(
    ref: DocumentRef, *, run_id: str, number: int, page: ConvertedPage, uri: str, object_sha256: str
) -> dict[str, Any]:
    encoded = page.encoded
    return PAGES.row(
        run_id=run_id,
        source_system=ref.source_system,
        document_id=ref.document_id,
        page_number=number,
        object_uri=uri,
        object_sha256=object_sha256,
        object_format=encoded.encoding.name,
        object_bytes=len(encoded.data),
        pixel_sha256=encoded.pixel_sha256,
        width=encoded.width,
        height=encoded.height,
        mode=encoded.mode,
        dpi=encoded.dpi[0] if encoded.dpi else None,
        dpi_y=encoded.dpi[1] if encoded.dpi else None,
        orientation=page.orientation,
        icc_profile_sha256=page.icc_profile_sha256,
        source_compression=page.source_compression,
        ink_coverage=page.ink_coverage,
        flags=list(page.flags),
        perceptual_hash=page.perceptual_hash,
        decoder=page.decoder,
        encode_path=encoded.path,
    )


def quarantine_record(
    ref: DocumentRef,
    *,
    run_id: str,
    findings: Sequence[Finding],
    source_sha256: str | None,
    source_bytes: int | None,
    page_copies: Sequence[dict[str, Any] | None] = (),
) -> dict[str, Any]:
    """What an operator needs to fix and re-run a document. No NHS number: the manifest still has it. A restricted
    record: it names the document as the export did, and by the pseudonymised label lineage knows it by.
    page_copies: per page file, its copy beside the record ({"copy", "sha256", "bytes"}), or None (unreadable)."""
    source_system, document_id = ref.legacy_key
    copies = list(page_copies) + [None] * (len(ref.page_blobs) - len(page_copies))
    return {
        "run_id": run_id,
        "source_system": source_system,
        "document_id": document_id,
        "lineage_label": ref.label,
        "manifest_uri": ref.manifest_uri,
        "manifest_row": ref.manifest_row,
        "blob_uri": ref.blob_uri,
        "offset": ref.offset,
        "length": ref.length,
        "source_sha256": source_sha256,
        "source_bytes": source_bytes,
        "source_profile": ref.source_profile,
        "page_files": [
            {
                "page": n,
                "blob_uri": p.blob_uri,
                "offset": p.offset,
                "length": p.length,
                "manifest_row": p.manifest_row,
                **(copy or {"copy": None, "sha256": None, "bytes": None}),
            }
            for n, (p, copy) in enumerate(zip(ref.page_blobs, copies, strict=True), start=1)
        ],
        "reasons": [
            {"code": f.reason.value, "message": f.message, "action": OPERATOR_ACTIONS[f.reason]} for f in findings
        ],
    }
