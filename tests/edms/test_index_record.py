"""The EDMS index record: marked a duplicate when it is one, retired (kept as evidence) when quarantined later."""

from __future__ import annotations

import json

from schemas.records import RecordedOutcome, Status
from transforms.edms.index_record import MarkDuplicateRecordsFn, index_record_uri, retire_index_records


def duplicate(source: str, document_id: str) -> RecordedOutcome:
    return RecordedOutcome(source, document_id, Status.DUPLICATE, duplicate_of="A/1")


def test_a_duplicate_whose_record_cannot_be_rewritten_still_passes_on(tmp_path):
    marker = MarkDuplicateRecordsFn(str(tmp_path / "out"))
    marker.setup()
    outcome = duplicate("B", "missing-record")
    assert list(marker.process(outcome)) == [outcome]


def test_retiring_moves_the_record_under_retired_and_keeps_its_bytes(tmp_path):
    output = str(tmp_path / "out")
    record = tmp_path / "out" / "documents" / "PAS" / "D1.json"
    record.parent.mkdir(parents=True)
    record.write_bytes(json.dumps({"status": "migrated"}).encode())
    assert index_record_uri(output, "PAS", "D1") == str(record)
    assert retire_index_records(output, "run-2", [("PAS", "D1"), ("PAS", "never-migrated")]) == 1
    assert not record.exists()
    retired = tmp_path / "out" / "retired" / "run-2" / "documents" / "PAS" / "D1.json"
    assert json.loads(retired.read_text()) == {"status": "migrated"}
