"""Lineage recorded as the job goes: a job killed at any moment keeps every document it finished.

The per-document step hands each outcome to a journal, which writes the rows of every few hundred documents
(and of each bundle's end) as Parquet files of the run's documents and pages tables. A re-run reads them as it
reads any lineage, so it redoes only the work that was in flight. A file's name derives from the launch (an attempt
token of its own, so a later launch can never find an earlier one's file and keep it in place of its own rows) and
the rows' documents, so a retried bundle finds its own file already there and keeps it (write_once) rather than
adding a second copy or replacing the first. Each file is signed with the evidence key (evidence_key.py).

The same flush writes the documents' EDMS records to the restricted EDMS journal first (transforms/edms/journal.py),
so a documents row never exists without its record: a run that resumes a killed one writes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from schemas.records import DocumentOutcome, Status
from schemas.tables import DOCUMENTS, PAGES, Table
from transforms.edms.journal import journal_bytes
from transforms.edms.record import EdmsRecord
from transforms.storage.output_layout import edms_journal_file, journal_file, table_prefix
from transforms.storage.signed_files import write_signed_once
from transforms.storage.table_files import parquet_bytes

#: Rows a journal holds before it writes them: a kill loses at most this many documents' work per worker.
DEFAULT_JOURNAL_ROWS = 200


@dataclass(frozen=True)
class JournalSettings:
    """Where a run's journal goes; None in the settings (unit tests of the step alone) records nothing."""

    output_prefix: str
    migration_key: str
    run_id: str
    run_date: dt.date
    rows: int = DEFAULT_JOURNAL_ROWS
    attempt: str = ""  # unique per launch (the plan makes it): two launches never share a journal file's name
    records_prefix: str = ""  # where the EDMS journal goes (restricted: --index_output's); "" keeps none

    def open(self, key: bytes | None = None) -> LineageJournal:
        """key: the evidence key (evidence_key.py) its files are signed with; None signs nothing."""
        journal = LineageJournal(self.output_prefix, self.migration_key, self.run_id, self.run_date, self.rows)
        journal.attempt, journal.key = self.attempt, key
        journal.records_prefix = self.records_prefix
        return journal


class LineageJournal:
    """Documents and pages rows of one DoFn instance, written in small Parquet files as they accumulate."""

    def __init__(self, output_prefix: str, migration_key: str, run_id: str, run_date: dt.date, rows: int) -> None:
        self.prefixes = {
            table.name: table_prefix(output_prefix, table.name, migration_key, run_id) for table in (DOCUMENTS, PAGES)
        }
        self.run_date = run_date
        self.limit = max(1, rows)
        self.documents: list[dict[str, Any]] = []
        self.pages: list[dict[str, Any]] = []
        self.records: list[EdmsRecord] = []
        self.records_prefix, self.run_id = "", run_id
        self.written: list[str] = []
        self.attempt = ""
        self.key: bytes | None = None

    def record(self, outcome: DocumentOutcome) -> None:
        self.documents.append({**outcome.document, "run_date": self.run_date})
        self.pages += [{**page, "run_date": self.run_date} for page in outcome.pages]
        record = outcome.edms
        if record is not None and record.packed is not None and outcome.document["status"] == Status.MIGRATED:
            self.records.append(record)
        if len(self.documents) >= self.limit:
            self.flush()

    def flush(self) -> None:
        """Write what is held (records and pages first: a documents row never points at what was not kept)."""
        if not self.documents:
            return
        keys = sorted(f"{row['source_system']}\0{row['document_id']}" for row in self.documents)
        name = self.attempt + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:20]
        if self.records and self.records_prefix:
            uri = edms_journal_file(self.records_prefix, self.run_id, name)
            self.written.append(write_signed_once(uri, journal_bytes(self.records), self.key))
        if self.pages:
            self._write(PAGES, self.pages, name)
        self._write(DOCUMENTS, self.documents, name)
        self.documents, self.pages, self.records = [], [], []

    def _write(self, table: Table, rows: list[dict[str, Any]], name: str) -> None:
        uri = journal_file(self.prefixes[table.name], name)
        self.written.append(write_signed_once(uri, parquet_bytes(table, rows), self.key))
