"""A bilevel page as its packed bits: the pixel hash, ink coverage and perceptual hash without a Pillow image.

A Group 4 page decoded once by libtiff (libtiff_check.read_fax_page) is 1 bit a pixel, a megabyte for an A4 page at
300 dpi. Everything the migration needs from it is computed on those bits: the same pixel hash pixels.pixel_digest
gives the same page as a Pillow image (Pillow's "1" layout: a set bit is white, rows padded with zero bits), the
same ink coverage (white bits counted), and the same perceptual hash: perceptual.py box-reduces the page with
Pillow's reduce() before hashing it, and here the boxes' white pixels are counted by numpy and mapped to the value
Pillow's reduce() gives that count (a table made by Pillow itself, per box shape), so the reduced page is the one
Pillow would have made, byte for byte. A Pillow image is made only if the page must be re-encoded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from transforms.imaging.perceptual import HASH_INPUT_SIDE, hash_of_grey


@dataclass(frozen=True)
class BilevelPixels:
    """Packed rows in Pillow's "1" layout: first pixel in the high bit, set for white, rows padded with zeros."""

    packed: bytes | bytearray
    width: int
    height: int

    @property
    def row_bytes(self) -> int:
        return (self.width + 7) // 8

    @classmethod
    def from_samples(cls, rows: bytearray, width: int, height: int, min_is_white: bool) -> BilevelPixels:
        """libtiff's rows of samples (1 is black in a min-is-white page) in Pillow's layout, in place."""
        array = np.frombuffer(rows, dtype=np.uint8).reshape(height, -1)
        if min_is_white:
            np.invert(array, out=array)
        if width % 8:
            array[:, -1] &= (0xFF << (8 - width % 8)) & 0xFF
        return cls(rows, width, height)

    def digest(self) -> str:
        """pixels.pixel_digest of the same page as a Pillow "1" image."""
        digest = hashlib.sha256(f"1:{self.width}x{self.height}:".encode())
        digest.update(self.packed)
        return digest.hexdigest()

    def ink_coverage(self) -> float:
        """page_checks.ink_coverage of the page: the share of black pixels."""
        white = int(np.bitwise_count(np.frombuffer(self.packed, dtype=np.uint8)).sum(dtype=np.int64))
        pixels = self.width * self.height
        return (pixels - white) / (pixels or 1)

    def image(self) -> Image.Image:
        """The page as a Pillow "1" image (a copy: 3-4 ms an A4 page), for the encoders."""
        return Image.frombytes("1", (self.width, self.height), bytes(self.packed), "raw", "1", self.row_bytes, 1)

    def grey(self) -> Image.Image:
        """The page as 8-bit grey, 0 or 255."""
        bits = np.unpackbits(np.frombuffer(self.packed, dtype=np.uint8).reshape(self.height, -1), axis=1)
        grey = np.ascontiguousarray(np.subtract(0, bits[:, : self.width], dtype=np.uint8))
        return Image.frombuffer("L", (self.width, self.height), grey, "raw", "L", 0, 1)

    def perceptual_hash(self) -> str:
        """perceptual.perceptual_hash of the page, from box counts instead of Pillow's reduce of a grey copy."""
        factor = max(1, min(self.width, self.height) // HASH_INPUT_SIDE)
        if factor == 1:
            return hash_of_grey(self.grey())
        return hash_of_grey(self._reduced(factor))

    def _reduced(self, factor: int) -> Image.Image:
        """Pillow's grey.reduce(factor), byte for byte: white pixels counted per box, mapped through Pillow's table."""
        bits = np.unpackbits(np.frombuffer(self.packed, dtype=np.uint8).reshape(self.height, -1), axis=1)
        counts = _box_counts(bits[:, : self.width], factor)
        out_height, out_width = counts.shape
        full_rows, full_columns = self.height // factor, self.width // factor
        reduced = np.empty((out_height, out_width), dtype=np.uint8)
        for rows in (slice(0, full_rows), slice(full_rows, out_height)):
            for columns in (slice(0, full_columns), slice(full_columns, out_width)):
                box_height = factor if rows.start == 0 else self.height - full_rows * factor
                box_width = factor if columns.start == 0 else self.width - full_columns * factor
                if box_height and box_width:
                    table = _reduce_table(factor, box_width, box_height)
                    reduced[rows, columns] = table[counts[rows, columns]]
        return Image.frombuffer("L", (out_width, out_height), reduced, "raw", "L", 0, 1)


def _box_counts(bits: np.ndarray, factor: int) -> np.ndarray:
    """White pixels in each FACTOR×FACTOR box (partial boxes at the right and bottom edges), summed by slices."""
    height, width = bits.shape
    kind = np.uint8 if factor * factor <= 255 else np.uint32
    full = height // factor
    out_height, out_width = -(-height // factor), -(-width // factor)
    rows = np.zeros((out_height, out_width * factor), dtype=kind)
    grouped, target = bits[: full * factor].reshape(full, factor, width), rows[:full, :width]
    for step in range(factor):
        target += grouped[:, step]
    if full < out_height:
        rows[full, :width] = bits[full * factor :].sum(axis=0, dtype=kind)
    columns = rows.reshape(out_height, out_width, factor)
    counts = columns[:, :, 0].copy()
    for step in range(1, factor):
        counts += columns[:, :, step]
    return counts


@cache
def _reduce_table(factor: int, box_width: int, box_height: int) -> np.ndarray:
    """What Pillow's reduce(FACTOR) makes of a box of BOX_WIDTH×BOX_HEIGHT pixels holding N white ones, for each N.

    Asked of Pillow itself: an image one full box plus this box wide and high, the box at its far corner, so the
    same code (full boxes, or the edges' partial ones) computes it as it would on a page."""
    width, height = (
        factor + box_width if box_width < factor else factor,
        (factor + box_height if box_height < factor else factor),
    )
    table = np.zeros(box_width * box_height + 1, dtype=np.uint8)
    for white in range(box_width * box_height + 1):
        grey = np.zeros((height, width), dtype=np.uint8)
        box = np.zeros(box_width * box_height, dtype=np.uint8)
        box[:white] = 255
        grey[height - box_height :, width - box_width :] = box.reshape(box_height, box_width)
        reduced = Image.frombuffer("L", (width, height), grey, "raw", "L", 0, 1).reduce(factor)
        table[white] = reduced.getpixel((reduced.width - 1, reduced.height - 1))
    return table
