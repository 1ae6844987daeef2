"""The quarantined outcome: a document's exact original bytes, a JSON record of why, and its lineage row.

Writing the evidence can fail too (a full disk, a revoked bucket): the document still leaves with exactly one
outcome, quarantined, whose reasons say that its evidence could not be written. Nothing of an earlier run is
touched here: an earlier EDMS record is superseded by the launcher, and only after a run passes every check.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from apache_beam.metrics import Metrics

from schemas.reasons import Finding, QuarantineError, Reason
from schemas.records import DocumentOutcome, DocumentRef, Status
from transforms.imaging.signatures import sniff
from transforms.migrate.journal import JournalSettings
from transforms.migrate.rows import document_row, quarantine_record, repeat_suffix
from transforms.privacy.evidence_key import evidence_key
from transforms.privacy.key_source import PatientKeyRef, key_for_worker
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.storage.blobs import DEFAULT_READ_POLICY, ReadPolicy, read_document_bytes, read_range
from transforms.storage.emulators import StorageDoFn
from transforms.storage.objects import QuarantineArea, sha256_hex
from transforms.storage.output_layout import quarantine_bytes_uri, quarantine_page_uri

_LOGGER = logging.getLogger(__name__)


def quarantine_suffix(ref: DocumentRef, findings: Sequence[Finding]) -> str:
    """A repeated id's files are named by its index file and row (rows.repeat_suffix)."""
    return repeat_suffix(ref, findings)


def count_metric(name: str) -> None:
    """One more of the edms counter NAME, on the calling thread's step."""
    Metrics.counter("edms", name).inc()


class QuarantineWriter:
    """Copies a document's original bytes and a JSON record to the quarantine area, and makes its row.

    `count` takes the name of a counter to increment: a caller on a thread Beam did not start (a decode lane)
    hands in one that defers the count to the step's own thread.
    """

    def __init__(
        self,
        output_prefix: str,
        run_id: str,
        patient_key: bytes | None,
        count: Callable[[str], None] = count_metric,
        pseudonyms: Pseudonyms | None = None,
    ) -> None:
        self.area = QuarantineArea(output_prefix, run_id)
        self.run_id = run_id
        self.patient_key = patient_key
        self.count = count
        self.pseudonyms = pseudonyms or Pseudonyms(patient_key)

    def outcome(
        self,
        ref: DocumentRef,
        findings: Sequence[Finding],
        data: bytes | None,
        page_files: Sequence[bytes | None] = (),
    ) -> DocumentOutcome:
        """`page_files`: a page-per-row document's files, copied beside the record as .page-N.bin where readable."""
        digest = sha256_hex(data) if data is not None else None
        base = self.area.base_uri(ref.source_system, ref.document_id, quarantine_suffix(ref, findings))
        copies = [
            {"copy": quarantine_page_uri(base, number), "sha256": sha256_hex(page), "bytes": len(page)}
            if page
            else None
            for number, page in enumerate(page_files, start=1)
        ]
        record = quarantine_record(
            ref,
            run_id=self.run_id,
            findings=findings,
            source_sha256=digest,
            source_bytes=_size(data),
            page_copies=copies,
        )
        record["identifiers"] = self.pseudonyms.identifiers(*ref.legacy_key, ref.blob_uri, *record_texts(record))
        written: list[str] = []
        try:
            for copy, page_data in zip(copies, page_files, strict=True):
                if copy is not None:
                    self.area.put_bytes(copy["copy"], page_data)
                    written.append(f"{copy['copy']} {copy['sha256']} {copy['bytes']}")
            record_uri = self.area.put(base, data, record)
            location = quarantine_bytes_uri(base) if data is not None else record_uri
        except Exception as error:  # a full disk or a revoked bucket: the outcome says so, the job goes on
            _LOGGER.error("could not write quarantine evidence for %s: %s", ref.label, type(error).__name__)
            self.count("quarantine_write_failures")
            findings = [
                *findings,
                Finding(Reason.STORAGE_ERROR, f"the quarantine copy could not be written: {type(error).__name__}"),
            ]
            location, written = None, []
        row = document_row(
            ref,
            run_id=self.run_id,
            status=Status.QUARANTINED,
            findings=findings,
            key=self.patient_key,
            pseudonyms=self.pseudonyms,
            source_sha256=digest,
            source_bytes=_size(data),
            source_format=named_format(data),
            quarantine_uri=location,
            quarantine_files=written,
        )
        return DocumentOutcome(document=row)


