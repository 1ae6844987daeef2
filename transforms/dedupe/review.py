"""Review tables: records that need a person, found from lineage rows alone (no bytes cross a shuffle).

- Misfiling: the same content under different patient keys. De-duplication never merges across
  patients; this makes those groups visible. Groups whose pages are all blank are left out:
  every blank page is identical to every other.
- Near-duplicates: within one patient, pairs of migrated documents whose pages have close
  perceptual hashes but whose content differs (a rescan, a re-saved page).
Pairs are ordered by (source_system, document_id), so rows do not depend on processing order.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam

from schemas.records import RecordedOutcome, Status
from schemas.tables import REVIEW_MISFILING, REVIEW_NEAR_DUPLICATES
from transforms.imaging.perceptual import NEAR_DISTANCE, distance, is_blank


@dataclass(frozen=True, slots=True)
class ContentMember:
    """What misfiling review needs of one document: small, no bytes."""

    source_system: str
    document_id: str
    status: str
    patient_key: str
    document_type: str | None
    document_date: dt.date | None
    all_blank: bool | None  # None for duplicates, whose pages live on their canonical's row


@dataclass(frozen=True, slots=True)
class PatientDocument:
    source_system: str
    document_id: str
    content_sha256: str
    page_hashes: tuple[str | None, ...]


def content_member(outcome: RecordedOutcome) -> Iterator[tuple[str, ContentMember]]:
    reviewed = outcome.status in (Status.MIGRATED, Status.DUPLICATE)
    if not reviewed or not outcome.patient_key or not outcome.content_sha256:
        return
    # A PDF's one object has no perceptual hash: never known to be blank, so a misfiled PDF is always reviewed.
    hashes = outcome.page_hashes
    blank = all(h is not None and is_blank(h) for h in hashes) if hashes else None
    yield (
        outcome.content_sha256,
        ContentMember(
            outcome.source_system,
            outcome.document_id,
            outcome.status,
            outcome.patient_key,
            outcome.document_type,
            outcome.document_date,
            blank,
        ),
    )


def misfiling_rows(group: tuple[str, Iterable[ContentMember]], run_id: str) -> Iterator[dict[str, Any]]:
    content, members = group
    members = sorted(members, key=lambda m: (m.source_system, m.document_id))
    patients = {m.patient_key for m in members}
    if len(patients) < 2 or any(m.all_blank for m in members):
        return
    for member in members:
        yield REVIEW_MISFILING.row(
            run_id=run_id,
            content_sha256=content,
            patients=len(patients),
            documents=len(members),
            source_system=member.source_system,
            document_id=member.document_id,
            status=member.status,
            patient_key=member.patient_key,
            document_type=member.document_type,
            document_date=member.document_date,
        )


def patient_document(outcome: RecordedOutcome) -> Iterator[tuple[str, PatientDocument]]:
    if outcome.status != Status.MIGRATED or not outcome.patient_key:
        return
    yield (
        outcome.patient_key,
        PatientDocument(outcome.source_system, outcome.document_id, outcome.content_sha256, outcome.page_hashes),
    )


def near_duplicate_rows(group: tuple[str, Iterable[PatientDocument]], run_id: str) -> Iterator[dict[str, Any]]:
    patient, documents = group
    ordered = sorted(documents, key=lambda d: (d.source_system, d.document_id))
    for first, second in itertools.combinations(ordered, 2):
        if first.content_sha256 == second.content_sha256:
            continue  # identical: de-duplication's business, not review's
        theirs = [h for h in second.page_hashes if not is_blank(h)]
        best: list[int] = []
        for mine in (h for h in first.page_hashes if not is_blank(h)):
            if theirs:
                best.append(min(distance(mine, other) for other in theirs))
        similar = sum(1 for d in best if d <= NEAR_DISTANCE)
        if similar:
            yield REVIEW_NEAR_DUPLICATES.row(
                run_id=run_id,
                patient_key=patient,
                source_system_a=first.source_system,
                document_id_a=first.document_id,
                source_system_b=second.source_system,
                document_id_b=second.document_id,
                page_count_a=len(first.page_hashes),
                page_count_b=len(second.page_hashes),
                similar_pages=similar,
                min_distance=min(best),
            )


class FindRecordsForReview(beam.PTransform):
    """Final outcomes → {"review_misfiling": rows, "review_near_duplicates": rows}."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def expand(self, outcomes: beam.PCollection[RecordedOutcome]) -> dict[str, beam.PCollection[dict]]:
        run_id = self.run_id
        misfiling = (
            outcomes
            | "ByContent" >> beam.FlatMap(content_member)
            | "GroupByContent" >> beam.GroupByKey()
            | "MisfilingRows" >> beam.FlatMap(misfiling_rows, run_id)
        )
        near = (
            outcomes
            | "ByPatient" >> beam.FlatMap(patient_document)
            | "GroupByPatient" >> beam.GroupByKey()
            | "NearDuplicateRows" >> beam.FlatMap(near_duplicate_rows, run_id)
        )
        return {REVIEW_MISFILING.name: misfiling, REVIEW_NEAR_DUPLICATES.name: near}
