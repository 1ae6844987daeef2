import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.reasons import Reason
from schemas.records import DocumentRef
from transforms.selection.select import OUTSTANDING, SelectDocuments
from transforms.sources.layouts.canonical import iter_manifest_refs
from transforms.sources.profiles import canonical_profile
from transforms.sources.read import ReadSources, flag_repeated_ids


def ref(row: int, document_id: str = "D1") -> DocumentRef:
    return DocumentRef("PAS", document_id, "m.csv", row, blob_uri="/x")


def test_repeated_ids_keep_the_first_row_whatever_the_order():
    for order in ([ref(9), ref(2), ref(5)], [ref(5), ref(9), ref(2)]):
        first, *rest = list(flag_repeated_ids((("PAS", "D1"), order)))
        assert first.manifest_row == 2 and first.findings == ()
        assert [r.manifest_row for r in rest] == [5, 9]
        assert all(r.findings[0].reason is Reason.DUPLICATE_DOCUMENT_ID for r in rest)


def test_manifest_rows_stream_through_the_pipeline(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        'source_system,document_id,blob_uri,nhs_number\nPAS,D1,a.tif,943 476 5919\nPAS,D1,b.tif,\nECM,"D,2",c.tif,\n'
    )
    with TestPipeline(argv=["--runner=FnApiRunner"]) as pipeline:
        sources = [(canonical_profile(str(manifest)), str(manifest))]
        refs = (pipeline | ReadSources(sources) | SelectDocuments((), None, None))[OUTSTANDING]
        summary = refs | beam.Map(lambda r: (r.label, r.manifest_row, tuple(f.reason.value for f in r.findings)))
        assert_that(
            summary,
            equal_to([("PAS/D1", 1, ()), ("PAS/D1", 2, ("DUPLICATE_DOCUMENT_ID",)), ("ECM/D,2", 3, ())]),
        )


def test_an_unclosed_quote_is_one_reported_stretch_and_every_later_row_is_read(tmp_path):
    import csv

    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "source_system,document_id,blob_uri\n"
        "PAS,D1,a.tif\n"
        'PAS,D2,"b.tif\n' + "PAS,D3,c.tif\n" * 10 + "x" * (csv.field_size_limit() + 10) + "\n"
    )
    refs = list(iter_manifest_refs(str(manifest)))
    assert [r.document_id for r in refs] == ["D1", "line-3", *["D3"] * 10, "line-14"]
    assert refs[1].findings[0].reason is Reason.MANIFEST_UNPARSABLE and "line 3" in refs[1].findings[0].message
    assert refs[-1].findings[0].reason is Reason.MANIFEST_UNPARSABLE  # a field over csv's size limit
