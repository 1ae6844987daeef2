"""Small real images for unit tests, made with Pillow's own encoders."""

from __future__ import annotations

import io

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
