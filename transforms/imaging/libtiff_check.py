"""A second read of a TIFF page by libtiff, hearing every warning and seeing which rows it really wrote.

Pillow silences libtiff's warnings while it decodes (libtiff_errors.py), and libtiff reports much damage
only as a warning: a Group 3 line of the wrong length, libjpeg's "Premature end of JPEG file" (a JPEG strip
cut short decodes to grey rows, silently). And libtiff's Group 4 decoder stops without a word when a
strip's data runs out, leaving the rest of the strip's buffer as it found it: a page cut at 40 % came back
as its top 40 % over noise, was "verified" against that same decode and migrated.

So the page is read again by the same libtiff (Pillow's, through ctypes) with error and warning handlers of
its own, per file (TIFFClientOpenExt), so no other thread or library can switch them off. Fax strips are
decoded into buffers filled first with a pattern no scan holds (alternate pixels, a whole row): decoders
write rows in order and stop, so a strip whose last row still holds the pattern, under a second, inverted
pattern too, ends early, and the message names the row where its data ends.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Iterator
from dataclasses import dataclass

from schemas.reasons import QuarantineError, Reason
from transforms.imaging.libtiff_errors import TRUNCATION_REPORTS, is_damage, pillow_libtiff, report_text

#: TIFF Compression values whose libtiff decoders stop silently at the end of the data (CCITT RLE, T.4, T.6).
FAX_COMPRESSIONS = frozenset({2, 3, 4, 32771})
_PATTERNS = (0x55, 0xAA)
_IMAGELENGTH, _ROWSPERSTRIP, _COMPRESSION = 257, 278, 259

_READ = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ssize_t)
_SEEK = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int)
_CLOSE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
_SIZE = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p)
_MAP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_uint64))
_UNMAP = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64)
_POINTER, _TEXT = ctypes.c_void_p, ctypes.c_char_p
_REPORT = ctypes.CFUNCTYPE(ctypes.c_int, _POINTER, _POINTER, _TEXT, _TEXT, _POINTER)  # TIFFErrorHandlerExtR
_SIGNATURES = {
    "TIFFOpenOptionsAlloc": (ctypes.c_void_p, []),
    "TIFFOpenOptionsFree": (None, [ctypes.c_void_p]),
    "TIFFOpenOptionsSetErrorHandlerExtR": (None, [ctypes.c_void_p, _REPORT, ctypes.c_void_p]),
    "TIFFOpenOptionsSetWarningHandlerExtR": (None, [ctypes.c_void_p, _REPORT, ctypes.c_void_p]),
    "TIFFClientOpenExt": (
        ctypes.c_void_p,
        [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, _READ, _READ, _SEEK, _CLOSE, _SIZE, _MAP, _UNMAP]
        + [ctypes.c_void_p],
    ),
    "TIFFSetDirectory": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint32]),
    "TIFFIsTiled": (ctypes.c_int, [ctypes.c_void_p]),
    "TIFFNumberOfStrips": (ctypes.c_uint32, [ctypes.c_void_p]),
    "TIFFNumberOfTiles": (ctypes.c_uint32, [ctypes.c_void_p]),
    "TIFFScanlineSize": (ctypes.c_ssize_t, [ctypes.c_void_p]),
    "TIFFStripSize": (ctypes.c_ssize_t, [ctypes.c_void_p]),
    "TIFFTileSize": (ctypes.c_ssize_t, [ctypes.c_void_p]),
    "TIFFReadEncodedStrip": (ctypes.c_ssize_t, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_ssize_t]),
    "TIFFReadEncodedTile": (ctypes.c_ssize_t, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_ssize_t]),
    "TIFFClose": (None, [ctypes.c_void_p]),
}


@dataclass(frozen=True)
class MissingRows:
    """The first row libtiff never wrote, of a page of `height` rows."""

    first_row: int
    height: int

    def describe(self) -> str:
        share = round(100 * self.first_row / self.height) if self.height else 0
        return f"its data stops after row {self.first_row} of {self.height} (about {share}% of the page)"


@dataclass(frozen=True)
class SecondRead:
    """What libtiff said about the page (errors, and warnings that mean damage), and rows it never wrote."""

    reports: tuple[str, ...]
    missing: MissingRows | None


@dataclass(frozen=True)
class FaxRead:
    """A fax page as libtiff decoded it: the verdict, its rows (packed, first pixel in the high bit, as the file's
    samples: 1 is black in a min-is-white page), and the first strip libtiff refused (None: none)."""

    found: SecondRead
    rows: bytearray
    row_bytes: int
    failed_strip: int | None


class _MemoryTiff:
    """The bytes as a file libtiff reads through TIFFClientOpenExt, mapped, with this read's own handlers."""

    def __init__(self, data: bytes) -> None:
        self.buffer = ctypes.create_string_buffer(data, len(data))
        self.size, self.position = len(data), 0
        self.reports: list[str] = []
        self.procs = (
            _READ(self._read),
            _READ(lambda handle, buffer, size: -1),
            _SEEK(self._seek),
            _CLOSE(lambda handle: 0),
            _SIZE(lambda handle: self.size),
            _MAP(self._map),
            _UNMAP(lambda handle, base, size: None),
        )
        self.handlers = (_REPORT(self._report("error")), _REPORT(self._report("warning")))

    def _read(self, handle: int, buffer: int, size: int) -> int:
        count = max(0, min(size, self.size - self.position))
        ctypes.memmove(buffer, ctypes.addressof(self.buffer) + self.position, count)
        self.position += count
        return count

    def _seek(self, handle: int, offset: int, whence: int) -> int:
        base = {0: 0, 1: self.position, 2: self.size}.get(whence, 0)
        self.position = max(0, base + ctypes.c_int64(offset).value)
        return self.position

    def _map(self, handle: int, base: ctypes.c_void_p, size: ctypes.c_uint64) -> int:
        base[0] = ctypes.addressof(self.buffer)
        size[0] = self.size
        return 1

    def _report(self, kind: str):
        def handler(tif: int, user: int, module: bytes | None, fmt: bytes | None, arguments: int | None) -> int:
            try:
                message = report_text(module, fmt, arguments)
                if is_damage(kind, message):
                    self.reports.append(message)
            except Exception:  # an exception cannot cross back into C; losing one message is the lesser harm
                pass
            return 1  # handled: not passed on to the global handlers

        return handler


