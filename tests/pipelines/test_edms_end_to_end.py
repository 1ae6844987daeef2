"""The EDMS records through the real pipeline: the sample dump (the demo's sources: canonical manifest, OnBase DIP,
page per row) migrated with a FHIR config, every line checked, then changed and migrated again."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.launch.launcher import migrate
from pipelines.reports.report_page import build_report
from tests.edms_checks import check_every_line, current, lines, own
from tests.lineage_checks import read_table
from transforms.edms.codes import NHS_NUMBER_SYSTEM, ODS_SYSTEM, SNOMED_SYSTEM
from transforms.edms.config import DEFAULT_IDENTIFIER_BASE

pytestmark = pytest.mark.slow  # whole dumps: outside the fast loop

LETTERS = "https://trust.example.nhs.uk/Id/letters-archive-document"
CONFIG = {
    "sources": {"LETTERS-ARCHIVE": {"identifier_system": LETTERS, "custodian_ods": "RRK", "author_ods": "RRK99"}},
    "document_types": {
        "Clinic Letter": {"code": "371531000", "display": "Report of clinical encounter"},
        "Discharge Summary": {"code": "373942005", "display": "Discharge summary"},
    },
    "confidentiality": {
        "document_types": {"Sexual Health Letter": "R"},
        "restricted_flag": {"column": "restricted", "values": {"Y": "R", "V": "V"}},
    },
    "categories": {  # the richer form: a type's own category, and the default of every other
        "default": {"code": "419891008", "display": "Record artifact"},
        "document_types": {"Discharge Summary": {"code": "373942005", "display": "Discharge summary"}},
    },
}


def system(source: str) -> str:
    return LETTERS if source == "LETTERS-ARCHIVE" else DEFAULT_IDENTIFIER_BASE + source


class Dump:
    """A private copy of the sample dump (this module edits its manifest), and the run's arguments."""

    def __init__(self, sample_dump, folder: Path) -> None:
        self.root = folder / "dump"
        shutil.copytree(sample_dump.directory, self.root)
        moved = lambda path: str(self.root / Path(path).relative_to(sample_dump.directory))  # noqa: E731
        self.manifest = self.root / "manifest.csv"
        self.config = folder / "fhir.json"
        self.config.write_text(json.dumps(CONFIG))
        self.output = folder / "out"
        self.argv = ["--manifest", str(self.manifest), "--output", str(self.output), "--fhir_config", str(self.config)]
        for profile in sample_dump.profiles:
            self.argv += ["--source", moved(profile)]
        expected = sample_dump.all_documents
        self.duplicated = {d.duplicate_of for d in expected if d.duplicate_of} | {
            f"{d.source_system}/{d.document_id}" for d in expected if d.duplicate_of
        }
        self.plain = [
            d
            for d in sample_dump.documents
            if d.outcome == "migrated" and f"{d.source_system}/{d.document_id}" not in self.duplicated
        ]

    def edit(self, change) -> None:
        """Rewrite the manifest, each row through change(row) (a restricted column added on the first call)."""
        with self.manifest.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        fields = list(rows[0]) + ([] if "restricted" in rows[0] else ["restricted"])
        with self.manifest.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fields)
            writer.writeheader()
            writer.writerows(change({"restricted": "", **row}) for row in rows)


@pytest.fixture(scope="module")
def dump(sample_dump, tmp_path_factory) -> Dump:
    dump = Dump(sample_dump, tmp_path_factory.mktemp("edms"))
    flagged, sensitive = dump.plain[0].document_id, dump.plain[1].document_id

    def mark(row: dict) -> dict:
        if row["document_id"] == flagged:
            row["restricted"] = "y "  # case and spaces of a legacy export
        if row["document_id"] == sensitive:
            row["document_type"] = "Sexual Health Letter"
        return row

    dump.edit(mark)
    dump.flagged, dump.sensitive = flagged, sensitive
    assert migrate([*dump.argv, "--run_id", "first"]) == 0
    return dump


