"""The destination's security posture, checked before any patient data is written.

Against the real storage emulator and the real BigQuery emulator. The storage emulator stores the bucket fields
patched into it (and enforces none of them), so a failing bucket is a new one and a passing bucket is one patched
as tests/conftest.py compliant_bucket() does. bqemulator stores a dataset's location but drops its default
encryption configuration, so there the CMEK check can only fail; that it passes on a dataset with a key is tested
on the BigQuery client's own Dataset type, built from the API's JSON.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.cloud import bigquery, storage

from pipelines.cli import main
from pipelines.launch.launcher import run
from pipelines.launch.preflight import INDEX_RECORDS, TEMPORARY, allowed, bucket_checks, dataset_checks
from tests.conftest import TEST_KMS_KEY, compliant_bucket, compliant_records_bucket
from tests.images import bilevel_page, encode, multipage_g4

BUCKET_CHECKS = [
    "public_access_prevention",
    "uniform_bucket_level_access",
    "location",
    "default_kms_key",
    "retention_policy",
    "soft_delete",
]
RECORDS_CHECKS = [name for name in BUCKET_CHECKS if name != "retention_policy"]
LONDON = allowed("europe-west2")


def failed_checks(stderr: str) -> list[str]:
    return [line.split(": ")[3] for line in stderr.splitlines() if line.startswith("edms-migrate: preflight FAILED")]


def raw_bucket(name: str) -> str:
    """A bucket as a new one is: nothing the preflight asks for (soft delete switched off too)."""
    client = storage.Client.create_anonymous_client()
    bucket = client.create_bucket(name)
    bucket.soft_delete_policy.retention_duration_seconds = 0
    bucket.patch()
    return f"gs://{name}"


def test_checks_pass_on_a_compliant_bucket_and_dataset_as_the_apis_describe_them():
    bucket = storage.Bucket(client=None, name="trust-edms")
    bucket._set_properties(  # how the library fills a Bucket from a GET response: the API's JSON, unchanged
        {
            "name": "trust-edms",
            "location": "EUROPE-WEST2",
            "iamConfiguration": {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": {"enabled": True}},
            "encryption": {"defaultKmsKeyName": TEST_KMS_KEY},
            "retentionPolicy": {"retentionPeriod": "31536000", "isLocked": True},
            "softDeletePolicy": {"retentionDurationSeconds": "604800"},
        }
    )
    assert [c.name for c in bucket_checks(bucket, LONDON) if c.ok] == BUCKET_CHECKS
    # The EDMS records are append-only NDJSON: a retention policy refuses nothing they need.
    assert [c.name for c in bucket_checks(bucket, LONDON, INDEX_RECORDS) if c.ok] == RECORDS_CHECKS
    assert [c.name for c in bucket_checks(bucket, LONDON, TEMPORARY) if not c.ok] == ["temp_files_deletable"]
    bucket._set_properties({**bucket._properties, "retentionPolicy": None})
    assert [c.name for c in bucket_checks(bucket, LONDON, INDEX_RECORDS) if c.ok] == RECORDS_CHECKS
    assert all(c.ok for c in bucket_checks(bucket, LONDON, TEMPORARY))
    dataset = bigquery.Dataset.from_api_repr(
        {
            "datasetReference": {"projectId": "trust", "datasetId": "lineage"},
            "location": "europe-west2",
            "defaultEncryptionConfiguration": {"kmsKeyName": TEST_KMS_KEY},
        }
    )
    assert all(check.ok for check in dataset_checks(dataset, LONDON))
    assert not any(check.ok for check in dataset_checks(dataset, allowed("us,eu")) if check.name == "location")


@pytest.mark.slow
def test_a_failing_bucket_is_exit_2_with_one_line_per_failed_check(storage_emulator, capsys):
    output = raw_bucket("posture-raw") + "/migration"
    assert main(["preflight", "--output", output]) == 2
    err = capsys.readouterr().err
    assert failed_checks(err) == BUCKET_CHECKS
    assert "gs://posture-raw: location: us (allowed: europe-west2)" in err
    assert err.strip().splitlines()[-1].startswith("edms-migrate: error: preflight: 6 check(s)")


@pytest.mark.slow
def test_a_patched_bucket_passes_with_or_without_the_records_in_a_bucket_of_their_own(storage_emulator, capsys):
    output = compliant_bucket("posture-patched") + "/migration"
    assert main(["preflight", "--output", output]) == 0  # append-only records may share the archive's retention
    assert failed_checks(capsys.readouterr().err) == []
    records = compliant_records_bucket("posture-patched-records") + "/edms"
    assert main(["preflight", "--output", output, "--index_output", records]) == 0
    out = capsys.readouterr().out
    assert [line.split(": ")[2] for line in out.splitlines() if line.startswith("ok: ")] == [
        *BUCKET_CHECKS,
        *RECORDS_CHECKS,
    ]
    assert "all 11 check(s) passed" in out
    assert main(["preflight", "--output", output, "--index_output", records, "--allowed_locations", "eu"]) == 2
    assert failed_checks(capsys.readouterr().err) == ["location", "location"]


@pytest.mark.slow
def test_a_temp_location_under_a_retention_policy_is_refused_at_launch(storage_emulator, one_letter, capsys):
    output = compliant_bucket("posture-temp") + "/migration"
    records = compliant_records_bucket("posture-temp-records") + "/edms"
    argv = ["--manifest", str(one_letter), "--output", output, "--index_output", records, "--run_id", "temp"]
    assert run([*argv, "--temp_location", f"{output}/tmp"]) == 2
    assert failed_checks(capsys.readouterr().err) == ["temp_files_deletable"]


@pytest.mark.slow
def test_a_missing_bucket_is_one_line(storage_emulator, capsys):
    assert main(["preflight", "--output", "gs://no-such-posture-bucket/x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["edms-migrate: error: cannot write to --output gs://no-such-posture-bucket: bucket does not exist"]


@pytest.fixture
def one_letter(tmp_path: Path) -> Path:
    (tmp_path / "letter.tif").write_bytes(multipage_g4(2))
    (tmp_path / "photo.png").write_bytes(encode(bilevel_page(seed=2).convert("L"), "PNG"))
    (tmp_path / "manifest.csv").write_text(
        "source_system,document_id,blob_uri,nhs_number,document_type,document_date\n"
        "PAS,L1,letter.tif,943 476 5919,Clinic Letter,2020-01-02\n"
        "PAS,P1,photo.png,,Clinic Letter,2020-01-03\n",
        encoding="utf-8",
    )
    return tmp_path / "manifest.csv"


@pytest.mark.slow
def test_a_launch_to_a_failing_bucket_is_refused_before_anything_is_written(storage_emulator, one_letter, capsys):
    output = raw_bucket("posture-launch") + "/migration"
    assert run(["--manifest", str(one_letter), "--output", output, "--run_id", "refused"]) == 2
    assert failed_checks(capsys.readouterr().err) == BUCKET_CHECKS
    assert list(storage.Client.create_anonymous_client().list_blobs("posture-launch")) == []


@pytest.mark.slow
def test_warn_reports_and_continues_and_index_records_go_to_their_own_bucket(storage_emulator, one_letter, capsys):
    output = compliant_bucket("posture-warn") + "/migration"
    records = raw_bucket("posture-records") + "/edms"
    argv = ["--manifest", str(one_letter), "--output", output, "--index_output", records, "--run_id", "warned"]
    assert run([*argv, "--preflight", "warn"]) == 0
    assert failed_checks(capsys.readouterr().err) == RECORDS_CHECKS  # the records bucket's, reported
    client = storage.Client.create_anonymous_client()
    edms_records = sorted(blob.name for blob in client.list_blobs("posture-records"))
    [journal] = [name for name in edms_records if name.startswith("edms/edms-journal/")]  # restricted too
    assert journal.startswith("edms/edms-journal/warned/warned-j") and ".mac-" in journal
    edms_records.remove(journal)
    assert edms_records == [
        "edms/fhir/DocumentReference-warned-000-000.ndjson",
        "edms/fhir/Provenance-warned-000-000.ndjson",
        "edms/fhir/summary-warned.json",
    ]
    assert not [blob.name for blob in client.list_blobs("posture-warn", prefix="migration/fhir/")]
    assert [blob.name for blob in client.list_blobs("posture-warn", prefix="migration/objects/")]


@pytest.mark.slow
def test_skip_preflight_launches_without_checking(storage_emulator, one_letter, capsys):
    output = raw_bucket("posture-skip") + "/migration"
    assert run(["--manifest", str(one_letter), "--output", output, "--skip_preflight", "--run_id", "skipped"]) == 0
    assert failed_checks(capsys.readouterr().err) == []


@pytest.mark.slow
def test_the_dataset_location_and_key_are_checked(storage_emulator, bigquery_emulator, capsys):
    from transforms.lineage.bigquery_load import bigquery_client

    client = bigquery_client("trust-edms-test")
    for name, location in (("lineage_us", "US"), ("lineage_london", "europe-west2")):
        dataset = bigquery.Dataset(f"trust-edms-test.{name}")
        dataset.location = location
        client.create_dataset(dataset, exists_ok=True)
    where = ["--output", compliant_bucket("posture-bq") + "/migration"]
    where += ["--index_output", compliant_records_bucket("posture-bq-records") + "/edms"]
    assert main(["preflight", *where, "--bigquery_dataset", "trust-edms-test.lineage_us"]) == 2
    assert failed_checks(capsys.readouterr().err) == ["location", "default_kms_key"]
    assert main(["preflight", *where, "--bigquery_dataset", "trust-edms-test.lineage_london"]) == 2
    assert failed_checks(capsys.readouterr().err) == ["default_kms_key"]  # the emulator keeps no CMEK key
    assert main(["preflight", *where, "--bigquery_dataset", "trust-edms-test.nothing"]) == 2
    assert "trust-edms-test.nothing: dataset: does not exist" in capsys.readouterr().err
