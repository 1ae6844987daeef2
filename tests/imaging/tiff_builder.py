"""Hand-built TIFFs, laid out the ways legacy writers did: either byte order, tags in any order, strips anywhere,
bits in either fill order. The strips themselves come from real encoders (Pillow's libtiff), taken apart here."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image

REVERSED_BITS = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))
_FORMATS = {1: "B", 2: "s", 3: "H", 4: "I", 5: "I", 7: "B"}


@dataclass
class Page:
    """One page's directory entries {tag: (type, values)} and its strips, before layout."""

    entries: dict[int, tuple[int, tuple]]
    strips: list[bytes]


def pages_of(tiff: bytes) -> list[Page]:
    """The pages of a TIFF Pillow can read, as entries and strips (StripOffsets to be laid out again)."""
    result = []
    with Image.open(io.BytesIO(tiff)) as image:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            tags = image.tag_v2
            entries = {}
            for tag in tags:
                if tag in (273, 279):
                    continue
                kind = image.tag_v2.tagtype[tag]
                value = tags[tag]
                values = value if isinstance(value, tuple) else (value,)
                if kind == 5:  # rationals become numerator, denominator pairs
                    values = tuple(part for v in values for part in (v.numerator, v.denominator))
                entries[tag] = (kind, values)
            offsets, counts = tags[273], tags[279]
            offsets = offsets if isinstance(offsets, tuple) else (offsets,)
            counts = counts if isinstance(counts, tuple) else (counts,)
            strips = [tiff[offset : offset + count] for offset, count in zip(offsets, counts, strict=True)]
            result.append(Page(entries, strips))
    return result


def build(pages: list[Page], *, order: str = "<", tag_order: str = "ascending", offsets_type: int = 4) -> bytes:
    """Lay PAGES out as one TIFF: strips first, then each directory and its values; tags in the order asked
    ("ascending", "descending" or "rotated", the last two out of the TIFF specification's order)."""
    magic = b"II*\x00" if order == "<" else b"MM\x00*"
    body = bytearray(magic + b"\x00\x00\x00\x00")
    link_at = 4
    for page in pages:
        offsets = []
        for strip in page.strips:
            offsets.append(len(body))
            body += strip + b"\x00" * (len(strip) & 1)
        entries = dict(page.entries)
        entries[273] = (offsets_type, tuple(offsets))
        entries[279] = (4, tuple(len(strip) for strip in page.strips))
        tags = sorted(entries)
        if tag_order == "descending":
            tags.reverse()
        elif tag_order == "rotated":
            tags = tags[len(tags) // 2 :] + tags[: len(tags) // 2]
        directory_at = len(body) + (len(body) & 1)
        body += b"\x00" * (directory_at - len(body))
        struct.pack_into(order + "I", body, link_at, directory_at)
        extra_at = directory_at + 2 + 12 * len(tags) + 4
        directory, extra = bytearray(struct.pack(order + "H", len(tags))), bytearray()
        for tag in tags:
            kind, values = entries[tag]
            if kind == 2:
                packed = values[0].encode() + b"\x00" if isinstance(values[0], str) else bytes(values[0])
                count = len(packed)
            elif kind == 7:
                packed = bytes(values[0]) if isinstance(values[0], bytes | bytearray) else bytes(values)
                count = len(packed)
            else:
                packed = struct.pack(f"{order}{len(values)}{_FORMATS[kind]}", *values)
                count = len(values) // (2 if kind == 5 else 1)
            if len(packed) <= 4:
                directory += struct.pack(order + "HHI", tag, kind, count) + packed.ljust(4, b"\x00")
            else:
                directory += struct.pack(order + "HHII", tag, kind, count, extra_at + len(extra))
                extra += packed + b"\x00" * (len(packed) & 1)
        link_at = directory_at + 2 + 12 * len(tags)
        body += directory + b"\x00\x00\x00\x00" + extra
    return bytes(body)


def fill_order_2(page: Page) -> Page:
    """The same page written least-significant bit first, as fax-derived archives often were."""
    entries = dict(page.entries)
    entries[266] = (3, (2,))
    return Page(entries, [strip.translate(REVERSED_BITS) for strip in page.strips])