def test_every_migrated_document_has_one_valid_document_reference(dump):
    folder = dump.output / "fhir"
    documents, provenances = check_every_line(folder)
    migrated = {
        (system(d["source_system"]), d["document_id"])
        for d in read_table(str(dump.output), "documents")
        if d["status"] == "migrated"
    }
    assert sorted(own(resource) for resource in documents) == sorted(migrated)
    assert len(provenances) == len(documents)
    assert sum("subject" in resource for resource in documents) > len(documents) // 2
    for resource in documents:
        assert resource["status"] == "current" and resource["docStatus"] == "final"
        assert resource["id"] != own(resource)[1] and own(resource)[1] not in resource["id"]
        if "subject" in resource:  # a document whose export had no NHS number is migrated without one
            assert resource["subject"]["identifier"]["system"] == NHS_NUMBER_SYSTEM
            assert resource["subject"]["identifier"]["value"] not in resource["id"]
        pages = resource["content"]
        assert all(c["attachment"]["title"].endswith(f" of {len(pages)}") or len(pages) == 1 for c in pages)
    [summary_file] = folder.glob("summary-first.mac-*.json")  # signed, as every file a run writes under fhir/
    summary = json.loads(summary_file.read_text())
    assert summary["invalid"] == [] and summary["document_references"] == len(documents)
    counted = sum(entry["coded"] + entry["uncoded"] for entry in summary["by_source"].values())
    uncoded = sum(entry["uncoded"] for entry in summary["by_source"].values())
    assert counted == len(documents) and sum(entry["documents"] for entry in summary["uncoded_types"]) == uncoded
    review = read_table(str(dump.output), "review_uncoded_types")  # the analyst-side review table, redacted
    assert sum(row["documents"] for row in review) == uncoded and {row["run_id"] for row in review} == {"first"}


def test_restricted_flag_and_sensitive_type_carry_r_and_the_rest_n(dump):
    labels = {
        own(r)[1]: r["securityLabel"][0]["coding"][0]["code"] for r in lines(dump.output / "fhir", "DocumentReference")
    }
    assert labels[dump.flagged] == "R" and labels[dump.sensitive] == "R"
    assert {label for document, label in labels.items() if document not in (dump.flagged, dump.sensitive)} == {"N"}
    report = build_report(str(dump.output))  # the mix per source system, for the programme board
    assert "<th>label R</th>" in report and "<th>SNOMED CT type</th>" in report and "Uncoded types to map" in report


def test_types_are_coded_from_the_map_and_ods_codes_come_from_the_source(dump):
    for resource in lines(dump.output / "fhir", "DocumentReference"):
        text = resource.get("type", {}).get("text")
        coding = resource.get("type", {}).get("coding")
        if text in ("Clinic Letter", "Discharge Summary"):
            assert coding[0]["system"] == SNOMED_SYSTEM and coding[0]["code"] in ("371531000", "373942005")
        else:
            assert coding is None
        [category] = resource["category"]
        expected = "373942005" if text == "Discharge Summary" else "419891008"
        assert [(coding["system"], coding["code"]) for coding in category["coding"]] == [(SNOMED_SYSTEM, expected)]
        if own(resource)[0] == LETTERS:
            assert resource["custodian"]["identifier"] == {"system": ODS_SYSTEM, "value": "RRK"}
            assert resource["author"] == [{"identifier": {"system": ODS_SYSTEM, "value": "RRK99"}}]
        else:
            assert own(resource)[0].startswith(DEFAULT_IDENTIFIER_BASE) and "custodian" not in resource


def test_a_duplicates_legacy_id_is_on_its_canonical(dump):
    documents = lines(dump.output / "fhir", "DocumentReference")
    by_own = {own(resource): resource for resource in documents}
    duplicates = [d for d in read_table(str(dump.output), "documents") if d["status"] == "duplicate"]
    assert duplicates
    for row in duplicates:
        source, document_id = row["duplicate_of"].split("/", 1)
        canonical = by_own[(system(source), document_id)]
        mine = {"system": system(row["source_system"]), "value": row["document_id"]}
        assert mine in canonical["identifier"][1:]
        assert (mine["system"], mine["value"]) not in by_own  # no record of its own


def _reconcile(dump, capsys, *extra) -> tuple[int, str, dict]:
    argv = [
        "reconcile",
        "--output",
        str(dump.output),
        "--manifest",
        str(dump.manifest),
        "--fhir_config",
        str(dump.config),
    ]
    argv += [x for i, arg in enumerate(dump.argv) if arg == "--source" for x in ("--source", dump.argv[i + 1])]
    code = main([*argv, *extra])
    out = capsys.readouterr().out
    [record] = sorted((dump.output / "reconcile").glob("reconcile-*.json"))[-1:]
    return code, out, json.loads(record.read_text())


