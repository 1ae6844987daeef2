"""A source system or id holding "/" keeps its name through de-duplication: the key travels, the label is not split."""

from __future__ import annotations

import datetime as dt
import json

from apache_beam import pvalue

from schemas.records import RecordedOutcome, Status, document_label, split_document_label
from transforms.dedupe.resolve import LATE, resolve_duplicates
from transforms.edms.index_record import MarkDuplicateRecordsFn
from transforms.selection.decide import EarlierDocument
from transforms.storage.output_layout import index_record_uri

SOURCE = "TRUST/PAS"  # a source system named after its trust and system


def migrated(source: str, document_id: str) -> RecordedOutcome:
    return RecordedOutcome(source, document_id, Status.MIGRATED, patient_key="p", content_sha256="c")


def test_a_duplicate_of_this_run_keeps_its_canonicals_source_and_id_apart():
    first, second = migrated(SOURCE, "D/1"), migrated(SOURCE, "D/2")
    canonical, duplicate = resolve_duplicates((("p", "c"), {"now": [second, first]}))
    assert canonical == first
    assert duplicate.duplicate_of == "TRUST/PAS/D/1"
    assert duplicate.canonical_key == (SOURCE, "D/1")


def test_an_earlier_document_settled_late_keeps_both_names_whole():
    order = (dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "run-1")
    earlier = [EarlierDocument(SOURCE, "OLD/1", order), EarlierDocument("A/B", "OLD/2", (order[0], "run-2"))]
    [late] = list(resolve_duplicates((("p", "c"), {"earlier": earlier})))
    assert isinstance(late, pvalue.TaggedOutput) and late.tag == LATE
    assert late.value.key == ("A/B", "OLD/2")
    assert late.value.canonical_key == (SOURCE, "OLD/1")


def test_the_index_record_of_a_duplicate_points_at_its_canonicals_own_record(tmp_path):
    output = str(tmp_path / "out")
    duplicate = migrated(SOURCE, "D/2").as_duplicate_of((SOURCE, "D/1"))
    record = tmp_path / "out" / "documents" / "TRUST%2FPAS" / "D%2F2.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"status": "migrated"}))
    marker = MarkDuplicateRecordsFn(output)
    marker.setup()
    assert list(marker.process(duplicate)) == [duplicate]
    marked = json.loads(record.read_text())
    assert marked["canonical_record"] == index_record_uri(output, SOURCE, "D/1")
    assert marked["duplicate_of"] == "TRUST/PAS/D/1"


def test_a_label_read_back_without_its_key_splits_at_the_first_slash():
    assert split_document_label(document_label("PAS", "D/1")) == ("PAS", "D/1")
