"""Issue 18 item 10 through the command line: a FIFO as --manifest is refused rather than hanging the launcher;
reconcile and status on a prefix holding no migration say so, and create nothing there."""

from __future__ import annotations

import os

from pipelines.cli import main
from tests.pipelines.test_resume_and_waves import write_manifest


def one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edms-migrate: error: "), lines
    return lines[0]


def test_a_fifo_as_manifest_is_refused_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "manifest.csv"
    os.mkfifo(fifo)  # nobody writes to it: opening it would block forever
    for command in (["run", "--output", str(tmp_path / "out")], ["status", "--output", str(tmp_path / "out")]):
        assert main([*command, "--manifest", str(fifo)]) == 2
        assert f"--manifest {fifo} is a FIFO (named pipe), not a file" in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_reconcile_of_a_prefix_holding_no_migration_says_so_and_writes_nothing(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "dump", 1)
    typo = tmp_path / "migratoin"
    assert main(["reconcile", "--output", str(typo), "--manifest", str(manifest)]) == 2
    assert f"{typo} holds no migration (no lineage under it): check --output" in one_error_line(capsys)
    assert not typo.exists()
    assert main(["status", "--output", str(typo), "--manifest", str(manifest)]) == 0
    assert f"note: {typo} holds no migration yet" in capsys.readouterr().out
    assert not typo.exists()
