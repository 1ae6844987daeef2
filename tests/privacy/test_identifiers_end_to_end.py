"""No patient identifier on the analyst side, wherever the legacy system put it: the real pipeline, status,
reconcile and report, each through the command line in a process of its own, and one scan over everything they
wrote and said."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.lineage_checks import read_history, read_table
from tests.privacy.identifier_dump import (
    SOURCE,
    IdentifierDump,
    analyst_texts,
    identifiers_found,
    restricted_texts,
    write_identifier_dump,
)
from transforms.privacy.pseudonyms import PSEUDONYM
from transforms.storage.output_layout import quarantine_record_of

pytestmark = pytest.mark.slow  # whole runs of the pipeline, in subprocesses

ROOT = Path(__file__).resolve().parents[2]
KEY = "a-test-patient-key-of-32-bytes!!"
PID = PSEUDONYM.pattern


def edms(*args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "EDMS_PATIENT_KEY": KEY}
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=600,
    )


def said(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def migration(tmp_path_factory) -> tuple[IdentifierDump, Path, dict[str, str]]:
    """Two runs (the second must leave finished documents unread), status, reconcile and the report."""
    folder = tmp_path_factory.mktemp("identifiers")
    dump, output = write_identifier_dump(folder / "dump"), folder / "out"
    run = [*dump.sources, "--blob_root", str(dump.folder / "img"), "--output", str(output)]
    console = {}
    for name, args in [
        ("run", ["run", *run]),
        ("rerun", ["run", *run]),
        ("status", ["status", *dump.sources, "--output", str(output), "--access_log", str(dump.folder / "access.csv")]),
        ("reconcile", ["reconcile", *dump.sources, "--output", str(output)]),
        ("report", ["report", str(output)]),
    ]:
        result = edms(*args)
        assert result.returncode == 0, (name, said(result))
        console[name] = said(result)
    return dump, output, console


def documents(output: Path) -> dict[str, dict]:
    return {row["document_id"]: row for row in read_table(str(output), "documents")}


def test_the_scan_finds_no_identifier_in_any_analyst_output_or_name(migration):
    dump, output, console = migration
    texts = {**analyst_texts(output), **{f"console of {name}": text for name, text in console.items()}}
    assert {place.split("/")[0].split(" ")[0] for place in texts} >= {"lineage", "reconcile", "report.html", "name"}
    assert any(place.endswith(".jsonl") for place in texts)  # OpenLineage events
    assert any(place.startswith("lineage/summary-") for place in texts)
    assert identifiers_found(texts, dump.identifiers) == []


def test_the_scan_would_find_them_and_the_restricted_area_holds_them(migration):
    dump, output, _ = migration
    restricted = restricted_texts(output)
    held = {found for _, found in identifiers_found(restricted, dump.identifiers)}
    in_documents = set(dump.identifiers) - {dump.numbers["orphan"], dump.numbers["source_system"]}
    assert held >= in_documents  # the orphan is in no document; the shifted column's row is quarantined below
    assert dump.numbers["source_system"] in json.dumps(
        [json.loads(text) for place, text in restricted.items() if "C-1" in text]
    )
    spaced = dump.ids["spaced"]
    assert identifiers_found({"x": f"id {spaced.replace(' ', '.')}"}, dump.identifiers)  # another spelling


def test_ids_carry_keyed_pseudonyms_that_count_and_join(migration):
    dump, output, _ = migration
    rows = documents(output)
    shifted = next(row["source_system"] for row in rows.values() if row["source_system"].startswith("SYS"))
    assert Counter(row["source_system"] for row in rows.values()) == Counter({SOURCE: 7, "LETTERS": 1, shifted: 1})
    named = {key: value for key, value in rows.items() if re.fullmatch(rf"R{PID}", key)}
    assert len(named) == 2  # R04-<ten digits>: "04-" joins the run, twelve digits in any punctuation
    migrated = {(r["source_system"], r["document_id"]) for r in rows.values() if r["status"] == "migrated"}
    pages = {(p["source_system"], p["document_id"]) for p in read_table(str(output), "pages")}
    assert migrated and migrated <= pages  # documents join to their pages on the same pseudonym
    [duplicate] = [r for r in rows.values() if r["status"] == "duplicate"]
    assert duplicate["duplicate_of"].split("/", 1)[1] in named and duplicate["document_id"] in named
    blobs = [row["blob_uri"].rsplit("/img/", 1)[-1] for row in rows.values() if "/img/" in (row["blob_uri"] or "")]
    assert {re.sub(PID, "P", name) for name in blobs} == {"P.png", "P/page.png", "copy-P.png", "P.tif"}


def test_pseudonyms_are_stable_and_a_rerun_reads_no_finished_document(migration):
    _, output, _ = migration
    history = read_history(str(output), "documents")
    runs = sorted({row["run_id"] for row in history})
    assert len(runs) == 2
    first = {row["document_id"] for row in history if row["run_id"] == runs[0]}
    second = {row["document_id"]: row["status"] for row in history if row["run_id"] == runs[1]}
    assert set(second) < first  # the same pseudonyms, and only the quarantined ones again
    assert set(second.values()) == {"quarantined"}


def test_identifier_shaped_numbers_are_null_and_described(migration):
    dump, output, _ = migration
    rows = documents(output)
    negative = next(r for key, r in rows.items() if key.startswith("OFF-"))
    assert negative["reasons"] == ["BYTE_LENGTH_NEGATIVE"] and negative["byte_offset"] is None
    assert "a number of 10 digits" in negative["reason_messages"][0]
    [out_of_range] = [r for r in rows.values() if r["reasons"] == ["BYTE_RANGE_OUT_OF_BOUNDS"]]
    assert out_of_range["byte_offset"] is None and out_of_range["byte_length"] == 100
    assert re.fullmatch(PID, out_of_range["document_id"])  # a hospital number, the profile's local format
    [shifted] = [r for r in rows.values() if r["source_system"].startswith("SYS")]
    assert re.fullmatch(rf"SYS{PID}", shifted["source_system"]) and shifted["reasons"] == ["SOURCE_SYSTEM_IDENTIFIER"]
    record = json.loads(Path(quarantine_record_of(negative["quarantine_uri"])).read_text())
    assert record["document_id"] == dump.ids["negative"] and record["offset"] == int(dump.numbers["offset"])


def test_the_edms_record_holds_the_id_its_file_name_none(migration):
    """The DocumentReference names the document as the export did (restricted side); its id is a keyed hash, its
    file named by type and run: lineage's pseudonym and the record's legacy id are the same document."""
    dump, output, _ = migration
    rows = documents(output)
    named = next(key for key, row in rows.items() if re.fullmatch(rf"R{PID}", key) and row["status"] == "migrated")
    records = [json.loads(line) for path in (output / "fhir").glob("DocumentReference-*.ndjson") for line in
               path.read_text().splitlines()]  # fmt: skip
    legacy = {r["identifier"][0]["value"] for r in records}
    assert legacy & {dump.ids["named"], dump.ids["duplicate"]}
    assert named not in legacy and not any(re.search(r"\d", r["id"]) for r in records)  # ids hold no digit


def test_status_keys_the_manifests_and_access_log_as_lineage_does(migration):
    _, _, console = migration
    status = console["status"]
    assert re.search(r"PAS-SCAN\s+hot\s+1\s", status), status  # the access log's raw id met its pseudonym
    assert "never read" in status


def test_reconcile_names_a_failing_document_by_pseudonym_or_by_id_when_asked(migration, tmp_path):
    dump, output, _ = migration
    rows = documents(output)
    migrated = [r for r in rows.values() if r["status"] == "migrated" and r["source_system"] == SOURCE]
    victim = next(r for r in migrated if re.fullmatch(rf"R{PID}", r["document_id"]))
    [page] = [p for p in read_table(str(output), "pages") if p["document_id"] == victim["document_id"]]
    stored = Path(page["object_uri"])
    kept = stored.read_bytes()
    stored.unlink()
    try:
        base = ["reconcile", *dump.sources, "--output", str(output)]
        plain, shown = edms(*base), edms(*base, "--show_identifiers")
        report = edms("report", str(output), "--show_identifiers", "--out", str(tmp_path / "named.html"))
        inside = edms("report", str(output), "--show_identifiers", "--out", str(output / "named.html"))
    finally:
        stored.write_bytes(kept)
    assert plain.returncode == shown.returncode == 1
    assert f"{SOURCE}/{victim['document_id']} page 1" in plain.stdout
    raw = next(i for i in (dump.ids["named"], dump.ids["duplicate"]) if f"{SOURCE}/{i} page 1" in shown.stdout)
    assert raw and victim["document_id"] not in shown.stdout
    assert identifiers_found({"reconcile": plain.stdout}, dump.identifiers) == []
    assert identifiers_found(analyst_texts(output), dump.identifiers) == []  # the records stay pseudonymised
    assert report.returncode == 0 and dump.ids["negative"] in (tmp_path / "named.html").read_text()
    assert inside.returncode == 2 and len(inside.stderr.strip().splitlines()) == 1
