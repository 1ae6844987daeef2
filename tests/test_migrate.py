"""MigrateDocumentFn called directly, and MigrateDocuments in a real pipeline."""

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from PIL import Image

from schemas.records import DocumentRef, Status
from tests.images import bilevel_page, encode, multipage_g4
from transforms import migrate as migrate_module
from transforms.migrate import MigrateDocumentFn, MigrateDocuments

VALID_NHS = "943 476 5919"


@pytest.fixture
def dump(tmp_path):
    folder = tmp_path / "dump"
    folder.mkdir()
    g4 = multipage_g4(3)
    (folder / "letter.tif").write_bytes(g4)
    png = encode(bilevel_page(seed=4).convert("L"), "PNG", dpi=(300, 300))
    (folder / "volume.dat").write_bytes(b"HEADER" + png + b"TAIL")
    (folder / "empty.tif").write_bytes(b"")
    return folder, g4, png


def make_fn(tmp_path) -> MigrateDocumentFn:
    fn = MigrateDocumentFn(str(tmp_path / "out"), "run-1", today=dt.date(2026, 1, 1))
    fn.setup()
    return fn


def ref(folder, document_id: str, blob: str, **fields) -> DocumentRef:
    return DocumentRef("PAS", document_id, str(folder / "manifest.csv"), 1, blob_uri=str(folder / blob), **fields)


def test_migrated_pages_read_back_pixel_identical(tmp_path, dump):
    folder, g4, _ = dump
    fn = make_fn(tmp_path)
    [outcome] = list(
        fn.process(
            ref(
                folder, "D1", "letter.tif", nhs_number=VALID_NHS, page_count=3, checksum_md5=hashlib.md5(g4).hexdigest()
            )
        )
    )
    row = outcome.document
    assert row["status"] == Status.MIGRATED and row["reasons"] == []
    assert row["page_count"] == 3 and row["source_sha256"] == hashlib.sha256(g4).hexdigest()
    assert outcome.dedupe_key[0] == "9434765919"
    source = Image.open(io.BytesIO(g4))
    for page in outcome.pages:
        source.seek(page["page_number"] - 1)
        stored = Image.open(page["object_uri"])
        assert stored.mode == source.mode and stored.tobytes() == source.tobytes()
        assert hashlib.sha256(Path(page["object_uri"]).read_bytes()).hexdigest() == page["object_sha256"]
        assert page["dpi"] == 200.0 and page["object_format"] == "TIFF/CCITT-G4"


def test_byte_range_inside_a_volume(tmp_path, dump):
    folder, _, png = dump
    [outcome] = list(make_fn(tmp_path).process(ref(folder, "V1", "volume.dat", offset=6, length=len(png))))
    assert outcome.document["status"] == Status.MIGRATED
    assert outcome.document["source_sha256"] == hashlib.sha256(png).hexdigest()
    assert outcome.dedupe_key is None  # no NHS number: never merged


@pytest.mark.parametrize(
    ("blob", "fields", "reason"),
    [
        ("nope.tif", {}, "BLOB_MISSING"),
        ("volume.dat", {"offset": 10, "length": 10**6}, "BYTE_RANGE_OUT_OF_BOUNDS"),
        ("empty.tif", {}, "EMPTY_BLOB"),
        ("letter.tif", {"nhs_number": "9434765918"}, "NHS_NUMBER_INVALID"),
        ("letter.tif", {"checksum_md5": "0" * 32}, "CHECKSUM_MISMATCH"),
        ("letter.tif", {"page_count": 2}, "PAGE_COUNT_MISMATCH"),
        ("letter.tif", {"document_date": "2019-02-30"}, "DATE_INVALID"),
        ("letter.tif", {"document_date": "2031-01-01"}, "DATE_INVALID"),
        ("volume.dat", {"offset": 0, "length": 6}, "UNSUPPORTED_FORMAT"),
    ],
)
def test_each_problem_quarantines_with_its_reason_and_bytes(tmp_path, dump, blob, fields, reason):
    folder = dump[0]
    [outcome] = list(make_fn(tmp_path).process(ref(folder, "Q1", blob, **fields)))
    row = outcome.document
    assert row["status"] == Status.QUARANTINED and row["reasons"] == [reason]
    assert outcome.pages == () and row["quarantine_uri"]
    if row["source_bytes"]:
        with open(folder / blob, "rb") as original:
            original.seek(fields.get("offset") or 0)
            expected = original.read(row["source_bytes"])
        assert Path(row["quarantine_uri"]).read_bytes() == expected
    assert "9434765918" not in Path(row["quarantine_uri"].rsplit(".", 1)[0] + ".json").read_text()


