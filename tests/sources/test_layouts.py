"""Each layout turns its index into DocumentRefs: csv, page per row, OnBase tagged DIP; malformed ones too."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from schemas.reasons import Reason
from schemas.records import DocumentRef
from transforms.sources.errors import ManifestError
from transforms.sources.layouts.csv_layout import check_csv_header, iter_csv_refs
from transforms.sources.layouts.onbase_dip import MAGIC, check_dip_header, iter_dip_refs
from transforms.sources.layouts.page_per_row import assemble_pages
from transforms.sources.profiles import parse_profile
from transforms.sources.read import flag_repeated_ids


def reasons(ref: DocumentRef) -> list[Reason]:
    return [finding.reason for finding in ref.findings]


def csv_profile(folder: Path, **extra) -> object:
    document = {
        "source_system": "PAS-SCAN",
        "format": "csv",
        "manifest": "export.csv",
        "delimiter": ";",
        "encoding": "cp1252",
        "fields": {
            "document_id": "DOC_REF",
            "blob_uri": "FILE",
            "nhs_number": "PATIENT_NHS",
            "document_date": "DOC_DT",
            "document_type": "DOC_TYPE",
        },
        "date_format": "%d/%m/%Y",
        "path_map": {"\\\\FILESRV01\\Scans": "mounted"},
        **extra,
    }
    return parse_profile(document, str(folder / "pas-scan.json"))


def test_csv_with_its_own_delimiter_encoding_columns_dates_and_unc_paths(tmp_path):
    text = (
        "DOC_REF;FILE;PATIENT_NHS;DOC_TYPE;DOC_DT;WARD\r\n"
        'A1;\\\\FILESRV01\\Scans\\2004\\a1.tif;943 476 5919;"Lettre; signée";31/12/2004;Ward Café\r\n'
        "A2;b\\a2.tif;;Clinic;2004-12-31;\r\n"
        "A3;\\\\OLDSRV\\x.tif;;;;\r\n"
    )
    (tmp_path / "export.csv").write_bytes(text.encode("cp1252"))
    profile = csv_profile(tmp_path)
    check_csv_header(str(tmp_path / "export.csv"), profile)
    first, second, third = iter_csv_refs(str(tmp_path / "export.csv"), profile)
    assert (first.source_system, first.document_id, first.source_profile) == ("PAS-SCAN", "A1", "pas-scan")
    assert first.blob_uri == f"{tmp_path}/mounted/2004/a1.tif"
    assert (first.document_type, first.document_date, first.nhs_number) == (
        "Lettre; signée",
        "2004-12-31",
        "943 476 5919",
    )
    assert first.metadata == (("WARD", "Ward Café"),) and first.findings == ()
    assert second.blob_uri == f"{tmp_path}/b/a2.tif"
    assert reasons(second) == [Reason.DATE_INVALID] and "'%d/%m/%Y'" in second.findings[0].message
    assert third.blob_uri is None and reasons(third) == [Reason.PATH_UNMAPPED]


def test_csv_header_without_a_mapped_column_stops_the_job(tmp_path):
    (tmp_path / "export.csv").write_text("DOC_REF;PATH\nA1;a.tif\n")
    with pytest.raises(ManifestError, match=r"lacks column\(s\) FILE \(for blob_uri\)"):
        check_csv_header(str(tmp_path / "export.csv"), csv_profile(tmp_path))


def page_profile(folder: Path, **extra):
    document = {
        "source_system": "RAD",
        "format": "csv",
        "manifest": "pages.csv",
        "fields": {"document_id": "REQ", "page_number": "PAGE", "blob_uri": "FILE"},
        **extra,
    }
    return parse_profile(document, str(folder / "rad.json"))


def assembled(tmp_path, rows: str, **profile) -> list[DocumentRef]:
    (tmp_path / "pages.csv").write_text("REQ,PAGE,FILE\n" + rows)
    refs = list(iter_csv_refs(str(tmp_path / "pages.csv"), page_profile(tmp_path, **profile)))
    groups: dict[tuple[str, str], list[DocumentRef]] = {}
    for ref in refs:
        groups.setdefault(ref.key, []).append(ref)
    return sorted((doc for key, group in groups.items() for doc in flag_repeated_ids((key, group))), key=str)


def test_page_rows_become_one_document_in_page_order_whatever_the_row_order(tmp_path):
    [document] = assembled(tmp_path, "R1,3,p3.tif\nR1,1,p1.tif\nR1,2,p2.tif\n")
    assert [Path(page.blob_uri).name for page in document.page_blobs] == ["p1.tif", "p2.tif", "p3.tif"]
    assert [page.manifest_row for page in document.page_blobs] == [2, 3, 1]
    assert document.manifest_row == 1 and document.findings == () and document.page_number is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("R1,1,a.tif\nR1,3,c.tif\n", "page(s) [2] missing of 3"),
        ("R1,1,a.tif\nR1,2,b.tif\nR1,2,b2.tif\n", "page number(s) [2] appear more than once"),
        ("R1,2,b.tif\n", "page(s) [1] missing of 2"),
    ],
)
def test_a_gap_or_repeated_page_quarantines_the_document_never_renumbers(tmp_path, rows, message):
    [document] = assembled(tmp_path, rows)
    assert Reason.PAGE_SEQUENCE_INVALID in reasons(document)
    assert any(message in finding.message for finding in document.findings), document.findings


def test_a_bad_page_row_spoils_its_whole_document(tmp_path):
    [document] = assembled(tmp_path, "R1,1,a.tif\nR1,two,b.tif\n")
    assert Reason.MANIFEST_ROW_INVALID in reasons(document)
    assert any(f.message.startswith("row 2: page number") for f in document.findings)


def test_rows_that_disagree_on_the_patient_are_not_one_document():
    rows = [
        DocumentRef("RAD", "R1", "m", n, blob_uri=f"/p{n}", nhs_number=nhs, page_number=n)
        for n, nhs in ((1, "9434765919"), (2, "9434765870"))
    ]
    assert Reason.MANIFEST_ROW_INVALID in reasons(assemble_pages(rows))


def dip_profile(folder: Path, **extra):
    document = {
        "source_system": "ONBASE",
        "format": "onbase-dip",
        "manifest": "index.txt",
        "encoding": "cp1252",
        "fields": {"document_id": "ItemNum", "nhs_number": "NHS Number"},
        "path_map": {"\\\\FILESRV01\\OnBase": "volumes"},
        **extra,
    }
    return parse_profile(document, str(folder / "onbase.json"))


def write_dip(folder: Path, body: str, *, ending: str = "\r\n") -> str:
    (folder / "index.txt").write_bytes((MAGIC + ending + body).encode("cp1252"))
    return str(folder / "index.txt")


GOOD_BLOCK = (
    "BEGIN:\r\n>>DocTypeName: Lettre signée\r\n>>DocDate: 12/31/2004\r\n"
    ">>FullPath: \\\\FILESRV01\\OnBase\\DG1\\v0001.dat\r\n>>FileOffset: 128\r\n>>FileSize: 4096\r\n"
    ">>DiskgroupNum: 1\r\n>>FileTypeNum: 2\r\nItemNum: 100234\r\nNHS Number: 943 476 5919\r\nWard: Café\r\n"
)


def test_dip_block_with_system_tags_keywords_crlf_and_cp1252(tmp_path):
    uri = write_dip(tmp_path, GOOD_BLOCK)
    check_dip_header(uri, dip_profile(tmp_path))
    [ref] = iter_dip_refs(uri, dip_profile(tmp_path))
    assert (ref.source_system, ref.document_id, ref.manifest_row) == ("ONBASE", "100234", 1)
    assert ref.blob_uri == f"{tmp_path}/volumes/DG1/v0001.dat" and (ref.offset, ref.length) == (128, 4096)
    assert (ref.document_type, ref.document_date, ref.nhs_number) == ("Lettre signée", "2004-12-31", "943 476 5919")
    assert dict(ref.metadata) == {
        ">>DiskgroupNum": "1",
        ">>FileOffset": "128",
        ">>FileSize": "4096",
        ">>FileTypeNum": "2",
        "Ward": "Café",
    }
    assert ref.findings == () and ref.source_profile == "onbase"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (GOOD_BLOCK.replace(">>FullPath: \\\\FILESRV01\\OnBase\\DG1\\v0001.dat\r\n", ""), ">>FullPath: is missing"),
        (GOOD_BLOCK.replace("FileOffset: 128", "FileOffset: 12O"), ">>FileOffset must be a whole number"),
        (GOOD_BLOCK.replace("ItemNum: 100234\r\n", ""), "keyword 'ItemNum' is missing"),
        (GOOD_BLOCK.replace(">>DocDate: 12/31/2004", ">>DocDate: 31/12/2004"), "does not match '%m/%d/%Y'"),
    ],
)
def test_a_malformed_dip_block_is_quarantined_with_a_clear_reason(tmp_path, block, message):
    refs = list(
        iter_dip_refs(
            write_dip(tmp_path, GOOD_BLOCK + block + GOOD_BLOCK.replace("100234", "9")), dip_profile(tmp_path)
        )
    )
    assert [r.findings for r in refs[::2]] == [(), ()]
    assert any(message in finding.message for finding in refs[1].findings), refs[1].findings


def test_a_truncated_last_dip_record_is_quarantined(tmp_path):
    cut = GOOD_BLOCK.replace("100234", "7")[: GOOD_BLOCK.index(">>FileSize") + 14]
    first, last = iter_dip_refs(write_dip(tmp_path, GOOD_BLOCK + cut), dip_profile(tmp_path))
    assert first.findings == ()
    assert last.document_id == "row-2" and Reason.MANIFEST_ROW_INVALID in reasons(last)
    assert any("truncated" in finding.message for finding in last.findings)


def test_a_file_that_is_not_a_tagged_dip_stops_the_job(tmp_path):
    (tmp_path / "index.txt").write_text("ItemNum,FullPath\n1,x\n")
    with pytest.raises(ManifestError, match="is not a self-configuring tagged DIP index"):
        check_dip_header(str(tmp_path / "index.txt"), dip_profile(tmp_path))


def test_an_unmapped_nhs_number_goes_to_the_edms_record_only(tmp_path):
    profile = dip_profile(tmp_path)
    profile = replace(profile, fields=(("document_id", "ItemNum"),))
    [ref] = iter_dip_refs(write_dip(tmp_path, GOOD_BLOCK), profile)
    assert ref.nhs_number is None and dict(ref.metadata)["NHS Number"] == "943 476 5919"
    assert ref.lineage_metadata == ()  # no keep_metadata: nothing for lineage
    assert "943" not in repr(ref) and "Café" not in repr(ref)


def test_only_the_fields_keep_metadata_names_are_for_lineage(tmp_path):
    profile = replace(dip_profile(tmp_path), keep_metadata=frozenset({"Ward", ">>DiskgroupNum", "NHS Number"}))
    [ref] = iter_dip_refs(write_dip(tmp_path, GOOD_BLOCK), profile)
    # "NHS Number" is mapped to nhs_number, so it is no metadata at all; the others are kept as exported
    assert ref.lineage_metadata == ((">>DiskgroupNum", "1"), ("Ward", "Café"))
    assert len(ref.metadata) == 5


def test_csv_keep_metadata_picks_columns_for_lineage(tmp_path):
    text = "DOC_REF;FILE;PATIENT_NHS;DOC_TYPE;DOC_DT;WARD;SURNAME\r\nA1;a.tif;;;;Ward 7;Smith\r\n"
    (tmp_path / "export.csv").write_bytes(text.encode("cp1252"))
    [ref] = iter_csv_refs(str(tmp_path / "export.csv"), csv_profile(tmp_path, keep_metadata=["WARD"]))
    assert ref.metadata == (("SURNAME", "Smith"), ("WARD", "Ward 7")) and ref.lineage_metadata == (("WARD", "Ward 7"),)


def test_an_unclosed_quote_is_a_reported_stretch_and_reading_goes_on(tmp_path):
    body = 'DOC_REF;FILE;PATIENT_NHS;DOC_TYPE;DOC_DT\nA1;a.tif;;;\nA2;"b.tif;;;\n' + "x" * 140_000 + "\nA3;c.tif;;;\n"
    (tmp_path / "export.csv").write_text(body, encoding="cp1252")
    refs = list(iter_csv_refs(str(tmp_path / "export.csv"), csv_profile(tmp_path)))
    assert [ref.document_id for ref in refs] == ["A1", "line-3", "line-4", "A3"]
    assert refs[1].findings[0].reason is Reason.MANIFEST_UNPARSABLE and "line 3" in refs[1].findings[0].message
    assert refs[3].findings == () and refs[3].manifest_row == 4


@pytest.mark.parametrize("layout", ["canonical", "csv"])
def test_one_bad_quote_among_twenty_thousand_rows_loses_no_other_row(tmp_path, layout):
    from transforms.sources.layouts.canonical import iter_manifest_refs

    rows = [f"PAS,D{n},d{n}.tif" if n != 2 else f'PAS,D{n},"d{n}.tif' for n in range(1, 20_000)]
    (tmp_path / "m.csv").write_text("source_system,document_id,blob_uri\n" + "\n".join(rows) + "\n")
    if layout == "canonical":
        refs = list(iter_manifest_refs(str(tmp_path / "m.csv")))
    else:
        profile = csv_profile(tmp_path, delimiter=",", fields={"document_id": "document_id", "blob_uri": "blob_uri"})
        refs = list(iter_csv_refs(str(tmp_path / "m.csv"), profile))
    assert len(refs) == 19_999
    assert [ref.document_id for ref in refs if ref.findings] == ["line-3"]
    assert {ref.document_id for ref in refs} >= {"D1", "D3", "D19999"}


def test_a_file_read_short_is_a_reported_stretch(tmp_path, monkeypatch):
    from transforms.sources import text_fields

    (tmp_path / "m.csv").write_text("source_system,document_id,blob_uri\nPAS,D1,a.tif\n")
    real_size = text_fields.file_size
    monkeypatch.setattr(text_fields, "file_size", lambda uri: real_size(uri) + 100)  # as if the copy were cut
    from transforms.sources.layouts.canonical import iter_manifest_refs

    refs = list(iter_manifest_refs(str(tmp_path / "m.csv")))
    assert [ref.document_id for ref in refs] == ["D1", "line-3"]
    assert refs[1].findings[0].reason is Reason.MANIFEST_UNPARSABLE and "bytes" in refs[1].findings[0].message


def test_dip_without_a_docdate_tag_may_map_a_date_keyword(tmp_path):
    document = {
        "source_system": "ONBASE",
        "format": "onbase-dip",
        "manifest": "index.txt",
        "fields": {"document_id": "ItemNum", "document_date": "Scan Date", "document_type": "Form"},
        "date_format": "%d.%m.%Y",
    }
    block = GOOD_BLOCK.replace(">>DocDate: 12/31/2004\r\n", "Scan Date: 01.02.2003\r\n")
    block = block.replace(">>DocTypeName: Lettre signée\r\n", "Form: Referral\r\n")
    [ref] = iter_dip_refs(write_dip(tmp_path, block), parse_profile(document, str(tmp_path / "p.json")))
    assert (ref.document_date, ref.document_type) == ("2003-02-01", "Referral")


def test_quoting_none_keeps_quote_characters_as_text(tmp_path):
    (tmp_path / "export.csv").write_text('DOC_REF;FILE;PATIENT_NHS;DOC_TYPE;DOC_DT\nA1;a.tif;;X-ray 14" film;\n')
    [ref] = iter_csv_refs(str(tmp_path / "export.csv"), csv_profile(tmp_path, quoting="none"))
    assert ref.document_type == 'X-ray 14" film' and ref.findings == ()


def test_a_page_number_that_is_really_an_nhs_number_is_a_finding_not_an_out_of_memory():
    rows = [
        DocumentRef("RAD", "R1", "/dump/p.csv", n, blob_uri=f"/dump/{n}.tif", page_number=page)
        for n, page in ((1, 1), (2, 9434765919))
    ]
    document = assemble_pages(rows)
    assert [f.reason for f in document.findings] == [Reason.PAGE_SEQUENCE_INVALID]
    assert "9434765919" not in document.findings[0].message and "10 digits" in document.findings[0].message


def test_a_keep_metadata_column_missing_from_the_header_is_a_warning(tmp_path, caplog):
    (tmp_path / "export.csv").write_text("DOC_REF;FILE;PATIENT_NHS;DOC_TYPE;DOC_DT;WARD\n")
    check_csv_header(str(tmp_path / "export.csv"), csv_profile(tmp_path, keep_metadata=["WARD", "WRAD"]))
    assert [record.getMessage() for record in caplog.records if "keep_metadata" in record.getMessage()] == [
        f"profile pas-scan: keep_metadata column(s) WRAD are not in {tmp_path / 'export.csv'}"
    ]


def test_the_profiles_legacy_header_policy_travels_on_every_ref(tmp_path):
    """Documents of a profile without the key are never searched; the key reaches the image job on the ref."""
    (tmp_path / "export.csv").write_bytes(b"DOC_REF;FILE\r\nA1;a1.tif\r\n")
    uri = write_dip(tmp_path, GOOD_BLOCK)
    assert [ref.legacy_header for ref in iter_csv_refs(str(tmp_path / "export.csv"), csv_profile(tmp_path))] == [None]
    searched = csv_profile(tmp_path, legacy_header="search")
    assert [ref.legacy_header for ref in iter_csv_refs(str(tmp_path / "export.csv"), searched)] == ["search"]
    assert [ref.legacy_header for ref in iter_dip_refs(uri, dip_profile(tmp_path, legacy_header=512))] == [512]
    rows = "R1,2,p2.tif\nR1,1,p1.tif\n"
    assert {document.legacy_header for document in assembled(tmp_path, rows, legacy_header=128)} == {128}
