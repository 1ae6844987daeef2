"""MigrateDocuments: the one fused step per document.

read byte range → hash → validate → decode page by page → encode losslessly →
verify → write objects → read back. Bytes live only inside this step, so no
PCollection ever holds an image, and memory is one document's bytes plus one page.
Every document leaves with exactly one DocumentOutcome; an unexpected exception is
caught by Beam's exception handling and turned into a quarantine, never a failed job.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
import warnings
from collections.abc import Iterator, Sequence

import apache_beam as beam
from apache_beam.metrics import Metrics
from PIL import Image

from schemas.records import DocumentOutcome, DocumentRef, Status
from transforms import nhs_number
from transforms.blobs import read_document_bytes, read_range
from transforms.decode import DecodedDocument, legacy_header_length
from transforms.emulators import skip_credential_lookup_for_storage_emulator
from transforms.encode import EncodedPage, encode_page
from transforms.outcomes import document_row, page_row, quarantine_record
from transforms.pixels import content_digest
from transforms.progress import ProgressLog
from transforms.reasons import Finding, QuarantineError, Reason
from transforms.storage import ObjectStore, QuarantineArea, sha256_hex
from transforms.validate import check_checksum, check_metadata, check_page_count

_LOGGER = logging.getLogger(__name__)

_BROKEN_REFERENCE = (Reason.MANIFEST_ROW_INVALID, Reason.PATH_UNMAPPED)

#: Admits an A0 drawing at 300 dpi (9933 × 14043 ≈ 139.5 MP) with a little room.
DEFAULT_MAX_PAGE_PIXELS = 150_000_000


class _QuarantineWriter:
    """Copies a document's original bytes and a JSON record to the quarantine area."""

    def __init__(self, output_prefix: str, run_id: str) -> None:
        self.area = QuarantineArea(output_prefix)
        self.run_id = run_id

    def outcome(
        self, ref: DocumentRef, findings: Sequence[Finding], data: bytes | None, **measured: object
    ) -> DocumentOutcome:
        digest = sha256_hex(data) if data is not None else None
        suffix = f"~row{ref.manifest_row}" if any(f.reason is Reason.DUPLICATE_DOCUMENT_ID for f in findings) else ""
        base = self.area.base_uri(ref.source_system, ref.document_id, suffix)
        record = quarantine_record(
            ref,
            run_id=self.run_id,
            findings=findings,
            source_sha256=digest,
            source_bytes=None if data is None else len(data),
        )
        record_uri = self.area.put(base, data, record)
        row = document_row(
            ref,
            run_id=self.run_id,
            status=Status.QUARANTINED,
            findings=findings,
            source_sha256=digest,
            source_bytes=None if data is None else len(data),
            quarantine_uri=base + ".bin" if data is not None else record_uri,
            **measured,
        )
        return DocumentOutcome(document=row)


