"""MigrateDocuments: the one fused step per document.

read byte range → hash → validate → [isolated child: decode page by page → encode
losslessly → verify] → write objects → read back. Bytes live only inside this step, so no
PCollection ever holds an image, and memory is one document's bytes plus one page.
Every document leaves with exactly one DocumentOutcome; an unexpected exception is
caught by Beam's exception handling and turned into a quarantine, never a failed job.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam.metrics import Metrics

from schemas.reasons import Finding, QuarantineError, Reason
from schemas.records import DocumentOutcome, DocumentRef, Status
from transforms.imaging.decode import sniff_format
from transforms.imaging.image_job import ConvertedDocument, ImageLimits, convert_blobs
from transforms.imaging.isolation import InProcessWorker, IsolatedWorker
from transforms.imaging.pixels import content_digest
from transforms.imaging.risk import looks_risky
from transforms.lineage.outcomes import document_row, page_row, quarantine_record
from transforms.lineage.progress import ProgressLog
from transforms.privacy.index_record import remove_stale_index_record, write_index_record
from transforms.privacy.key_source import PatientKeyRef, key_for_worker
from transforms.sources.validate import check_checksum, check_metadata
from transforms.storage.blobs import read_document_bytes, read_range
from transforms.storage.emulators import StorageDoFn
from transforms.storage.objects import ObjectStore, QuarantineArea, sha256_hex

_LOGGER = logging.getLogger(__name__)

_BROKEN_REFERENCE = (Reason.MANIFEST_ROW_INVALID, Reason.PATH_UNMAPPED)

DEFAULT_DECODE_TIMEOUT_SECONDS = 300.0
DEFAULT_DECODE_MEMORY_LIMIT_MB = 4096


@dataclass(frozen=True)
class MigrationSettings:
    """Everything the per-document step needs to know, fixed for the run."""

    output_prefix: str
    run_id: str
    limits: ImageLimits = field(default_factory=ImageLimits)
    decode_timeout_seconds: float = DEFAULT_DECODE_TIMEOUT_SECONDS
    decode_memory_limit_mb: int | None = DEFAULT_DECODE_MEMORY_LIMIT_MB
    isolation: str = "always"  # always | risky | never: which documents decode in the isolated child
    document_types: dict[str, frozenset[str]] | None = None  # source_system (or "*") → allowed types
    # Where the secret for patient pseudonyms is (transforms/privacy/key_source.py), never the key: the settings are
    # pickled into the job graph, and workers fetch the key in setup().
    patient_key: PatientKeyRef | None = None
    today: dt.date | None = None
    index_output: str | None = None  # where EDMS index records go (they hold NHS numbers); None: output_prefix

    @property
    def records_prefix(self) -> str:
        return self.index_output or self.output_prefix


class _QuarantineWriter:
    """Copies a document's original bytes and a JSON record to the quarantine area."""

    def __init__(
        self, output_prefix: str, run_id: str, patient_key: bytes | None, records_prefix: str | None = None
    ) -> None:
        self.records_prefix = records_prefix or output_prefix
        self.area = QuarantineArea(output_prefix)
        self.run_id = run_id
        self.patient_key = patient_key

    def outcome(
        self,
        ref: DocumentRef,
        findings: Sequence[Finding],
        data: bytes | None,
        page_files: Sequence[bytes | None] = (),
    ) -> DocumentOutcome:
        """`page_files`: a page-per-row document's files, copied beside the record as .page-N.bin where readable."""
        digest = sha256_hex(data) if data is not None else None
        suffix = f"~row{ref.manifest_row}" if any(f.reason is Reason.DUPLICATE_DOCUMENT_ID for f in findings) else ""
        base = self.area.base_uri(ref.source_system, ref.document_id, suffix)
        for number, page_data in enumerate(page_files, start=1):
            if page_data is not None:
                self.area.put_bytes(f"{base}.page-{number}.bin", page_data)
        record = quarantine_record(
            ref,
            run_id=self.run_id,
            findings=findings,
            source_sha256=digest,
            source_bytes=None if data is None else len(data),
        )
        record_uri = self.area.put(base, data, record)
        if not suffix:  # a repeated id's record belongs to the id's first row, which may well be migrated
            remove_stale_index_record(self.records_prefix, ref.source_system, ref.document_id)
        row = document_row(
            ref,
            run_id=self.run_id,
            status=Status.QUARANTINED,
            findings=findings,
            key=self.patient_key,
            source_sha256=digest,
            source_bytes=None if data is None else len(data),
            source_format=sniff_format(data) if data else None,
            quarantine_uri=base + ".bin" if data is not None else record_uri,
        )
        return DocumentOutcome(document=row)


