"""A calibration run: a random sample of the real sources, migrated by the real per-document step, measured.

Every index is streamed once: documents are counted and a reservoir sample is drawn (page-per-row sources are
counted and sampled by their page-1 rows, and the sampled documents' rows are gathered in a second pass over those
sources only, then assembled as the job assembles them). The sample goes through MigrateDocumentFn itself, with
the job's isolation and limits, into a scratch prefix; CPU is the process's and its decoder children's, so the
isolated decoder is counted.
"""

from __future__ import annotations

import random
import resource
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from schemas.records import DocumentRef, Status
from transforms.migrate.document_step import MigrateDocumentFn, MigrationSettings
from transforms.sources.profiles import SourceProfile
from transforms.sources.read import flag_repeated_ids, iter_source_refs


@dataclass
class Census:
    """What one streaming pass over every index found: documents, rows, and the sample drawn from them."""

    documents: int = 0
    rows: int = 0
    sample: list[DocumentRef | tuple[str, str]] = field(default_factory=list)  # a ref, or a page-per-row key


def _heads(refs: Iterator[DocumentRef]) -> Iterator[tuple[DocumentRef, bool]]:
    """(ref, is a document's first row): a page-per-row document is counted once, by its page 1."""
    for ref in refs:
        yield ref, ref.page_number is None or ref.page_number == 1


def census(sources: Sequence[tuple[SourceProfile, str]], size: int, rng: random.Random) -> Census:
    """Count every document and draw a uniform sample of `size` (reservoir sampling, one pass)."""
    found = Census()
    for profile, manifest in sources:
        for ref, head in _heads(iter_source_refs(profile, manifest)):
            found.rows += 1
            if not head:
                continue
            found.documents += 1
            item = ref.key if ref.page_number is not None else ref
            if len(found.sample) < size:
                found.sample.append(item)
            elif (slot := rng.randrange(found.documents)) < size:
                found.sample[slot] = item
    return found


def sampled_documents(sources: Sequence[tuple[SourceProfile, str]], sample: Sequence) -> list[DocumentRef]:
    """The sample as the job sees it: page-per-row keys gathered from their sources and assembled."""
    refs = [item for item in sample if isinstance(item, DocumentRef)]
    keys = {item for item in sample if not isinstance(item, DocumentRef)}
    if keys:
        rows: dict[tuple[str, str], list[DocumentRef]] = {key: [] for key in keys}
        for profile, manifest in sources:
            if profile.page_per_row:
                for ref in iter_source_refs(profile, manifest):
                    if ref.key in rows:
                        rows[ref.key].append(ref)
        refs += [next(flag_repeated_ids((key, found))) for key, found in sorted(rows.items()) if found]
    return refs


@dataclass(frozen=True)
class Calibration:
    """The measurements a capacity plan scales up."""

    documents: int  # sampled
    statuses: dict[str, int]
    pages: int  # pages of migrated documents
    cpu_seconds: float  # parent and decoder children
    wall_seconds: float
    bytes_in: int  # legacy bytes read
    bytes_out: int  # page objects plus quarantine copies written
    #: Migrated documents by what their pages are (bilevel, grey, colour, mixed, PDF): [documents, pages, source
    #: bytes, object bytes]. The sample's own mix: what each kind costs to store, per source byte.
    storage_by_kind: dict[str, list[int]] = field(default_factory=dict)

    @property
    def object_bytes_per_source_byte(self) -> float | None:
        """Object bytes written per source byte read, over the migrated documents."""
        source = sum(kind[2] for kind in self.storage_by_kind.values())
        return sum(kind[3] for kind in self.storage_by_kind.values()) / source if source else None

    @property
    def cpu_per_page(self) -> float:
        return self.cpu_seconds / self.pages if self.pages else 0.0

    @property
    def pages_per_document(self) -> float:
        return self.pages / self.documents if self.documents else 0.0


_GREY_MODES = ("L", "LA", "I;16", "I;16B", "I;16L", "I;16N", "I", "F", "MINISBLACK", "MINISWHITE")


def page_kind(mode: str | None) -> str:
    """bilevel, grey or colour, from a page row's mode (a Pillow mode, or photometric;dtype); PDF for no mode."""
    if mode is None:
        return "PDF"
    if mode == "1":
        return "bilevel"
    return "grey" if mode.split(";")[0] in _GREY_MODES or mode.startswith("I;16") else "colour"


def document_kind(pages: Sequence[dict]) -> str:
    kinds = {page_kind(page.get("mode")) for page in pages}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(documents: Sequence[DocumentRef], settings: MigrationSettings) -> Calibration:
    """Migrate each sampled document with the job's own step; the decoder child is stopped (and reaped) inside
    the measured span, so its CPU counts."""
    statuses: Counter[str] = Counter()
    pages = bytes_in = bytes_out = 0
    by_kind: dict[str, list[int]] = {}
    cpu, wall = _cpu_seconds(), time.monotonic()
    fn = MigrateDocumentFn(replace(settings, decode_lanes=1))  # one at a time: each document's outcome as it ends
    fn.setup()
    try:
        for ref in documents:  # keyed, named and logged as a run would: identifiers pseudonymised
            for outcome in fn.process(fn.pseudonyms.ref(ref)):
                row = outcome.document
                statuses[row["status"]] += 1
                bytes_in += row["source_bytes"] or 0
                if row["status"] == Status.MIGRATED:
                    pages += len(outcome.pages)
                    bytes_out += row["object_bytes"] or 0
                    kind = by_kind.setdefault(document_kind(outcome.pages), [0, 0, 0, 0])
                    kind[0] += 1
                    kind[1] += len(outcome.pages)
                    kind[2] += row["source_bytes"] or 0
                    kind[3] += row["object_bytes"] or 0
                elif row["status"] == Status.QUARANTINED:
                    bytes_out += row["source_bytes"] or 0  # the original bytes are kept in quarantine
    finally:
        fn.teardown()
    return Calibration(
        documents=len(documents),
        statuses=dict(statuses),
        pages=pages,
        cpu_seconds=_cpu_seconds() - cpu,
        wall_seconds=time.monotonic() - wall,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        storage_by_kind=dict(sorted(by_kind.items())),
    )
