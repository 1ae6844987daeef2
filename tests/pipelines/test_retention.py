"""Runs into an archive under a bucket retention policy (the preflight asks for one): every output is created
once, and nothing is replaced, renamed or deleted — a first run, and a re-run that quarantines again.

The archive is tests/retention_store.py's retention:// folder, which refuses what GCS refuses under a retention
policy (the storage emulator enforces nothing). The EDMS records (FHIR NDJSON) go into the held archive too: they
are append-only, each file written once.
"""

from __future__ import annotations

import pytest
from apache_beam.io.filesystems import FileSystems

from pipelines.launch.launcher import check_output_writable, migrate
from pipelines.launch.openlineage_events import written_events
from tests.edms_checks import lines
from tests.lineage_checks import (
    check_outcomes_match_plan,
    check_quarantine_keeps_original_bytes,
    read_history,
    read_table,
)
from tests.pipelines.test_end_to_end import all_sources
from tests.retention_store import RetentionFileSystem, RetentionPolicyRefusal
from transforms.storage.objects import read_all, write_all, write_once
from transforms.storage.signed_files import Signature


def test_the_store_refuses_what_a_retention_policy_refuses(tmp_path):
    uri = f"retention://{tmp_path}/held/object.bin"
    write_all(uri, b"first")
    with pytest.raises(RetentionPolicyRefusal):
        write_all(uri, b"second")
    with pytest.raises(RetentionPolicyRefusal):
        FileSystems.rename([uri], [uri + ".moved"])
    with pytest.raises(RetentionPolicyRefusal):
        FileSystems.delete([uri])
    assert write_once(uri, b"third") is False  # kept, not replaced
    assert read_all(uri) == b"first"
    assert write_once(uri + ".new", b"new") is True and read_all(uri + ".new") == b"new"


def test_the_launchers_write_check_keeps_its_probe_and_asks_for_no_delete(tmp_path):
    RetentionFileSystem.refusals.clear()
    check_output_writable(f"retention://{tmp_path}/archive")
    check_output_writable(f"retention://{tmp_path}/archive")  # each launch its own probe: nothing overwritten
    assert RetentionFileSystem.refusals == []
    probes = sorted((tmp_path / "archive" / "lineage").glob(".write-check-*"))
    assert len(probes) == 2 and {probe.read_bytes() for probe in probes} == {b"edms-migrate write check\n"}


@pytest.mark.slow
def test_a_run_and_a_re_run_into_a_held_archive_replace_and_delete_nothing(sample_dump, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    RetentionFileSystem.refusals.clear()
    output = f"retention://{tmp_path}/archive"
    argv = [*all_sources(sample_dump), "--output", output]
    assert migrate([*argv, "--run_id", "held-1"]) == 0
    assert migrate([*argv, "--run_id", "held-2"]) == 0  # quarantined documents are tried, and quarantined, again

    assert RetentionFileSystem.refusals == []  # not even the launcher's write check: its probe is kept

    documents = read_table(output, "documents")
    check_outcomes_match_plan(documents, sample_dump, all_sources=True)
    check_quarantine_keeps_original_bytes(documents)  # each run's own evidence, under quarantine/<run>/
    quarantined = [row for row in read_history(output, "documents") if row["status"] == "quarantined"]
    assert {row["run_id"] for row in quarantined} == {"held-1", "held-2"}
    assert all(f"/quarantine/{row['run_id']}/" in row["quarantine_uri"] for row in quarantined if row["quarantine_uri"])

    # The tables Beam's file sink used to write (by renaming) are there, written directly.
    assert read_history(output, "orphans") and {row["run_id"] for row in read_history(output, "orphans")} == {
        "held-1",
        "held-2",
    }
    duplicates = [row for row in documents if row["status"] == "duplicate"]
    assert duplicates
    assert [event["eventType"] for event in written_events(output, "held-2")] == ["START", "COMPLETE"]

    # The EDMS records, in the held archive: each run's files written once, duplicates' ids on their canonicals.
    fhir = tmp_path / "archive" / "fhir"
    # (held-2 migrated nothing new: it writes no DocumentReference file)
    written = [Signature.of(path.name) for path in fhir.glob("DocumentReference-*")]
    assert [(name.unsigned_name, bool(name.tag)) for name in written] == [
        ("DocumentReference-held-1-000-000.ndjson", True)
    ]
    identifiers = {i["value"] for r in lines(fhir, "DocumentReference") for i in r["identifier"][1:]}
    assert {row["document_id"] for row in duplicates} <= identifiers

    # The report is a view, not evidence: the first is written, a second may not replace it, and says so.
    from pipelines.cli import main

    assert main(["report", output]) == 0
    capsys.readouterr()
    assert main(["report", output]) == 2
    [refused] = capsys.readouterr().err.strip().splitlines()
    assert "report.html" in refused and "pass --out FILE" in refused
    assert main(["report", output, "--out", str(tmp_path / "report.html")]) == 0
