"""Lineage says how each page's object was made: copied from the source's strips, re-encoded, or kept whole."""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from schemas.records import DocumentRef, Status
from schemas.tables import PAGES
from tests.images import bilevel_page, encode, multipage_g4
from transforms.migrate.document_step import MigrateDocumentFn, MigrationSettings


def migrate(tmp_path, name: str, data: bytes) -> list[dict]:
    (tmp_path / name).write_bytes(data)
    settings = MigrationSettings(str(tmp_path / "out"), "run-1", isolation="always", today=dt.date(2026, 1, 1))
    fn = MigrateDocumentFn(settings)
    fn.setup()
    try:
        ref = DocumentRef("PAS", name, str(tmp_path / "manifest.csv"), 1, blob_uri=str(tmp_path / name))
        [outcome] = list(fn.process(ref))
    finally:
        fn.teardown()
    assert outcome.document["status"] == Status.MIGRATED
    return list(outcome.pages)


def test_each_page_row_records_the_path_its_object_took(tmp_path):
    """Through the isolated child and back: the path survives the process boundary, into a Parquet row."""
    mixed = multipage_g4(2)
    lzw = encode(bilevel_page(seed=7), "TIFF", compression="tiff_lzw", dpi=(200, 200))
    jpeg = encode(bilevel_page(seed=8).convert("RGB"), "JPEG", quality=85)
    colour = bilevel_page(seed=9).convert("RGB")
    rows = {
        "g4": migrate(tmp_path, "g4.tif", mixed),
        "lzw": migrate(tmp_path, "lzw.tif", lzw),
        "jpeg": migrate(tmp_path, "photo.jpg", jpeg),
        "jpeg-in-tiff": migrate(
            tmp_path, "one-strip.tif", encode(colour, "TIFF", compression="jpeg", strip_size=2**30)
        ),
        "jpeg-strips": migrate(tmp_path, "strips.tif", encode(colour, "TIFF", compression="jpeg", strip_size=8192)),
    }
    assert [row["encode_path"] for row in rows["g4"]] == ["passthrough", "passthrough"]
    assert [(row["encode_path"], row["object_format"]) for row in rows["lzw"]] == [("reencoded", "TIFF/CCITT-G4")]
    assert [(row["encode_path"], row["object_format"]) for row in rows["jpeg"]] == [("original", "JPEG/original")]
    # A JPEG-in-TIFF page keeps its JPEG data: one strip as a JPEG file, several in a TIFF with their JPEGTables.
    assert [(row["encode_path"], row["object_format"]) for row in rows["jpeg-in-tiff"]] == [
        ("jpeg-stream", "JPEG/from-TIFF")
    ]
    assert [(row["encode_path"], row["object_format"]) for row in rows["jpeg-strips"]] == [("passthrough", "TIFF/JPEG")]
    for kind in ("jpeg-in-tiff", "jpeg-strips"):
        [row] = rows[kind]
        assert row["object_uri"].endswith(".jpg" if kind == "jpeg-in-tiff" else ".tif")
        with (
            Image.open(row["object_uri"]) as stored,
            Image.open(tmp_path / ("one-strip.tif" if kind == "jpeg-in-tiff" else "strips.tif")) as source,
        ):
            assert stored.convert("RGB").tobytes() == source.convert("RGB").tobytes()
    for row in rows["g4"]:  # what lineage points at is the copy, and it holds the source page's pixels
        with Image.open(row["object_uri"]) as stored:
            assert stored.tag_v2[259] == 4 and row["pixel_sha256"]
    table = pa.Table.from_pylist([row for kind in rows.values() for row in kind], schema=PAGES.arrow_schema())
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    assert pq.read_table(io.BytesIO(buffer.getvalue())).column("encode_path").to_pylist() == [
        "passthrough",
        "passthrough",
        "reencoded",
        "original",
        "jpeg-stream",
        "passthrough",
    ]