def test_reconcile_fails_on_a_deleted_record_a_wrong_hash_and_a_quarantined_documents_record(dump, capsys):
    code, out, record = _reconcile(dump, capsys)
    assert code == 0 and record["checks"]["edms"]["holds"], out
    assert record["edms_records"]["LETTERS-ARCHIVE"]["labels"]
    [path] = (dump.output / "fhir").glob("DocumentReference-first-*.ndjson")
    original = path.read_text()
    first, *rest = original.splitlines()
    label = own(json.loads(first))
    try:
        path.write_text("\n".join(rest) + "\n")  # a deleted DocumentReference
        code, out, _ = _reconcile(dump, capsys)
        assert code == 1 and "with 0 current DocumentReference(s), not one" in out, out

        wrong = json.loads(first)
        wrong["content"][0]["attachment"]["hash"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
        path.write_text("\n".join([json.dumps(wrong), *rest]) + "\n")
        code, out, _ = _reconcile(dump, capsys)
        assert code == 1 and "is not the object it names (size or SHA-1 differs)" in out, out

        [quarantined, *_] = [d for d in read_table(str(dump.output), "documents") if d["status"] == "quarantined"]
        stray = json.loads(first)
        stray["id"] = "0" * 40
        stray["identifier"] = [{"system": system(quarantined["source_system"]), "value": quarantined["document_id"]}]
        path.write_text(original + json.dumps(stray) + "\n")  # in a file a runs row vouches for: read, and named
        code, out, _ = _reconcile(dump, capsys)
        name = f"{quarantined['source_system']}/{quarantined['document_id']}"
        assert code == 1 and f"{name}: quarantined, yet it has a current DocumentReference" in out, out
        assert f"EDMS file {path.name} has changed since the run recorded it" in out, out

        path.write_text(original)  # in a file no runs row vouches for: no record, and the file is named
        (dump.output / "fhir" / "DocumentReference-stray-000-000.ndjson").write_text(json.dumps(stray) + "\n")
        code, out, record = _reconcile(dump, capsys)
        assert code == 1 and record["checks"]["edms"]["holds"], out
        assert "EDMS file DocumentReference-stray-000-000.ndjson is in no run's record and is not signed" in out
    finally:
        path.write_text(original)
        (dump.output / "fhir" / "DocumentReference-stray-000-000.ndjson").unlink(missing_ok=True)
    assert _reconcile(dump, capsys)[0] == 0, label


def test_a_changed_document_gives_replaces_and_the_old_record_superseded(dump, capsys):
    changed, broken = dump.plain[2], dump.plain[3]
    before = {own(r): r for r in lines(dump.output / "fhir", "DocumentReference", "first")}
    old = before[(system(changed.source_system), changed.document_id)]
    retired = before[(system(broken.source_system), broken.document_id)]
    (dump.root / "garbage.bin").write_bytes(b"not an image at all" * 10)

    def move(row: dict) -> dict:
        if row["document_id"] == changed.document_id:  # the same bytes under another name: a changed reference
            copy = Path(row["blob_uri"]).with_name("moved-" + Path(row["blob_uri"]).name)
            shutil.copy(dump.root / row["blob_uri"], dump.root / copy)
            row["blob_uri"] = str(copy)
        if row["document_id"] == broken.document_id:  # now points at bytes that are no document: quarantined
            row.update(blob_uri="garbage.bin", offset="", length="", checksum_md5="", page_count="")
        return row

    dump.edit(move)
    assert migrate([*dump.argv, "--run_id", "second"]) == 0
    documents, _ = check_every_line(dump.output / "fhir")
    second = lines(dump.output / "fhir", "DocumentReference", "second")
    [new] = [r for r in second if own(r) == own(old) and r["status"] == "current"]
    assert new["id"] != old["id"] and new["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{old['id']}"}}
    ]
    latest = current(documents)
    assert latest[old["id"]]["status"] == "superseded" and latest[new["id"]]["status"] == "current"
    assert latest[old["id"]]["meta"]["lastUpdated"] > old["meta"]["lastUpdated"]
    assert latest[retired["id"]]["status"] == "superseded"  # quarantined now: its record retired, not deleted
    assert old in lines(dump.output / "fhir", "DocumentReference", "first")  # append-only: the first line stays
    code, out, record = _reconcile(dump, capsys)
    assert code == 0 and record["checks"]["edms"]["holds"], out


def test_the_record_index_covers_each_runs_files_and_located_the_superseded_record(dump):
    """After the changed document's run (above): every file the pipeline wrote is covered by the edms_record_index
    lineage table, byte for byte, so the second run fetched the earlier record by its range (FindEarlier reads only
    uncovered files whole: tests/edms/test_find_earlier.py counts it); the launcher's retirement file is not indexed
    and is read whole by later runs."""
    rows = read_table(str(dump.output), "edms_record_index")
    folder = dump.output / "fhir"
    assert {row["run_id"] for row in rows} == {"first", "second"}
    for path in sorted(folder.glob("DocumentReference-*.ndjson")):
        mine = [row for row in rows if row["file"] == path.name]
        if "-retired-" in path.name:
            assert not mine
            continue
        data = path.read_bytes()
        assert sum(row["byte_length"] + 1 for row in mine) == len(data), path.name
        for row in mine:
            line = json.loads(data[row["byte_offset"] : row["byte_offset"] + row["byte_length"]])
            assert (line["id"], line["status"], line["meta"]["lastUpdated"]) == (
                row["resource_id"],
                row["status"],
                row["last_updated"],
            )
            assert own(line) == (row["identifier_system"], row["document_id"])  # the sample ids hold no identifier
    superseded = [row for row in rows if row["run_id"] == "second" and row["status"] == "superseded"]
    assert superseded and all(row["file"].startswith("DocumentReference-second-") for row in superseded)
