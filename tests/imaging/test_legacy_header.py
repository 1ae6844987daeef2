"""Proprietary headers are skipped only where a source's profile declares them: "search" or a fixed length."""

from __future__ import annotations

import pytest

from schemas.reasons import QuarantineError, Reason
from tests.containers import blank_pdf, zip_with_jpeg
from tests.images import bilevel_page, encode, multipage_g4
from transforms.imaging.image_job import ImageLimits, convert_blobs
from transforms.imaging.legacy_header import legacy_header_length

LIMITS = ImageLimits()
JPEG = encode(bilevel_page().convert("L"), "JPEG")
FILENET = b"FNP2\x00\x01".ljust(512, b"\x00")


def reason(blobs: tuple[bytes, ...], policy) -> Reason:
    with pytest.raises(QuarantineError) as refused:
        convert_blobs(blobs, LIMITS, None, policy)
    return refused.value.finding.reason


def test_without_a_policy_nothing_is_searched():
    assert legacy_header_length(FILENET + JPEG, None) == 0
    assert reason((FILENET + JPEG,), None) is Reason.UNSUPPORTED_FORMAT


def test_search_finds_an_image_within_the_first_4_kib_only():
    assert legacy_header_length(JPEG, "search") == 0  # an image at byte 0 has no header
    assert legacy_header_length(FILENET + JPEG, "search") == 512
    assert legacy_header_length(b"\x01" * 4096 + JPEG, "search") == 0  # beyond 4 KiB: not searched
    assert legacy_header_length(b"HDR BM not a bitmap" + b"\x00" * 100, "search") == 0  # 2-byte signatures never
    converted = convert_blobs((FILENET + JPEG,), LIMITS, 1, "search")
    assert (converted.source_format, converted.legacy_header_bytes, len(converted.pages)) == ("JPEG", 512, 1)
    gif = encode(bilevel_page(), "GIF")
    assert convert_blobs((FILENET + gif,), LIMITS, 1, "search").source_format == "GIF"


def test_search_skips_signatures_a_binary_header_holds_by_chance():
    """00 00 01 00 (ICO) is a 32-bit 65536 in a header of small binary fields: never where the search stops."""
    header = b"FNP2" + (65536).to_bytes(4, "big") + b"BM" + bytes(502)
    assert legacy_header_length(header + JPEG, "search") == 512


def test_search_stops_at_a_container_and_never_looks_inside_it():
    """Behind the header is a ZIP holding a JPEG: the ZIP is what the blob holds, so it is unsupported."""
    blob = FILENET + zip_with_jpeg()
    assert legacy_header_length(blob, "search") == 512
    with pytest.raises(QuarantineError, match=r"\(ZIP\)"):
        convert_blobs((blob,), LIMITS, None, "search")


def test_search_finds_a_pdf_behind_a_header_and_keeps_the_pdf_whole():
    pdf = blank_pdf(2)
    converted = convert_blobs((FILENET + pdf,), LIMITS, 2, "search")
    assert (converted.source_format, converted.legacy_header_bytes, converted.pdf.page_count) == ("PDF", 512, 2)


def test_a_fixed_length_skips_exactly_that_many_bytes():
    tiff = multipage_g4(2)
    header = b"BM-looking header".ljust(256, b"\x00")  # would sniff as BMP were it not declared a header
    converted = convert_blobs((header + tiff,), LIMITS, 2, 256)
    assert (converted.source_format, converted.legacy_header_bytes, len(converted.pages)) == ("TIFF", 256, 2)


def test_a_blob_whose_own_bytes_name_a_format_has_no_header_whatever_the_policy():
    assert legacy_header_length(JPEG, 256) == 0
    assert convert_blobs((JPEG,), LIMITS, None, 256).legacy_header_bytes == 0


def test_a_fixed_length_that_does_not_fit_is_a_mismatch_with_a_clear_message():
    with pytest.raises(QuarantineError) as too_long:
        convert_blobs((b"\x01" * 100,), LIMITS, None, 256)
    assert too_long.value.finding.reason is Reason.LEGACY_HEADER_MISMATCH
    assert "256-byte legacy header is as long as the blob or longer (100 bytes)" in too_long.value.finding.message
    with pytest.raises(QuarantineError) as nothing_after:
        convert_blobs((FILENET + JPEG,), LIMITS, None, 256)  # the header is 512 bytes, not 256
    assert nothing_after.value.finding.reason is Reason.LEGACY_HEADER_MISMATCH
    assert "no known format starts after the profile's 256-byte legacy header" in nothing_after.value.finding.message


def test_page_files_each_skip_their_header_and_the_lengths_are_summed():
    pages = [encode(bilevel_page(seed=n), "TIFF", compression="group4") for n in range(3)]
    converted = convert_blobs(tuple(FILENET + page for page in pages), LIMITS, 3, "search")
    assert (converted.legacy_header_bytes, len(converted.pages)) == (3 * 512, 3)


def test_a_pdf_page_file_in_a_page_per_row_document_is_refused():
    page = encode(bilevel_page(), "TIFF", compression="group4")
    assert reason((page, blank_pdf(1)), None) is Reason.UNSUPPORTED_FORMAT
