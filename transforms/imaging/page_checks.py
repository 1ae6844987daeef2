"""Image checks recorded per page and never used to drop one (BS 10008 keeps blank pages).

They point a reviewer at pages worth a look: blank (almost no ink), inverted (mostly
black: the classic fax/Group 4 photometric mix-up) and very low resolution.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

BLANK_INK_COVERAGE = 0.002
INVERTED_INK_COVERAGE = 0.6
LOW_DPI = 150.0


def luminance(image: Image.Image) -> Image.Image:
    """An 8-bit luminance view of any mode, for this estimate only (never stored)."""
    if image.mode in ("1", "L"):
        return image
    if image.mode == "LAB":
        return image.getchannel("L")
    if image.mode.startswith(("I", "F")):  # 16-bit, 32-bit and float pages: scale to 8 bits
        return image.convert("I").point(lambda value: value / 256).convert("L")
    try:
        return image.convert("L")
    except (ValueError, OSError):  # a mode Pillow cannot convert: its first band is the best cheap proxy
        return image.getchannel(0)


def ink_coverage(grey: Image.Image, pixels: bytes | None = None) -> float:
    """Fraction of the page (as luminance()) darker than mid-grey; PIXELS: grey.tobytes("raw", "L"), if at hand."""
    if grey.mode in ("1", "L"):  # counted by numpy: Pillow's histogram takes 16 ms on an A4 page at 300 dpi
        values = np.frombuffer(pixels if pixels is not None else grey.tobytes("raw", "L"), dtype=np.uint8)
        dark = values.size - np.count_nonzero(values) if grey.mode == "1" else np.count_nonzero(values < 128)
        return int(dark) / (values.size or 1)
    histogram = grey.histogram()
    total = sum(histogram) or 1
    return sum(histogram[:128]) / total


def page_flags(coverage: float, dpi: tuple[float, float] | None) -> tuple[str, ...]:
    flags = []
    if coverage < BLANK_INK_COVERAGE:
        flags.append("blank")
    if coverage > INVERTED_INK_COVERAGE:
        flags.append("inverted")
    if dpi is not None and min(dpi) < LOW_DPI:
        flags.append("low_dpi")
    return tuple(flags)
