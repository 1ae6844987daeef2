"""Reading a finished run's own lineage back, for the launcher's checks and clean-up after the graph has run.

Only the columns asked for are read, file by file, so the launcher's memory is one file's columns, not the run.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import pyarrow.parquet as pq

from schemas.reasons import INFRASTRUCTURE_REASONS, Reason
from schemas.records import Status
from schemas.tables import DOCUMENTS, Table
from transforms.storage.listing import matched_paths
from transforms.storage.objects import read_all
from transforms.storage.output_layout import run_table_files_pattern
from transforms.storage.signed_files import Signature


def table_files(output_prefix: str, table: Table, migration_key: str, run_id: str) -> list[str]:
    return matched_paths(run_table_files_pattern(output_prefix, table.name, migration_key, run_id))


def count_rows(output_prefix: str, table: Table, migration_key: str, run_id: str) -> int:
    """Rows of one run's table, from the Parquet footers alone."""
    return sum(
        pq.ParquetFile(io.BytesIO(read_all(uri))).metadata.num_rows
        for uri in table_files(output_prefix, table, migration_key, run_id)
    )


def quarantined_documents(
    output_prefix: str, migration_key: str, run_id: str, key: bytes | None = None
) -> Iterator[tuple[str, str]]:
    """(source_system, document_id) of each document this run quarantined for a defect of its own: not for a store
    it could not read, and not a repeated id's later row (the id's record belongs to its first row). With the
    evidence key, only from files this run signed: an index record is retired on the run's own outcomes alone."""
    columns = ["source_system", "document_id", "status", "reasons"]
    keep_out = {*INFRASTRUCTURE_REASONS, Reason.DUPLICATE_DOCUMENT_ID}
    for uri in table_files(output_prefix, DOCUMENTS, migration_key, run_id):
        data = read_all(uri)
        if key is not None and not Signature.of(uri.rsplit("/", 1)[-1]).valid(key, hashlib.sha256(data).hexdigest()):
            continue
        for row in pq.read_table(io.BytesIO(data), columns=columns).to_pylist():
            if row["status"] == Status.QUARANTINED and not keep_out & set(row["reasons"] or ()):
                yield row["source_system"], row["document_id"]
