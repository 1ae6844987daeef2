"""Review tables: misfiling groups and near-duplicate pairs, from rows alone, deterministic."""

from __future__ import annotations

import io
import itertools
import random

from PIL import Image, ImageFilter

from samples.pages import PageText, render_page
from schemas.records import DocumentOutcome, DocumentRef, RecordedOutcome, Status
from transforms.dedupe.review import (
    content_member,
    misfiling_rows,
    near_duplicate_rows,
    patient_document,
)
from transforms.imaging.perceptual import BLANK_HASHES, NEAR_DISTANCE, distance, hash_of_grey, perceptual_hash
from transforms.migrate.rows import document_row

BLANK = sorted(BLANK_HASHES)[0]


def outcome(document_id: str, patient: str, content: str, hashes: tuple[str, ...], status: str = Status.MIGRATED):
    row = document_row(DocumentRef("PAS", document_id, "m.csv", 1), run_id="r", status=status, content_sha256=content)
    row["patient_key"] = patient
    pages = tuple({"page_number": n, "perceptual_hash": h} for n, h in enumerate(hashes, start=1))
    return RecordedOutcome.of(DocumentOutcome(document=row, pages=pages if status == Status.MIGRATED else ()))


def page(seed: int) -> Image.Image:
    text = PageText(f"Letter {seed}", f"Patient {seed}", f"H{seed}", "2001-01-01", f"R{seed}")
    return render_page(
        random.Random(seed), kind="bilevel", size=(827, 1169), dpi=100, text=text, page_number=1, page_total=1
    )


def rescan(image: Image.Image) -> Image.Image:
    grey = image.convert("L").rotate(0.4, fillcolor=255).filter(ImageFilter.GaussianBlur(0.8))
    return grey.point(lambda v: 255 if v > 140 else 0).convert("1")


def resave_as_jpeg(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("L").save(buffer, "JPEG", quality=60)
    return Image.open(buffer)


def test_rescans_and_resaves_are_near_and_different_letters_are_not():
    pages = [page(seed) for seed in range(5)]
    hashes = [perceptual_hash(p) for p in pages]
    assert min(distance(a, b) for a, b in itertools.combinations(hashes, 2)) > NEAR_DISTANCE
    for image, original in zip(pages, hashes, strict=True):
        assert distance(original, perceptual_hash(rescan(image))) <= NEAR_DISTANCE
        assert distance(original, perceptual_hash(resave_as_jpeg(image))) <= NEAR_DISTANCE
    assert perceptual_hash(Image.new("1", (800, 1100), 1)) in BLANK_HASHES


def test_the_written_out_blank_hashes_are_what_the_installed_imagehash_gives_blank_pages():
    assert {hash_of_grey(Image.new("L", (64, 64), value)) for value in (0, 255)} == BLANK_HASHES


def group(outcomes, key_fn):
    groups: dict = {}
    for item in outcomes:
        for key, value in key_fn(item):
            groups.setdefault(key, []).append(value)
    return groups


def test_same_content_under_two_patients_is_flagged_and_one_patient_is_not():
    h = "f" * 64
    outcomes = [
        outcome("A", "p1", "c1", (h,)),
        outcome("B", "p2", "c1", (h,)),
        outcome("C", "p1", "c1", (), status=Status.DUPLICATE),
        outcome("D", "p3", "c2", (h,)),
        outcome("E", "p3", "c2", (), status=Status.DUPLICATE),
        outcome("F", "p4", "blank", (BLANK,)),
        outcome("G", "p5", "blank", (BLANK,)),
    ]
    rows = {key: list(misfiling_rows((key, members), "r")) for key, members in group(outcomes, content_member).items()}
    assert [(r["document_id"], r["patients"], r["documents"], r["status"]) for r in rows["c1"]] == [
        ("A", 2, 3, "migrated"),
        ("B", 2, 3, "migrated"),
        ("C", 2, 3, "duplicate"),
    ]
    assert rows["c2"] == [] and rows["blank"] == []


def test_near_duplicates_pair_one_patients_lookalikes_in_a_fixed_order():
    near, far = "0" * 63 + "1", "f" * 64
    base = "0" * 63 + "3"
    outcomes = [
        outcome("B", "p1", "c2", (near, far)),
        outcome("A", "p1", "c1", (base,)),
        outcome("C", "p1", "c1", (base,)),  # identical content to A: de-duplication's business
        outcome("D", "p1", "c4", (BLANK,)),  # blank pages match everything: ignored
        outcome("E", "p2", "c5", (base,)),  # another patient: never paired
    ]
    by_patient = group(outcomes, patient_document)
    rows = list(near_duplicate_rows(("p1", by_patient["p1"]), "r"))
    assert [(r["document_id_a"], r["document_id_b"], r["similar_pages"], r["min_distance"]) for r in rows] == [
        ("A", "B", 1, 1),
        ("B", "C", 1, 1),
    ]
    assert list(near_duplicate_rows(("p1", list(reversed(by_patient["p1"]))), "r")) == rows
    assert list(near_duplicate_rows(("p2", by_patient["p2"]), "r")) == []
