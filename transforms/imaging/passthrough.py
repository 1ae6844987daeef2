"""Keeping a TIFF page's own compressed data when it is already what the archive would store.

A bilevel page stored as CCITT Group 4, a grey/colour page stored as Deflate, or any page stored as JPEG
(compression 7, whose pixels are what the legacy viewer showed and which no lossless re-encode can make smaller) is
already in an encoding the archive keeps: decoding and re-encoding it costs most of its CPU and can only give back
the same pixels, or bigger bytes (a colour JPEG page became 3.8× its size as Deflate). Here its strips (or a JPEG
page's tiles) are copied byte for byte into a new single-page TIFF, with the tags a decoder needs (size, strips or
tiles, compression and its options, JPEGTables and the YCbCr tags, bits and samples, photometric interpretation,
fill order, orientation, resolution, predictor, ICC profile) and no others, so free-text tags of the legacy file
never travel (tiff_copy.py writes it, deterministically). The caller keeps the copy only if it decodes to exactly
the source page's pixels, or, for a fax page decoded once by libtiff, if it is the source page's structure exactly.
"""

from __future__ import annotations

import io

from PIL import Image, ImageChops

from transforms.imaging.decode import Page
from transforms.imaging.encode import DEFLATE_TIFF, GROUP4_TIFF, JPEG_TIFF, PASSTHROUGH, EncodedPage
from transforms.imaging.libtiff_errors import libtiff_errors
from transforms.imaging.pixels import pixel_digest
from transforms.imaging.tiff_copy import COMPRESSION, PHOTOMETRIC, directory, first, same_structure, segments, write

JPEG = 7
#: Compressions kept as they are, and the pixel modes they are kept for: where they are what encode.py would
#: choose, or (JPEG) where any re-encode would be bigger. Group 3 and PackBits bilevel pages are re-encoded (Group 4
#: is smaller); LZW pages too (Deflate is smaller).
KEPT_COMPRESSIONS: dict[int, frozenset[str]] = {
    4: frozenset({"1"}),  # CCITT Group 4
    JPEG: frozenset({"L", "RGB", "CMYK"}),
    8: frozenset({"L", "LA", "RGB", "RGBA"}),  # Adobe Deflate
    32946: frozenset({"L", "LA", "RGB", "RGBA"}),  # Deflate (the old code)
}
#: WhiteIsZero, BlackIsZero, RGB: no palette, no colour transform; JPEG's data also holds CMYK and YCbCr.
_PHOTOMETRICS = frozenset({0, 1, 2})
_JPEG_PHOTOMETRICS = frozenset({1, 2, 5, 6})
_ENCODINGS = {4: GROUP4_TIFF, JPEG: JPEG_TIFF}
#: What a decoder needs to turn the strips back into the same pixels, and what viewers need to show them.
CARRIED_TAGS = frozenset(
    {
        256,  # ImageWidth
        257,  # ImageLength
        258,  # BitsPerSample
        259,  # Compression
        262,  # PhotometricInterpretation
        266,  # FillOrder
        274,  # Orientation
        277,  # SamplesPerPixel
        278,  # RowsPerStrip
        282,  # XResolution
        283,  # YResolution
        284,  # PlanarConfiguration
        292,  # T4Options
        293,  # T6Options
        296,  # ResolutionUnit
        317,  # Predictor
        338,  # ExtraSamples
        339,  # SampleFormat
        34675,  # ICC profile
    }
)
#: And for a JPEG page: its tiles, the tables its strips or tiles share, and how its YCbCr becomes RGB.
_JPEG_TAGS = frozenset({322, 323, 347, 529, 530, 531, 532})


def _carried(compression: int) -> frozenset[int]:
    return CARRIED_TAGS | _JPEG_TAGS if compression == JPEG else CARRIED_TAGS


