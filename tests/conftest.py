"""Shared fixtures: a generated legacy dump, one migration of it, and a real GCS emulator."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from samples.dump import SampleDump, write_sample_dump

# CI and a newcomer's pytest must not depend on luck: by default every property test draws the same examples
# (derandomized, no example database), and the failures ever found stay as explicit @example()s. A wider, random
# search is a separate run: HYPOTHESIS_PROFILE=explore pytest -m fuzz
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", max_examples=5_000, derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

#: Small pages keep the suite fast; the formats, layouts and defects are those of the full-size demo.
TEST_PAGE_SIZE = (320, 452)


@pytest.fixture(scope="session", autouse=True)
def private_config_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Runs without a key create one under XDG_CONFIG_HOME: a test folder, never the developer's ~/.config."""
    folder = tmp_path_factory.mktemp("config-home")
    with pytest.MonkeyPatch.context() as environment:  # restores both variables as they were
        environment.setenv("XDG_CONFIG_HOME", str(folder))
        environment.delenv("EDMS_PATIENT_KEY", raising=False)
        yield folder


@pytest.fixture(scope="session")
def sample_dump(tmp_path_factory: pytest.TempPathFactory) -> SampleDump:
    return write_sample_dump(tmp_path_factory.mktemp("legacy") / "dump", seed=7, page_size=TEST_PAGE_SIZE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def storage_emulator_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the storage emulator keeps objects: <root>/<bucket>/<name>, which bqemulator reads gs:// URIs from."""
    return tmp_path_factory.mktemp("gcs") / ".cloudstorage"


@pytest.fixture(scope="session")
def storage_emulator(storage_emulator_root: Path) -> Iterator[str]:
    """gcp-storage-emulator, on disk, on a free loopback port; STORAGE_EMULATOR_HOST points the clients at it."""
    from gcp_storage_emulator.server import create_server

    logging.getLogger("gcp_storage_emulator").setLevel(logging.ERROR)
    port = _free_port()
    server = create_server("127.0.0.1", port, data_dir=str(storage_emulator_root.parent))
    server.start()
    host = f"http://127.0.0.1:{port}"
    try:
        with pytest.MonkeyPatch.context() as environment:
            environment.setenv("STORAGE_EMULATOR_HOST", host)
            yield host
    finally:
        server.stop()


def upload_folder(folder: Path, bucket_name: str, prefix: str) -> str:
    """Copy a local dump into an emulator bucket; returns its gs:// prefix."""
    from google.cloud import storage

    client = storage.Client.create_anonymous_client()
    bucket = client.bucket(bucket_name)
    if not bucket.exists():
        client.create_bucket(bucket_name)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            bucket.blob(f"{prefix}/{path.relative_to(folder).as_posix()}").upload_from_filename(str(path))
    return f"gs://{bucket_name}/{prefix}"


#: A default CMEK key for buckets the tests make compliant (the emulator stores it and encrypts nothing).
TEST_KMS_KEY = "projects/trust-edms-test/locations/europe-west2/keyRings/edms/cryptoKeys/archive"


def compliant_bucket(name: str, *, retention_seconds: int = 3600) -> str:
    """Create (if need be) an emulator bucket and patch in the posture the preflight asks for; returns gs://name.
    The archive's bucket has a retention policy; index records' (compliant_records_bucket) must not."""
    from google.cloud import storage

    client = storage.Client.create_anonymous_client()
    bucket = client.bucket(name)
    if not bucket.exists():
        client.create_bucket(name)
    bucket = client.get_bucket(name)
    bucket.iam_configuration.public_access_prevention = "enforced"
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True
    bucket.default_kms_key_name = TEST_KMS_KEY
    bucket.retention_period = retention_seconds or None
    bucket.soft_delete_policy.retention_duration_seconds = 7 * 86400
    bucket._patch_property("location", "EUROPE-WEST2")  # immutable on GCS; the emulator reports US unless patched
    bucket.patch()
    return f"gs://{name}"


def compliant_records_bucket(name: str) -> str:
    """A bucket for EDMS index records, as the preflight asks: the archive's posture without a retention policy."""
    return compliant_bucket(name, retention_seconds=0)


@pytest.fixture(scope="session")
def bigquery_emulator(storage_emulator_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """bqemulator (tests/bigquery_emulator.py) in its own process; BIGQUERY_EMULATOR_HOST points the client at it.

    It resolves gs://bucket/name to the storage emulator's files, so load jobs from gs:// URIs read real objects.
    """
    port = _free_port()
    log = (tmp_path_factory.mktemp("bqemulator") / "bqemulator.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bigquery_emulator", str(port), str(storage_emulator_root)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    host = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{host}/bigquery/v2/projects/probe/datasets", timeout=2):
                break
        except urllib.error.HTTPError:
            break  # it answers: up
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"bqemulator did not start; see {log.name}") from None
            time.sleep(0.3)
    try:
        with pytest.MonkeyPatch.context() as environment:
            environment.setenv("BIGQUERY_EMULATOR_HOST", host)
            yield host
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
