"""The analyst queries (schemas/queries/*.sql), runnable unchanged on DuckDB over the Parquet and on BigQuery.

A query names its tables as {documents}, {pages} or {runs}; that placeholder is the only
thing that differs between engines. On DuckDB it reads the Parquet files of PREFIX/lineage
(which hold the latest run of each migration, earlier ones being replaced); on BigQuery,
where every run appends, it is the table limited to the latest run of each migration.
"""

from __future__ import annotations

import re

from schemas import SCHEMAS_FOLDER

FOLDER = SCHEMAS_FOLDER / "queries"
TABLE_NAMES = ("documents", "pages", "runs")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(TABLE_NAMES) + r")\}")


def names() -> list[str]:
    return sorted(path.stem for path in FOLDER.glob("*.sql"))


def text(name: str) -> str:
    return (FOLDER / f"{name}.sql").read_text(encoding="utf-8")


def for_duckdb(sql: str, lineage_folder: str) -> str:
    def table(match: re.Match) -> str:
        pattern = f"{lineage_folder.rstrip('/')}/{match.group(1)}-*.parquet".replace("'", "''")
        return f"read_parquet('{pattern}')"

    return _PLACEHOLDER.sub(table, sql)


def for_bigquery(sql: str, dataset: str) -> str:
    """dataset is PROJECT.DATASET; rows of earlier runs of the same migration are left out."""
    latest = (
        f"SELECT run_id FROM (SELECT run_id, ROW_NUMBER() OVER (PARTITION BY migration_key ORDER BY finished_at DESC)"
        f" AS newest FROM `{dataset}.runs`) WHERE newest = 1"
    )

    def table(match: re.Match) -> str:
        return f"(SELECT * FROM `{dataset}.{match.group(1)}` WHERE run_id IN ({latest}))"

    return _PLACEHOLDER.sub(table, sql)
