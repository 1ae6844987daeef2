"""Issue 22: a Flink run killed with SIGKILL mid-run (launcher, job server, embedded Flink, worker pool and SDK
harnesses, all at once, as a lost machine would), then a re-run: one current outcome per document, the same as a
DirectRunner run of the dump, and nothing the killed run recorded is migrated again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.launch.launcher import migrate
from tests.lineage_checks import read_history, read_table
from tests.pipelines.test_end_to_end import all_sources
from tests.portable_engines import FLINK_PARALLELISM, assert_same_migration, flink_argv, job_server_jar

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _recorded(output: Path, run_id: str, status: str | None = None) -> set[tuple[str, str]]:
    """Documents RUN_ID recorded (with STATUS, if given)."""
    rows = read_history(str(output), "documents") if (output / "lineage").is_dir() else []
    return {
        (row["source_system"], row["document_id"])
        for row in rows
        if row["run_id"] == run_id and status in (None, row["status"])
    }


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_flink_run_killed_mid_run_then_run_again_leaves_one_current_outcome_each(
    sample_dump, direct_migration, tmp_path
):
    jar = job_server_jar("flink")
    output = tmp_path / "out"
    engine = flink_argv(jar, "--worker_pool=local", f"--parallelism={FLINK_PARALLELISM}")
    argv = [*all_sources(sample_dump), "--output", str(output), *engine]
    job = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", *argv, "--run_id", "killed", "--lineage_flush_documents", "2"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the job server, Flink and the harnesses are in it
    )
    deadline = time.monotonic() + 600
    while len(list((output / "lineage").glob("documents-*-killed-j*.parquet"))) < 2:  # some work recorded
        assert job.poll() is None and time.monotonic() < deadline, "the job ended before it could be killed"
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    for _ in range(100):  # the group's processes are reaped by init once killed
        if not _group_alive(job.pid):
            break
        time.sleep(0.1)
    assert not _group_alive(job.pid), "a process of the killed run outlived it"
    recorded = _recorded(output, "killed")
    assert 0 < len(recorded) < len(sample_dump.all_documents)
    assert not list((output / "lineage").glob("runs-*killed*.parquet"))  # a killed run is never sealed

    resumed = [*all_sources(sample_dump), "--output", str(output), *flink_argv(jar), "--run_id", "resumed"]
    assert migrate(resumed) == 0
    current = read_table(str(output), "documents")
    keys = [(row["source_system"], row["document_id"]) for row in current]
    assert len(keys) == len(set(keys)) == len(sample_dump.all_documents)  # one current outcome each
    migrated = _recorded(output, "killed", "migrated")  # quarantined documents are tried again by design
    assert not migrated & _recorded(output, "resumed", "migrated")  # nothing migrated twice
    assert_same_migration(direct_migration, str(output))
