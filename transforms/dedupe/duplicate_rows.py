"""The documents rows de-duplication changes, built without carrying any row through a shuffle.

A duplicate found in this run already has its migrated row in the run's journal (transforms/migrate/journal.py):
its duplicate row is that row read back, marked a duplicate and recorded later, so it is the document's current
row. Only (document, canonical) pairs travel, as a side input, and no file is read when the run found no
duplicate. An earlier run's document settled now (resolve.LATE) gets a row of its own, built from the few fields
de-duplication knows. A document a retried bundle journalled twice gets its duplicate row twice; the current
view reads them as one, as it reads the journal's two migrated rows.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow.parquet as pq

from schemas.records import RecordedOutcome, Status
from schemas.tables import DOCUMENTS
from transforms.storage.objects import read_all

_KEY_COLUMNS = ["source_system", "document_id"]


def journalled_duplicates(uri: str, duplicates: Mapping[tuple[str, str], str]) -> Iterator[dict[str, Any]]:
    """The rows of one journal documents file whose document is a duplicate, marked as such. The key columns are
    read first, and the whole file only when one of them matches."""
    if not duplicates:
        return
    data = read_all(uri)
    keys = pq.read_table(io.BytesIO(data), columns=_KEY_COLUMNS).to_pylist()
    if not any((key["source_system"], key["document_id"]) in duplicates for key in keys):
        return
    now = dt.datetime.now(dt.UTC)
    for row in pq.read_table(io.BytesIO(data)).to_pylist():
        canonical = duplicates.get((row["source_system"], row["document_id"]))
        if canonical is not None:
            yield {**row, "status": Status.DUPLICATE, "duplicate_of": canonical, "recorded_at": now}


def settled_row(outcome: RecordedOutcome, run_id: str) -> dict[str, Any]:
    """An earlier run's document found a duplicate of another earlier one: the row that records it."""
    return DOCUMENTS.row(
        run_id=run_id,
        source_system=outcome.source_system,
        document_id=outcome.document_id,
        status=outcome.status,
        duplicate_of=outcome.duplicate_of,
        patient_key=outcome.patient_key,
        content_sha256=outcome.content_sha256,
        reference_sha256=outcome.reference_sha256,
        source_bytes=outcome.source_bytes or None,
        recorded_at=dt.datetime.now(dt.UTC),
    )
