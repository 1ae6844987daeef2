"""Privacy through the real pipeline (DirectRunner, real Parquet): what a legacy export's free text and shifted
columns may leave in analyst outputs, and who may read the files a local run writes."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from pathlib import Path

import pytest

from pipelines.launch.launcher import migrate
from tests.edms_checks import lines
from tests.images import bilevel_page, encode
from tests.lineage_checks import read_table
from transforms.sources.layouts.onbase_dip import MAGIC

pytestmark = pytest.mark.slow  # a whole pipeline run

#: One patient's NHS number as legacy systems write it in free text; 943 476 5918 fails its check digit.
SPELLINGS = ("NHS 943 476 5919", "943.476.5919", "943/476/5919", "9434765919/1", "NHS: 9434765919", "943 476 5918")
NUMBERS = ("9434765919", "9434765918")


def tiff(seed: int) -> bytes:
    return encode(bilevel_page(seed=seed), "TIFF", compression="group4", dpi=(200, 200))


def write_export(folder: Path) -> list[str]:
    """A csv source with kept and unkept columns and shifted values, and an OnBase DIP source; the profiles."""
    (folder / "scans").mkdir(parents=True)
    header = ["ID", "FILE", "NHS", "TYPE", "DATE", "PAGES", "OFFSET", "WARD", "COMMENT", "HOSP_NO", "SURNAME", "DOB"]
    rows = [
        ["A1", "scans/a1.tif", "943 476 5919", "Letter", "2004-12-31", "", "", "Ward 7", SPELLINGS[0], SPELLINGS[1]],
        ["A2", "scans/a2.tif", "", "Letter", "", "1", "", "Ward 8", SPELLINGS[2], SPELLINGS[3]],
        ["A3", "scans/a3.tif", "", "Letter", "943 476 5919", "", "", "Ward 9", SPELLINGS[5], ""],  # shifted columns
        ["A4", "scans/a4.tif", "", "943 476 5919", "", "", "", "", "", ""],
        ["A5", "scans/a5.tif", "", "Letter", "", "943 476 5919", "", "", "", ""],
        ["A6", "scans/a6.tif", "", "Letter", "", "", "943 476 5919", "", "", ""],
    ]
    for number, row in enumerate(rows, start=1):
        (folder / "scans" / f"a{number}.tif").write_bytes(tiff(number))
        row += ["Smith", "01/02/1960"]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    (folder / "export.csv").write_text(buffer.getvalue(), encoding="utf-8")
    fields = {"document_id": "ID", "blob_uri": "FILE", "nhs_number": "NHS", "document_type": "TYPE"}
    fields |= {"document_date": "DATE", "page_count": "PAGES", "offset": "OFFSET"}
    pas = {"source_system": "PAS", "format": "csv", "manifest": "export.csv", "fields": fields}
    (folder / "pas.json").write_text(json.dumps({**pas, "keep_metadata": ["WARD", "COMMENT", "HOSP_NO"]}))

    volume = tiff(10)
    (folder / "vol").mkdir()
    (folder / "vol" / "v1.dat").write_bytes(volume)
    (folder / "index.txt").write_text(
        f"{MAGIC}\nBEGIN:\n>>DocTypeName: Letter\n>>DocDate: 12/31/2004\n>>FullPath: \\\\SRV\\OnBase\\v1.dat\n"
        f">>FileOffset: 0\n>>FileSize: {len(volume)}\n>>DocumentHandle: 77001\n>>PatientNHSNo: {SPELLINGS[4]}\n"
        f"ItemNum: D1\nWard: Ward 10\nComment: {SPELLINGS[4]}\nSurname: Jones\n"
    )
    dip = {"source_system": "ONBASE", "format": "onbase-dip", "manifest": "index.txt"}
    dip |= {"fields": {"document_id": "ItemNum"}, "path_map": {"\\\\SRV\\OnBase": "vol"}}
    (folder / "dip.json").write_text(json.dumps({**dip, "keep_metadata": [">>DocumentHandle", "Ward", "Comment"]}))
    (folder / "types.json").write_text(json.dumps({"*": ["Letter"]}))
    return ["--source", str(folder / "pas.json"), "--source", str(folder / "dip.json")]


def digit_runs(text: str) -> list[str]:
    """Ten or more digits once everything that is neither a letter nor a digit is taken out."""
    return [run for run in re.findall(r"\d+", "".join(c for c in text if c.isalnum())) if len(run) >= 10]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("privacy")
    sources = write_export(folder / "export")
    output = folder / "out"
    umask = os.umask(0o022)  # a typical shared host's umask: files 0644 unless the job says otherwise
    try:
        code = migrate([*sources, "--output", str(output), "--document_types", str(folder / "export" / "types.json")])
        assert os.umask(0o022) == 0o022, "the launcher gives back the umask it found"
    finally:
        os.umask(umask)
    assert code == 0  # 4 of 7 quarantined: under the default --max_quarantine_rate
    return output


def documents(output: Path) -> dict[str, dict]:
    return {row["document_id"]: row for row in read_table(str(output), "documents")}


def test_only_allow_listed_metadata_reaches_lineage_and_it_is_redacted(run):
    rows = documents(run)
    assert json.loads(rows["A1"]["metadata_json"]) == {
        "COMMENT": "NHS [redacted]",
        "HOSP_NO": "[redacted]",
        "WARD": "Ward 7",
    }
    assert json.loads(rows["A2"]["metadata_json"]) == {
        "COMMENT": "[redacted]",
        "HOSP_NO": "[redacted]",
        "WARD": "Ward 8",
    }
    assert json.loads(rows["D1"]["metadata_json"]) == {
        ">>DocumentHandle": "77001",
        "Comment": "NHS: [redacted]",
        "Ward": "Ward 10",
    }
    for row in rows.values():
        text = json.dumps(row, default=str)
        assert not [s for s in (*SPELLINGS, *NUMBERS, "Smith", "Jones", "1960", "PatientNHSNo") if s in text], row
        for value in (row["metadata_json"] or "", row["document_type"] or "", *row["reason_messages"]):
            assert not digit_runs(value), (row["document_id"], value)


def test_shifted_values_are_described_in_messages_and_the_quarantine_records(run):
    rows = documents(run)
    assert {key: (row["status"], row["reasons"]) for key, row in rows.items() if row["status"] != "migrated"} == {
        "A3": ("quarantined", ["DATE_INVALID"]),
        "A4": ("quarantined", ["DOCUMENT_TYPE_UNKNOWN"]),
        "A5": ("quarantined", ["MANIFEST_ROW_INVALID"]),
        "A6": ("quarantined", ["MANIFEST_ROW_INVALID"]),
    }
    assert rows["A4"]["reason_messages"] == [
        "document_type (12 characters: digits and spaces) is not on this source's list"
    ]
    records = list((run / "quarantine").rglob("*.json"))
    assert len(records) == 4
    for path in records:
        text = path.read_text()
        assert "12 characters: digits and spaces" in text
        assert not [group for group in ("943", "476", "5919") if group in text], path


def test_the_edms_record_names_the_patient_and_no_other_exported_field(run):
    """The DocumentReference carries the normalised NHS number in subject, restricted side only; the export's
    other fields (names, dates of birth, hospital numbers) are read by the confidentiality rules, never copied."""
    documents = {r["identifier"][0]["value"]: r for r in lines(run / "fhir", "DocumentReference")}
    assert documents["A1"]["subject"]["identifier"]["value"] == "9434765919"
    text = "".join(p.read_text() for p in (run / "fhir").glob("*.ndjson"))
    assert "Smith" not in text and "01/02/1960" not in text and "Jones" not in text


def test_every_local_output_is_owner_only(run):
    """Objects, quarantine, EDMS records, the lease, and the lineage Beam writes itself: 0600 files in 0700 folders."""
    files = [path for path in run.rglob("*") if path.is_file()]
    kinds = {path.relative_to(run).parts[0] for path in files}
    assert kinds == {"objects", "quarantine", "fhir", "edms-journal", "lineage", "lease"}
    assert any(path.suffix == ".parquet" for path in files)
    assert {path.relative_to(run).as_posix(): oct(stat.S_IMODE(path.stat().st_mode)) for path in files} == {
        path.relative_to(run).as_posix(): "0o600" for path in files
    }
    folders = [run, *(path for path in run.rglob("*") if path.is_dir())]
    assert {str(path): oct(stat.S_IMODE(path.stat().st_mode)) for path in folders} == {
        str(path): "0o700" for path in folders
    }
