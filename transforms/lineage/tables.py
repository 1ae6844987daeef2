"""Lineage tables as Parquet under PREFIX/lineage/, named by the migration and the run they describe.

Append-only history: no run deletes or rewrites another run's files. A document's current outcome is its latest
row, chosen by the current views (schemas/queries/views), so a document re-run three times is counted once.
"""

from __future__ import annotations

import datetime as dt

import apache_beam as beam

from schemas.records import RecordedOutcome, Status
from schemas.tables import DOCUMENTS, PAGES, Table
from transforms.dedupe.duplicate_rows import journalled_duplicates, settled_row
from transforms.storage.listing import matched_paths
from transforms.storage.output_layout import journal_files_pattern, table_prefix
from transforms.storage.signed_files import SigningKey
from transforms.storage.table_files import WriteTableFilesFn


def journal_files(output_prefix: str, table: Table, migration_key: str, run_id: str) -> list[str]:
    """The files a run's journal wrote for one table (migrate/journal.py): what its BigQuery load takes."""
    return matched_paths(journal_files_pattern(output_prefix, table.name, migration_key, run_id))


class WriteParquetTable(beam.PTransform):
    """Rows of one lineage table → its Parquet files, each row stamped with the run's date (the partition column).

    Written directly, once, as the journal writes (storage/table_files.py), not through Beam's file sink: that sink
    writes temporary files and renames them (a copy and a delete), which a bucket under a retention policy refuses."""

    def __init__(
        self,
        output_prefix: str,
        table: Table,
        migration_key: str,
        run_id: str,
        run_date: dt.date,
        key: SigningKey | None = None,
    ) -> None:
        super().__init__()
        self.fn = WriteTableFilesFn(
            table_prefix(output_prefix, table.name, migration_key, run_id), table, run_date, signing=key
        )

    def expand(self, rows: beam.PCollection[dict]) -> beam.PCollection[str]:
        return rows | "WriteFiles" >> beam.ParDo(self.fn)


class WriteLineage(beam.PTransform):
    """The run's documents and pages tables, as files: the per-document step's journal already holds every
    migrated and quarantined row; here the rows de-duplication changed are appended (recorded later, so they are
    the documents' current rows: duplicate_rows.py), and the journal's files are listed once every outcome is in,
    for the BigQuery load. Yields each table's file names."""

    def __init__(
        self, output_prefix: str, migration_key: str, run_id: str, run_date: dt.date, key: SigningKey | None = None
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
