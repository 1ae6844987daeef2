"""Flink and Spark for the tests: their job-server jars (or a skip with the reason), and a migration's outputs in a
form two runs on different engines can be compared in.

Outputs are compared apart from what must differ between two runs: run ids, times, runner names, and the output
prefix each run wrote under. Everything else (each document's current outcome and reasons, every page row, the
objects' names, the EDMS records) must be identical to a DirectRunner run of the same dump.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipelines.engines.jars import cached_jar
from tests.lineage_checks import read_table
from tests.platform_needs import on_ci

FLINK_PARALLELISM = "2"  # the machine's two cores: two SDK harnesses, as a two-slot task manager runs


def job_server_jar(engine: str) -> str:
    """The engine's job-server jar: $EDMS_<ENGINE>_JOB_SERVER_JAR (.ci/run exports it) or the local cache. Without
    it, or without java, a skip with the reason; in CI (CI=true), where .ci/run fetches both, a failure."""
    named = os.environ.get(f"EDMS_{engine.upper()}_JOB_SERVER_JAR")
    jar = Path(named) if named else cached_jar(engine)
    reason = None
    if not shutil.which("java"):
        reason = "java is needed for the Flink and Spark job servers (.ci/run installs openjdk-17-jre-headless)"
    elif not jar or not jar.is_file():
        reason = f"no {engine} job-server jar: run `edms-migrate fetch-jars` (needs Maven; .ci/run does it)"
    if reason:
        if on_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    return str(jar)


def flink_argv(jar: str, *more: str) -> list[str]:
    return ["--runner=FlinkRunner", "--flink_master=[local]", f"--flink_job_server_jar={jar}", *more]


def spark_argv(jar: str, *more: str) -> list[str]:
    return ["--runner=SparkRunner", "--spark_master_url=local[2]", f"--spark_job_server_jar={jar}", *more]


def _normal(value: Any, output: str, run_id: str) -> Any:
    if isinstance(value, str):
        return value.replace(output, "<OUTPUT>").replace(run_id, "<RUN>") if run_id else value.replace(output, "")
    if isinstance(value, dt.datetime):
        return "<TIME>"
    if isinstance(value, list | tuple):
        return [_normal(item, output, run_id) for item in value]
    if isinstance(value, dict):
        return {key: _normal(item, output, run_id) for key, item in value.items()}
    return value


#: Columns that say when, or in which run, a row was recorded: the only ones allowed to differ between engines.
_RUN_COLUMNS = ("run_id", "run_date", "recorded_at")


def current_view(output: str, name: str) -> list[str]:
    """The current documents or pages view (transforms/lineage/queries.py's SQL on DuckDB), each row as sorted
    JSON with run ids, times and the output prefix replaced by placeholders; sorted, so order does not matter."""
    rows = []
    for row in read_table(output, name):
        run_id = row.get("run_id") or ""
        kept = {key: _normal(value, output, run_id) for key, value in row.items() if key not in _RUN_COLUMNS}
        rows.append(json.dumps(kept, sort_keys=True, default=str))
    return sorted(rows)


def object_names(output: str) -> set[str]:
    """Every object under PREFIX/objects (content-addressed names: equal names, equal bytes)."""
    root = Path(output, "objects")
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def edms_records(output: str) -> dict[str, Any]:
    """The EDMS index records (PREFIX/documents/SOURCE/ID.json), normalised as the views are."""
    root = Path(output, "documents")
    records = {}
    for path in sorted(root.rglob("*.json")):
        record = json.loads(path.read_text())
        records[path.relative_to(root).as_posix()] = _normal(record, output, record.get("run_id") or "")
    return records


def assert_same_migration(direct: str, other: str) -> None:
    """What an analyst and the EDMS see after each run is the same, apart from run ids, times and prefixes."""
    for name in ("documents", "pages"):
        expected, found = current_view(direct, name), current_view(other, name)
        assert len(found) == len(expected), f"{name}: {len(found)} current rows, the DirectRunner wrote {len(expected)}"
        assert found == expected, f"{name} differs: {sorted(set(found) ^ set(expected))[:3]}"
    assert object_names(other) == object_names(direct)
    assert edms_records(other) == edms_records(direct)
