"""A walk of a GIF's blocks, for the truncation Pillow does not see.

Pillow counts a GIF's frames by reading on until the data runs out, so a GIF cut off between
two frames opens as a shorter, valid-looking animation: its first frames would be migrated as
the whole document. Every complete GIF ends with its trailer (0x3B) after the last block.
"""

from __future__ import annotations

_TRAILER, _EXTENSION, _IMAGE = 0x3B, 0x21, 0x2C


def _colour_table_bytes(flags: int) -> int:
    return 3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0


def gif_is_truncated(data: bytes) -> bool:
    """True when the data ends before the trailer; a block that is not one GIF knows is left to the decoder."""
    if len(data) < 13:
        return True
    position = 13 + _colour_table_bytes(data[10])
    while True:  # every step moves forward by at least one byte, so the walk ends
        if position >= len(data):
            return True
        block = data[position]
        if block == _TRAILER:
            return False
        if block == _EXTENSION:
            position += 2  # introducer and label
        elif block == _IMAGE:
            if position + 10 > len(data):
                return True
            position += 10 + _colour_table_bytes(data[position + 9]) + 1  # descriptor, table, LZW code size
        else:
            return False  # corrupt, not cut off: the decoder rejects it
        while True:  # data sub-blocks, up to the zero-length terminator
            if position >= len(data):
                return True
            size = data[position]
            position += 1 + size
            if size == 0:
                break
