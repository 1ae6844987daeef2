"""How parallel a run is: the worker processes that share the job-wide read caps, the decode lanes each gets, and
whether the per-document step runs in the launcher's own process. Read from the run's options, per runner."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.engines.portable import is_portable, parallel_workers
from transforms.privacy.patient_key import LOCAL_RUNNERS


def worker_processes(options: PipelineOptions) -> int:
    """How many worker processes share the job-wide read caps: the DirectRunner's multi-processing workers, or
    Dataflow's maximum (autoscaling below it only makes the job gentler than its cap)."""
    values = options.get_all_options()
    if values.get("direct_running_mode") == "multi_processing":
        return max(1, values.get("direct_num_workers") or 1)
    if is_portable(values):
        return parallel_workers(values)
    return max(1, values.get("max_num_workers") or values.get("num_workers") or 1)


def machine_cores() -> int:
    """The cores this process may run on (a container's or taskset's share, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def decode_lanes(requested: int, values: Mapping[str, Any], cores: int | None = None) -> int:
    """--decode_lanes, auto (0) resolved: the cores each of the runner's parallel bundles may have to itself.

    The in-process DirectRunner runs the per-document step on one thread, so its lanes are the machine's cores;
    in multi-threading or multi-processing mode each of --direct_num_workers gets its share. Any other runner
    (Dataflow's workers run a process per vCPU already) gets 1. VALUES: the run's options, as get_all_options().
    """
    if requested:
        return requested
    if values.get("runner") not in LOCAL_RUNNERS:
        return 1
    cores = cores or machine_cores()
    parallel = 1
    if values.get("direct_running_mode") in ("multi_threading", "multi_processing"):
        workers = values.get("direct_num_workers")
        parallel = cores if workers == 0 else workers or 1  # Beam reads 0 as one worker per core
    return max(1, cores // parallel)


def runs_in_this_process(values: Mapping[str, Any]) -> bool:
    """True when the per-document step will run in the launcher's own process: the DirectRunner in its default
    in-memory mode. VALUES: the run's options, as get_all_options()."""
    return values.get("runner") in LOCAL_RUNNERS and values.get("direct_running_mode") in (None, "in_memory")
