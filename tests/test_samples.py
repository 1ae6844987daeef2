"""Tests of the sample-dump generator: the dump must really contain what its expected outcomes promise.

A small reference checker here re-derives every row's outcome from the files alone, so a generator bug (an
accidental duplicate, a row with two faults, a truncated file that still loads) fails a test rather than
confusing whoever debugs the pipeline later. Pages are small to keep the suite fast.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import random
import re
import warnings
from collections import defaultdict
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from samples.dump import (
    DUPLICATE,
    IMAGE_SIGNATURES,
    MANIFEST_COLUMNS,
    MIGRATED,
    QUARANTINED,
    VOLUME_URI,
    ExpectedDocument,
    SampleDump,
    write_sample_dump,
)
from samples.pages import PageText, encode_tiff, render_page
from schemas.reasons import Reason
from transforms.imaging.tiff_structure import zero_unreferenced_tiff_bytes
from transforms.privacy.nhs_number import NhsNumberStatus, classify

pytestmark = pytest.mark.slow  # whole dumps, emulators or subprocesses: outside the fast loop

SMALL = (320, 452)
PLANNED_REASONS = {
    "BLOB_MISSING": 1,
    "BYTE_RANGE_OUT_OF_BOUNDS": 1,
    "EMPTY_BLOB": 1,
    "UNSUPPORTED_FORMAT": 1,
    "DECODE_ERROR": 1,
    "TRUNCATED_IMAGE": 3,
    "NHS_NUMBER_INVALID": 3,
    "CHECKSUM_MISMATCH": 1,
    "PAGE_COUNT_MISMATCH": 1,
    "DATE_INVALID": 1,
    "MANIFEST_ROW_INVALID": 3,
}
#: The reference checker cannot tell a truncated file from a corrupt one, so both count as "DECODE" here.
_UNREADABLE = {Reason.TRUNCATED_IMAGE.value, Reason.DECODE_ERROR.value}


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> SampleDump:
    return write_sample_dump(tmp_path_factory.mktemp("dump") / "seed0", seed=0, page_size=SMALL)


@pytest.fixture(scope="module")
def rows(dump: SampleDump) -> list[dict[str, str]]:
    with open(dump.manifest_path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _pairs(dump: SampleDump, rows: list[dict[str, str]]) -> list[tuple[dict[str, str], ExpectedDocument]]:
    assert len(rows) == len(dump.documents)
    return list(zip(rows, dump.documents, strict=True))


def _tree_digest(root: Path) -> str:
    """One hash over every file's relative path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()


def _blob(root: Path, row: dict[str, str]) -> bytes | None:
    """The row's bytes (its byte range for volume rows), or None if the file is missing."""
    path = root / row["blob_uri"]
    if not row["blob_uri"] or not path.is_file():
        return None
    data = path.read_bytes()
    if row["offset"] and not (row["offset"].isdigit() and row["length"].isdigit()):
        return None
    if row["offset"]:
        start = int(row["offset"])
        return data[start : start + int(row["length"])]
    return data


