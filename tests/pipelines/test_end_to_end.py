"""The whole pipeline on a generated dump, on the DirectRunner, as `edms-migrate run` launches it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipelines.launch.launcher import migrate
from tests.edms_checks import check_every_line, own
from tests.lineage_checks import (
    check_every_source_balances,
    check_outcomes_match_plan,
    check_pages_are_pixel_identical,
    check_quarantine_keeps_original_bytes,
    manifest_rows,
    nhs_number_spellings,
    read_history,
    read_table,
)
from transforms.edms.codes import SNOMED_SYSTEM
from transforms.edms.config import DEFAULT_IDENTIFIER_BASE

pytestmark = pytest.mark.slow  # whole dumps, emulators or subprocesses: outside the fast loop


def all_sources(dump) -> list[str]:
    """The demo's arguments: the canonical manifest, every profiled source, and the dump as a blob root."""
    argv = ["--manifest", dump.manifest_path]
    for profile in dump.profiles:
        argv += ["--source", profile]
    for root in dump.blob_roots:
        argv += ["--blob_root", root]
    return argv


@pytest.fixture(scope="module")
def migration(sample_dump, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("migrated") / "out")
    assert migrate([*all_sources(sample_dump), "--output", output]) == 0
    return output


def test_every_document_ends_in_its_planned_outcome(migration, sample_dump):
    check_outcomes_match_plan(read_table(migration, "documents"), sample_dump, all_sources=True)


def test_documents_in_equal_documents_out_per_source(migration, sample_dump):
    documents = read_table(migration, "documents")
    check_every_source_balances(documents, sample_dump, all_sources=True)
    [summary_file] = Path(migration, "lineage").glob("summary-*.json")
    summary = json.loads(summary_file.read_text())
    assert summary["balanced"] is True
    assert summary["totals"]["manifest_documents"] == len(sample_dump.all_documents)
    assert summary["sources"]["ONBASE-DIP"]["profiles"] == {"onbase-dip": 8}


def test_profiled_sources_record_their_profile_header_and_page_files(migration, sample_dump):
    rows = {row["document_id"]: row for row in read_table(migration, "documents")}
    assert rows["100203"]["legacy_header_bytes"] == 256 and rows["100203"]["page_count"] == 3
    assert rows["RQ0100001"]["page_files"] == 3 and rows["RQ0100001"]["source_profile"] == "radiology-pages"
    assert {row["source_profile"] for row in rows.values() if row["source_system"] == "MEDREC-SCAN"} == {"canonical"}


def test_files_no_index_references_are_reported_as_orphans(migration, sample_dump):
    assert sorted(row["uri"] for row in read_table(migration, "orphans")) == list(sample_dump.orphans)


def test_migrated_pages_are_pixel_identical_objects(migration):
    check_pages_are_pixel_identical(read_table(migration, "documents"), read_table(migration, "pages"))


def test_quarantine_keeps_exact_original_bytes_and_a_record(migration):
    documents = read_table(migration, "documents")
    check_quarantine_keeps_original_bytes(documents)
    records = list(Path(migration, "quarantine").rglob("*.json"))
    assert len(records) == sum(1 for d in documents if d["status"] == "quarantined")
    assert all(json.loads(record.read_text())["reasons"][0]["action"] for record in records)


def test_bilevel_pages_are_stored_as_group4(migration):
    pages = read_table(migration, "pages")
    assert {page["object_format"] for page in pages if page["mode"] == "1"} == {"TIFF/CCITT-G4"}
    # pages already stored as Group 4 were kept by copying their strips; every other bilevel page was re-encoded
    paths = {(page["source_compression"], page["encode_path"]) for page in pages if page["mode"] == "1"}
    assert ("group4", "passthrough") in paths and all(path == "passthrough" for comp, path in paths if comp == "group4")
    assert {page["encode_path"] for page in pages} <= {"passthrough", "reencoded", "original", "jpeg-stream"}


def test_no_nhs_number_anywhere_in_the_output_but_the_edms_records(migration, sample_dump):
    numbers = nhs_number_spellings(sample_dump)
    assert numbers
    index_records = Path(migration, "fhir")
    found_in_records = set()
    for path in Path(migration).rglob("*"):
        if path.is_file() and path.suffix in (".parquet", ".json", ".jsonl", ".ndjson", ".html"):
            content = path.read_bytes()
            found = {n for n in numbers if n.encode() in content}
            if index_records in path.parents:
                found_in_records |= found
            else:
                assert not found, path
    assert found_in_records, "the EDMS records must carry the patient's NHS number"


