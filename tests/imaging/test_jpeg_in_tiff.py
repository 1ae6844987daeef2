"""JPEG-in-TIFF pages keep their JPEG data: as a JPEG file (one strip) or their strips/tiles in a TIFF, never bigger.

Each variant is a real file written by tifffile (with imagecodecs' libjpeg-turbo) or by Pillow (libtiff), at a size
where a TIFF directory is small beside the data. For each: the stored object is at most 1.05× the page's compressed
bytes in the source (its strips or tiles plus JPEGTables), and decoded by Pillow (libtiff for a TIFF, the same
libjpeg-turbo for a JPEG file) it is exactly the source page's pixels as Pillow's libtiff decodes them.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import tifffile
from PIL import Image

from samples.tiff_builder import cut_strip, flip_bits
from samples.tiff_variant_files import FILES, _jpeg_strip
from schemas.reasons import QuarantineError, Reason
from transforms.imaging import passthrough
from transforms.imaging.encode import JPEG_STREAM, PASSTHROUGH, REENCODED
from transforms.imaging.image_job import ImageLimits, convert_document
from transforms.imaging.pixels import pixel_digest

HEIGHT, WIDTH = 384, 512


def scan(samples: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth page with some texture: what a colour or grey scan compresses like."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    planes = [(x * 255 // WIDTH + 40 * band) % 256 for band in range(samples - 1)] + [(y * 255 // HEIGHT)]
    noise = np.random.default_rng(seed).integers(-12, 12, (HEIGHT, WIDTH, samples))
    page = np.clip(np.stack(planes, -1) + noise, 0, 255).astype(np.uint8)
    return page[..., 0] if samples == 1 else page


def by_tifffile(array: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, compression="jpeg", resolution=(300, 300), metadata=None, **options)
    return buffer.getvalue()


def by_pillow(array: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "TIFF", compression="jpeg", dpi=(300, 300), **options)
    return buffer.getvalue()


def restart_markers(strips: int) -> bytes:
    """Strips written by Pillow's JPEG encoder with a restart marker every 4 MCUs, put in a TIFF by tifffile."""
    array, rows = scan(), HEIGHT // strips
    jpegs = []
    for strip in range(strips):
        buffer = io.BytesIO()
        part = Image.fromarray(array[strip * rows : (strip + 1) * rows])
        part.save(buffer, "JPEG", quality=85, subsampling=2, restart_marker_blocks=4)
        jpegs.append(buffer.getvalue())
    assert all(b"\xff\xdd" in jpeg and b"\xff\xd1" in jpeg for jpeg in jpegs)  # DRI, and RST markers used
    buffer = io.BytesIO()
    shape = (HEIGHT, WIDTH, 3)
    options = {"photometric": "ycbcr", "subsampling": (2, 2), "rowsperstrip": rows}
    tifffile.imwrite(buffer, iter(jpegs), shape=shape, dtype="u1", compression="jpeg", metadata=None, **options)
    return buffer.getvalue()


#: name → (file, the encode path and object format it is kept as)
VARIANTS = {
    "ycbcr 4:2:0, one strip": (
        lambda: by_tifffile(scan(), photometric="ycbcr", subsampling=(2, 2), rowsperstrip=HEIGHT),
        "jfif",
    ),
    "ycbcr 4:2:2, one strip": (
        lambda: by_tifffile(scan(), photometric="ycbcr", subsampling=(2, 1), rowsperstrip=HEIGHT),
        "jfif",
    ),
    "ycbcr 4:4:4, one strip": (
        lambda: by_tifffile(scan(), photometric="ycbcr", subsampling=(1, 1), rowsperstrip=HEIGHT),
        "jfif",
    ),
    "ycbcr 4:2:0, strips of 64 rows": (lambda: by_tifffile(scan(), photometric="ycbcr", rowsperstrip=64), "tiff"),
    "ycbcr 4:2:2, strips of 32 rows": (
        lambda: by_tifffile(scan(), photometric="ycbcr", subsampling=(2, 1), rowsperstrip=32),
        "tiff",
    ),
    "ycbcr 4:2:0, tiles 128×128": (lambda: by_tifffile(scan(), photometric="ycbcr", tile=(128, 128)), "tiff"),
    "rgb, one strip": (lambda: by_tifffile(scan(), photometric="rgb", rowsperstrip=HEIGHT), "jfif"),
    "rgb, tiles 64×64": (lambda: by_tifffile(scan(), photometric="rgb", tile=(64, 64)), "tiff"),
    "grey, one strip": (lambda: by_tifffile(scan(1), photometric="minisblack", rowsperstrip=HEIGHT), "jfif"),
    "grey, strips of 16 rows": (lambda: by_tifffile(scan(1), photometric="minisblack", rowsperstrip=16), "tiff"),
    "cmyk, one strip": (lambda: by_tifffile(scan(4), photometric="separated", rowsperstrip=HEIGHT), "tiff"),
    "cmyk, strips of 64 rows": (lambda: by_tifffile(scan(4), photometric="separated", rowsperstrip=64), "tiff"),
    "restart markers, one strip": (lambda: restart_markers(1), "jfif"),
    "restart markers, 4 strips": (lambda: restart_markers(4), "tiff"),
    "Pillow, colour, strips with JPEGTables": (lambda: by_pillow(scan()), "tiff"),
    "Pillow, colour, one strip with JPEGTables": (lambda: by_pillow(scan(), strip_size=2**30), "jfif"),
    "Pillow, grey, strips with JPEGTables": (lambda: by_pillow(scan(1)), "tiff"),
    "Pillow, grey, one strip with JPEGTables": (lambda: by_pillow(scan(1), strip_size=2**30), "jfif"),
}
KEPT_AS = {"jfif": (JPEG_STREAM, "JPEG/from-TIFF"), "tiff": (PASSTHROUGH, "TIFF/JPEG")}


