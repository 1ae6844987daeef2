"""MigrateDocuments: the one fused step per document.

read byte range → hash → validate → [isolated child: decode page by page → encode
losslessly → verify] → write objects → read back. Bytes live only inside this step, so no
PCollection ever holds an image, and memory is one document's bytes plus one page, per
decode lane (transforms/decoders/lanes.py: up to --decode_lanes documents in flight per DoFn).
Every document leaves with exactly one DocumentOutcome; an unexpected exception is
caught by Beam's exception handling and turned into a quarantine, never a failed job.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue

from schemas.reasons import QuarantineError, Reason
from schemas.records import DocumentOutcome, DocumentRef, RecordedOutcome, Status
from transforms.decoders import warm_decoders
from transforms.decoders.isolation import IsolatedWorker
from transforms.decoders.lanes import DecoderLane, DeferredCounts, Finished, Lanes
from transforms.decoders.risk import looks_risky
from transforms.edms.record import EdmsSettings, edms_record
from transforms.imaging.image_job import ConvertedDocument, ImageLimits, convert_blobs
from transforms.migrate.journal import JournalSettings
from transforms.migrate.progress import ProgressLog
from transforms.migrate.quarantine import QuarantineCrashedFn, QuarantineWriter
from transforms.migrate.stored_outcome import image_outcome, pdf_outcome, stored_bytes
from transforms.privacy.evidence_key import evidence_key
from transforms.privacy.key_source import PatientKeyRef, key_for_worker
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.sources.validate import check_checksum, check_metadata
from transforms.storage.blobs import ReadPolicy, read_document_bytes, read_range
from transforms.storage.emulators import StorageDoFn
from transforms.storage.objects import ObjectStore
from transforms.storage.throttle import ReadCaps, shared_throttle

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
    index_output: str | None = None  # where the EDMS records go (they hold NHS numbers); None: output_prefix
    edms: EdmsSettings = field(default_factory=EdmsSettings)  # how each migrated document's FHIR record is made
    # Where documents may be read from, how large they may be, how hard to retry a failing store.
    reading: ReadPolicy = field(default_factory=ReadPolicy)
    # Where outcomes are recorded as the job goes (None: not recorded here, as in unit tests of the step).
    journal: JournalSettings | None = None
    # What the job may ask of each legacy store (reads and MiB per second, per source system).
    read_caps: ReadCaps = field(default_factory=ReadCaps)
    # Documents in flight per DoFn instance, each with a decoder of its own (the plan resolves --decode_lanes).
    decode_lanes: int = 1
    # The profiles' local_identifiers, for the whole run (transforms/privacy/pseudonyms.py).
    local_identifiers: tuple[str, ...] = ()

    @property
    def records_prefix(self) -> str:
        return self.index_output or self.output_prefix


class MigrateDocumentFn(StorageDoFn):
    """One document in, one DocumentOutcome out; with several decode lanes, up to that many in flight.

    Lanes run the documents; this step's own thread does every count, the progress log and the journal, and
    emits each outcome as it finishes (the rest at the bundle's end), so output order follows completion.
    """

    #: The dead-letter tag: a document whose migration raised, for QuarantineCrashedFn (MigrateDocuments).
    CRASHED = "crashed"

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
        self.pseudonyms = Pseudonyms(self.key, settings.local_identifiers)
        self.counts = DeferredCounts()  # counts made on lane threads, applied on this step's thread
        self.quarantine = QuarantineWriter(
            settings.output_prefix, settings.run_id, self.key, self.counts.add, self.pseudonyms
        )
        self.progress = ProgressLog()
        self.lanes = [self._new_lane() for _ in range(max(1, settings.decode_lanes))]
        self.running = Lanes(self.lanes) if len(self.lanes) > 1 else None
        self.journal = settings.journal.open(evidence_key(self.key) if self.key else None) if settings.journal else None
        self.throttle = shared_throttle(settings.read_caps) if settings.read_caps.active else None

    def _new_lane(self) -> DecoderLane:
        settings = self.settings
        if settings.isolation == "always":  # the child will be needed: started early, or now, as the step is set up
            return DecoderLane(warm_decoders.claim(warm_decoders.child_settings(settings, self.convert)))
        timeout, memory, _ = warm_decoders.child_settings(settings, self.convert)
        return DecoderLane(IsolatedWorker(timeout_seconds=timeout, memory_limit_bytes=memory))

    def teardown(self) -> None:
        running = getattr(self, "running", None)
        if running is not None:  # documents of a failed bundle end as they would have (a hang: at its time limit),
            running.close()  # not killed into a quarantine that a retry's write-once evidence would then keep
        for lane in getattr(self, "lanes", ()):
            lane.isolated.stop()
        progress = getattr(self, "progress", None)
        if progress is not None and progress.counts["documents"]:
            progress.log()

    def process(self, ref: DocumentRef) -> Iterator[DocumentOutcome | TaggedOutput]:
        if self.running is None:  # one lane: the document is done here, and an exception is Beam's to handle
            outcome = self.migrate(ref)
            self.account(outcome)
            yield outcome
            return
        self.running.submit(ref, lambda lane: self.migrate(ref, lane))
        for finished in self.running.wait_for_free_lane():
            yield from self._emitted(finished)

    def finish_bundle(self) -> Iterator[WindowedValue | TaggedOutput]:
        if self.running is not None:  # the documents still in flight: outputs of a bundle's end carry their window
            for finished in self.running.drain():
                for output in self._emitted(finished):
                    if isinstance(output, TaggedOutput):
                        yield TaggedOutput(output.tag, GlobalWindows.windowed_value(output.value))
                    else:
                        yield GlobalWindows.windowed_value(output)
        if self.journal is not None:
            self.journal.flush()

    def _emitted(self, finished: Finished[DocumentRef, DocumentOutcome]) -> Iterator[DocumentOutcome | TaggedOutput]:
        """A lane's document as Beam's exception handling would have had it: its outcome, or a dead letter."""
        error = finished.error
        if error is None:
            try:
                self.account(finished.result)
            except Exception as accounting_error:  # the journal's disk, say: this document is the one that failed
                error = accounting_error
            else:
                yield finished.result
                return
        if not isinstance(error, Exception):  # an interpreter exit, not a document's failure
            raise error
        yield TaggedOutput(self.CRASHED, (finished.key, (type(error), repr(error), traceback.format_exception(error))))

    def account(self, outcome: DocumentOutcome) -> None:
        """Counters, progress and the journal, on this step's thread."""
        status = outcome.document["status"]
        pages = (outcome.document["page_count"] or 0) if status == Status.MIGRATED else 0  # a PDF: all its pages
        self.documents[status].inc()
        self.bytes_in.inc(outcome.document["source_bytes"] or 0)
        if status == Status.MIGRATED:
            self.pages_counter.inc(pages)
            self.bytes_out.inc(outcome.document["object_bytes"] or 0)
        for reason in outcome.document["reasons"]:
            Metrics.counter("edms", f"quarantine_{reason}").inc()
        for name, value in self.counts.take().items():
            Metrics.counter("edms", name).inc(value)
        self.progress.record(status, pages)
        if self.journal is not None:
            self.journal.record(outcome)

    def migrate(self, ref: DocumentRef, lane: DecoderLane | None = None) -> DocumentOutcome:
        lane = lane or self.lanes[0]
        if ref.page_blobs:
            return self.migrate_page_files(ref, lane)
        today = self.settings.today or dt.date.today()
        findings = [*ref.findings, *check_metadata(ref, today=today, document_types=self.settings.document_types)]
        data = None
        # A reference that is itself broken (say, an unreadable offset) could name a whole multi-GiB volume:
        # its bytes are not read, let alone copied to quarantine.
        if ref.blob_uri and not any(f.reason in _BROKEN_REFERENCE for f in ref.findings):
            try:
                data = self._read(ref.source_system, lambda: read_document_bytes(ref, self.settings.reading))
            except QuarantineError as error:
                findings.append(error.finding)
        if data is not None:
            findings += check_checksum(ref, data)
        if findings or data is None:
            return self.quarantine.outcome(ref, findings, data)
        try:
            return self._migrate_images(ref, (data,), lane)
        except QuarantineError as error:
            return self.quarantine.outcome(ref, [error.finding], data)

    def migrate_page_files(self, ref: DocumentRef, lane: DecoderLane) -> DocumentOutcome:
        """A page-per-row document: its page files are read in page order and converted as one document.

        No single original file holds such a document: a quarantine copies each readable page file beside the
        record (PREFIX/quarantine/<run>/<source>/<id>.page-N.bin), and the record names every one.
        """
        today = self.settings.today or dt.date.today()
        findings = [*ref.findings, *check_metadata(ref, today=today, document_types=self.settings.document_types)]
        pages: list[bytes | None] = []
        for page in ref.page_blobs:
            try:
                pages.append(
                    self._read(
                        ref.source_system,
                        lambda page=page: read_range(page.blob_uri, page.offset, page.length, self.settings.reading),
                    )
                )
            except QuarantineError as error:
                pages.append(None)
                findings.append(error.finding)
        if findings:
            return self.quarantine.outcome(ref, findings, None, pages)
        try:
            return self._migrate_images(ref, tuple(page for page in pages if page is not None), lane)
        except QuarantineError as error:
            return self.quarantine.outcome(ref, [error.finding], None, pages)

    def _read(self, source_system: str, read: Callable[[], bytes]) -> bytes:
        """One read from a legacy store, within that store's caps."""
        if self.throttle is not None:
            self.throttle.before_read(source_system)
        data = read()
        if self.throttle is not None:
            self.throttle.after_read(source_system, len(data))
        return data

    def _migrate_images(self, ref: DocumentRef, blobs: tuple[bytes, ...], lane: DecoderLane) -> DocumentOutcome:
        settings = self.settings
        isolate = settings.isolation == "always" or (
            settings.isolation == "risky" and any(looks_risky(blob) for blob in blobs)
        )
        worker = lane.isolated if isolate else lane.in_process
        converted = worker.call(self.convert, blobs, settings.limits, ref.page_count, ref.legacy_header)
        # Only now, with every page decoded and verified (or the PDF validated), does anything reach object storage.
        store = pdf_outcome if converted.pdf is not None else image_outcome
        outcome = store(
            ref,
            blobs[0] if converted.pdf is not None else blobs,
            converted,
            self.objects,
            run_id=settings.run_id,
            patient_key=self.key,
            pseudonyms=self.pseudonyms,
        )
        if self.key is None:  # a unit test of the step without a patient key: no resource ids, so no record
            return outcome
        # The EDMS record, built and validated here where the objects' bytes are (their SHA-1 and size); it travels
        # on with the outcome and is written after de-duplication (transforms/edms/write.py).
        record = edms_record(settings.edms, self.key, ref, outcome, stored_bytes(blobs, converted), settings.run_id)
        return replace(outcome, edms=record)


class MigrateDocuments(beam.PTransform):
    """DocumentRefs → RecordedOutcomes, one each, whatever happens inside.

    Each DoFn journals a document's full rows, then the outcome is cut down to what later steps read, in the same
    fused stage: the rows never cross a shuffle (measured in docs/benchmarks.md#what-each-part-costs)."""

    def __init__(self, settings: MigrationSettings) -> None:
        super().__init__()
        self.settings = settings

    def expand(self, refs: beam.PCollection[DocumentRef]) -> beam.PCollection[RecordedOutcome]:
        settings = self.settings
        migrated, crashed = refs | "MigrateEach" >> beam.ParDo(MigrateDocumentFn(settings)).with_exception_handling(
            main_tag="outcomes", dead_letter_tag=MigrateDocumentFn.CRASHED
        )
        quarantined = crashed | "QuarantineCrashed" >> beam.ParDo(QuarantineCrashedFn.of(settings))
        return (
            migrated | "Recorded" >> beam.Map(RecordedOutcome.of),
            quarantined | "RecordedCrashed" >> beam.Map(RecordedOutcome.of),
        ) | "AllOutcomes" >> beam.Flatten()
