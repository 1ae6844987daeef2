import itertools

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import DocumentOutcome, DocumentRef, RecordedOutcome, Status
from schemas.tables import DOCUMENTS
from transforms.dedupe.resolve import DeduplicateDocuments, resolve_duplicates
from transforms.lineage.summary import summary_document, tally_outcome
from transforms.migrate.rows import document_row
from transforms.selection.tallies import MergeTallies, tally_manifest_row


def outcome(source: str, document_id: str, key: tuple[str, str] | None, status: str = Status.MIGRATED):
    ref = DocumentRef(source, document_id, "m.csv", 1)
    row = document_row(ref, run_id="r", status=status, source_bytes=10, object_bytes=4, page_count=1)
    row["patient_key"], row["content_sha256"] = key or (None, None)
    page = {"page_number": 1, "perceptual_hash": "0" * 64}
    pages = (page,) if status == Status.MIGRATED else ()
    return RecordedOutcome.of(DocumentOutcome(document=row, pages=pages, dedupe_key=key))


def test_canonical_choice_does_not_depend_on_order():
    group = [outcome("B", "2", ("p", "c")), outcome("A", "9", ("p", "c")), outcome("B", "10", ("p", "c"))]
    results = set()
    for order in itertools.permutations(group):
        resolved = list(resolve_duplicates((("p", "c"), {"now": order, "earlier": []})))
        results.add(tuple((o.label, o.status, o.duplicate_of, len(o.page_hashes)) for o in resolved))
    assert results == {(("A/9", "migrated", None, 1), ("B/10", "duplicate", "A/9", 0), ("B/2", "duplicate", "A/9", 0))}


def test_only_same_patient_and_content_merge_in_the_pipeline():
    outcomes = [
        outcome("A", "1", ("patient-1", "content")),
        outcome("B", "1", ("patient-1", "content")),
        outcome("C", "1", ("patient-2", "content")),  # another patient: never merged
        outcome("D", "1", None),  # no NHS number: never merged
        outcome("E", "1", None),
    ]
    with TestPipeline(argv=["--runner=FnApiRunner"]) as pipeline:
        earlier = pipeline | "NoEarlier" >> beam.Create([])
        result = (pipeline | beam.Create(outcomes), earlier) | DeduplicateDocuments()
        assert_that(
            result["outcomes"] | beam.Map(lambda o: (o.label, o.status, o.duplicate_of)),
            equal_to(
                [
                    ("A/1", "migrated", None),
                    ("B/1", "duplicate", "A/1"),
                    ("C/1", "migrated", None),
                    ("D/1", "migrated", None),
                    ("E/1", "migrated", None),
                ]
            ),
        )


def test_summary_balances_only_when_every_row_has_one_outcome():
    refs = [DocumentRef("A", str(i), "m.csv", i) for i in range(3)]
    outcomes = [outcome("A", "0", None), outcome("A", "1", None, Status.QUARANTINED)]
    combine = MergeTallies()
    accumulator = combine.create_accumulator()
    for tally in [*map(tally_manifest_row, refs), *map(tally_outcome, outcomes)]:
        accumulator = combine.add_input(accumulator, tally)
    unbalanced = summary_document(accumulator, "r")
    assert unbalanced["sources"]["A"]["manifest_documents"] == 3
    assert unbalanced["balanced"] is False
    accumulator = combine.add_input(accumulator, tally_outcome(outcome("A", "2", None, Status.DUPLICATE)))
    balanced = summary_document(combine.merge_accumulators([accumulator, {}]), "r")
    assert balanced["balanced"] is True
    assert balanced["totals"]["pages"] == 1 and balanced["totals"]["bytes_in"] == 30


def test_schemas_derive_from_one_definition():
    arrow = DOCUMENTS.arrow_schema()
    bigquery = {field["name"]: field for field in DOCUMENTS.bigquery_schema()}
    assert arrow.names == list(DOCUMENTS.column_names) == list(bigquery)
    assert bigquery["reasons"]["mode"] == "REPEATED" and str(arrow.field("reasons").type) == "list<item: string>"
    assert bigquery["run_id"]["mode"] == "REQUIRED" and not arrow.field("run_id").nullable
