"""Lossless archive encodings, chosen per pixel mode and proven by decoding the result.

Bilevel pages go to CCITT Group 4 TIFF (the archive norm, and the smallest).
Grey and colour pages go to Deflate TIFF: on A4 scans it was as small as PNG for
grey and 11% smaller for colour, and encoded 1.7-2.3x faster (benchmarks/encodings.py,
docs/running.md). Palette pages go to PNG, which keeps palette transparency. A single-frame
JPEG source is kept byte for byte: its pixels are then identical by construction,
and a second encode could only make it bigger (lossless) or worse (lossy).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from schemas.reasons import QuarantineError, Reason
from transforms.imaging.decode import Page
from transforms.imaging.pixels import pixel_digest
from transforms.imaging.tiff_structure import zero_unreferenced_tiff_bytes


@dataclass(frozen=True)
class Encoding:
    name: str
    pillow_format: str
    extension: str
    options: dict[str, Any] = field(default_factory=dict)
    keeps_icc: bool = True


GROUP4_TIFF = Encoding("TIFF/CCITT-G4", "TIFF", "tif", {"compression": "group4"})
PNG = Encoding("PNG", "PNG", "png", {"compress_level": 6})
DEFLATE_TIFF = Encoding("TIFF/Deflate", "TIFF", "tif", {"compression": "tiff_adobe_deflate"})
#: The last resort: libtiff's compressors rewrite some modes' byte order (I;16B reads back as I;16).
UNCOMPRESSED_TIFF = Encoding("TIFF/uncompressed", "TIFF", "tif", {"compression": "raw"})
ORIGINAL_JPEG = Encoding("JPEG/original", "JPEG", "jpg")
#: A JPEG-compressed TIFF page's own strips or tiles, with its JPEGTables, in a single-page TIFF (passthrough.py).
JPEG_TIFF = Encoding("TIFF/JPEG", "TIFF", "tif")
#: A JPEG-compressed TIFF page's JPEG data as a JPEG file: JPEGTables and its one strip (jpeg_streams.py).
JPEG_FROM_TIFF = Encoding("JPEG/from-TIFF", "JPEG", "jpg")
#: An old-style JPEG TIFF page's own JPEG stream, where JPEGInterchangeFormat points at a whole one (jpeg_streams.py).
JPEG_FROM_OLD_STYLE_TIFF = Encoding("JPEG/old-style-TIFF-stream", "JPEG", "jpg")
ORIGINAL_PNG = Encoding("PNG/original", "PNG", "png")
_ORIGINALS = (ORIGINAL_JPEG, ORIGINAL_PNG)

#: Candidate encodings per mode, best first; every other mode tries Deflate TIFF, PNG, then uncompressed TIFF.
CANDIDATES: dict[str, tuple[Encoding, ...]] = {
    "1": (GROUP4_TIFF, PNG),
    "P": (PNG, DEFLATE_TIFF),
    "PA": (DEFLATE_TIFF, UNCOMPRESSED_TIFF),
}
_FALLBACK = (DEFLATE_TIFF, PNG, UNCOMPRESSED_TIFF)

#: How a page's object was made, recorded per page in lineage (pages.encode_path).
REENCODED = "reencoded"  # decoded, encoded losslessly here, decoded again to prove it
PASSTHROUGH = "passthrough"  # the source's own compressed strips copied into a single-page TIFF (passthrough.py)
ORIGINAL = "original"  # the source file kept byte for byte (a single-frame JPEG, a 16-bit colour PNG, a PDF)
JPEG_STREAM = "jpeg-stream"  # a TIFF page's own JPEG data as a JPEG file, decoded to prove it (jpeg_streams.py)


@dataclass(frozen=True)
class EncodedPage:
    """A page's verified archive bytes and what lineage records about it."""

    data: bytes
    encoding: Encoding
    pixel_sha256: str
    width: int
    height: int
    mode: str
    dpi: tuple[float, float] | None
    path: str = REENCODED


def _untagged(image: Image.Image) -> Image.Image:
    """The pixels without the source file's tags. Pillow's TIFF writer copies every tag of a TIFF it read into the
    file it writes: a private or oddly typed one made libtiff's encoder raise SystemError or crash the process,
    and a name in DocumentName or ImageDescription would reach the archive object. Only what _save sets is kept."""
    return image.copy() if hasattr(image, "tag_v2") else image


def _save(page: Page, encoding: Encoding, orientation: int | None) -> bytes:
    options = dict(encoding.options)
    if orientation and orientation != 1:  # carried on the object, so viewers turn the page as the source did
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif
    if page.dpi:
        options["dpi"] = page.dpi
    if page.icc_profile and encoding.keeps_icc:
        options["icc_profile"] = page.icc_profile
    if page.image.mode == "P" and "transparency" in page.image.info:
        options["transparency"] = page.image.info["transparency"]
    buffer = io.BytesIO()
    _untagged(page.image).save(buffer, format=encoding.pillow_format, **options)
    if encoding.pillow_format == "TIFF":  # same pixels must give the same bytes, or the object name drifts
        return zero_unreferenced_tiff_bytes(buffer.getvalue())
    return buffer.getvalue()


def _decodes_to(data: bytes, encoding: Encoding, page: Page, digest: str, orientation: int | None) -> bool:
    with Image.open(io.BytesIO(data), formats=[encoding.pillow_format]) as stored:
        stored.load()
        same_pixels = (
            stored.mode == page.image.mode and stored.size == page.image.size and pixel_digest(stored) == digest
        )
        if not same_pixels or encoding in _ORIGINALS:
            return same_pixels
        return (stored.getexif().get(0x0112) or 1) == (orientation or 1)


def encode_page(
    page: Page,
    *,
    original: tuple[bytes, Encoding] | None = None,
    orientation: int | None = None,
    digest: str | None = None,
) -> EncodedPage:
    """The first candidate encoding whose decoded pixels equal the source's, value for value.

    `original` keeps the source bytes as the object (single-frame JPEG, 16-bit colour PNG); `digest` is the page's
    pixel_digest when the caller has it.
    """
    image = page.image
    digest = digest or pixel_digest(image)
    candidates = (original[1],) if original is not None else CANDIDATES.get(image.mode, _FALLBACK)
    failures = []
    for encoding in candidates:
        try:
            data = original[0] if original is not None else _save(page, encoding, orientation)
            if _decodes_to(data, encoding, page, digest, orientation):
                path = ORIGINAL if original is not None else REENCODED
                return EncodedPage(data, encoding, digest, image.width, image.height, image.mode, page.dpi, path)
            failures.append(f"{encoding.name} changed the pixels")
        except (OSError, ValueError, KeyError, TypeError) as error:
            failures.append(f"{encoding.name}: {error}")
    raise QuarantineError(
        Reason.LOSSLESS_UNSUPPORTED,
        f"page {page.number} ({image.mode} {image.width}x{image.height}) has no lossless encoding: "
        + "; ".join(failures),
    )