class MigrateDocumentFn(beam.DoFn):
    """One document in, one DocumentOutcome out."""

    def __init__(
        self,
        output_prefix: str,
        run_id: str,
        *,
        max_page_pixels: int = DEFAULT_MAX_PAGE_PIXELS,
        today: dt.date | None = None,
    ) -> None:
        self.output_prefix = output_prefix
        self.run_id = run_id
        self.max_page_pixels = max_page_pixels
        self.today = today
        self.documents = {status: Metrics.counter("edms", f"documents_{status}") for status in Status.ALL}
        self.pages_counter = Metrics.counter("edms", "pages_migrated")
        self.bytes_in = Metrics.counter("edms", "bytes_in")
        self.bytes_out = Metrics.counter("edms", "bytes_out")

    def setup(self) -> None:
        skip_credential_lookup_for_storage_emulator()
        Image.MAX_IMAGE_PIXELS = self.max_page_pixels  # Pillow's own bomb check agrees with ours
        # Damaged legacy TIFFs trip this on every read; the damage itself is judged by decode, not by a warning.
        warnings.filterwarnings("ignore", message="Corrupt EXIF data", category=UserWarning)
        self.objects = ObjectStore(self.output_prefix)
        self.quarantine = _QuarantineWriter(self.output_prefix, self.run_id)
        self.progress = ProgressLog()

    def teardown(self) -> None:
        progress = getattr(self, "progress", None)
        if progress is not None and progress.counts["documents"]:
            progress.log()

    def process(self, ref: DocumentRef) -> Iterator[DocumentOutcome]:
        outcome = self.migrate(ref)
        status = outcome.document["status"]
        self.documents[status].inc()
        self.bytes_in.inc(outcome.document["source_bytes"] or 0)
        if status == Status.MIGRATED:
            self.pages_counter.inc(len(outcome.pages))
            self.bytes_out.inc(outcome.document["object_bytes"] or 0)
        for reason in outcome.document["reasons"]:
            Metrics.counter("edms", f"quarantine_{reason}").inc()
        self.progress.record(status, len(outcome.pages))
        yield outcome

    def migrate(self, ref: DocumentRef) -> DocumentOutcome:
        if ref.page_blobs:
            return self.migrate_page_files(ref)
        findings = [*ref.findings, *check_metadata(ref, today=self.today or dt.date.today())]
        data = None
        # A reference that is itself broken (say, an unreadable offset) could name a whole multi-GiB volume:
        # its bytes are not read, let alone copied to quarantine.
        if ref.blob_uri and not any(f.reason in _BROKEN_REFERENCE for f in ref.findings):
            try:
                data = read_document_bytes(ref)
            except QuarantineError as error:
                findings.append(error.finding)
        if data is not None:
            findings += check_checksum(ref, data)
        if findings or data is None:
            return self.quarantine.outcome(ref, findings, data)
        try:
            return self._migrate_images(ref, [data])
        except QuarantineError as error:
            return self.quarantine.outcome(ref, [error.finding], data)

    def migrate_page_files(self, ref: DocumentRef) -> DocumentOutcome:
        """A page-per-row document: its page files are read and decoded in page order, one at a time.

        No single original file holds such a document, so quarantine keeps the record (naming every page file,
        which stays where it is) rather than a copy of the bytes.
        """
        findings = [*ref.findings, *check_metadata(ref, today=self.today or dt.date.today())]
        if findings:
            return self.quarantine.outcome(ref, findings, None)
        try:
            blobs = [read_range(page.blob_uri, page.offset, page.length) for page in ref.page_blobs]
            return self._migrate_images(ref, blobs)
        except QuarantineError as error:
            return self.quarantine.outcome(ref, [error.finding], None)

    def _migrate_images(self, ref: DocumentRef, blobs: list[bytes]) -> DocumentOutcome:
        """Decode every blob's pages in order (a legacy header before an image is skipped and recorded)."""
        encoded: list[tuple[EncodedPage, str | None]] = []
        formats, header_bytes = [], 0
        for index, data in enumerate(blobs):
            header = legacy_header_length(data)
            header_bytes += header
            image_bytes = data[header:] if header else data
            with DecodedDocument(image_bytes, max_page_pixels=self.max_page_pixels) as document:
                if len(blobs) > 1 and document.page_count != 1:
                    raise QuarantineError(
                        Reason.PAGE_SEQUENCE_INVALID,
                        f"page file {index + 1} holds {document.page_count} pages; a page row must hold one",
                    )
                keep_jpeg = document.format == "JPEG" and document.page_count == 1
                for page in document.pages():
                    original = image_bytes if keep_jpeg else None
                    encoded.append((encode_page(page, original_jpeg=original), page.compression))
                formats.append(document.format)
        mismatch = check_page_count(ref, len(encoded))
        if mismatch:
            raise QuarantineError(mismatch[0].reason, mismatch[0].message)
        # Only now, with every page decoded and verified, does anything reach object storage.
        rows, written = [], 0
        for number, (page, compression) in enumerate(encoded, start=1):
            uri, digest, was_written = self.objects.put(page.data, page.encoding.extension)
            written += was_written
            rows.append(
                page_row(
                    ref,
                    run_id=self.run_id,
                    number=number,
                    page=page,
                    uri=uri,
                    object_sha256=digest,
                    source_compression=compression,
                )
            )
        content = content_digest([page.pixel_sha256 for page, _ in encoded])
        whole = blobs[0] if len(blobs) == 1 else b"".join(blobs)
        row = document_row(
            ref,
            run_id=self.run_id,
            status=Status.MIGRATED,
            page_count=len(encoded),
            source_format=formats[0] if len(set(formats)) == 1 else "+".join(formats),
            source_compression=encoded[0][1],
            source_bytes=len(whole),
            source_sha256=sha256_hex(whole),
            content_sha256=content,
            object_bytes=sum(len(page.data) for page, _ in encoded),
            legacy_header_bytes=header_bytes or None,
        )
        _, patient = nhs_number.classify(ref.nhs_number)
        dedupe_key = (patient, content) if patient else None
        return DocumentOutcome(document=row, pages=tuple(rows), dedupe_key=dedupe_key, objects_written=written)


class QuarantineCrashedFn(beam.DoFn):
    """Documents whose migration raised something unexpected: quarantined with the error, bytes kept."""

    def __init__(self, output_prefix: str, run_id: str) -> None:
        self.output_prefix = output_prefix
        self.run_id = run_id

    def setup(self) -> None:
        skip_credential_lookup_for_storage_emulator()
        self.quarantine = _QuarantineWriter(self.output_prefix, self.run_id)

    def process(self, failure: tuple[DocumentRef, tuple]) -> Iterator[DocumentOutcome]:
        ref, (error_type, error_value, _trace) = failure
        name = getattr(error_type, "__name__", str(error_type))
        _LOGGER.error("unexpected error migrating %s: %s", ref.label, name)
        Metrics.counter("edms", "documents_crashed").inc()
        data = None
        try:
            data = read_document_bytes(ref) if ref.blob_uri and not ref.page_blobs else None
        except QuarantineError:
            data = None
        except Exception:  # the bytes are a courtesy here; the record must still be written
            _LOGGER.warning("could not copy bytes of %s to quarantine:\n%s", ref.label, traceback.format_exc(limit=3))
        finding = Finding(Reason.INTERNAL_ERROR, f"{name}: {error_value}"[:1000])
        yield self.quarantine.outcome(ref, [finding], data)


class MigrateDocuments(beam.PTransform):
    """DocumentRefs → DocumentOutcomes, one each, whatever happens inside."""

    def __init__(self, output_prefix: str, run_id: str, *, max_page_pixels: int = DEFAULT_MAX_PAGE_PIXELS) -> None:
        super().__init__()
        self.output_prefix = output_prefix
        self.run_id = run_id
        self.max_page_pixels = max_page_pixels

    def expand(self, refs: beam.PCollection[DocumentRef]) -> beam.PCollection[DocumentOutcome]:
        migrated, crashed = refs | "MigrateEach" >> beam.ParDo(
            MigrateDocumentFn(self.output_prefix, self.run_id, max_page_pixels=self.max_page_pixels)
        ).with_exception_handling(main_tag="outcomes", dead_letter_tag="crashed")
        quarantined = crashed | "QuarantineCrashed" >> beam.ParDo(QuarantineCrashedFn(self.output_prefix, self.run_id))
        return (migrated, quarantined) | "AllOutcomes" >> beam.Flatten()
