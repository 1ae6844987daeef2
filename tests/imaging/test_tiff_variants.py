"""Every row of the TIFF coverage table (samples/tiff_variants.py, docs/formats.md) decoded as the row says:
kept exactly by the decoder it names, or quarantined with its reason, the page number and what the page is."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from samples.tiff_variant_files import _samples, _tw
from samples.tiff_variants import KEPT, VARIANTS, VARIANTS_BY_NAME, coverage_markdown
from schemas.reasons import QuarantineError
from tests.tiff_checks import assert_same_samples, expected_samples, palette_of, shown_samples
from transforms.imaging.image_job import ImageLimits, convert_blobs
from transforms.imaging.tiff_fallback import TiffArrays

LIMITS = ImageLimits()
_REPR = re.compile(r"0x[0-9a-f]{6,}|<[^>]*>|BytesIO")


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_each_variant_ends_as_its_coverage_row_says(variant):
    data = variant.build()
    try:
        converted = convert_blobs((data,), LIMITS, None)
    except QuarantineError as error:
        assert error.finding.reason.value == variant.outcome, error.finding.message
        assert error.finding.message.startswith("page 1 ("), error.finding.message
        assert not _REPR.search(error.finding.message), error.finding.message
        return
    assert variant.outcome == KEPT
    assert tuple(dict.fromkeys(page.decoder for page in converted.pages)) == variant.decoders
    assert converted.pages[0].encoded.encoding.name == variant.stored
    for index, page in enumerate(converted.pages):
        expected = expected_samples(variant.name, data, index)
        if variant.scale != 1:
            expected = (expected * variant.scale).astype(expected.dtype)
        assert_same_samples(shown_samples(page.encoded.data), expected)
        if variant.stored == "PNG":
            colours = len(palette_of(data)) // 3
            assert palette_of(page.encoded.data)[: 3 * colours] == palette_of(data)[: 3 * colours]


def test_the_coverage_table_has_a_row_per_variant_and_names_every_outcome():
    table = coverage_markdown()
    assert [line.split(" | ")[0] for line in table.splitlines()[2:]] == [f"| `{v.name}`" for v in VARIANTS]
    assert {v.outcome for v in VARIANTS} >= {KEPT, "TRUNCATED_IMAGE", "DECODE_ERROR", "IMAGE_VARIANT_UNSUPPORTED"}
    assert {decoder for v in VARIANTS for decoder in v.decoders} == {"pillow", "tifffile"}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_tifffile_turns_pages_upright_exactly_as_pillow_does(orientation):
    data = _tw(_samples("u1", 3), photometric="rgb", extratags=[(274, "H", 1, orientation, True)])
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        by_pillow = np.asarray(image)
    arrays = TiffArrays(data)
    assert_same_samples(arrays.page(0).array, by_pillow)
    assert arrays.page(0).orientation == orientation


def test_deep_pages_are_hashed_by_their_samples_whatever_the_compression():
    samples = _samples("u2", 3)
    changed = samples.copy()
    changed[5, 7, 1] ^= 1
    digests = [
        convert_blobs((_tw(array, photometric="rgb", compression=compression),), LIMITS, None).pages[0].encoded
        for array, compression in ((samples, "lzw"), (samples, "zlib"), (changed, "lzw"))
    ]
    assert digests[0].mode == "RGB;uint16"
    assert digests[0].pixel_sha256 == digests[1].pixel_sha256 != digests[2].pixel_sha256


def test_a_page_tifffile_reads_hashes_like_the_same_pixels_read_by_pillow():
    """Duplicates are found across decoders: the XMP-as-ASCII page goes to tifffile, the plain one to Pillow."""
    odd = VARIANTS_BY_NAME["odd-tags-xmp-as-ascii"].build()
    odd_page = convert_blobs((odd,), LIMITS, None).pages[0]
    plain_page = convert_blobs((_tw(shown_samples(odd)),), LIMITS, None).pages[0]
    assert (odd_page.decoder, plain_page.decoder) == ("tifffile", "pillow")
    assert odd_page.encoded.pixel_sha256 == plain_page.encoded.pixel_sha256


def test_stored_tiffs_carry_none_of_the_source_files_tags():
    """Pillow copied every tag of the TIFF it read into the one it wrote: a patient's name in DocumentName too."""
    name = "Jane Example 943 476 5919"
    source = _tw(
        _samples("u1", 3),
        photometric="rgb",
        description=name,
        extratags=[(269, "s", 0, name, True), (65000, "s", 0, name, True), (34377, "I", 2, (5, 6), True)],
    )
    stored = convert_blobs((source,), LIMITS, None).pages[0].encoded.data
    with tifffile.TiffFile(io.BytesIO(stored)) as tiff:
        tags = {tag.code for tag in tiff.pages[0].tags.values()}
    assert not {269, 270, 65000, 34377} & tags
    assert name.encode() not in stored


#: Variants read by tifffile: the decoder a fuzzer has not met elsewhere in these tests.
TIFFFILE_SEEDS = sorted(v.name for v in VARIANTS if "tifffile" in v.decoders)


@st.composite
def damaged_tifffile_variant(draw) -> bytes:
    data = bytearray(VARIANTS_BY_NAME[draw(st.sampled_from(TIFFFILE_SEEDS))].build())
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(8, len(data)))])


@pytest.mark.fuzz
@settings(max_examples=max(200, settings().max_examples), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_tifffile_variant())
def test_damaged_tifffile_variants_end_in_one_outcome_and_a_plain_message(data):
    """Whatever the bytes: migrated, or a reason whose message has no repr in it; nothing else raised."""
    try:
        convert_blobs((data,), LIMITS, None)
    except QuarantineError as error:
        assert not _REPR.search(error.finding.message), error.finding.message
