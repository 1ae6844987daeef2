"""Decoding legacy images safely, page by page.

The format is sniffed from the header bytes (signatures.py) and Pillow is told to use only
that decoder; structural checks catch truncation that a lenient decoder would paper
over; each page is sized before its pixels are allocated. Truncated images are
never loaded (ImageFile.LOAD_TRUNCATED_IMAGES stays False).

TIFF is a decoder chain: Pillow where it reads a page exactly (tiff_tags.pillow_reads_exactly), tifffile
with imagecodecs, strictly, for what Pillow cannot open or would reduce (tiff_fallback.py). Damage is
detected, not decoded around: libtiff's own reports (libtiff_errors.py) and, for fax pages, the rows
libtiff really wrote (libtiff_check.py).
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageFile, TiffImagePlugin, UnidentifiedImageError

from schemas.reasons import QuarantineError, Reason
from transforms.imaging.bilevel import BilevelPixels
from transforms.imaging.fax_page import read_upright_fax
from transforms.imaging.gif_structure import gif_is_truncated
from transforms.imaging.libtiff_check import FAX_COMPRESSIONS, judge_by_libtiff
from transforms.imaging.libtiff_errors import libtiff_errors
from transforms.imaging.signatures import IMAGE, sniff, unsupported
from transforms.imaging.tiff_arrays import as_pillow, preview
from transforms.imaging.tiff_fallback import ArrayPage, TiffArrays
from transforms.imaging.tiff_structure import ifd_chain_is_truncated
from transforms.imaging.tiff_tags import describe_tags, pillow_reads_exactly

#: Pillow's plugin name for each image format.
_PILLOW_FORMATS = {
    "TIFF": "TIFF",
    "JPEG": "JPEG",
    "PNG": "PNG",
    "GIF": "GIF",
    "BMP": "BMP",
    "JPEG2000": "JPEG2000",
    "WEBP": "WEBP",
}

_TRUNCATION_HINTS = (
    "truncated",
    "premature end",
    "broken data stream",
    "not enough data",
    "buffer is not large enough",
)


@dataclass
class Page:
    """One decoded page; image is valid until the next page is decoded (a fax page's: made when first asked for)."""

    number: int
    source: Image.Image | None
    dpi: tuple[float, float] | None
    compression: str | None
    icc_profile: bytes | None
    orientation: int | None = None  # as the source recorded it (EXIF/TIFF tag 274), 1-8
    orientation_applied: bool = False  # Pillow turns TIFF pages upright on load, so the pixels already are
    decoder: str = "pillow"  # or "tifffile": which library read the page, for lineage
    deep: ArrayPage | None = None  # samples with no exact Pillow mode; image is then a grey view for checks only
    bilevel: BilevelPixels | None = None  # a fax page's bits, decoded once by libtiff (libtiff_check.read_fax_page)

    @property
    def image(self) -> Image.Image:
        if self.source is None and self.bilevel is not None:
            self.source = self.bilevel.image()
        return self.source


def _jpeg_is_truncated(data: bytes) -> bool:
    """Markers cannot occur inside entropy-coded data, so a complete JPEG has EOI after its last SOS."""
    return data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda")


def _png_is_truncated(data: bytes) -> bool:
    return data.find(b"IEND\xaeB`\x82") < 0


def _tiff_page_is_truncated(image: Image.Image, size: int) -> bool:
    """Every strip or tile of the current page must lie inside the bytes we have."""
    tags = getattr(image, "tag_v2", None)
    if tags is None:
        return False
    for offsets_tag, counts_tag in ((273, 279), (324, 325)):
        offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
        if offsets is None or counts is None:
            continue
        offsets = offsets if isinstance(offsets, tuple) else (offsets,)
        counts = counts if isinstance(counts, tuple) else (counts,)
        if any(offset + count > size for offset, count in zip(offsets, counts, strict=False)):
            return True
    return False


#: An object repr such as <_io.BytesIO object at 0x7f…>: it tells an operator nothing and differs between runs.
_REPR = re.compile(r"<[^<>]*\bat 0x[0-9a-fA-F]+>")


def describe(error: BaseException) -> str:
    """A decoder's message, deterministic: no object reprs or addresses, and never longer than a line."""
    text = _REPR.sub("the data", str(error)).splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:300] if text else type(error).__name__


