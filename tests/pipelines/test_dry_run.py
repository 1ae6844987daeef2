"""The whole job translated for Dataflow offline (`--dry_run=True`): no credentials, no network, no GCS.

The "no network" check patches the socket layer so that any connection or name lookup raises. It is a patch
because a test cannot take the machine's network away; what it proves is that nothing in the process tried to
open one (the sdist that Beam builds for --setup_file runs in a child process, which the patch does not cover:
those tests pass --sdk_container_image, as a template launch does, so no child is started).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from apache_beam.options.pipeline_options import SetupOptions
from apache_beam.portability.api import beam_runner_api_pb2
from google.cloud import dataflow_v1beta3 as dataflow

from pipelines.launch.dry_run import TranslatedJob, is_dry_run, offline_plan, translate
from pipelines.launch.launcher import parse_options, run
from tests.key_leaks import places_holding

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "trust-edms-prod"
REGION = "europe-west2"
IMAGE = f"{REGION}-docker.pkg.dev/{PROJECT}/edms/edms-migrate:0.1.0"
KMS_KEY = f"projects/{PROJECT}/locations/{REGION}/keyRings/edms/cryptoKeys/dataflow"
WORKER_ACCOUNT = f"edms-worker@{PROJECT}.iam.gserviceaccount.com"
MACHINE = "n2-highcpu-8"
SECRET = f"projects/{PROJECT}/secrets/edms-patient-key/versions/3"
TOP_LEVEL_STEPS = [
    "ReadSources",
    "Select",
    "Migrate",
    "Deduplicate",
    "EDMS",
    "Lineage",
    "Summary",
    "Review",
    "Write_review_misfiling",
    "Write_review_near_duplicates",
    "Write_review_uncoded_types",
    "Write_edms_record_index",
    "Orphans",
    "WriteOrphans",
    "BigQuery",
]


class NetworkUsed(AssertionError):
    pass


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Any socket connection or DNS lookup in this process raises NetworkUsed (see the module docstring)."""

    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network used: {args[1:] or kwargs}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        patch.delenv("STORAGE_EMULATOR_HOST", raising=False)
        yield


def dataflow_flags(**overrides: str) -> list[str]:
    flags = {
        "runner": "DataflowRunner",
        "project": PROJECT,
        "region": REGION,
        "temp_location": "gs://trust-edms-dataflow/tmp",
        "sdk_container_image": IMAGE,
        "dataflow_kms_key": KMS_KEY,
        "service_account_email": WORKER_ACCOUNT,
        "machine_type": MACHINE,
        **overrides,
    }
    return [f"--{name}={value}" for name, value in flags.items()] + ["--no_use_public_ips", "--dry_run=True"]