def test_an_unexpected_crash_costs_one_document_not_the_job(tmp_path, dump, monkeypatch):
    """Fault injection: nothing real makes the encoder raise on demand, so one call is replaced."""
    folder = dump[0]
    real_encode = migrate_module.encode_page

    def encode_or_crash(page, **kwargs):
        if page.image.mode == "L":
            raise RuntimeError("simulated decoder bug")
        return real_encode(page, **kwargs)

    monkeypatch.setattr(migrate_module, "encode_page", encode_or_crash)
    refs = [ref(folder, "G4", "letter.tif"), ref(folder, "PNG", "volume.dat", offset=6, length=len(dump[2]))]
    with TestPipeline(argv=["--runner=FnApiRunner"]) as pipeline:
        outcomes = pipeline | beam.Create(refs) | MigrateDocuments(str(tmp_path / "out"), "run-1")
        assert_that(
            outcomes | beam.Map(lambda o: (o.label, o.document["status"], tuple(o.document["reasons"]))),
            equal_to([("PAS/G4", "migrated", ()), ("PAS/PNG", "quarantined", ("INTERNAL_ERROR",))]),
        )
    assert (tmp_path / "out" / "quarantine" / "PAS" / "PNG.bin").read_bytes() == dump[2]


def page_files_ref(folder, *names: str) -> DocumentRef:
    from schemas.records import PageBlob

    blobs = tuple(PageBlob(str(folder / name), manifest_row=n) for n, name in enumerate(names, start=1))
    return DocumentRef("RAD", "R1", str(folder / "pages.csv"), 1, blob_uri=blobs[0].blob_uri, page_blobs=blobs)


def test_page_files_are_decoded_in_order_into_one_document(tmp_path):
    for seed in range(3):
        (tmp_path / f"p{seed}.tif").write_bytes(encode(bilevel_page(seed=seed), "TIFF", compression="group4"))
    [outcome] = list(make_fn(tmp_path).process(page_files_ref(tmp_path, "p2.tif", "p0.tif", "p1.tif")))
    row = outcome.document
    assert (row["status"], row["page_count"], row["page_files"]) == (Status.MIGRATED, 3, 3)
    for page, seed in zip(outcome.pages, (2, 0, 1), strict=True):
        assert Image.open(page["object_uri"]).tobytes() == bilevel_page(seed=seed).tobytes()


def test_a_page_file_with_several_pages_quarantines_the_document(tmp_path):
    (tmp_path / "one.tif").write_bytes(encode(bilevel_page(), "TIFF", compression="group4"))
    (tmp_path / "three.tif").write_bytes(multipage_g4(3))
    [outcome] = list(make_fn(tmp_path).process(page_files_ref(tmp_path, "one.tif", "three.tif")))
    assert outcome.document["reasons"] == ["PAGE_SEQUENCE_INVALID"]
    assert "page file 2 holds 3 pages" in outcome.document["reason_messages"][0]
    record = json.loads(Path(outcome.document["quarantine_uri"]).read_text())
    assert [page["blob_uri"] for page in record["page_files"]] == [
        str(tmp_path / "one.tif"),
        str(tmp_path / "three.tif"),
    ]
