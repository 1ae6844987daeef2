"""Every frame or nothing: a multi-page image whose later pages fail is never migrated as its first pages."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image

from schemas.reasons import QuarantineError, Reason
from tests.images import bilevel_page, encode, multipage_g4
from transforms.imaging.gif_structure import gif_is_truncated
from transforms.imaging.image_job import ImageLimits, convert_blobs
from transforms.imaging.libtiff_errors import available, libtiff_errors

LIMITS = ImageLimits()
FRAMES = [bilevel_page(seed=seed).convert("L") for seed in range(3)]


def outcome(data: bytes) -> str:
    try:
        converted = convert_blobs((data,), LIMITS, None)
    except QuarantineError as error:
        return error.finding.reason.value
    return f"migrated {len(converted.pages)} pages"


def with_page_3_strips(tiff: bytes, fill) -> bytes:
    """The TIFF with page 3's strip bytes overwritten (its structure intact, its data garbage)."""
    image = Image.open(io.BytesIO(tiff))
    image.seek(2)
    data = bytearray(tiff)
    for offset, count in zip(image.tag_v2[273], image.tag_v2[279], strict=True):
        data[offset : offset + count] = fill(count)
    return bytes(data)


def noise(count: int) -> bytes:
    rng = random.Random(count)
    return bytes(rng.randrange(256) for _ in range(count))


def test_the_libtiff_hook_hears_pillows_libtiff_here():
    assert available()
    with libtiff_errors() as reported:
        Image.open(io.BytesIO(with_page_3_strips(multipage_g4(3), noise))).load()  # page 1 is intact
    assert reported == []


@pytest.mark.parametrize(
    ("tiff", "fill"),
    [
        (multipage_g4(3), noise),
        (multipage_g4(3), lambda count: bytes(count)),
        (encode(FRAMES[0], "TIFF", compression="tiff_lzw", save_all=True, append_images=FRAMES[1:]), noise),
    ],
    ids=["group4-noise", "group4-zeros", "lzw-noise"],
)
def test_a_3_page_tiff_whose_page_3_is_corrupt_is_quarantined_whole(tiff, fill):
    """libtiff's fax decoder fills a corrupt strip with white and reports success; its error report is heard.
    (All-ones strip data would not do: in Group 4 that is a run of V0 codes, a valid encoding of a white page.)"""
    assert outcome(tiff) == "migrated 3 pages"
    assert outcome(with_page_3_strips(tiff, fill)) == Reason.DECODE_ERROR.value


def test_a_tiff_cut_inside_page_3_is_truncated():
    tiff = multipage_g4(3)
    image = Image.open(io.BytesIO(tiff))
    image.seek(2)
    assert outcome(tiff[: image.tag_v2[273][0] + 10]) == Reason.TRUNCATED_IMAGE.value


def animated_gif() -> bytes:
    return encode(FRAMES[0], "GIF", save_all=True, append_images=FRAMES[1:])


def frame_starts(gif: bytes) -> list[int]:
    """Where each frame's graphic control extension begins (Pillow writes one before every frame)."""
    return [index for index in range(len(gif) - 2) if gif[index : index + 3] == b"\x21\xf9\x04"]


def test_a_gif_cut_between_frames_is_truncated_not_a_shorter_animation():
    gif = animated_gif()
    assert outcome(gif) == "migrated 3 pages" and not gif_is_truncated(gif)
    for cut in frame_starts(gif)[1:]:
        assert Image.open(io.BytesIO(gif[:cut])).n_frames < 3  # what Pillow alone would have migrated
        assert gif_is_truncated(gif[:cut])
        assert outcome(gif[:cut]) == Reason.TRUNCATED_IMAGE.value


@pytest.mark.parametrize("cut", [0.5, 0.8, 0.95, 0.999])
def test_a_gif_cut_inside_a_later_frame_is_truncated(cut):
    gif = animated_gif()
    assert outcome(gif[: int(len(gif) * cut)]) == Reason.TRUNCATED_IMAGE.value


def test_animated_webp_and_png_cut_at_a_frame_are_quarantined():
    webp = encode(FRAMES[0].convert("RGB"), "WEBP", save_all=True, append_images=FRAMES[1:], lossless=True)
    apng = encode(FRAMES[0], "PNG", save_all=True, append_images=FRAMES[1:])
    assert outcome(webp) == outcome(apng) == "migrated 3 pages"
    for data, frame_marker in ((webp, b"ANMF"), (apng, b"fcTL")):
        last_frame = data.rfind(frame_marker) - 4  # the chunk's length field starts 4 bytes before its name
        assert outcome(data[:last_frame]) in (Reason.TRUNCATED_IMAGE.value, Reason.DECODE_ERROR.value)


def with_sequence_number(png: bytes, chunk: int, number: int) -> bytes:
    """The PNG with its CHUNK-th fcTL/fdAT chunk's sequence number set to NUMBER, its CRC made right again."""
    data, at, found = bytearray(png), 8, 0
    while at < len(data):
        (length,) = struct.unpack_from(">I", data, at)
        if data[at + 4 : at + 8] in (b"fcTL", b"fdAT"):
            if found == chunk:
                struct.pack_into(">I", data, at + 8, number)
                struct.pack_into(">I", data, at + 8 + length, zlib.crc32(bytes(data[at + 4 : at + 8 + length])))
                return bytes(data)
            found += 1
        at += 12 + length
    raise AssertionError(f"no animation chunk {chunk}")


@pytest.mark.parametrize(
    ("chunk", "number", "page"),
    [(1, 7, 2), (2, 1, 2), (3, 9, 3), (4, 3, 3)],  # fcTL 2, fdAT 2, fcTL 3, fdAT 3: numbers 1-4 in order
    ids=["frame-2-control", "frame-2-data", "frame-3-control", "frame-3-data"],
)
def test_an_apng_whose_frames_are_out_of_sequence_is_quarantined_never_partial(chunk, number, page):
    """Pillow reads the first frames and raises "APNG contains frame sequence errors" on a later one: every frame or
    nothing, so the document is quarantined with that reason, and no page of it is migrated."""
    apng = encode(FRAMES[0], "PNG", save_all=True, append_images=FRAMES[1:])
    damaged = with_sequence_number(apng, chunk, number)
    with Image.open(io.BytesIO(damaged)) as image:
        assert image.n_frames == 3
        image.load()  # the first frame reads as if all were well
    with pytest.raises(QuarantineError) as caught:
        convert_blobs((damaged,), LIMITS, None)
    assert caught.value.finding.reason == Reason.DECODE_ERROR
    assert caught.value.finding.message == (
        f"page {page}: cannot decode (SyntaxError: APNG contains frame sequence errors)"
    )
