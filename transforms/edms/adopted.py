"""The records a killed run owed, settled by the run that resumes it (the run adopts the killed run's lineage).

A killed run journaled its documents and their EDMS records (transforms/edms/journal.py) but never
de-duplicated them nor wrote its NDJSON. Its resumption settles each of its finished documents:
- still a canonical (or alone): its journaled record is written now, with this run's lastUpdated and any
  duplicates' identifiers it is owed (it is *held* until it has met them, in the write step's meeting);
- settled late as a duplicate (transforms/dedupe/resolve.LATE): no record of its own. Its legacy identifier goes
  onto its canonical's record, and any record of it the killed run managed to write is superseded.
Only small records travel here, keyed by identity (identifier system, the id lineage uses).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from schemas.records import RecordedOutcome
from transforms.edms.documentreference import upgraded
from transforms.edms.earlier import Identity
from transforms.edms.journal import read_journal
from transforms.edms.record import EdmsRecord, EdmsSettings, dumps
from transforms.edms.reissue import reissued
from transforms.privacy.evidence_key import evidence_key
from transforms.privacy.key_source import PatientKeyRef, key_for_worker
from transforms.storage.emulators import StorageDoFn

HELD, PATCHES, RETIRING, COUNTS = "held", "patches", "retiring", "counts"


class ReadJournalFn(StorageDoFn):
    """One adopted run's EDMS journal file → (identity, record) for each record in it (signed files only)."""

    def __init__(self, patient_key: PatientKeyRef) -> None:
        self.patient_key = patient_key

    def setup(self) -> None:
        super().setup()
        self.key = evidence_key(key_for_worker(self.patient_key))

    def process(self, uri: str) -> Iterator[tuple[Identity, EdmsRecord]]:
        yield from read_journal(uri, self.key)


def settle(element: tuple[Identity, dict[str, Iterable]], settings: EdmsSettings) -> Iterator[object]:
    """One adopted document: its record held for writing, or its identifier patched onto its canonical's."""
    identity, groups = element
    records = sorted(groups.get("records", ()), key=lambda record: record.packed)
    record = records[0] if records else None  # a retried bundle may have journaled it twice, alike
    canonical = next(iter(groups.get("late", ())), None)
    if canonical is not None:
        # Without a journaled record (a journal from before records were journaled), the id lineage uses is the
        # best left: it is the export's own id unless it held an identifier.
        yield TaggedOutput(PATCHES, (canonical, record.legacy_identifier if record else identity))
        yield TaggedOutput(RETIRING, (identity, True))
        yield TaggedOutput(COUNTS, Counter({("adopted_settled_as_duplicate",): 1}))
        return
    source = next(iter(groups.get("adopted", ())), None)
    if source is None:  # not the adopted run's finished document any more (redone by this run, say)
        return
    if record is None:
        yield TaggedOutput(COUNTS, Counter({("adopted_without_record",): 1}))
        return
    # this run's: it outdates any the killed run wrote; with the must-supports a journal of older code may lack
    resource = reissued(upgraded(settings.config, record.resource()), settings.issued)
    yield identity, replace(record.with_document_reference(dumps(resource)), held=True)
    tally = Counter({("adopted_written",): 1, ("coded" if record.coded else "uncoded", source): 1})
    tally[("label", source, record.label)] += 1
    if not record.coded:
        tally[("uncoded_type", source, record.type_text or "")] += 1
    yield TaggedOutput(COUNTS, tally)


class SettleAdopted(beam.PTransform):
    """(adopted documents' keys, late-settled outcomes) → {held, patches, retiring, counts} for the write step."""

    def __init__(self, settings: EdmsSettings, patient_key: PatientKeyRef, journal_files: tuple[str, ...]) -> None:
        super().__init__()
        self.settings, self.patient_key, self.journal_files = settings, patient_key, journal_files

    def expand(self, inputs: tuple[beam.PCollection, beam.PCollection[RecordedOutcome]]) -> dict:
        adopted, late = inputs
        identity = self.settings.config.identity
        records = (
            adopted.pipeline
            | "JournalFiles" >> beam.Create(list(self.journal_files))
            | "SpreadJournals" >> beam.Reshuffle()
            | "ReadJournals" >> beam.ParDo(ReadJournalFn(self.patient_key))
        )
        settled = (
            {
                "records": records,
                "adopted": adopted | "AdoptedIdentity" >> beam.Map(lambda key: (identity(*key), key[0])),
                "late": late
                | "LateIdentity"
                >> beam.Map(lambda outcome: (identity(*outcome.key), identity(*outcome.duplicate_of_key))),
            }
            | "MeetJournals" >> beam.CoGroupByKey()
            | "Settle" >> beam.FlatMap(settle, self.settings).with_outputs(PATCHES, RETIRING, COUNTS, main=HELD)
        )
        return {HELD: settled[HELD], PATCHES: settled[PATCHES], RETIRING: settled[RETIRING], COUNTS: settled[COUNTS]}
