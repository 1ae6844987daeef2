"""The manifests and the current lineage side by side in DuckDB: what `status` and `reconcile` both read.

Tables and views on the connection:
- documents_history, runs, … (history, from evidence.lineage_db.load_lineage) and current_documents, current_pages (the
  shared view SQL, schemas/queries/views: one definition of "current");
- manifest_documents: one row per manifest document (source_system, document_id, manifest_uri, manifest_row,
  reference_sha256, blobs, repeated). Page-per-row rows are assembled by the pipeline's own assemble_pages and a
  repeated id's later rows are marked as the pipeline marks them, so reference_sha256 is what a run records;
- access_log (with --access_log) and gone_documents (done documents whose legacy bytes are gone).
Manifests are streamed into DuckDB in batches (it spills to disk), never held as one Python dict of every key.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from itertools import groupby

import duckdb
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.console.usage import UsageError
from pipelines.evidence.lineage_db import load_lineage
from pipelines.launch.plan import check_sources, local_identifiers, plan_from
from schemas.records import DocumentRef
from transforms.privacy.key_source import PatientKeyError, load_key
from transforms.privacy.patient_key import ENV_VAR, choose_key_ref, default_key_path
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.selection.access_log import check_access_log, read_access_log
from transforms.selection.state import history_files
from transforms.sources.errors import ManifestError
from transforms.sources.layouts.page_per_row import assemble_pages
from transforms.sources.paths import absolute
from transforms.sources.profiles import SourceProfile
from transforms.sources.read import iter_source_refs
from transforms.storage.listing import FOLDER_ORDER, sizes
from transforms.storage.output_layout import lineage_folder, table_history_pattern

_LOGGER = logging.getLogger("edms_migrate")
BATCH = 50_000
#: DuckDB's memory for status and reconcile; beyond it, sorts and joins spill to disk.
MEMORY_LIMIT = "512MB"
_DOCUMENTS = pa.schema(
    [
        ("source_system", pa.string()),
        ("document_id", pa.string()),
        ("manifest_uri", pa.string()),
        ("manifest_row", pa.int64()),
        ("reference_sha256", pa.string()),
        ("blobs", pa.list_(pa.string())),
    ]
)
_ACCESS = pa.schema([("source_system", pa.string()), ("document_id", pa.string()), ("access_count", pa.int64())])
_BIGINT_MAX = (1 << 63) - 1
_PAGE_ROWS = pa.schema(
    [
        ("source_system", pa.string()),
        ("document_id", pa.string()),
        ("manifest_uri", pa.string()),
        ("manifest_row", pa.int64()),
        ("page_number", pa.int64()),
        ("blob_uri", pa.string()),
        ("byte_offset", pa.int64()),
        ("byte_length", pa.int64()),
    ]
)


def open_lineage(prefix: str) -> duckdb.DuckDBPyConnection:
    """The lineage under prefix (none yet is fine: every document is then outstanding) and its current views.

    Tables made here go into a scratch database file, not memory: DuckDB keeps an in-memory table's blocks in
    memory, and manifests of 235 million documents do not fit. Memory is capped; sorts and joins spill beside it.
    """
    connection = load_lineage(prefix, required=False)
    for name in ("documents", "pages"):
        connection.execute(f"CREATE VIEW current_{name} AS SELECT * FROM {name}")  # load_lineage's current views
    folder = tempfile.mkdtemp(prefix="edms-migrate-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    connection.execute(f"ATTACH '{os.path.join(folder, 'scratch.duckdb')}' AS scratch")
    connection.execute(f"SET temp_directory = '{folder}'")
    connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    connection.execute("SET preserve_insertion_order = false")
    _use_scratch(connection)
    return connection


def _use_scratch(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """New tables in the scratch file; names found there, then among the lineage views."""
    connection.execute("USE scratch")
    connection.execute("SET search_path = 'scratch.main,memory.main'")
    return connection


def cursor(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second cursor (to stream one result while writing another), seeing what the connection sees."""
    return _use_scratch(connection.cursor())