def test_lineage_keeps_only_the_metadata_a_profile_allows(migration):
    """The sample DIP profile keeps >>DiskgroupNum and Ward; --manifest and the page-per-row profile keep none."""
    kept = {(row["source_system"], row["metadata_json"]) for row in read_table(migration, "documents")}
    dip = json.dumps({">>DiskgroupNum": "1", "Ward": "Rheumatology – Café Wing"}, sort_keys=True)
    assert {metadata for source, metadata in kept if source == "ONBASE-DIP"} == {dip, None}  # None: no such fields
    assert {metadata for source, metadata in kept if source != "ONBASE-DIP"} == {None}


def test_edms_records_for_every_migrated_document_and_duplicate(migration):
    """The demo's sources with no --fhir_config: every line valid (fhirclient R4, strictly, and every rule), one
    current DocumentReference per migrated document, each duplicate's legacy id on its canonical's."""
    resources, _ = check_every_line(Path(migration, "fhir"))
    documents = read_table(migration, "documents")
    by_own = {own(resource): resource for resource in resources}
    assert len(by_own) == len(resources)
    migrated = {
        (DEFAULT_IDENTIFIER_BASE + d["source_system"], d["document_id"]) for d in documents if d["status"] == "migrated"
    }
    assert set(by_own) == migrated
    duplicates = [d for d in documents if d["status"] == "duplicate"]
    assert duplicates
    for row in duplicates:
        source, document_id = row["duplicate_of"].split("/", 1)
        identifiers = by_own[(DEFAULT_IDENTIFIER_BASE + source, document_id)]["identifier"]
        assert {"system": DEFAULT_IDENTIFIER_BASE + row["source_system"], "value": row["document_id"]} in identifiers
    assert {r["securityLabel"][0]["coding"][0]["code"] for r in resources} == {"N"}
    assert {json.dumps(r["category"]) for r in resources} == {  # UK Core's must-support category, by default
        json.dumps([{"coding": [{"system": SNOMED_SYSTEM, "code": "419891008", "display": "Record artifact"}]}])
    }


def outcome_of(document: dict) -> tuple:
    return document["source_system"], document["document_id"], document["status"], document["duplicate_of"]


def test_too_many_quarantines_fail_the_run_after_lineage_is_written(sample_dump, tmp_path, capsys):
    output = str(tmp_path / "strict")
    assert migrate(["--manifest", sample_dump.manifest_path, "--output", output, "--max_quarantine_rate", "0.2"]) == 1
    assert "over --max_quarantine_rate 0.2" in capsys.readouterr().err
    documents = read_table(output, "documents")
    assert len(documents) == len(sample_dump.documents)


def test_valid_nhs_numbers_become_keyed_pseudonyms(migration, sample_dump, private_config_home):
    from transforms.privacy import nhs_number
    from transforms.privacy.patient_key import default_key_path, patient_key

    key = default_key_path({"XDG_CONFIG_HOME": str(private_config_home)}).read_bytes().strip()
    expected = []
    for row in manifest_rows(sample_dump):
        _, normalised = nhs_number.classify(row["nhs_number"])
        expected.append(patient_key(key, normalised) if normalised else None)
    canonical = os.path.abspath(sample_dump.manifest_path)
    documents = [d for d in read_table(migration, "documents") if d["manifest_uri"] == canonical]
    assert any(d["patient_key"] for d in documents)
    for document in documents:
        assert document["patient_key"] == expected[document["manifest_row"] - 1], document["document_id"]
        assert (document["patient_key"] is not None) == (document["nhs_number_status"] == "valid")


def test_the_runs_table_says_when_with_what_and_how_many(migration, sample_dump):
    import hashlib

    run = min(read_table(migration, "runs"), key=lambda row: row["started_at"])  # the first, whatever ran since
    documents = [d for d in read_table(migration, "documents") if d["run_id"] == run["run_id"]]
    assert run["manifests"][0] == os.path.abspath(sample_dump.manifest_path)
    assert set(run["manifests"]) == {d["manifest_uri"] for d in documents}  # every index file read, named once
    assert run["manifest_sha256"] == [hashlib.sha256(Path(uri).read_bytes()).hexdigest() for uri in run["manifests"]]
    assert run["started_at"] <= run["finished_at"] and run["run_date"] == run["started_at"].date()
    assert run["code_version"].startswith("0.1.0")
    assert json.loads(run["options_json"])["output"] == migration
    assert run["balanced"] is True and run["manifest_documents"] == len(documents)
    for status in ("migrated", "duplicate", "quarantined"):
        assert run[status] == sum(1 for d in documents if d["status"] == status)
    assert (
        {d["run_date"] for d in documents}
        == {run["run_date"]}
        == {p["run_date"] for p in read_table(migration, "pages") if p["run_id"] == run["run_id"]}
    )


