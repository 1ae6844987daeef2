"""Patient pseudonyms: keyed, stable, and never made from a key the output's readers could find."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from transforms.privacy.key_source import PatientKeyError, PatientKeyRef, load_key
from transforms.privacy.patient_key import choose_key_ref, default_key_path, patient_key

ROOT = Path(__file__).resolve().parents[2]


def test_the_pseudonym_is_a_keyed_hash_that_changes_with_the_key():
    first = patient_key(b"k" * 32, "9434765919")
    assert first == patient_key(b"k" * 32, "9434765919") and len(first) == 64
    assert first != patient_key(b"j" * 32, "9434765919")
    assert first != patient_key(b"k" * 32, "9434765918")
    assert "9434765919" not in first


def test_a_key_file_wins_over_the_environment(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_bytes(b"from-the-file-0123456789\n")
    key_file.chmod(0o600)
    ref = choose_key_ref(str(key_file), None, "DirectRunner", {"EDMS_PATIENT_KEY": "from-the-env-0123456789"})
    assert ref == PatientKeyRef("file", str(key_file))
    assert load_key(ref) == b"from-the-file-0123456789"
    assert "from-the-file" not in repr(ref)


def test_the_environment_variable_serves_a_local_runner_by_name():
    environ = {"EDMS_PATIENT_KEY": "from-the-env-0123456789"}
    ref = choose_key_ref(None, None, "DirectRunner", environ)
    assert ref == PatientKeyRef("env", "EDMS_PATIENT_KEY") and "from-the-env" not in repr(ref)
    assert load_key(ref, environ=environ) == b"from-the-env-0123456789"


@pytest.mark.parametrize("runner", ["DataflowRunner", "PortableRunner"])
def test_a_managed_runner_without_a_key_is_refused(runner, tmp_path):
    with pytest.raises(PatientKeyError, match="needs a patient key"):
        choose_key_ref(None, None, runner, {"XDG_CONFIG_HOME": str(tmp_path)})
    assert not default_key_path({"XDG_CONFIG_HOME": str(tmp_path)}).exists()


def test_dataflow_takes_a_secret_or_a_gs_object_never_what_is_on_the_launching_machine(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_bytes(b"on-the-laptop-0123456789\n")
    secret = "projects/trust/secrets/edms-patient-key/versions/3"
    assert choose_key_ref(None, secret, "DataflowRunner", {}) == PatientKeyRef("secret", secret)
    gcs = "gs://trust-keys/edms/patient.key"
    assert choose_key_ref(gcs, None, "DataflowRunner", {}) == PatientKeyRef("file", gcs)
    with pytest.raises(PatientKeyError, match="DataflowRunner workers cannot read"):
        choose_key_ref(str(key_file), None, "DataflowRunner", {})
    with pytest.raises(PatientKeyError, match="workers cannot read \\$EDMS_PATIENT_KEY"):
        choose_key_ref(None, None, "DataflowRunner", {"EDMS_PATIENT_KEY": "from-the-env-0123456789"})


@pytest.mark.parametrize(
    ("key_file", "secret", "message"),
    [
        (None, "edms-patient-key", "must be projects/PROJECT/secrets/SECRET/versions/VERSION"),
        (None, "projects/p/secrets/s", "must be projects/PROJECT/secrets/SECRET/versions/VERSION"),
        ("gs://trust-keys", None, "names a bucket, not an object"),
        ("s3://trust-keys/key", None, "takes a path or a gs:// URI"),
        ("gs://trust-keys/key", "projects/p/secrets/s/versions/1", "not both"),
    ],
)
def test_a_malformed_key_source_is_refused_before_launch(key_file, secret, message):
    with pytest.raises(PatientKeyError, match=message):
        choose_key_ref(key_file, secret, "DataflowRunner", {})


def test_short_or_unreadable_keys_are_refused(tmp_path):
    with pytest.raises(PatientKeyError, match="shorter than"):
        choose_key_ref(None, None, None, {"EDMS_PATIENT_KEY": "short"})
    with pytest.raises(PatientKeyError, match="cannot read"):
        choose_key_ref(str(tmp_path / "missing"), None, None, {})


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_key_file_others_can_open_is_refused(tmp_path, mode):
    key_file = tmp_path / "key"
    key_file.write_bytes(b"a-secret-of-enough-bytes\n")
    key_file.chmod(mode)
    with pytest.raises(PatientKeyError, match=rf"open to other users \(mode 0{mode:o}\): run chmod 600 "):
        choose_key_ref(str(key_file), None, None, {})
    key_file.chmod(0o400)
    assert load_key(choose_key_ref(str(key_file), None, None, {})) == b"a-secret-of-enough-bytes"


def test_the_default_key_is_refused_too_once_others_can_read_it(tmp_path):
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    choose_key_ref(None, None, None, environ)
    default_key_path(environ).chmod(0o644)
    with pytest.raises(PatientKeyError, match="open to other users"):
        choose_key_ref(None, None, None, environ)


def test_a_local_run_creates_a_private_key_once_and_reuses_it(tmp_path):
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    first = choose_key_ref(None, None, "DirectRunner", environ)
    path = default_key_path(environ)
    assert first == PatientKeyRef("file", str(path)) and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert choose_key_ref(None, None, None, environ) == first
    assert len(load_key(first)) == 64


@pytest.mark.slow
def test_dataflow_without_a_key_is_one_line_and_exit_code_2(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("source_system,document_id,blob_uri\nPAS,1,a.tif\n")
    env = {k: v for k, v in os.environ.items() if k != "EDMS_PATIENT_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--manifest", str(manifest), "--output", str(tmp_path / "o")]
        + ["--runner", "DataflowRunner", "--project", "p", "--region", "europe-west2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path / "cfg")},
        timeout=120,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "needs a patient key" in lines[0], result.stderr


@pytest.mark.slow
def test_a_key_file_others_can_read_is_one_line_and_exit_code_2(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("source_system,document_id,blob_uri\nPAS,1,a.tif\n")
    key_file = tmp_path / "patient.key"
    key_file.write_bytes(b"a-secret-of-enough-bytes\n")
    key_file.chmod(0o644)
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--manifest", str(manifest), "--output", str(tmp_path / "o")]
        + ["--patient_key_file", str(key_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and f"chmod 600 {key_file}" in lines[0] and "0644" in lines[0], result.stderr
    assert not (tmp_path / "o" / "objects").exists()