def _library() -> ctypes.CDLL | None:
    library = pillow_libtiff()
    if library is None or not hasattr(library, "TIFFClientOpenExt"):
        return None
    for name, (restype, argtypes) in _SIGNATURES.items():
        function = getattr(library, name)
        function.restype, function.argtypes = restype, argtypes
    return library


def _field(library: ctypes.CDLL, tif: int, tag: int, kind: type = ctypes.c_uint32) -> int:
    value = kind(0)
    library.TIFFGetFieldDefaulted(ctypes.c_void_p(tif), ctypes.c_uint32(tag), ctypes.byref(value))
    return value.value


def _first_unwritten(library: ctypes.CDLL, tif: int, strip: int, rows: int, row_bytes: int) -> int | None:
    """The first row of the strip libtiff left untouched under both patterns; None when it wrote them all."""
    decoded = []
    for pattern in _PATTERNS:
        buffer = bytearray([pattern]) * (rows * row_bytes)
        view = (ctypes.c_char * len(buffer)).from_buffer(buffer)
        library.TIFFReadEncodedStrip(tif, strip, view, len(buffer))
        del view
        if buffer[-row_bytes:] != bytes([pattern]) * row_bytes:
            return None  # the last row was written, so every row was
        decoded.append(buffer)
    first = rows
    while first > 0 and all(
        buffer[(first - 1) * row_bytes : first * row_bytes] == bytes([pattern]) * row_bytes
        for buffer, pattern in zip(decoded, _PATTERNS, strict=True)
    ):
        first -= 1
    return first


def _read_page(library: ctypes.CDLL, tif: int) -> MissingRows | None:
    """Decode every strip or tile; for fax strips, also find where the data ends."""
    if library.TIFFIsTiled(tif):
        buffer = bytearray(max(1, library.TIFFTileSize(tif)))
        view = (ctypes.c_char * len(buffer)).from_buffer(buffer)
        for tile in range(library.TIFFNumberOfTiles(tif)):
            library.TIFFReadEncodedTile(tif, tile, view, len(buffer))
        return None
    height = _field(library, tif, _IMAGELENGTH)
    per_strip = min(_field(library, tif, _ROWSPERSTRIP) or height, height) or 1
    row_bytes = library.TIFFScanlineSize(tif)
    fax = _field(library, tif, _COMPRESSION, ctypes.c_uint16) in FAX_COMPRESSIONS
    buffer = bytearray(max(1, library.TIFFStripSize(tif)))
    view = (ctypes.c_char * len(buffer)).from_buffer(buffer)
    for strip in range(library.TIFFNumberOfStrips(tif)):
        rows = min(per_strip, height - strip * per_strip)  # fax pages have one sample, so one plane
        if fax and rows > 0 and row_bytes > 0:
            first = _first_unwritten(library, tif, strip, rows, row_bytes)
            if first is not None:
                return MissingRows(strip * per_strip + first, height)
        else:
            library.TIFFReadEncodedStrip(tif, strip, view, len(buffer))
    return None


