"""PDF validation with real PDFs (pikepdf and Pillow make them, qpdf judges them): each problem has its reason."""

from __future__ import annotations

import hashlib

import pytest

from schemas.reasons import QuarantineError, Reason
from tests.containers import (
    blank_pdf,
    encrypted_pdf,
    pdf_with_broken_xref,
    pdf_with_damaged_stream,
    pdf_with_jpeg,
)
from transforms.decoders.isolation import IsolatedWorker
from transforms.imaging.image_job import ImageLimits, convert_blobs
from transforms.imaging.pdf import check_pdf, is_truncated

LIMITS = ImageLimits()


def refused(data: bytes, recorded: int | None = None, limits: ImageLimits = LIMITS) -> QuarantineError:
    with pytest.raises(QuarantineError) as caught:
        convert_blobs((data,), limits, recorded)
    return caught.value


def test_a_valid_pdf_is_counted_and_given_a_content_value_of_its_own():
    data = blank_pdf(3)
    converted = convert_blobs((data,), LIMITS, 3)
    assert (converted.source_format, converted.pages, converted.pdf.page_count) == ("PDF", (), 3)
    assert converted.pdf.content_sha256 == hashlib.sha256(b"pdf\x00" + data).hexdigest()
    assert converted.pdf.content_sha256 != hashlib.sha256(data).hexdigest()


def test_an_image_pdf_made_by_a_scanner_is_a_valid_one_page_pdf():
    assert check_pdf(pdf_with_jpeg(), max_pages=10, recorded_page_count=1).page_count == 1


def test_encrypted_pdfs_are_quarantined_whether_or_not_they_need_a_password():
    needs_password = refused(encrypted_pdf("secret"))
    assert (
        needs_password.finding.reason is Reason.PDF_ENCRYPTED and "needs a password" in needs_password.finding.message
    )
    restricted = refused(encrypted_pdf(""))
    assert restricted.finding.reason is Reason.PDF_ENCRYPTED and "owner password" in restricted.finding.message


@pytest.mark.parametrize("cut", [0.6, 0.95], ids=["cut-at-60%", "cut-at-95%"])
def test_a_truncated_pdf_is_its_own_reason(cut):
    data = blank_pdf(3)
    assert not is_truncated(data) and not is_truncated(data + b"\r\n\x00\x00")
    assert refused(data[: int(len(data) * cut)]).finding.reason is Reason.PDF_TRUNCATED


def test_a_pdf_whose_last_update_was_cut_off_is_truncated():
    """An incremental update appended and then cut: an earlier %%EOF exists, but the file does not end with one."""
    data = blank_pdf(2) + b"5 0 obj\n<< /Type /Annot /Subtype /Text"
    assert refused(data).finding.reason is Reason.PDF_TRUNCATED


def test_a_pdf_that_qpdf_would_have_to_repair_is_damaged_never_migrated():
    broken = refused(pdf_with_broken_xref())
    assert broken.finding.reason is Reason.PDF_DAMAGED and "xref" in broken.finding.message
    undecodable = refused(pdf_with_damaged_stream())
    assert undecodable.finding.reason is Reason.PDF_DAMAGED and "page 1" in undecodable.finding.message


def test_a_pdf_with_no_pages_is_damaged():
    assert refused(blank_pdf(0)).finding.reason is Reason.PDF_DAMAGED


def test_messages_never_carry_object_addresses():
    for data in (blank_pdf(3)[:-200], pdf_with_broken_xref(), pdf_with_damaged_stream()):
        message = refused(data).finding.message
        assert "0x" not in message and "BytesIO" not in message, message


def test_the_page_count_is_checked_against_the_legacy_record():
    mismatch = refused(blank_pdf(3), recorded=2)
    assert mismatch.finding.reason is Reason.PAGE_COUNT_MISMATCH
    assert mismatch.finding.message == "PDF has 3 page(s), legacy record says 2"


def test_page_limit_and_allow_list_apply_to_pdfs():
    assert refused(blank_pdf(5), limits=ImageLimits(max_pages=4)).finding.reason is Reason.DECOMPRESSION_BOMB
    not_allowed = refused(blank_pdf(1), limits=ImageLimits(allowed_formats=frozenset({"TIFF"})))
    assert not_allowed.finding.reason is Reason.UNSUPPORTED_FORMAT and "PDF is not an allowed format" in str(
        not_allowed
    )


def test_pdfs_are_validated_in_the_isolated_child_too():
    worker = IsolatedWorker(timeout_seconds=60, memory_limit_bytes=2 * 2**30)
    try:
        converted = worker.call(convert_blobs, (blank_pdf(2),), LIMITS, 2, None)
        with pytest.raises(QuarantineError) as encrypted:
            worker.call(convert_blobs, (encrypted_pdf(),), LIMITS, None, None)
    finally:
        worker.stop()
    assert converted.pdf.page_count == 2 and encrypted.value.finding.reason is Reason.PDF_ENCRYPTED
