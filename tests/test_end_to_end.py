"""The whole pipeline on a generated dump, on the DirectRunner, as `edms-migrate run` launches it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipelines.migrate import migrate
from tests.lineage_checks import (
    check_every_source_balances,
    check_outcomes_match_plan,
    check_pages_are_pixel_identical,
    check_quarantine_keeps_original_bytes,
    nhs_number_spellings,
    read_table,
)


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


def test_no_nhs_number_anywhere_in_the_output(migration, sample_dump):
    numbers = nhs_number_spellings(sample_dump)
    assert numbers
    for path in Path(migration).rglob("*"):
        if path.is_file() and path.suffix in (".parquet", ".json"):
            content = path.read_bytes()
            assert not [n for n in numbers if n.encode() in content], path


def outcome_of(document: dict) -> tuple:
    return document["source_system"], document["document_id"], document["status"], document["duplicate_of"]


def test_a_rerun_writes_nothing_new_and_replaces_its_lineage(migration, sample_dump):
    objects = {p: p.stat().st_mtime_ns for p in Path(migration, "objects").rglob("*") if p.is_file()}
    first_rows = sorted(
        (d["source_system"], d["document_id"], d["status"], d["duplicate_of"])
        for d in read_table(migration, "documents")
    )
    assert migrate([*all_sources(sample_dump), "--output", migration, "--run_id", "rerun"]) == 0
    assert {p: p.stat().st_mtime_ns for p in Path(migration, "objects").rglob("*") if p.is_file()} == objects
    documents = read_table(migration, "documents")
    assert {d["run_id"] for d in documents} == {"rerun"}
    assert (
        sorted((d["source_system"], d["document_id"], d["status"], d["duplicate_of"]) for d in documents) == first_rows
    )
    summary = json.loads(next(Path(migration, "lineage").glob("summary-*.json")).read_text())
    assert summary["totals"]["objects_written"] == 0
    assert not [p for p in Path(migration).rglob("*.partial")]
    assert not [p for p in os.listdir(Path(migration, "lineage")) if p.startswith("beam-temp")]
