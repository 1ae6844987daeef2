"""De-duplication: same patient and same pixels on every page, in order → one canonical document.

Only small outcomes (rows and hashes) cross the GroupByKey. The canonical document
is the smallest (source_system, document_id), so the choice never depends on the
order in which the runner happened to process documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import apache_beam as beam

from schemas.records import DocumentOutcome
from transforms.lineage.outcomes import as_duplicate


def resolve_duplicates(
    key_and_outcomes: tuple[tuple[str, str], Iterable[DocumentOutcome]],
) -> Iterator[DocumentOutcome]:
    _, outcomes = key_and_outcomes
    canonical, *others = sorted(outcomes, key=lambda outcome: outcome.key)
    yield canonical
    for outcome in others:
        yield as_duplicate(outcome, canonical.label)


class DeduplicateDocuments(beam.PTransform):
    """Outcomes in, outcomes out: mergeable documents are grouped, all others pass straight through."""

    def expand(self, outcomes: beam.PCollection[DocumentOutcome]) -> beam.PCollection[DocumentOutcome]:
        mergeable, single = outcomes | "SplitMergeable" >> beam.Partition(
            lambda outcome, _: 0 if outcome.dedupe_key is not None else 1, 2
        )
        resolved = (
            mergeable
            | "KeyByPatientAndContent" >> beam.Map(lambda outcome: (outcome.dedupe_key, outcome))
            | "GroupByPatientAndContent" >> beam.GroupByKey()
            | "ChooseCanonical" >> beam.FlatMap(resolve_duplicates)
        )
        return (resolved, single) | "Rejoin" >> beam.Flatten()
