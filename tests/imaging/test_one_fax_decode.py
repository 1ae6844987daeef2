"""A fax page is decoded once, by libtiff: its bits give what Pillow's decode gave, and the copy is proven by structure.

Every expectation here is computed the old way, from Pillow's own decode of the same bytes (pixel_digest,
ink_coverage, perceptual_hash of the page as 8-bit grey), so the one-decode path must agree with it exactly.
"""

from __future__ import annotations

import io
import random
import struct

import numpy as np
import pytest
from PIL import Image

from tests.images import bilevel_page, encode
from tests.imaging.tiff_builder import build, fill_order_2, pages_of
from transforms.imaging import passthrough
from transforms.imaging.bilevel import BilevelPixels
from transforms.imaging.decode import DecodedDocument
from transforms.imaging.encode import PASSTHROUGH, REENCODED
from transforms.imaging.image_job import ImageLimits, convert_document
from transforms.imaging.page_checks import ink_coverage
from transforms.imaging.passthrough import CARRIED_TAGS, copy_page
from transforms.imaging.perceptual import perceptual_hash
from transforms.imaging.pixels import pixel_digest
from transforms.imaging.tiff_copy import same_structure


def pillow_page(data: bytes, index: int = 0) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.seek(index)
    image.load()
    return image


def speckled(width: int, height: int, seed: int) -> Image.Image:
    """A bilevel page with text-like bars and speckle, so every box of the reduced page holds a different count."""
    page = bilevel_page(width, height, seed=seed)
    noise = np.random.default_rng(seed).random((height, width)) < 0.03
    pixels = np.asarray(page.convert("L")) // 255
    return Image.fromarray(((pixels ^ noise) * 255).astype(np.uint8)).convert("1", dither=Image.Dither.NONE)


@pytest.mark.parametrize(
    ("width", "height", "compression", "photometric"),
    [
        (2480, 3508, "group4", None),  # A4 at 300 dpi: reduced by 9, partial boxes at both edges
        (601, 803, "group4", None),  # widths not a multiple of 8: padding bits
        (1100, 517, "group3", None),  # re-encoded as Group 4 from the same bits
        (777, 1029, "group4", 0),  # WhiteIsZero, the fax convention
        (300, 200, "group4", None),  # too small to reduce: hashed whole
        (4200, 4100, "group4", None),  # reduced by 16: boxes of 256 pixels
    ],
)
def test_the_one_decode_gives_what_pillow_gives(width, height, compression, photometric):
    image = speckled(width, height, seed=width)
    info = {262: photometric} if photometric is not None else {}
    data = encode(image, "TIFF", compression=compression, dpi=(300, 300), tiffinfo=info)
    reference = pillow_page(data)
    assert reference.tobytes() == image.tobytes()
    with DecodedDocument(data, max_page_pixels=10**9) as document:
        [page] = list(document.pages())
        assert page.bilevel is not None and page.source is None  # no Pillow image was made
        assert page.bilevel.digest() == pixel_digest(reference)
        assert page.bilevel.ink_coverage() == ink_coverage(reference)
        assert page.bilevel.perceptual_hash() == perceptual_hash(reference.convert("L"))
        assert page.image.tobytes() == reference.tobytes()  # made when asked for
    [converted] = convert_document(data, ImageLimits(), 1).pages
    assert converted.encoded.path == (PASSTHROUGH if compression == "group4" else REENCODED)
    assert pixel_digest(pillow_page(converted.encoded.data)) == pixel_digest(reference)


def test_fill_order_2_many_strips_and_several_pages_decode_as_pillow_decodes_them():
    images = [speckled(640, 480, seed) for seed in range(3)]
    pages = []
    for image in images:
        pages += [fill_order_2(page) for page in pages_of(encode(image, "TIFF", compression="group4", strip_size=900))]
    data = build(pages, order=">")
    converted = convert_document(data, ImageLimits(), 3)
    assert [page.encoded.path for page in converted.pages] == [PASSTHROUGH] * 3
    for index, page in enumerate(converted.pages):
        assert page.encoded.pixel_sha256 == pixel_digest(images[index])
        assert pillow_page(page.encoded.data).tobytes() == images[index].tobytes()


def test_the_reduce_tables_are_pillows_for_random_pages():
    rng = random.Random(4)
    for _ in range(6):
        width, height = rng.randrange(512, 1400), rng.randrange(512, 1400)
        bits = np.random.default_rng(width).random((height, width)) < rng.random()
        image = Image.fromarray((bits * 255).astype(np.uint8)).convert("1", dither=Image.Dither.NONE)
        pixels = BilevelPixels(image.tobytes(), width, height)
        factor = min(width, height) // 256
        assert pixels._reduced(factor).tobytes() == image.convert("L").reduce(factor).tobytes()


def corrupt(copy: bytes, how: str) -> bytes:
    """The copy with one thing changed: a strip byte, a decode tag's value, or a tag added."""
    data = bytearray(copy)
    directory = struct.unpack_from("<I", data, 4)[0]
    entries = {}
    for at in range(directory + 2, directory + 2 + 12 * data[directory], 12):
        entries[struct.unpack_from("<H", data, at)[0]] = at
    if how == "strip byte":
        offset = struct.unpack_from("<I", data, entries[273] + 8)[0]
        data[offset + 5] ^= 0x10
    elif how == "T6Options":
        struct.pack_into("<I", data, entries[293] + 8, 2)  # uncompressed mode allowed: another decode
    elif how == "width":
        struct.pack_into("<H", data, entries[256] + 8, struct.unpack_from("<H", data, entries[256] + 8)[0] - 8)
    elif how == "photometric":
        struct.pack_into("<H", data, entries[262] + 8, 1 - struct.unpack_from("<H", data, entries[262] + 8)[0])
    return bytes(data)


@pytest.mark.parametrize("how", ["strip byte", "T6Options", "width", "photometric"])
def test_a_corrupted_copy_is_caught_by_the_structural_check(how, monkeypatch):
    image = speckled(640, 480, seed=9)
    data = encode(image, "TIFF", compression="group4", dpi=(300, 300), tiffinfo={293: 0})
    copy = copy_page(data, 0, "1")
    assert same_structure(data, 0, copy, CARRIED_TAGS)
    damaged = corrupt(copy, how)
    assert damaged != copy and not same_structure(data, 0, damaged, CARRIED_TAGS)
    # The job never stores such a copy: the page is re-encoded from its own decode instead.
    monkeypatch.setattr(passthrough, "copy_page", lambda *args: damaged)
    [converted] = convert_document(data, ImageLimits(), 1).pages
    assert converted.encoded.path == REENCODED
    assert pillow_page(converted.encoded.data).tobytes() == image.tobytes()


def test_a_turned_page_is_still_decoded_by_pillow_and_stored_upright_or_carried():
    image = speckled(400, 300, seed=2)
    data = encode(image, "TIFF", compression="group4", tiffinfo={274: 6})
    with DecodedDocument(data, max_page_pixels=10**9) as document:
        [page] = list(document.pages())
        assert page.bilevel is None and page.image.size == (300, 400)
