"""Several sources in one run, through the launcher: canonical CSV, OnBase DIP over a volume, page per row,
a FileNet-style header, defects of each, cross-source duplicates and orphans left in the store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from pipelines.launch.launcher import migrate
from tests.images import bilevel_page, encode, multipage_g4
from tests.lineage_checks import read_bytes, read_table
from transforms.sources.layouts.onbase_dip import MAGIC

pytestmark = pytest.mark.slow  # whole dumps, emulators or subprocesses: outside the fast loop

NHS = "943 476 5919"
OTHER_NHS = "401 023 2137"


def tiff_lzw(seeds: range) -> bytes:
    pages = [bilevel_page(seed=seed) for seed in seeds]
    return encode(pages[0], "TIFF", compression="tiff_lzw", save_all=True, append_images=pages[1:])


def dip_block(item: str, path: str | None, offset: str, size: str, nhs: str = NHS) -> str:
    lines = ["BEGIN:", ">>DocTypeName: Lettre reçue", ">>DocDate: 03/14/2003"]
    if path is not None:
        lines.append(f">>FullPath: {path}")
    lines += [f">>FileOffset: {offset}", f">>FileSize: {size}", ">>DiskgroupNum: 1", f"ItemNum: {item}"]
    lines.append(f"NHS Number: {nhs}")
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("multi") / "dump"
    (root / "canonical").mkdir(parents=True)
    (root / "canonical" / "a.tif").write_bytes(multipage_g4(3))
    (root / "canonical" / "manifest.csv").write_text(
        f"source_system,document_id,blob_uri,nhs_number\nCANON,C1,a.tif,{NHS}\n"
    )
    # OnBase: a disk-group volume holding the same three pages (LZW), and one TIFF behind a 512-byte header.
    volume = bytearray(b"DG".ljust(100, b"\x00"))
    same = tiff_lzw(range(3))
    same_at = len(volume)
    volume += same
    headed = b"FNET".ljust(512, b"\x01") + encode(bilevel_page(seed=9), "TIFF", compression="group4")
    headed_at = len(volume)
    volume += headed
    (root / "onbase" / "diskgroups" / "DG1").mkdir(parents=True)
    (root / "onbase" / "diskgroups" / "DG1" / "v0001.dat").write_bytes(bytes(volume))
    (root / "onbase" / "diskgroups" / "DG1" / "forgotten.tif").write_bytes(b"II*\x00left behind")
    unc = "\\\\FILESRV01\\OnBase\\DG1\\"
    index = (
        MAGIC
        + "\r\n"
        + "".join(
            [
                dip_block("1001", unc + "v0001.dat", str(same_at), str(len(same))),
                dip_block("1002", "\\\\filesrv01\\onbase\\DG1\\v0001.dat", str(headed_at), str(len(headed)), OTHER_NHS),
                dip_block("1003", unc + "v0001.dat", str(headed_at), str(len(headed) + 10)),
                dip_block("1004", unc + "v0002.dat", "0", "10"),
                dip_block("1005", None, "0", "10"),
                dip_block("1006", "\\\\OLDSRV\\OnBase\\v1.dat", "0", "10"),
                dip_block("1007", unc + "v0001.dat", "1x", "10"),
            ]
        )
    )
    (root / "onbase" / "index.txt").write_bytes(index.encode("cp1252"))
    (root / "onbase" / "onbase.json").write_text(
        json.dumps(
            {
                "source_system": "ONBASE",
                "format": "onbase-dip",
                "manifest": "index.txt",
                "encoding": "cp1252",
                "fields": {"document_id": "ItemNum", "nhs_number": "NHS Number"},
                "path_map": {"\\\\FILESRV01\\OnBase": "diskgroups"},
                "legacy_header": "search",
            }
        )
    )
    # Page per row: one page per file, rows out of order; R2 lacks its page 2.
    images = root / "rad" / "images"
    images.mkdir(parents=True)
    for name, seed in (("r1p1", 20), ("r1p2", 21), ("r1p3", 22), ("r2p1", 23), ("r2p3", 24)):
        (images / f"{name}.tif").write_bytes(encode(bilevel_page(seed=seed), "TIFF", compression="group4"))
    (root / "rad" / "pages.csv").write_text(
        f"REQ|PG|FILE|NHS\nR1|3|R:\\img\\r1p3.tif|{NHS}\nR2|1|R:\\img\\r2p1.tif|{NHS}\nR1|1|R:\\img\\r1p1.tif|{NHS}\n"
        f"R1|2|R:\\img\\r1p2.tif|{NHS}\nR2|3|R:\\img\\r2p3.tif|{NHS}\n"
    )
    (root / "rad" / "rad.json").write_text(
        json.dumps(
            {
                "source_system": "RAD",
                "format": "csv",
                "manifest": "*.csv",
                "delimiter": "|",
                "fields": {"document_id": "REQ", "page_number": "PG", "blob_uri": "FILE", "nhs_number": "NHS"},
                "path_map": {"R:\\img": "images"},
            }
        )
    )
    return root


@pytest.fixture(scope="module")
def migration(dump, tmp_path_factory) -> str:
    output = str(tmp_path_factory.mktemp("out") / "migrated")
    argv = ["--manifest", str(dump / "canonical" / "manifest.csv"), "--source", str(dump / "onbase" / "onbase.json")]
    argv += ["--source", str(dump / "rad" / "rad.json"), "--blob_root", str(dump), "--output", output]
    argv += ["--max_quarantine_rate", "1"]  # this dump is mostly defects, on purpose
    assert migrate(argv) == 0
    return output


def by_id(output: str) -> dict[str, dict]:
    return {row["document_id"]: row for row in read_table(output, "documents")}


def test_every_source_document_has_its_outcome_and_profile(migration):
    rows = by_id(migration)
    expected = {
        "C1": ("migrated", None, "canonical"),
        "1001": ("duplicate", None, "onbase"),
        "1002": ("migrated", None, "onbase"),
        "1003": ("quarantined", "BYTE_RANGE_OUT_OF_BOUNDS", "onbase"),
        "1004": ("quarantined", "BLOB_MISSING", "onbase"),
        "1005": ("quarantined", "MANIFEST_ROW_INVALID", "onbase"),
        "1006": ("quarantined", "PATH_UNMAPPED", "onbase"),
        "1007": ("quarantined", "MANIFEST_ROW_INVALID", "onbase"),
        "R1": ("migrated", None, "rad"),
        "R2": ("quarantined", "PAGE_SEQUENCE_INVALID", "rad"),
    }
    assert set(rows) == set(expected)
    for document_id, (status, reason, profile) in expected.items():
        row = rows[document_id]
        assert (row["status"], row["source_profile"]) == (status, profile), (document_id, row["reason_messages"])
        if reason:
            assert reason in row["reasons"], (document_id, row["reasons"])


def test_duplicates_are_found_across_sources(migration):
    assert by_id(migration)["1001"]["duplicate_of"] == "CANON/C1"


def test_a_legacy_header_is_skipped_and_recorded(migration):
    row = by_id(migration)["1002"]
    assert (row["legacy_header_bytes"], row["page_count"], row["source_format"]) == (512, 1, "TIFF")
    assert by_id(migration)["C1"]["legacy_header_bytes"] is None


def test_page_rows_are_one_document_in_page_order(migration):
    row = by_id(migration)["R1"]
    assert (row["page_count"], row["page_files"], row["manifest_row"]) == (3, 3, 1)
    pages = sorted(
        (p for p in read_table(migration, "pages") if p["document_id"] == "R1"), key=lambda p: p["page_number"]
    )
    expected = [encode(bilevel_page(seed=seed), "TIFF", compression="group4") for seed in (20, 21, 22)]
    for page, source in zip(pages, expected, strict=True):
        stored = Image.open(io.BytesIO(read_bytes(page["object_uri"])))
        assert stored.tobytes() == Image.open(io.BytesIO(source)).tobytes()


def test_orphans_are_the_files_nothing_references(migration, dump):
    orphans = read_table(migration, "orphans")
    forgotten = dump / "onbase" / "diskgroups" / "DG1" / "forgotten.tif"
    assert [(row["uri"], row["size_bytes"], row["blob_root"]) for row in orphans] == [
        (str(forgotten), forgotten.stat().st_size, str(dump))
    ]


def test_summary_balances_per_source_and_names_profiles(migration):
    [summary_file] = Path(migration, "lineage").glob("summary-*.json")
    summary = json.loads(summary_file.read_text())
    assert summary["balanced"] is True
    assert summary["sources"]["RAD"]["manifest_documents"] == 2
    assert summary["sources"]["ONBASE"]["profiles"] == {"onbase": 7}


def test_the_printed_summary_names_each_sources_profile(dump, tmp_path, capsys):
    argv = ["--source", str(dump / "rad" / "rad.json"), "--output", str(tmp_path / "out")]
    assert migrate(argv) == 0
    assert "read through profiles: RAD ← rad" in capsys.readouterr().out
