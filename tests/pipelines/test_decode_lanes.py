"""--decode_lanes: resolved by the plan from the runner, and a run with two lanes writes what a run with one does."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.console.usage import UsageError
from pipelines.launch.launcher import migrate
from pipelines.launch.options import MigrateOptions
from pipelines.launch.plan import decode_lanes, plan_from
from tests.lineage_checks import read_history


@pytest.mark.parametrize(
    ("argv", "cores", "lanes"),
    [
        ([], 4, 4),  # in-process DirectRunner: one bundle at a time, so a lane per core
        (["--runner=FnApiRunner"], 2, 2),
        (["--direct_running_mode=multi_processing", "--direct_num_workers=2"], 2, 1),
        (["--direct_running_mode=multi_processing", "--direct_num_workers=2"], 8, 4),
        (["--direct_running_mode=multi_threading", "--direct_num_workers=3"], 8, 2),
        (["--direct_running_mode=multi_processing", "--direct_num_workers=0"], 8, 1),  # 0: a worker per core
        (["--runner=DataflowRunner"], 16, 1),  # a process per vCPU already
        (["--runner=PortableRunner"], 16, 1),
        (["--runner=DataflowRunner", "--decode_lanes=3"], 16, 3),  # asked for: as asked
        (["--decode_lanes=1"], 16, 1),
    ],
)
def test_auto_lanes_give_each_parallel_bundle_its_share_of_the_cores(argv, cores, lanes):
    options = PipelineOptions(argv)
    assert decode_lanes(options.view_as(MigrateOptions).decode_lanes, options.get_all_options(), cores) == lanes


def _plan_argv(tmp_path: Path, *more: str) -> list[str]:
    (tmp_path / "m.csv").write_text("source_system,document_id,blob_uri\n")
    return ["--manifest", str(tmp_path / "m.csv"), "--output", str(tmp_path / "out"), *more]


def test_the_plan_carries_the_lanes_and_records_them_resolved(tmp_path):
    plan = plan_from(PipelineOptions(_plan_argv(tmp_path, "--decode_lanes=3")))
    assert plan.settings.decode_lanes == 3
    auto = plan_from(PipelineOptions(_plan_argv(tmp_path, "--runner=DataflowRunner")))
    assert auto.settings.decode_lanes == 1 and json.loads(auto.options_json)["decode_lanes"] == 1
    with pytest.raises(UsageError, match="--decode_lanes"):
        plan_from(PipelineOptions(_plan_argv(tmp_path, "--decode_lanes=-1")))


def _comparable(output: str, name: str, drop: tuple[str, ...]) -> list[str]:
    """A lineage table's rows without what differs by run (its id and times) or by output folder, sorted."""
    rows = []
    for row in read_history(output, name):
        kept = {key: value for key, value in row.items() if key not in drop}
        text = json.dumps(kept, sort_keys=True, default=str)
        rows.append(text.replace(output, "OUT").replace(row["run_id"], "RUN"))  # quarantine evidence is per run
    return sorted(rows)


def _objects(output: str) -> dict[str, str]:
    files = [path for path in Path(output, "objects").rglob("*") if path.is_file()]
    return {str(path.relative_to(output)): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


@pytest.mark.slow
def test_two_lanes_write_the_same_objects_lineage_and_summary_as_one(sample_dump, tmp_path):
    outputs = {}
    for lanes in (1, 2):
        output = str(tmp_path / f"lanes-{lanes}")
        argv = ["--manifest", sample_dump.manifest_path, "--output", output, f"--decode_lanes={lanes}"]
        assert migrate(argv) == 0
        outputs[lanes] = output
    one, two = outputs[1], outputs[2]
    documents = _comparable(one, "documents", ("run_id", "recorded_at"))
    assert documents == _comparable(two, "documents", ("run_id", "recorded_at"))
    assert any('"status": "quarantined"' in row for row in documents)
    assert any('"status": "duplicate"' in row for row in documents)
    assert _comparable(one, "pages", ("run_id",)) == _comparable(two, "pages", ("run_id",))
    assert _objects(one) == _objects(two) and _objects(one)
    summaries = [json.loads(next(Path(out, "lineage").glob("summary-*.json")).read_text()) for out in (one, two)]
    for summary in summaries:
        del summary["run_id"]
    assert summaries[0] == summaries[1] and summaries[0]["totals"]["objects_written"] > 0
    runs = [read_history(out, "runs")[0] for out in (one, two)]
    assert [json.loads(run["options_json"])["decode_lanes"] for run in runs] == [1, 2]
