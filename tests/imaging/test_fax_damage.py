"""Damage is detected, not decoded around: fax and LZW pages cut short or with flipped bits are quarantined with
their page number, never migrated. libtiff's Group 4 decoder says nothing when a strip's data runs out; the rows
it never wrote (libtiff_check.py) do."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tifffile

from samples.tiff_builder import cut_strip, flip_bits, set_tag, strips
from schemas.reasons import QuarantineError, Reason
from tests.images import bilevel_page
from transforms.imaging.image_job import ImageLimits, convert_blobs
from transforms.imaging.libtiff_check import MissingRows, SecondRead, second_read
from transforms.imaging.libtiff_errors import is_damage

LIMITS = ImageLimits()
FAX = {
    "group4": {"compression": "group4"},
    "group4-one-strip": {"compression": "group4", "strip_size": 2**30},
    "group3-1d": {"compression": "group3", "strip_size": 2**30},
    "group3-2d": {"compression": "group3", "strip_size": 2**30, "tiffinfo": {292: 1}},
}


def three_pages(**options: object) -> bytes:
    """A 3-page fax document: the page that is damaged below is page 2."""
    pages = [bilevel_page(480, 640, seed=seed) for seed in range(3)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:], dpi=(200, 200), **options)
    return buffer.getvalue()


def quarantined(data: bytes) -> QuarantineError:
    with pytest.raises(QuarantineError) as caught:
        convert_blobs((data,), LIMITS, None)
    return caught.value


@pytest.mark.parametrize("fax", FAX)
def test_whole_fax_pages_migrate(fax):
    assert len(convert_blobs((three_pages(**FAX[fax]),), LIMITS, None).pages) == 3


@pytest.mark.parametrize("fraction", [0.1, 0.4, 0.7, 0.95])
@pytest.mark.parametrize("fax", FAX)
def test_a_fax_page_cut_short_is_quarantined_with_its_page_number(fax, fraction):
    error = quarantined(cut_strip(three_pages(**FAX[fax]), fraction, page=2))
    assert error.finding.reason in (Reason.TRUNCATED_IMAGE, Reason.DECODE_ERROR)
    assert error.finding.message.startswith("page 2 (Group "), error.finding.message


@pytest.mark.parametrize("positions", [[0.05], [0.3], [0.6], [0.2, 0.5, 0.8]])
@pytest.mark.parametrize("fax", FAX)
def test_a_fax_page_with_flipped_bits_is_quarantined_with_its_page_number(fax, positions):
    error = quarantined(flip_bits(three_pages(**FAX[fax]), positions, page=2))
    assert error.finding.reason in (Reason.TRUNCATED_IMAGE, Reason.DECODE_ERROR)
    assert error.finding.message.startswith("page 2 (Group "), error.finding.message


def test_a_group4_strip_whose_data_ends_early_says_where():
    """libtiff may say nothing, or report a bad code word where the data stops mid-code: either way the message
    names the row after which nothing was decoded."""
    data = three_pages(compression="group4", strip_size=2**30)
    assert second_read(data, 1) == SecondRead((), None)
    for fraction in (0.2, 0.4, 0.6, 0.8):
        damaged = cut_strip(data, fraction, page=2)
        gap = second_read(damaged, 1).missing
        assert gap is not None and 0 < gap.first_row < gap.height == 640
        error = quarantined(damaged)
        assert error.finding.reason in (Reason.TRUNCATED_IMAGE, Reason.DECODE_ERROR)
        assert f"its data stops after row {gap.first_row} of 640" in error.finding.message


def test_the_rows_libtiff_never_wrote_are_found_whatever_it_says():
    """A page whose header claims 640 rows over Group 4 data that holds 320: the decode stops after row 321."""
    buffer = io.BytesIO()
    bilevel_page(480, 320, seed=1).save(buffer, "TIFF", compression="group4", strip_size=2**30)
    claims_more = set_tag(set_tag(buffer.getvalue(), 257, 640), 278, 640)
    assert second_read(buffer.getvalue(), 0) == SecondRead((), None)
    assert second_read(claims_more, 0).missing == MissingRows(321, 640)
    assert "its data stops after row 321 of 640 (about 50% of the page)" in quarantined(claims_more).finding.message


def test_warnings_pillow_silences_are_heard_by_the_second_read():
    """Pillow switches libtiff's warning handler off as it decodes; "Premature EOF" is a warning."""
    error = quarantined(cut_strip(three_pages(compression="group4", strip_size=2**30), 0.8, page=2))
    assert error.finding.reason == Reason.TRUNCATED_IMAGE
    assert "libtiff reported Fax4Decode: Premature EOF at line" in error.finding.message


