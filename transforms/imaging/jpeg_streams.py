"""A TIFF page's own JPEG data kept as a JPEG file, where that decodes to exactly the page's pixels.

- **JPEG-in-TIFF (compression 7), one strip**: the page's strip is an abbreviated JPEG stream whose tables may sit
  in the JPEGTables tag. JPEGTables (without its end marker) followed by the strip (without its start marker) is a
  whole JPEG file, decoded by the same libjpeg-turbo that libtiff decodes the page with inside Pillow. A JFIF
  header carrying the page's resolution is added to grey and YCbCr pages (JFIF's own colour spaces); never to RGB
  or CMYK data, whose colour transform a JFIF header would change. Kept only if Pillow decodes the file to the
  page's mode, size and every pixel value; else passthrough.py keeps the strips or tiles in a TIFF.
- **Old-style JPEG (compression 6)** whose JPEGInterchangeFormat points at a whole JPEG stream (start of image, a
  frame, a scan and an end marker, inside the file): that stream is the page, as the scanner wrote it; the page's
  pixels are its decode (docs/formats.md).

Upright pages only, with no ICC profile: a JPEG file would drop the TIFF's orientation and profile.
"""

from __future__ import annotations

import io
import struct

from PIL import Image

from transforms.imaging.decode import Page
from transforms.imaging.encode import JPEG_FROM_TIFF, JPEG_STREAM, EncodedPage
from transforms.imaging.pixels import pixel_digest
from transforms.imaging.tiff_copy import COMPRESSION, PHOTOMETRIC, directory, first, segments

_SOI, _EOI, _SOS = b"\xff\xd8", b"\xff\xd9", b"\xff\xda"
_JPEG_TABLES, _INTERCHANGE, _INTERCHANGE_LENGTH, _ORIENTATION, _ICC = 347, 513, 514, 274, 34675
_RESOLUTION_UNIT, _X_RESOLUTION, _Y_RESOLUTION = 296, 282, 283
_JFIF_PHOTOMETRICS = frozenset({1, 6})  # BlackIsZero grey, YCbCr


def _upright_without_profile(entries: dict, order: str) -> bool:
    return first(entries, _ORIENTATION, order, 1) == 1 and _ICC not in entries


def _density(entries: dict, order: str, tag: int) -> int:
    entry = entries.get(tag)
    if entry is None or entry.kind != 5 or entry.count != 1:
        return 0
    top, bottom = struct.unpack(order + "II", entry.raw)
    return round(top / bottom) if bottom else 0


def _jfif_header(entries: dict, order: str) -> bytes:
    """APP0 "JFIF" 1.01 with the page's resolution, if the TIFF gave one in dots per inch or centimetre."""
    unit = {2: 1, 3: 2}.get(first(entries, _RESOLUTION_UNIT, order, 2), 0)
    density = [_density(entries, order, tag) for tag in (_X_RESOLUTION, _Y_RESOLUTION)]
    if not unit or not all(0 < value < 65536 for value in density):
        unit, density = 0, [1, 1]
    return b"\xff\xe0" + struct.pack(">H5sBBBHHBB", 16, b"JFIF\x00", 1, 1, unit, *density, 0, 0)


def jpeg_file_from_strip(data: bytes, page_index: int) -> bytes | None:
    """A JPEG-in-TIFF page's one strip, with its JPEGTables, as a JPEG file; None where the page is not one."""
    found = directory(data, page_index)
    if found is None:
        return None
    order, entries = found
    if first(entries, COMPRESSION, order) != 7 or 324 in entries or not _upright_without_profile(entries, order):
        return None
    strips = segments(data, order, entries)
    if strips is None or len(strips) != 1 or not strips[0].startswith(_SOI):
        return None
    stream = strips[0].rstrip(b"\x00")  # some writers pad a strip to a word
    if not stream.endswith(_EOI):
        return None
    tables = entries[_JPEG_TABLES].raw if _JPEG_TABLES in entries else b""
    if tables:
        if not (tables.startswith(_SOI) and tables.endswith(_EOI)):
            return None
        stream = tables[:-2] + stream[2:]
    if first(entries, PHOTOMETRIC, order) in _JFIF_PHOTOMETRICS:  # the page's JFIF header, the writer's replaced
        body = stream[2:]
        if body[:2] == b"\xff\xe0" and body[4:9] == b"JFIF\x00":
            body = body[2 + struct.unpack(">H", body[2:4])[0] :]
        stream = _SOI + _jfif_header(entries, order) + body
    return stream


def old_style_stream(data: bytes, page_index: int) -> bytes | None:
    """An old-style JPEG page's whole JPEG stream (JPEGInterchangeFormat); None for the tag-table kind, or a stream
    that is not whole inside the file."""
    found = directory(data, page_index)
    if found is None:
        return None
    order, entries = found
    if first(entries, COMPRESSION, order) != 6 or not _upright_without_profile(entries, order):
        return None
    start, length = first(entries, _INTERCHANGE, order, 0), first(entries, _INTERCHANGE_LENGTH, order, 0)
    if not start or length < 4 or start + length > len(data):
        return None
    stream = data[start : start + length].rstrip(b"\x00")
    if not stream.startswith(_SOI) or not stream.endswith(_EOI) or stream.rfind(_SOS) < 0:
        return None
    return stream


def keep_jpeg_file(data: bytes, page: Page, digest: str) -> EncodedPage | None:
    """A JPEG-in-TIFF page's one strip as a JPEG file, if Pillow decodes it to exactly the page's pixels."""
    stream = jpeg_file_from_strip(data, page.number - 1)
    if stream is None:
        return None
    image = page.image
    try:
        with Image.open(io.BytesIO(stream), formats=["JPEG"]) as stored:
            stored.load()
            same = stored.mode == image.mode and stored.size == image.size and pixel_digest(stored) == digest
    except MemoryError:
        raise
    except Exception:  # a file the decoder rejects is not kept; the page keeps its strips in a TIFF instead
        return None
    if not same:
        return None
    return EncodedPage(stream, JPEG_FROM_TIFF, digest, image.width, image.height, image.mode, page.dpi, JPEG_STREAM)