class Batches:
    """Rows in, Arrow batches inserted into one DuckDB table every BATCH rows."""

    def __init__(
        self, connection: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema, batch: int = BATCH
    ) -> None:
        self.connection, self.table, self.schema, self.batch = connection, table, schema, batch
        self.rows: list[tuple] = []
        connection.register("_empty", schema.empty_table())
        connection.execute(f"CREATE TABLE {table} AS SELECT * FROM _empty")
        connection.unregister("_empty")

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            columns = list(zip(*self.rows, strict=True))
            batch = pa.table([pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)], self.schema)
            self.connection.register("_batch", batch)
            self.connection.execute(f"INSERT INTO {self.table} SELECT * FROM _batch")
            self.connection.unregister("_batch")
            self.rows = []


def _document_row(ref: DocumentRef) -> tuple:
    blobs = [page.blob_uri for page in ref.page_blobs] if ref.page_blobs else [ref.blob_uri] if ref.blob_uri else []
    return (ref.source_system, ref.document_id, ref.manifest_uri, ref.manifest_row, ref.reference_sha256, blobs)


def load_manifests(
    connection: duckdb.DuckDBPyConnection,
    sources: Iterable[tuple[SourceProfile, str]],
    pseudonyms: Pseudonyms | None = None,
) -> int:
    """Every manifest document into manifest_documents, keyed as lineage keys it (identifiers in a source system
    or id pseudonymised, as the run's reading step does); returns the rows (index rows or records) read."""
    documents = Batches(connection, "manifest_rows", _DOCUMENTS)
    pages = Batches(connection, "page_rows", _PAGE_ROWS)
    read, last_log = 0, time.monotonic()
    for profile, manifest in sources:
        for legacy in iter_source_refs(profile, manifest):
            ref = pseudonyms.ref(legacy) if pseudonyms else legacy
            read += 1
            if ref.page_number is None:
                documents.add(_document_row(ref))
            else:
                pages.add((*_document_row(ref)[:4], ref.page_number, ref.blob_uri, ref.offset, ref.length))
            if time.monotonic() - last_log > 10:
                _LOGGER.info("manifests: %d row(s) read", read)
                last_log = time.monotonic()
    pages.flush()
    for ref in _assembled(connection):
        documents.add(_document_row(ref))
    documents.flush()
    connection.execute(
        "CREATE TABLE manifest_documents AS SELECT *, ROW_NUMBER() OVER (PARTITION BY source_system, document_id "
        "ORDER BY manifest_uri, manifest_row) > 1 AS repeated FROM manifest_rows"
    )
    connection.execute("DROP TABLE manifest_rows; DROP TABLE page_rows")
    _LOGGER.info("manifests: %d row(s) read", read)
    return read


def _assembled(connection: duckdb.DuckDBPyConnection) -> Iterator[DocumentRef]:
    """Page rows of each (source_system, document_id), one document at a time, assembled as the pipeline does."""
    reader = cursor(connection)
    reader.execute("SELECT * FROM page_rows ORDER BY source_system, document_id")
    rows: Iterator[tuple] = iter(lambda: reader.fetchmany(BATCH), [])
    flat = (row for chunk in rows for row in chunk)
    for _, group in groupby(flat, key=lambda row: (row[0], row[1])):
        refs = [
            DocumentRef(s, d, uri, number, blob_uri=blob, offset=offset, length=length, page_number=page)
            for s, d, uri, number, page, blob, offset, length in group
        ]
        yield assemble_pages(refs)


def lineage_as_inventory(connection: duckdb.DuckDBPyConnection) -> None:
    """Without manifests: the documents some run has recorded stand in for them (nothing unread is counted). A
    location lineage holds pseudonymised is no path to look at: its source is not checked."""
    connection.execute(
        "CREATE TABLE manifest_documents AS SELECT source_system, document_id, manifest_uri, manifest_row, "
        "reference_sha256, CASE WHEN blob_uri IS NULL OR regexp_matches(blob_uri, 'pid_[a-p]{20}') THEN [] "
        "ELSE [blob_uri] END AS blobs, FALSE AS repeated "
        "FROM current_documents"
    )


