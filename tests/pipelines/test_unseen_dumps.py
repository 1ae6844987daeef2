"""Manifests shaped as other exports are: the tool must take them as a new user would hand them over."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from pipelines.launch.launcher import migrate
from tests.conftest import upload_folder
from tests.edms_checks import lines
from tests.images import bilevel_page, encode, multipage_g4
from tests.lineage_checks import read_table

pytestmark = pytest.mark.slow  # whole dumps, emulators or subprocesses: outside the fast loop


def write_quirky_dump(folder: Path, remote_blob: str | None = None) -> Path:
    (folder / "scans" / "2019").mkdir(parents=True)
    (folder / "scans" / "2019" / "letter one.tif").write_bytes(multipage_g4(2))
    (folder / "scans" / "page.png").write_bytes(encode(bilevel_page(seed=3).convert("L"), "PNG", dpi=(300, 300)))
    absolute = folder / "elsewhere.bmp"
    absolute.write_bytes(encode(bilevel_page(seed=5), "BMP"))
    rows = [
        # columns in another order, extra columns, quoted fields with commas and quotes
        ["document_type", "blob_uri", "document_id", "source_system", "nhs_number", "Notes, free text"],
        ['Letter, "urgent"', "scans/2019/letter one.tif", "DOC/1 (a)", "PAS", "943-476-5919", 'said "hello"'],
        ["Referral", "./scans\\page.png", "DOC 2", "PAS", "", ""],
        ["Referral", str(absolute), "ünïcode-id", "ÉCM", " 943 476 5919 ", ""],
        ["Referral", "scans/page.png", "DOC 3", "PAS", "", "", "surplus field"],
    ]
    if remote_blob:
        rows.append(["Referral", remote_blob, "REMOTE", "PAS", "", ""])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    (folder / "export.csv").write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    return folder / "export.csv"


def test_a_quirky_export_is_read_as_meant(tmp_path, storage_emulator):
    remote = upload_folder(write_quirky_dump(tmp_path / "remote-src").parent / "scans", "quirky", "far")
    manifest = write_quirky_dump(tmp_path / "dump", remote_blob=f"{remote}/page.png")
    output = str(tmp_path / "out")
    config = tmp_path / "fhir.json"  # the quoted extra column, read by a confidentiality rule of the EDMS record
    rule = {"column": "Notes, free text", "values": {'said "hello"': "R"}}
    config.write_text(json.dumps({"confidentiality": {"restricted_flag": rule}}))
    # the remote store is declared: a blob outside every root is never read (BLOB_OUTSIDE_ROOTS)
    argv = ["--manifest", str(manifest), "--output", output, "--allowed_roots", remote, "--fhir_config", str(config)]
    assert migrate(argv) == 0
    documents = {(d["source_system"], d["document_id"]): d for d in read_table(output, "documents")}
    assert {key: d["status"] for key, d in documents.items()} == {
        ("PAS", "DOC/1 (a)"): "migrated",
        ("PAS", "DOC 2"): "migrated",
        ("ÉCM", "ünïcode-id"): "migrated",
        ("PAS", "DOC 3"): "quarantined",  # more fields than the header: the row, not the job
        ("PAS", "REMOTE"): "migrated",
    }
    assert documents[("PAS", "DOC 3")]["reasons"] == ["MANIFEST_ROW_INVALID"]
    assert documents[("PAS", "DOC/1 (a)")]["document_type"] == 'Letter, "urgent"'
    # --manifest keeps extra columns for the EDMS record only, parsed as quoted: none reaches lineage
    assert {d["metadata_json"] for d in documents.values()} == {None}
    records = {r["identifier"][0]["value"]: r for r in lines(Path(output, "fhir"), "DocumentReference")}
    assert records["DOC/1 (a)"]["securityLabel"][0]["coding"][0]["code"] == "R"  # its column, read as quoted
    assert records["DOC/1 (a)"]["type"] == {"text": 'Letter, "urgent"'}
    assert {name for name, record in records.items() if record["securityLabel"][0]["coding"][0]["code"] == "N"} == {
        "DOC 2",
        "ünïcode-id",
        "REMOTE",
    }
    assert documents[("PAS", "DOC 2")]["blob_uri"] == str(tmp_path / "dump" / "scans" / "page.png")
    assert documents[("ÉCM", "ünïcode-id")]["nhs_number_status"] == "valid"
    stored = Image.open(next(p for p in read_table(output, "pages") if p["document_id"] == "DOC 2")["object_uri"])
    assert stored.tobytes() == bilevel_page(seed=3).convert("L").tobytes()
