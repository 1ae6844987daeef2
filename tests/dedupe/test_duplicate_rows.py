"""The documents rows de-duplication changes: read back from the journal, or built for an earlier run's document."""

from __future__ import annotations

import datetime as dt

from apache_beam import pvalue

from schemas.records import DocumentOutcome, DocumentRef, RecordedOutcome, Status
from schemas.tables import DOCUMENTS, PAGES
from transforms.dedupe.duplicate_rows import journalled_duplicates, settled_row
from transforms.dedupe.resolve import LATE, resolve_duplicates
from transforms.lineage.tables import journal_files
from transforms.migrate.journal import JournalSettings
from transforms.migrate.rows import document_row
from transforms.selection.decide import EarlierDocument

RUN_DATE = dt.date(2026, 1, 2)


def migrated(document_id: str) -> DocumentOutcome:
    ref = DocumentRef("PAS", document_id, "m.csv", 7, blob_uri=f"/b/{document_id}.tif", document_type="Letter")
    row = document_row(ref, run_id="r", status=Status.MIGRATED, source_bytes=10, page_count=1, content_sha256="c")
    row["patient_key"] = "p"
    page = PAGES.row(
        run_id="r",
        source_system="PAS",
        document_id=document_id,
        page_number=1,
        object_uri=f"/o/{document_id}",
        object_sha256="s",
        object_format="TIFF/CCITT-G4",
        object_bytes=1,
        perceptual_hash="0" * 64,
    )
    return DocumentOutcome(document=row, pages=(page,), dedupe_key=("p", "c"))


def test_a_duplicate_row_is_its_journalled_row_marked_and_recorded_later(tmp_path):
    journal = JournalSettings(str(tmp_path), "key", "r", RUN_DATE).open()
    outcomes = [migrated(name) for name in ("D1", "D2", "D3")]
    for outcome in outcomes:
        journal.record(outcome)
    journal.flush()
    [uri] = journal_files(str(tmp_path), DOCUMENTS, "key", "r")
    [row] = journalled_duplicates(uri, {("PAS", "D2"): "PAS/D1"})
    recorded = outcomes[1].document
    assert row == {
        **recorded,
        "run_date": RUN_DATE,
        "status": Status.DUPLICATE,
        "duplicate_of": "PAS/D1",
        "recorded_at": row["recorded_at"],
    }
    assert row["recorded_at"] > recorded["recorded_at"]
    assert list(journalled_duplicates(uri, {("PAS", "other"): "PAS/D1"})) == []
    assert list(journalled_duplicates(str(tmp_path / "never-read.parquet"), {})) == []  # no duplicate: no read


def test_earlier_documents_left_undecided_are_settled_in_rows_of_their_own():
    now = RecordedOutcome.of(migrated("NEW"))
    first = EarlierDocument("PAS", "OLD1", (dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "run-1"))
    second = EarlierDocument("PAS", "OLD2", (dt.datetime(2021, 1, 1, tzinfo=dt.UTC), "run-2"))
    resolved = list(resolve_duplicates((("p", "c"), {"now": [now], "earlier": [second, first]})))
    duplicate, late = resolved
    assert (duplicate.label, duplicate.status, duplicate.duplicate_of, duplicate.page_hashes) == (
        "PAS/NEW",
        Status.DUPLICATE,
        "PAS/OLD1",
        (),
    )
    assert isinstance(late, pvalue.TaggedOutput) and late.tag == LATE
    row = settled_row(late.value, "r2")
    assert {key: row[key] for key in ("run_id", "source_system", "document_id", "status", "duplicate_of")} == {
        "run_id": "r2",
        "source_system": "PAS",
        "document_id": "OLD2",
        "status": Status.DUPLICATE,
        "duplicate_of": "PAS/OLD1",
    }
    assert (row["patient_key"], row["content_sha256"]) == ("p", "c") and row["recorded_at"] is not None
