"""Issue 18 item 9 through the command line: `run` and `status` read the access log one way (the same counts, the
same tolerance of ragged rows and of bytes that are not UTF-8), and neither quotes the file in an error."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from pipelines.operate.inventory import plan_sources
from pipelines.operate.status import build_status
from tests.lineage_checks import read_table
from tests.pipelines.test_resume_and_waves import write_manifest

pytestmark = pytest.mark.slow  # a run of the pipeline


def test_run_and_status_rank_the_same_counts_the_same_way(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "dump", 5)
    log = tmp_path / "access.csv"
    log.write_bytes(
        b"source_system,document_id,access_count,last_accessed\n"
        b"PAS,D0,-5,2024-01-01\n"
        b"PAS,D1,abc,2024-01-01\n"
        b"PAS,D2," + b"1" + b"0" * 23 + b",2024-01-01\n"
        b"PAS,D3,12\n"  # ragged: no last_accessed
        b"PAS,D4,3,2024-01-01,an extra cell\n"
        b"PAS,SECRET-\xff\xfe-ROW,99,2024-01-01\n"  # not UTF-8: matches no document, never quoted
    )
    argv = ["--manifest", str(manifest), "--output", str(tmp_path / "out")]
    assert main(["status", *argv, "--access_log", str(log)]) == 0
    captured = capsys.readouterr()
    assert "SECRET" not in captured.out + captured.err and "lacks column" not in captured.err
    prefix, sources, _ = plan_sources(str(tmp_path / "out"), [str(manifest)], [])
    status = build_status(prefix, sources, str(log))
    tiers = {tier: status.total(tier)["documents"] for tier in ("hot", "warm", "cold")}
    assert tiers == {"hot": 2, "warm": 1, "cold": 2}  # D2 (10^23) and D3 (12) hot, D4 warm, D0 and D1 no access
    ranked = []
    for wave in ("w1", "w2", "w3"):
        assert main(["run", *argv, "--access_log", str(log), "--max_documents", "1", "--run_id", wave]) == 0
        ranked += [
            row["document_id"] for row in read_table(str(tmp_path / "out"), "documents") if row["run_id"] == wave
        ]
    assert ranked == ["D2", "D3", "D4"]  # run's order: the hot tier first, 10^23 before 12, then warm
    assert "SECRET" not in capsys.readouterr().err
