"""The run's tallies: per source system, counts that the summary adds up (lineage/summary.py).

Selection counts every manifest document as it decides, and the documents a wave defers; the summary adds the
outcomes at the very end. Tallies are merged where they are made, a few elements rather than one per document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import apache_beam as beam

from schemas.records import DocumentRef

Tally = tuple[str, Counter]
#: Tallies merged: source system → counts.
Tallies = dict[str, Counter]


def tally_manifest_row(ref: DocumentRef) -> Tally:
    return ref.source_system, Counter({"manifest_documents": 1, f"profile:{ref.source_profile}": 1})


class MergeTallies(beam.CombineFn):
    def create_accumulator(self) -> Tallies:
        return {}

    def add_input(self, accumulator: Tallies, tally: Tally) -> Tallies:
        source, counts = tally
        accumulator.setdefault(source, Counter()).update(counts)
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[Tallies]) -> Tallies:
        merged: Tallies = {}
        for accumulator in accumulators:
            for source, counts in accumulator.items():
                merged.setdefault(source, Counter()).update(counts)
        return merged

    def extract_output(self, accumulator: Tallies) -> Tallies:
        return accumulator


def merge_tallies(merged: Iterable[Tallies]) -> Tallies:
    return MergeTallies().merge_accumulators(merged)


class MergeTalliesGlobally(beam.PTransform):
    """Tallies → one Tallies, merged where they are made: FnApiRunner holds a Flatten's inputs in memory, so
    per-document tallies merged only after a Flatten would cost every document a few hundred bytes to the end."""

    def expand(self, tallies: beam.PCollection[Tally]) -> beam.PCollection[Tallies]:
        return tallies | "Merge" >> beam.CombineGlobally(MergeTallies())
