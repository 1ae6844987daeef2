"""`status`, `reconcile` and the run chain on real migrations: the DirectRunner, real files, real Parquet.

The sample dump (every layout: canonical CSV, OnBase DIP, page per row) proves status and reconcile read the
manifests as the pipeline does; a small share dump is migrated per test where a test deletes or corrupts things.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.cli import main
from pipelines.launch.launcher import migrate
from pipelines.operate.inventory import plan_sources
from pipelines.operate.status import build_status
from pipelines.reports.report_page import build_report
from tests.lineage_checks import read_table
from tests.pipelines.test_failing_runs import write_share_dump
from transforms.lineage.chain import runs_files

pytestmark = pytest.mark.slow  # whole runs of the pipeline


def sources_of(dump) -> list[str]:
    argv = ["--manifest", dump.manifest_path]
    for profile in dump.profiles:
        argv += ["--source", profile]
    return argv


@pytest.fixture(scope="module")
def migrated(sample_dump, tmp_path_factory) -> str:
    output = str(tmp_path_factory.mktemp("evidence") / "out")
    roots = [arg for root in sample_dump.blob_roots for arg in ("--blob_root", root)]
    assert migrate([*sources_of(sample_dump), *roots, "--output", output]) == 0
    return output


@pytest.fixture
def share(tmp_path) -> tuple[list[str], Path]:
    """A small csv source migrated once: D0, D2 PNG, D1 two-page Group 4, D3 the same pages as D1 (duplicate)."""
    profile, output = write_share_dump(tmp_path / "dump"), tmp_path / "out"
    assert migrate(["--source", str(profile), "--output", str(output)]) == 0
    return ["--source", str(profile), "--output", str(output)], output


def reconcile(capsys, *argv: str) -> tuple[int, str, dict]:
    code = main(["reconcile", *argv])
    out = capsys.readouterr().out
    record_uri = out.rsplit("record: ", 1)[-1].strip()
    return code, out, json.loads(Path(record_uri).read_text())


def object_of(output: Path, document_id: str, page: int) -> Path:
    [row] = [
        p for p in read_table(str(output), "pages") if p["document_id"] == document_id and p["page_number"] == page
    ]
    return Path(row["object_uri"])


def test_status_counts_each_manifest_document_once_by_its_current_outcome(migrated, sample_dump, capsys):
    prefix, sources, _ = plan_sources(migrated, [sample_dump.manifest_path], list(sample_dump.profiles))
    status = build_status(prefix, sources)
    planned: dict[str, Counter] = {}
    for document in sample_dump.all_documents:
        planned.setdefault(document.source_system, Counter())[document.outcome] += 1
    assert {row["source_system"] for row in status.rows} == set(planned)
    for row in status.rows:
        counts = planned[row["source_system"]]
        assert row["documents"] == sum(counts.values()), row
        assert (row["migrated"], row["duplicate"], row["quarantined"]) == (
            counts["migrated"],
            counts["duplicate"],
            counts["quarantined"],
        ), row
        # every layout's reference is the one the run recorded: nothing reads as changed or unread
        assert (row["never_read"], row["changed"], row["source_gone"]) == (0, 0, 0), row
        assert row["outstanding"] == row["quarantined"]
    assert status.rate_per_hour and status.rate_per_hour > 0
    assert main(["status", "--output", migrated, *sources_of(sample_dump)]) == 0
    out = capsys.readouterr().out
    assert f"TOTAL{' ' * 2}" in out and f"{len(sample_dump.all_documents):,}" in out and "time left:" in out


def test_status_splits_by_priority_tier_from_an_access_log(migrated, sample_dump, tmp_path, capsys):
    documents = sorted((d.source_system, d.document_id) for d in sample_dump.all_documents)
    log = tmp_path / "access.csv"
    lines = ["source_system,document_id,access_count,last_accessed"]
    lines += [f"{s},{d},25,2024-01-02" for s, d in documents[:3]] + [f"{s},{d},2,2019-05-06" for s, d in documents[3:7]]
    log.write_text("\n".join(lines) + "\n")
    prefix, sources, _ = plan_sources(migrated, [sample_dump.manifest_path], list(sample_dump.profiles))
    status = build_status(prefix, sources, str(log))
    assert (status.total("hot")["documents"], status.total("warm")["documents"]) == (3, 4)
    assert status.total("cold")["documents"] == len(documents) - 7
    assert status.total() == build_status(prefix, sources).total()  # tiers split the same counts
    assert main(["status", "--output", migrated, *sources_of(sample_dump), "--access_log", str(log)]) == 0
    assert "(in priority order: hot done in" in capsys.readouterr().out


def test_status_before_any_run_counts_every_document_outstanding(sample_dump, tmp_path):
    prefix, sources, _ = plan_sources(str(tmp_path / "empty"), [sample_dump.manifest_path], [])
    status = build_status(prefix, sources)
    total = status.total()
    assert total["documents"] == total["never_read"] == total["outstanding"] == len(sample_dump.documents)
    assert status.runs == 0 and status.rate_per_hour is None


def test_reconcile_passes_and_records_its_proof(migrated, sample_dump, capsys):
    code, out, record = reconcile(capsys, "--output", migrated, *sources_of(sample_dump))
    assert code == 0 and "verdict: PASS" in out, out
    assert record["verdict"] == "pass" and record["verify_objects"] == "all"
    assert {entry["uri"] for entry in record["manifests"]} == {
        d["manifest_uri"] for d in read_table(migrated, "documents")
    }
    objects = record["checks"]["objects"]
    assert objects["checked"] == objects["hashed"] == len({p["object_uri"] for p in read_table(migrated, "pages")})
    assert record["checks"]["outcomes"]["checked"] == len(sample_dump.all_documents)
    assert record["checks"]["chain"]["runs"] == 1 and record["checks"]["chain"]["head_run_id"]
    assert sorted(record["orphans"]["listed"]) == sorted(sample_dump.orphans)
    assert "Reconciliation: PASS" in build_report(migrated)


def test_reconcile_names_a_quarantined_document_whose_bytes_are_gone(migrated, sample_dump, capsys):
    [row, *_] = [d for d in read_table(migrated, "documents") if (d["quarantine_uri"] or "").endswith(".bin")]
    kept = Path(row["quarantine_uri"]).rename(Path(row["quarantine_uri"] + ".away"))
    try:
        code, out, record = reconcile(capsys, "--output", migrated, *sources_of(sample_dump))
    finally:
        kept.rename(row["quarantine_uri"])
    assert code == 1 and record["verdict"] == "fail"
    assert f"{row['source_system']}/{row['document_id']} quarantine bytes: {row['quarantine_uri']} is missing" in out
    assert "Reconciliation: FAIL" in build_report(migrated)


def test_reconcile_fails_once_an_object_is_deleted_or_corrupted(share, capsys):
    argv, output = share
    assert reconcile(capsys, *argv)[0] == 0
    deleted = object_of(output, "D1", 2)
    deleted.rename(deleted.with_suffix(".away"))
    code, out, record = reconcile(capsys, *argv)
    assert code == 1 and f"PAS-SCAN/D1 page 2: {deleted} is missing" in out, out
    assert record["checks"]["objects"]["failures"] == [f"PAS-SCAN/D1 page 2: {deleted} is missing"]
    deleted.with_suffix(".away").rename(deleted)
    corrupted = object_of(output, "D0", 1)
    data = bytearray(corrupted.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the hash can tell
    corrupted.write_bytes(bytes(data))
    code, out, _ = reconcile(capsys, *argv)
    assert code == 1 and f"PAS-SCAN/D0 page 1: {corrupted} does not hash to its recorded SHA-256" in out, out
    code, out, record = reconcile(capsys, *argv, "--verify_objects", "sample:1")  # one object: maybe not that one
    assert record["checks"]["objects"]["hashed"] == 1 and record["verify_objects"] == "sample:1"


def test_a_migrated_document_whose_source_is_gone_stays_migrated(share, tmp_path, capsys):
    argv, output = share
    (tmp_path / "dump" / "mounted" / "doc0.png").unlink()
    code, out, record = reconcile(capsys, *argv)
    assert code == 0, out
    assert record["source_gone"]["listed"] == ["PAS-SCAN/D0"] and "source gone: 1 done document(s)" in out
    assert main(["status", *argv]) == 0
    [row] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("PAS-SCAN")]
    assert row.split()[-1] == "1"  # the source gone column


def test_the_chain_breaks_when_a_lineage_file_is_edited(share, capsys):
    argv, output = share
    assert migrate(argv) == 0  # a second run: two rows in the chain
    assert reconcile(capsys, *argv)[2]["checks"]["chain"]["runs"] == 2
    first_documents = sorted((output / "lineage").glob("documents-*.parquet"))[0]
    original = first_documents.read_bytes()
    table = pq.read_table(first_documents)
    rows = [dict(row, status="migrated") for row in table.to_pylist()]  # a valid file, quietly rewritten
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), first_documents)
    code, out, record = reconcile(capsys, *argv)
    assert code == 1 and not record["checks"]["chain"]["holds"]
    assert f"lineage file {first_documents.name} has changed since the run recorded it" in out, out
    first_documents.write_bytes(original)
    assert reconcile(capsys, *argv)[0] == 0


def test_the_chain_breaks_when_a_run_is_removed(share, capsys):
    argv, output = share
    assert migrate(argv) == 0
    assert migrate(argv) == 0
    code, _, record = reconcile(capsys, *argv)
    assert code == 0 and record["checks"]["chain"]["runs"] == 3
    head = record["checks"]["chain"]["head_run_id"]
    middle, last = sorted(runs_files(str(output)), key=lambda uri: Path(uri).stat().st_mtime_ns)[1:]
    saved = Path(middle).read_bytes()
    Path(middle).unlink()
    code, out, _ = reconcile(capsys, *argv)
    assert code == 1 and "its previous-run hash does not match the run before it" in out, out
    Path(middle).write_bytes(saved)
    Path(last).unlink()  # the newest run: no later row vouches for it, the last reconciliation's head does
    code, out, record = reconcile(capsys, *argv)
    assert code == 1 and f"run {head}, the chain's head when reconciliation" in out, out
    assert any("is in no run's record" in failure for failure in record["checks"]["chain"]["failures"])


def test_the_first_runs_row_seals_the_files_its_graph_wrote(share):
    _, output = share
    [row] = read_table(str(output), "runs")
    assert row["previous_run_sha256"] == "" and len(row["lineage_sha256"]) == 64
    assert {entry.split(" ")[0].split("-")[0] for entry in row["lineage_files"]} >= {"documents", "pages", "summary"}