def test_a_group4_strip_whose_tail_was_zeroed_is_quarantined_naming_the_row():
    """Zeros are how a short copy is often padded: to a Group 4 decoder they read as an end of line."""
    data = bytearray(three_pages(compression="group4", strip_size=2**30))
    offset, count = strips(bytes(data), page=2)[0]
    data[offset + count // 2 : offset + count] = bytes(count - count // 2)
    error = quarantined(bytes(data))
    assert error.finding.reason in (Reason.TRUNCATED_IMAGE, Reason.DECODE_ERROR)
    assert error.finding.message.startswith("page 2 (") and "its data stops after row" in error.finding.message


def test_an_lzw_strip_cut_short_is_truncated_with_its_page_number():
    pages = [bilevel_page(seed=seed).convert("L") for seed in range(3)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", compression="tiff_lzw", save_all=True, append_images=pages[1:])
    error = quarantined(cut_strip(buffer.getvalue(), 0.5, page=2))
    assert error.finding.reason == Reason.TRUNCATED_IMAGE
    assert error.finding.message.startswith("page 2 (LZW, min-is-black, 8-bit): libtiff reported")


def test_the_same_damage_gives_the_same_message_every_time():
    damaged = flip_bits(three_pages(compression="group4"), [0.3], page=2)
    messages = {quarantined(damaged).finding.message for _ in range(3)}
    assert len(messages) == 1
    assert "0x" not in messages.pop()


def test_a_damaged_page_that_pillow_cannot_open_is_judged_by_tifffile_as_strictly():
    """A 16-bit RGB page goes to tifffile (Pillow would reduce it to 8 bits); its LZW strip cut short is still
    quarantined, not padded."""
    buffer = io.BytesIO()
    samples = (np.arange(64 * 48 * 3, dtype=np.uint32) * 2654435761 % 65536).astype(np.uint16).reshape(64, 48, 3)
    tifffile.imwrite(buffer, samples, photometric="rgb", compression="lzw", rowsperstrip=64, metadata=None)
    error = quarantined(cut_strip(buffer.getvalue(), 0.5))
    assert error.finding.reason in (Reason.TRUNCATED_IMAGE, Reason.DECODE_ERROR)
    assert error.finding.message.startswith("page 1 (LZW, RGB, 16-bit)"), error.finding.message


def test_a_jpeg_strip_cut_short_is_truncated_not_grey_rows():
    """libjpeg fills a cut JPEG strip with grey and says so only as a warning, which Pillow silences."""
    pages = [bilevel_page(480, 640, seed=seed).convert("RGB") for seed in range(2)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", compression="jpeg", strip_size=2**30, save_all=True, append_images=pages[1:])
    error = quarantined(cut_strip(buffer.getvalue(), 0.5, page=2))
    assert error.finding.reason == Reason.TRUNCATED_IMAGE
    assert error.finding.message.startswith("page 2 (JPEG, RGB, 8-bit): libtiff reported JPEGLib: Premature end")


@pytest.mark.parametrize(
    ("kind", "message", "damage"),
    [
        ("error", "Fax4Decode: Bad code word at line 3 of strip 0 (x 7)", True),
        ("warning", "Fax3Decode1D: Premature EOL at line 9 of strip 0 (got 12, expected 480)", True),
        ("warning", "JPEGLib: Premature end of JPEG file", True),
        ("warning", "JPEGLib: Corrupt JPEG data: 3 extraneous bytes before marker 0xd9", False),
        ("warning", "TIFFReadDirectory: Unknown field with tag 65000 (0xfde8) encountered", False),
        ("warning", "OJPEGSubsamplingCorrectJpegData: Deprecated and troublesome old-style JPEG", False),
    ],
)
def test_which_libtiff_reports_count_as_damage(kind, message, damage):
    assert is_damage(kind, message) is damage
