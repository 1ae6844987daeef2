"""De-duplication: same patient and same pixels on every page, in order → one canonical document, across runs.

Only small recorded outcomes and candidates cross the GroupByKey. A document an earlier run migrated stays
canonical: this run's copies become its duplicates. Among this run's documents alone, the canonical is the smallest
(source_system, document_id), so the choice never depends on the order the runner processed them in. Two
earlier documents left undecided (a run killed before it de-duplicated) are settled too: the later becomes a
duplicate of the earlier, in a row of its own (LATE), which the summary does not count as this run's document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import apache_beam as beam
from apache_beam import pvalue

from schemas.records import RecordedOutcome, Status, document_label
from transforms.selection.decide import EarlierDocument
from transforms.selection.tallies import MergeTalliesGlobally

LATE = "late"
LATE_TALLIES = "late_tallies"

#: What becomes of a canonical chosen in this run, given its duplicates and whether earlier documents are settled
#: as its duplicates too (the graph passes the EDMS step's merge, which puts every duplicate's legacy identifier on
#: the canonical's record); injected, so this stage does not import the EDMS stage above it.
MergeCanonical = Callable[[RecordedOutcome, list[RecordedOutcome], bool], tuple[RecordedOutcome, list[RecordedOutcome]]]


def keep_canonical(
    canonical: RecordedOutcome, duplicates: list[RecordedOutcome], settles_late: bool = False
) -> tuple[RecordedOutcome, list[RecordedOutcome]]:
    return canonical, duplicates


def resolve_duplicates(
    key_and_groups: tuple[tuple[str, str], dict[str, Iterable]], merge: MergeCanonical = keep_canonical
) -> Iterator[object]:
    """A canonical chosen in this run and its duplicates go through `merge` (the EDMS step puts the duplicates'
    identifiers on the canonical's record); a duplicate of an earlier run's canonical keeps its EDMS record as it
    is, for the EDMS step to add its identifier to that canonical's."""
    (patient_key, content), groups = key_and_groups
    now = sorted(groups.get("now", ()), key=lambda outcome: outcome.key)
    candidates = list(groups.get("earlier", ()))
    settled = sorted((c for c in candidates if c.settled), key=lambda candidate: (candidate.order, candidate.label))
    unsettled = [candidate for candidate in candidates if not candidate.settled]
    if settled:  # an earlier run's canonical stays canonical
        canonical, late = settled[0].key, [*settled[1:], *unsettled]
        yield from (outcome.as_duplicate_of(canonical) for outcome in now)
    else:  # this run's documents and a killed run's, never de-duplicated: the smallest key, whatever the order
        pool = sorted([*((o.key, o) for o in now), *((c.key, c) for c in unsettled)], key=lambda item: item[0])
        if not pool:
            return
        first = pool[0][1]
        canonical = first.key
        late = [candidate for candidate in unsettled if candidate is not first]
        duplicates = [outcome.as_duplicate_of(canonical) for outcome in now if outcome is not first]
        if any(outcome is first for outcome in now):  # this run's canonical: the EDMS step's merge
            merged, duplicates = merge(first, duplicates, bool(late))
            yield merged
        yield from duplicates
    for candidate in late:
        yield pvalue.TaggedOutput(LATE, late_duplicate(candidate, canonical, patient_key, content))
        if candidate.counted:  # counted as already done in this run's manifests: now one of its duplicates
            source = candidate.key[0]
            yield pvalue.TaggedOutput(LATE_TALLIES, (source, Counter(duplicate=1, already_done=-1)))


def late_duplicate(
    candidate: EarlierDocument, canonical: tuple[str, str], patient_key: str, content: str
) -> RecordedOutcome:
    """An earlier run's document, now a duplicate; its row is built whole from this (duplicate_rows.settled_row)."""
    return RecordedOutcome(
        candidate.source_system,
        candidate.document_id,
        Status.DUPLICATE,
        patient_key=patient_key,
        content_sha256=content,
        duplicate_of=document_label(*canonical),
        duplicate_of_key=canonical,
        source_bytes=candidate.source_bytes or 0,
        reference_sha256=candidate.reference_sha256,
    )


class DeduplicateDocuments(beam.PTransform):
    """(this run's outcomes, earlier canonical candidates) → {outcomes: one each, late: earlier documents settled}."""

    def __init__(self, merge: MergeCanonical = keep_canonical) -> None:
        super().__init__()
        self.merge = merge

    def expand(self, inputs: tuple[beam.PCollection[RecordedOutcome], beam.PCollection]) -> dict:
        outcomes, earlier = inputs
        mergeable, single = outcomes | "SplitMergeable" >> beam.Partition(
            lambda outcome, _: 0 if outcome.dedupe_key is not None else 1, 2
        )
        resolved = (
            {
                "now": mergeable | "KeyByPatientAndContent" >> beam.Map(lambda outcome: (outcome.dedupe_key, outcome)),
                "earlier": earlier,
            }
            | "GroupByPatientAndContent" >> beam.CoGroupByKey()
            | "ChooseCanonical"
            >> beam.FlatMap(resolve_duplicates, self.merge).with_outputs(LATE, LATE_TALLIES, main="outcomes")
        )
        return {
            "outcomes": (resolved["outcomes"], single) | "Rejoin" >> beam.Flatten(),
            LATE: resolved[LATE],
            LATE_TALLIES: resolved[LATE_TALLIES] | "MergeLateTallies" >> MergeTalliesGlobally(),
        }
