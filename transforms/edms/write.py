"""WriteEdmsRecords: after de-duplication, every current migrated document's DocumentReference and Provenance
as NDJSON under PREFIX/fhir/, earlier records re-issued where this run changes them, and the run's EDMS summary.

Only the small records made by the per-document step travel here (never bytes). Earlier records are read only
when this run supersedes one (a changed document) or adds a duplicate's identifier to one (an earlier canonical).
A run that resumes a killed one also writes the records that run owed (transforms/edms/adopted.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from schemas.records import RecordedOutcome, Status
from schemas.tables import EDMS_RECORD_INDEX, REVIEW_UNCODED_TYPES
from transforms.edms.adopted import COUNTS, HELD, PATCHES, RETIRING, SettleAdopted
from transforms.edms.documentreference import upgraded
from transforms.edms.earlier import latest
from transforms.edms.find_earlier import FindEarlier
from transforms.edms.ndjson import INDEX, MAX_FILE_BYTES, WriteNdjson
from transforms.edms.record import EdmsSettings, dumps, unpack
from transforms.edms.reissue import checked, reissued, replacing, superseded, update_provenance, with_identifiers
from transforms.edms.summary import WriteEdmsSummary, outcome_tally, uncoded_row, uncoded_type
from transforms.privacy.evidence_key import evidence_key_source
from transforms.privacy.key_source import PatientKeyRef, key_for_worker
from transforms.storage.emulators import StorageDoFn
from transforms.storage.output_layout import fhir_folder

DOCUMENT_REFERENCE, PROVENANCE = "DocumentReference", "Provenance"
_REPLACING, _PATCHES, _RETIRING, _COUNTS, _HELD = "replacing", PATCHES, RETIRING, COUNTS, HELD


def route(outcome: RecordedOutcome, settings: EdmsSettings, reads_earlier: bool) -> Iterator[object]:
    """A record's lines now, or (tagged) what must first meet an earlier record."""
    record = outcome.edms
    if record is None:
        return
    if outcome.status == Status.MIGRATED and record.packed is not None:
        if record.held:  # owed late-settled duplicates' identifiers (merge_canonical)
            yield TaggedOutput(_HELD, (record.identity, record))
            return
        if record.replaces and reads_earlier:
            yield TaggedOutput(_REPLACING, (record.identity, record))
            return
        document_reference, provenance = unpack(record.packed)
        yield DOCUMENT_REFERENCE, document_reference
        yield PROVENANCE, provenance
    elif outcome.status == Status.DUPLICATE and outcome.duplicate_of and reads_earlier:
        if not record.merged:  # its canonical is an earlier run's: that record gets its identifier
            canonical = settings.config.identity(*outcome.canonical_key)
            yield TaggedOutput(_PATCHES, (canonical, record.legacy_identifier))
        if record.replaces:  # it had a record of its own, from another reference: no longer current
            yield TaggedOutput(_RETIRING, (record.identity, True))


class ReissueFn(StorageDoFn):
    """(identity, {earlier, replacing, held, patches, retiring}) → lines: this run's record (replacing an earlier
    one, or held for identifiers it is owed), the earlier one superseded or given duplicates' identifiers, each
    with a Provenance; counts (tagged) of what was done or failed."""

    def __init__(self, settings: EdmsSettings, run_id: str, patient_key: PatientKeyRef) -> None:
        self.settings, self.run_id, self.patient_key = settings, run_id, patient_key

    def setup(self) -> None:
        super().setup()
        self.key = key_for_worker(self.patient_key)

    def process(self, element: tuple) -> Iterator[object]:
        identity, groups = element
        found = list(groups["earlier"])
        earlier = upgraded(self.settings.config, latest(found)) if found else None  # today's must-supports
        current = earlier if earlier is not None and earlier["status"] == "current" else None
        issued, agent = self.settings.issued, self.settings.agent
        patches = list(groups.get("patches", ()))
        written: list[tuple[str, dict, bytes | None]] = []  # (what, resource, its own Provenance: None → UPDATE)
        for record in [*groups.get("replacing", ()), *groups.get("held", ())]:
            resource = with_identifiers(record.resource(), patches)
            if record.replaces and current is not None and current["id"] != resource["id"]:
                resource = replacing(resource, current["id"])
                written.append(("superseded", superseded(current, issued), None))
            elif record.replaces and current is None:
                yield TaggedOutput(_COUNTS, Counter({("replaced_not_found",): 1}))
            written.append(("replacing" if record.replaces else "written_after_settling", resource, record.provenance))
        if list(groups.get("retiring", ())) and current is not None and not written:
            written.append(("superseded", superseded(current, issued), None))
        if patches and current is not None and not written:
            written.append(("identifiers_added", reissued(with_identifiers(current, patches), issued), None))
        elif patches and not written:
            yield TaggedOutput(_COUNTS, Counter({("canonical_not_found",): len(patches)}))
        for what, resource, provenance in written:
            failures = checked(f"{identity[0]}|{identity[1]}", resource)
            if failures:
                yield TaggedOutput(_COUNTS, Counter({("invalid", failure): 1 for failure in failures}))
                continue
            yield TaggedOutput(_COUNTS, Counter({(what,): 1}))
            yield DOCUMENT_REFERENCE, dumps(resource)
            if provenance is None:
                provenance = dumps(update_provenance(self.key, resource, self.run_id, issued, agent))
            yield PROVENANCE, provenance


