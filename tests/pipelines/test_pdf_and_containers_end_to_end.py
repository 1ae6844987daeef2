"""PDFs and containers through the real pipeline (launcher, DirectRunner, isolated child, Parquet lineage).

PDF letters are migrated whole, counted, de-duplicated by their bytes within a patient and offered for misfiling
review across patients; encrypted, damaged and truncated PDFs and every container are quarantined with their
bytes and their own reason; a legacy header is skipped only where a profile declares it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipelines.launch.launcher import migrate
from tests.containers import (
    blank_pdf,
    docx_with_jpeg,
    email_with_attachment,
    encrypted_pdf,
    eps_with_tiff_preview,
    icns_with_png,
    pdf_with_damaged_stream,
    pdf_with_jpeg,
)
from tests.edms_checks import check_every_line
from tests.images import bilevel_page, encode, multipage_g4
from tests.lineage_checks import read_bytes, read_table
from transforms.edms.documentreference import PAGES_EXTENSION

pytestmark = pytest.mark.slow  # a whole pipeline run: outside the fast loop

NHS = "943 476 5919"
OTHER_NHS = "401 023 2137"
HEADER = b"FNP2\x00\x01".ljust(256, b"\x00")
LETTER = blank_pdf(3)
TRUNCATED = blank_pdf(2)[:-300]

#: document id → (blob, NHS number, recorded page count, expected status, expected reason, expected source_format)
CANONICAL = {
    "P1": (LETTER, NHS, "3", "migrated", None, "PDF"),
    "P2": (LETTER, NHS, "", "duplicate", None, "PDF"),
    "P3": (LETTER, OTHER_NHS, "3", "migrated", None, "PDF"),
    "P4": (pdf_with_jpeg(), NHS, "1", "migrated", None, "PDF"),
    "P5": (encrypted_pdf(), NHS, "", "quarantined", "PDF_ENCRYPTED", "PDF"),
    "P6": (TRUNCATED, NHS, "", "quarantined", "PDF_TRUNCATED", "PDF"),
    "P7": (pdf_with_damaged_stream(), NHS, "", "quarantined", "PDF_DAMAGED", "PDF"),
    "P8": (blank_pdf(3, static_id=True), NHS, "2", "quarantined", "PAGE_COUNT_MISMATCH", "PDF"),
    "C1": (eps_with_tiff_preview(), NHS, "", "quarantined", "UNSUPPORTED_FORMAT", "EPS"),
    "C2": (icns_with_png(), NHS, "", "quarantined", "UNSUPPORTED_FORMAT", "ICNS"),
    "C3": (docx_with_jpeg(), NHS, "", "quarantined", "UNSUPPORTED_FORMAT", "DOCX"),
    "C4": (email_with_attachment(), NHS, "", "quarantined", "UNSUPPORTED_FORMAT", "EMAIL"),
    "C5": (HEADER + encode(bilevel_page().convert("L"), "JPEG"), NHS, "", "quarantined", "UNSUPPORTED_FORMAT", None),
}
#: The profiled source: one 256-byte header declared, before a TIFF, a PDF, and a blob too short for it.
PROFILED = {
    "H1": (HEADER + multipage_g4(2), "migrated", None),
    "H2": (HEADER + blank_pdf(1), "migrated", None),
    "H3": (HEADER[:100], "quarantined", "LEGACY_HEADER_MISMATCH"),
}


@pytest.fixture(scope="module")
def migration(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("pdfs")
    lines = ["source_system,document_id,blob_uri,nhs_number,page_count"]
    for document_id, (blob, nhs, pages, *_) in CANONICAL.items():
        (root / f"{document_id}.bin").write_bytes(blob)
        lines.append(f"LETTERS,{document_id},{document_id}.bin,{nhs},{pages}")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    rows = ["ID,FILE,NHS"] + [f"{document_id},{document_id}.dat,{NHS}" for document_id in PROFILED]
    for document_id, (blob, *_) in PROFILED.items():
        (root / f"{document_id}.dat").write_bytes(blob)
    (root / "filenet.csv").write_text("\n".join(rows) + "\n")
    profile = {
        "source_system": "FILENET",
        "format": "csv",
        "manifest": "filenet.csv",
        "fields": {"document_id": "ID", "blob_uri": "FILE", "nhs_number": "NHS"},
        "legacy_header": 256,
    }
    (root / "filenet.json").write_text(json.dumps(profile))
    output = str(root / "out")
    argv = ["--manifest", str(root / "manifest.csv"), "--source", str(root / "filenet.json"), "--output", output]
    assert migrate([*argv, "--max_quarantine_rate", "1"]) == 0
    return root, output


def documents(output: str) -> dict[str, dict]:
    return {row["document_id"]: row for row in read_table(output, "documents")}


def test_every_document_ends_in_its_expected_outcome(migration):
    _, output = migration
    rows = documents(output)
    assert len(rows) == len(CANONICAL) + len(PROFILED)
    expected = {key: (status, reason) for key, (_, _, _, status, reason, _) in CANONICAL.items()}
    expected |= {key: (status, reason) for key, (_, status, reason) in PROFILED.items()}
    for document_id, (status, reason) in expected.items():
        row = rows[document_id]
        assert row["status"] == status, (document_id, row["reasons"], row["reason_messages"])
        assert row["reasons"] == ([reason] if reason else []), (document_id, row["reason_messages"])
    assert {key: rows[key]["source_format"] for key in CANONICAL} == {key: v[5] for key, v in CANONICAL.items()}


def test_a_migrated_pdf_is_one_exact_object_and_lineage_counts_its_pages(migration):
    _, output = migration
    rows = documents(output)
    pages = [page for page in read_table(output, "pages") if page["document_id"] == "P1"]
    assert [(p["page_number"], p["object_format"], p["width"]) for p in pages] == [(1, "PDF", None)]
    assert read_bytes(pages[0]["object_uri"]) == LETTER and pages[0]["object_uri"].endswith(".pdf")
    assert (rows["P1"]["page_count"], rows["P4"]["page_count"], rows["P1"]["object_bytes"]) == (3, 1, len(LETTER))
    assert rows["P1"]["content_sha256"] == hashlib.sha256(b"pdf\x00" + LETTER).hexdigest()


def test_identical_pdf_bytes_are_a_duplicate_within_a_patient_and_for_review_across_patients(migration):
    _, output = migration
    rows = documents(output)
    assert rows["P2"]["duplicate_of"] == "LETTERS/P1" and rows["P3"]["duplicate_of"] is None
    review = read_table(output, "review_misfiling")
    assert {(row["document_id"], row["patients"]) for row in review} == {("P1", 2), ("P2", 2), ("P3", 2)}


def test_the_summary_counts_a_pdfs_pages_not_its_objects(migration):
    _, output = migration
    [summary_file] = Path(output, "lineage").glob("summary-*.json")
    summary = json.loads(summary_file.read_text())
    assert summary["balanced"] is True
    # migrated: P1 (3 pages), P3 (3), P4 (1), H1 (2), H2 (1)
    assert summary["totals"]["pages"] == 3 + 3 + 1 + 2 + 1


def test_quarantined_pdfs_and_containers_keep_their_exact_bytes(migration):
    _, output = migration
    rows = documents(output)
    for document_id, (blob, *_rest, status, _reason, _format) in CANONICAL.items():
        if status == "quarantined":
            assert read_bytes(rows[document_id]["quarantine_uri"]) == blob, document_id
    assert "TIFF preview" in rows["C1"]["reason_messages"][0]
    assert "says so in its profile" in rows["C5"]["reason_messages"][0]  # no profile, no header search


def test_a_declared_fixed_header_is_skipped_recorded_and_checked(migration):
    _, output = migration
    rows = documents(output)
    assert (rows["H1"]["legacy_header_bytes"], rows["H1"]["source_format"], rows["H1"]["page_count"]) == (
        256,
        "TIFF",
        2,
    )
    assert (rows["H2"]["legacy_header_bytes"], rows["H2"]["source_format"]) == (256, "PDF")
    [pdf_page] = [page for page in read_table(output, "pages") if page["document_id"] == "H2"]
    assert read_bytes(pdf_page["object_uri"]) == PROFILED["H2"][0][256:]
    assert "as long as the blob or longer" in rows["H3"]["reason_messages"][0]


def test_the_edms_record_describes_the_pdf(migration):
    """One attachment for the whole PDF, its page count in R5's pages extension; its duplicate's id on it."""
    _, output = migration
    documents, _ = check_every_line(Path(output, "fhir"))
    [record] = [r for r in documents if r["identifier"][0]["value"] == "P1"]
    [attachment] = [content["attachment"] for content in record["content"]]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["extension"] == [{"url": PAGES_EXTENSION, "valueUnsignedInt": 3}]
    assert [i["value"] for i in record["identifier"]] == ["P1", "P2"]  # P2, its duplicate, is found through P1
    assert not [r for r in documents if r["identifier"][0]["value"] == "P2"]
