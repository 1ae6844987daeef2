"""Which rows of a fax page libtiff really decoded: a cut-off Group 3/4 strip is found, not decoded around.

libtiff's Group 4 decoder stops without a word when a strip's data runs out (its end-of-data path
returns success), and leaves the rest of the strip's buffer as it found it. Pillow's buffer is not
cleared, so a page cut at 40 % came back as its top 40 % over noise, was "verified" against that same
decode and migrated. Here the page's strips are decoded again, by the same libtiff (Pillow's, through
ctypes), into buffers we fill first with a pattern no scan contains (alternate pixels, the whole row):
a row still holding the pattern was never written. Decoders write rows in order and stop, so only a
strip's last row needs looking at; it is confirmed with a second, inverted pattern before a page is
refused. One extra decode per fax page, and no guess: the message names the row where the data ends.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

from transforms.imaging.libtiff_errors import pillow_libtiff

#: TIFF Compression values whose libtiff decoders stop silently at the end of the data (CCITT RLE, T.4, T.6).
FAX_COMPRESSIONS = frozenset({2, 3, 4, 32771})
_PATTERNS = (0x55, 0xAA)
_TAG_IMAGELENGTH = 257
_TAG_ROWSPERSTRIP = 278

_READ = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ssize_t)
_SEEK = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int)
_CLOSE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
_SIZE = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p)
_MAP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_uint64))
_UNMAP = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64)


@dataclass(frozen=True)
class MissingRows:
    """The first row libtiff never wrote, of a page of `height` rows."""

    first_row: int
    height: int

    def describe(self) -> str:
        share = round(100 * self.first_row / self.height) if self.height else 0
        return f"the compressed data ends at row {self.first_row + 1} of {self.height} (about {share}% of the page)"


class _MemoryTiff:
    """The bytes as a file libtiff can read through TIFFClientOpen, mapped, so strips are never copied."""

    def __init__(self, data: bytes) -> None:
        self.buffer = ctypes.create_string_buffer(data, len(data))
        self.size = len(data)
        self.position = 0
        self.callbacks = (
            _READ(self._read),
            _READ(lambda handle, buffer, size: -1),
            _SEEK(self._seek),
            _CLOSE(lambda handle: 0),
            _SIZE(lambda handle: self.size),
            _MAP(self._map),
            _UNMAP(lambda handle, base, size: None),
        )

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


def _declare(library: ctypes.CDLL) -> None:
    library.TIFFClientOpen.restype = ctypes.c_void_p
    library.TIFFClientOpen.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, _READ, _READ, _SEEK]
    library.TIFFClientOpen.argtypes += [_CLOSE, _SIZE, _MAP, _UNMAP]
    library.TIFFSetDirectory.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    library.TIFFIsTiled.argtypes = [ctypes.c_void_p]
    library.TIFFNumberOfStrips.argtypes = [ctypes.c_void_p]
    library.TIFFNumberOfStrips.restype = ctypes.c_uint32
    library.TIFFScanlineSize.argtypes = [ctypes.c_void_p]
    library.TIFFScanlineSize.restype = ctypes.c_ssize_t
    library.TIFFStripSize.argtypes = [ctypes.c_void_p]
    library.TIFFStripSize.restype = ctypes.c_ssize_t
    library.TIFFReadEncodedStrip.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_ssize_t]
    library.TIFFReadEncodedStrip.restype = ctypes.c_ssize_t
    library.TIFFClose.argtypes = [ctypes.c_void_p]


def _field(library: ctypes.CDLL, tif: int, tag: int) -> int:
    value = ctypes.c_uint32(0)
    library.TIFFGetFieldDefaulted(ctypes.c_void_p(tif), ctypes.c_uint32(tag), ctypes.byref(value))
    return value.value


def _unwritten_from(library: ctypes.CDLL, tif: int, strip: int, rows: int, row_bytes: int) -> int | None:
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


def missing_rows(data: bytes, page_index: int) -> MissingRows | None:
    """Where a fax page's data ends before the page does; None for a whole page, or when libtiff is not at hand."""
    library = pillow_libtiff()
    if library is None:
        return None
    _declare(library)
    source = _MemoryTiff(data)
    tif = library.TIFFClientOpen(b"page", b"r", None, *source.callbacks)
    if not tif:
        return None
    try:
        if not library.TIFFSetDirectory(tif, page_index) or library.TIFFIsTiled(tif):
            return None  # fax pages are stripped; anything else was judged by the decoder already
        height = _field(library, tif, _TAG_IMAGELENGTH)
        per_strip = min(_field(library, tif, _TAG_ROWSPERSTRIP) or height, height)
        row_bytes = library.TIFFScanlineSize(tif)
        if height <= 0 or per_strip <= 0 or row_bytes <= 0:
            return None
        for strip in range(library.TIFFNumberOfStrips(tif)):
            rows = min(per_strip, height - strip * per_strip)
            if rows <= 0:
                break
            first = _unwritten_from(library, tif, strip, rows, row_bytes)
            if first is not None:
                return MissingRows(strip * per_strip + first, height)
        return None
    finally:
        library.TIFFClose(tif)