@contextlib.contextmanager
def _opened(data: bytes) -> Iterator[tuple[ctypes.CDLL, _MemoryTiff, int] | None]:
    """libtiff's handle on DATA, every report heard, closed on leaving; None where libtiff is absent or refuses it."""
    library = _library()
    if library is None:
        yield None
        return
    source = _MemoryTiff(data)
    options = library.TIFFOpenOptionsAlloc()
    library.TIFFOpenOptionsSetErrorHandlerExtR(options, source.handlers[0], None)
    library.TIFFOpenOptionsSetWarningHandlerExtR(options, source.handlers[1], None)
    tif = library.TIFFClientOpenExt(b"page", b"r", None, *source.procs, options)
    library.TIFFOpenOptionsFree(options)
    if not tif:
        yield None
        return
    try:
        yield library, source, tif
    finally:
        library.TIFFClose(tif)


def second_read(data: bytes, page_index: int) -> SecondRead | None:
    """libtiff's own read of page page_index+1; None where libtiff is not at hand or cannot open the page."""
    with _opened(data) as opened:
        if opened is None:
            return None
        library, source, tif = opened
        if not library.TIFFSetDirectory(tif, page_index):
            return None
        source.reports.clear()  # what the directory said is about tags, not pixels: only the decode counts
        missing = _read_page(library, tif)  # first: the reports its decode makes count
        return SecondRead(tuple(source.reports), missing)


def read_fax_page(data: bytes, page_index: int) -> FaxRead | None:
    """Page page_index+1 of a fax-compressed, single-sample TIFF decoded once by libtiff, with every report heard and
    the rows it never wrote found: the one decode a bilevel page gets. None where libtiff is not at hand, cannot open
    the page, or it is not a striped single-sample page."""
    with _opened(data) as opened:
        if opened is None:
            return None
        library, source, tif = opened
        if not library.TIFFSetDirectory(tif, page_index) or library.TIFFIsTiled(tif):
            return None
        if _field(library, tif, _COMPRESSION, ctypes.c_uint16) not in FAX_COMPRESSIONS:
            return None
        source.reports.clear()  # what the directory said is about tags, not pixels: only the decode counts
        height = _field(library, tif, _IMAGELENGTH)
        per_strip = min(_field(library, tif, _ROWSPERSTRIP) or height, height) or 1
        row_bytes = library.TIFFScanlineSize(tif)
        if row_bytes <= 0 or height <= 0:
            return None
        rows = bytearray([_PATTERNS[0]]) * (height * row_bytes)
        missing, failed = _decode_strips(library, tif, rows, height, per_strip, row_bytes)
        return FaxRead(SecondRead(tuple(source.reports), missing), rows, row_bytes, failed)


def _decode_strips(
    library: ctypes.CDLL, tif: int, rows: bytearray, height: int, per_strip: int, row_bytes: int
) -> tuple[MissingRows | None, int | None]:
    """Every strip decoded into its place in ROWS (pre-filled with the first pattern); a strip whose last row still
    holds it is decoded again under both patterns (_first_unwritten) to find the row where its data ends."""
    view = (ctypes.c_char * len(rows)).from_buffer(rows)
    base, untouched, failed = ctypes.addressof(view), bytes([_PATTERNS[0]]) * row_bytes, None
    try:
        for strip in range(library.TIFFNumberOfStrips(tif)):
            first_row = strip * per_strip
            count = min(per_strip, height - first_row)
            if count <= 0:
                break
            start, size = first_row * row_bytes, count * row_bytes
            if library.TIFFReadEncodedStrip(tif, strip, base + start, size) < 0 and failed is None:
                failed = strip
            if rows[start + size - row_bytes : start + size] == untouched:
                first = _first_unwritten(library, tif, strip, count, row_bytes)
                if first is not None:
                    return MissingRows(first_row + first, height), failed
    finally:
        del view
    return None, failed


def judge_by_libtiff(data: bytes, index: int, compression: object, where: str, reported: list[str]) -> None:
    """QuarantineError for a damaged page, judged by what libtiff said while Pillow decoded it (errors only) and
    by its own second read: every warning, and for a fax page the rows it never wrote. Uncompressed pages are
    checked by their structure alone: there is no code stream to go wrong."""
    judge(second_read(data, index) if compression not in (None, 1) else None, where, reported)


def judge(found: SecondRead | None, where: str, reported: list[str] = ()) -> None:
    """QuarantineError when libtiff reported damage (errors, damage warnings) or left rows unwritten."""
    reports = [*reported, *(found.reports if found is not None else ())]
    missing = found.missing.describe() if found is not None and found.missing is not None else None
    if reports:  # corrupt, unless what libtiff said is that the data ran out
        truncated = any(hint in reports[0] for hint in TRUNCATION_REPORTS)
        detail = f"libtiff reported {reports[0]}" + (f"; {missing}" if missing else "")
        raise QuarantineError(Reason.TRUNCATED_IMAGE if truncated else Reason.DECODE_ERROR, f"{where}: {detail}")
    if missing:  # rows never written, and not a word from libtiff: the data ends early
        raise QuarantineError(Reason.TRUNCATED_IMAGE, f"{where}: {missing}")
