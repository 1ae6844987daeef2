"""A blob's own first bytes name its format, and it is handled as that format: never as an image found inside it."""

from __future__ import annotations

import pytest

from schemas.reasons import QuarantineError, Reason
from tests.containers import CONTAINERS, pdf_with_jpeg
from tests.images import bilevel_page, encode, multipage_g4
from transforms.imaging.image_job import ImageLimits, convert_blobs
from transforms.imaging.signatures import FOREIGN, IMAGE, PDF, sniff, sniff_format

LIMITS = ImageLimits()
IMAGE_SIGNATURE_STARTS = (b"II*\x00", b"MM\x00*", b"\xff\xd8\xff", b"\x89PNG", b"GIF8")
#: The containers with a real image inside, within the first 4 KiB: what a signature search would have migrated.
HOLD_AN_IMAGE = (
    "eps-with-tiff-preview",
    "icns-with-png",
    "ico-with-png",
    "docx-with-jpeg",
    "zip-with-jpeg",
    "email-with-jpeg",
)


def test_images_are_named_by_their_signature():
    page = bilevel_page()
    samples = {
        "TIFF": multipage_g4(2),
        "JPEG": encode(page.convert("L"), "JPEG"),
        "PNG": encode(page, "PNG"),
        "BMP": encode(page, "BMP"),
        "GIF": encode(page, "GIF"),
        "WEBP": encode(page.convert("RGB"), "WEBP", lossless=True),
        "JPEG2000": encode(page.convert("L"), "JPEG2000"),
    }
    assert {name: (sniff(data).code, sniff(data).kind) for name, data in samples.items()} == {
        name: (name, IMAGE) for name in samples
    }


def test_bmp_needs_more_than_two_letters():
    """'BM' starts plenty of text headers: a real BMP also has a known info-header size at byte 14."""
    assert sniff(b"BM proprietary header, not a bitmap" + bytes(100)) is None
    assert sniff_format(encode(bilevel_page().convert("RGB"), "BMP")) == "BMP"


@pytest.mark.parametrize("name", sorted(CONTAINERS))
def test_each_container_is_named_and_none_is_an_image(name):
    data, code = CONTAINERS[name]
    if name in HOLD_AN_IMAGE:
        assert any(0 < data.find(start) < 4096 for start in IMAGE_SIGNATURE_STARTS)
    found = sniff(data)
    assert (found.code, found.kind) == (code, FOREIGN)
    assert sniff_format(data) is None


@pytest.mark.parametrize("name", sorted(CONTAINERS))
@pytest.mark.parametrize("policy", [None, "search"])
def test_a_container_is_unsupported_with_its_format_named_whatever_the_header_policy(name, policy):
    data, code = CONTAINERS[name]
    with pytest.raises(QuarantineError) as refused:
        convert_blobs((data,), LIMITS, None, policy)
    assert refused.value.finding.reason is Reason.UNSUPPORTED_FORMAT
    assert f"({code})" in refused.value.finding.message


def test_an_eps_names_its_tiff_preview_and_the_message_says_what_the_file_is():
    data, _ = CONTAINERS["eps-with-tiff-preview"]
    with pytest.raises(QuarantineError, match=r"EPS file with a DOS binary header \(PostScript and a TIFF preview\)"):
        convert_blobs((data,), LIMITS, None)


def test_a_pdf_with_an_embedded_jpeg_is_a_pdf_never_its_jpeg():
    data = pdf_with_jpeg()
    assert b"\xff\xd8\xff" in data[: 4 * 1024]  # what the old header search found and migrated
    assert (sniff(data).code, sniff(data).kind) == ("PDF", PDF)
    converted = convert_blobs((data,), LIMITS, None, "search")
    assert (converted.source_format, converted.pages, converted.pdf.page_count) == ("PDF", (), 1)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%!PS-Adobe-3.0\n%%Pages: 1\n", "POSTSCRIPT"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 1 1\n", "EPS"),
        (b"Received: from mx1\r\nFrom: a@b\r\n\r\nbody", "EMAIL"),
        (b"MIME-Version: 1.0\r\n", "EMAIL"),
        (b"{\\rtf1\\ansi hello}", "RTF"),
        (b"\x00" * 128 + b"DICM" + b"\x02\x00", "DICOM"),
        (b"RIFF\x04\x00\x00\x00WAVE", "WAV"),
        (b"\x00\x00\x00\x18ftypheic" + bytes(16), "HEIC"),
        (b"MSH|^~\\&|PAS|RBH|", "HL7"),
        (b"<!DOCTYPE html><html></html>", "HTML"),
    ],
)
def test_other_document_formats_are_named(data, code):
    assert sniff(data).code == code
    with pytest.raises(QuarantineError) as refused:
        convert_blobs((data,), LIMITS, None)
    assert refused.value.finding.reason is Reason.UNSUPPORTED_FORMAT and f"({code})" in refused.value.finding.message


def test_unknown_bytes_say_how_they_start_and_how_to_declare_a_header():
    with pytest.raises(QuarantineError) as refused:
        convert_blobs((b"\x00\x01garbage" * 50,), LIMITS, None)
    message = refused.value.finding.message
    assert "starts 0001676172626167" in message and "says so in its profile" in message
