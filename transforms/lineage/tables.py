"""Lineage tables as Parquet under PREFIX/lineage/, named by the migration they describe.

File names carry a migration key (derived from the manifests) and the run id. Lineage is append-only history:
an earlier run's files are never removed (each runs row seals them, transforms/lineage/chain.py), and the current
views (schemas/queries/views) choose each document's latest row.
"""

from __future__ import annotations

import datetime as dt

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from schemas.records import DocumentOutcome
from schemas.tables import DOCUMENTS, PAGES, Table


def lineage_folder(output_prefix: str) -> str:
    return FileSystems.join(output_prefix, "lineage")


def table_prefix(output_prefix: str, table: Table, migration_key: str, run_id: str) -> str:
    return FileSystems.join(lineage_folder(output_prefix), f"{table.name}-{migration_key}-{run_id}")


def summary_uri(output_prefix: str, migration_key: str, run_id: str) -> str:
    """One summary per run: a later run, failing or not, never overwrites an earlier run's."""
    return FileSystems.join(lineage_folder(output_prefix), f"summary-{migration_key}-{run_id}.json")


class WriteParquetTable(beam.PTransform):
    """Rows of one lineage table → its Parquet files, each row stamped with the run's date (the partition column)."""

    def __init__(self, output_prefix: str, table: Table, migration_key: str, run_id: str, run_date: dt.date) -> None:
        super().__init__()
        self.path_prefix = table_prefix(output_prefix, table, migration_key, run_id)
        self.table = table
        self.run_date = run_date

    def expand(self, rows: beam.PCollection[dict]) -> beam.PCollection[str]:
        return (
            rows
            | "StampRunDate" >> beam.Map(stamp_run_date, self.run_date)
            | beam.io.WriteToParquet(
                self.path_prefix, self.table.arrow_schema(), file_name_suffix=".parquet", codec="zstd"
            )
        )


def stamp_run_date(row: dict, run_date: dt.date) -> dict:
    return {**row, "run_date": run_date}


class WriteLineage(beam.PTransform):
    """Outcomes → documents and pages tables; yields each table's written file names."""

    def __init__(self, output_prefix: str, migration_key: str, run_id: str, run_date: dt.date) -> None:
        super().__init__()
        self.output_prefix = output_prefix
        self.migration_key = migration_key
        self.run_id = run_id
        self.run_date = run_date

    def expand(self, outcomes: beam.PCollection[DocumentOutcome]) -> dict[str, beam.PCollection[str]]:
        documents = outcomes | "DocumentRows" >> beam.Map(lambda outcome: outcome.document)
        pages = outcomes | "PageRows" >> beam.FlatMap(lambda outcome: outcome.pages)
        prefix, key, run_id = self.output_prefix, self.migration_key, self.run_id
        return {
            "documents": documents
            | "WriteDocuments" >> WriteParquetTable(prefix, DOCUMENTS, key, run_id, self.run_date),
            "pages": pages | "WritePages" >> WriteParquetTable(prefix, PAGES, key, run_id, self.run_date),
        }
