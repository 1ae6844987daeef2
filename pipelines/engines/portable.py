"""Flink and Spark through Beam's portable runners: what a launch checks and settles before it runs there.

The job server is Beam's Java process that turns the pipeline into a Flink or Spark job; the SDK harness is the
Python process that runs our DoFns. A launch here:
- passes the cached job-server jar (pipelines/engines/jars.py) unless one is named, so Beam's downloader,
  which needs the internet, is never asked;
- runs the SDK harness LOOPBACK (in the launcher: a quick local run), or EXTERNAL against worker pools
  (`python -m apache_beam.runners.worker.worker_pool_main`, what a cluster runs beside each task manager;
  `--worker_pool local` starts one here, pipelines/engines/worker_pool.py). Beam's default on a cluster, DOCKER, would
  pull a container image: refused, as are PROCESS and the uber-jar submissions nothing here tests;
- ships no setup.py: neither environment installs staged packages, so the workers' Python must have
  edms-migrate installed already (the launcher's own venv, for a local run).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from apache_beam.options.pipeline_options import (
    FlinkRunnerOptions,
    PipelineOptions,
    PortableOptions,
    SparkRunnerOptions,
)

from pipelines.console.usage import UsageError
from pipelines.engines.jars import cached_jar

#: The portable runners this job is tested on, and the engine each runs.
ENGINES = {
    "FlinkRunner": "flink",
    "apache_beam.runners.portability.flink_runner.FlinkRunner": "flink",
    "SparkRunner": "spark",
    "apache_beam.runners.portability.spark_runner.SparkRunner": "spark",
}
PORTABLE_RUNNERS = (*ENGINES, "PortableRunner")
ENVIRONMENTS = ("LOOPBACK", "EXTERNAL")
#: Spark's portable runner, with Beam's default of 0 (no cache), started an EXTERNAL SDK harness per task: 26 for
#: the sample dump, 1.3 CPU-s each; kept for a minute between tasks it started one (docs/flink-spark.md). LOOPBACK
#: is left alone: cached, its run took twice as long (the launcher's harness waited out the cache).
SPARK_ENVIRONMENT_CACHE_MILLIS = 60_000
_LOCAL_HOSTS = re.compile(r"^(localhost|127\.[\d.]+|\[::1\]):\d+$")


def is_portable(values: Mapping[str, Any]) -> bool:
    """VALUES: the run's options, as get_all_options()."""
    return values.get("runner") in PORTABLE_RUNNERS


def engine(values: Mapping[str, Any]) -> str | None:
    return ENGINES.get(values.get("runner") or "")


def local_engine(values: Mapping[str, Any]) -> bool:
    """The engine runs inside the job server on this machine: Flink's [local]/[auto], Spark's local[N]."""
    if values.get("job_endpoint"):
        return False
    if engine(values) == "flink":
        return (values.get("flink_master") or "[auto]") in ("[local]", "[auto]")
    if engine(values) == "spark":
        return bool(re.match(r"^local(\[.+\])?$", values.get("spark_master_url") or "local[4]"))
    return False


def workers_on_this_machine(values: Mapping[str, Any]) -> bool:
    """The SDK harness runs here, so it reads what the launcher reads (the local patient key, local files)."""
    if not is_portable(values) or not local_engine(values):
        return False
    kind = (values.get("environment_type") or "LOOPBACK").upper()
    config = values.get("environment_config") or ""
    return kind == "LOOPBACK" or values.get("worker_pool") == "local" or bool(_LOCAL_HOSTS.match(config))


def parallel_workers(values: Mapping[str, Any]) -> int:
    """SDK harnesses running at once: Flink's --parallelism (1 when unset, as Beam's Flink runner does), the
    N of Spark's local[N] (a cluster's cores are not known here: 1)."""
    if engine(values) == "flink":
        return max(1, values.get("parallelism") or 1)
    found = re.match(r"^local\[(\d+)\]$", values.get("spark_master_url") or "")
    return int(found.group(1)) if found else 1


def _check_environment(values: Mapping[str, Any]) -> None:
    kind = (values.get("environment_type") or "").upper()
    if values.get("worker_pool") == "local":
        if kind not in ("", "EXTERNAL") or values.get("environment_config"):
            raise UsageError("--worker_pool local sets --environment_type EXTERNAL and its address itself")
        if not local_engine(values):
            raise UsageError("--worker_pool local serves an engine on this machine ([local] Flink, local[N] Spark)")
        return
    if kind and kind not in ENVIRONMENTS:
        raise UsageError(
            f"--environment_type {kind} is not supported here: LOOPBACK (a local run) or EXTERNAL with "
            "--environment_config HOST:PORT of a worker pool (see docs/flink-spark.md)"
        )
    if kind == "EXTERNAL" and not values.get("environment_config"):
        raise UsageError("--environment_type EXTERNAL needs --environment_config HOST:PORT of a worker pool")
    if not kind and not local_engine(values):
        raise UsageError(
            "a Flink or Spark cluster's workers need --environment_type EXTERNAL --environment_config HOST:PORT "
            "(a worker pool beside each task manager): Beam's default, DOCKER, pulls an image"
        )
    if kind == "LOOPBACK" and not local_engine(values):
        raise UsageError("LOOPBACK runs the workers in this launcher: only for a [local] Flink or local[N] Spark")


def _check_submission(values: Mapping[str, Any]) -> None:
    if values.get("flink_submit_uber_jar") or values.get("spark_submit_uber_jar"):
        raise UsageError("uber-jar submission is not supported: the job server submits the job (docs/flink-spark.md)")
    if values.get("detached") and (local_engine(values) or (values.get("environment_type") or "") == "LOOPBACK"):
        raise UsageError(
            "--detached needs a job server and workers that outlive the launcher (--job_endpoint and EXTERNAL "
            "workers): a local engine, or LOOPBACK workers, end with it"
        )


def _job_server_jar(options: PipelineOptions, values: Mapping[str, Any]) -> None:
    """Name the cached jar unless a jar or a running job server (--job_endpoint) is given."""
    kind = engine(values)
    if not kind or values.get("job_endpoint"):
        return
    view = options.view_as(FlinkRunnerOptions if kind == "flink" else SparkRunnerOptions)
    flag = f"{kind}_job_server_jar"
    if getattr(view, flag):
        return
    jar = cached_jar(kind)
    if not jar:
        raise UsageError(
            f"no {kind.title()} job-server jar: run `edms-migrate fetch-jars {kind}` once (it needs Maven), or pass "
            f"--{flag} PATH"
        )
    setattr(view, flag, str(jar))


def prepare_portable(options: PipelineOptions) -> None:
    """Check a FlinkRunner, SparkRunner or PortableRunner launch, and settle what Beam would otherwise fetch or
    guess. Nothing for any other runner."""
    values = options.get_all_options()
    if not is_portable(values):
        return
    if values["runner"] == "PortableRunner" and not values.get("job_endpoint"):
        raise UsageError("--runner PortableRunner needs --job_endpoint HOST:PORT of a running job server")
    _check_environment(values)
    _check_submission(values)
    _job_server_jar(options, values)
    portable = options.view_as(PortableOptions)
    if values.get("worker_pool") == "local":
        portable.environment_type = "EXTERNAL"  # its address is set when the pool has started
    elif not portable.environment_type:
        portable.environment_type = "LOOPBACK"  # what Beam chooses for a local engine too, said aloud
    spark_external = engine(values) == "spark" and portable.environment_type == "EXTERNAL"
    if spark_external and not values.get("environment_cache_millis"):
        portable.environment_cache_millis = SPARK_ENVIRONMENT_CACHE_MILLIS