def _classify(error: Exception, where: str = "") -> QuarantineError:
    """Any exception a decoder raised on bad bytes, as a reason: truncation, or else a decode error."""
    text = describe(error)
    prefix = f"{where}: " if where else ""
    if isinstance(error, EOFError) or any(hint in text.lower() for hint in _TRUNCATION_HINTS):
        return QuarantineError(Reason.TRUNCATED_IMAGE, f"{prefix}image data ends early ({text})")
    return QuarantineError(Reason.DECODE_ERROR, f"{prefix}cannot decode ({text})")


def _dpi(image: Image.Image) -> tuple[float, float] | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    try:
        x, y = (float(value) for value in dpi)
    except (TypeError, ValueError):
        return None
    return (round(x, 2), round(y, 2)) if x > 0 and y > 0 else None


def _orientation(image: Image.Image) -> int | None:
    try:
        tags = getattr(image, "tag_v2", None)
        value = tags.get(274) if tags is not None else image.getexif().get(0x0112)
    except Exception:  # a damaged EXIF block must not cost the page; the orientation is then unknown
        return None
    return int(value) if value in range(1, 9) else None


class DecodedDocument:
    """An opened document whose pages are decoded one at a time, so memory holds one page."""

    def __init__(self, data: bytes, *, max_page_pixels: int) -> None:
        ImageFile.LOAD_TRUNCATED_IMAGES = False  # a global another library may have flipped
        Image.MAX_IMAGE_PIXELS = None  # the per-page check below replaces Pillow's, with the run's own limit
        self.data = data
        found = sniff(data)
        if found is None or found.kind != IMAGE:
            raise unsupported(data, found)
        self.format = found.code
        self.max_page_pixels = max_page_pixels
        self.arrays: TiffArrays | None = None
        if self.format == "JPEG" and _jpeg_is_truncated(data):
            raise QuarantineError(Reason.TRUNCATED_IMAGE, "JPEG has no end-of-image marker after its last scan")
        if self.format == "PNG" and _png_is_truncated(data):
            raise QuarantineError(Reason.TRUNCATED_IMAGE, "PNG has no IEND chunk")
        if self.format == "GIF" and gif_is_truncated(data):
            raise QuarantineError(Reason.TRUNCATED_IMAGE, "GIF ends before its trailer: frames may be missing")
        if self.format == "TIFF" and ifd_chain_is_truncated(data):
            raise QuarantineError(Reason.TRUNCATED_IMAGE, "TIFF directory chain points past the end of the file")
        try:
            self.image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[self.format]])
            self.page_count = int(getattr(self.image, "n_frames", 1))
        except Image.DecompressionBombError as error:
            raise QuarantineError(Reason.DECOMPRESSION_BOMB, str(error)) from error
        except MemoryError:
            raise  # the worker reports it as DECOMPRESSION_BOMB with its memory limit
        except (UnidentifiedImageError, SyntaxError, ValueError, struct.error) as error:
            if self.format != "TIFF":
                raise QuarantineError(Reason.DECODE_ERROR, f"cannot parse {self.format} ({describe(error)})") from error
            self._open_arrays()  # a TIFF variant Pillow cannot open: tifffile reads it, strictly, or nothing does
        except Exception as error:  # any other decoder failure on bad bytes (KeyError, TypeError, …) is a reason
            if self.format != "TIFF":
                raise _classify(error, f"{self.format} header") from error
            self._open_arrays()

    def _open_arrays(self) -> None:
        self.image = None
        self.arrays = TiffArrays(self.data)
        self.page_count = self.arrays.page_count

    def close(self) -> None:
        if self.image is not None:
            self.image.close()
        if self.arrays is not None:
            self.arrays.close()

    def __enter__(self) -> DecodedDocument:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def pages(self) -> Iterator[Page]:
        for index in range(self.page_count):
            yield self._decode_page(index)

    def _decode_page(self, index: int) -> Page:
        """Pillow where it reads the page exactly; tifffile where it cannot, or would reduce it."""
        if self.image is None:
            return self._array_page(index)
        where = f"page {index + 1}"
        try:
            page = self._pillow_page(index)
        except QuarantineError:
            raise
        except Image.DecompressionBombError as error:
            raise QuarantineError(Reason.DECOMPRESSION_BOMB, str(error)) from error
        except MemoryError:
            raise  # the worker reports it as DECOMPRESSION_BOMB with its memory limit
        except (SyntaxError, TypeError, KeyError, AttributeError, ValueError) as error:
            if self.format != "TIFF":
                raise _classify(error, where) from error
            page = None  # Pillow tripped over this page's tags or layout, not its data: tifffile reads it
        except Exception as error:  # any decoder failure on bad bytes is this page's reason, never a crash
            raise _classify(error, self._where(index)) from error
        return page if page is not None else self._array_page(index)

    def _where(self, index: int) -> str:
        """ "page N (LZW, RGB, 16-bit)": the page, and for a TIFF what it is."""
        try:
            return f"page {index + 1} ({describe_tags(self.image.tag_v2)})"
        except Exception:  # not a TIFF, or tags too damaged to describe: the page number alone
            return f"page {index + 1}"

    def _check_size(self, label: str, width: int, height: int) -> None:
        """Before any pixel is decoded: a page over the pixel limit (a bomb), or one with no pixels at all."""
        if width * height > self.max_page_pixels:
            raise QuarantineError(
                Reason.DECOMPRESSION_BOMB,
                f"{label} claims {width}x{height} pixels, over the limit of {self.max_page_pixels}",
            )
        if width == 0 or height == 0:
            raise QuarantineError(Reason.DECODE_ERROR, f"{label} has no pixels ({width}x{height})")

    def _pillow_page(self, index: int) -> Page | None:
        """The page as Pillow decodes it; None for a TIFF page Pillow would not read exactly."""
        image = self.image
        image.seek(index)
        self._check_size(f"page {index + 1}", *image.size)
        where = self._where(index)
        if isinstance(image, TiffImagePlugin.TiffImageFile):
            if _tiff_page_is_truncated(image, len(self.data)):
                raise QuarantineError(Reason.TRUNCATED_IMAGE, f"{where}: its strips run past the end of the file")
            if not pillow_reads_exactly(image.mode, image.tag_v2):  # Pillow would reduce or misread it
                return None
            fax = self._fax_page(index, image, where)
            if fax is not None:
                return fax
        orientation = _orientation(image)  # before load(): Pillow applies and deletes TIFF's tag as it loads
        with libtiff_errors() as reported:
            try:
                image.load()
            except OSError:
                if not reported or self.format != "TIFF":
                    raise  # what libtiff said, when it said anything, names the damage better than Pillow's code
        if self.format == "TIFF":
            judge_by_libtiff(self.data, index, image.tag_v2.get(259), where, reported)
        compression = image.info.get("compression") if self.format == "TIFF" else self.format.lower()
        return Page(
            index + 1,
            image,
            _dpi(image),
            compression,
            image.info.get("icc_profile"),
            orientation,
            orientation_applied=self.format == "TIFF",
        )

    def _fax_page(self, index: int, image: TiffImagePlugin.TiffImageFile, where: str) -> Page | None:
        """An upright bilevel fax page decoded once, by libtiff alone (fax_page.py); None for any other page."""
        pixels = read_upright_fax(self.data, index, image, where)
        if pixels is None:
            return None
        dpi, compression, icc = _dpi(image), image.info.get("compression"), image.info.get("icc_profile")
        return Page(index + 1, None, dpi, compression, icc, _orientation(image), True, bilevel=pixels)

    def _array_page(self, index: int) -> Page:
        """The page read by tifffile: as a Pillow image where one holds it exactly, else as its samples."""
        if self.arrays is None:
            self.arrays = TiffArrays(self.data)
        where, (width, height, compression) = self.arrays.where(index), self.arrays.header(index)
        self._check_size(where, width, height)
        page = self.arrays.page(index)
        if compression in FAX_COMPRESSIONS:  # tifffile's fax decoder pads a short strip silently
            judge_by_libtiff(self.data, index, compression, where, [])
        image = as_pillow(page)
        return Page(
            index + 1,
            image if image is not None else preview(page),
            page.dpi,
            page.compression,
            page.icc_profile,
            page.orientation,
            orientation_applied=True,
            decoder="tifffile",
            deep=None if image is not None else page,
        )
