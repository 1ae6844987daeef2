"""Issue 10 through the real pipeline: waves by priority, resume, kill -9 and re-run, duplicates across runs."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipelines.launch.launcher import migrate
from tests.images import bilevel_page, encode
from tests.lineage_checks import read_history, read_table
from tests.pipelines.test_evidence import reconcile

pytestmark = pytest.mark.slow  # whole runs of the pipeline
ROOT = Path(__file__).resolve().parents[2]
NHS = "9434765919"


def write_manifest(folder: Path, documents: int, *, first_seed: int = 0, name: str = "manifest.csv") -> Path:
    """Distinct single-page documents of one patient, each with its own date."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "document_id", "blob_uri", "nhs_number", "document_type", "document_date"])
        for number in range(documents):
            seed = first_seed + number
            blob = f"d{seed}.png"
            (folder / blob).write_bytes(encode(bilevel_page(seed=seed).convert("L"), "PNG"))
            writer.writerow(["PAS", f"D{seed}", blob, NHS, "Letter", f"2020-01-{1 + number % 28:02d}"])
    return folder / name


def write_access_log(path: Path, counts: dict[str, int]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "document_id", "access_count", "last_accessed"])
        for document_id, count in counts.items():
            writer.writerow(["PAS", document_id, count, "2026-11-01"])
    return path


def migrated_in(output: Path, run_id: str) -> set[str]:
    return {row["document_id"] for row in read_history(str(output), "documents") if row["run_id"] == run_id}


def test_waves_migrate_the_most_opened_outstanding_documents_first(tmp_path):
    manifest = write_manifest(tmp_path / "dump", 6)
    # D3 most opened; D1 and D4 tie on count, so the later document date (D4) goes first; D0, D2, D5 not in the log
    log = write_access_log(tmp_path / "access.csv", {"D3": 50, "D1": 7, "D4": 7})
    output = tmp_path / "out"
    base = ["--manifest", str(manifest), "--output", str(output), "--access_log", str(log), "--max_documents", "2"]
    assert migrate([*base, "--run_id", "wave-1"]) == 0
    assert migrated_in(output, "wave-1") == {"D3", "D4"}
    assert migrate([*base, "--run_id", "wave-2"]) == 0
    assert migrated_in(output, "wave-2") == {"D1", "D5"}  # the log's last, then the newest of the rest
    assert migrate([*base, "--run_id", "wave-3"]) == 0
    assert migrated_in(output, "wave-3") == {"D2", "D0"}
    assert migrate([*base, "--run_id", "wave-4"]) == 0
    assert migrated_in(output, "wave-4") == set()  # nothing outstanding: nothing read
    assert {row["status"] for row in read_table(str(output), "documents")} == {"migrated"}
    runs = {row["run_id"]: row for row in read_table(str(output), "runs")}
    assert runs["wave-1"]["deferred"] == 4 and runs["wave-2"]["already_done"] == 2 and runs["wave-4"]["deferred"] == 0


def test_a_document_like_one_an_earlier_run_migrated_is_its_duplicate(tmp_path):
    output = tmp_path / "out"
    first = write_manifest(tmp_path / "first", 2)
    assert migrate(["--manifest", str(first), "--output", str(output), "--run_id", "early"]) == 0
    later = write_manifest(tmp_path / "later", 1, first_seed=1, name="later.csv")  # the same page as D1
    rows = (tmp_path / "later" / "later.csv").read_text().replace("PAS,D1,", "ECM,E1,")
    (tmp_path / "later" / "later.csv").write_text(rows)
    assert migrate(["--manifest", str(later), "--output", str(output), "--run_id", "late"]) == 0
    current = {(row["source_system"], row["document_id"]): row for row in read_table(str(output), "documents")}
    assert current[("ECM", "E1")]["status"] == "duplicate" and current[("ECM", "E1")]["duplicate_of"] == "PAS/D1"
    assert current[("PAS", "D1")]["status"] == "migrated" and current[("PAS", "D1")]["run_id"] == "early"


#: The real job, with one addition at the OS boundary: after its third lineage journal file is linked into place,
#: the journal's thread says so on stdout and waits there. The job is then killed at a point the test knows, with
#: some work recorded and the rest not yet done, instead of whenever a poll happened to look.
HELD_AFTER_THIRD_JOURNAL = """
import os, re, sys, threading
from pipelines.cli import main
real_link, journalled = os.link, []
def link(source, destination, *args, **kwargs):
    real_link(source, destination, *args, **kwargs)
    if re.search(r"documents-[^/]*-killed-j[^/]*[.]parquet$", os.fspath(destination)):
        journalled.append(destination)
        if len(journalled) == 3:
            print("three journal files written", flush=True)
            threading.Event().wait()
os.link = link
sys.exit(main(sys.argv[1:]))
"""


def kill_when_held(script: str, argv: list[str], held: str) -> None:
    """Run `script` (the CLI with a hook that prints `held` and waits) in a session of its own; once it says it is
    held mid-run, kill -9 its whole process group."""
    job = subprocess.Popen(
        [sys.executable, "-c", script, *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    guard = threading.Timer(240, os.killpg, (job.pid, signal.SIGKILL))  # only against a hang: no line, no wait
    guard.start()
    try:
        for line in job.stdout:  # blocks until the job says it, or ends (EOF)
            if line.strip() == held:
                break
        else:
            pytest.fail(f"the job ended (or hung) before saying {held!r}")
    finally:
        guard.cancel()
    assert job.poll() is None  # held mid-run, not finished
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()


def test_a_job_killed_mid_run_resumes_with_one_current_outcome_each_and_nothing_redone(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "dump", 60)
    output = tmp_path / "out"
    args = ["run", "--manifest", str(manifest), "--output", str(output)]
    argv = [*args, "--run_id", "killed", "--lineage_flush_documents", "5", "--decode_isolation", "never"]
    kill_when_held(HELD_AFTER_THIRD_JOURNAL, argv, "three journal files written")
    recorded = migrated_in(output, "killed")
    assert 0 < len(recorded) < 60
    reused = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args, "--run_id", "killed"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert reused.returncode == 2 and "run id killed already has lineage file" in reused.stderr  # never reused
    assert migrate(["--manifest", str(manifest), "--output", str(output), "--run_id", "resumed"]) == 0
    current = read_table(str(output), "documents")
    assert sorted(row["document_id"] for row in current) == sorted(f"D{n}" for n in range(60))
    assert {row["status"] for row in current} == {"migrated"}
    assert migrated_in(output, "resumed") == {f"D{n}" for n in range(60)} - recorded  # only the unfinished
    for page in read_table(str(output), "pages"):
        assert Path(page["object_uri"]).is_file()  # no object lost
    # The killed run journaled its documents' EDMS records; the resumed run wrote them: reconcile passes whole.
    code, out, record = reconcile(capsys, "--manifest", str(manifest), "--output", str(output))
    assert code == 0, out
    assert record["checks"]["edms"]["holds"] and record["checks"]["edms"]["checked"] == 60
