"""The CPU half of migrating a document: bytes in, verified archive pages (or a validated PDF) out.

Pure (no I/O, no Beam), so it can run in the isolated child process and be fuzzed
directly. Every problem is a QuarantineError with its reason. What a blob is comes from its
own first bytes (after a legacy header only where its source's profile declares one): an
image is decoded page by page, a PDF is validated and kept whole, anything else is
UNSUPPORTED_FORMAT with its name.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, replace

from PIL import Image

from schemas.reasons import QuarantineError, Reason
from transforms.imaging.decode import DecodedDocument, Page
from transforms.imaging.deep_encode import encode_array
from transforms.imaging.encode import (
    JPEG_FROM_OLD_STYLE_TIFF,
    JPEG_STREAM,
    ORIGINAL_JPEG,
    ORIGINAL_PNG,
    EncodedPage,
    Encoding,
    encode_page,
)
from transforms.imaging.jpeg_streams import keep_jpeg_file, old_style_stream
from transforms.imaging.legacy_header import LegacyHeader, legacy_header_length
from transforms.imaging.page_checks import ink_coverage, luminance, page_flags
from transforms.imaging.passthrough import keep_bilevel, keep_page
from transforms.imaging.pdf import PdfCheck, check_pdf
from transforms.imaging.perceptual import perceptual_hash
from transforms.imaging.pixels import pixel_digest
from transforms.imaging.signatures import IMAGE, PDF, sniff, unsupported

#: What records really use; anything else is quarantined as UNSUPPORTED_FORMAT before decoding.
DEFAULT_ALLOWED_FORMATS = frozenset({"TIFF", "JPEG", "PNG", "BMP", "GIF", "JPEG2000", "WEBP", "PDF"})
#: Admits an A0 drawing at 300 dpi (9933 × 14043 ≈ 139.5 MP) with a little room.
DEFAULT_MAX_PAGE_PIXELS = 150_000_000
DEFAULT_MAX_PAGES = 10_000

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


@dataclass(frozen=True)
class ImageLimits:
    max_page_pixels: int = DEFAULT_MAX_PAGE_PIXELS
    max_pages: int = DEFAULT_MAX_PAGES
    allowed_formats: frozenset[str] = DEFAULT_ALLOWED_FORMATS


@dataclass(frozen=True)
class ConvertedPage:
    encoded: EncodedPage
    source_compression: str | None
    orientation: int | None
    icc_profile_sha256: str | None
    ink_coverage: float
    flags: tuple[str, ...]
    perceptual_hash: str
    decoder: str = "pillow"  # which library read the page: pillow, or tifffile for what Pillow cannot read exactly


@dataclass(frozen=True)
class ConvertedDocument:
    """Verified pages of an image document; or, for a PDF, no pages and its check (it is stored whole)."""

    source_format: str
    pages: tuple[ConvertedPage, ...]
    legacy_header_bytes: int = 0
    pdf: PdfCheck | None = None


def _png_has_16_bit_colour(data: bytes) -> bool:
    """Pillow decodes 16-bit-per-channel colour PNGs to 8 bits: such a file must be kept as it is."""
    if len(data) < 26 or data[12:16] != b"IHDR":
        return False
    bit_depth, colour_type = struct.unpack(">BB", data[24:26])
    return bit_depth == 16 and colour_type in (2, 4, 6)


def _tiff_page_loses_bits(page: Page) -> bool:
    bits = getattr(page.image, "tag_v2", {}).get(258)
    if not bits:
        return False
    bits = bits if isinstance(bits, tuple) else (bits,)
    return max(bits) > 8 and page.image.mode not in _SIXTEEN_BIT_MODES


def _original_encoding(document: DecodedDocument, data: bytes) -> Encoding | None:
    """Single-frame JPEGs are kept byte for byte (no second lossy encode), and so are 16-bit colour PNGs."""
    if document.page_count != 1:
        return None
    if document.format == "JPEG":
        return ORIGINAL_JPEG
    if document.format == "PNG" and _png_has_16_bit_colour(data):
        return ORIGINAL_PNG
    return None


def _check_page_count(found: int, recorded: int | None) -> None:
    if recorded is not None and recorded != found:
        raise QuarantineError(Reason.PAGE_COUNT_MISMATCH, f"image has {found} page(s), legacy record says {recorded}")


def convert_blobs(
    blobs: tuple[bytes, ...],
    limits: ImageLimits,
    recorded_page_count: int | None,
    legacy_header: LegacyHeader = None,
) -> ConvertedDocument:
    """One document from one blob, or from page files in page order (each must then hold exactly one page).

    A proprietary header before the document is skipped, and its length recorded, only under the source's
    legacy_header policy. A PDF is validated here and kept whole by the caller: its bytes are the blob's after
    the header, so they never travel back from the isolated child.
    """
    single_file = len(blobs) == 1  # its page count is checked from the header, before any page is decoded
    pages: list[ConvertedPage] = []
    formats: list[str] = []
    header_bytes = 0
    for index, blob in enumerate(blobs):
        header = legacy_header_length(blob, legacy_header)
        header_bytes += header
        body = blob[header:] if header else blob
        found = sniff(body)
        if found is not None and found.kind == PDF:
            if not single_file:
                raise QuarantineError(
                    Reason.UNSUPPORTED_FORMAT, f"page file {index + 1} is a PDF: page files must be images"
                )
            return ConvertedDocument("PDF", (), header_bytes, _check_pdf(body, limits, recorded_page_count))
        if found is None or found.kind != IMAGE:
            hint = "" if legacy_header else "; a source that puts a header before its images says so in its profile"
            raise unsupported(body, found, hint)
        converted = convert_document(body, limits, recorded_page_count if single_file else None)
        if not single_file and len(converted.pages) != 1:
            raise QuarantineError(
                Reason.PAGE_SEQUENCE_INVALID,
                f"page file {index + 1} holds {len(converted.pages)} pages; a page row must hold one",
            )
        pages += converted.pages
        formats.append(converted.source_format)
    if not single_file:  # page files: the count is known once they are all assembled
        _check_page_count(len(pages), recorded_page_count)
    source_format = formats[0] if len(set(formats)) == 1 else "+".join(formats)
    return ConvertedDocument(source_format, tuple(pages), header_bytes)


def _check_pdf(data: bytes, limits: ImageLimits, recorded_page_count: int | None) -> PdfCheck:
    if "PDF" not in limits.allowed_formats:
        raise QuarantineError(Reason.UNSUPPORTED_FORMAT, "PDF is not an allowed format")
    return check_pdf(data, max_pages=limits.max_pages, recorded_page_count=recorded_page_count)


def convert_document(data: bytes, limits: ImageLimits, recorded_page_count: int | None) -> ConvertedDocument:
    """Decode every page, encode it losslessly and prove it; raise QuarantineError on the first problem."""
    with DecodedDocument(data, max_page_pixels=limits.max_page_pixels) as document:
        if document.format not in limits.allowed_formats:
            raise QuarantineError(Reason.UNSUPPORTED_FORMAT, f"{document.format} is not an allowed format")
        if document.page_count > limits.max_pages:
            raise QuarantineError(
                Reason.DECOMPRESSION_BOMB, f"{document.page_count} pages, over the limit of {limits.max_pages}"
            )
        _check_page_count(document.page_count, recorded_page_count)
        original = _original_encoding(document, data)
        if document.format == "PNG" and original is None and _png_has_16_bit_colour(data):
            raise QuarantineError(Reason.LOSSLESS_UNSUPPORTED, "16-bit colour animated PNG cannot be kept exactly")
        pages = []
        for page in document.pages():
            if original is None and page.deep is None and page.bilevel is None and _tiff_page_loses_bits(page):
                raise QuarantineError(
                    Reason.LOSSLESS_UNSUPPORTED,
                    f"page {page.number} has over 8 bits per sample, which the decoder reduces ({page.image.mode})",
                )
            if page.bilevel is not None:
                pages.append(_fax_page(data, page))
                continue
            stream = old_style_stream(data, page.number - 1) if page.compression == "tiff_jpeg" else None
            if stream is not None and document.format == "TIFF":
                pages.append(_old_style_page(stream, page, limits))
                continue
            grey = luminance(page.image)
            # A bilevel page's pixels, copied out of Pillow once (3-7 ms an A4 page) for the ink count, the pixel
            # hash, the passthrough proof and, seen as 8-bit grey, the perceptual hash.
            pixels = page.image.tobytes("raw", "L") if page.image.mode == "1" else None
            coverage = ink_coverage(grey, pixels)
            digest = pixel_digest(page.image, pixels)
            carried = None if page.orientation_applied else page.orientation
            if page.deep is not None:  # samples Pillow has no exact mode for: kept by tifffile, verified by it
                encoded = encode_array(page.deep, page.number)
            else:  # a TIFF page's own strips where the copy proves exact (passthrough), else encoded losslessly
                kept = _keep(data, page, digest, pixels) if document.format == "TIFF" and original is None else None
                encoded = kept or encode_page(
                    page, original=(data, original) if original else None, orientation=carried, digest=digest
                )
            if pixels is not None:
                grey = Image.frombuffer("L", page.image.size, pixels, "raw", "L", 0, 1)
            pages.append(_converted(page, encoded, coverage, perceptual_hash(grey)))
        return ConvertedDocument(document.format, tuple(pages))


def _keep(data: bytes, page: Page, digest: str, pixels: bytes | None) -> EncodedPage | None:
    """A TIFF page's own data, where it decodes to exactly the page's pixels: a JPEG page's one strip as a JPEG
    file (jpeg_streams.py), else its strips or tiles in a single-page TIFF (passthrough.py)."""
    kept = keep_jpeg_file(data, page, digest) if page.compression == "jpeg" else None
    return kept or keep_page(data, page, digest, pixels)


def _fax_page(data: bytes, page: Page) -> ConvertedPage:
    """A fax page decoded once by libtiff: everything from its bits; kept as its own strips where the copy is the
    source's structure exactly (Group 4), else encoded losslessly from the same bits."""
    pixels = page.bilevel
    digest = pixels.digest()
    encoded = keep_bilevel(data, page, digest) or encode_page(page, digest=digest)
    return _converted(page, encoded, pixels.ink_coverage(), pixels.perceptual_hash())


