"""TIFF pages Pillow cannot read, or would reduce, read by tifffile with imagecodecs: strictly, or not at all.

Legacy systems wrote TIFF in every way the standard allows (16-bit colour, float samples, planar and
tiled layouts, CMYK, Lab, YCbCr, deep palettes, extra samples) and Pillow opens only part of it. tifffile
reads nearly all of it, but it is forgiving where an archive must not be: it logs a warning and carries on.
Here every warning while a page's pixels are decoded is that page's DECODE_ERROR, a strip or tile that
runs past the file is TRUNCATED_IMAGE, and a variant neither library reads is IMAGE_VARIANT_UNSUPPORTED,
each with the page number and what the page is (tiff_tags.describe_tags). Warnings about tags alone
(an odd type, an unsorted directory) say nothing about the pixels and do not count.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import tifffile
from PIL.TiffImagePlugin import COMPRESSION_INFO

from schemas.reasons import QuarantineError, Reason
from transforms.imaging.tiff_tags import describe_tags

#: tifffile's reprs ("<tifffile.TiffPage 0 @8>", "<COMPRESSION.JBIG: 34661>"): deterministic, but noise to an operator.
_REPRS = re.compile(r"<(?:tifffile\.)?\w+(?:\.\w+)?[ :][^<>]*>")
_TRUNCATION_HINTS = ("not enough data", "truncated", "premature end", "cannot be reshaped")


def plain(text: str) -> str:
    """One line of a library's message, without object reprs."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return _REPRS.sub("the page", line)[:200]


@dataclass(frozen=True)
class ArrayPage:
    """One page's samples exactly as decoded: (height, width) or (height, width, samples), native byte order."""

    array: np.ndarray
    photometric: int
    extrasamples: tuple[int, ...]
    colormap: np.ndarray | None
    dpi: tuple[float, float] | None
    icc_profile: bytes | None
    orientation: int | None
    compression: str
    description: str


class _Warnings(logging.Handler):
    """tifffile's warnings from this thread only: the in-process runner may decode on several threads."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(plain(record.getMessage()))


@contextmanager
def _tifffile_warnings() -> Iterator[list[str]]:
    handler = _Warnings()
    logger = logging.getLogger("tifffile")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def _dpi(page: tifffile.TiffPage) -> tuple[float, float] | None:
    try:
        x, y = page.get_resolution()
    except Exception:  # a malformed resolution tag costs the dpi, never the page
        return None
    scale = {2: 1.0, 3: 2.54}.get(int(page.resolutionunit or 2))
    if scale is None or not (x > 0 and y > 0):
        return None
    return (round(float(x) * scale, 2), round(float(y) * scale, 2))


#: Orientation 1-8 as numpy operations on (row, column, …): the same transforms Pillow applies to TIFF pages.
_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


def _samples_last(array: np.ndarray, shaped: tuple[int, ...], where: str) -> np.ndarray:
    """tifffile's (planes, depth, rows, columns, samples) as (rows, columns[, samples])."""
    planes, depth, rows, columns, samples = shaped
    if depth != 1:
        raise QuarantineError(Reason.IMAGE_VARIANT_UNSUPPORTED, f"{where}: a volume of {depth} slices, not a page")
    array = array.reshape(shaped)[:, 0]  # (planes, rows, columns, samples)
    array = np.moveaxis(array[..., 0], 0, -1) if planes > 1 else array[0]
    array = array.reshape(rows, columns) if array.shape[-1] == 1 else array
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("="))


