"""SelectDocuments: the shuffle that spreads refs over workers also joins each document with its recorded
lineage and its access count, so the finished ones are never read and a wave takes the most used first.

Only references and small rows cross it. With --max_documents, the wave's cut-off is found from the priorities
alone (Top of small tuples), then every worker keeps its documents at or above it: exactly N, deterministically.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

import apache_beam as beam
from apache_beam import pvalue

from schemas.reasons import QuarantineError
from schemas.records import DocumentRef
from transforms.privacy.pseudonyms import PrivacySettings
from transforms.selection.access_log import read_access_log
from transforms.selection.decide import ADOPTED, EARLIER, TALLIES, Priority, decide
from transforms.selection.state import read_state_rows
from transforms.selection.tallies import MergeTalliesGlobally
from transforms.storage.blobs import ReadPolicy
from transforms.storage.blobs import blob_size as stored_size  # the selection's own blob_size wraps it
from transforms.storage.emulators import StorageDoFn

OUTSTANDING = "outstanding"
DEFERRED = "deferred"


#: One metadata call, no retries: a finished document's size is a question, never a reason to wait or quarantine.
_ONE_LOOK = ReadPolicy(attempts=1)


def blob_size(uri: str) -> int | None:
    """The blob's size, or None when it is not there any more (or its store cannot be listed just now)."""
    try:
        return stored_size(uri, _ONE_LOOK)
    except QuarantineError:
        return None


class ReadAccessLogFn(StorageDoFn):
    """The access log's rows keyed as the refs are: identifiers in a source system or id pseudonymised."""

    def __init__(self, privacy: PrivacySettings | None) -> None:
        self.privacy = privacy

    def setup(self) -> None:
        super().setup()
        self.pseudonyms = self.privacy.open() if self.privacy else None

    def process(self, uri: str) -> Iterator[tuple[tuple[str, str], object]]:
        for (source, document), access in read_access_log(uri):
            if self.pseudonyms is not None:
                source, document = self.pseudonyms.value(source) or "", self.pseudonyms.value(document) or ""
            yield (source, document), access


class DecideFn(StorageDoFn):
    def __init__(self, adopted: frozenset[str] = frozenset()) -> None:
        self.adopted = adopted

    def process(self, element: tuple[tuple[str, str], dict[str, Iterable]]) -> Iterator[object]:
        key, joined = element
        refs, rows, accesses = joined.get("refs", ()), joined.get("state", ()), joined.get("access", ())
        yield from decide(key, refs, rows, accesses, blob_size, self.adopted)


def in_wave(item: tuple[Priority, DocumentRef], cutoff: Priority | None) -> Iterator[object]:
    priority, ref = item
    if cutoff is None or priority >= cutoff:
        yield ref
    else:
        yield pvalue.TaggedOutput(DEFERRED, (ref.source_system, Counter(deferred=1)))


def last_of_top(top: list[Priority], wanted: int) -> Priority | None:
    """The wave's cut-off: the N-th highest priority, or None (everything goes) when fewer are outstanding."""
    return top[-1] if len(top) >= wanted else None


class SelectDocuments(beam.PTransform):
    """Refs → {outstanding refs, tallies of documents counted, done and deferred (merged: a few elements, not one
    per document), earlier canonical candidates, adopted runs' finished documents}."""

    def __init__(
        self,
        history: tuple[str, ...],
        access_log: str | None,
        max_documents: int | None,
        privacy: PrivacySettings | None = None,
        adopted: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.privacy = privacy
        self.adopted = frozenset(adopted)  # killed runs this run resumes: their documents are not yet de-duplicated
        self.history = history
        self.access_log = access_log
        self.max_documents = max_documents

    def expand(self, refs: beam.PCollection[DocumentRef]) -> dict[str, beam.PCollection]:
        pipeline = refs.pipeline
        inputs = {"refs": refs | "KeyById" >> beam.Map(lambda ref: (ref.key, ref))}
        if self.history:
            inputs["state"] = (
                pipeline
                | "HistoryFiles" >> beam.Create(self.history)
                | "SpreadHistory" >> beam.Reshuffle()
                | "ReadHistory" >> beam.FlatMap(read_state_rows)
            )
        if self.access_log:
            inputs["access"] = (
                pipeline
                | "AccessLog" >> beam.Create([self.access_log])
                | "ReadAccessLog" >> beam.ParDo(ReadAccessLogFn(self.privacy))
            )
        decided = (
            inputs
            | "JoinById" >> beam.CoGroupByKey()
            | "Decide" >> beam.ParDo(DecideFn(self.adopted)).with_outputs(TALLIES, EARLIER, ADOPTED, main=OUTSTANDING)
        )
        prioritised = decided[OUTSTANDING]
        cutoff = None
        if self.max_documents:
            cutoff = beam.pvalue.AsSingleton(
                prioritised
                | "Priorities" >> beam.Map(lambda item: item[0])
                | "TopPriorities" >> beam.combiners.Top.Of(self.max_documents)
                | "CutOff" >> beam.Map(last_of_top, self.max_documents)
            )
        wave = prioritised | "InWave" >> beam.ParDo(in_wave, cutoff).with_outputs(DEFERRED, main=OUTSTANDING)
        tallies = (
            decided[TALLIES] | "MergeCounted" >> MergeTalliesGlobally(),
            wave[DEFERRED] | "MergeDeferred" >> MergeTalliesGlobally(),
        ) | "AllTallies" >> beam.Flatten()
        return {OUTSTANDING: wave[OUTSTANDING], TALLIES: tallies, EARLIER: decided[EARLIER], ADOPTED: decided[ADOPTED]}
