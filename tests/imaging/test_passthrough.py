"""Pages kept by copying their compressed strips: each copy decodes to exactly the source page's pixels.

Sources are laid out the ways legacy writers did (tests/imaging/tiff_builder.py): fill order 2, many strips,
tags out of order, big-endian, SHORT strip offsets, WhiteIsZero, an orientation, several pages. The strips come
from real libtiff encodes, and every check decodes with the real decoders.
"""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from tests.images import bilevel_page, encode
from tests.imaging.tiff_builder import Page, build, fill_order_2, pages_of
from transforms.imaging import passthrough
from transforms.imaging.decode import DecodedDocument
from transforms.imaging.encode import ORIGINAL, PASSTHROUGH, REENCODED
from transforms.imaging.image_job import ImageLimits, convert_document
from transforms.imaging.passthrough import copy_page
from transforms.imaging.pixels import pixel_digest


def g4_pages(count: int = 3, *, width: int = 600, height: int = 800, strip_size: int = 2000) -> list[Page]:
    """COUNT real Group 4 pages, each cut into many strips."""
    images = [bilevel_page(width, height, seed=seed) for seed in range(count)]
    data = encode(images[0], "TIFF", compression="group4", dpi=(300, 300), strip_size=strip_size)
    pages = pages_of(data)
    for image in images[1:]:
        pages += pages_of(encode(image, "TIFF", compression="group4", dpi=(300, 300), strip_size=strip_size))
    return pages


def source_pixels(data: bytes, index: int) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.seek(index)
    image.load()
    return image


def assert_every_page_kept_exactly(data: bytes, pages: int) -> None:
    converted = convert_document(data, ImageLimits(), pages)
    assert [page.encoded.path for page in converted.pages] == [PASSTHROUGH] * pages
    for index, page in enumerate(converted.pages):
        source = source_pixels(data, index)
        with Image.open(io.BytesIO(page.encoded.data)) as stored:
            stored.load()
            assert stored.mode == source.mode == "1" and stored.size == source.size
            assert stored.tobytes() == source.tobytes()
        assert page.encoded.pixel_sha256 == pixel_digest(source)
        assert page.encoded.encoding.name == "TIFF/CCITT-G4"


LAYOUTS = {
    "little-endian, ascending tags": {},
    "big-endian": {"order": ">"},
    "tags in descending order": {"tag_order": "descending"},
    "tags rotated": {"tag_order": "rotated"},
    "SHORT strip offsets": {"offsets_type": 3},
    "big-endian, tags out of order": {"order": ">", "tag_order": "rotated"},
}


@pytest.mark.parametrize("layout", LAYOUTS, ids=list(LAYOUTS))
def test_multi_page_multi_strip_pages_are_copied_to_the_same_pixels(layout):
    pages = g4_pages(3)
    assert all(len(page.strips) > 10 for page in pages)
    assert_every_page_kept_exactly(build(pages, **LAYOUTS[layout]), 3)


@pytest.mark.parametrize("order", ["<", ">"])
def test_fill_order_2_pages_are_copied_with_their_fill_order(order):
    pages = [fill_order_2(page) for page in g4_pages(2)]
    data = build(pages, order=order, tag_order="descending")
    assert_every_page_kept_exactly(data, 2)
    converted = convert_document(data, ImageLimits(), 2)
    for index, page in enumerate(converted.pages):
        with Image.open(io.BytesIO(page.encoded.data)) as stored:
            assert stored.tag_v2[266] == 2
        # the strips were copied, not re-encoded: each source strip is in the copy byte for byte
        assert all(strip in page.encoded.data for strip in pages[index].strips)
        assert source_pixels(data, index).tobytes() == bilevel_page(600, 800, seed=index).tobytes()


def test_a_single_strip_white_is_zero_page_is_copied():
    [page] = g4_pages(1, strip_size=10**6)
    assert len(page.strips) == 1
    page.entries[262] = (3, (0,))  # WhiteIsZero, the fax convention
    assert_every_page_kept_exactly(build([page]), 1)


def test_orientation_resolution_and_icc_are_carried_and_free_text_is_not():
    [page] = g4_pages(1)
    page.entries[274] = (3, (6,))  # to be turned 90° for display
    page.entries[282] = (5, (204, 1))
    page.entries[283] = (5, (196, 1))
    page.entries[270] = (2, ("Patient 943 476 5919, Ward 7",))  # ImageDescription: free text, never copied
    page.entries[34675] = (7, (b"icc-profile-bytes-" * 4,))
    data = build([page])
    [converted] = convert_document(data, ImageLimits(), 1).pages
    assert converted.encoded.path == PASSTHROUGH
    assert converted.orientation == 6 and converted.encoded.dpi == (204.0, 196.0)
    with Image.open(io.BytesIO(converted.encoded.data)) as stored:
        assert stored.tag_v2[274] == 6 and 270 not in stored.tag_v2
        assert stored.info["icc_profile"] == b"icc-profile-bytes-" * 4
        stored.load()  # Pillow turns TIFF pages upright on load, the source's and the copy's alike
        assert stored.size == (800, 600) and stored.tobytes() == source_pixels(data, 0).tobytes()
    assert b"943 476" not in converted.encoded.data


