"""OpenLineage events of a real run: the JSON-lines fallback, and openlineage-python's own configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.launch.launcher import migrate
from pipelines.launch.openlineage_events import RunLineage, openlineage_configured, written_events
from tests.lineage_checks import nhs_number_spellings

pytestmark = pytest.mark.slow  # whole dumps, emulators or subprocesses: outside the fast loop


@pytest.fixture(scope="module")
def unconfigured_run(sample_dump, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("ol") / "out")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG"):
            patch.delenv(name, raising=False)
        patch.chdir(tmp_path_factory.mktemp("cwd"))
        assert not openlineage_configured()
        assert migrate(["--manifest", sample_dump.manifest_path, "--output", output, "--run_id", "ol-1"]) == 0
    return output


def test_start_and_complete_are_written_under_lineage_without_configuration(unconfigured_run, sample_dump):
    files = sorted(Path(unconfigured_run, "lineage").glob("openlineage-ol-1-*.jsonl"))
    assert [f.name for f in files] == ["openlineage-ol-1-1-START.jsonl", "openlineage-ol-1-2-COMPLETE.jsonl"]
    lines = [line for f in files for line in f.read_text().splitlines()]
    start, complete = (json.loads(line) for line in lines)
    assert written_events(str(unconfigured_run), "ol-1") == [start, complete]
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"] and start["job"] == complete["job"]
    assert [i["name"] for i in complete["inputs"]] == [str(Path(sample_dump.manifest_path).resolve())]
    outputs = {o["name"]: o for o in complete["outputs"]}
    assert f"{unconfigured_run}/objects" in outputs
    documents = outputs[f"{unconfigured_run}/lineage/documents"]
    assert documents["outputFacets"]["outputStatistics"]["rowCount"] == len(sample_dump.documents)
    assert [f["name"] for f in documents["facets"]["schema"]["fields"]][:2] == ["run_id", "run_date"]
    outcomes = complete["run"]["facets"]["edms_outcomes"]
    summary = json.loads(next(Path(unconfigured_run, "lineage").glob("summary-*.json")).read_text())
    assert outcomes["totals"] == summary["totals"] and outcomes["balanced"] is True
    assert sum(outcomes["totals"][s] for s in ("migrated", "duplicate", "quarantined")) == len(sample_dump.documents)
    text = "\n".join(lines)
    assert not [n for n in nhs_number_spellings(sample_dump) if n in text]


def test_openlineage_configuration_is_followed_instead_of_the_fallback(tmp_path, monkeypatch):
    sink = tmp_path / "events.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(sink))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    assert openlineage_configured()
    events = RunLineage(run_id="r1", migration_key="k", manifests=("/m.csv",), output_prefix=str(tmp_path / "out"))
    events.start()
    events.fail(RuntimeError("worker lost"))
    start, fail = (json.loads(line) for line in sink.read_text().splitlines())
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert "worker lost" in fail["run"]["facets"]["errorMessage"]["message"]
    assert not (tmp_path / "out").exists()
