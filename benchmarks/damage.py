"""How often is damage found: never on whole files (false positives), and on how many damaged ones?

    python -m benchmarks.damage [--dumps 2] [--pages 4] [--flips 12]

1. False positives: every document of --dumps generated sample dumps (A4 at 200 dpi) that should migrate,
   through the image job (imaging/image_job.py, the code the isolated child runs), plus --pages realistic pages
   in every common TIFF compression, whole. Any DECODE_ERROR or TRUNCATED_IMAGE there is a false positive.
2. Damaged fixtures made from those real pages: each strip of page data cut short at 5 %, 10 %, …, 95 % of its
   bytes (the file otherwise whole, as a short copy leaves it), and --flips single-bit flips at seeded positions.
   Each ends quarantined, or migrated: with the source's pixels (a flip in padding, harmless) or with other
   pixels (damage no decoder can see: a flip that still decodes to valid codes of the right length).

Prints Markdown tables; the numbers go in docs/benchmarks.md, dated.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
from collections import Counter
from pathlib import Path

from PIL import Image

from samples.dump import QUARANTINED, write_sample_dump
from samples.pages import PageText, render_page
from samples.tiff_builder import cut_strip, flip_bits, strips
from schemas.reasons import QuarantineError
from transforms.imaging.image_job import ImageLimits, convert_blobs
from transforms.sources.layouts.canonical import iter_manifest_refs

LIMITS = ImageLimits()
DAMAGE = ("DECODE_ERROR", "TRUNCATED_IMAGE")
#: (name, page kind, Pillow save options): the compressions legacy archives are full of.
COMPRESSIONS = (
    ("Group 4, one strip", "bilevel", {"compression": "group4", "strip_size": 2**30}),
    ("Group 4, 64 KiB strips", "bilevel", {"compression": "group4"}),
    ("Group 3 1D, one strip", "bilevel", {"compression": "group3", "strip_size": 2**30}),
    ("Group 3 2D, one strip", "bilevel", {"compression": "group3", "strip_size": 2**30, "tiffinfo": {292: 1}}),
    ("LZW grey, one strip", "gray", {"compression": "tiff_lzw", "strip_size": 2**30}),
    ("JPEG colour, one strip", "colour", {"compression": "jpeg", "strip_size": 2**30}),
)
CUTS = tuple(step / 20 for step in range(1, 20))


def outcome(data: bytes) -> tuple[str, list[bytes]]:
    """The reason code, or "migrated" and the stored pages' decoded pixels."""
    try:
        converted = convert_blobs((data,), LIMITS, None)
    except QuarantineError as error:
        return error.finding.reason.value, []
    return "migrated", [page.encoded.pixel_sha256.encode() for page in converted.pages]


def dump_false_positives(dumps: int) -> Counter:
    counts: Counter = Counter()
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(dumps):
            dump = write_sample_dump(Path(folder, f"dump-{seed}"), seed=seed)
            expected = {(d.source_system, d.document_id): d.outcome for d in dump.documents}
            for ref in iter_manifest_refs(dump.manifest_path):
                if expected.get((ref.source_system, ref.document_id)) in (None, QUARANTINED) or not ref.blob_uri:
                    continue
                with open(ref.blob_uri, "rb") as handle:
                    handle.seek(ref.offset or 0)
                    data = handle.read(ref.length) if ref.length is not None else handle.read()
                reason, _ = outcome(data)
                counts["documents"] += 1
                counts["TIFF"] += data[:2] in (b"II", b"MM")
                counts["false positives"] += reason in DAMAGE
    return counts


def pages(count: int, kind: str) -> list[Image.Image]:
    text = PageText("Clinic letter", "Ann Example", "H000000", "2001-02-03", "REF/1")
    return [
        render_page(random.Random(seed), kind=kind, size=(1654, 2339), dpi=200, text=text, page_number=1, page_total=1)
        for seed in range(count)
    ]


def encoded(page: Image.Image, options: dict) -> bytes:
    buffer = io.BytesIO()
    page.save(buffer, "TIFF", dpi=(200, 200), **options)
    return buffer.getvalue()


def damaged_fixtures(page_count: int, flips: int) -> list[tuple[str, Counter]]:
    rows = []
    for name, kind, options in COMPRESSIONS:
        counts: Counter = Counter()
        rng = random.Random(13)
        for page in pages(page_count, kind):
            whole = encoded(page, options)
            reason, reference = outcome(whole)
            counts["whole migrated"] += reason == "migrated"
            for fraction in CUTS:
                counts["cut"] += 1
                counts["cut quarantined"] += outcome(cut_strip(whole, fraction))[0] != "migrated"
            for _ in range(flips):
                strip = rng.randrange(len(strips(whole)))
                reason, stored = outcome(flip_bits(whole, [rng.random()], strip=strip, mask=1 << rng.randrange(8)))
                counts["flipped"] += 1
                counts[
                    "flip quarantined"
                    if reason != "migrated"
                    else "flip harmless"
                    if stored == reference
                    else "flip undetected"
                ] += 1
        rows.append((name, counts))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dumps", type=int, default=2)
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--flips", type=int, default=12)
    arguments = parser.parse_args()
    found = dump_false_positives(arguments.dumps)
    print(
        f"Sample dumps: {found['documents']} documents that should migrate ({found['TIFF']} TIFF), "
        f"{found['false positives']} false positives"
    )
    print()
    print(
        "| fixture | whole pages migrated | cut short: quarantined | one bit flipped: quarantined | "
        "migrated unchanged | migrated changed (undetectable) |"
    )
    print("|---|---|---|---|---|---|")
    for name, c in damaged_fixtures(arguments.pages, arguments.flips):
        print(
            f"| {name} | {c['whole migrated']} of {arguments.pages} | {c['cut quarantined']} of {c['cut']} | "
            f"{c['flip quarantined']} of {c['flipped']} | {c['flip harmless']} | {c['flip undetected']} |"
        )


if __name__ == "__main__":
    main()
