"""--bigquery_dataset end to end against a real BigQuery API: bqemulator, started by the fixture.

Local output is uploaded with load jobs; gs:// output is loaded from its URIs (the emulator reads the
storage emulator's objects). Rows in BigQuery must be the rows in the run's Parquet, tables must be
partitioned and clustered, and a retried load must add nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from apache_beam.io.filesystems import FileSystems

from pipelines.launch.launcher import migrate
from pipelines.launch.openlineage_events import written_events
from schemas.tables import TABLES as ALL_TABLES
from tests.conftest import compliant_bucket, compliant_records_bucket, upload_folder
from tests.lineage_checks import read_history, read_table
from transforms.lineage.bigquery_load import LoadIntoBigQueryFn, bigquery_client, load_job_id

pytestmark = pytest.mark.slow  # whole dumps, emulators or subprocesses: outside the fast loop

#: The tables a run without --blob_root writes (orphans are listed only when blob roots are given).
TABLES = tuple(table for table in ALL_TABLES if table.name != "orphans")

PROJECT = "edms-test"
NHS = "943 476 5919"
#: bqemulator keeps no default CMEK key on a dataset: the preflight's dataset check cannot pass here; report, go on.
NO_CMEK_IN_EMULATOR = ("--preflight", "warn")


def rows(client, sql: str) -> list[dict]:
    return [dict(row) for row in client.query(sql).result()]


def outcomes(documents: list[dict]) -> Counter:
    return Counter(
        (d["source_system"], d["document_id"], d["status"], d["duplicate_of"], d["patient_key"]) for d in documents
    )


@pytest.fixture(scope="module")
def local_run(bigquery_emulator, sample_dump, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("bq") / "out")
    args = ["--manifest", sample_dump.manifest_path, "--output", output, "--run_id", "bq-local"]
    assert migrate([*args, "--bigquery_dataset", f"{PROJECT}.lineage_local", *NO_CMEK_IN_EMULATOR]) == 0
    return output


def test_local_run_loads_the_parquet_rows_into_partitioned_clustered_tables(local_run):
    client = bigquery_client(PROJECT)
    assert client.get_dataset(f"{PROJECT}.lineage_local").location == "europe-west2"  # the default: London
    for table in TABLES:
        remote = client.get_table(f"{PROJECT}.lineage_local.{table.name}")
        assert remote.time_partitioning.field == "run_date"
        assert remote.clustering_fields == list(table.cluster_columns)
        [count] = rows(client, f"SELECT count(*) AS n FROM `{PROJECT}.lineage_local.{table.name}`")
        assert count["n"] == len(read_history(local_run, table.name)), table.name
        assert count["n"] > 0 or table.name.startswith("review_"), table.name
    loaded = rows(client, f"SELECT * FROM `{PROJECT}.lineage_local.current_documents`")  # the view it made
    assert outcomes(loaded) == outcomes(read_table(local_run, "documents"))
    [pages] = rows(client, f"SELECT count(*) AS n FROM `{PROJECT}.lineage_local.current_pages`")
    assert pages["n"] == len(read_table(local_run, "pages"))
    quarantined = [d for d in loaded if d["status"] == "quarantined"]
    assert quarantined and all(d["reasons"] and isinstance(d["reasons"], list) for d in quarantined)
    [run] = rows(client, f"SELECT * FROM `{PROJECT}.lineage_local.runs`")
    assert run["run_id"] == "bq-local" and run["balanced"] is True
    assert run["manifest_documents"] == run["migrated"] + run["duplicate"] + run["quarantined"] == len(loaded)


@pytest.fixture(scope="module")
def gs_run(storage_emulator, bigquery_emulator, sample_dump) -> str:

    source = upload_folder(Path(sample_dump.directory), "bq-legacy", "export")
    output = compliant_bucket("bq-edms") + "/migration"
    records = compliant_records_bucket("bq-edms-records") + "/edms"
    args = ["--manifest", f"{source}/manifest.csv", "--output", output, "--index_output", records, "--run_id", "bq-gcs"]
    assert migrate([*args, "--bigquery_dataset", f"{PROJECT}.lineage_gcs", *NO_CMEK_IN_EMULATOR]) == 0
    return output


def test_gs_output_loads_from_uris_and_a_retried_load_adds_no_rows(gs_run):
    output, dataset = gs_run, f"{PROJECT}.lineage_gcs"
    client = bigquery_client(PROJECT)

    def counts() -> dict[str, int]:
        return {t.name: rows(client, f"SELECT count(*) AS n FROM `{dataset}.{t.name}`")[0]["n"] for t in TABLES}

    first = counts()
    assert first == {t.name: len(read_history(output, t.name)) for t in TABLES}
    files = [
        (t.name, m.path)
        for t in TABLES
        for m in FileSystems.match([f"{output}/lineage/{t.name}-*.parquet"])[0].metadata_list
    ]
    retried = LoadIntoBigQueryFn(dataset, "bq-gcs")  # the same load, as a retried bundle would run it
    retried.setup()
    job_ids = list(retried.process(files))
    assert job_ids == [load_job_id("bq-gcs", name, uri) for name, uri in sorted(files)]
    assert all(client.get_job(job_id).state == "DONE" for job_id in job_ids)
    assert counts() == first


def test_the_report_reads_gs_lineage_and_links_quarantine_to_the_cloud_console(gs_run):
    from pipelines.reports.report_page import build_report

    text = build_report(gs_run)
    assert "Every document is accounted for" in text
    assert 'href="https://storage.cloud.google.com/bq-edms/migration/quarantine/' in text


def test_a_failed_load_fails_the_run_and_its_openlineage_events_say_so(bigquery_emulator, sample_dump, tmp_path):
    from google.cloud import bigquery

    client = bigquery_client(PROJECT)
    client.create_dataset(f"{PROJECT}.lineage_broken", exists_ok=True)
    wrong = [bigquery.SchemaField("run_id", "INT64", mode="REQUIRED"), bigquery.SchemaField("oops", "INT64")]
    client.create_table(bigquery.Table(f"{PROJECT}.lineage_broken.documents", schema=wrong))
    output = str(tmp_path / "out")
    args = ["--manifest", sample_dump.manifest_path, "--output", output, "--run_id", "bq-broken"]
    with pytest.raises(Exception, match="BigQuery/LoadJobs") as failure:  # the step, as Beam names it
        migrate([*args, "--bigquery_dataset", f"{PROJECT}.lineage_broken", *NO_CMEK_IN_EMULATOR])
    assert "documents" in str(failure.value)
    assert [event["eventType"] for event in written_events(output, "bq-broken")] == ["START", "FAIL"]


def test_a_pages_table_an_earlier_version_made_is_relaxed_and_takes_a_pdf_row(bigquery_emulator, tmp_path):
    """Before PDFs, pages' pixel columns were REQUIRED; an existing table is relaxed in place, rows kept."""
    from google.cloud import bigquery

    from schemas.tables import PAGES
    from tests.containers import blank_pdf
    from transforms.lineage.bigquery_load import bigquery_table

    dataset = f"{PROJECT}.lineage_relax"
    client = bigquery_client(PROJECT)
    client.create_dataset(bigquery.Dataset(dataset), exists_ok=True)
    old = bigquery_table(PAGES, f"{dataset}.pages")
    was_required = ("pixel_sha256", "width", "height", "mode", "ink_coverage")
    old.schema = [
        bigquery.SchemaField(f.name, f.field_type, mode="REQUIRED" if f.name in was_required else f.mode)
        for f in old.schema
    ]
    client.create_table(old)
    (tmp_path / "letter.pdf").write_bytes(blank_pdf(2))
    (tmp_path / "m.csv").write_text(f"source_system,document_id,blob_uri,nhs_number\nLETTERS,P1,letter.pdf,{NHS}\n")
    argv = ["--manifest", str(tmp_path / "m.csv"), "--output", str(tmp_path / "out"), "--bigquery_dataset", dataset]
    assert migrate([*argv, *NO_CMEK_IN_EMULATOR]) == 0
    modes = {field.name: field.mode for field in client.get_table(f"{dataset}.pages").schema}
    assert {name: modes[name] for name in was_required} == dict.fromkeys(was_required, "NULLABLE")
    loaded = rows(client, f"SELECT document_id, object_format, width FROM `{dataset}.pages`")
    assert loaded == [{"document_id": "P1", "object_format": "PDF", "width": None}]
