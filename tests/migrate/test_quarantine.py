"""The quarantined outcome: evidence kept where it can be, one outcome whatever happens while keeping it."""

from __future__ import annotations

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef, PageBlob, Status
from transforms.migrate.quarantine import QuarantineCrashedFn, QuarantineWriter, quarantine_suffix
from transforms.privacy.key_source import PatientKeyRef
from transforms.storage.output_layout import MAX_NAME_BYTES, safe_name

KEY = b"test-patient-key-0123456789"


def test_repeated_ids_from_two_index_files_keep_separate_quarantine_files():
    repeated = [Finding(Reason.DUPLICATE_DOCUMENT_ID, "id already used")]
    first = DocumentRef("PAS", "D1", "/dump/a.csv", 7)
    second = DocumentRef("PAS", "D1", "/dump/b.csv", 7)
    assert quarantine_suffix(first, repeated) != quarantine_suffix(second, repeated)
    assert quarantine_suffix(first, []) == ""


def test_an_unwritable_quarantine_area_still_gives_one_quarantined_outcome(tmp_path):
    (tmp_path / "not-a-folder").write_text("a file where the output should be")
    writer = QuarantineWriter(str(tmp_path / "not-a-folder" / "out"), "run-1", KEY)
    ref = DocumentRef("PAS", "D1", str(tmp_path / "m.csv"), 1)
    outcome = writer.outcome(ref, [Finding(Reason.DECODE_ERROR, "corrupt")], b"bytes")
    assert outcome.document["status"] == Status.QUARANTINED
    assert outcome.document["reasons"] == ["DECODE_ERROR", "STORAGE_ERROR"]
    assert outcome.document["quarantine_uri"] is None


def test_a_crashed_page_per_row_document_keeps_each_readable_page_file(tmp_path):
    for number in (1, 2):
        (tmp_path / f"p{number}.tif").write_bytes(f"page {number}".encode())
    pages = tuple(PageBlob(str(tmp_path / f"p{n}.tif"), manifest_row=n) for n in (1, 2, 3))  # p3 does not exist
    ref = DocumentRef("RAD", "R1", str(tmp_path / "pages.csv"), 1, blob_uri=pages[0].blob_uri, page_blobs=pages)
    (tmp_path / "patient.key").write_bytes(KEY)
    crashed = QuarantineCrashedFn(str(tmp_path / "out"), "run-1", PatientKeyRef("file", str(tmp_path / "patient.key")))
    crashed.setup()
    [outcome] = list(crashed.process((ref, (RuntimeError, RuntimeError("boom"), None))))
    assert outcome.document["reasons"] == ["INTERNAL_ERROR"]
    kept = sorted(path.name for path in (tmp_path / "out" / "quarantine" / "run-1" / "RAD").iterdir())
    assert kept == ["R1.json", "R1.page-1.bin", "R1.page-2.bin"]
    assert (tmp_path / "out" / "quarantine" / "run-1" / "RAD" / "R1.page-2.bin").read_bytes() == b"page 2"


def test_long_unicode_ids_get_names_within_file_system_limits_and_stay_distinct(tmp_path):
    first, second = "é" * 300 + "1", "é" * 300 + "2"
    assert len(safe_name(first)) <= MAX_NAME_BYTES and safe_name(first) != safe_name(second)
    writer = QuarantineWriter(str(tmp_path / "out"), "run-1", KEY)
    outcome = writer.outcome(DocumentRef("ÉCM", first, "m.csv", 1), [Finding(Reason.EMPTY_BLOB, "empty")], b"x")
    assert outcome.document["quarantine_uri"] and len(list((tmp_path / "out" / "quarantine").rglob("*.bin"))) == 1