def test_review_tables_flag_misfiling_and_same_patient_lookalikes(migration):
    documents = read_table(migration, "documents")
    by_content: dict[str, set] = {}
    for d in documents:
        if d["patient_key"] and d["content_sha256"] and d["status"] != "quarantined":
            by_content.setdefault(d["content_sha256"], set()).add(d["patient_key"])
    misfiled = {c for c, patients in by_content.items() if len(patients) > 1}
    review = read_table(migration, "review_misfiling")
    assert misfiled and {r["content_sha256"] for r in review} == misfiled
    assert all(len({r["patient_key"] for r in review if r["content_sha256"] == c}) > 1 for c in misfiled)
    rows = {(d["source_system"], d["document_id"]): d for d in documents}
    pairs = read_table(migration, "review_near_duplicates")
    assert pairs, "the sample's same-patient document that kept an extra page must be a candidate"
    for pair in pairs:
        first = rows[(pair["source_system_a"], pair["document_id_a"])]
        second = rows[(pair["source_system_b"], pair["document_id_b"])]
        assert first["patient_key"] == second["patient_key"] == pair["patient_key"]
        assert first["content_sha256"] != second["content_sha256"] and first["status"] == second["status"] == "migrated"
    assert any(pair["min_distance"] == 0 and {pair["page_count_a"], pair["page_count_b"]} == {1, 2} for pair in pairs)


def test_by_default_a_wrong_export_fails_loudly_after_writing_lineage(tmp_path, capsys):
    """Every blob missing (a wrong export path): the default --max_quarantine_rate turns the run red."""
    manifest = tmp_path / "manifest.csv"
    rows = "".join(f"PAS,D{n},scans/{n}.tif\n" for n in range(10))
    manifest.write_text("source_system,document_id,blob_uri\n" + rows)
    output = str(tmp_path / "out")
    assert migrate(["--manifest", str(manifest), "--output", output]) == 1
    assert "100% of documents were quarantined" in capsys.readouterr().err
    assert {d["reasons"][0] for d in read_table(output, "documents")} == {"BLOB_MISSING"}


def test_a_rerun_reads_no_finished_document_and_keeps_the_first_run_as_history(sample_dump, tmp_path):
    """On a copy of the dump and a migration of its own: the rerun damages a blob and adds a run, and the session's
    dump and the module's migration stay as the other tests expect them, whatever order they run in."""
    dump = tmp_path / "dump"
    shutil.copytree(sample_dump.directory, dump)
    sources = [
        str(dump / Path(arg).relative_to(sample_dump.directory)) if arg.startswith("/") else arg
        for arg in all_sources(sample_dump)
    ]
    migration = str(tmp_path / "out")
    assert migrate([*sources, "--output", migration]) == 0
    objects = {p: p.stat().st_mtime_ns for p in Path(migration, "objects").rglob("*") if p.is_file()}
    first = {(d["source_system"], d["document_id"]): d for d in read_table(migration, "documents")}
    finished = [d for d in first.values() if d["status"] in ("migrated", "duplicate") and d["blob_uri"]]
    whole_blob = next(d for d in finished if d["byte_offset"] is None and d["status"] == "migrated")
    earlier = {p.name: p.read_bytes() for p in Path(migration, "lineage").iterdir() if p.is_file()}
    blob = Path(whole_blob["blob_uri"])
    original = blob.read_bytes()
    assert blob.is_relative_to(dump)  # this test's copy, not the session's dump
    blob.write_bytes(b"\0" * len(original))  # same size, no image: were it read again, it would be quarantined
    assert migrate([*sources, "--output", migration, "--run_id", "rerun"]) == 0
    assert {p: p.stat().st_mtime_ns for p in Path(migration, "objects").rglob("*") if p.is_file()} == objects
    assert {name: Path(migration, "lineage", name).read_bytes() for name in earlier} == earlier  # history stays
    current = {(d["source_system"], d["document_id"]): d for d in read_table(migration, "documents")}
    key = (whole_blob["source_system"], whole_blob["document_id"])
    assert current[key]["status"] == "migrated" and current[key]["run_id"] == whole_blob["run_id"]  # never read
    assert {k: (d["status"], d["duplicate_of"]) for k, d in current.items()} == {
        k: (d["status"], d["duplicate_of"]) for k, d in first.items()
    }
    rerun_rows = [d for d in read_history(migration, "documents") if d["run_id"] == "rerun"]
    assert rerun_rows and {d["status"] for d in rerun_rows} == {"quarantined"}  # only the unfinished are redone
    assert {d["run_id"] for d in read_history(migration, "documents")} >= {whole_blob["run_id"], "rerun"}
    summary = json.loads(next(Path(migration, "lineage").glob("summary-*-rerun.mac-*.json")).read_text())
    assert summary["totals"]["objects_written"] == 0 and summary["balanced"] is True
    assert summary["totals"]["already_done"] == len(finished) + sum(
        1 for d in first.values() if d["status"] in ("migrated", "duplicate") and not d["blob_uri"]
    )
    assert not [p for p in Path(migration).rglob("*.partial")]
    assert not [p for p in os.listdir(Path(migration, "lineage")) if p.startswith("beam-temp")]