def _old_style_page(stream: bytes, page: Page, limits: ImageLimits) -> ConvertedPage:
    """An old-style JPEG page whose JPEGInterchangeFormat holds a whole JPEG stream: that stream is the page, kept as
    a JPEG file, its pixels the stream's decode (docs/formats.md), proven by decoding the kept file."""
    with DecodedDocument(stream, max_page_pixels=limits.max_page_pixels) as jpeg:
        if jpeg.format != "JPEG" or jpeg.page_count != 1:
            raise QuarantineError(Reason.DECODE_ERROR, f"page {page.number}: its JPEG stream is not one JPEG image")
        decoded = next(jpeg.pages())
        if decoded.image.size != page.image.size:
            size = "x".join(str(side) for side in decoded.image.size)
            raise QuarantineError(Reason.DECODE_ERROR, f"page {page.number}: its JPEG stream is {size}, not the page")
        grey = luminance(decoded.image)  # a JPEG is grey, RGB or CMYK: never bilevel
        encoded = encode_page(decoded, original=(stream, JPEG_FROM_OLD_STYLE_TIFF))
        encoded = replace(encoded, path=JPEG_STREAM, dpi=page.dpi)
        stream_page = replace(page, source=decoded.image, decoder="pillow", deep=None)
        return _converted(stream_page, encoded, ink_coverage(grey), perceptual_hash(grey))


def _converted(page: Page, encoded: EncodedPage, coverage: float, perceptual: str) -> ConvertedPage:
    return ConvertedPage(
        encoded=encoded,
        source_compression=page.compression,
        orientation=page.orientation,
        icc_profile_sha256=hashlib.sha256(page.icc_profile).hexdigest() if page.icc_profile else None,
        ink_coverage=round(coverage, 5),
        flags=page_flags(coverage, page.dpi),
        perceptual_hash=perceptual,
        decoder=page.decoder,
    )
