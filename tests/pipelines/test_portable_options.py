"""What a Flink or Spark launch checks and settles before anything runs (pipelines/engines/portable.py), the pathing jar
that stands for Beam's job-server jar (pipelines/engines/jars.py), and the local worker pool's lifetime. Fast:
no JVM is started here; the engines themselves run in test_portable_runners.py."""

from __future__ import annotations

import zipfile

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.console.usage import UsageError
from pipelines.engines.jars import cached_jar, write_pathing_jar
from pipelines.engines.portable import parallel_workers, prepare_portable, workers_on_this_machine
from pipelines.engines.worker_pool import _listening, local_worker_pool
from pipelines.launch.parallelism import worker_processes
from transforms.privacy.patient_key import PatientKeyError, choose_key_ref

FLINK = ["--runner=FlinkRunner", "--flink_job_server_jar=/jars/flink.jar"]
SPARK = ["--runner=SparkRunner", "--spark_job_server_jar=/jars/spark.jar"]


def prepared(*argv: str) -> dict:
    options = PipelineOptions(list(argv))
    prepare_portable(options)
    return options.get_all_options()


def test_a_local_engine_runs_its_harness_loopback_unless_told_otherwise():
    assert prepared(*FLINK, "--flink_master=[local]")["environment_type"] == "LOOPBACK"
    assert prepared(*SPARK, "--spark_master_url=local[2]")["environment_type"] == "LOOPBACK"
    assert prepared(*FLINK, "--worker_pool=local")["environment_type"] == "EXTERNAL"


def test_spark_keeps_its_harnesses_between_tasks_unless_told_otherwise():
    assert prepared(*SPARK, "--worker_pool=local")["environment_cache_millis"] == 60_000
    assert not prepared(*SPARK)["environment_cache_millis"]  # LOOPBACK: the launcher's own harness
    given = prepared(*SPARK, "--worker_pool=local", "--environment_cache_millis=5000")
    assert int(given["environment_cache_millis"]) == 5000  # as given
    assert not prepared(*FLINK)["environment_cache_millis"]  # Flink keeps a harness per slot already


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*FLINK, "--flink_master=flink-jm:8081"], "--environment_type EXTERNAL --environment_config"),
        ([*FLINK, "--flink_master=flink-jm:8081", "--environment_type=LOOPBACK"], "LOOPBACK runs the workers"),
        ([*FLINK, "--environment_type=DOCKER"], "DOCKER is not supported"),
        ([*SPARK, "--environment_type=EXTERNAL"], "needs --environment_config"),
        ([*FLINK, "--worker_pool=local", "--environment_config=localhost:5000"], "sets --environment_type"),
        ([*SPARK, "--spark_master_url=spark://head:7077", "--worker_pool=local"], "engine on this machine"),
        ([*FLINK, "--detached"], "--detached needs"),
        ([*FLINK, "--flink_submit_uber_jar"], "uber-jar"),
        (["--runner=PortableRunner"], "--job_endpoint"),
    ],
)
def test_what_the_engines_here_cannot_do_is_one_line(argv, message):
    with pytest.raises(UsageError, match=message):
        prepared(*argv)


def test_a_cluster_with_external_workers_passes_and_its_workers_are_not_this_machine():
    values = prepared(*FLINK, "--flink_master=jm:8081", "--environment_type=EXTERNAL", "--environment_config=w:50000")
    assert values["environment_type"] == "EXTERNAL" and not workers_on_this_machine(values)
    assert workers_on_this_machine(prepared(*FLINK, "--flink_master=[local]"))


def test_without_a_jar_the_launch_names_the_command_that_fetches_it(tmp_path, monkeypatch):
    monkeypatch.setenv("EDMS_MIGRATE_JARS", str(tmp_path))
    with pytest.raises(UsageError, match="edms-migrate fetch-jars flink"):
        prepared("--runner=FlinkRunner")
    (tmp_path / "spark-job-server.jar").write_bytes(b"")
    assert cached_jar("spark") == tmp_path / "spark-job-server.jar"
    assert prepared("--runner=SparkRunner")["spark_job_server_jar"] == str(tmp_path / "spark-job-server.jar")


def test_the_read_caps_are_shared_by_the_engines_parallel_harnesses():
    assert worker_processes(PipelineOptions([*FLINK, "--parallelism=3"])) == 3
    assert worker_processes(PipelineOptions([*SPARK, "--spark_master_url=local[4]"])) == 4
    assert parallel_workers({"runner": "SparkRunner", "spark_master_url": "spark://head:7077"}) == 1


def test_the_local_default_key_serves_workers_on_this_machine_only(tmp_path):
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert choose_key_ref(None, None, "FlinkRunner", environ, workers_here=True).kind == "file"
    with pytest.raises(PatientKeyError, match="FlinkRunner run needs a patient key"):
        choose_key_ref(None, None, "FlinkRunner", environ, workers_here=False)


def test_the_pathing_jar_names_every_library_and_the_driver(tmp_path):
    libraries = tmp_path / "lib"
    libraries.mkdir()
    names = [f"a-very-long-library-name-that-wraps-the-manifest-line-{n}.jar" for n in range(5)]
    for name in names:
        (libraries / name).write_bytes(b"")
    jar = tmp_path / "server.jar"
    write_pathing_jar(jar, list(libraries.glob("*.jar")), "org.example.Driver")
    manifest = zipfile.ZipFile(jar).read("META-INF/MANIFEST.MF").decode()
    lines = manifest.split("\r\n")
    assert all(len(line.encode()) <= 72 for line in lines)
    unfolded = manifest.replace("\r\n ", "")
    assert "Main-Class: org.example.Driver" in unfolded
    assert f"Class-Path: {' '.join(f'lib/{name}' for name in sorted(names))}\r\n" in unfolded
    assert "Add-Opens: java.base/java.lang " in unfolded


@pytest.mark.slow  # a Python process importing Beam
def test_a_local_worker_pool_listens_for_the_run_and_is_gone_after_it():
    options = PipelineOptions([*FLINK, "--worker_pool=local"])
    with local_worker_pool(options) as address:
        assert options.get_all_options()["environment_config"] == address
        port = int(address.rsplit(":", 1)[1])
        assert _listening(port)
    assert not _listening(port)


def test_no_pool_is_started_unless_asked_for():
    with local_worker_pool(PipelineOptions(FLINK)) as address:
        assert address is None


def test_the_dry_run_says_what_covers_flink_and_spark_instead(tmp_path):
    from pipelines.launch.dry_run import offline_plan

    (tmp_path / "m.csv").write_text("source_system,document_id,blob_uri\n")
    argv = ["--manifest", str(tmp_path / "m.csv"), "--output", str(tmp_path / "out"), *SPARK, "--dry_run=True"]
    with pytest.raises(UsageError, match="translates for Dataflow only: a SparkRunner launch checks its plan"):
        offline_plan(PipelineOptions(argv))


def test_the_preflight_says_a_clusters_local_output_is_not_checked(tmp_path, caplog):
    from pipelines.launch.preflight import launch_checks

    launch_checks(PipelineOptions(FLINK), str(tmp_path))
    assert "FlinkRunner writes to" in caplog.text and "only buckets and BigQuery datasets are checked" in caplog.text
    caplog.clear()
    launch_checks(PipelineOptions([]), str(tmp_path))
    assert "only buckets" not in caplog.text


def test_run_help_says_which_runners_an_option_applies_to():
    from pipelines.launch.options import help_text

    text = " ".join(help_text().split())
    assert "in the launcher. [Flink, Spark only]" in text
    assert "--job_endpoint; the job-server jar comes from `edms- migrate fetch-jars`" in text
