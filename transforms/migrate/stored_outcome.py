"""A converted document's objects written and its lineage rows built: image pages, or a PDF whole.

Called by the per-document step (transforms/migrate/document_step.py) once the image job has verified
everything, so nothing reaches object storage before the whole document has passed. An image
document stores one object per page; a PDF is stored byte for byte as one object (after its
legacy header, if its source declares one), with one pages row that points at it.
"""

from __future__ import annotations

from schemas.records import DocumentOutcome, DocumentRef, Status
from schemas.tables import PAGES
from transforms.imaging.encode import ORIGINAL
from transforms.imaging.image_job import ConvertedDocument
from transforms.imaging.pixels import content_digest
from transforms.migrate.rows import document_row, page_row
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.storage.objects import ObjectStore, sha256_hex

PDF_EXTENSION = "pdf"
PDF_OBJECT_FORMAT = "PDF"


def _outcome(row: dict, pages: tuple[dict, ...], written: int) -> DocumentOutcome:
    patient = row["patient_key"]
    dedupe_key = (patient, row["content_sha256"]) if patient else None
    return DocumentOutcome(document=row, pages=pages, dedupe_key=dedupe_key, objects_written=written)


def image_outcome(
    ref: DocumentRef,
    blobs: tuple[bytes, ...],
    converted: ConvertedDocument,
    objects: ObjectStore,
    *,
    run_id: str,
    patient_key: bytes | None,
    pseudonyms: Pseudonyms | None = None,
) -> DocumentOutcome:
    """Each verified page under its content address; the document's content is its pages' pixel hashes."""
    rows, written = [], 0
    for number, page in enumerate(converted.pages, start=1):
        uri, digest, was_written = objects.put(page.encoded.data, page.encoded.encoding.extension)
        written += was_written
        rows.append(page_row(ref, run_id=run_id, number=number, page=page, uri=uri, object_sha256=digest))
    whole = blobs[0] if len(blobs) == 1 else b"".join(blobs)
    row = document_row(
        ref,
        run_id=run_id,
        status=Status.MIGRATED,
        key=patient_key,
        pseudonyms=pseudonyms,
        page_count=len(converted.pages),
        source_format=converted.source_format,
        source_compression=converted.pages[0].source_compression,
        source_bytes=len(whole),
        source_sha256=sha256_hex(whole),
        content_sha256=content_digest([page.encoded.pixel_sha256 for page in converted.pages]),
        object_bytes=sum(len(page.encoded.data) for page in converted.pages),
        legacy_header_bytes=converted.legacy_header_bytes or None,
    )
    return _outcome(row, tuple(rows), written)


def pdf_outcome(
    ref: DocumentRef,
    blob: bytes,
    converted: ConvertedDocument,
    objects: ObjectStore,
    *,
    run_id: str,
    patient_key: bytes | None,
    pseudonyms: Pseudonyms | None = None,
) -> DocumentOutcome:
    """The PDF's exact bytes as one object; its content value is its bytes' (namespaced) hash."""
    check = converted.pdf
    if check is None:
        raise ValueError("pdf_outcome is for a validated PDF")
    data = blob[converted.legacy_header_bytes :]
    uri, digest, written = objects.put(data, PDF_EXTENSION)
    page = PAGES.row(
        run_id=run_id,
        source_system=ref.source_system,
        document_id=ref.document_id,
        page_number=1,
        object_uri=uri,
        object_sha256=digest,
        object_format=PDF_OBJECT_FORMAT,
        object_bytes=len(data),
        encode_path=ORIGINAL,
    )
    row = document_row(
        ref,
        run_id=run_id,
        status=Status.MIGRATED,
        key=patient_key,
        pseudonyms=pseudonyms,
        page_count=check.page_count,
        source_format=converted.source_format,
        source_compression=None,
        source_bytes=len(blob),
        source_sha256=sha256_hex(blob),
        content_sha256=check.content_sha256,
        object_bytes=len(data),
        legacy_header_bytes=converted.legacy_header_bytes or None,
    )
    return _outcome(row, (page,), int(written))


def stored_bytes(blobs: tuple[bytes, ...], converted: ConvertedDocument) -> tuple[bytes, ...]:
    """The bytes of each object a converted document stored, in page order (a PDF: one, after its header)."""
    if converted.pdf is not None:
        return (blobs[0][converted.legacy_header_bytes :],)
    return tuple(page.encoded.data for page in converted.pages)
