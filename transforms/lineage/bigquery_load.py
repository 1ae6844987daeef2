"""Load the run's Parquet into BigQuery with load jobs, inside the pipeline.

Load jobs, not streaming inserts: free, atomic per file, and they read the very files
the Parquet lineage already is. Each job's id derives from the run, the table and the
file, so a retried bundle finds its job (running or done) and waits for it instead of
loading the file a second time. Tables are created when missing, partitioned by
run_date and clustered as schemas/tables.py says. Running inside the pipeline (after
every Parquet write has finished) means it works the same on Dataflow as locally.
BIGQUERY_EMULATOR_HOST points the client at a local emulator (tests, offline trials).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from schemas.tables import TABLES_BY_NAME, Table
from transforms.lineage import queries

_LOGGER = logging.getLogger(__name__)
_DATASET = re.compile(r"^[a-z][a-z0-9\-]{4,61}[a-z0-9]\.[A-Za-z0-9_]{1,1024}$")


def valid_dataset(spec: str) -> bool:
    """PROJECT.DATASET, as BigQuery spells them."""
    return bool(_DATASET.match(spec))


def load_job_id(run_id: str, table: str, file_uri: str) -> str:
    """Deterministic: the same run, table and file always give the same job id (letters, digits, _ and -)."""
    name = file_uri.rsplit("/", 1)[-1]
    safe_run = re.sub(r"[^A-Za-z0-9_-]", "_", run_id)[:200]
    return f"edms_{safe_run}_{table}_{hashlib.sha256(name.encode()).hexdigest()[:20]}"


def bigquery_client(project: str, location: str | None = None):  # -> google.cloud.bigquery.Client
    """A client for project; with BIGQUERY_EMULATOR_HOST set, anonymous (an emulator needs no credentials).

    `location` is where a missing dataset is created and where load jobs run (patient data stays in-region).
    """
    from google.cloud import bigquery

    if os.environ.get("BIGQUERY_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(project=project, credentials=AnonymousCredentials(), location=location)
    return bigquery.Client(project=project, location=location)


def bigquery_table(table: Table, table_id: str):  # -> google.cloud.bigquery.Table
    from google.cloud import bigquery

    schema = [bigquery.SchemaField.from_api_repr(field) for field in table.bigquery_schema()]
    result = bigquery.Table(table_id, schema=schema)
    result.description = table.description
    result.time_partitioning = bigquery.TimePartitioning(
        type_=bigquery.TimePartitioningType.DAY, field=table.partition_column
    )
    result.clustering_fields = list(table.cluster_columns) or None
    return result


def relaxed_schema(remote_schema: list[dict[str, Any]], table: Table) -> list[dict[str, Any]] | None:
    """The remote table's schema (API form) with the columns this definition made nullable relaxed, and the nullable
    columns it added appended; None if it needs neither.

    A table made by an earlier version keeps its REQUIRED modes (create_table leaves an existing table alone),
    and a load of rows with nulls there would fail: pages' pixel columns became nullable for PDFs. Likewise a
    Parquet file with a column the table lacks (pages.decoder) would fail to load. Relaxing REQUIRED to
    NULLABLE and appending a nullable or repeated column are changes BigQuery allows on a table in place, and
    they lose nothing.
    """
    nullable = {column.name for column in table.columns if not column.required and not column.repeated}
    relax = [field.get("mode") == "REQUIRED" and field["name"] in nullable for field in remote_schema]
    # A nullable column this version added (pages.encode_path) is appended: also a change allowed in place.
    present = {field["name"] for field in remote_schema}
    added = [field for field in table.bigquery_schema() if field["name"] not in present and field["mode"] != "REQUIRED"]
    if not any(relax) and not added:
        return None
    kept = [dict(field, mode="NULLABLE") if r else field for field, r in zip(remote_schema, relax, strict=True)]
    return kept + added


class LoadIntoBigQueryFn(beam.DoFn):
    """(table name, Parquet file URI) pairs, all of them at once → one load job per file; yields job ids."""

    def __init__(self, dataset: str, run_id: str, location: str | None = None) -> None:
        self.project, self.dataset = dataset.split(".", 1)
        self.run_id = run_id
        self.location = location

    def setup(self) -> None:
        self.client = bigquery_client(self.project, self.location)

    def _ensure_tables(self, names: Iterable[str]) -> None:
        from google.cloud import bigquery

        dataset = bigquery.Dataset(f"{self.project}.{self.dataset}")
        self.client.create_dataset(dataset, exists_ok=True)
        for name in sorted(set(names)):
            table_id = f"{self.project}.{self.dataset}.{name}"
            remote = self.client.create_table(bigquery_table(TABLES_BY_NAME[name], table_id), exists_ok=True)
            relaxed = relaxed_schema([field.to_api_repr() for field in remote.schema], TABLES_BY_NAME[name])
            if relaxed is not None:
                remote.schema = [bigquery.SchemaField.from_api_repr(field) for field in relaxed]
                self.client.update_table(remote, ["schema"])

    def _existing_job(self, job_id: str):
        from google.api_core.exceptions import NotFound

        try:
            return self.client.get_job(job_id)
        except NotFound:
            return None

    def _start_load(self, table_id: str, file_uri: str, job_id: str):
        from google.api_core.exceptions import Conflict
        from google.cloud import bigquery

        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
        )
        config.parquet_options = bigquery.ParquetOptions()
        config.parquet_options.enable_list_inference = True  # STRING[] columns load as REPEATED, not records
        try:
            if file_uri.startswith("gs://"):
                return self.client.load_table_from_uri(file_uri, table_id, job_config=config, job_id=job_id)
            with FileSystems.open(file_uri, compression_type="uncompressed") as handle:  # local output: upload it
                return self.client.load_table_from_file(handle, table_id, job_config=config, job_id=job_id)
        except Conflict:  # a retry raced its earlier attempt: that job loads the file, we wait for it
            return self.client.get_job(job_id)

    def process(self, files: list[tuple[str, str]]) -> Iterator[str]:
        self._ensure_tables(name for name, _ in files)
        for name, file_uri in sorted(files):
            job_id = load_job_id(self.run_id, name, file_uri)
            table_id = f"{self.project}.{self.dataset}.{name}"
            job = self._existing_job(job_id) or self._start_load(table_id, file_uri, job_id)
            job.result()  # raises on a failed load: the run must not report success without its tables
            _LOGGER.info("loaded %s into %s (job %s)", file_uri.rsplit("/", 1)[-1], table_id, job_id)
            yield job_id
        self._ensure_views()

    def _ensure_views(self) -> None:
        """current_documents and current_pages: the same view definitions the report runs on DuckDB."""
        from google.cloud import bigquery

        dataset = f"{self.project}.{self.dataset}"
        for name in ("documents", "pages"):
            view = bigquery.Table(f"{dataset}.current_{name}")
            view.view_query = queries.for_bigquery(f"SELECT * FROM {{{name}}}", dataset)
            existing = self.client.create_table(view, exists_ok=True)
            if existing.view_query != view.view_query:  # a newer definition replaces the older one
                existing.view_query = view.view_query
                self.client.update_table(existing, ["view_query"])


class LoadIntoBigQuery(beam.PTransform):
    """{table name: PCollection of written Parquet file names} → load jobs, once every file is written."""

    def __init__(self, dataset: str, run_id: str, location: str | None = None) -> None:
        super().__init__()
        self.dataset = dataset
        self.run_id = run_id
        self.location = location

    def expand(self, written: dict[str, beam.PCollection[str]]) -> beam.PCollection[str]:
        tagged = [
            files | f"Tag{name.title()}" >> beam.Map(lambda uri, name=name: (name, uri))
            for name, files in sorted(written.items())
        ]
        return (
            tagged
            | "AllWrittenFiles" >> beam.Flatten()
            | "WaitForAllWrites" >> beam.combiners.ToList()
            | "LoadJobs" >> beam.ParDo(LoadIntoBigQueryFn(self.dataset, self.run_id, self.location))
        )
