"""The analyst queries (schemas/queries/*.sql), runnable unchanged on DuckDB over the Parquet and on BigQuery.

Lineage is append-only history. A query names the current views as {documents} and {pages} (one row per
document: its latest outcome; the pages of documents currently migrated), and the history as {runs},
{documents_history} or {pages_history}. The views are SQL too (schemas/queries/views/), so both engines run the
same definition; the only thing that differs is where a table's rows come from.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from schemas import SCHEMAS_FOLDER
from transforms.storage.output_layout import table_history_pattern

FOLDER = SCHEMAS_FOLDER / "queries"
VIEWS = FOLDER / "views"
TABLE_NAMES = ("documents", "pages", "runs")
_PLACEHOLDER = re.compile(r"\{(documents|pages|runs|documents_history|pages_history)\}")


def names() -> list[str]:
    return sorted(path.stem for path in FOLDER.glob("*.sql"))


def text(name: str) -> str:
    return (FOLDER / f"{name}.sql").read_text(encoding="utf-8")


def view_text(name: str) -> str:
    return (VIEWS / f"{name}.sql").read_text(encoding="utf-8")


def expand(sql: str, table: Callable[[str], str]) -> str:
    """Every placeholder replaced: history names by `table(name)` (a table, file scan or view), current views by
    their definitions over that history, recursively."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name in ("documents", "pages"):
            return "(" + expand(_strip_comments(view_text(f"current_{name}")), table) + ")"
        return table(name.removesuffix("_history"))

    return _PLACEHOLDER.sub(replace, sql)


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


#: Columns the views need that lineage written by an earlier version lacks: read as null there.
_LATER_COLUMNS = {
    "documents": "CAST(NULL AS TIMESTAMPTZ) AS recorded_at, CAST(NULL AS VARCHAR[]) AS quarantine_files",
}


def with_later_columns(name: str, relation: str) -> str:
    """A DuckDB relation over one table's files, with the columns the views need even where every file predates
    them (lineage an earlier version wrote)."""
    if name not in _LATER_COLUMNS:
        return relation
    return f"(SELECT * FROM {relation} UNION ALL BY NAME SELECT {_LATER_COLUMNS[name]} WHERE FALSE)"


def for_duckdb(sql: str, lineage_folder: str) -> str:
    def table(name: str) -> str:
        pattern = table_history_pattern(lineage_folder, name).replace("'", "''")
        return with_later_columns(name, f"read_parquet('{pattern}', union_by_name = true)")

    return expand(sql, table)


def for_bigquery(sql: str, dataset: str) -> str:
    """dataset is PROJECT.DATASET, whose tables hold every run's rows: the views choose the current ones."""
    return expand(sql, lambda name: f"`{dataset}.{name}`")
