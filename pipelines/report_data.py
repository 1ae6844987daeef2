"""The report's data: a run's lineage tables in DuckDB, and the analyst queries over them."""

from __future__ import annotations

import io
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from schemas.tables import TABLES
from transforms.lineage import queries as analyst_queries
from transforms.lineage.tables import lineage_folder
from transforms.storage.objects import read_all


class ReportError(Exception):
    """No lineage to report on: one line for the command line."""


#: The report lists at most this many quarantined documents by name; the lineage has them all.
QUARANTINE_LINKS = 2000


def report_uri(prefix: str) -> str:
    return FileSystems.join(prefix, "report.html")


def load_lineage(prefix: str, *, required: bool = True) -> duckdb.DuckDBPyConnection:
    """Each lineage table under the name of its table (empty when the run wrote none); with required, no lineage
    at all is a ReportError. Files written before a column was added read as null in it (union by name).

    Local lineage is read by DuckDB in place (views over the Parquet files: streamed, out of core, so a
    235-million-page lineage is never loaded whole). gs:// lineage is copied in through FileSystems, because
    DuckDB's httpfs extension cannot be assumed on the machine that writes the report.
    """
    connection = duckdb.connect()
    folder = lineage_folder(prefix)
    found = False
    for table in TABLES:
        files = sorted(m.path for m in FileSystems.match([f"{folder}/{table.name}-*.parquet"])[0].metadata_list)
        found |= table.name == "documents" and bool(files)
        if files and "://" not in folder:
            listed = ", ".join("'" + uri.replace("'", "''") + "'" for uri in files)
            connection.execute(
                f"CREATE VIEW {table.name} AS SELECT * FROM read_parquet([{listed}], union_by_name = true)"
            )
            continue
        parts = [pq.read_table(io.BytesIO(read_all(uri)), schema=table.arrow_schema()) for uri in files]
        arrow = pa.concat_tables(parts) if parts else table.arrow_schema().empty_table()
        connection.register(f"{table.name}_arrow", arrow)
        connection.execute(f"CREATE TABLE {table.name} AS SELECT * FROM {table.name}_arrow")
    if required and not found:
        raise ReportError(f"no lineage under {folder}: run a migration into {prefix} first")
    return connection


def query(connection: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    sql = analyst_queries.text(name).replace("{documents}", "documents").replace("{pages}", "pages")
    result = connection.execute(sql.replace("{runs}", "runs"))
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result = connection.execute(sql)
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
