"""A source system or id holding "/" keeps its name through de-duplication: the key travels, the label is not split."""

from __future__ import annotations

import datetime as dt

from apache_beam import pvalue

from schemas.records import RecordedOutcome, Status, document_label, split_document_label
from transforms.dedupe.resolve import LATE, resolve_duplicates
from transforms.edms.record import EdmsRecord, EdmsSettings
from transforms.edms.write import route
from transforms.selection.decide import EarlierDocument

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


def test_the_edms_record_of_an_earlier_canonical_is_found_by_its_whole_names():
    """A duplicate of an earlier run's canonical asks for that canonical's record by (system, id), never re-split."""
    settings = EdmsSettings()
    system = settings.config.source(SOURCE).identifier_system
    record = EdmsRecord(identity=(system, "D/2"), legacy_identifier=(system, "D/2"))
    duplicate = migrated(SOURCE, "D/2")._replace(edms=record).as_duplicate_of((SOURCE, "OLD/1"))
    [patch] = list(route(duplicate, settings, reads_earlier=True))
    assert patch.value == ((system, "OLD/1"), record.legacy_identifier)
    assert settings.config.source(SOURCE).identifier_system.endswith("/TRUST%2FPAS")


def test_a_label_read_back_without_its_key_splits_at_the_first_slash():
    assert split_document_label(document_label("PAS", "D/1")) == ("PAS", "D/1")