class MigrateDocumentFn(StorageDoFn):
    """One document in, one DocumentOutcome out."""

    def __init__(self, settings: MigrationSettings, convert: Callable[..., ConvertedDocument] = convert_blobs) -> None:
        self.settings = settings
        self.convert = convert  # the image job; tests hand in one that misbehaves on purpose
        self.documents = {status: Metrics.counter("edms", f"documents_{status}") for status in Status.ALL}
        self.pages_counter = Metrics.counter("edms", "pages_migrated")
        self.bytes_in = Metrics.counter("edms", "bytes_in")
        self.bytes_out = Metrics.counter("edms", "bytes_out")

    def setup(self) -> None:
        super().setup()
        settings = self.settings
        # Damaged legacy TIFFs trip this on every read; the damage itself is judged by decode, not by a warning.
        warnings.filterwarnings("ignore", message="Corrupt EXIF data", category=UserWarning)
        self.objects = ObjectStore(settings.output_prefix)
        self.key = key_for_worker(settings.patient_key) if settings.patient_key else None
        self.quarantine = _QuarantineWriter(settings.output_prefix, settings.run_id, self.key, settings.records_prefix)
        self.progress = ProgressLog()
        memory = settings.decode_memory_limit_mb * 2**20 if settings.decode_memory_limit_mb else None
        self.isolated = IsolatedWorker(
            timeout_seconds=settings.decode_timeout_seconds,
            memory_limit_bytes=memory,
        )
        self.in_process = InProcessWorker()

    def teardown(self) -> None:
        isolated = getattr(self, "isolated", None)
        if isolated is not None:
            isolated.stop()
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
        today = self.settings.today or dt.date.today()
        findings = [*ref.findings, *check_metadata(ref, today=today, document_types=self.settings.document_types)]
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
            return self._migrate_images(ref, (data,))
        except QuarantineError as error:
            return self.quarantine.outcome(ref, [error.finding], data)

    def migrate_page_files(self, ref: DocumentRef) -> DocumentOutcome:
        """A page-per-row document: its page files are read in page order and converted as one document.

        No single original file holds such a document: a quarantine copies each readable page file beside the
        record (PREFIX/quarantine/<source>/<id>.page-N.bin), and the record names every one.
        """
        today = self.settings.today or dt.date.today()
        findings = [*ref.findings, *check_metadata(ref, today=today, document_types=self.settings.document_types)]
        pages: list[bytes | None] = []
        for page in ref.page_blobs:
            try:
                pages.append(read_range(page.blob_uri, page.offset, page.length))
            except QuarantineError as error:
                pages.append(None)
                findings.append(error.finding)
        if findings:
            return self.quarantine.outcome(ref, findings, None, pages)
        try:
            return self._migrate_images(ref, tuple(page for page in pages if page is not None))
        except QuarantineError as error:
            return self.quarantine.outcome(ref, [error.finding], None, pages)

    def _migrate_images(self, ref: DocumentRef, blobs: tuple[bytes, ...]) -> DocumentOutcome:
        isolation = self.settings.isolation
        isolate = isolation == "always" or (isolation == "risky" and any(looks_risky(blob) for blob in blobs))
        worker = self.isolated if isolate else self.in_process
        converted = worker.call(self.convert, blobs, self.settings.limits, ref.page_count)
        # Only now, with every page decoded and verified, does anything reach object storage.
        run_id = self.settings.run_id
        rows, written = [], 0
        for number, page in enumerate(converted.pages, start=1):
            uri, digest, was_written = self.objects.put(page.encoded.data, page.encoded.encoding.extension)
            written += was_written
            rows.append(page_row(ref, run_id=run_id, number=number, page=page, uri=uri, object_sha256=digest))
        content = content_digest([page.encoded.pixel_sha256 for page in converted.pages])
        whole = blobs[0] if len(blobs) == 1 else b"".join(blobs)
        row = document_row(
            ref,
            run_id=run_id,
            status=Status.MIGRATED,
            key=self.key,
            page_count=len(converted.pages),
            source_format=converted.source_format,
            source_compression=converted.pages[0].source_compression,
            source_bytes=len(whole),
            source_sha256=sha256_hex(whole),
            content_sha256=content,
            object_bytes=sum(len(page.encoded.data) for page in converted.pages),
            legacy_header_bytes=converted.legacy_header_bytes or None,
        )
        patient = row["patient_key"]
        dedupe_key = (patient, content) if patient else None
        outcome = DocumentOutcome(document=row, pages=tuple(rows), dedupe_key=dedupe_key, objects_written=written)
        try:  # the EDMS record: the only output naming the patient, written where the identifiers are
            write_index_record(self.settings.records_prefix, ref, outcome)
        except Exception as error:  # any filesystem's failure: this document, not the job
            raise QuarantineError(
                Reason.STORAGE_ERROR, f"writing the index record failed: {type(error).__name__}: {error}"
            ) from error
        return outcome


class QuarantineCrashedFn(StorageDoFn):
    """Documents whose migration raised something unexpected: quarantined with the error, bytes kept."""

    def __init__(
        self, output_prefix: str, run_id: str, patient_key: PatientKeyRef | None, records_prefix: str | None = None
    ) -> None:
        self.output_prefix = output_prefix
        self.run_id = run_id
        self.patient_key = patient_key
        self.records_prefix = records_prefix

    def setup(self) -> None:
        super().setup()
        key = key_for_worker(self.patient_key) if self.patient_key else None
        self.quarantine = _QuarantineWriter(self.output_prefix, self.run_id, key, self.records_prefix)

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

    def __init__(self, settings: MigrationSettings) -> None:
        super().__init__()
        self.settings = settings

    def expand(self, refs: beam.PCollection[DocumentRef]) -> beam.PCollection[DocumentOutcome]:
        settings = self.settings
        migrated, crashed = refs | "MigrateEach" >> beam.ParDo(MigrateDocumentFn(settings)).with_exception_handling(
            main_tag="outcomes", dead_letter_tag="crashed"
        )
        quarantined = crashed | "QuarantineCrashed" >> beam.ParDo(
            QuarantineCrashedFn(settings.output_prefix, settings.run_id, settings.patient_key, settings.records_prefix)
        )
        return (migrated, quarantined) | "AllOutcomes" >> beam.Flatten()