def load_access_log(connection: duckdb.DuckDBPyConnection, uri: str, pseudonyms: Pseudonyms | None = None) -> None:
    """ACCESS.csv → access_log, one row per document, read as `run` reads it (transforms/selection/access_log.py):
    the same counts, so status's tiers and run's ranking agree (counts beyond BIGINT are held at its maximum), and
    keyed as the manifests are (pseudonymised where they are)."""
    try:
        check_access_log(uri)
        log = Batches(connection, "access_rows", _ACCESS)
        for (source_system, document_id), access in read_access_log(uri):
            if pseudonyms is not None:
                source_system, document_id = pseudonyms.value(source_system), pseudonyms.value(document_id)
            log.add((source_system, document_id, min(access.count, _BIGINT_MAX)))
        log.flush()
    except ManifestError as error:
        raise UsageError(str(error)) from error
    connection.execute(
        "CREATE TABLE access_log AS SELECT source_system, document_id, MAX(access_count) AS access_count "
        "FROM access_rows GROUP BY ALL"
    )


def find_gone_sources(connection: duckdb.DuckDBPyConnection) -> int:
    """gone_documents: manifest documents currently migrated or duplicate whose legacy bytes can no longer be
    found (any of their blobs). They stay as they are: the source going is not a defect of the migration."""
    reader = cursor(connection)
    reader.execute(
        "SELECT DISTINCT blob FROM (SELECT UNNEST(m.blobs) AS blob FROM manifest_documents AS m "
        "JOIN current_documents AS c USING (source_system, document_id) "
        "WHERE NOT m.repeated AND c.status IN ('migrated', 'duplicate')) "
        f"ORDER BY {FOLDER_ORDER.format('blob')}"
    )
    blobs = (row[0] for chunk in iter(lambda: reader.fetchmany(BATCH), []) for row in chunk)
    gone = Batches(connection, "gone_blobs", pa.schema([("blob", pa.string())]))
    for uri, size in sizes(blobs):
        if size is None:
            gone.add((uri,))
    gone.flush()
    connection.execute(
        "CREATE TABLE gone_documents AS SELECT DISTINCT source_system, document_id FROM "
        "(SELECT source_system, document_id, UNNEST(blobs) AS blob FROM manifest_documents WHERE NOT repeated) "
        "JOIN gone_blobs USING (blob) JOIN current_documents AS c USING (source_system, document_id) "
        "WHERE c.status IN ('migrated', 'duplicate')"
    )
    [(count,)] = connection.execute("SELECT COUNT(*) FROM gone_documents").fetchall()
    return count


def plan_sources(
    output: str, manifests: list[str] | None, profiles: list[str] | None
) -> tuple[str, tuple, tuple[str, ...]]:
    """(absolute output, (profile, index file) pairs, index files) as `run` would resolve and check them."""
    manifests, profiles = manifests or [], profiles or []
    if not manifests and not profiles:
        return absolute(output).rstrip("/"), (), ()
    argv = [*(x for m in manifests for x in ("--manifest", m)), *(x for p in profiles for x in ("--source", p))]
    plan = plan_from(PipelineOptions([*argv, "--output", output]))
    check_sources(plan)
    return plan.output, plan.sources, plan.manifests


def holds_migration(prefix: str) -> bool:
    """Whether any run has written lineage under prefix (a mistyped --output has none)."""
    patterns = [table_history_pattern(lineage_folder(prefix), name) for name in ("runs", "documents")]
    return any(result.metadata_list for result in FileSystems.match(patterns))


def operator_pseudonyms(args: argparse.Namespace, sources: tuple, prefix: str) -> Pseudonyms:
    """The run's pseudonyms for status and reconcile: the same key (--patient_key_file, --patient_key_secret,
    $EDMS_PATIENT_KEY or the local default) and the profiles' local_identifiers. With --show_identifiers it also
    collects pseudonym → identifier from the manifests it reads (the legacy export: restricted) for reveal()."""
    given = args.patient_key_file or args.patient_key_secret or os.environ.get(ENV_VAR)
    if not given and not default_key_path().exists() and history_files(prefix):  # a new key: other pseudonyms
        raise UsageError(
            f"no patient key: pass the run's --patient_key_file or --patient_key_secret, or set ${ENV_VAR}"
        )
    try:
        ref = choose_key_ref(args.patient_key_file, args.patient_key_secret, None)
        key = load_key(ref)
    except PatientKeyError as error:
        raise UsageError(str(error)) from error
    return Pseudonyms(key, local_identifiers(list(sources)), {} if args.show_identifiers else None)
