"""sizes(): which files exist, from one listing per folder or one question per file, on a real local folder."""

from __future__ import annotations

import pytest

from transforms.storage import listing
from transforms.storage.listing import sizes


@pytest.mark.parametrize("list_from", [0, 1_000])  # every folder listed / every file asked about
def test_sizes_of_present_and_missing_files_in_order(tmp_path, monkeypatch, list_from):
    monkeypatch.setattr(listing, "LIST_FROM", list_from)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.tif").write_bytes(b"12345")
    (tmp_path / "a" / "sub").mkdir()
    (tmp_path / "a" / "sub" / "y.tif").write_bytes(b"1")
    (tmp_path / "b[1]").mkdir()  # glob characters in a folder name: asked about file by file
    (tmp_path / "b[1]" / "z.tif").write_bytes(b"12")
    uris = [f"{tmp_path}/a/gone.tif", f"{tmp_path}/a/x.tif", f"{tmp_path}/a/sub/y.tif", f"{tmp_path}/b[1]/z.tif"]
    assert list(sizes(uris)) == [(uris[0], None), (uris[1], 5), (uris[2], 1), (uris[3], 2)]


def test_a_missing_folder_means_missing_files(tmp_path, monkeypatch):
    monkeypatch.setattr(listing, "LIST_FROM", 0)
    assert list(sizes([f"{tmp_path}/nowhere/x.tif"])) == [(f"{tmp_path}/nowhere/x.tif", None)]
