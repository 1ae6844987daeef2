"""Ordinary operator mistakes against the evidence, through the real command line: a stray or forged lineage file,
a deleted runs row, two runs at once, a reused run id. Each is refused (exit 2, one line naming the file) or
reported by reconcile, and never sealed into the chain.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.cli import main
from tests.edms_checks import check_every_line, own
from tests.edms_checks import current as current_versions
from tests.lineage_checks import read_table
from tests.pipelines.test_evidence import reconcile
from tests.pipelines.test_failing_runs import write_share_dump
from transforms.lineage.chain import runs_files

pytestmark = pytest.mark.slow  # whole runs of the pipeline
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def share(tmp_path) -> tuple[list[str], Path]:
    profile, output = write_share_dump(tmp_path / "dump"), tmp_path / "out"
    argv = ["--source", str(profile), "--output", str(output)]
    assert main(["run", *argv]) == 0
    return argv, output


def refused(capsys, argv: list[str]) -> str:
    """`edms-migrate run` refusing: exit 2 and exactly one line on stderr; returns it."""
    assert main(["run", *argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def forge(output: Path, name: str, change) -> Path:
    """A valid documents file of the earlier run's rows, changed, under a name of the migration's pattern."""
    source = sorted((output / "lineage").glob("documents-*-j*.parquet"))[0]
    table = pq.read_table(source)
    rows = [change(row) for row in table.to_pylist()]
    forged = output / "lineage" / name.format(key=source.name.split("-")[1])
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), forged)
    return forged


def lineage_names(output: Path) -> set[str]:
    return {path.name for path in (output / "lineage").iterdir()}


def test_a_forged_lineage_file_is_refused_and_reported_never_sealed(share, capsys):
    argv, output = share
    runs_before = len(runs_files(str(output)))

    def as_duplicate(row):
        return {**row, "status": "duplicate", "duplicate_of": "PAS-SCAN/D1"} if row["document_id"] == "D0" else row

    forged = forge(output, "documents-{key}-forged-j0123456789.parquet", as_duplicate)
    line = refused(capsys, argv)
    assert f"lineage file {forged.name} is not signed" in line and "move it out of" in line, line
    code, out, record = reconcile(capsys, *argv)
    assert code == 1 and f"lineage file {forged.name} is in no run's record and is not signed" in out, out
    assert main(["status", *argv]) == 0
    assert "1 lineage file(s) are in no run's record (a run in progress or killed, or files no run" in (
        capsys.readouterr().out
    )
    mis_signed = forged.rename(forged.with_name(forged.stem + ".mac-" + "0" * 32 + ".parquet"))
    assert f"lineage file {mis_signed.name} does not match its signature" in refused(capsys, argv)
    assert len(runs_files(str(output))) == runs_before  # nothing was sealed
    assert not any(
        mis_signed.name in entry for row in read_table(str(output), "runs") for entry in row["lineage_files"]
    )
    mis_signed.unlink()  # the operator moves it away: the next run starts
    assert main(["run", *argv]) == 0
    assert reconcile(capsys, *argv)[0] == 0


def test_a_deleted_runs_row_is_refused_before_and_after_a_reconciliation(share, tmp_path, capsys):
    argv, output = share
    assert main(["run", *argv]) == 0
    newest = max(runs_files(str(output)), key=lambda uri: Path(uri).stat().st_mtime_ns)
    saved = Path(newest).read_bytes()
    Path(newest).unlink()  # no reconciliation since: only the lease knows that run was not killed
    line = refused(capsys, argv)
    assert "belongs to no run this one may resume" in line and "was its runs row removed?" in line, line
    code, out, _ = reconcile(capsys, *argv)
    assert code == 1 and "is in no run's record" in out
    Path(newest).write_bytes(saved)
    assert reconcile(capsys, *argv)[0] == 0  # the head is recorded now
    Path(newest).unlink()
    line = refused(capsys, argv)
    assert "the chain's head when reconciliation" in line and "is gone" in line, line
    Path(newest).write_bytes(saved)
    oldest = min(runs_files(str(output)), key=lambda uri: Path(uri).stat().st_mtime_ns)
    Path(oldest).rename(tmp_path / "away.parquet")  # a gap: the later row no longer links
    line = refused(capsys, argv)
    assert "the runs row before it is missing or edited" in line, line
    Path(tmp_path / "away.parquet").rename(oldest)
    assert main(["run", *argv]) == 0 and reconcile(capsys, *argv)[0] == 0


def test_a_runs_row_not_signed_with_the_key_is_refused(share, capsys):
    argv, output = share
    [uri] = runs_files(str(output))
    row = pq.read_table(uri).to_pylist()[0]
    unsigned = Path(uri).with_name(f"runs-{row['migration_key']}-forged-00000-of-00001.parquet")
    forged_row = {**row, "run_id": "forged", "previous_run_sha256": "", "lineage_files": []}
    pq.write_table(pa.Table.from_pylist([forged_row], schema=pq.read_table(uri).schema), unsigned)
    assert f"runs file {unsigned.name} is not signed" in refused(capsys, argv)


def test_two_runs_started_together_one_is_refused_and_the_chain_holds(share, capsys):
    argv, output = share
    command = [sys.executable, "-m", "pipelines.cli", "run", *argv]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    jobs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(job.wait(timeout=600), job.stderr.read()) for job in jobs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    [(_, message)] = [(code, err) for code, err in results if code == 2]
    lines = [line for line in message.splitlines() if " INFO " not in line]  # the log's lines apart: one error
    assert len(lines) == 1 and "is leased to run" in lines[0] and "one run at a time per output" in lines[0], lines
    assert len(runs_files(str(output))) == 2  # the refused run wrote nothing
    code, out, _ = reconcile(capsys, *argv)
    assert code == 0, out


def test_a_held_lease_names_its_holder_and_a_stale_one_is_broken_only_with_the_flag(share, capsys):
    from pipelines.launch.lease import OutputLease
    from transforms.privacy.evidence_key import evidence_key
    from transforms.privacy.patient_key import default_key_path

    argv, output = share
    key = evidence_key(default_key_path().read_bytes().strip())
    OutputLease(str(output), key, host="batch-host-2", pid=4242).acquire("elsewhere")
    line = refused(capsys, argv)
    assert "leased to run elsewhere (host batch-host-2, pid 4242" in line, line
    old = 1_000_000_000  # 2001: far beyond the stated stale time
    for path in (output / "lease").iterdir():
        os.utime(path, (old, old))
    assert "re-run with --break_stale_lease" in refused(capsys, argv)
    assert main(["run", *argv, "--run_id", "breaker", "--break_stale_lease"]) == 0
    runs = {row["run_id"]: row for row in read_table(str(output), "runs")}
    lease = json.loads(runs["breaker"]["lease"])
    assert lease["took_over"]["run_id"] == "elsewhere" and "--break_stale_lease" in lease["took_over"]["how"]
    assert json.loads(runs["breaker"]["options_json"])["break_stale_lease"] is True
    assert reconcile(capsys, *argv)[0] == 0


def test_a_run_id_with_lineage_is_refused_sealed_or_not(share, capsys):
    argv, output = share
    assert main(["run", *argv, "--run_id", "once"]) == 0
    assert "run id once is already recorded" in refused(capsys, [*argv, "--run_id", "once"])
    names = lineage_names(output)
    summary = next(name for name in names if "-once.mac-" in name and name.startswith("summary-"))
    shutil.copy(output / "lineage" / summary, output / "lineage" / summary.replace("-once.", "-twice."))
    line = refused(capsys, [*argv, "--run_id", "twice"])
    assert "run id twice already has lineage file" in line, line


def test_after_a_killed_run_the_canonical_twin_is_the_uninterrupted_runs(tmp_path, capsys):
    """Twins T1 < T2 (same patient, same pixels). A run killed after migrating T2 but not T1 (the state kill -9
    leaves: its files, signed; no runs row; its lease neither released nor abandoned, its process gone), then a
    run that resumes it: T1 is canonical, as in a run never interrupted, and the resumed run counts T2's row."""
    from tests.images import bilevel_page, encode
    from tests.pipelines.test_resume_and_waves import write_access_log, write_manifest

    manifest = write_manifest(tmp_path / "dump", 1)
    (tmp_path / "dump" / "t.png").write_bytes(encode(bilevel_page(seed=50).convert("L"), "PNG"))
    with manifest.open("a") as handle:
        handle.write("PAS,T1,t.png,9434765919,Letter,2020-03-01\nPAS,T2,t.png,9434765919,Letter,2020-03-02\n")
    argv = ["--manifest", str(manifest)]
    uninterrupted = tmp_path / "uninterrupted"
    assert main(["run", *argv, "--output", str(uninterrupted)]) == 0
    expected = {row["document_id"]: row["duplicate_of"] for row in read_table(str(uninterrupted), "documents")}
    assert expected == {"D0": None, "T1": None, "T2": "PAS/T1"}

    output = tmp_path / "out"
    log = write_access_log(tmp_path / "access.csv", {"T2": 9})
    command = [sys.executable, "-m", "pipelines.cli", "run", *argv, "--output", str(output), "--run_id", "killed"]
    done = subprocess.run(
        [*command, "--access_log", str(log), "--max_documents", "1"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [runs_row] = runs_files(str(output))
    Path(runs_row).unlink()  # as if killed before its row: the files stay, the lease is neither released nor ...
    (output / "lease" / "0000000001.released").unlink()  # ... abandoned, and its process is gone
    assert "run id killed already has lineage file" in refused(
        capsys, [*argv, "--output", str(output), "--run_id", "killed"]
    )
    assert main(["run", *argv, "--output", str(output), "--run_id", "resumed"]) == 0
    current = {row["document_id"]: row for row in read_table(str(output), "documents")}
    assert {name: row["duplicate_of"] for name, row in current.items()} == expected
    runs = {row["run_id"]: row for row in read_table(str(output), "runs")}
    assert json.loads(runs["resumed"]["lease"])["adopted"] == ["killed"]
    assert runs["resumed"]["duplicate"] == 1 and runs["resumed"]["balanced"]  # T2's row, written late, counted
    # T2, settled late as a duplicate, keeps no current record of its own: the one the killed run wrote is
    # superseded, and T2's legacy id is on T1's record, which this run held back until it had it.
    code, out, record = reconcile(capsys, *argv, "--output", str(output))
    assert code == 0, out
    documents, _ = check_every_line(output / "fhir")
    records = [resource for resource in current_versions(documents).values() if resource["status"] == "current"]
    by_own = {own(resource)[1]: resource for resource in records}
    assert sorted(by_own) == ["D0", "T1"]
    assert [identifier["value"] for identifier in by_own["T1"]["identifier"]] == ["T1", "T2"]
    superseded = [resource for resource in current_versions(documents).values() if resource["status"] == "superseded"]
    assert [own(resource)[1] for resource in superseded] == ["T2"]
