"""Perceptual page hashes, for finding near-duplicates a person should look at (never merged automatically).

pHash (imagehash) of a page: 64 bits that change little when a page is rescanned or re-saved,
unlike the pixel hash, which changes with any single pixel. Pages are box-reduced to about
256 pixels first: the hash itself only looks at 32×32, and reducing first is ~50× faster on an
A4 bilevel scan (4–8 ms instead of 250–450 ms), deterministically.
"""

from __future__ import annotations

from PIL import Image

#: 256-bit hashes: with the default 64 bits, different letters of one template were 2–8 bits apart,
#: as close as a rescan. At 256 bits (sample pages, 320×452 and 1654×2339): different pages 42–66 apart,
#: a rescan (0.4° skew, blur, re-threshold) 6–22, a JPEG re-save 0–6.
HASH_SIZE = 16
#: Hamming distance (of 256 bits) up to which two pages count as near-duplicates.
NEAR_DISTANCE = 28
#: Pages are box-reduced by the whole factor that leaves their shorter side at least this long.
HASH_INPUT_SIDE = 256


def hash_of_grey(grey: Image.Image) -> str:
    """The hash of an 8-bit grey page, already reduced."""
    import imagehash  # here: it brings scipy (0.3 s of CPU), which a launcher that hashes no page never needs

    return str(imagehash.phash(grey, hash_size=HASH_SIZE))


#: Hashes of pages with no content (black, white): every blank page matches every other one. Written out, not
#: computed, so that the launcher's review step never imports imagehash and scipy (0.1-0.3 s at the end of every
#: run); a test computes them again with the installed imagehash.
BLANK_HASHES = frozenset({"0" * 64, "8" + "0" * 63})


def perceptual_hash(image: Image.Image) -> str:
    grey = image if image.mode == "L" else image.convert("L")  # reduce() and the hash make their own copies
    factor = max(1, min(grey.size) // HASH_INPUT_SIDE)
    if factor > 1:
        grey = grey.reduce(factor)
    return hash_of_grey(grey)


def distance(first: str, second: str) -> int:
    return bin(int(first, 16) ^ int(second, 16)).count("1")


def is_blank(page_hash: str | None) -> bool:
    return page_hash is None or page_hash in BLANK_HASHES
