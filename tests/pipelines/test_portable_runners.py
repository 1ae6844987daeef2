"""Issue 22: the same migration on Apache Flink and Apache Spark (Beam's portable runners, real job servers and
real embedded engines), compared with a DirectRunner run of the same dump.

Flink runs with the SDK harness LOOPBACK (in the launcher), Spark with EXTERNAL harnesses from a worker pool the
launcher starts (`--worker_pool local`), so both environments and both engines are covered. Each needs java and
the job-server jars (tests/portable_engines.py: a skip with the reason, a failure in CI).
"""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from pipelines.engines.portable import prepare_portable
from pipelines.engines.worker_pool import local_worker_pool
from pipelines.launch.launcher import migrate
from pipelines.reports.report_page import write_report
from tests.faulty_converters import CRASH_MARKER, misbehaving_convert
from tests.images import multipage_g4
from tests.lineage_checks import read_table
from tests.migrate.test_migrate import ref, settings
from tests.pipelines.test_end_to_end import all_sources
from tests.portable_engines import FLINK_PARALLELISM, assert_same_migration, flink_argv, job_server_jar, spark_argv
from transforms.migrate.document_step import MigrateDocumentFn

pytestmark = pytest.mark.slow  # a JVM, an embedded engine and a whole dump each


def _runs(output: str) -> list[dict]:
    return read_table(output, "runs")


def test_flink_loopback_migrates_the_sample_dump_as_the_direct_runner_does(direct_migration, sample_dump, tmp_path):
    jar = job_server_jar("flink")
    output = str(tmp_path / "flink")
    argv = flink_argv(jar, "--environment_type=LOOPBACK", f"--parallelism={FLINK_PARALLELISM}")
    assert migrate([*all_sources(sample_dump), "--output", output, *argv]) == 0
    assert_same_migration(direct_migration, output)
    [run] = _runs(output)  # the launcher sealed the run after the engine finished
    assert json.loads(run["options_json"])["runner"] == "FlinkRunner"
    assert run["manifest_documents"] == len(sample_dump.all_documents) and run["balanced"] and run["lineage_files"]


def test_spark_with_a_local_worker_pool_migrates_the_sample_dump_as_the_direct_runner_does(
    direct_migration, sample_dump, tmp_path
):
    jar = job_server_jar("spark")
    output = str(tmp_path / "spark")
    assert migrate([*all_sources(sample_dump), "--output", output, *spark_argv(jar, "--worker_pool=local")]) == 0
    assert_same_migration(direct_migration, output)
    [run] = _runs(output)
    options = json.loads(run["options_json"])
    assert options["runner"] == "SparkRunner" and options["worker_pool"] == "local"
    report = write_report(output)  # the report reads what any engine wrote
    assert f"{len(sample_dump.all_documents)}" in Path(report).read_text(encoding="utf-8")
    # a second run over the same prefix, LOOPBACK this time, finds every document done: resume and cross-run
    # de-duplication hold
    assert migrate([*all_sources(sample_dump), "--output", output, *spark_argv(jar)]) == 0
    assert_same_migration(direct_migration, output)
    settled = sum(row["status"] != "quarantined" for row in read_table(direct_migration, "documents"))
    assert sorted(run["already_done"] for run in _runs(output)) == [0, settled]  # quarantined ones are retried


def test_a_native_crash_inside_a_flink_sdk_harness_costs_one_document(tmp_path):
    """Decoder isolation inside an EXTERNAL harness (a process the worker pool started): the child decoding a
    document dies by SIGSEGV, the harness quarantines that document and migrates the next."""
    jar = job_server_jar("flink")
    folder = tmp_path / "dump"
    folder.mkdir()
    g4 = multipage_g4(2)
    (folder / "letter.tif").write_bytes(g4)
    (folder / "crash.tif").write_bytes(g4 + CRASH_MARKER)
    refs = [ref(folder, name, blob) for name, blob in (("BEFORE", "letter.tif"), ("CRASH", "crash.tif"))]
    refs.append(ref(folder, "AFTER", "letter.tif"))
    options = PipelineOptions(flink_argv(jar, "--worker_pool=local", "--parallelism=1"))
    prepare_portable(options)
    isolated = settings(tmp_path, isolation="always", decode_timeout_seconds=30)
    migrate_each = MigrateDocumentFn(isolated, misbehaving_convert)
    with local_worker_pool(options), beam.Pipeline(options=options) as pipeline:
        outcomes = pipeline | beam.Create(refs) | beam.ParDo(migrate_each)
        assert_that(
            outcomes
            | beam.Map(lambda o: (o.document["document_id"], o.document["status"], tuple(o.document["reasons"]))),
            equal_to(
                [
                    ("BEFORE", "migrated", ()),
                    ("CRASH", "quarantined", ("DECODER_CRASH",)),
                    ("AFTER", "migrated", ()),
                ]
            ),
        )


def test_flink_waves_end_where_the_same_waves_on_the_direct_runner_do(sample_dump, tmp_path):
    """--max_documents (a Top and a singleton side input), then the rest: waves and resume on Flink."""
    jar = job_server_jar("flink")
    outputs = {}
    for name, engine in (("direct", []), ("flink", flink_argv(jar, f"--parallelism={FLINK_PARALLELISM}"))):
        outputs[name] = str(tmp_path / name)
        argv = [*all_sources(sample_dump), "--output", outputs[name], *engine]
        assert migrate([*argv, "--max_documents", "20"]) == 0
        assert migrate(argv) == 0
    assert_same_migration(outputs["direct"], outputs["flink"])
    waves = sorted((run["deferred"], run["already_done"]) for run in _runs(outputs["flink"]))
    assert waves == sorted((run["deferred"], run["already_done"]) for run in _runs(outputs["direct"]))
    assert max(deferred for deferred, _ in waves) > 0  # the first wave did leave documents for the second
