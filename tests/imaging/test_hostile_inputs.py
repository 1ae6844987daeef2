"""Hostile and unusual inputs: whatever the bytes, one outcome, nothing raised, nothing hung."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from schemas.reasons import QuarantineError, Reason
from tests.containers import CONTAINERS, blank_pdf, eps_with_tiff_preview, icns_with_png, pdf_with_jpeg
from tests.images import bilevel_page, encode, multipage_g4, without_tag
from transforms.decoders.isolation import IsolatedWorker
from transforms.imaging.image_job import ImageLimits, convert_blobs, convert_document
from transforms.imaging.signatures import IMAGE, PDF, sniff

LIMITS = ImageLimits()
SEEDS = {
    "tiff": multipage_g4(2),
    "jpeg": encode(bilevel_page().convert("RGB"), "JPEG", quality=85),
    "png": encode(bilevel_page().convert("L"), "PNG"),
    "pdf": blank_pdf(2),
    "pdf-with-jpeg": pdf_with_jpeg(),
    "eps-with-tiff-preview": eps_with_tiff_preview(),
    "icns-with-png": icns_with_png(),
}
#: The containers the issue names; each holds an image a signature search would find.
HOSTILE_CONTAINERS = {
    "pdf-with-jpeg": SEEDS["pdf-with-jpeg"],
    "eps-with-tiff-preview": SEEDS["eps-with-tiff-preview"],
    "icns-with-png": SEEDS["icns-with-png"],
    **{name: data for name, (data, _) in CONTAINERS.items()},
}


def outcome(data: bytes, policy: str | None = None) -> str:
    """'migrated' or the quarantine reason; anything else raised is a bug the fuzzer has found.

    Whatever is migrated is what the blob's own first bytes name: pages only from an image, a whole PDF only
    from a PDF; never an image found inside something else.
    """
    try:
        converted = convert_blobs((data,), LIMITS, None, policy)
    except QuarantineError as error:
        return error.finding.reason.value
    own = sniff(data[converted.legacy_header_bytes :])
    if converted.pdf is not None:
        assert own.kind == PDF and converted.pages == ()
    else:
        assert converted.pages and own.kind == IMAGE and own.code == converted.source_format
    return "migrated"


#: What bytes alone can be quarantined for in the imaging core. The rest belong to the manifest, the store, the
#: patient fields or the isolated child (a timeout, a crash); INTERNAL_ERROR would be a bug the fuzzer found.
REASONS_FOR_BYTES = {
    Reason.EMPTY_BLOB,
    Reason.UNSUPPORTED_FORMAT,
    Reason.DECODE_ERROR,
    Reason.IMAGE_VARIANT_UNSUPPORTED,
    Reason.TRUNCATED_IMAGE,
    Reason.DECOMPRESSION_BOMB,
    Reason.PDF_ENCRYPTED,
    Reason.PDF_DAMAGED,
    Reason.PDF_TRUNCATED,
    Reason.LOSSLESS_UNSUPPORTED,
    Reason.LOSSLESS_VERIFY_FAILED,
}


@st.composite
def damaged(draw) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(0, 12))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(1, len(data)))])


@pytest.mark.fuzz
@settings(max_examples=max(300, settings().max_examples), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
@example(without_tag(multipage_g4(2), page=2, tag=256))  # found by --hypothesis-seed=56: "Missing dimensions"
@example(SEEDS["tiff"])  # undamaged: the fuzzer's damage, not the seed, must be what quarantines
def test_fuzzed_images_end_in_exactly_one_outcome(data):
    """Migrated (with outcome()'s checks on what was kept) or quarantined for a reason about the bytes; an
    undamaged seed is migrated (its own format: the EPS and ICNS containers are refused, as above)."""
    result = outcome(data)
    assert result == "migrated" or Reason(result) in REASONS_FOR_BYTES, result
    if data in (SEEDS["tiff"], SEEDS["jpeg"], SEEDS["png"], SEEDS["pdf"], SEEDS["pdf-with-jpeg"]):
        assert result == "migrated"
    assert outcome(data) == result  # the same bytes, the same outcome


@pytest.mark.parametrize("policy", [None, "search"])
@pytest.mark.parametrize("name", sorted(HOSTILE_CONTAINERS))
def test_no_container_is_ever_migrated_as_an_image(name, policy):
    """A PDF with an embedded JPEG is migrated as the PDF it is; an EPS, an ICNS and the rest are unsupported."""
    data = HOSTILE_CONTAINERS[name]
    result = outcome(data, policy)
    assert result == ("migrated" if name == "pdf-with-jpeg" else Reason.UNSUPPORTED_FORMAT.value)
    if name == "pdf-with-jpeg":
        assert convert_blobs((data,), LIMITS, None, policy).source_format == "PDF"


def test_fuzzed_images_never_hang_or_crash_the_worker():
    """The same kind of damage through the real isolated child, with a time limit."""
    import random

    rng = random.Random(11)
    worker = IsolatedWorker(timeout_seconds=30, memory_limit_bytes=2 * 2**30)
    outcomes = []
    try:
        for _ in range(40):
            data = bytearray(rng.choice(list(SEEDS.values())))
            for _ in range(rng.randint(1, 10)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            try:
                worker.call(convert_blobs, (bytes(data[: rng.randint(8, len(data))]),), LIMITS, None, "search")
                outcomes.append("migrated")
            except QuarantineError as error:
                outcomes.append(error.finding.reason.value)
    finally:
        worker.stop()
    assert len(outcomes) == 40
    assert "DECODE_TIMEOUT" not in outcomes and "DECODER_CRASH" not in outcomes


def test_allow_list_and_page_limit_refuse_before_decoding():
    gif = encode(bilevel_page(), "GIF")
    with pytest.raises(QuarantineError, match="GIF is not an allowed format"):
        convert_document(gif, ImageLimits(allowed_formats=frozenset({"TIFF"})), None)
    with pytest.raises(QuarantineError) as too_many:
        convert_document(multipage_g4(3), ImageLimits(max_pages=2), None)
    assert too_many.value.finding.reason is Reason.DECOMPRESSION_BOMB
    with pytest.raises(QuarantineError, match="PDF"):
        convert_document(b"%PDF-1.7\n" + b"0" * 100, LIMITS, None)


def _claim_size(tiff: bytes, width: int, height: int) -> bytes:
    """Rewrite ImageWidth and ImageLength (tags 256, 257) as LONGs claiming a size the file does not hold."""
    import struct

    data = bytearray(tiff)
    ifd = struct.unpack_from("<I", data, 4)[0]
    for index in range(struct.unpack_from("<H", data, ifd)[0]):
        at = ifd + 2 + index * 12
        tag = struct.unpack_from("<H", data, at)[0]
        if tag in (256, 257):
            struct.pack_into("<HHII", data, at, tag, 4, 1, width if tag == 256 else height)
    return bytes(data)


def test_a_100_gigapixel_header_is_a_bomb_before_any_pixel_is_allocated():
    """How long the refusal takes is measured by benchmarks/wall_clock.py, not asserted here."""
    bomb = _claim_size(encode(Image.new("1", (8, 8), 1), "TIFF", compression="group4"), 400_000, 250_000)
    with pytest.raises(QuarantineError) as refused:
        convert_document(bomb, LIMITS, None)
    assert refused.value.finding.reason is Reason.DECOMPRESSION_BOMB
    assert "400000x250000" in refused.value.finding.message


@pytest.mark.parametrize("source_format", ["TIFF", "PNG"])
def test_orientation_dpi_and_icc_are_recorded_and_carried(source_format):
    """TIFF pages come out of the decoder upright (Pillow applies tag 274); PNG pages keep the tag on the object.
    Either way the stored object shows the page as the source did, and lineage records the source's value."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = bilevel_page().convert("RGB").resize((240, 160))
    exif = Image.Exif()
    exif[0x0112] = 6
    options = {"compression": "tiff_lzw"} if source_format == "TIFF" else {}
    data = encode(image, source_format, dpi=(300, 300), icc_profile=srgb, exif=exif, **options)
    source = Image.open(io.BytesIO(data))
    source.load()
    [page] = convert_document(data, LIMITS, None).pages
    assert page.orientation == 6 and page.icc_profile_sha256 is not None
    stored = Image.open(io.BytesIO(page.encoded.data))
    stored.load()
    assert stored.size == source.size and stored.tobytes() == source.tobytes()
    assert stored.getexif().get(0x0112) == (None if source_format == "TIFF" else 6)
    assert stored.info.get("icc_profile") == srgb
    assert tuple(round(v) for v in stored.info["dpi"]) == (300, 300)


def test_page_checks_flag_blank_inverted_and_low_dpi_but_keep_every_page():
    blank = Image.new("1", (200, 280), 1)
    inverted = Image.new("1", (200, 280), 0)
    data = encode(blank, "TIFF", compression="group4", dpi=(100, 100), save_all=True, append_images=[inverted])
    pages = convert_document(data, LIMITS, None).pages
    assert [page.flags for page in pages] == [("blank", "low_dpi"), ("inverted", "low_dpi")]
    assert pages[0].ink_coverage == 0.0 and pages[1].ink_coverage == 1.0


def test_sixteen_bit_colour_png_is_kept_as_is_never_reduced_to_8_bits():
    import struct
    import zlib

    width, height = 4, 3
    raw = b"".join(b"\x00" + bytes(range(i * 24, i * 24 + 24)) for i in range(height))  # RGB, 16 bits each

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    [page] = convert_document(png, LIMITS, None).pages
    assert page.encoded.encoding.name == "PNG/original" and page.encoded.data == png
