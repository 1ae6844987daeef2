"""Walks of a TIFF's structure, for two jobs Pillow does not do.

- Truncation: Pillow (like libtiff) treats an IFD link past the end of the file as
  the end of the chain, so a cut-off multi-page TIFF opens as a shorter, valid-looking
  document. ifd_chain_is_truncated() insists every link lands inside the bytes.
- Determinism: libtiff leaves alignment padding uninitialised, so the same page can
  encode to different bytes in different processes, which would defeat content
  addressing. zero_unreferenced_tiff_bytes() zeroes exactly those bytes.
"""

from __future__ import annotations

import re
import struct

_MAX_IFDS = 100_000
#: Real IFDs hold tens of entries; a count in the thousands is garbage, not a cut-off file.
_MAX_PLAUSIBLE_ENTRIES = 4096


def ifd_chain_is_truncated(data: bytes) -> bool:
    """True when a plausible IFD, or a link to one, lies outside the data."""
    if len(data) < 8:
        return True
    order = "<" if data[:2] == b"II" else ">"
    version = struct.unpack_from(order + "H", data, 2)[0]
    big = version == 43
    if big:
        if len(data) < 16:
            return True
        offset = struct.unpack_from(order + "Q", data, 8)[0]
        count_format, count_size, entry_size, link_format, link_size = "Q", 8, 20, "Q", 8
    else:
        offset = struct.unpack_from(order + "I", data, 4)[0]
        count_format, count_size, entry_size, link_format, link_size = "H", 2, 12, "I", 4
    seen: set[int] = set()
    while offset and offset not in seen and len(seen) < _MAX_IFDS:
        seen.add(offset)
        if offset + count_size > len(data):
            return True
        entries = struct.unpack_from(order + count_format, data, offset)[0]
        if entries > _MAX_PLAUSIBLE_ENTRIES:
            return False  # corrupt, not truncated: left to the decoder to reject
        link_at = offset + count_size + entries * entry_size
        if link_at + link_size > len(data):
            return True
        offset = struct.unpack_from(order + link_format, data, link_at)[0]
    return False


_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
_DATA_TAGS = ((273, 279), (324, 325))  # (StripOffsets, StripByteCounts), (TileOffsets, TileByteCounts)


def zero_unreferenced_tiff_bytes(data: bytes) -> bytes:
    """Zero the alignment padding libtiff leaves uninitialised, so the same pages always give the same bytes.

    Only bytes that no header, directory, tag value or strip refers to are touched: the pixels cannot change.
    """
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        return data  # BigTIFF and others: left as written
    used = bytearray(len(data))
    used[:8] = b"\x01" * 8
    endian = "<" if data[:2] == b"II" else ">"
    offset, seen = struct.unpack(endian + "I", data[4:8])[0], set()
    while 0 < offset < len(data) and offset not in seen:
        seen.add(offset)
        offset = _mark_ifd(data, offset, endian, used)
    cleaned = bytearray(data)
    for gap in re.finditer(b"\x00+", used):
        cleaned[gap.start() : gap.end()] = bytes(gap.end() - gap.start())
    return bytes(cleaned)


def _mark_ifd(data: bytes, offset: int, endian: str, used: bytearray) -> int:
    """Mark one directory, its out-of-line values and its strips as used; return the next directory's offset."""
    (count,) = struct.unpack(endian + "H", data[offset : offset + 2])
    end = offset + 2 + 12 * count + 4
    used[offset:end] = b"\x01" * len(used[offset:end])
    values: dict[int, tuple[int, ...]] = {}
    for entry in range(offset + 2, offset + 2 + 12 * count, 12):
        tag, kind, number = struct.unpack(endian + "HHI", data[entry : entry + 8])
        size = _TIFF_TYPE_SIZES.get(kind, 1) * number
        start = entry + 8 if size <= 4 else struct.unpack(endian + "I", data[entry + 8 : entry + 12])[0]
        used[start : start + size] = b"\x01" * len(used[start : start + size])
        if kind in (3, 4):
            code = endian + ("H" if kind == 3 else "I") * number
            values[tag] = struct.unpack(code, data[start : start + size]) if start + size <= len(data) else ()
    for offsets_tag, counts_tag in _DATA_TAGS:
        for start, length in zip(values.get(offsets_tag, ()), values.get(counts_tag, ()), strict=False):
            used[start : start + length] = b"\x01" * len(used[start : start + length])
    return struct.unpack(endian + "I", data[end - 4 : end])[0] if end <= len(data) else 0


#: Compressions every TIFF archive is full of, whose libtiff decoders are the most exercised.
COMMON_COMPRESSIONS = frozenset({1, 2, 3, 4, 5, 7, 8, 32773, 32946})


def first_page_compression(data: bytes) -> int | None:
    """The Compression tag (259) of the first IFD of a classic TIFF, read without decoding anything."""
    if len(data) < 8 or data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    order = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack_from(order + "I", data, 4)[0]
    if offset + 2 > len(data):
        return None
    entries = struct.unpack_from(order + "H", data, offset)[0]
    for index in range(min(entries, 4096)):
        at = offset + 2 + index * 12
        if at + 12 > len(data):
            return None
        tag, kind = struct.unpack_from(order + "HH", data, at)
        if tag == 259:
            return struct.unpack_from(order + ("H" if kind == 3 else "I"), data, at + 8)[0]
    return 1  # no tag: uncompressed, by the TIFF specification
