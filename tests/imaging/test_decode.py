import struct

import pytest
from PIL import Image

from schemas.reasons import QuarantineError, Reason
from tests.images import bilevel_page, encode, multipage_g4
from transforms.imaging.decode import DecodedDocument
from transforms.imaging.signatures import sniff_format

LIMIT = 150_000_000


def decode_all(data: bytes, limit: int = LIMIT) -> list[tuple[str, tuple[int, int]]]:
    with DecodedDocument(data, max_page_pixels=limit) as document:
        return [(page.image.mode, page.image.size) for page in document.pages()]


def reason_of(data: bytes, limit: int = LIMIT) -> Reason:
    with pytest.raises(QuarantineError) as caught:
        decode_all(data, limit)
    return caught.value.finding.reason


def test_sniffs_formats_from_header_bytes():
    page = bilevel_page()
    assert sniff_format(encode(page, "TIFF", compression="group4")) == "TIFF"
    assert sniff_format(encode(page.convert("L"), "JPEG")) == "JPEG"
    assert sniff_format(encode(page, "PNG")) == "PNG"
    assert sniff_format(encode(page, "BMP")) == "BMP"
    assert sniff_format(encode(page, "GIF")) == "GIF"
    assert sniff_format(encode(page.convert("RGB"), "WEBP", lossless=True)) == "WEBP"
    assert sniff_format(b"%PDF-1.4 ...") is None


def test_multipage_g4_decodes_page_by_page_with_dpi():
    data = multipage_g4(pages=3, dpi=300)
    with DecodedDocument(data, max_page_pixels=LIMIT) as document:
        pages = [(page.number, page.image.mode, page.dpi, page.compression) for page in document.pages()]
    assert pages == [(n, "1", (300.0, 300.0), "group4") for n in (1, 2, 3)]


@pytest.mark.parametrize(
    "data",
    [
        multipage_g4(3),
        encode(bilevel_page().convert("L"), "JPEG", quality=90),
        encode(bilevel_page().convert("L"), "PNG"),
        encode(bilevel_page().convert("RGB"), "BMP"),
        encode(bilevel_page(), "GIF"),
    ],
    ids=["tiff", "jpeg", "png", "bmp", "gif"],
)
def test_truncated_images_are_never_loaded(data):
    assert decode_all(data)  # the whole file decodes
    assert reason_of(data[: int(len(data) * 0.6)]) in (Reason.TRUNCATED_IMAGE, Reason.DECODE_ERROR)


@pytest.mark.parametrize("fmt", ["tiff", "jpeg", "png"])
def test_truncation_is_named_as_such_for_the_archive_formats(fmt):
    data = {
        "tiff": multipage_g4(3),
        "jpeg": encode(bilevel_page().convert("L"), "JPEG"),
        "png": encode(bilevel_page().convert("L"), "PNG"),
    }[fmt]
    assert reason_of(data[: int(len(data) * 0.6)]) is Reason.TRUNCATED_IMAGE


def test_unknown_bytes_are_unsupported_and_garbage_tiff_is_a_decode_error():
    assert reason_of(b"\x00\x01garbage" * 50) is Reason.UNSUPPORTED_FORMAT
    assert reason_of(b"II*\x00\x08\x00\x00\x00" + b"\xff" * 200) is Reason.DECODE_ERROR


def test_pages_over_the_pixel_limit_are_bombs_before_decoding():
    data = encode(Image.new("1", (1000, 1000), 1), "TIFF", compression="group4")
    assert reason_of(data, limit=999_999) is Reason.DECOMPRESSION_BOMB
    assert decode_all(data, limit=1_000_000) == [("1", (1000, 1000))]


def test_tiff_directory_chain_walk():
    from transforms.imaging.tiff_structure import ifd_chain_is_truncated

    data = multipage_g4(3)
    assert not ifd_chain_is_truncated(data)
    assert ifd_chain_is_truncated(data[: int(len(data) * 0.6)])
    assert ifd_chain_is_truncated(data[:6])
    big_header = b"II+\x00" + struct.pack("<HH", 8, 0)
    assert not ifd_chain_is_truncated(big_header + struct.pack("<QQQ", 16, 0, 0))  # one empty IFD, no link
    assert ifd_chain_is_truncated(big_header + struct.pack("<QQQ", 16, 0, 1000))  # link past the end
