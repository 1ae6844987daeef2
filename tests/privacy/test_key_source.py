"""Workers fetch the patient key where it is: Secret Manager, a file or gs:// object, or a variable — once each."""

from __future__ import annotations

import google_crc32c
import pytest
from apache_beam.internal import pickler

from tests.key_leaks import places_holding
from transforms.migrate.document_step import MigrateDocumentFn, MigrationSettings
from transforms.privacy.key_source import PatientKeyError, PatientKeyRef, key_for_worker, load_key

SECRET = "projects/trust-edms-prod/secrets/edms-patient-key/versions/7"
KEY = b"secret-manager-key-0123456789abcdef"


class FakeSecretManager:
    """A stand-in for SecretManagerServiceClient, honestly a fake: Secret Manager has no emulator and cannot be
    reached from here. It answers access_secret_version as the real client does (payload.data, data_crc32c)."""

    def __init__(self, secrets: dict[str, bytes], crc: int | None = None) -> None:
        self.secrets = secrets
        self.crc = crc
        self.calls: list[str] = []

    def access_secret_version(self, request: dict) -> object:
        name = request["name"]
        self.calls.append(name)
        if name not in self.secrets:
            raise PermissionError(f"Permission 'secretmanager.versions.access' denied on {name}")
        data = self.secrets[name]
        payload = type("Payload", (), {"data": data, "data_crc32c": self.crc or google_crc32c.value(data)})
        return type("Response", (), {"payload": payload})()


def test_a_secret_version_is_fetched_and_its_checksum_checked():
    client = FakeSecretManager({SECRET: KEY + b"\n"})
    assert load_key(PatientKeyRef("secret", SECRET), secrets_client=client) == KEY
    assert client.calls == [SECRET]
    with pytest.raises(PatientKeyError, match="failed its CRC32C check"):
        load_key(PatientKeyRef("secret", SECRET), secrets_client=FakeSecretManager({SECRET: KEY}, crc=12345))


def test_a_secret_the_worker_may_not_read_is_one_clear_error():
    with pytest.raises(PatientKeyError, match="cannot access --patient_key_secret .*PermissionError"):
        load_key(PatientKeyRef("secret", SECRET), secrets_client=FakeSecretManager({}))


def test_each_worker_process_fetches_the_key_once():
    client = FakeSecretManager({SECRET.replace("/7", "/8"): KEY})
    ref = PatientKeyRef("secret", SECRET.replace("/7", "/8"))
    assert key_for_worker(ref, secrets_client=client) == key_for_worker(ref, secrets_client=client) == KEY
    assert len(client.calls) == 1


def test_a_missing_variable_or_short_key_fails_setup(tmp_path):
    with pytest.raises(PatientKeyError, match="is not set"):
        load_key(PatientKeyRef("env", "EDMS_PATIENT_KEY"), environ={})
    short = tmp_path / "short.key"
    short.write_bytes(b"tiny")
    with pytest.raises(PatientKeyError, match="shorter than 16 bytes"):
        load_key(PatientKeyRef("file", str(short)))


def test_the_pickled_migrate_step_holds_where_the_key_is_not_the_key(tmp_path):
    """What Beam puts in the job graph for the per-document step, unpacked as Beam packs it (pickled, compressed)."""
    key_file = tmp_path / "patient.key"
    key_file.write_bytes(KEY)
    settings = MigrationSettings(str(tmp_path / "out"), "run-1", patient_key=PatientKeyRef("file", str(key_file)))
    packed = pickler.dumps(MigrateDocumentFn(settings))
    assert places_holding(str(key_file).encode(), {"fn": packed}) == ["fn"]  # the search sees inside the payload
    assert places_holding(KEY, {"fn": packed}) == []
    assert places_holding(KEY, {"fn": pickler.dumps({"a DoFn that held it": KEY})}) == ["fn"]


@pytest.mark.slow
def test_a_gs_key_file_is_read_by_the_worker(storage_emulator):
    from google.cloud import storage

    client = storage.Client.create_anonymous_client()
    client.create_bucket("trust-keys-test")
    client.bucket("trust-keys-test").blob("edms/patient.key").upload_from_string(KEY + b"\n")
    assert load_key(PatientKeyRef("file", "gs://trust-keys-test/edms/patient.key")) == KEY
    with pytest.raises(PatientKeyError, match="cannot read --patient_key_file gs://trust-keys-test/nothing"):
        load_key(PatientKeyRef("file", "gs://trust-keys-test/nothing"))