def _decode(data: bytes) -> list[Image.Image]:
    """Every page, fully loaded, converted to RGB so formats compare by colour; raises on any damage."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = Image.open(io.BytesIO(data))
        pages = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            image.load()
            pages.append(image.convert("RGB"))
        return pages


def _fails_to_decode(data: bytes) -> bool:
    try:
        _decode(data)
    except Exception:  # noqa: BLE001 - any failure is what is being asserted
        return True
    return False


def _reasons_of(expected: ExpectedDocument) -> set[str]:
    return {"DECODE" if reason in _UNREADABLE else reason for reason in expected.reasons}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path, dump: SampleDump) -> None:
    again = write_sample_dump(tmp_path / "again", seed=0, page_size=SMALL)
    other = write_sample_dump(tmp_path / "other", seed=1, page_size=SMALL)
    assert _tree_digest(Path(again.directory)) == _tree_digest(Path(dump.directory))
    assert again.documents == dump.documents
    assert _tree_digest(Path(other.directory)) != _tree_digest(Path(dump.directory))
    assert Path(other.manifest_path).read_bytes() != Path(dump.manifest_path).read_bytes()


def test_refuses_a_directory_that_already_holds_files(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("someone's file")
    with pytest.raises(FileExistsError):
        write_sample_dump(tmp_path, page_size=SMALL)
    assert (tmp_path / "keep.txt").read_text() == "someone's file"


def test_manifest_shape(dump: SampleDump, rows: list[dict[str, str]]) -> None:
    with open(dump.manifest_path, encoding="utf-8", newline="") as handle:
        assert tuple(next(csv.reader(handle))) == MANIFEST_COLUMNS
    assert Path(dump.manifest_path) == Path(dump.directory) / "manifest.csv"
    for index, (row, expected) in enumerate(_pairs(dump, rows), start=1):
        assert row["source_system"] == expected.source_system
        assert expected.document_id == (row["document_id"] or f"row-{index}")
        assert "\\" not in row["blob_uri"] and not row["blob_uri"].startswith("/")
        assert (row["offset"] != "") == (row["blob_uri"] == VOLUME_URI)
        if row["document_date"] != "2019-13-45":
            assert "1985-01-01" <= row["document_date"] <= "2024-12-31"
    ids = [(e.source_system, e.document_id) for e in dump.documents]
    assert len(set(ids)) == len(ids)
    assert 30 <= len(rows) <= 45


def test_expected_outcomes_json_matches(dump: SampleDump) -> None:
    records = json.loads((Path(dump.directory) / "expected_outcomes.json").read_text(encoding="utf-8"))
    rebuilt = [ExpectedDocument(**(r | {"reasons": frozenset(r["reasons"])})) for r in records]
    assert tuple(rebuilt) == dump.all_documents
    assert all(r["reasons"] == sorted(r["reasons"]) for r in records)


def test_outcome_mix(dump: SampleDump) -> None:
    outcomes = [d.outcome for d in dump.documents]
    assert {d.source_system for d in dump.documents} >= {"MEDREC-SCAN", "ECM-VOLUMES", "LETTERS-ARCHIVE"}
    assert outcomes.count(MIGRATED) >= 15
    assert outcomes.count(DUPLICATE) == 4
    counts: dict[str, int] = defaultdict(int)
    for document in dump.documents:
        assert (document.outcome == QUARANTINED) == bool(document.reasons)
        assert (document.outcome == DUPLICATE) == (document.duplicate_of is not None)
        assert (document.outcome == QUARANTINED) == (document.page_count is None)
        assert len(document.reasons) <= 1
        for reason in document.reasons:
            Reason(reason)  # a real code
            counts[reason] += 1
    assert counts == PLANNED_REASONS


def test_blobs_exist_unless_planned_missing(dump: SampleDump, rows: list[dict[str, str]]) -> None:
    root = Path(dump.directory)
    for row, expected in _pairs(dump, rows):
        if not row["blob_uri"]:
            assert expected.reasons == {"MANIFEST_ROW_INVALID"}
            continue
        exists = (root / row["blob_uri"]).is_file()
        assert exists != (expected.reasons == {"BLOB_MISSING"}), row


def test_volume_ranges(dump: SampleDump, rows: list[dict[str, str]]) -> None:
    size = (Path(dump.directory) / VOLUME_URI).stat().st_size
    volume = (Path(dump.directory) / VOLUME_URI).read_bytes()
    in_volume = [(r, e) for r, e in _pairs(dump, rows) if r["blob_uri"] == VOLUME_URI]
    assert len(in_volume) >= 8
    ranges = []
    for row, expected in in_volume:
        if not row["offset"].isdigit():
            assert expected.reasons == {"MANIFEST_ROW_INVALID"}
            continue
        start, length = int(row["offset"]), int(row["length"])
        assert (start + length > size) == (expected.reasons == {"BYTE_RANGE_OUT_OF_BOUNDS"})
        assert volume[start:].startswith(IMAGE_SIGNATURES), row
        ranges.append((start, start + length))
    ranges.sort()
    assert ranges[0][0] > 0
    assert all(end < next_start for (_, end), (next_start, _) in zip(ranges, ranges[1:], strict=False))


def test_checksums_match_unless_planned(dump: SampleDump, rows: list[dict[str, str]]) -> None:
    root = Path(dump.directory)
    filled = 0
    for row, expected in _pairs(dump, rows):
        if not row["checksum_md5"]:
            continue
        filled += 1
        data = _blob(root, row)
        if data is None:
            assert expected.reasons == {"MANIFEST_ROW_INVALID"}
            continue
        matches = hashlib.md5(data).hexdigest() == row["checksum_md5"]
        assert matches != (expected.reasons == {"CHECKSUM_MISMATCH"}), row
    assert filled >= len(rows) // 2
    assert any(not row["checksum_md5"] for row in rows) and any(not row["page_count"] for row in rows)


def test_nhs_numbers(dump: SampleDump, rows: list[dict[str, str]]) -> None:
    for row, expected in _pairs(dump, rows):
        status, _ = classify(row["nhs_number"])
        assert (status is NhsNumberStatus.INVALID) == (expected.reasons == {"NHS_NUMBER_INVALID"}), row
        assert not re.sub(r"[ -]", "", row["nhs_number"]).startswith("999")
    values = [row["nhs_number"] for row in rows]
    assert any(re.fullmatch(r"\d{3} \d{3} \d{4}", v) for v in values)
    assert any(re.fullmatch(r"\d{3}-\d{3}-\d{4}", v) for v in values)
    assert any(re.fullmatch(r"\d{10}", v) for v in values)
    assert "" in values


def test_truncated_and_corrupt_files_do_not_load(dump: SampleDump, rows: list[dict[str, str]]) -> None:
    root = Path(dump.directory)
    unreadable = [(r, e) for r, e in _pairs(dump, rows) if e.reasons & _UNREADABLE]
    assert len(unreadable) == 4
    formats = set()
    for row, _ in unreadable:
        data = _blob(root, row)
        assert data and data.startswith(IMAGE_SIGNATURES)
        formats.add(data[:2])
        assert _fails_to_decode(data), row
    assert formats == {b"II", b"\xff\xd8", b"\x89P"}


def test_migrated_documents_cover_every_system_and_format(dump: SampleDump, rows: list[dict[str, str]]) -> None:
    root = Path(dump.directory)
    seen = set()
    for row, expected in _pairs(dump, rows):
        if expected.outcome == MIGRATED:
            with Image.open(io.BytesIO(_blob(root, row) or b"")) as image:
                compression = image.info.get("compression") if image.format == "TIFF" else None
                seen.add((row["source_system"], image.format, image.mode, compression))
    required = {
        ("MEDREC-SCAN", "TIFF", "1", "group4"),
        ("ECM-VOLUMES", "TIFF", "1", "tiff_lzw"),
        ("ECM-VOLUMES", "TIFF", "L", "tiff_lzw"),
        ("ECM-VOLUMES", "TIFF", "L", "jpeg"),
        ("ECM-VOLUMES", "TIFF", "RGB", "jpeg"),
        ("ECM-VOLUMES", "BMP", "1", None),
        ("ECM-VOLUMES", "BMP", "RGB", None),
        ("ECM-VOLUMES", "PNG", "L", None),
        ("ECM-VOLUMES", "JPEG", "RGB", None),
        ("LETTERS-ARCHIVE", "JPEG", "RGB", None),
        ("LETTERS-ARCHIVE", "JPEG", "L", None),
        ("LETTERS-ARCHIVE", "PNG", "L", None),
        ("LETTERS-ARCHIVE", "PNG", "1", None),
        ("LETTERS-ARCHIVE", "BMP", "L", None),
    }
    assert required <= seen
    assert any(system == "ECM-VOLUMES" and fmt == "GIF" for system, fmt, _, _ in seen)


def test_duplicate_groups_decode_to_identical_pixels(dump: SampleDump, rows: list[dict[str, str]]) -> None:
    root = Path(dump.directory)
    by_key = {f"{e.source_system}/{e.document_id}": (r, e) for r, e in _pairs(dump, rows)}
    groups: dict[str, list[str]] = defaultdict(list)
    for expected in dump.documents:
        if expected.duplicate_of:
            groups[expected.duplicate_of].append(f"{expected.source_system}/{expected.document_id}")
    assert sorted(len(members) for members in groups.values()) == [1, 1, 2]
    for canonical, members in groups.items():
        canonical_row, canonical_expected = by_key[canonical]
        assert canonical_expected.outcome == MIGRATED
        reference = [page.tobytes() for page in _decode(_blob(root, canonical_row) or b"")]
        for member in members:
            row, expected = by_key[member]
            pages = [page.tobytes() for page in _decode(_blob(root, row) or b"")]
            assert pages == reference, member
            assert expected.page_count == len(pages)
            assert classify(row["nhs_number"]) == classify(canonical_row["nhs_number"])
            assert (expected.source_system, expected.document_id) > tuple(canonical.split("/", 1))


@pytest.mark.parametrize(("mode", "compression"), [("1", "group4"), ("L", "tiff_lzw"), ("RGB", "jpeg")])
def test_tiff_padding_cleanup_keeps_pixels(mode: str, compression: str) -> None:
    rng = random.Random(7)
    text = PageText("Lab Report", "Test Patient", "H1234567", "2001-02-03", "REF-1")
    kind = {"1": "bilevel", "L": "gray", "RGB": "colour"}[mode]
    pages = [render_page(rng, kind=kind, size=SMALL, dpi=200, text=text, page_number=n, page_total=2) for n in (1, 2)]
    raw = io.BytesIO()
    pages[0].save(raw, "TIFF", compression=compression, save_all=True, append_images=pages[1:])
    cleaned = encode_tiff(pages, compression=compression, dpi=200)
    assert [p.tobytes() for p in _decode(cleaned)] == [p.tobytes() for p in _decode(raw.getvalue())]
    assert zero_unreferenced_tiff_bytes(cleaned) == cleaned


def _check_row(root: Path, row: dict[str, str]) -> tuple[set[str], list[Image.Image] | None]:
    """Reasons a careful pipeline would find for one row, and its decoded pages if it has no fault."""
    numbers_ok = all(re.fullmatch(r"\d+", row[k] or "0") for k in ("offset", "length"))
    if not row["document_id"] or not row["blob_uri"] or not numbers_ok:
        return {"MANIFEST_ROW_INVALID"}, None
    reasons = set()
    if classify(row["nhs_number"])[0] is NhsNumberStatus.INVALID:
        reasons.add("NHS_NUMBER_INVALID")
    try:
        datetime.date.fromisoformat(row["document_date"])
    except ValueError:
        reasons.add("DATE_INVALID")
    path = root / row["blob_uri"]
    if not path.is_file():
        return reasons | {"BLOB_MISSING"}, None
    if row["offset"] and int(row["offset"]) + int(row["length"]) > path.stat().st_size:
        return reasons | {"BYTE_RANGE_OUT_OF_BOUNDS"}, None
    data = _blob(root, row) or b""
    if not data:
        return reasons | {"EMPTY_BLOB"}, None
    if row["checksum_md5"] and hashlib.md5(data).hexdigest() != row["checksum_md5"]:
        reasons.add("CHECKSUM_MISMATCH")
    if not data.startswith(IMAGE_SIGNATURES):
        return reasons | {"UNSUPPORTED_FORMAT"}, None
    try:
        pages = _decode(data)
    except Exception:  # noqa: BLE001 - the reference checker only needs "unreadable"
        return reasons | {"DECODE"}, None
    if row["page_count"] and int(row["page_count"]) != len(pages):
        reasons.add("PAGE_COUNT_MISMATCH")
    return reasons, pages


def test_reference_checker_reaches_every_planned_outcome(dump: SampleDump, rows: list[dict[str, str]]) -> None:
    """Each row has exactly its planned fault, and duplicates are exactly the planned ones (no accidents)."""
    root = Path(dump.directory)
    groups: dict[tuple[str, tuple[bytes, ...]], list[tuple[str, str]]] = defaultdict(list)
    page_counts = {}
    for row, expected in _pairs(dump, rows):
        reasons, pages = _check_row(root, row)
        assert reasons == _reasons_of(expected), (row, expected)
        if pages is None or reasons:
            continue
        key = (expected.source_system, expected.document_id)
        page_counts[key] = len(pages)
        status, nhs = classify(row["nhs_number"])
        fingerprint = tuple(hashlib.sha256(p.tobytes()).digest() for p in pages)
        groups[(nhs or f"no-patient:{key}", fingerprint)].append(key)
    derived = {}
    for members in groups.values():
        canonical, *others = sorted(members)
        derived[canonical] = (MIGRATED, None)
        derived.update({other: (DUPLICATE, "/".join(canonical)) for other in others})
    planned = {
        (e.source_system, e.document_id): (e.outcome, e.duplicate_of)
        for e in dump.documents
        if e.outcome != QUARANTINED
    }
    assert derived == planned
    for document in dump.documents:
        if document.outcome != QUARANTINED:
            assert document.page_count == page_counts[(document.source_system, document.document_id)]
