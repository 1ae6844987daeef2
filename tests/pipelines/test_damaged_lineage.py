"""Issue 18 item 7 through the command line: a truncated lineage Parquet is one line naming it and what to do from
run, status, report and reconcile (which fails naming it); nothing is deleted."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from tests.pipelines.test_evidence import reconcile
from tests.pipelines.test_evidence_guard import share  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow  # whole runs of the pipeline


def one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edms-migrate: error: "), lines
    return lines[0]


def test_a_truncated_lineage_file_is_one_line_from_every_command(share, tmp_path, capsys):  # noqa: F811
    argv, output = share
    damaged = sorted((output / "lineage").glob("documents-*-j*.parquet"))[0]
    truncated = damaged.read_bytes()[: damaged.stat().st_size // 2]
    damaged.write_bytes(truncated)
    expected = f"lineage file {damaged.name} cannot be read"
    assert main(["run", *argv]) == 2
    line = one_error_line(capsys)
    assert expected in line and "restore it from a copy" in line, line
    assert main(["status", *argv]) == 2
    assert expected in one_error_line(capsys)
    assert main(["report", str(output)]) == 2
    assert expected in one_error_line(capsys)
    assert main(["report", str(output), "--out", str(tmp_path / "report.html")]) == 2
    line = one_error_line(capsys)
    assert expected in line and "pass --out" not in line, line
    code, out, record = reconcile(capsys, *argv)
    assert code == 1 and expected in out and record["verdict"] == "fail", out
    assert damaged.read_bytes() == truncated  # nothing deleted or repaired behind the operator's back


def test_report_out_names_its_own_failure_without_suggesting_out(share, tmp_path, capsys):  # noqa: F811
    _, output = share
    blocker = tmp_path / "a-file"  # a file where the folder would be: no one can write under it, root included
    blocker.write_text("")
    assert main(["report", str(output), "--out", str(blocker / "report.html")]) == 2
    line = one_error_line(capsys)
    assert f"cannot write {blocker / 'report.html'}" in line and "pass --out" not in line, line
