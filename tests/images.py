"""Small real images for unit tests, made with Pillow's own encoders."""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageDraw


def bilevel_page(width: int = 240, height: int = 320, seed: int = 0) -> Image.Image:
    page = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(page)
    for line in range(8):
        y = 20 + line * 30
        draw.rectangle((15, y, 40 + (seed * 37 + line * 53) % (width - 60), y + 8), fill=0)
    draw.text((15, height - 40), f"page {seed}", fill=0)
    return page


def encode(image: Image.Image, format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def multipage_g4(pages: int = 3, dpi: int = 200) -> bytes:
    images = [bilevel_page(seed=i) for i in range(pages)]
    return encode(images[0], "TIFF", compression="group4", dpi=(dpi, dpi), save_all=True, append_images=images[1:])


def without_tag(tiff: bytes, page: int, tag: int) -> bytes:
    """A little-endian TIFF whose page-th IFD (1-based) has lost one tag: renamed to a private, unknown tag id."""
    data = bytearray(tiff)
    offset = struct.unpack_from("<I", data, 4)[0]
    for _ in range(page - 1):
        entries = struct.unpack_from("<H", data, offset)[0]
        offset = struct.unpack_from("<I", data, offset + 2 + entries * 12)[0]
    for entry in range(struct.unpack_from("<H", data, offset)[0]):
        at = offset + 2 + entry * 12
        if struct.unpack_from("<H", data, at)[0] == tag:
            struct.pack_into("<H", data, at, 65000)
    return bytes(data)
