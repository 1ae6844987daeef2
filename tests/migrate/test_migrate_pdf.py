"""The per-document step on PDFs and containers: a PDF stored whole, a container quarantined with its bytes."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from schemas.records import DocumentRef, Status
from tests.containers import blank_pdf, eps_with_tiff_preview, pdf_with_jpeg
from tests.migrate.test_migrate import VALID_NHS, make_fn
from transforms.edms.documentreference import PAGES_EXTENSION

FILENET = b"FNP2\x00\x01".ljust(256, b"\x00")


def pdf_ref(folder: Path, document_id: str, name: str, **fields) -> DocumentRef:
    fields.setdefault("document_type", "Clinic Letter")
    fields.setdefault("nhs_number", VALID_NHS)
    return DocumentRef("PAS", document_id, str(folder / "manifest.csv"), 1, blob_uri=str(folder / name), **fields)


def test_a_pdf_is_stored_byte_for_byte_as_one_object_with_its_pages_counted(tmp_path):
    pdf = blank_pdf(3)
    (tmp_path / "letter.pdf").write_bytes(pdf)
    [outcome] = list(make_fn(tmp_path).process(pdf_ref(tmp_path, "P1", "letter.pdf", page_count=3)))
    row = outcome.document
    assert (row["status"], row["source_format"], row["page_count"], row["recorded_page_count"]) == (
        Status.MIGRATED,
        "PDF",
        3,
        3,
    )
    assert row["content_sha256"] == hashlib.sha256(b"pdf\x00" + pdf).hexdigest()
    assert row["source_sha256"] == hashlib.sha256(pdf).hexdigest() and row["object_bytes"] == len(pdf)
    assert outcome.dedupe_key == (row["patient_key"], row["content_sha256"]) and outcome.objects_written == 1
    [page] = outcome.pages
    assert (page["page_number"], page["object_format"], page["width"], page["pixel_sha256"]) == (1, "PDF", None, None)
    assert page["object_uri"].endswith(".pdf") and Path(page["object_uri"]).read_bytes() == pdf
    assert page["object_sha256"] == hashlib.sha256(pdf).hexdigest()
    [attachment] = [content["attachment"] for content in outcome.edms.resource()["content"]]  # a PDF is one
    assert attachment["contentType"] == "application/pdf" and attachment["size"] == len(pdf)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()
    assert attachment["extension"] == [{"url": PAGES_EXTENSION, "valueUnsignedInt": 3}]  # R5's pages, in R4
    [again] = list(make_fn(tmp_path).process(pdf_ref(tmp_path, "P1", "letter.pdf", page_count=3)))
    assert again.objects_written == 0 and again.pages[0]["object_uri"] == page["object_uri"]


def test_a_scanners_pdf_is_kept_whole_never_reduced_to_its_jpeg(tmp_path):
    pdf = pdf_with_jpeg()
    (tmp_path / "scan.pdf").write_bytes(pdf)
    [outcome] = list(make_fn(tmp_path).process(pdf_ref(tmp_path, "P2", "scan.pdf")))
    assert outcome.document["source_format"] == "PDF" and Path(outcome.pages[0]["object_uri"]).read_bytes() == pdf


def test_a_pdf_behind_a_declared_header_is_stored_without_it(tmp_path):
    pdf = blank_pdf(2)
    (tmp_path / "headed.dat").write_bytes(FILENET + pdf)
    [outcome] = list(make_fn(tmp_path).process(pdf_ref(tmp_path, "P3", "headed.dat", legacy_header="search")))
    row = outcome.document
    assert (row["status"], row["legacy_header_bytes"], row["page_count"]) == (Status.MIGRATED, 256, 2)
    assert row["source_sha256"] == hashlib.sha256(FILENET + pdf).hexdigest()  # the exact legacy bytes
    assert Path(outcome.pages[0]["object_uri"]).read_bytes() == pdf
    [unsearched] = list(make_fn(tmp_path).process(pdf_ref(tmp_path, "P4", "headed.dat")))
    assert unsearched.document["reasons"] == ["UNSUPPORTED_FORMAT"]


def test_a_container_is_quarantined_with_its_exact_bytes_and_its_format_named(tmp_path):
    eps = eps_with_tiff_preview()
    (tmp_path / "figure.eps").write_bytes(eps)
    [outcome] = list(make_fn(tmp_path).process(pdf_ref(tmp_path, "E1", "figure.eps", legacy_header="search")))
    row = outcome.document
    assert (row["status"], row["reasons"], row["source_format"]) == (Status.QUARANTINED, ["UNSUPPORTED_FORMAT"], "EPS")
    assert "TIFF preview" in row["reason_messages"][0] and outcome.pages == ()
    assert Path(row["quarantine_uri"]).read_bytes() == eps
    assert not (tmp_path / "out" / "objects").exists()


def test_a_damaged_pdf_is_quarantined_and_nothing_is_stored(tmp_path):
    pdf = blank_pdf(3)
    (tmp_path / "cut.pdf").write_bytes(pdf[: len(pdf) // 2])
    [outcome] = list(make_fn(tmp_path).process(pdf_ref(tmp_path, "C1", "cut.pdf")))
    assert outcome.document["reasons"] == ["PDF_TRUNCATED"] and outcome.document["source_format"] == "PDF"
    assert not (tmp_path / "out" / "objects").exists()
