"""The run chain on real files: runs rows written as the launcher writes them, over lineage files on disk.

No pipeline here (tests/pipelines/test_evidence.py runs the real one): each "run" writes a few lineage files and
then its runs row, which is all the chain sees of a run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.tables import RUNS
from transforms.lineage.chain import (
    chain_fields,
    recorded_runs,
    row_sha256,
    runs_files,
    verify_chain,
    write_runs_row,
)

START = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def runs_row(prefix: Path, run_id: str, hour: int, **fields: object) -> dict:
    """A runs row as the launcher makes it, with its chain fields over the lineage under prefix (and `fields`)."""
    started = START + dt.timedelta(hours=hour)
    return RUNS.row(
        run_id=run_id,
        run_date=started.date(),
        started_at=started,
        finished_at=started + dt.timedelta(minutes=30),
        migration_key="k",
        output_prefix=str(prefix),
        balanced=True,
        **dict.fromkeys(("manifest_documents", "migrated", "duplicate", "quarantined", "pages"), 0),
        **dict.fromkeys(("bytes_in", "bytes_out", "objects_written"), 0),
        **chain_fields(str(prefix)),
        **fields,
    )


def run(prefix: Path, run_id: str, hour: int, files: dict[str, bytes]) -> None:
    """A run that wrote `files` under lineage/ and then recorded itself."""
    for name, data in files.items():
        (prefix / "lineage" / name).write_bytes(data)
    write_runs_row(str(prefix), "k", run_id, runs_row(prefix, run_id, hour))


def three_runs(tmp_path: Path) -> Path:
    (tmp_path / "lineage").mkdir()
    run(tmp_path, "r1", 0, {"documents-k-r1-00000-of-00001.parquet": b"one", "summary-k-r1.json": b"{}"})
    run(tmp_path, "r2", 1, {"documents-k-r2-00000-of-00001.parquet": b"two", "summary-k-r2.json": b"{}"})
    run(tmp_path, "r3", 2, {"documents-k-r3-00000-of-00001.parquet": b"three", "summary-k-r3.json": b"{}"})
    return tmp_path


def test_each_row_seals_its_files_and_links_to_the_row_before(tmp_path):
    prefix = three_runs(tmp_path)
    runs, unreadable = recorded_runs(str(prefix))
    assert not unreadable and [r.row["run_id"] for r in runs] == ["r1", "r2", "r3"]
    assert runs[0].row["previous_run_sha256"] == ""
    assert runs[1].row["previous_run_sha256"] == row_sha256(runs[0].row)
    assert runs[2].row["previous_run_sha256"] == row_sha256(runs[1].row)
    assert sorted(runs[1].listed) == ["documents-k-r2-00000-of-00001.parquet", "summary-k-r2.json"]
    check = verify_chain(str(prefix))
    assert check.holds and check.runs == 3 and check.files_checked == 6
    assert (check.head_run_id, check.head_sha256) == ("r3", row_sha256(runs[2].row))


def test_an_edited_lineage_file_breaks_the_chain_and_is_named(tmp_path):
    prefix = three_runs(tmp_path)
    (prefix / "lineage" / "documents-k-r2-00000-of-00001.parquet").write_bytes(b"TWO")
    check = verify_chain(str(prefix))
    assert check.failures == [
        "run r2: lineage file documents-k-r2-00000-of-00001.parquet has changed since the run recorded it"
    ]


def test_a_deleted_lineage_file_and_an_unrecorded_one_are_named(tmp_path):
    prefix = three_runs(tmp_path)
    (prefix / "lineage" / "summary-k-r1.json").unlink()
    (prefix / "lineage" / "pages-k-r9-00000-of-00001.parquet").write_bytes(b"slipped in")
    failures = verify_chain(str(prefix)).failures
    assert "run r1: lineage file summary-k-r1.json is missing" in failures
    assert any(f.startswith("lineage file pages-k-r9-00000-of-00001.parquet is in no run's record") for f in failures)


def test_a_removed_run_breaks_the_next_rows_link(tmp_path):
    prefix = three_runs(tmp_path)
    [middle] = [uri for uri in runs_files(str(prefix)) if "-r2-" in uri]
    Path(middle).unlink()
    failures = verify_chain(str(prefix)).failures
    assert failures[0].startswith("run r3: its previous-run hash does not match the run before it (run r1)")
    assert any("documents-k-r2-00000-of-00001.parquet is in no run's record" in f for f in failures)


def test_an_edited_runs_row_breaks_the_next_rows_link(tmp_path):
    prefix = three_runs(tmp_path)
    [first] = [uri for uri in runs_files(str(prefix)) if "-r1-" in uri]
    table = pq.read_table(first)
    rows = table.to_pylist()
    rows[0]["migrated"] = 1_000  # a quiet improvement of the record
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), first)
    assert verify_chain(str(prefix)).failures == [
        "run r2: its previous-run hash does not match the run before it (run r1): a run was removed, or a runs row "
        "edited"
    ]


def test_the_last_run_removed_is_caught_by_an_earlier_head(tmp_path):
    prefix = three_runs(tmp_path)
    head = verify_chain(str(prefix))
    [last] = [uri for uri in runs_files(str(prefix)) if "-r3-" in uri]
    Path(last).unlink()
    anchors = [(head.head_run_id, head.head_sha256, "reconciliation X")]
    failures = verify_chain(str(prefix), anchors).failures
    assert "run r3, the chain's head when reconciliation X was recorded, is gone" in failures


def test_files_a_crashed_run_left_are_sealed_by_the_next_run(tmp_path):
    (tmp_path / "lineage").mkdir()
    run(tmp_path, "r1", 0, {"documents-k-r1-00000-of-00001.parquet": b"one"})
    (tmp_path / "lineage" / "documents-k-crashed-00000-of-00001.parquet").write_bytes(b"partial")
    assert not verify_chain(str(tmp_path)).holds  # unrecorded until a run records it
    run(tmp_path, "r2", 1, {"documents-k-r2-00000-of-00001.parquet": b"two"})
    runs, _ = recorded_runs(str(tmp_path))
    assert set(runs[1].listed) == {
        "documents-k-crashed-00000-of-00001.parquet",
        "documents-k-r2-00000-of-00001.parquet",
    }
    assert verify_chain(str(tmp_path)).holds


def test_an_unreadable_runs_file_is_reported_not_raised(tmp_path):
    prefix = three_runs(tmp_path)
    [middle] = [uri for uri in runs_files(str(prefix)) if "-r2-" in uri]
    Path(middle).write_bytes(b"not parquet")
    failures = verify_chain(str(prefix)).failures
    assert failures[0] == f"runs file {Path(middle).name} cannot be read: ArrowInvalid"
