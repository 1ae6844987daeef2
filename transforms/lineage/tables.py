"""Lineage tables as Parquet under PREFIX/lineage/, named by the migration they describe.

File names carry a migration key (derived from the manifests) and the run id; once
a run has succeeded, the files of earlier runs of the same migration are removed,
so a re-run replaces its lineage instead of adding a second copy beside it.
"""

from __future__ import annotations

import datetime as dt

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from schemas.records import DocumentOutcome
from schemas.tables import DOCUMENTS, PAGES, TABLES, Table


def lineage_folder(output_prefix: str) -> str:
    return FileSystems.join(output_prefix, "lineage")


def table_prefix(output_prefix: str, table: Table, migration_key: str, run_id: str) -> str:
    return FileSystems.join(lineage_folder(output_prefix), f"{table.name}-{migration_key}-{run_id}")


def summary_uri(output_prefix: str, migration_key: str, run_id: str) -> str:
    """One summary per run: a later run, failing or not, never overwrites an earlier run's."""
    return FileSystems.join(lineage_folder(output_prefix), f"summary-{migration_key}-{run_id}.json")


def superseded_lineage_files(output_prefix: str, migration_key: str, run_id: str) -> list[str]:
    """Lineage files of earlier runs of the same migration: replaced once this run has passed every check."""
    stale = []
    for table in TABLES:
        pattern = FileSystems.join(lineage_folder(output_prefix), f"{table.name}-{migration_key}-*.parquet")
        for metadata in FileSystems.match([pattern])[0].metadata_list:
            if f"-{run_id}-" not in metadata.path.rsplit("/", 1)[-1]:
                stale.append(metadata.path)
    own_summary = summary_uri(output_prefix, migration_key, run_id)
    pattern = FileSystems.join(lineage_folder(output_prefix), f"summary-{migration_key}-*.json")
    stale += [m.path for m in FileSystems.match([pattern])[0].metadata_list if m.path != own_summary]
    return sorted(stale)


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
