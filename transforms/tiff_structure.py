"""A walk of a TIFF's IFD chain, to catch truncation before Pillow quietly reports fewer pages.

Pillow (like libtiff) treats an IFD link that points past the end of the file as the
end of the chain, so a cut-off multi-page TIFF opens as a shorter, valid-looking
document. Here every link must land inside the bytes we have.
"""

from __future__ import annotations

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
