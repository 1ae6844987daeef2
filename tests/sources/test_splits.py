"""Big CSV indexes split on line boundaries give exactly the refs, and row numbers, of one streaming reader."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.sources.layouts.csv_layout import iter_csv_refs
from transforms.sources.layouts.splits import count_split_rows, iter_split_refs, make_splits
from transforms.sources.profiles import parse_profile
from transforms.sources.read import ReadSources


def profile(folder, embedded_newlines: bool = False):
    document = {
        "source_system": "PAS",
        "format": "csv",
        "manifest": "big.csv",
        "delimiter": ";",
        "encoding": "cp1252",
        "embedded_newlines": embedded_newlines,
        "fields": {"document_id": "ID", "blob_uri": "FILE", "document_type": "TYPE"},
    }
    return parse_profile(document, str(folder / "pas.json"))


@pytest.fixture
def big(tmp_path):
    lines = ["ID;FILE;TYPE"]
    for n in range(1, 200):
        lines.append(f"D{n};f{n}.tif;Lettre n°{n}" if n % 17 else "")  # blank lines, as real exports have
    lines.append("D999;;extra;field")
    (tmp_path / "big.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return tmp_path


def summary(ref):
    return ref.document_id, ref.manifest_row, ref.document_type, tuple(f.message for f in ref.findings)


@pytest.mark.parametrize("split_bytes", [1, 7, 23, 64, 4096])
def test_splits_read_every_row_once_with_exact_row_numbers(big, split_bytes):
    p, uri = profile(big), str(big / "big.csv")
    expected = [summary(ref) for ref in iter_csv_refs(uri, p)]
    splits = list(make_splits((p, uri), split_bytes))
    counts = dict(count_split_rows(split) for split in splits)
    got = [summary(ref) for split in splits for ref in iter_split_refs(split, counts)]
    assert got == expected and len(got) == 199 - 11 + 1
    assert got[-1][0] == "D999" and "more fields than the header" in got[-1][3][0]


def test_read_sources_splits_only_files_without_embedded_newlines(big, tmp_path):
    (tmp_path / "quoted.csv").write_text('ID;FILE;TYPE\nQ1;q.tif;"two\nlines"\n', encoding="cp1252")
    split_profile, whole_profile = profile(big), profile(tmp_path, embedded_newlines=True)
    sources = [(split_profile, str(big / "big.csv")), (whole_profile, str(tmp_path / "quoted.csv"))]
    expected = [summary(ref) for source in sources for ref in iter_csv_refs(source[1], source[0])]
    assert ("Q1", 1, "two\nlines", ()) in expected
    with TestPipeline(argv=["--runner=FnApiRunner"]) as pipeline:
        refs = pipeline | ReadSources(sources, split_bytes=50) | beam.Map(summary)
        assert_that(refs, equal_to(expected))


def test_only_ascii_compatible_encodings_without_embedded_newlines_are_split(tmp_path):
    from transforms.sources.layouts.splits import splittable

    assert splittable(profile(tmp_path)) and not splittable(profile(tmp_path, embedded_newlines=True))
    utf16 = type(profile(tmp_path))(**{**profile(tmp_path).__dict__, "encoding": "utf-16"})
    assert not splittable(utf16)


@pytest.mark.parametrize("split_bytes", [7, 97, 1000, 100_000])
def test_dip_splits_on_begin_lines_give_the_same_records(tmp_path, split_bytes):
    from tests.sources.test_layouts import GOOD_BLOCK, dip_profile, write_dip
    from transforms.sources.layouts.onbase_dip import iter_dip_refs

    blocks = [GOOD_BLOCK.replace("100234", str(n)) for n in range(40)]
    blocks[7] = blocks[7].replace("FileOffset: 128", "FileOffset: x")
    uri = write_dip(tmp_path, "".join(blocks) + GOOD_BLOCK[:90])  # the last record is cut off
    p = dip_profile(tmp_path)
    expected = [(r.document_id, r.manifest_row, r.offset, r.metadata, r.findings) for r in iter_dip_refs(uri, p)]
    splits = list(make_splits((p, uri), split_bytes))
    counts = dict(count_split_rows(split) for split in splits)
    got = [
        (r.document_id, r.manifest_row, r.offset, r.metadata, r.findings)
        for s in splits
        for r in iter_split_refs(s, counts)
    ]
    assert got == expected and len(got) == 41
    assert got[7][4] and any("truncated" in finding.message for finding in got[-1][4])