class TiffArrays:
    """A TIFF opened by tifffile, whose pages are decoded one at a time and strictly."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        try:
            with _tifffile_warnings():  # tag-level complaints: not about the pixels
                self.file = tifffile.TiffFile(io.BytesIO(data))
                self.page_count = len(self.file.pages)
        except Exception as error:  # a directory neither library can parse: corrupt, not a variant
            raise QuarantineError(Reason.DECODE_ERROR, f"cannot parse TIFF ({plain(str(error))})") from error

    def close(self) -> None:
        self.file.close()

    def tags(self, index: int) -> dict[int, Any]:
        with _tifffile_warnings():
            return {tag.code: tag.value for tag in self.file.pages[index].tags.values()}

    def describe(self, index: int) -> str:
        try:
            return describe_tags(self.tags(index))
        except Exception:  # a page whose directory cannot be read is described by its number alone
            return "unreadable directory"

    def where(self, index: int) -> str:
        return f"page {index + 1} ({self.describe(index)})"

    def _page(self, index: int) -> tifffile.TiffPage:
        try:
            with _tifffile_warnings():
                page = self.file.pages[index]
        except Exception as error:  # a directory tifffile cannot parse: corrupt
            raise QuarantineError(Reason.DECODE_ERROR, f"page {index + 1}: its directory cannot be read") from error
        if not isinstance(page, tifffile.TiffPage):
            raise QuarantineError(Reason.DECODE_ERROR, f"page {index + 1}: its directory cannot be read")
        return page

    def header(self, index: int) -> tuple[int, int, int]:
        """Width, height and compression code of page index+1, as tifffile parsed them, before any pixel."""
        page = self._page(index)
        try:
            return int(page.imagewidth), int(page.imagelength), int(page.compression)
        except (TypeError, ValueError) as error:  # a dimension given as several values, or none
            raise QuarantineError(Reason.DECODE_ERROR, f"page {index + 1}: its directory cannot be read") from error

    def page(self, index: int) -> ArrayPage:
        """Page index+1's samples; QuarantineError with the page number and what the page is, on any doubt."""
        try:
            return self._read(index)
        except (QuarantineError, MemoryError):
            raise  # MemoryError: the worker reports it as DECOMPRESSION_BOMB with its memory limit
        except Exception as error:  # a tag tifffile parsed into something no page has: corrupt, never a crash
            text = plain(f"{type(error).__name__}: {error}")
            raise QuarantineError(Reason.DECODE_ERROR, f"{self.where(index)}: cannot decode ({text})") from error

    def _read(self, index: int) -> ArrayPage:
        what = self.describe(index)
        where = f"page {index + 1} ({what})"
        page = self._page(index)
        for segment, (offset, count) in enumerate(zip(page.dataoffsets, page.databytecounts, strict=False)):
            if count and offset + count > len(self.data):
                kind = "tile" if page.is_tiled else "strip"
                raise QuarantineError(
                    Reason.TRUNCATED_IMAGE, f"{where}: {kind} {segment} runs past the end of the file"
                )
        self._check_supported(page, where)
        try:
            with _tifffile_warnings() as warned:
                array = page.asarray(maxworkers=1)
        except QuarantineError:
            raise
        except MemoryError:
            raise  # the worker reports it as DECOMPRESSION_BOMB with its memory limit
        except NotImplementedError as error:
            raise QuarantineError(Reason.IMAGE_VARIANT_UNSUPPORTED, f"{where}: {plain(str(error))}") from error
        except Exception as error:  # a codec's error on bad bytes is this page's reason
            text = plain(f"{type(error).__name__}: {error}")
            if any(hint in text.lower() for hint in _TRUNCATION_HINTS):
                raise QuarantineError(Reason.TRUNCATED_IMAGE, f"{where}: image data ends early ({text})") from error
            raise QuarantineError(Reason.DECODE_ERROR, f"{where}: cannot decode ({text})") from error
        if warned:
            raise QuarantineError(Reason.DECODE_ERROR, f"{where}: the decoder reported {warned[0]}")
        value = page.tags.valueof(274)
        orientation = int(value) if isinstance(value, int) and int(value) in range(1, 9) else None
        array = _samples_last(array, page.shaped, where)
        if orientation in _UPRIGHT:  # stored upright, as Pillow stores every TIFF page
            array = np.ascontiguousarray(_UPRIGHT[orientation](array))
        return ArrayPage(
            array=array,
            photometric=int(page.photometric),
            extrasamples=tuple(int(sample) for sample in page.extrasamples),
            colormap=page.colormap,
            dpi=_dpi(page),
            icc_profile=page.iccprofile,
            orientation=orientation,
            compression=COMPRESSION_INFO.get(int(page.compression), f"compression {int(page.compression)}"),
            description=what,
        )

    @staticmethod
    def _check_supported(page: tifffile.TiffPage, where: str) -> None:
        if int(page.compression) != 1 and int(page.compression) not in tifffile.TIFF.DECOMPRESSORS:
            raise QuarantineError(Reason.IMAGE_VARIANT_UNSUPPORTED, f"{where}: no decoder here reads this compression")
        if page.dtype is None:
            raise QuarantineError(Reason.IMAGE_VARIANT_UNSUPPORTED, f"{where}: no decoder here reads these samples")
        if page.is_subsampled and int(page.compression) not in (6, 7):
            raise QuarantineError(
                Reason.IMAGE_VARIANT_UNSUPPORTED, f"{where}: chroma-subsampled YCbCr without JPEG is not read exactly"
            )
