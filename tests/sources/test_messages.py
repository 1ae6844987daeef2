"""Reason messages describe a bad value's shape and never quote it: a shifted column puts an NHS number anywhere."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from schemas.reasons import Finding, Reason
from transforms.sources.layouts.canonical import parse_row
from transforms.sources.layouts.csv_layout import iter_csv_refs
from transforms.sources.layouts.onbase_dip import MAGIC, iter_dip_refs
from transforms.sources.profiles import parse_profile
from transforms.sources.validate import check_checksum, check_metadata

NUMBER = "943 476 5919"
TODAY = dt.date(2026, 1, 1)


def leaks(findings: list[Finding]) -> list[str]:
    """Messages holding any digit group of NUMBER, however it was written."""
    return [f.message for f in findings if any(group in f.message for group in ("943", "476", "5919"))]


def canonical(**values: str):
    row = {"source_system": "PAS", "document_id": "D1", "blob_uri": "a.tif", **values}
    return parse_row(row, manifest_uri="/dump/manifest.csv", row_number=2, folder="/dump")


SHIFTED = [
    (column, written)
    for column in ("document_date", "document_type", "page_count", "offset", "length", "checksum_md5")
    for written in (NUMBER, "9434765919", "943-476-5919")
    # ten bare digits are a real byte offset or length (a volume over 9.3 GB): nothing to find at this point
    if not (column in ("offset", "length") and written.isdigit())
]


@pytest.mark.parametrize(("column", "written"), SHIFTED)
def test_a_shifted_nhs_number_is_described_never_quoted(column, written):
    ref = canonical(**{column: written})
    findings = [
        *ref.findings,
        *check_metadata(ref, today=TODAY, document_types={"*": frozenset({"Letter"})}),
        *check_checksum(ref, b"the bytes"),
    ]
    assert findings, column  # the value is wrong in every one of these columns, and found so
    assert not leaks(findings), findings


def test_the_description_says_what_the_value_looks_like():
    ref = canonical(document_date=NUMBER, page_count=NUMBER)
    messages = [f.message for f in [*ref.findings, *check_metadata(ref, today=TODAY)]]
    assert "page_count must be a whole number ≥ 0, got 12 characters: digits and spaces" in messages
    assert "document_date (12 characters: digits and spaces) is not a YYYY-MM-DD date" in messages
    assert (
        canonical(page_count="9434765919").findings[0].message == "page_count has 10 digits: too many for a page_count"
    )


def test_dates_out_of_range_are_named_without_the_date():
    messages = [f.message for f in check_metadata(canonical(document_date="1870-03-04"), today=TODAY)]
    assert messages == ["document_date is a date before 1900"]


def test_csv_and_dip_layouts_describe_their_bad_values(tmp_path):
    profile = parse_profile(
        {
            "source_system": "PAS",
            "format": "csv",
            "manifest": "export.csv",
            "fields": {"document_id": "ID", "blob_uri": "FILE", "document_date": "DT", "page_number": "PAGE"},
            "date_format": "%d/%m/%Y",
        },
        str(tmp_path / "p.json"),
    )
    (tmp_path / "export.csv").write_text(f"ID,FILE,DT,PAGE\nA,a.tif,{NUMBER},{NUMBER}\n")
    [ref] = iter_csv_refs(str(tmp_path / "export.csv"), profile)
    assert {f.reason for f in ref.findings} == {Reason.DATE_INVALID, Reason.MANIFEST_ROW_INVALID}
    assert not leaks(list(ref.findings)), ref.findings

    dip = replace(profile, format="onbase-dip", fields=(("document_id", "ItemNum"),))
    (tmp_path / "index.txt").write_text(
        f"{MAGIC}\nBEGIN:\n>>DocDate: {NUMBER}\n>>FullPath: v.dat\n>>FileOffset: {NUMBER}\n>>FileSize: 9434765919x\n"
        f"ItemNum: 1\nPatient {NUMBER}\n"
    )
    [block] = iter_dip_refs(str(tmp_path / "index.txt"), dip)
    messages = [f.message for f in block.findings]
    assert "line 6 after BEGIN: (20 characters: letters, digits and spaces) is not 'Name: value'" in messages
    assert len(messages) == 4 and not leaks(list(block.findings)), messages