@pytest.fixture(scope="module")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A canonical manifest: a dry run reads only the index headers, never a blob."""
    folder = tmp_path_factory.mktemp("export")
    (folder / "manifest.csv").write_text("source_system,document_id,blob_uri\nPAS,1,a.tif\n", encoding="utf-8")
    return folder


def job_argv(folder: Path, *extra: str, key: tuple[str, str] = ("--patient_key_secret", SECRET)) -> list[str]:
    return [
        "--manifest",
        str(folder / "manifest.csv"),
        "--output",
        "gs://trust-edms-archive/migration",
        "--blob_root",
        "gs://legacy-scans/pas",
        "--bigquery_dataset",
        f"{PROJECT}.edms_lineage",
        *key,
        *dataflow_flags(),
        *extra,
    ]


@pytest.fixture(scope="module")
def translated(small_export: Path) -> TranslatedJob:
    with no_network():
        options = parse_options(job_argv(small_export))
        return translate(options, offline_plan(options))


def test_the_guard_really_refuses_a_connection():
    with no_network(), pytest.raises(NetworkUsed), socket.socket() as probe:
        probe.connect(("127.0.0.1", 9))


def test_the_translated_job_is_a_batch_job(translated):
    assert translated.job.type_ == dataflow.JobType.JOB_TYPE_BATCH
    assert translated.job.environment.version["job_type"] == "FNAPI_BATCH"


def test_every_stage_of_the_job_is_a_step(translated):
    assert translated.steps() == TOP_LEVEL_STEPS
    names = translated.transform_names()
    for inner in (
        "Select/JoinById",
        "Migrate/MigrateEach",
        "Migrate/QuarantineCrashed",
        "ReadSources/ParseRecords",
        "Summary",
    ):
        assert any(name.startswith(inner) for name in names), inner


def test_the_options_a_trust_needs_are_carried_through(translated):
    request, environment = translated.request, translated.job.environment
    (pool,) = environment.worker_pools
    assert request.location == translated.job.location == REGION and request.project_id == PROJECT
    assert environment.service_kms_key_name == KMS_KEY
    assert pool.ip_configuration == dataflow.WorkerIPAddressConfiguration.WORKER_IP_PRIVATE
    assert environment.service_account_email == WORKER_ACCOUNT
    assert pool.machine_type == MACHINE
    assert pool.worker_harness_container_image == IMAGE
    images = {
        beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image
        for env in translated.pipeline.components.environments.values()
    }
    assert images == {IMAGE}
    assert environment.sdk_pipeline_options["options"]["region"] == REGION


def test_the_template_image_needs_no_setup_file(translated):
    """The package is installed in the template image (templates/Dockerfile): no sdist is built or staged."""
    packages = [package.name for package in translated.job.environment.worker_pools[0].packages]
    assert "setup_file" not in translated.job.environment.sdk_pipeline_options["options"]
    assert "workflow.tar.gz" not in packages
    without_image = [flag for flag in dataflow_flags() if not flag.startswith("--sdk_container_image")]
    shipped = parse_options(["--output", "o", *without_image]).view_as(SetupOptions).setup_file
    assert shipped == str(ROOT / "setup.py")


@pytest.mark.slow  # a second translation; the fixture's already runs in the fast loop under no_network()
def test_the_command_prints_the_steps_and_exits_0_with_no_network(small_export, capsys):
    with no_network():  # what once made it slow (Beam looking for credentials) is a network call: refused here
        code = run(["--run_id", "dry-1", *job_argv(small_export)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"batch job in {PROJECT}/{REGION}" in out and "nothing was submitted" in out
    assert [line.strip() for line in out.splitlines()[1:]] == TOP_LEVEL_STEPS


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--runner=DirectRunner"], "translates a job for --runner DataflowRunner"),
        (["--temp_location=/tmp/x"], "gs:// --temp_location"),
        (["--source", "gs://legacy/profile.json"], "give --source gs://legacy/profile.json as a local copy"),
        (
            ["--fhir_config", "gs://trust-edms/fhir.json"],
            "give --fhir_config gs://trust-edms/fhir.json as a local copy",
        ),
    ],
)
def test_misuse_of_a_dry_run_is_one_line_and_exit_2(small_export, capsys, extra, message):
    with no_network():
        code = run([*job_argv(small_export), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"colour": "blue"}, "the config: unknown key 'colour'"),
        ({"document_types": {"Clinic Letter": {"code": "371531001", "display": "x"}}}, "'371531001' is not a SNOMED"),
        ({"categories": {"default": {"code": "419891009", "display": "x"}}}, "categories.default.code: '419891009'"),
    ],
)
def test_a_dry_run_refuses_a_bad_fhir_config_in_one_line(small_export, tmp_path, capsys, config, message):
    path = tmp_path / "fhir.json"
    path.write_text(json.dumps(config))
    with no_network():
        code = run([*job_argv(small_export), "--fhir_config", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"--fhir_config {path}: " in err[0] and message in err[0], err


def test_a_dry_runs_graph_carries_its_fhir_config(small_export, tmp_path):
    """The config checked is the one the translated job would build its records with."""
    path = tmp_path / "fhir.json"
    path.write_text(json.dumps({"categories": {"default": {"code": "371531000", "display": "Clinic report"}}}))
    with no_network():
        plan = offline_plan(parse_options(job_argv(small_export, "--fhir_config", str(path))))
    assert plan.settings.edms.config.default_category == ("371531000", "Clinic report")


@pytest.mark.parametrize(("flag", "expected"), [("--dry_run=True", True), ("--dry_run=False", False)])
def test_dry_run_false_is_not_a_dry_run(flag, expected):
    """Beam declares --dry_run without a type: the string 'False' would otherwise be true."""
    assert is_dry_run(parse_options(["--output", "o", flag])) is expected


@pytest.mark.slow
def test_ci_dry_run_of_every_layout_in_a_fresh_process(sample_dump, tmp_path):
    """What CI runs: the command, in a new process, over the canonical, DIP and page-per-row sources, building the
    sdist that --setup_file ships (no --sdk_container_image)."""
    argv = ["--manifest", sample_dump.manifest_path, "--output", "gs://trust-edms-archive/migration"]
    for profile in sample_dump.profiles:
        argv += ["--source", profile]
    flags = [flag for flag in dataflow_flags() if not flag.startswith("--sdk_container_image")]
    env = {name: value for name, value in os.environ.items() if not name.startswith(("STORAGE_EMULATOR", "GOOGLE"))}
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", *argv, "--patient_key_secret", SECRET, *flags],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    steps = [line.strip() for line in result.stdout.splitlines()[1:]]
    assert steps == [step for step in TOP_LEVEL_STEPS if step not in ("Orphans", "WriteOrphans", "BigQuery")]


def test_the_secret_is_named_in_the_job_for_the_workers(translated):
    assert translated.job.environment.sdk_pipeline_options["options"]["patient_key_secret"] == SECRET
    assert places_holding(SECRET.encode(), {"pipeline": translated.pipeline.SerializeToString()}) == ["pipeline"]


@pytest.mark.slow
def test_the_translated_job_contains_no_key_bytes(storage_emulator, small_export, monkeypatch):
    """The key is where a launcher that read it would find it (a gs:// object it can read, and the launching
    shell's $EDMS_PATIENT_KEY); the whole job, serialised and with every pickled payload unpacked, holds none of it."""
    from google.cloud import storage

    key = b"k3y-NEVER-in-the-graph-" + os.urandom(12).hex().encode()
    client = storage.Client.create_anonymous_client()
    client.create_bucket("trust-keys-dry-run").blob("edms/patient.key").upload_from_string(key + b"\n")
    monkeypatch.setenv("EDMS_PATIENT_KEY", key.decode())
    options = parse_options(
        job_argv(small_export, key=("--patient_key_file", "gs://trust-keys-dry-run/edms/patient.key"))
    )
    job = translate(options, offline_plan(options))
    serialised = {
        "create_job_request.json": job.request_json().encode(),
        "create_job_request.pb": dataflow.CreateJobRequest.serialize(job.request),
        "pipeline.pb": job.pipeline.SerializeToString(),
    }
    assert places_holding(b"gs://trust-keys-dry-run/edms/patient.key", serialised)  # where it is: yes
    assert places_holding(key, serialised) == []  # the key: nowhere