class WriteEdmsRecords(beam.PTransform):
    """Final outcomes → NDJSON files under <records prefix>/fhir/ and the run's EDMS summary beside them."""

    def __init__(
        self,
        records_prefix: str,
        run_id: str,
        settings: EdmsSettings,
        patient_key: PatientKeyRef,
        earlier_files: tuple[str, ...] = (),
        max_file_bytes: int = MAX_FILE_BYTES,
        local_identifiers: tuple[str, ...] = (),
        adopted_journals: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__()
        self.folder = fhir_folder(records_prefix)
        self.run_id, self.settings, self.patient_key = run_id, settings, patient_key
        self.earlier_files, self.max_file_bytes = earlier_files, max_file_bytes
        self.local_identifiers = local_identifiers  # the run's patterns: earlier records' ids as lineage names them
        self.adopted_journals = adopted_journals  # None: this run adopts no killed run; else their EDMS journals

    def expand(
        self, inputs: tuple[beam.PCollection[RecordedOutcome], beam.PCollection, beam.PCollection[RecordedOutcome]]
    ) -> dict[str, beam.PCollection]:
        """inputs: (final outcomes, adopted runs' finished documents' keys, late-settled duplicates)."""
        outcomes, adopted, late = inputs
        reads_earlier = bool(self.earlier_files) or self.adopted_journals is not None
        routed = outcomes | "Route" >> beam.FlatMap(route, self.settings, reads_earlier).with_outputs(
            _REPLACING, _PATCHES, _RETIRING, _HELD, main="lines"
        )
        lines, counts = routed["lines"], [outcomes | "Tally" >> beam.Map(outcome_tally)]
        if reads_earlier:
            owed = (adopted, late) | "SettleAdopted" >> SettleAdopted(
                self.settings, self.patient_key, self.adopted_journals or ()
            )
            counts.append(owed[_COUNTS])
            held, patches, retiring = (
                (routed[tag], owed[tag]) | f"All_{tag}" >> beam.Flatten() for tag in (_HELD, _PATCHES, _RETIRING)
            )
            wanted = (
                (routed[_REPLACING], held, patches, retiring)
                | "Wanted" >> beam.Flatten()
                | "WantedKeys" >> beam.Map(lambda item: item[0])
                | "DistinctWanted" >> beam.Distinct()
            )
            earlier = wanted | "FindEarlier" >> FindEarlier(
                self.folder, self.earlier_files, self.settings.index_files, self.patient_key, self.local_identifiers
            )
            reissue = (
                {
                    "earlier": earlier,
                    "replacing": routed[_REPLACING],
                    "held": held,
                    "patches": patches,
                    "retiring": retiring,
                }
                | "MeetEarlier" >> beam.CoGroupByKey()
                | "Reissue"
                >> beam.ParDo(ReissueFn(self.settings, self.run_id, self.patient_key)).with_outputs(
                    _COUNTS, main="lines"
                )
            )
            lines = (lines, reissue["lines"]) | "AllLines" >> beam.Flatten()
            counts.append(reissue[_COUNTS])
        signing = evidence_key_source(self.patient_key)  # signed as lineage is: the runs row vouches for them
        indexing = (self.patient_key, self.local_identifiers)
        written = lines | "Write" >> WriteNdjson(self.folder, self.run_id, self.max_file_bytes, indexing, signing)
        files = written["files"]
        tallies = tuple(counts) | "AllCounts" >> beam.Flatten()
        summary = (tallies, files) | "Summary" >> WriteEdmsSummary(self.folder, self.run_id, signing)
        uncoded = (
            outcomes
            | "UncodedTypes" >> beam.FlatMap(uncoded_type)
            | "CountUncoded" >> beam.combiners.Count.PerElement()
            | "UncodedRows" >> beam.Map(uncoded_row, self.run_id)
        )
        return {
            "files": files,
            "summary": summary,
            REVIEW_UNCODED_TYPES.name: uncoded,
            EDMS_RECORD_INDEX.name: written[INDEX],
        }