def test_the_copy_is_deterministic_and_word_aligned():
    data = build(g4_pages(2), order=">")
    first, second = copy_page(data, 1, "1"), copy_page(data, 1, "1")
    assert first == second and first[:4] == b"II*\x00"
    directory = struct.unpack_from("<I", first, 4)[0]
    assert directory % 2 == 0 and struct.unpack_from("<I", first, directory + 2 + 12 * first[directory]) == (0,)


@pytest.mark.parametrize(
    ("compression", "mode", "kept"),
    [
        ("group4", "1", True),
        ("group3", "1", False),  # Group 4 is smaller: re-encoded
        ("tiff_lzw", "1", False),
        ("packbits", "1", False),
        ("tiff_adobe_deflate", "L", True),
        ("tiff_adobe_deflate", "RGB", True),
        ("tiff_lzw", "L", False),
        ("raw", "L", False),
    ],
)
def test_only_archive_encodings_are_kept(compression, mode, kept):
    image = bilevel_page(300, 400, seed=5).convert(mode)
    data = encode(image, "TIFF", compression=compression, dpi=(200, 200))
    [page] = convert_document(data, ImageLimits(), 1).pages
    assert page.encoded.path == (PASSTHROUGH if kept else REENCODED)
    with Image.open(io.BytesIO(page.encoded.data)) as stored:
        stored.load()
        assert stored.mode == mode and stored.tobytes() == image.tobytes()


def test_a_deflate_page_with_a_predictor_is_copied_to_the_same_pixels():
    grey = bilevel_page(300, 400, seed=6).convert("L").point(lambda value: 40 + value // 2)
    data = encode(
        grey, "TIFF", compression="tiff_adobe_deflate", tiffinfo={317: 2}, save_all=True, append_images=[grey]
    )
    converted = convert_document(data, ImageLimits(), 2)
    assert [page.encoded.path for page in converted.pages] == [PASSTHROUGH, PASSTHROUGH]
    assert all(page.encoded.encoding.name == "TIFF/Deflate" for page in converted.pages)
    with Image.open(io.BytesIO(converted.pages[1].encoded.data)) as stored:
        stored.load()
        assert stored.tobytes() == grey.tobytes()


def test_a_copy_that_does_not_decode_the_same_falls_back_to_re_encoding(monkeypatch):
    """Fault injection (the one stand-in here): a copy with one strip damaged must be caught by decoding it."""
    data = build(g4_pages(1))
    real_copy = passthrough.copy_page

    def damaged_copy(source: bytes, index: int, mode: str) -> bytes | None:
        copy = bytearray(real_copy(source, index, mode))
        copy[8:40] = bytes(32)  # the first strip's opening codes, zeroed
        return bytes(copy)

    monkeypatch.setattr(passthrough, "copy_page", damaged_copy)
    [page] = convert_document(data, ImageLimits(), 1).pages
    assert page.encoded.path == REENCODED and page.encoded.encoding.name == "TIFF/CCITT-G4"
    with Image.open(io.BytesIO(page.encoded.data)) as stored:
        stored.load()
        assert stored.tobytes() == source_pixels(data, 0).tobytes()


def test_single_frame_jpeg_is_recorded_as_kept_original():
    jpeg = encode(bilevel_page(seed=2).convert("RGB"), "JPEG", quality=80)
    [page] = convert_document(jpeg, ImageLimits(), 1).pages
    assert page.encoded.path == ORIGINAL and page.encoded.data == jpeg


@pytest.mark.parametrize("damage", ["tiles", "cut off", "bigtiff"])
def test_pages_that_cannot_be_copied_are_not(damage):
    data = bytearray(build(g4_pages(1)))
    if damage == "bigtiff":
        assert copy_page(b"II+\x00" + bytes(data[4:]), 0, "1") is None
        return
    if damage == "tiles":
        [page] = g4_pages(1)
        page.entries[322] = (3, (256,))
        assert copy_page(build([page]), 0, "1") is None
        return
    assert copy_page(bytes(data[: len(data) // 2]), 0, "1") is None


def test_a_copy_that_decodes_cleanly_to_other_pixels_falls_back_to_re_encoding(monkeypatch):
    """Fault injection: the copy of page 1 is swapped for a well-formed copy of page 2, same size. Only the pixel
    comparison can catch it, whether against the pixels the job copied out or, called alone, in C."""
    data = build(g4_pages(2))
    real_copy = passthrough.copy_page
    monkeypatch.setattr(passthrough, "copy_page", lambda source, index, mode: real_copy(source, 1, mode))
    first = convert_document(data, ImageLimits(), 2).pages[0]
    assert first.encoded.path == REENCODED
    with Image.open(io.BytesIO(first.encoded.data)) as stored:
        stored.load()
        assert stored.tobytes() == source_pixels(data, 0).tobytes()
    with DecodedDocument(data, max_page_pixels=10**8) as document:
        page = next(document.pages())
        assert passthrough.keep_page(data, page) is None  # no pixels handed in: compared by logical XOR
