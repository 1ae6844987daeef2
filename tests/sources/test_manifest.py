import pytest

from schemas.reasons import Reason
from transforms.sources.errors import ManifestError
from transforms.sources.layouts.canonical import check_header, parse_row


def parse(**values):
    row = {"source_system": "PAS", "document_id": "D1", "blob_uri": "a/b.tif", **values}
    return parse_row(row, manifest_uri="/dump/manifest.csv", row_number=7, folder="/dump")


def test_relative_blob_is_resolved_from_the_manifest_folder_and_extras_kept():
    ref = parse(offset="10", length="20", page_count="3", checksum_md5="ABCDEF", scan_batch="B7")
    assert ref.blob_uri == "/dump/a/b.tif"
    assert (ref.offset, ref.length, ref.page_count) == (10, 20, 3)
    assert ref.checksum_md5 == "abcdef"
    assert ref.metadata == (("scan_batch", "B7"),)
    assert ref.findings == ()


def test_absolute_and_gs_uris_are_kept():
    assert parse(blob_uri="/abs/x.tif").blob_uri == "/abs/x.tif"
    assert parse(blob_uri="gs://bucket/x.tif").blob_uri == "gs://bucket/x.tif"


@pytest.mark.parametrize(
    "values",
    [
        {"blob_uri": ""},
        {"document_id": ""},
        {"source_system": ""},
        {"offset": "abc"},
        {"length": "-1"},
        {"page_count": "two"},
    ],
)
def test_bad_rows_carry_a_manifest_finding(values):
    ref = parse(**values)
    assert [f.reason for f in ref.findings] == [Reason.MANIFEST_ROW_INVALID]


def test_row_without_id_is_named_by_its_position():
    assert parse(document_id="").document_id == "row-7"


def test_nhs_number_is_not_in_the_repr():
    assert "9434765919" not in repr(parse(nhs_number="9434765919"))


def test_header_checks(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("source_system,document_id,blob_uri,extra\n")
    assert check_header(str(good))[:3] == ["source_system", "document_id", "blob_uri"]
    missing = tmp_path / "missing.csv"
    missing.write_text("source_system,blob\n")
    with pytest.raises(ManifestError, match="document_id, blob_uri"):
        check_header(str(missing))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ManifestError, match="empty"):
        check_header(str(empty))
    with pytest.raises(ManifestError, match="not found"):
        check_header(str(tmp_path / "nope.csv"))


def test_relative_paths_are_normalised_for_object_stores():
    def resolve(blob, folder):
        return parse_row(
            {"source_system": "S", "document_id": "1", "blob_uri": blob},
            manifest_uri=f"{folder}/m.csv",
            row_number=1,
            folder=folder,
        ).blob_uri

    assert resolve("./blobs/a.tif", "gs://bucket/export") == "gs://bucket/export/blobs/a.tif"
    assert resolve("blobs\\x\\a.tif", "gs://bucket/export") == "gs://bucket/export/blobs/x/a.tif"
    assert resolve("../shared/a.tif", "gs://bucket/export/2026") == "gs://bucket/export/shared/a.tif"
    assert resolve("./blobs/../a.tif", "/dump") == "/dump/a.tif"


def test_extra_columns_go_to_the_edms_record_and_never_to_lineage():
    """--manifest has no profile, so no keep_metadata: every extra column is the EDMS record's, none lineage's."""
    ref = parse(**{"Patient ID": "943 476 5919", "NHS_No_Old": "1234", "scan_batch": "B7", "hospital_no": "1234567890"})
    assert dict(ref.metadata) == {
        "NHS_No_Old": "1234",
        "Patient ID": "943 476 5919",
        "hospital_no": "1234567890",
        "scan_batch": "B7",
    }
    assert ref.lineage_metadata == ()
