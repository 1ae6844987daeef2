"""Lineage rows → Parquet files written once, each named by the rows it holds.

Beam's own Parquet sink writes temporary files and renames them into place, a copy and a delete; under a bucket
retention policy (the preflight asks for one) the delete is refused. Here each bundle's rows (in files of at most
ROWS_PER_FILE) go straight to their final name, derived from the rows themselves: a retried bundle finds its file
there and keeps it (write_once), so the table neither loses nor doubles a row and nothing is ever replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue

from schemas.tables import Table
from transforms.storage.emulators import StorageDoFn
from transforms.storage.output_layout import table_file
from transforms.storage.signed_files import SigningKey, write_signed_once

#: Rows per file: a few MiB of lineage, so a worker holds little and a table of millions of rows is a few files.
ROWS_PER_FILE = 20_000


def parquet_bytes(table: Table, rows: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=table.arrow_schema()), buffer, compression="zstd")
    return buffer.getvalue()


def rows_name(rows: list[dict[str, Any]]) -> str:
    """A name for a set of rows, whatever their order: the same rows, the same name."""
    digest = hashlib.sha256()
    for line in sorted(repr(sorted(row.items())) for row in rows):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:20]


class WriteTableFilesFn(StorageDoFn):
    """Rows of one table in; the URI of each file written (or found already written) out."""

    def __init__(
        self,
        path_prefix: str,
        table: Table,
        run_date: dt.date,
        rows_per_file: int = ROWS_PER_FILE,
        signing: SigningKey | None = None,
    ) -> None:
        self.path_prefix = path_prefix
        self.table = table
        self.run_date = run_date
        self.rows_per_file = max(1, rows_per_file)
        self.signing = signing  # where the evidence key is (fetched in setup(), never pickled): files are signed

    def setup(self) -> None:
        super().setup()
        self.key = self.signing.key() if self.signing is not None else None

    def start_bundle(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def process(self, row: dict[str, Any]) -> Iterator[str]:
        self.rows.append({**row, "run_date": self.run_date})
        if len(self.rows) >= self.rows_per_file:
            yield self._flush()

    def finish_bundle(self) -> Iterator[WindowedValue]:
        if self.rows:
            yield GlobalWindows.windowed_value(self._flush())

    def _flush(self) -> str:
        rows, self.rows = self.rows, []
        uri = table_file(self.path_prefix, rows_name(rows))
        return write_signed_once(uri, parquet_bytes(self.table, rows), getattr(self, "key", None))
