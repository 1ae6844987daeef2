"""Keeping a TIFF page's own compressed data when it is already what the archive would store.

A bilevel page stored as CCITT Group 4 (or a grey/colour page stored as Deflate) is already in the archive's
encoding: decoding and re-encoding it costs most of its CPU and can only give back the same pixels. Here its
strips are copied byte for byte into a new single-page TIFF, with the tags a decoder needs (size, strips,
compression and its options, bits and samples, photometric interpretation, fill order, orientation,
resolution, predictor, ICC profile) and no others, so free-text tags of the legacy file never travel. The
caller keeps the copy only if it decodes to exactly the source page's pixels (transforms/imaging/image_job.py).

The copy is a pure function of the source bytes (little-endian, tags in ascending order, strips then the
directory then its values, every value on a word boundary, no uninitialised byte), so the same page always
gives the same object name.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageChops

from transforms.imaging.decode import Page
from transforms.imaging.encode import DEFLATE_TIFF, GROUP4_TIFF, PASSTHROUGH, EncodedPage
from transforms.imaging.libtiff_errors import libtiff_errors
from transforms.imaging.pixels import pixel_digest

#: Compressions kept as they are, and the pixel modes they are kept for: where they are what encode.py would
#: choose. Group 3 and PackBits bilevel pages are re-encoded (Group 4 is smaller); LZW and JPEG are not kept.
KEPT_COMPRESSIONS: dict[int, frozenset[str]] = {
    4: frozenset({"1"}),  # CCITT Group 4
    8: frozenset({"L", "LA", "RGB", "RGBA"}),  # Adobe Deflate
    32946: frozenset({"L", "LA", "RGB", "RGBA"}),  # Deflate (the old code)
}
_PHOTOMETRICS = frozenset({0, 1, 2})  # WhiteIsZero, BlackIsZero, RGB: no palette, no colour transform

STRIP_OFFSETS, STRIP_BYTE_COUNTS, COMPRESSION, PHOTOMETRIC = 273, 279, 259, 262
_TILE_TAGS = frozenset({322, 323, 324, 325})
#: What a decoder needs to turn the strips back into the same pixels, and what viewers need to show them.
_CARRIED_TAGS = frozenset(
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
_UNIT_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 1, 7: 1, 8: 2, 9: 4, 10: 4, 11: 4, 12: 8, 13: 4, 16: 8}
_COUNT_PER_VALUE = {5: 2, 10: 2}  # RATIONALs are two 4-byte units
_MAX_ENTRIES = 4096
_MAX_PAGES = 100_000


@dataclass(frozen=True)
class _Entry:
    kind: int
    count: int
    raw: bytes  # the value bytes, still in the source's byte order


def _directory(data: bytes, page_index: int) -> tuple[str, dict[int, _Entry]] | None:
    """The entries of the PAGE_INDEX-th directory of a classic TIFF, or None if it cannot be walked."""
    if len(data) < 8 or data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None  # BigTIFF and anything else: re-encoded
    order = "<" if data[:1] == b"I" else ">"
    offset, seen = struct.unpack_from(order + "I", data, 4)[0], set()
    for _ in range(page_index):
        if not 8 <= offset <= len(data) - 2 or offset in seen or len(seen) > _MAX_PAGES:
            return None
        seen.add(offset)
        count = struct.unpack_from(order + "H", data, offset)[0]
        link = offset + 2 + 12 * count
        if link + 4 > len(data):
            return None
        offset = struct.unpack_from(order + "I", data, link)[0]
    if not 8 <= offset <= len(data) - 2:
        return None
    count = struct.unpack_from(order + "H", data, offset)[0]
    if count > _MAX_ENTRIES or offset + 2 + 12 * count > len(data):
        return None
    entries: dict[int, _Entry] = {}
    for at in range(offset + 2, offset + 2 + 12 * count, 12):
        tag, kind, number = struct.unpack_from(order + "HHI", data, at)
        if kind not in _UNIT_SIZES:
            continue
        size = _UNIT_SIZES[kind] * _COUNT_PER_VALUE.get(kind, 1) * number
        start = at + 8 if size <= 4 else struct.unpack_from(order + "I", data, at + 8)[0]
        if start + size > len(data):
            return None
        entries.setdefault(tag, _Entry(kind, number, data[start : start + size]))  # a repeated tag: the first
    return order, entries


def _numbers(entry: _Entry | None, order: str) -> tuple[int, ...]:
    if entry is None or entry.kind not in (1, 3, 4, 16):
        return ()
    code = {1: "B", 3: "H", 4: "I", 16: "Q"}[entry.kind]
    return struct.unpack(f"{order}{entry.count}{code}", entry.raw)


def _little_endian(entry: _Entry, order: str) -> bytes:
    unit = _UNIT_SIZES[entry.kind]
    if order == "<" or unit == 1:
        return entry.raw
    return b"".join(entry.raw[at : at + unit][::-1] for at in range(0, len(entry.raw), unit))


def _even(length: int) -> int:
    return length + (length & 1)


def copy_page(data: bytes, page_index: int, mode: str) -> bytes | None:
    """A single-page TIFF holding page PAGE_INDEX's strips unchanged, or None when the page is not kept so.

    MODE is the page's decoded Pillow mode: a compression is kept only for the modes it is the archive's choice
    for. None also for tiles, a palette, a colour transform, or strips that do not lie inside the data.
    """
    found = _directory(data, page_index)
    if found is None:
        return None
    order, entries = found
    compression = (_numbers(entries.get(COMPRESSION), order) or (1,))[0]
    if mode not in KEPT_COMPRESSIONS.get(compression, frozenset()) or _TILE_TAGS & entries.keys():
        return None
    if (_numbers(entries.get(PHOTOMETRIC), order) or (-1,))[0] not in _PHOTOMETRICS:
        return None
    strips = _strips(data, order, entries)
    return _write(order, entries, strips) if strips else None


def _write(order: str, entries: dict[int, _Entry], strips: list[bytes]) -> bytes:
    """Header, strips, the directory, then its out-of-line values: little-endian, word-aligned, zero-padded."""
    body = bytearray(b"II*\x00\x00\x00\x00\x00")
    new_offsets = []
    for strip in strips:
        new_offsets.append(len(body))
        body += strip + b"\x00" * (len(strip) & 1)
    tags = {tag: entry for tag, entry in entries.items() if tag in _CARRIED_TAGS}
    values = {tag: _little_endian(entry, order) for tag, entry in tags.items()}
    values[STRIP_OFFSETS] = struct.pack(f"<{len(strips)}I", *new_offsets)
    values[STRIP_BYTE_COUNTS] = struct.pack(f"<{len(strips)}I", *(len(strip) for strip in strips))
    kinds = {tag: (entry.kind, entry.count) for tag, entry in tags.items()}
    kinds[STRIP_OFFSETS] = kinds[STRIP_BYTE_COUNTS] = (4, len(strips))
    directory_at = len(body)
    struct.pack_into("<I", body, 4, directory_at)
    extra_at = directory_at + 2 + 12 * len(values) + 4
    directory, extra = bytearray(struct.pack("<H", len(values))), bytearray()
    for tag in sorted(values):
        kind, count = kinds[tag]
        value = values[tag]
        if len(value) <= 4:
            directory += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            directory += struct.pack("<HHII", tag, kind, count, extra_at + len(extra))
            extra += value + b"\x00" * (len(value) & 1)
    directory += b"\x00\x00\x00\x00"  # no next page
    return bytes(body + directory + extra)


def _strips(data: bytes, order: str, entries: dict[int, _Entry]) -> list[bytes] | None:
    offsets = _numbers(entries.get(STRIP_OFFSETS), order)
    counts = _numbers(entries.get(STRIP_BYTE_COUNTS), order)
    if len(offsets) != len(counts) or any(o + c > len(data) for o, c in zip(offsets, counts, strict=True)):
        return None
    return [data[o : o + c] for o, c in zip(offsets, counts, strict=True)]


def same_structure(data: bytes, page_index: int, copy: bytes) -> bool:
    """The copy holds page PAGE_INDEX's strips byte for byte and in order, the same type, count and value of every
    tag it carries, and no tag the source lacks: libtiff reads it exactly as it read the source page."""
    source, kept = _directory(data, page_index), _directory(copy, 0)
    if source is None or kept is None or kept[0] != "<":
        return False
    (order, entries), (_, copied) = source, kept
    carried = {tag for tag in entries if tag in _CARRIED_TAGS}
    if copied.keys() != carried | {STRIP_OFFSETS, STRIP_BYTE_COUNTS}:
        return False
    for tag in carried:
        want, got = entries[tag], copied[tag]
        if (want.kind, want.count, _little_endian(want, order)) != (got.kind, got.count, got.raw):
            return False
    strips = _strips(data, order, entries)
    return strips is not None and strips == _strips(copy, "<", copied)


def keep_bilevel(data: bytes, page: Page, digest: str) -> EncodedPage | None:
    """A fax page decoded once by libtiff (fax_page.py), kept as its own Group 4 strips if the copy is the source
    page's structure exactly (same_structure): the same strip bytes under the same decode tags decode, by the same
    libtiff, to the same pixels, so the copy is not decoded again (docs/formats.md)."""
    pixels = page.bilevel
    copy = copy_page(data, page.number - 1, "1") if pixels is not None else None
    if copy is None or not same_structure(data, page.number - 1, copy):
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
    encoding = GROUP4_TIFF if image.mode == "1" else DEFLATE_TIFF
    return EncodedPage(copy, encoding, digest, image.width, image.height, image.mode, page.dpi, path=PASSTHROUGH)
