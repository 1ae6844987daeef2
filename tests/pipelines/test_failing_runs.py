"""A run that fails a check changes nothing an earlier run left: through the real pipeline, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.launch.launcher import migrate
from tests.edms_checks import current, lines
from tests.images import bilevel_page, encode, multipage_g4
from tests.lineage_checks import read_table

pytestmark = pytest.mark.slow  # whole runs of the pipeline

PROFILE = {
    "source_system": "PAS-SCAN",
    "format": "csv",
    "manifest": "export.csv",
    "delimiter": ";",
    "fields": {"document_id": "DOC_REF", "blob_uri": "FILE", "nhs_number": "NHS", "document_type": "TYPE"},
    "path_map": {"\\\\FILESRV01\\Scans": "mounted"},
}


def write_share_dump(folder: Path, documents: int = 4) -> Path:
    """A csv source whose blobs live on a mapped share (folder/mounted), as a legacy export names them."""
    (folder / "mounted").mkdir(parents=True)
    lines = ["DOC_REF;FILE;NHS;TYPE"]
    for number in range(documents):
        name = f"doc{number}.tif" if number % 2 else f"doc{number}.png"
        data = multipage_g4(2) if number % 2 else encode(bilevel_page(seed=number).convert("L"), "PNG")
        (folder / "mounted" / name).write_bytes(data)
        lines.append(f"D{number};\\\\FILESRV01\\Scans\\{name};943 476 5919;Letter")
    (folder / "export.csv").write_text("\n".join(lines) + "\n")
    (folder / "pas-scan.json").write_text(json.dumps(PROFILE))
    return folder / "pas-scan.json"


def snapshot(output: Path) -> dict[Path, bytes]:
    """Every file the earlier run left as evidence: lineage, summary, EDMS records."""
    return {
        path: path.read_bytes() for kind in ("lineage", "fhir") for path in (output / kind).rglob("*") if path.is_file()
    }


def test_an_unmounted_share_fails_the_rerun_and_changes_nothing_of_the_earlier_run(tmp_path, capsys):
    profile, output = write_share_dump(tmp_path / "dump"), tmp_path / "out"
    assert migrate(["--source", str(profile), "--output", str(output)]) == 0
    before = snapshot(output)
    assert any(path.name.startswith("DocumentReference-") for path in before)  # EDMS records were written
    export = tmp_path / "dump" / "export.csv"  # the next export adds documents, then the share goes away
    export.write_text(
        export.read_text() + "".join(f"N{n};\\\\FILESRV01\\Scans\\new{n}.tif;;Letter\n" for n in range(3))
    )
    (tmp_path / "dump" / "mounted").rename(tmp_path / "dump" / "unmounted")
    assert migrate(["--source", str(profile), "--output", str(output)]) == 1
    assert "SOURCE_UNAVAILABLE" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in before} == before  # byte-identical, and all still there
    current = {row["document_id"]: row for row in read_table(str(output), "documents")}
    assert {name: row["reasons"] for name, row in current.items() if row["reasons"]} == {
        f"N{n}": ["SOURCE_UNAVAILABLE"] for n in range(3)
    }
    assert {current[f"D{n}"]["status"] for n in range(4)} <= {"migrated", "duplicate"}  # source gone: stays so
    assert not list((output / "quarantine").rglob("*.bin"))  # nothing to copy, and never called missing


def test_a_rerun_over_the_quarantine_rate_deletes_no_earlier_lineage(tmp_path):
    profile, output = write_share_dump(tmp_path / "dump"), tmp_path / "out"
    assert migrate(["--source", str(profile), "--output", str(output)]) == 0
    before = snapshot(output)
    for blob in (tmp_path / "dump" / "mounted").iterdir():
        blob.write_bytes(b"not an image any more")
    assert migrate(["--source", str(profile), "--output", str(output)]) == 1
    assert {path: path.read_bytes() for path in before} == before


def test_a_rerun_that_passes_retires_the_records_of_documents_it_quarantined(tmp_path):
    """Retired: its current DocumentReference written again as superseded; the first line stays where it was."""
    profile, output = write_share_dump(tmp_path / "dump"), tmp_path / "out"
    assert migrate(["--source", str(profile), "--output", str(output), "--run_id", "first"]) == 0
    (tmp_path / "dump" / "mounted" / "doc1.tif").write_bytes(b"damaged since")
    assert migrate(["--source", str(profile), "--output", str(output), "--run_id", "second"]) == 0
    first = {r["identifier"][0]["value"]: r for r in lines(output / "fhir", "DocumentReference", "first")}
    latest = current(lines(output / "fhir", "DocumentReference"))
    assert first["D1"]["status"] == "current" and latest[first["D1"]["id"]]["status"] == "superseded"
    assert {latest[r["id"]]["status"] for name, r in first.items() if name != "D1"} == {"current"}


def test_a_manifest_that_does_not_parse_to_its_end_fails_the_run_naming_file_and_line(tmp_path, capsys):
    profile, output = write_share_dump(tmp_path / "dump", documents=6), tmp_path / "out"
    export = tmp_path / "dump" / "export.csv"
    lines = export.read_text().splitlines()
    lines[2] = lines[2].replace("D1;", 'D1;"', 1)  # an unbalanced quote on line 3
    export.write_text("\n".join(lines) + "\n")
    assert migrate(["--source", str(profile), "--output", str(output)]) == 1
    error = capsys.readouterr().err
    assert f"{export} (line-3)" in error
    statuses = {row["document_id"]: row["status"] for row in read_table(str(output), "documents")}
    assert set(statuses) == {"D0", "line-3", "D2", "D3", "D4", "D5"}  # every row after the stretch was read
    assert [name for name, status in statuses.items() if status == "quarantined"] == ["line-3"]
