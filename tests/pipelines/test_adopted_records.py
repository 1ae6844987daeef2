"""Issue 19 with issue 18's resume: the EDMS records a run killed mid-run owed are written by the run resuming it.

A kill -9 after the per-document step journaled its documents, and before de-duplication and the NDJSON, leaves
journal files (lineage and EDMS) and nothing else of the run. Here that state is made exactly: a real run, in its
own process, then everything it wrote after its journal removed (its table files, summary, runs row and NDJSON),
and its lease left neither released nor abandoned. The real kill -9 is tests/pipelines/test_resume_and_waves.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.edms_checks import check_every_line, own
from tests.edms_checks import current as current_versions
from tests.images import bilevel_page, encode
from tests.lineage_checks import read_table
from tests.pipelines.test_evidence import reconcile
from tests.pipelines.test_resume_and_waves import write_access_log, write_manifest

pytestmark = pytest.mark.slow  # whole runs of the pipeline
ROOT = Path(__file__).resolve().parents[2]


def killed_mid_run(output: Path, run_id: str) -> None:
    """Remove what a run writes after its per-document step's journal, as a kill -9 there would have."""
    for path in (output / "lineage").iterdir():
        if f"-{run_id}" in path.name and f"-{run_id}-j" not in path.name:
            path.unlink()
    for path in (output / "fhir").iterdir():
        if f"-{run_id}" in path.name:
            path.unlink()
    (output / "lease" / "0000000001.released").unlink()


def current_records(output: Path) -> dict[str, dict]:
    """Each current DocumentReference by its own legacy id, after checking every line."""
    documents, _ = check_every_line(output / "fhir")
    return {own(r)[1]: r for r in current_versions(documents).values() if r["status"] == "current"}


@pytest.mark.parametrize("killed_migrated", [("T1", "T2"), ("T1",), ("T2",)])
def test_a_killed_runs_records_are_written_by_its_resumption_with_twins_settled(tmp_path, capsys, killed_migrated):
    """Twins T1 < T2 (same patient, same pixels), and D0. Whichever twins the killed run migrated, the resumed
    run leaves one current record for T1 carrying T2's id, none for T2, and one for D0; reconcile passes."""
    manifest = write_manifest(tmp_path / "dump", 1)
    (tmp_path / "dump" / "t.png").write_bytes(encode(bilevel_page(seed=50).convert("L"), "PNG"))
    with manifest.open("a") as handle:
        handle.write("PAS,T1,t.png,9434765919,Letter,2020-03-01\nPAS,T2,t.png,9434765919,Letter,2020-03-02\n")
    output, argv = tmp_path / "out", ["--manifest", str(manifest)]
    log = write_access_log(tmp_path / "access.csv", dict.fromkeys(killed_migrated, 9))
    command = [sys.executable, "-m", "pipelines.cli", "run", *argv, "--output", str(output), "--run_id", "killed"]
    done = subprocess.run(
        [*command, "--access_log", str(log), "--max_documents", str(len(killed_migrated))],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    killed_mid_run(output, "killed")
    assert not list((output / "fhir").glob("DocumentReference-*.ndjson"))  # nothing of its records but the journal
    assert list((output / "edms-journal" / "killed").glob("killed-j*.mac-*.parquet"))

    assert main(["run", *argv, "--output", str(output), "--run_id", "resumed"]) == 0
    outcomes = {row["document_id"]: row["duplicate_of"] for row in read_table(str(output), "documents")}
    assert outcomes == {"D0": None, "T1": None, "T2": "PAS/T1"}
    records = current_records(output)
    assert sorted(records) == ["D0", "T1"]
    assert [identifier["value"] for identifier in records["T1"]["identifier"]] == ["T1", "T2"]
    code, out, record = reconcile(capsys, *argv, "--output", str(output))
    assert code == 0 and record["checks"]["edms"]["holds"], out

    assert main(["run", *argv, "--output", str(output), "--run_id", "again"]) == 0  # nothing owed any more
    assert current_records(output) == records


def test_an_edited_edms_journal_is_not_read_as_a_record(tmp_path, capsys):
    """The EDMS journal is signed: a journal file whose bytes changed is not written as anyone's record, so the
    document it held has none, and reconcile names it."""
    manifest = write_manifest(tmp_path / "dump", 2)
    output, argv = tmp_path / "out", ["--manifest", str(manifest)]
    command = [sys.executable, "-m", "pipelines.cli", "run", *argv, "--output", str(output), "--run_id", "killed"]
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    assert done.returncode == 0, done.stderr
    killed_mid_run(output, "killed")
    [journal] = (output / "edms-journal" / "killed").glob("killed-j*.parquet")
    journal.write_bytes(journal.read_bytes() + b"\0")
    assert main(["run", *argv, "--output", str(output), "--run_id", "resumed"]) == 0
    assert not list((output / "fhir").glob("DocumentReference-*.ndjson")) or not current_records(output)
    code, out, record = reconcile(capsys, *argv, "--output", str(output))
    assert code == 1 and record["checks"]["edms"]["failures"] == [
        "PAS/D0: migrated, with 0 current DocumentReference(s), not one",
        "PAS/D1: migrated, with 0 current DocumentReference(s), not one",
    ], out
