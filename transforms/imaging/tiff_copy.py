"""A TIFF page's directory read as raw entries, and a single-page TIFF written from chosen entries and its data.

What passthrough.py needs to copy a page's compressed strips or tiles into a new file without decoding them: the
entries of one directory (values still in the source's byte order), its strips or tiles as bytes, and a writer
whose output is a pure function of its input (little-endian, tags in ascending order, the data segments then the
directory then its values, every value on a word boundary, no uninitialised byte), so the same page always gives
the same object name. same_structure() proves a copy carries exactly what the source page had.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

STRIP_OFFSETS, STRIP_BYTE_COUNTS, TILE_OFFSETS, TILE_BYTE_COUNTS = 273, 279, 324, 325
COMPRESSION, PHOTOMETRIC = 259, 262
_UNIT_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 1, 7: 1, 8: 2, 9: 4, 10: 4, 11: 4, 12: 8, 13: 4, 16: 8}
_COUNT_PER_VALUE = {5: 2, 10: 2}  # RATIONALs are two 4-byte units
_MAX_ENTRIES = 4096
_MAX_PAGES = 100_000


@dataclass(frozen=True)
class Entry:
    kind: int
    count: int
    raw: bytes  # the value bytes, still in the source's byte order


def directory(data: bytes, page_index: int) -> tuple[str, dict[int, Entry]] | None:
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
    entries: dict[int, Entry] = {}
    for at in range(offset + 2, offset + 2 + 12 * count, 12):
        tag, kind, number = struct.unpack_from(order + "HHI", data, at)
        if kind not in _UNIT_SIZES:
            continue
        size = _UNIT_SIZES[kind] * _COUNT_PER_VALUE.get(kind, 1) * number
        start = at + 8 if size <= 4 else struct.unpack_from(order + "I", data, at + 8)[0]
        if start + size > len(data):
            return None
        entries.setdefault(tag, Entry(kind, number, data[start : start + size]))  # a repeated tag: the first
    return order, entries


def numbers(entry: Entry | None, order: str) -> tuple[int, ...]:
    if entry is None or entry.kind not in (1, 3, 4, 16):
        return ()
    code = {1: "B", 3: "H", 4: "I", 16: "Q"}[entry.kind]
    return struct.unpack(f"{order}{entry.count}{code}", entry.raw)


def first(entries: dict[int, Entry], tag: int, order: str, default: int = -1) -> int:
    return (numbers(entries.get(tag), order) or (default,))[0]


def little_endian(entry: Entry, order: str) -> bytes:
    unit = _UNIT_SIZES[entry.kind]
    if order == "<" or unit == 1:
        return entry.raw
    return b"".join(entry.raw[at : at + unit][::-1] for at in range(0, len(entry.raw), unit))


def segment_tags(entries: dict[int, Entry]) -> tuple[int, int]:
    """(offsets tag, byte counts tag): the tiles' if the page is tiled, else the strips'."""
    return (TILE_OFFSETS, TILE_BYTE_COUNTS) if TILE_OFFSETS in entries else (STRIP_OFFSETS, STRIP_BYTE_COUNTS)


def segments(data: bytes, order: str, entries: dict[int, Entry]) -> list[bytes] | None:
    """The page's strips (or tiles) as bytes, in order; None unless every one lies inside the data."""
    offsets_tag, counts_tag = segment_tags(entries)
    offsets, counts = numbers(entries.get(offsets_tag), order), numbers(entries.get(counts_tag), order)
    if (
        not offsets
        or len(offsets) != len(counts)
        or any(o + c > len(data) for o, c in zip(offsets, counts, strict=True))
    ):
        return None
    return [data[o : o + c] for o, c in zip(offsets, counts, strict=True)]


def write(order: str, entries: dict[int, Entry], carried: frozenset[int], parts: list[bytes]) -> bytes:
    """Header, strips or tiles, the directory (the CARRIED entries and new offsets), then its out-of-line values."""
    body = bytearray(b"II*\x00\x00\x00\x00\x00")
    new_offsets = []
    for part in parts:
        new_offsets.append(len(body))
        body += part + b"\x00" * (len(part) & 1)
    offsets_tag, counts_tag = segment_tags(entries)
    tags = {tag: entry for tag, entry in entries.items() if tag in carried}
    values = {tag: little_endian(entry, order) for tag, entry in tags.items()}
    values[offsets_tag] = struct.pack(f"<{len(parts)}I", *new_offsets)
    values[counts_tag] = struct.pack(f"<{len(parts)}I", *(len(part) for part in parts))
    kinds = {tag: (entry.kind, entry.count) for tag, entry in tags.items()}
    kinds[offsets_tag] = kinds[counts_tag] = (4, len(parts))
    directory_at = len(body)
    struct.pack_into("<I", body, 4, directory_at)
    extra_at = directory_at + 2 + 12 * len(values) + 4
    listing, extra = bytearray(struct.pack("<H", len(values))), bytearray()
    for tag in sorted(values):
        kind, count = kinds[tag]
        value = values[tag]
        if len(value) <= 4:
            listing += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            listing += struct.pack("<HHII", tag, kind, count, extra_at + len(extra))
            extra += value + b"\x00" * (len(value) & 1)
    listing += b"\x00\x00\x00\x00"  # no next page
    return bytes(body + listing + extra)


def same_structure(data: bytes, page_index: int, copy: bytes, carried: frozenset[int]) -> bool:
    """The copy holds page PAGE_INDEX's strips (or tiles) byte for byte and in order, the same type, count and value
    of every CARRIED tag the source has, and no other tag: libtiff reads it exactly as it read the source page."""
    source, kept = directory(data, page_index), directory(copy, 0)
    if source is None or kept is None or kept[0] != "<":
        return False
    (order, entries), (_, copied) = source, kept
    tags = {tag for tag in entries if tag in carried}
    if copied.keys() != tags | set(segment_tags(entries)):
        return False
    for tag in tags:
        want, got = entries[tag], copied[tag]
        if (want.kind, want.count, little_endian(want, order)) != (got.kind, got.count, got.raw):
            return False
    parts = segments(data, order, entries)
    return parts is not None and parts == segments(copy, "<", copied)
