"""The command line as a person uses it: real processes, real exit codes."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole dumps, emulators or subprocesses: outside the fast loop

ROOT = Path(__file__).resolve().parents[2]


def edms(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "required: command"),
        (("frobnicate",), "invalid choice"),
        (("run",), "--manifest is required"),
        (("run", "--manifest", "m.csv"), "--output is required"),
        (("run", "--manifest", "/nonexistent/m.csv", "--output", "/tmp/x"), "manifest not found"),
        (("run", "--manifest", "m.csv", "--output", "/tmp/x", "--no_such_flag=1"), "unrecognised option"),
        (("sample-dump",), "required: directory"),
        (("run", "--manifest", "m.csv", "--output", "/tmp/x", "--decode_isolation", "sometimes"), "invalid choice"),
        (("run", "--manifest", "m.csv", "--output", "/tmp/x", "--max_pages", "many"), "invalid int value"),
        (("run", "--manifest", "m.csv", "--output", "/tmp/x", "--allowed_formats", "TIFF,DOCX"), "--allowed_formats"),
        (("run", "--manifest", "m.csv", "--output", "/tmp/x", "--max_quarantine_rate", "2"), "between 0 and 1"),
    ],
)
def test_misuse_is_one_line_and_exit_code_2(args, message):
    result = edms(*args)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr, result.stderr


def test_manifest_without_required_columns_fails_fast(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("source_system,id,file\nPAS,1,a.tif\n")
    result = edms("run", "--manifest", str(manifest), "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("lacks required column(s) document_id, blob_uri")
    assert not (tmp_path / "out").exists()


def test_python_dash_m_pipelines_migrate_is_the_same_job(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.migrate", "--output", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 2 and "--manifest is required" in result.stderr


def test_sample_dump_then_run_with_a_relative_output(tmp_path):
    dumped = edms("sample-dump", "dump", cwd=tmp_path)
    assert dumped.returncode == 0, dumped.stderr
    assert (tmp_path / "dump" / "manifest.csv").exists()
    result = edms("run", "--manifest", "dump/manifest.csv", "--output", "migrated", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "every document accounted for: yes" in result.stdout
    assert "TOTAL" in result.stdout and (tmp_path / "migrated" / "objects").is_dir()
    with open(tmp_path / "dump" / "manifest.csv", newline="") as manifest:
        numbers = {row["nhs_number"] for row in csv.DictReader(manifest) if len(row["nhs_number"]) >= 9}
    numbers |= {number.replace(" ", "").replace("-", "") for number in numbers}
    logs = result.stdout + result.stderr
    assert numbers and not [number for number in numbers if number in logs]


def test_sample_dump_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("someone's file")
    result = edms("sample-dump", str(tmp_path))
    assert result.returncode == 2 and "is not empty" in result.stderr
    assert (tmp_path / "keep.txt").read_text() == "someone's file"


def test_demo_twice_in_the_same_folder(tmp_path):
    """The README's first command, run as a new user would, then again: the re-run writes no new object."""
    first = edms("demo", "--output", str(tmp_path / "edms-demo"))
    assert first.returncode == 0, first.stderr[-2000:]
    assert "every document accounted for: yes" in first.stdout and "MEDREC-SCAN" in first.stdout
    report = tmp_path / "edms-demo" / "migrated" / "report.html"
    assert f"report:     {report}" in first.stdout and "MEDREC-SCAN" in report.read_text(encoding="utf-8")
    assert "ONBASE-DIP ← onbase-dip" in first.stdout and "RADIOLOGY-PAGES ← radiology-pages" in first.stdout
    assert "orphans:    2 file(s)" in first.stdout and "57 documents from 5 systems" in first.stdout
    second = edms("demo", "--output", str(tmp_path / "edms-demo"))
    assert second.returncode == 0, second.stderr[-2000:]
    assert "; 0 new objects written" in second.stdout


def test_document_types_file_must_be_readable_json(tmp_path):
    (tmp_path / "m.csv").write_text("source_system,document_id,blob_uri\n")
    (tmp_path / "types.json").write_text('{"PAS": "Clinic Letter"}')
    for types, message in (
        (tmp_path / "nope.json", "cannot read --document_types"),
        (tmp_path / "types.json", "must be a JSON object"),
    ):
        result = edms(
            "run",
            "--manifest",
            str(tmp_path / "m.csv"),
            "--output",
            str(tmp_path / "o"),
            "--document_types",
            str(types),
        )
        assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("profile", "index", "message"),
    [
        (
            {
                "source_system": "X",
                "format": "onbase-dip",
                "manifest": "i.txt",
                "fields": {"document_id": "Item"},
                "pathmap": {},
            },
            "",
            "unknown key(s) 'pathmap'",
        ),
        (
            {"source_system": "X", "format": "onbase-dip", "manifest": "i.txt", "fields": {"document_id": "Item"}},
            "ItemNum,FullPath\r\n1,x\r\n",
            "is not a self-configuring tagged DIP index",
        ),
        (
            {
                "source_system": "X",
                "format": "csv",
                "manifest": "nothing-*.csv",
                "fields": {"document_id": "A", "blob_uri": "B"},
            },
            "",
            "manifest not found",
        ),
    ],
)
def test_an_unusable_profile_or_index_is_one_line_and_exit_code_2(tmp_path, profile, index, message):
    import json

    (tmp_path / "p.json").write_text(json.dumps(profile))
    (tmp_path / "i.txt").write_text(index)
    result = edms("run", "--source", str(tmp_path / "p.json"), "--output", str(tmp_path / "out"))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


def test_a_finished_command_exits_with_its_own_code_after_flushing_and_atexit():
    """exit_without_finalising skips interpreter finalisation (where native threads sometimes aborted a run that
    had succeeded), not the output or the atexit handlers."""
    script = (
        "import atexit, sys\n"
        "from pipelines.console.process import exit_without_finalising\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "print('summary', end=' ')\n"
        "sys.stderr.write('warning')\n"
        "exit_without_finalising(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (3, "summary atexit ran\n", "warning")
    said = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pipelines.console.process import exit_without_finalising; exit_without_finalising('no')",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert (said.returncode, said.stderr) == (1, "no\n")


def test_the_console_script_is_the_exit_safe_entry():
    assert "edms-migrate=pipelines.cli:entry" in (ROOT / "setup.py").read_text()
    assert edms("run", "--no_such_flag").returncode == 2
