"""Lineage tables as Parquet under PREFIX/lineage/, named by the migration and the run they describe.

Append-only history: no run deletes or rewrites another run's files. A document's current outcome is its latest
row, chosen by the current views (schemas/queries/views), so a document re-run three times is counted once.
"""

from __future__ import annotations

import datetime as dt

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from schemas.records import RecordedOutcome, Status
from schemas.tables import DOCUMENTS, PAGES, Table
from transforms.lineage.duplicate_rows import journalled_duplicates, settled_row
from transforms.lineage.table_files import WriteTableFilesFn
from transforms.privacy.key_source import PatientKeyRef


def lineage_folder(output_prefix: str) -> str:
    return FileSystems.join(output_prefix, "lineage")


def table_prefix(output_prefix: str, table: Table, migration_key: str, run_id: str) -> str:
    return FileSystems.join(lineage_folder(output_prefix), f"{table.name}-{migration_key}-{run_id}")


def summary_uri(output_prefix: str, migration_key: str, run_id: str) -> str:
    """One summary per run: a later run, failing or not, never overwrites an earlier run's. Its unsigned name: the
    file itself carries a MAC in its name (evidence_key.signed_files finds it)."""
    return FileSystems.join(lineage_folder(output_prefix), f"summary-{migration_key}-{run_id}.json")


def journal_files(output_prefix: str, table: Table, migration_key: str, run_id: str) -> list[str]:
    """The files a run's journal wrote for one table (see journal.py): what its BigQuery load takes."""
    pattern = table_prefix(output_prefix, table, migration_key, run_id) + "-j*.parquet"
    return sorted(metadata.path for metadata in FileSystems.match([pattern])[0].metadata_list)


class WriteParquetTable(beam.PTransform):
    """Rows of one lineage table → its Parquet files, each row stamped with the run's date (the partition column).

    Written directly, once, as the journal writes (table_files.py), not through Beam's file sink: that sink writes
    temporary files and renames them (a copy and a delete), which a bucket under a retention policy refuses."""

    def __init__(
        self,
        output_prefix: str,
        table: Table,
        migration_key: str,
        run_id: str,
        run_date: dt.date,
        key: PatientKeyRef | None = None,
    ) -> None:
        super().__init__()
        self.fn = WriteTableFilesFn(table_prefix(output_prefix, table, migration_key, run_id), table, run_date, key=key)

    def expand(self, rows: beam.PCollection[dict]) -> beam.PCollection[str]:
        return rows | "WriteFiles" >> beam.ParDo(self.fn)


class WriteLineage(beam.PTransform):
    """The run's documents and pages tables, as files: the per-document step's journal already holds every
    migrated and quarantined row; here the rows de-duplication changed are appended (recorded later, so they are
    the documents' current rows: duplicate_rows.py), and the journal's files are listed once every outcome is in,
    for the BigQuery load. Yields each table's file names."""

    def __init__(
        self, output_prefix: str, migration_key: str, run_id: str, run_date: dt.date, key: PatientKeyRef | None = None
    ) -> None:
        super().__init__()
        self.key = key
        self.output_prefix = output_prefix
        self.migration_key = migration_key
        self.run_id = run_id
        self.run_date = run_date

    def expand(self, inputs: tuple[beam.PCollection[RecordedOutcome], ...]) -> dict[str, beam.PCollection[str]]:
        final, settled = inputs
        prefix, key, run_id = self.output_prefix, self.migration_key, self.run_id
        duplicates = (
            final
            | "Duplicates" >> beam.Filter(lambda outcome: outcome.status == Status.DUPLICATE)
            | "ByDocument" >> beam.Map(lambda outcome: (outcome.key, outcome.duplicate_of))
        )
        everything_in = final | "AllOutcomesIn" >> beam.combiners.Count.Globally()
        journalled = everything_in | "JournalDocuments" >> beam.FlatMap(
            lambda _: journal_files(prefix, DOCUMENTS, key, run_id)
        )
        changed = (
            journalled
            | "SpreadJournal" >> beam.Reshuffle()
            | "DuplicateRows" >> beam.FlatMap(journalled_duplicates, beam.pvalue.AsDict(duplicates)),
            settled | "SettledRows" >> beam.Map(settled_row, run_id),
        ) | "ChangedRows" >> beam.Flatten()
        written = changed | "WriteDuplicates" >> WriteParquetTable(
            prefix, DOCUMENTS, key, run_id, self.run_date, self.key
        )
        return {
            "documents": (written, journalled) | "DocumentFiles" >> beam.Flatten(),
            "pages": everything_in
            | "JournalPages" >> beam.FlatMap(lambda _: journal_files(prefix, PAGES, key, run_id)),
        }
