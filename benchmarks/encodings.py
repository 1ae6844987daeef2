"""Which lossless encoding suits scanned records? Size and speed of the candidates on realistic pages.

    python -m benchmarks.encodings [--pages 12] [--dpi 300]

Pages are A4 scans rendered by samples.pages at the given resolution. Every
candidate is decoded again and checked pixel-identical (same colours; a changed
mode is noted, and the pipeline rejects it) before it is counted.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time

from PIL import Image

from samples.pages import PageText, render_page
from transforms.imaging.pixels import pixel_digest

CANDIDATES = {
    "1": [
        ("TIFF/CCITT-G4", "TIFF", {"compression": "group4"}),
        ("TIFF/CCITT-G3", "TIFF", {"compression": "group3"}),
        ("TIFF/LZW", "TIFF", {"compression": "tiff_lzw"}),
        ("TIFF/Deflate", "TIFF", {"compression": "tiff_adobe_deflate"}),
        ("TIFF/PackBits", "TIFF", {"compression": "packbits"}),
        ("PNG", "PNG", {"compress_level": 6}),
        ("PNG (level 9)", "PNG", {"compress_level": 9}),
    ],
    "L": [
        ("PNG", "PNG", {"compress_level": 6}),
        ("PNG (level 9)", "PNG", {"compress_level": 9}),
        ("TIFF/Deflate", "TIFF", {"compression": "tiff_adobe_deflate"}),
        ("TIFF/LZW", "TIFF", {"compression": "tiff_lzw"}),
        ("WebP lossless", "WEBP", {"lossless": True, "quality": 100, "method": 4}),
        ("JPEG 2000 lossless", "JPEG2000", {"irreversible": False}),
    ],
}
CANDIDATES["RGB"] = list(CANDIDATES["L"])
KIND_FOR_MODE = {"1": "bilevel", "L": "gray", "RGB": "colour"}


def pages(mode: str, count: int, dpi: int) -> list[Image.Image]:
    size = (round(8.27 * dpi), round(11.69 * dpi))
    rng = random.Random(1)
    text = PageText("Clinic Letter", "A Patient", "H123456", "2001-02-03", "REF-1")
    return [
        render_page(rng, kind=KIND_FOR_MODE[mode], size=size, dpi=dpi, text=text, page_number=i + 1, page_total=count)
        for i in range(count)
    ]


def measure(page: Image.Image, pillow_format: str, options: dict) -> tuple[int, float, float, str]:
    started = time.perf_counter()
    buffer = io.BytesIO()
    page.save(buffer, format=pillow_format, **options)
    encoded = time.perf_counter()
    stored = Image.open(io.BytesIO(buffer.getvalue()))
    stored.load()
    decoded = time.perf_counter()
    if pixel_digest(stored) != pixel_digest(page):
        raise AssertionError(f"{pillow_format} {options} is not lossless for mode {page.mode}")
    note = "" if stored.mode == page.mode else f"reads back as {stored.mode}"
    return len(buffer.getvalue()), (encoded - started) * 1000, (decoded - encoded) * 1000, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--dpi", type=int, default=300)
    args = parser.parse_args()
    for mode, candidates in CANDIDATES.items():
        sample = pages(mode, args.pages, args.dpi)
        raw = statistics.mean(len(page.tobytes()) for page in sample)
        print(
            f"\nmode {mode} ({KIND_FOR_MODE[mode]}), {args.pages} A4 pages at {args.dpi} dpi, "
            f"raw {raw / 1024:.0f} KiB/page"
        )
        print(f"{'encoding':<20} {'KiB/page':>9} {'ratio':>7} {'encode ms':>10} {'decode ms':>10}  note")
        for name, pillow_format, options in candidates:
            results = [measure(page, pillow_format, options) for page in sample]
            size = statistics.mean(r[0] for r in results)
            print(
                f"{name:<20} {size / 1024:>9.1f} {raw / size:>7.1f} {statistics.mean(r[1] for r in results):>10.1f} "
                f"{statistics.mean(r[2] for r in results):>10.1f}  {results[0][3]}"
            )


if __name__ == "__main__":
    main()
