"""Lineage from a detached job: the launcher emits START and returns; the job's final step emits COMPLETE or FAIL.

The DirectRunner runs the job inside pipeline.run(), so a detached launch here still finishes before run()
returns; what the tests show is who emits what: the launcher's START, then the job's own end event, and no
launcher-side summary.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.launch.launcher import run
from pipelines.launch.openlineage_events import written_events
from tests.images import multipage_g4
from transforms.lineage.summary import check_failure

SUMMARY = {
    "balanced": True,
    "totals": {"manifest_documents": 10, "quarantined": 8, "migrated": 2, "duplicate": 0, "pages": 4},
}


def test_the_runs_own_checks_decide_complete_or_fail():
    assert check_failure(SUMMARY, 0.8) is None
    assert check_failure(SUMMARY, 0.5) == "80% of documents were quarantined, over --max_quarantine_rate 0.5"
    assert check_failure({**SUMMARY, "balanced": False}, 0.8) == "documents in ≠ documents out for some source system"
    assert check_failure({**SUMMARY, "totals": {**SUMMARY["totals"], "manifest_documents": 0}}, 0.8) is None


def manifest(folder: Path, *, blobs_exist: bool) -> Path:
    if blobs_exist:
        (folder / "a.tif").write_bytes(multipage_g4(2))
        (folder / "b.tif").write_bytes(multipage_g4(1))
    rows = "".join(f"PAS,{name},{name}.tif,,Clinic Letter,2020-01-02\n" for name in ("a", "b"))
    path = folder / "manifest.csv"
    path.write_text("source_system,document_id,blob_uri,nhs_number,document_type,document_date\n" + rows)
    return path


def events(output: Path, run_id: str) -> list[dict]:
    return written_events(str(output), run_id)


@pytest.fixture
def no_openlineage_config(monkeypatch, tmp_path):
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.slow
def test_a_detached_run_ends_with_the_jobs_own_complete_event(tmp_path, capsys, no_openlineage_config):
    output = tmp_path / "out"
    argv = ["--manifest", str(manifest(tmp_path, blobs_exist=True)), "--output", str(output), "--run_id", "det-1"]
    assert run([*argv, "--detached"]) == 0
    out = capsys.readouterr().out
    assert "not waiting (--detached)" in out and "every document accounted for" not in out
    start, complete = events(output, "det-1")
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"]
    summary = json.loads(next((output / "lineage").glob("summary-*.json")).read_text())
    assert complete["run"]["facets"]["edms_outcomes"]["totals"] == summary["totals"]
    assert summary["totals"]["migrated"] == 2


@pytest.mark.slow
def test_a_detached_run_over_the_quarantine_rate_ends_with_the_jobs_fail_event(tmp_path, capsys, no_openlineage_config):
    output = tmp_path / "out"
    argv = ["--manifest", str(manifest(tmp_path, blobs_exist=False)), "--output", str(output), "--run_id", "det-2"]
    assert run([*argv, "--detached"]) == 0  # submitted; the job's end is the event's to tell
    start, fail = events(output, "det-2")
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert "100% of documents were quarantined" in fail["run"]["facets"]["errorMessage"]["message"]
    assert fail["run"]["facets"]["edms_outcomes"]["totals"]["quarantined"] == 2


@pytest.mark.slow
def test_a_configured_openlineage_client_gets_the_jobs_event(tmp_path, monkeypatch, capsys):
    sink = tmp_path / "events.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(sink))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    output = tmp_path / "out"
    argv = ["--manifest", str(manifest(tmp_path, blobs_exist=True)), "--output", str(output), "--run_id", "det-3"]
    assert run([*argv, "--detached"]) == 0
    kinds = [json.loads(line)["eventType"] for line in sink.read_text().splitlines()]
    assert kinds == ["START", "COMPLETE"]
    assert not list((output / "lineage").glob("openlineage-det-3*"))
