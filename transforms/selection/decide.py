"""The decision for one document: redo it, or leave it as an earlier run finished it; and how urgent it is.

Pure: the document's manifest refs, its recorded rows and its access count in; tagged results out. A finished
document (migrated or duplicate) whose reference is unchanged is never read again; a migrated document whose
source has gone stays migrated (its legacy store may already be switched off) and is counted as source gone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from apache_beam import pvalue

from schemas.records import DocumentRef, Status, document_label
from transforms.selection.access_log import Access
from transforms.selection.state import StateRow, current
from transforms.selection.tallies import tally_manifest_row
from transforms.sources.read import flag_repeated_ids

TALLIES = "tallies"
EARLIER = "earlier"
#: A killed run's finished document this run leaves alone: its EDMS record, journaled, is written now.
ADOPTED = "adopted"

#: Largest first: documents in the access log before all others, then the most opened, then the most recent.
Priority = tuple[int, int, str, str, str]


@dataclass(frozen=True, slots=True)
class EarlierDocument:
    """A document an earlier run migrated and this run leaves alone: a canonical candidate for de-duplication.
    Its source system and id travel apart, so nothing has to split a label that may hold "/" itself.

    settled: its run de-duplicated it (a sealed run); a killed run's document (adopted now) never was, so it
    competes with this run's documents on its key, as it would have in an uninterrupted run. counted: it is in
    this run's manifests, counted there as already done."""

    source_system: str
    document_id: str
    order: tuple
    settled: bool = True
    counted: bool = False
    # As its row records them: a row settling it late keeps them, so the next run sees it unchanged, not new.
    reference_sha256: str | None = None
    source_bytes: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_system, self.document_id)

    @property
    def label(self) -> str:
        return document_label(self.source_system, self.document_id)


def priority(ref: DocumentRef, access: Access | None) -> Priority:
    return (1 if access else 0, access.count if access else 0, ref.document_date or "", *ref.key)


def unchanged(ref: DocumentRef, row: StateRow, blob_size: Callable[[str], int | None]) -> bool | None:
    """True when the reference is the one recorded (and a whole blob still has its recorded size); None when the
    blob can no longer be found (source gone); False when anything changed."""
    if row.reference_sha256 != ref.reference_sha256:
        return False
    whole_blob = ref.blob_uri and ref.offset is None and ref.length is None and not ref.page_blobs
    if not whole_blob or row.source_bytes is None:
        return True
    size = blob_size(ref.blob_uri)
    return None if size is None else size == row.source_bytes


def decide(
    key: tuple[str, str],
    refs: Iterable[DocumentRef],
    rows: Iterable[StateRow],
    accesses: Iterable[Access],
    blob_size: Callable[[str], int | None],
    adopted: frozenset[str] = frozenset(),
) -> Iterator[object]:
    """(priority, ref) for each ref to migrate; tagged tallies; and tagged earlier canonical candidates. adopted:
    the killed runs whose lineage this run resumes (their documents were never de-duplicated)."""
    refs, latest, access = list(refs), current(rows), next(iter(accesses), None)
    redo = True
    if refs:
        first, *repeats = flag_repeated_ids((key, refs))
        counts = Counter()
        for ref in (first, *repeats):
            counts.update(tally_manifest_row(ref)[1])
        state = unchanged(first, latest, blob_size) if latest is not None and latest.finished else False
        redo = state is False
        if redo:
            if latest is not None and latest.status == Status.MIGRATED and state is False:  # its EDMS record goes
                first = replace(first, replaces_earlier=True)  # superseded by the one this run makes
            yield priority(first, access), first
        else:
            counts.update(already_done=1, source_gone=1 if state is None else 0)
        for repeat in repeats:  # a repeated id is quarantined each time: it is never finished
            yield priority(repeat, access), repeat
        yield pvalue.TaggedOutput(TALLIES, (first.source_system, counts))
    finished_canonical = latest is not None and latest.status == Status.MIGRATED and not (refs and redo)
    if finished_canonical and latest.run_id in adopted:
        yield pvalue.TaggedOutput(ADOPTED, latest.key)
    if finished_canonical and latest.patient_key and latest.content_sha256:  # still canonical for its content
        settled = latest.run_id not in adopted
        candidate = EarlierDocument(
            latest.source_system,
            latest.document_id,
            latest.order,
            settled,
            bool(refs),
            latest.reference_sha256,
            latest.source_bytes,
        )
        yield pvalue.TaggedOutput(EARLIER, ((latest.patient_key, latest.content_sha256), candidate))
