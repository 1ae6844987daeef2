"""Hand-built TIFFs and damaged copies of real ones, for what no writer here produces.

- tiff(): a little-endian classic TIFF from a list of tags and one strip, for variants neither Pillow nor
  tifffile writes (old-style JPEG, chroma-subsampled uncompressed YCbCr, JBIG or LogLuv headers, tags out
  of order).
- cut_strip() / flip_bits(): a real file with one page's strip data ended early (its byte count shortened,
  the rest of the file intact, as when a legacy system stored a short write) or with bits flipped, for the
  damage tests and benchmarks/damage.py.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

_TYPES = {"B": (1, "B"), "A": (2, "s"), "H": (3, "H"), "I": (4, "I"), "R": (5, "II")}
#: Stands for the offset at which tiff() places its strip.
STRIP = "STRIP"

Entry = tuple[int, str, Sequence]


def _packed(kind: str, values: Sequence, strip_at: int) -> tuple[bytes, int]:
    if kind == "A":
        text = str(values[0]).encode("ascii") + b"\0"
        return text, len(text)
    code, fmt = _TYPES[kind]
    values = [strip_at if value == STRIP else value for value in values]
    if kind == "R":
        return b"".join(struct.pack("<II", *value) for value in values), len(values)
    return b"".join(struct.pack("<" + fmt, value) for value in values), len(values)


def tiff(entries: Sequence[Entry], strip: bytes, *, keep_order: bool = False) -> bytes:
    """One page: the tags given (sorted, unless keep_order), out-of-line values after the directory, then the strip."""
    entries = list(entries) if keep_order else sorted(entries, key=lambda entry: entry[0])
    directory_at = 8
    values_at = directory_at + 2 + 12 * len(entries) + 4
    values_size = sum(len(p) for p, _ in (_packed(k, v, 0) for _, k, v in entries) if len(p) > 4)
    strip_at = values_at + values_size + values_size % 2
    directory, values = bytearray(struct.pack("<H", len(entries))), bytearray()
    for tag, kind, raw in entries:
        packed, count = _packed(kind, raw, strip_at)
        if len(packed) <= 4:
            directory += struct.pack("<HHI", tag, _TYPES[kind][0], count) + packed.ljust(4, b"\0")
        else:
            directory += struct.pack("<HHII", tag, _TYPES[kind][0], count, values_at + len(values))
            values += packed
    directory += b"\0\0\0\0"
    head = b"II*\x00" + struct.pack("<I", directory_at) + bytes(directory) + bytes(values)
    return head.ljust(strip_at, b"\0") + strip


def _directories(data: bytes) -> list[int]:
    order = "<" if data[:2] == b"II" else ">"
    offsets, offset = [], struct.unpack_from(order + "I", data, 4)[0]
    while offset and offset not in offsets and offset + 2 <= len(data):
        offsets.append(offset)
        entries = struct.unpack_from(order + "H", data, offset)[0]
        offset = struct.unpack_from(order + "I", data, offset + 2 + entries * 12)[0]
    return offsets


def strips(data: bytes, page: int = 1) -> list[tuple[int, int]]:
    """(offset, byte count) of each strip of a classic TIFF's page (1-based), from its tags 273 and 279."""
    order = "<" if data[:2] == b"II" else ">"
    directory = _directories(data)[page - 1]
    found: dict[int, list[int]] = {}
    for entry in range(struct.unpack_from(order + "H", data, directory)[0]):
        at = directory + 2 + entry * 12
        tag, kind, count = struct.unpack_from(order + "HHI", data, at)
        if tag in (273, 279):
            size = 2 if kind == 3 else 4
            where = at + 8 if count * size <= 4 else struct.unpack_from(order + "I", data, at + 8)[0]
            found[tag] = [
                struct.unpack_from(order + ("H" if kind == 3 else "I"), data, where + i * size)[0] for i in range(count)
            ]
    return list(zip(found[273], found[279], strict=True))


def _set_count(data: bytearray, page: int, strip: int, count: int) -> None:
    order = "<" if data[:2] == b"II" else ">"
    directory = _directories(bytes(data))[page - 1]
    for entry in range(struct.unpack_from(order + "H", data, directory)[0]):
        at = directory + 2 + entry * 12
        tag, kind, number = struct.unpack_from(order + "HHI", data, at)
        if tag == 279:
            size = 2 if kind == 3 else 4
            where = at + 8 if number * size <= 4 else struct.unpack_from(order + "I", data, at + 8)[0]
            struct.pack_into(order + ("H" if kind == 3 else "I"), data, where + strip * size, count)


def set_tag(data: bytes, tag: int, value: int, *, page: int = 1) -> bytes:
    """The file with one single-valued SHORT or LONG tag replaced in place (a fax page relabelled min-is-white, a
    page claiming more rows than its data holds)."""
    changed = bytearray(data)
    order = "<" if data[:2] == b"II" else ">"
    directory = _directories(data)[page - 1]
    for entry in range(struct.unpack_from(order + "H", data, directory)[0]):
        at = directory + 2 + entry * 12
        found, kind, count = struct.unpack_from(order + "HHI", data, at)
        if found == tag and kind in (3, 4) and count == 1:
            struct.pack_into(order + ("H" if kind == 3 else "I"), changed, at + 8, value)
    return bytes(changed)


def cut_strip(data: bytes, fraction: float, *, page: int = 1, strip: int = 0) -> bytes:
    """The file with one strip's byte count cut to `fraction` of it: the data ends early, the file is whole."""
    damaged = bytearray(data)
    _, count = strips(data, page)[strip]
    _set_count(damaged, page, strip, max(1, int(count * fraction)))
    return bytes(damaged)


def flip_bits(data: bytes, positions: Sequence[float], *, page: int = 1, strip: int = 0, mask: int = 0x10) -> bytes:
    """The file with one bit flipped at each fraction of one strip's data."""
    damaged = bytearray(data)
    offset, count = strips(data, page)[strip]
    for position in positions:
        damaged[offset + min(count - 1, int(count * position))] ^= mask
    return bytes(damaged)
