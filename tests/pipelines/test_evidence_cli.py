"""`status` and `reconcile` misuse: one line on stderr and exit code 2, before any lineage is read."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from pipelines.operate.reconcile_checks import Verify


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_text("source_system,document_id,blob_uri\nPAS,1,a.tif\n")
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reconcile", "--output", "OUT"), "reconcile needs the manifests it proves: --manifest and/or --source"),
        (("reconcile", "--output", "OUT", "--manifest", "M", "--verify_objects", "sample:0"), "--verify_objects"),
        (("reconcile", "--output", "OUT", "--manifest", "M", "--verify_objects", "some"), "all or sample:N"),
        (("status", "--output", "OUT", "--manifest", "/nonexistent/m.csv"), "manifest not found"),
        (("status", "--output", "OUT", "--manifest", "M", "--access_log", "/nonexistent/a.csv"), "--access_log"),
    ],
)
def test_misuse_is_one_line_and_exit_code_2(args, message, manifest, tmp_path, capsys):
    argv = [str(tmp_path / "out") if a == "OUT" else manifest if a == "M" else a for a in args]
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_an_access_log_without_its_columns_is_misuse(manifest, tmp_path, capsys):
    log = tmp_path / "access.csv"
    log.write_text("system,id,hits\nPAS,1,3\n")
    assert main(["status", "--output", str(tmp_path / "out"), "--manifest", manifest, "--access_log", str(log)]) == 2
    assert "lacks column(s) access_count, document_id, source_system" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["status", "reconcile"])
def test_output_is_required(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command])
    assert exit_.value.code == 2 and "--output" in capsys.readouterr().err


def test_verify_objects_all_or_a_sample_per_source():
    assert str(Verify.parse("all", 7)) == "all" and Verify.parse("all", 7).chosen("s", "k") == "TRUE"
    sample = Verify.parse("sample:25", 7)
    assert (sample.sample, str(sample)) == (25, "sample:25")
    assert sample.chosen("p.source_system", "p.object_uri") == (
        "ROW_NUMBER() OVER (PARTITION BY p.source_system ORDER BY hash(p.object_uri || '7')) <= 25"
    )


def test_status_of_a_manifest_before_any_run(manifest, tmp_path, capsys):
    assert main(["status", "--output", str(tmp_path / "out"), "--manifest", manifest]) == 0
    out = capsys.readouterr().out
    assert "outstanding: 1 never read" in out and "time left: unknown" in out
