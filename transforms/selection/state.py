"""What earlier runs recorded, as small per-document rows: the lineage a run is resumed from.

Lineage is append-only history; a document's current state is its latest row (recorded_at, then run id). Files
are read column by column, a row group at a time, so memory is one row group, not the history.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow.parquet as pq

from schemas.records import Status, document_label
from schemas.tables import DOCUMENTS
from transforms.storage.damage import UnreadableLineage
from transforms.storage.listing import matched_paths
from transforms.storage.objects import read_all
from transforms.storage.output_layout import lineage_folder, table_history_pattern

#: The columns a run needs of its history; a file written before one existed reads it as missing.
STATE_COLUMNS = (
    "source_system",
    "document_id",
    "status",
    "recorded_at",
    "run_id",
    "reference_sha256",
    "source_bytes",
    "patient_key",
    "content_sha256",
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class StateRow:
    """One recorded outcome of one document, reduced to what deciding and de-duplicating need."""

    source_system: str
    document_id: str
    status: str
    recorded_at: dt.datetime
    run_id: str
    reference_sha256: str | None
    source_bytes: int | None
    patient_key: str | None
    content_sha256: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_system, self.document_id)

    @property
    def label(self) -> str:
        return document_label(self.source_system, self.document_id)

    @property
    def finished(self) -> bool:
        """Migrated or a duplicate: nothing left to do while its reference stays the same."""
        return self.status in (Status.MIGRATED, Status.DUPLICATE)

    @property
    def order(self) -> tuple[dt.datetime, str]:
        return (self.recorded_at, self.run_id)


def history_files(output_prefix: str) -> tuple[str, ...]:
    """Every documents file under PREFIX/lineage, listed by the launcher before the run writes its own."""
    return tuple(matched_paths(table_history_pattern(lineage_folder(output_prefix), DOCUMENTS.name)))


def read_state_rows(uri: str) -> Iterator[tuple[tuple[str, str], StateRow]]:
    """(key, row) for each row of one lineage documents file; a damaged file stops the run with one line."""
    try:
        yield from _state_rows(uri)
    except (OSError, ValueError, KeyError) as error:  # pyarrow's ArrowInvalid is a ValueError; IOError an OSError
        raise UnreadableLineage.of(uri, error) from error


def _state_rows(uri: str) -> Iterator[tuple[tuple[str, str], StateRow]]:
    parquet = pq.ParquetFile(io.BytesIO(read_all(uri)))
    present = [name for name in STATE_COLUMNS if name in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(columns=present, batch_size=10_000):
        for values in batch.to_pylist():
            row = StateRow(
                source_system=values["source_system"],
                document_id=values["document_id"],
                status=values["status"],
                recorded_at=values.get("recorded_at") or _EPOCH,
                run_id=values.get("run_id") or "",
                reference_sha256=values.get("reference_sha256"),
                source_bytes=values.get("source_bytes"),
                patient_key=values.get("patient_key"),
                content_sha256=values.get("content_sha256"),
            )
            yield row.key, row


def current(rows: Iterable[StateRow]) -> StateRow | None:
    """A document's latest recorded outcome, or None for a document no run has recorded."""
    return max(rows, key=lambda row: row.order, default=None)