def copy_page(data: bytes, page_index: int, mode: str) -> bytes | None:
    """A single-page TIFF holding page PAGE_INDEX's strips (a JPEG page's: or tiles) unchanged, or None when the
    page is not kept so.

    MODE is the page's decoded Pillow mode: a compression is kept only for the modes it is the archive's choice
    for. None also for tiles (but JPEG's), a palette, a colour transform, or data that does not lie inside the file.
    """
    found = directory(data, page_index)
    if found is None:
        return None
    order, entries = found
    compression = first(entries, COMPRESSION, order, 1)
    if mode not in KEPT_COMPRESSIONS.get(compression, frozenset()):
        return None
    tiled = bool({322, 323, 324, 325} & entries.keys())
    photometrics = _JPEG_PHOTOMETRICS if compression == JPEG else _PHOTOMETRICS
    if (tiled and compression != JPEG) or first(entries, PHOTOMETRIC, order) not in photometrics:
        return None
    parts = segments(data, order, entries)
    return write(order, entries, _carried(compression), parts) if parts else None


def keep_bilevel(data: bytes, page: Page, digest: str) -> EncodedPage | None:
    """A fax page decoded once by libtiff (fax_page.py), kept as its own Group 4 strips if the copy is the source
    page's structure exactly (same_structure): the same strip bytes under the same decode tags decode, by the same
    libtiff, to the same pixels, so the copy is not decoded again (docs/formats.md)."""
    pixels = page.bilevel
    copy = copy_page(data, page.number - 1, "1") if pixels is not None else None
    if copy is None or not same_structure(data, page.number - 1, copy, CARRIED_TAGS):
        return None
    return EncodedPage(copy, GROUP4_TIFF, digest, pixels.width, pixels.height, "1", page.dpi, path=PASSTHROUGH)


def _same_pixels(stored: Image.Image, image: Image.Image, digest: str, pixels: bytes | None) -> bool:
    """Every pixel value equal: bilevel pages byte for byte against the source's PIXELS (its image.tobytes("raw",
    "L"), when the caller has it) or in C, without hashing the copy."""
    if image.mode == "1" and pixels is not None:
        return stored.mode == "1" and stored.tobytes("raw", "L") == pixels
    if image.mode == "1":
        return ImageChops.logical_xor(stored, image).getbbox() is None
    return pixel_digest(stored) == digest


def keep_page(data: bytes, page: Page, digest: str | None = None, pixels: bytes | None = None) -> EncodedPage | None:
    """The page's own strips as its archive object, if the copy decodes to exactly the source page's pixels.

    The source page is decoded once (by the caller, for its checks and hashes); the copy is decoded here and must
    match it in mode, size, every pixel value and orientation, with no libtiff complaint. Anything else, even an
    exception from the decoder, means no: the page is then re-encoded as before. DIGEST: the page's pixel_digest;
    PIXELS: a bilevel page's image.tobytes("raw", "L"), if the caller has them.
    """
    image = page.image
    copy = copy_page(data, page.number - 1, image.mode)
    if copy is None:
        return None
    digest = digest or pixel_digest(image)
    try:
        with libtiff_errors() as reported, Image.open(io.BytesIO(copy), formats=["TIFF"]) as stored:
            orientation = stored.tag_v2.get(274)  # read before load(), which applies and drops it
            stored.load()
            same = (
                not reported
                and stored.mode == image.mode
                and stored.size == image.size
                and (orientation or 1) == (page.orientation or 1)
                and _same_pixels(stored, image, digest, pixels)
            )
    except MemoryError:
        raise
    except Exception:  # a copy the decoder rejects is not kept; the re-encode path judges the page itself
        return None
    if not same:
        return None
    found = directory(copy, 0)
    encoding = _ENCODINGS.get(first(found[1], COMPRESSION, "<") if found else 0, DEFLATE_TIFF)
    return EncodedPage(copy, encoding, digest, image.width, image.height, image.mode, page.dpi, path=PASSTHROUGH)
