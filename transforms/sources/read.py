"""Reading legacy dumps: (profile, index file) pairs in, DocumentRefs out (references only, never bytes).

Each layout (transforms/sources/layouts/, and the canonical manifest) turns its index into refs; big indexes are split
across workers (transforms/sources/layouts/splits.py). Repeated (source_system, document_id) pairs are caught, and
page-per-row documents assembled (flag_repeated_ids), in the selection stage's shuffle (transforms/selection/),
so neither costs a stage of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import apache_beam as beam
from apache_beam.metrics import Metrics

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.privacy.pseudonyms import PrivacySettings
from transforms.sources.layouts.page_per_row import assemble_pages
from transforms.sources.layouts.registry import layout_for
from transforms.sources.layouts.splits import (
    SPLIT_BYTES,
    Split,
    count_split_rows,
    iter_split_refs,
    make_splits,
    splittable,
)
from transforms.sources.profiles import SourceProfile
from transforms.storage.emulators import StorageDoFn


def iter_source_refs(profile: SourceProfile, manifest_uri: str) -> Iterator[DocumentRef]:
    """One index file of one source, in the layout its profile names, as a stream of refs."""
    yield from layout_for(profile).iter_refs(manifest_uri, profile)


class _PseudonymisingFn(StorageDoFn):
    """Refs leave the reading step with identifiers in their source system and id pseudonymised: everything after
    keys on, names objects by and writes lineage with the pseudonymised pair (transforms/privacy/pseudonyms.py)."""

    def __init__(self, privacy: PrivacySettings | None = None) -> None:
        self.rows = Metrics.counter("edms", "manifest_rows")
        self.privacy = privacy

    def setup(self) -> None:
        super().setup()
        self.pseudonyms = self.privacy.open() if self.privacy else None

    def pseudonymised(self, refs: Iterable[DocumentRef]) -> Iterator[DocumentRef]:
        for ref in refs:
            self.rows.inc()
            yield self.pseudonyms.ref(ref) if self.pseudonyms else ref


class ParseSourceFn(_PseudonymisingFn):
    """Stream one (profile, index file) into DocumentRefs."""

    def process(self, source: tuple[SourceProfile, str]) -> Iterator[DocumentRef]:
        profile, manifest_uri = source
        yield from self.pseudonymised(iter_source_refs(profile, manifest_uri))


class ParseSplitFn(_PseudonymisingFn):
    """Stream one record-aligned split of a big index (CSV or DIP) into DocumentRefs."""

    def process(self, split: Split, counts: dict[tuple[str, int], int]) -> Iterator[DocumentRef]:
        yield from self.pseudonymised(iter_split_refs(split, counts))


class ReadSources(beam.PTransform):
    """(profile, index file) pairs → one DocumentRef per row or record (per page, for page-per-row sources).

    Files whose profile rules out line breaks inside fields are split on line boundaries across workers
    (transforms/sources/layouts/splits.py); every other file is streamed whole by one worker.
    """

    def __init__(
        self,
        sources: list[tuple[SourceProfile, str]],
        split_bytes: int = SPLIT_BYTES,
        privacy: PrivacySettings | None = None,
    ) -> None:
        super().__init__()
        self.privacy = privacy
        self.whole = [source for source in sources if not splittable(source[0])]
        self.split = [source for source in sources if splittable(source[0])]
        self.split_bytes = split_bytes

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[DocumentRef]:
        # A Flatten only when both kinds exist: FnApiRunner materialises a Flatten's inputs in memory.
        readers = []
        if self.whole:
            readers.append(
                pbegin
                | "IndexFiles" >> beam.Create(self.whole)
                | "Spread" >> beam.Reshuffle()
                | "ParseRecords" >> beam.ParDo(ParseSourceFn(self.privacy))
            )
        if self.split:
            splits = (
                pbegin
                | "SplittableFiles" >> beam.Create(self.split)
                | "LineSplits" >> beam.FlatMap(make_splits, self.split_bytes)
                | "SpreadSplits" >> beam.Reshuffle()
            )
            counts = splits | "CountRows" >> beam.Map(count_split_rows)
            parse = ParseSplitFn(self.privacy)
            readers.append(splits | "ParseSplits" >> beam.ParDo(parse, counts=beam.pvalue.AsDict(counts)))
        if len(readers) <= 1:
            return readers[0] if readers else pbegin | "NoIndexFiles" >> beam.Create([])
        return tuple(readers) | "AllRecords" >> beam.Flatten()


def flag_repeated_ids(key_and_refs: tuple[tuple[str, str], Iterable[DocumentRef]]) -> Iterator[DocumentRef]:
    """The first row of an id (by manifest position) goes on; later rows are quarantined, never dropped.

    Page rows (page-per-row sources) of the id are first assembled into one document.
    """
    _, refs = key_and_refs
    refs = list(refs)
    pages = [ref for ref in refs if ref.page_number is not None]
    if pages:
        refs = [assemble_pages(pages), *(ref for ref in refs if ref.page_number is None)]
    ordered = sorted(refs, key=lambda ref: (ref.manifest_uri, ref.manifest_row))
    first, *repeats = ordered
    yield first
    for ref in repeats:
        yield ref.with_finding(
            Finding(
                Reason.DUPLICATE_DOCUMENT_ID,
                f"document id already used by {first.manifest_uri} row {first.manifest_row}",
            )
        )
