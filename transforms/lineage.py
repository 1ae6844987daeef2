"""Lineage tables as Parquet under PREFIX/lineage/, named by the migration they describe.

File names carry a migration key (derived from the manifests) and the run id; once
a run has succeeded, the files of earlier runs of the same migration are removed,
so a re-run replaces its lineage instead of adding a second copy beside it.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from schemas.records import DocumentOutcome
from schemas.tables import DOCUMENTS, ORPHANS, PAGES, Table


def lineage_folder(output_prefix: str) -> str:
    return FileSystems.join(output_prefix, "lineage")


def table_prefix(output_prefix: str, table: Table, migration_key: str, run_id: str) -> str:
    return FileSystems.join(lineage_folder(output_prefix), f"{table.name}-{migration_key}-{run_id}")


def summary_uri(output_prefix: str, migration_key: str) -> str:
    return FileSystems.join(lineage_folder(output_prefix), f"summary-{migration_key}.json")


def superseded_lineage_files(output_prefix: str, migration_key: str, run_id: str) -> list[str]:
    """Lineage files of earlier runs of the same migration: replaced once this run has succeeded."""
    stale = []
    for table in (DOCUMENTS, PAGES, ORPHANS):
        pattern = FileSystems.join(lineage_folder(output_prefix), f"{table.name}-{migration_key}-*.parquet")
        for metadata in FileSystems.match([pattern])[0].metadata_list:
            if f"-{run_id}-" not in metadata.path.rsplit("/", 1)[-1]:
                stale.append(metadata.path)
    return sorted(stale)


class WriteParquetTable(beam.PTransform):
    def __init__(self, output_prefix: str, table: Table, migration_key: str, run_id: str) -> None:
        super().__init__()
        self.path_prefix = table_prefix(output_prefix, table, migration_key, run_id)
        self.table = table

    def expand(self, rows: beam.PCollection[dict]) -> beam.PCollection[str]:
        return rows | beam.io.WriteToParquet(
            self.path_prefix, self.table.arrow_schema(), file_name_suffix=".parquet", codec="zstd"
        )


class WriteLineage(beam.PTransform):
    """Outcomes → documents and pages tables."""

    def __init__(self, output_prefix: str, migration_key: str, run_id: str) -> None:
        super().__init__()
        self.output_prefix = output_prefix
        self.migration_key = migration_key
        self.run_id = run_id

    def expand(self, outcomes: beam.PCollection[DocumentOutcome]) -> dict[str, beam.PCollection[str]]:
        documents = outcomes | "DocumentRows" >> beam.Map(lambda outcome: outcome.document)
        pages = outcomes | "PageRows" >> beam.FlatMap(lambda outcome: outcome.pages)
        return {
            "documents": documents
            | "WriteDocuments" >> WriteParquetTable(self.output_prefix, DOCUMENTS, self.migration_key, self.run_id),
            "pages": pages
            | "WritePages" >> WriteParquetTable(self.output_prefix, PAGES, self.migration_key, self.run_id),
        }