def record_texts(record: dict) -> list[str]:
    """The record's page locations and messages: where else an identifier may sit, for its pseudonym map."""
    return [page["blob_uri"] for page in record["page_files"]] + [reason["message"] for reason in record["reasons"]]


def named_format(data: bytes | None) -> str | None:
    """What a quarantined blob is, as far as its first bytes say (an image, a PDF, an Office file, …)."""
    found = sniff(data) if data else None
    return found.code if found is not None else None


def _size(data: bytes | None) -> int | None:
    return None if data is None else len(data)


def _readable(read: object) -> bytes | None:
    """The bytes, or None when they cannot be had: they are a courtesy to an operator here, never a new failure."""
    try:
        return read()  # type: ignore[operator]
    except QuarantineError:
        return None
    except Exception:  # the record must still be written
        _LOGGER.warning("could not copy bytes to quarantine:\n%s", traceback.format_exc(limit=3))
        return None


class QuarantineCrashedFn(StorageDoFn):
    """Documents whose migration raised something unexpected: quarantined with the error, bytes kept.

    This is the last line of defence, so it cannot fail either: whatever happens, one outcome per document.
    """

    def __init__(
        self,
        output_prefix: str,
        run_id: str,
        patient_key: PatientKeyRef | None,
        policy: ReadPolicy = DEFAULT_READ_POLICY,
        journal: JournalSettings | None = None,
        local_identifiers: tuple[str, ...] = (),
    ) -> None:
        self.output_prefix = output_prefix
        self.run_id = run_id
        self.patient_key = patient_key
        self.policy = policy
        self.journal_settings = journal
        self.local_identifiers = local_identifiers

    @classmethod
    def of(cls, settings: Any) -> QuarantineCrashedFn:
        """The step for a run's MigrationSettings (transforms/migrate.py, which imports this module)."""
        return cls(
            settings.output_prefix,
            settings.run_id,
            settings.patient_key,
            settings.reading,
            settings.journal,
            settings.local_identifiers,
        )

    def setup(self) -> None:
        super().setup()
        key = key_for_worker(self.patient_key) if self.patient_key else None
        self.pseudonyms = Pseudonyms(key, self.local_identifiers)
        self.quarantine = QuarantineWriter(self.output_prefix, self.run_id, key, pseudonyms=self.pseudonyms)
        self.journal = self.journal_settings.open(evidence_key(key) if key else None) if self.journal_settings else None

    def finish_bundle(self) -> None:
        if self.journal is not None:
            self.journal.flush()

    def process(self, failure: tuple[DocumentRef, tuple]) -> Iterator[DocumentOutcome]:
        for outcome in self.quarantined(failure):
            if self.journal is not None:
                self.journal.record(outcome)
            yield outcome

    def quarantined(self, failure: tuple[DocumentRef, tuple]) -> Iterator[DocumentOutcome]:
        ref, (error_type, _error_value, _trace) = failure
        name = getattr(error_type, "__name__", str(error_type))
        _LOGGER.error("unexpected error migrating %s: %s", ref.label, name)
        Metrics.counter("edms", "documents_crashed").inc()
        data, pages = None, []
        if ref.page_blobs:
            pages = [
                _readable(lambda p=p: read_range(p.blob_uri, p.offset, p.length, self.policy)) for p in ref.page_blobs
            ]
        elif ref.blob_uri:
            data = _readable(lambda: read_document_bytes(ref, self.policy))
        finding = Finding(Reason.INTERNAL_ERROR, f"{name} while migrating: report it with this record")
        try:
            yield self.quarantine.outcome(ref, [finding], data, pages)
        except Exception as error:  # even the row could not be made: the bare minimum, still one outcome
            _LOGGER.error("could not quarantine %s: %s", ref.label, type(error).__name__)
            row = document_row(  # no key: identifiers in its locations are removed, not pseudonymised
                ref, run_id=self.run_id, status=Status.QUARANTINED, findings=[finding], pseudonyms=Pseudonyms(None)
            )
            yield DocumentOutcome(document=row)
