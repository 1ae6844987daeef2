"""The run's EDMS summary, PREFIX/fhir/summary-<run>.json: what was written, coded versus uncoded types and the
confidentiality mix per source system, the uncoded types for review, and every resource that failed a rule.
Signed and vouched for by the runs row as the NDJSON beside it is (ndjson.py).

Counts and labels only: the review list's type texts are the legacy system's free text (restricted side, as the
folder is); the report shows them redacted. The launcher reads it: a failed rule makes the run exit 1.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import AsList, AsSingleton

from schemas.records import RecordedOutcome, Status
from schemas.tables import REVIEW_UNCODED_TYPES
from transforms.privacy.redact import redact
from transforms.storage.objects import read_all
from transforms.storage.output_layout import edms_summary_uri
from transforms.storage.signed_files import SigningKey, signed_files, write_signed_once


def outcome_tally(outcome: RecordedOutcome) -> Counter:
    """One document's part of the summary (empty for documents with no record)."""
    record = outcome.edms
    if record is None or outcome.status != Status.MIGRATED:
        return Counter()
    source = outcome.source_system
    if record.failures:  # not written: counted as what failed, not among the records
        return Counter({("invalid", f"{outcome.label}: {failure}"): 1 for failure in record.failures})
    tally = Counter({("coded" if record.coded else "uncoded", source): 1, ("label", source, record.label): 1})
    if not record.coded:
        tally[("uncoded_type", source, record.type_text or "")] += 1
    return tally


def uncoded_type(outcome: RecordedOutcome) -> Iterator[tuple[str, str | None]]:
    """(source system, redacted type text) of a written record with no SNOMED CT code: the review table's key."""
    record = outcome.edms
    if record is not None and outcome.status == Status.MIGRATED and not record.failures and not record.coded:
        yield outcome.source_system, redact(record.type_text) if record.type_text else None


def uncoded_row(item: tuple[tuple[str, str | None], int], run_id: str) -> dict[str, Any]:
    (source_system, document_type), documents = item
    return REVIEW_UNCODED_TYPES.row(
        run_id=run_id, source_system=source_system, document_type=document_type, documents=documents
    )


class _SumCounters(beam.CombineFn):
    def create_accumulator(self) -> Counter:
        return Counter()

    def add_input(self, total: Counter, tally: Counter) -> Counter:
        total.update(tally)
        return total

    def merge_accumulators(self, totals: Iterable[Counter]) -> Counter:
        merged = Counter()
        for total in totals:
            merged.update(total)
        return merged

    def extract_output(self, total: Counter) -> Counter:
        return total


def summary_document(run_id: str, tally: Counter, files: list[str]) -> dict[str, Any]:
    by_source: dict[str, dict[str, Any]] = {}
    uncoded, invalid, actions = [], [], {}
    for key, count in sorted(tally.items(), key=lambda item: [str(part) for part in item[0]]):
        kind = key[0]
        if kind in ("coded", "uncoded", "label"):
            entry = by_source.setdefault(key[1], {"coded": 0, "uncoded": 0, "labels": {}})
            if kind == "label":
                entry["labels"][key[2]] = count
            else:
                entry[kind] = count
        elif kind == "uncoded_type":
            uncoded.append({"source_system": key[1], "document_type": key[2], "documents": count})
        elif kind == "invalid":
            invalid.append(key[1])
        else:
            actions[kind] = count
    names = [name.rsplit("/", 1)[-1] for name in sorted(files)]
    return {
        "run_id": run_id,
        "files": names,
        "document_references": sum(count for key, count in tally.items() if key[0] == "label"),
        "by_source": by_source,
        "uncoded_types": uncoded,
        "reissued": actions,
        "invalid": invalid,
    }


class WriteEdmsSummary(beam.PTransform):
    def __init__(self, folder: str, run_id: str, signing: SigningKey | None = None) -> None:
        super().__init__()
        self.folder, self.run_id, self.signing = folder, run_id, signing

    def expand(self, inputs: tuple[beam.PCollection, beam.PCollection]) -> beam.PCollection[str]:
        tallies, files = inputs
        total = tallies | "SumTallies" >> beam.CombineGlobally(_SumCounters())
        folder, run_id, signing = self.folder, self.run_id, self.signing

        def write(_: object, tally: Counter, written: list[str]) -> str:
            document = summary_document(run_id, tally, written)
            data = (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
            key = signing.key() if signing is not None else None
            return write_signed_once(edms_summary_uri(folder, run_id), data, key)  # a retry keeps it

        return (
            tallies.pipeline
            | "SummaryOnce" >> beam.Create([None])
            | "WriteSummary" >> beam.Map(write, AsSingleton(total), AsList(files))
        )


def read_summary(folder: str, run_id: str) -> dict[str, Any] | None:
    """The run's EDMS summary, signed (or, from a unit test's unsigned run, not), or None."""
    uri = edms_summary_uri(folder, run_id)
    found = signed_files(uri) or ([uri] if FileSystems.exists(uri) else [])
    return json.loads(read_all(found[0])) if found else None
