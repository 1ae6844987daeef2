"""Issue 18 item 3 through the command line: a repeated document id never replaces its first row's outcome."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from tests.images import bilevel_page, encode
from tests.lineage_checks import read_history, read_table
from tests.pipelines.test_evidence import reconcile
from tests.pipelines.test_resume_and_waves import NHS, write_manifest

pytestmark = pytest.mark.slow  # whole runs of the pipeline


def test_a_repeated_id_stays_migrated_over_three_runs_and_is_never_re_read(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "dump", 3)
    (tmp_path / "dump" / "other.png").write_bytes(encode(bilevel_page(seed=99).convert("L"), "PNG"))
    with manifest.open("a") as handle:  # D1 again, further down, naming other bytes
        handle.write(f"PAS,D1,other.png,{NHS},Letter,2021-02-03\n")
    argv = ["--manifest", str(manifest), "--output", str(tmp_path / "out")]
    for run in ("one", "two", "three"):
        assert main(["run", *argv, "--run_id", run]) == 0
        current = {row["document_id"]: row for row in read_table(str(tmp_path / "out"), "documents")}
        assert current["D1"]["status"] == "migrated" and current["D1"]["run_id"] == "one", current["D1"]
    history = [row for row in read_history(str(tmp_path / "out"), "documents")]
    assert [(row["run_id"], row["status"]) for row in history if row["document_id"] == "D1"] == [("one", "migrated")]
    repeats = sorted((row["run_id"], row["status"]) for row in history if row["document_id"].startswith("D1~"))
    assert repeats == [(run, "quarantined") for run in ("one", "three", "two")]  # the repeat: quarantined each time
    code, out, _ = reconcile(capsys, *argv)
    assert code == 0, out
    assert main(["status", *argv]) == 0
    assert "repeated ids: 1 further manifest row(s) reuse a document id" in capsys.readouterr().out