def compressed_bytes(data: bytes) -> int:
    """The page's compressed data in the source: its strips or tiles, and the tables they share."""
    with tifffile.TiffFile(io.BytesIO(data)) as tiff:
        page = tiff.pages[0]
        return sum(page.databytecounts) + len(page.jpegtables or b"")


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=["TIFF", "JPEG"])
    image.load()
    return image


@pytest.mark.parametrize("name", VARIANTS)
def test_a_jpeg_page_keeps_its_jpeg_data_and_its_pixels(name):
    build, kept_as = VARIANTS[name]
    data = build()
    source = decoded(data)
    with tifffile.TiffFile(io.BytesIO(data)) as tiff:
        assert tiff.pages[0].compression == 7
    [page] = convert_document(data, ImageLimits(), 1).pages
    assert (page.encoded.path, page.encoded.encoding.name) == KEPT_AS[kept_as]
    assert len(page.encoded.data) <= 1.05 * compressed_bytes(data), (len(page.encoded.data), compressed_bytes(data))
    stored = decoded(page.encoded.data)
    assert stored.format == ("JPEG" if kept_as == "jfif" else "TIFF")
    assert (stored.mode, stored.size) == (source.mode, source.size)
    assert stored.tobytes() == source.tobytes()


def test_a_jpeg_file_carries_the_pages_resolution():
    data = by_tifffile(scan(), photometric="ycbcr", rowsperstrip=HEIGHT)
    [page] = convert_document(data, ImageLimits(), 1).pages
    assert page.encoded.path == JPEG_STREAM and decoded(page.encoded.data).info["dpi"] == (300, 300)


def test_a_kept_file_that_would_decode_differently_is_not_kept(monkeypatch):
    """Neither the JPEG file nor the TIFF copy is kept unless it decodes to the page's pixels: a wrong candidate
    (another JPEG of the same page) gives way to the next, and the last resort is today's lossless re-encode."""
    data = by_tifffile(scan(), photometric="ycbcr", rowsperstrip=HEIGHT)
    other = io.BytesIO()
    decoded(data).save(other, "JPEG", quality=60)
    monkeypatch.setattr("transforms.imaging.jpeg_streams.jpeg_file_from_strip", lambda *args: other.getvalue())
    [page] = convert_document(data, ImageLimits(), 1).pages
    assert page.encoded.path == PASSTHROUGH
    monkeypatch.setattr(passthrough, "copy_page", lambda *args: by_tifffile(scan(seed=1), photometric="ycbcr"))
    [page] = convert_document(data, ImageLimits(), 1).pages
    assert (page.encoded.path, page.encoded.encoding.name) == (REENCODED, "TIFF/Deflate")
    assert decoded(page.encoded.data).tobytes() == decoded(data).tobytes()


@pytest.mark.parametrize("rows", [HEIGHT, 64])
def test_a_damaged_jpeg_strip_is_still_quarantined(rows):
    data = by_tifffile(scan(), photometric="ycbcr", rowsperstrip=rows)
    for damaged in (cut_strip(data, 0.5), cut_strip(data, 0.9)):
        with pytest.raises(QuarantineError) as caught:
            convert_document(damaged, ImageLimits(), 1)
        assert caught.value.finding.reason in (Reason.TRUNCATED_IMAGE, Reason.DECODE_ERROR)
        assert caught.value.finding.message.startswith("page 1 (JPEG, YCbCr")
    # Bytes that are not JPEG at all where a strip's scan should be: libjpeg's warning is heard, not decoded around.
    scrambled = flip_bits(data, [i / 40 for i in range(8, 32)], mask=0xFF)
    with pytest.raises(QuarantineError):
        convert_document(scrambled, ImageLimits(), 1)


def test_an_old_style_jpeg_whose_header_points_at_a_whole_stream_is_kept_as_that_stream():
    data, stream = FILES["old-style-jpeg"](), _jpeg_strip()
    assert data.count(stream) == 1
    [page] = convert_document(data, ImageLimits(), 1).pages
    assert (page.encoded.path, page.encoded.encoding.name, page.decoder) == (
        JPEG_STREAM,
        "JPEG/old-style-TIFF-stream",
        "pillow",
    )
    assert page.encoded.data == stream and page.encoded.encoding.extension == "jpg"  # 1.00× the page's bytes
    assert page.encoded.pixel_sha256 == pixel_digest(decoded(stream))


def test_an_old_style_jpeg_with_its_tables_in_tags_is_read_by_libtiff_and_re_encoded():
    data = FILES["old-style-jpeg-tables"]()
    [page] = convert_document(data, ImageLimits(), 1).pages
    assert (page.encoded.path, page.encoded.encoding.name, page.decoder) == (REENCODED, "TIFF/Deflate", "pillow")
    by_libtiff = decoded(data)
    assert decoded(page.encoded.data).tobytes() == by_libtiff.tobytes()
    # libtiff reads both kinds alike: the tables-in-tags page is the whole-stream page as libtiff shows it
    assert decoded(FILES["old-style-jpeg"]()).tobytes() == by_libtiff.tobytes()


def test_an_old_style_stream_cut_short_is_not_kept_as_a_stream():
    data = FILES["old-style-jpeg"]()
    start = data.index(_jpeg_strip())
    cut = data[: start + len(_jpeg_strip()) // 2] + bytes(len(_jpeg_strip()) - len(_jpeg_strip()) // 2)
    try:
        [page] = convert_document(cut, ImageLimits(), 1).pages
    except QuarantineError as error:
        assert error.finding.reason in (Reason.TRUNCATED_IMAGE, Reason.DECODE_ERROR)
    else:
        assert page.encoded.path != JPEG_STREAM
