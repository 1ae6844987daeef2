"""The lineage under a prefix read back: its tables in DuckDB, and the analyst queries over them.

What the report, `status` and `reconcile` read; it writes nothing.
"""

from __future__ import annotations

import io
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.tables import TABLES, Table
from transforms.lineage import queries as analyst_queries
from transforms.storage.listing import matched_paths
from transforms.storage.objects import read_all
from transforms.storage.output_layout import lineage_folder, table_history_pattern


class ReportError(Exception):
    """No lineage to report on: one line for the command line."""


def load_lineage(prefix: str, *, required: bool = True) -> duckdb.DuckDBPyConnection:
    """Each table's history as <table>_history, and under the table's own name what an analyst reads: the
    current views for documents and pages (each document's latest outcome), the history for the others. With
    required, no lineage at all is a ReportError.

    Local lineage is read by DuckDB in place (views over the Parquet files: streamed, out of core, so a
    235-million-page lineage is never loaded whole). gs:// lineage is copied in through FileSystems, because
    DuckDB's httpfs extension cannot be assumed on the machine that writes the report.
    """
    connection = duckdb.connect()
    folder = lineage_folder(prefix)
    found = False
    for table in TABLES:
        files = matched_paths(table_history_pattern(folder, table.name))
        found |= table.name == "documents" and bool(files)
        history = f"{table.name}_history"
        if files and "://" not in folder:
            listed = ", ".join("'" + uri.replace("'", "''") + "'" for uri in files)
            files_sql = analyst_queries.with_later_columns(
                table.name, f"read_parquet([{listed}], union_by_name = true)"
            )
            connection.execute(f"CREATE VIEW {history} AS SELECT * FROM {files_sql}")
        else:
            connection.register(f"{table.name}_arrow", read_arrow(table, files))
            connection.execute(f"CREATE TABLE {history} AS SELECT * FROM {table.name}_arrow")
    if required and not found:
        raise ReportError(f"no lineage under {folder}: run a migration into {prefix} first")
    for table in TABLES:
        source = f"{{{table.name}}}" if table.name in ("documents", "pages") else f"{table.name}_history"
        connection.execute(f"CREATE VIEW {table.name} AS SELECT * FROM {history_sql(source)}")
    return connection


def read_arrow(table: Table, files: list[str]) -> pa.Table:
    """Files of any age as one Arrow table of today's schema (columns a file predates read as nulls)."""
    schema = table.arrow_schema()
    parts = [pq.read_table(io.BytesIO(read_all(uri))) for uri in files]
    rows = [row for part in parts for row in part.to_pylist()]
    return pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()


def history_sql(sql: str) -> str:
    """An analyst query or view over the tables load_lineage made."""
    return analyst_queries.expand(sql, lambda name: f"{name}_history")


def query(connection: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    result = connection.execute(history_sql(analyst_queries.text(name)))
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result = connection.execute(sql)
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
