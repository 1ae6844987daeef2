"""The file behind each row of the TIFF coverage table (samples/tiff_variants.py), by variant name.

Built by tifffile or Pillow, the writers legacy systems' files resemble, or by hand (tiff_builder.py) where
neither writes the variant; the damaged ones are real files cut short or with bits flipped. Pixels are small
and deterministic, so every file is the same bytes on every run.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from functools import cache

import numpy as np
import tifffile
from PIL import Image, ImageDraw

from samples.tiff_builder import STRIP, cut_strip, flip_bits, set_tag, tiff

HEIGHT, WIDTH = 40, 48


def _grey(dtype: str = "u1") -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    if dtype == "b1":
        return (x // 6 + y // 5) % 3 == 0
    top = {"u1": 255, "u2": 65535, "u4": 2**32 - 1, "i1": 255, "i2": 65535}.get(dtype, 1)
    values = (x * 2749 + y * 6151) * (99991 if dtype == "u4" else 1) % (top + 1) if top > 1 else x * 0.37 - y * 1.3
    return np.asarray(values).astype(np.dtype(dtype).newbyteorder("=") if top > 1 else dtype)


def _samples(dtype: str, count: int) -> np.ndarray:
    base = _grey(dtype)
    return np.stack([np.roll(base, shift * 7, axis=1) for shift in range(count)], -1)


def _tw(data: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, data, metadata=None, **options)
    return buffer.getvalue()


@cache
def _fax_page() -> Image.Image:
    page = Image.new("1", (320, 240), 1)
    draw = ImageDraw.Draw(page)
    for line in range(9):
        draw.rectangle((16, 14 + line * 24, 40 + (line * 97) % 250, 24 + line * 24), fill=0)
    draw.text((16, 220), "Clinic letter, page 1", fill=0)
    return page


def _pillow(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "TIFF", **options)
    return buffer.getvalue()


def _fax(compression: str, **options: object) -> bytes:
    return _pillow(_fax_page(), compression=compression, dpi=(200, 200), **options)


def _jpeg_strip() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_samples("u1", 3)).save(buffer, "JPEG", quality=90, subsampling=2)
    return buffer.getvalue()


def _old_style_jpeg() -> bytes:
    """Compression 6 with JPEGInterchangeFormat pointing at a whole JFIF stream, as many 1990s scanners wrote."""
    jpeg = _jpeg_strip()
    return tiff(
        [(256, "H", [WIDTH]), (257, "H", [HEIGHT]), (258, "H", [8, 8, 8]), (259, "H", [6]), (262, "H", [6])]
        + [(273, "I", [STRIP]), (277, "H", [3]), (278, "H", [HEIGHT]), (279, "I", [len(jpeg)]), (284, "H", [1])]
        + [(513, "I", [STRIP]), (514, "I", [len(jpeg)]), (530, "H", [2, 2])],
        jpeg,
    )


def _restart_markers() -> bytes:
    """A JPEG strip with a restart marker every 2 MCUs (Pillow's JPEG writer), in a TIFF by tifffile."""
    buffer = io.BytesIO()
    Image.fromarray(_samples("u1", 3)).save(buffer, "JPEG", quality=90, subsampling=2, restart_marker_blocks=2)
    jpeg = buffer.getvalue()
    assert b"\xff\xdd" in jpeg and b"\xff\xd0" in jpeg  # DRI, RST0
    shape = (HEIGHT, WIDTH, 3)
    return _tw(iter([jpeg]), shape=shape, dtype="u1", compression="jpeg", photometric="ycbcr", subsampling=(2, 2))


def _jpeg_parts(jpeg: bytes) -> tuple[dict[int, bytes], dict[tuple[int, int], bytes], bytes]:
    """A baseline JPEG's quantisation tables by id, Huffman tables by (class, id), and its entropy-coded scan."""
    quantisation, huffman, at = {}, {}, 2
    while jpeg[at + 1] != 0xDA:
        marker, length = jpeg[at + 1], struct.unpack_from(">H", jpeg, at + 2)[0]
        payload, cursor = jpeg[at + 4 : at + 2 + length], 0
        while marker in (0xDB, 0xC4) and cursor < len(payload):
            if marker == 0xDB:  # DQT: 8-bit precision, id, 64 values in zigzag order
                quantisation[payload[cursor] & 15], cursor = payload[cursor + 1 : cursor + 65], cursor + 65
            else:  # DHT: class and id, 16 code counts, then the symbols
                size = 17 + sum(payload[cursor + 1 : cursor + 17])
                huffman[payload[cursor] >> 4, payload[cursor] & 15] = payload[cursor + 1 : cursor + size]
                cursor += size
        at += 2 + length
    scan_at = at + 2 + struct.unpack_from(">H", jpeg, at + 2)[0]
    return quantisation, huffman, jpeg[scan_at : jpeg.rindex(b"\xff\xd9")]


def _old_style_jpeg_tables() -> bytes:
    """Compression 6 with its tables in tags (JPEGQTables, JPEGDCTables, JPEGACTables) and the scan as its strip:
    the other kind TIFF 6.0 describes. Y uses tables 0, Cb and Cr tables 1, as libjpeg wrote them."""
    quantisation, huffman, scan = _jpeg_parts(_jpeg_strip())
    tables = [quantisation[0], quantisation[1], huffman[0, 0], huffman[0, 1], huffman[1, 0], huffman[1, 1]]
    starts = [sum(len(table) for table in tables[:index]) for index in range(len(tables))]

    def entries(at: int) -> list:
        q, dc, ac = ([at + starts[k], at + starts[k + 1], at + starts[k + 1]] for k in (0, 2, 4))
        return [(256, "H", [WIDTH]), (257, "H", [HEIGHT]), (258, "H", [8, 8, 8]), (259, "H", [6]), (262, "H", [6])] + [
            (273, "I", [at + sum(map(len, tables))]),
            (277, "H", [3]),
            (278, "H", [HEIGHT]),
            (279, "I", [len(scan)]),
            (284, "H", [1]),
            (512, "H", [1]),
            (519, "I", q),
            (520, "I", dc),
            (521, "I", ac),
            (530, "H", [2, 2]),
        ]

    payload = b"".join(tables) + scan
    layout = tiff(entries(0), payload)
    return tiff(entries(len(layout) - len(payload)), payload)


def _header_only(compression: int, photometric: int, bits: int, samples: int) -> bytes:
    """A page whose strip holds placeholder bytes under a compression no decoder here implements."""
    strip = bytes(range(256)) * 4
    return tiff(
        [(256, "H", [WIDTH]), (257, "H", [HEIGHT]), (258, "H", [bits] * samples), (259, "H", [compression])]
        + [(262, "H", [photometric]), (273, "I", [STRIP]), (277, "H", [samples]), (278, "H", [HEIGHT])]
        + [(279, "I", [len(strip)])],
        strip,
    )


def _subsampled_ycbcr() -> bytes:
    """Uncompressed YCbCr with 2×2 chroma subsampling: 4 Y samples then Cb, Cr for each 2×2 block."""
    blocks = (HEIGHT // 2) * (WIDTH // 2)
    strip = bytes((index * 37) % 256 for index in range(blocks * 6))
    return tiff(
        [(256, "H", [WIDTH]), (257, "H", [HEIGHT]), (258, "H", [8, 8, 8]), (259, "H", [1]), (262, "H", [6])]
        + [(273, "I", [STRIP]), (277, "H", [3]), (278, "H", [HEIGHT]), (279, "I", [len(strip)])]
        + [(284, "H", [1]), (530, "H", [2, 2])],
        strip,
    )


def _tags_out_of_order() -> bytes:
    data = _grey().tobytes()
    entries = [(256, "H", [WIDTH]), (257, "H", [HEIGHT]), (258, "H", [8]), (259, "H", [1]), (262, "H", [1])]
    entries += [(273, "I", [STRIP]), (277, "H", [1]), (278, "H", [HEIGHT]), (279, "I", [len(data)])]
    return tiff(entries[::-1] + [(65000, "A", ["a private tag"])], data, keep_order=True)


def _mixed_pages() -> bytes:
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as writer:
        writer.write(_grey(), metadata=None)
        writer.write(_samples("u2", 3), photometric="rgb", metadata=None)
        writer.write(_samples("u1", 3), photometric="rgb", compression="lzw", metadata=None)
    return buffer.getvalue()


def _palette(bits: int) -> bytes:
    """Indices into a colormap whose entries are multiples of 257, as 8-bit palettes are (16-bit ones too, here)."""
    entries = 2**bits
    levels = (np.arange(entries) * 255 // (entries - 1)).astype(np.uint16) * 257
    colormap = np.zeros((3, max(256, entries)), np.uint16)
    colormap[:, :entries] = np.stack([levels, levels[::-1], levels[(np.arange(entries) * 7) % entries]])
    indices = (_grey("u2").astype(np.uint32) % entries).astype(np.uint16 if bits > 8 else np.uint8)
    return _tw(indices, photometric="palette", colormap=colormap, bitspersample=bits if bits < 8 else None)


def _lzw_cut() -> bytes:
    return cut_strip(_pillow(Image.fromarray(_grey()), compression="tiff_lzw"), 0.5)


def _odd_photoshop_tag() -> bytes:
    return _tw(_samples("u1", 4), photometric="separated", compression="lzw", extratags=[(34377, "I", 2, (5, 6), True)])


def _fax_damaged(compression: str, damage: Callable[[bytes], bytes], **options: object) -> Callable[[], bytes]:
    return lambda: damage(_fax(compression, strip_size=2**30, **options))


def _rgb(dtype: str, samples: int = 3, **options: object) -> Callable[[], bytes]:
    return lambda: _tw(_samples(dtype, samples), **{"photometric": "rgb", **options})


def _planar(dtype: str, **options: object) -> Callable[[], bytes]:
    return lambda: _tw(np.moveaxis(_samples(dtype, 3), -1, 0), photometric="rgb", planarconfig="separate", **options)


def _grey_file(dtype: str = "u1", **options: object) -> Callable[[], bytes]:
    return lambda: _tw(_grey(dtype), **options)


FILES: dict[str, Callable[[], bytes]] = {
    "g4-fax": lambda: _fax("group4"),
    "g4-one-strip": lambda: _fax("group4", strip_size=2**30),
    "g4-min-is-white": lambda: set_tag(_fax("group4", strip_size=2**30), 262, 0),
    "g4-lsb-first": lambda: _fax("group4", tiffinfo={266: 2}),
    "g3-1d": lambda: _fax("group3"),
    "g3-2d": lambda: _fax("group3", tiffinfo={292: 1}),
    "ccitt-rle": lambda: _fax("tiff_ccitt"),
    "bilevel-packbits": _grey_file("b1", compression="packbits"),
    "grey8-lzw-predictor": _grey_file(compression="lzw", predictor=2),
    "grey8-min-is-white": _grey_file(photometric="miniswhite"),
    "grey8-tiled-deflate": _grey_file(tile=(16, 16), compression="zlib"),
    "grey8-many-strips": _grey_file(rowsperstrip=7),
    "grey8-bigtiff": _grey_file(bigtiff=True),
    "grey4": lambda: _tw(_grey() % 16, bitspersample=4),
    "grey2": lambda: _tw(_grey() % 4, bitspersample=2),
    "grey12": lambda: _tw(_grey("u2") % 4096, bitspersample=12),
    "grey16-lzw": _grey_file("u2", compression="lzw"),
    "grey16-big-endian": _grey_file("u2", byteorder=">"),
    "grey32-float-predictor": _grey_file("f4", compression="zlib", predictor=3),
    "grey16-float": _grey_file("f2"),
    "grey64-float": _grey_file("f8"),
    "grey32-unsigned": _grey_file("u4"),
    "grey16-signed": _grey_file("i2"),
    "grey8-signed": _grey_file("i1"),
    "rgb8-lzw": _rgb("u1", compression="lzw"),
    "rgb8-planar": _planar("u1", compression="lzw"),
    "rgb8-tiled-packbits": _rgb("u1", tile=(16, 16), compression="packbits"),
    "rgb16-lzw": _rgb("u2", compression="lzw"),
    "rgb16-planar-tiled": _planar("u2", tile=(16, 16), compression="zlib"),
    "rgb32-float": _rgb("f4"),
    "rgba8-unassociated": _rgb("u1", 4, extrasamples=["unassalpha"]),
    "rgba8-premultiplied": _rgb("u1", 4, extrasamples=["assocalpha"]),
    "rgb8-two-extra-samples": _rgb("u1", 5, extrasamples=[0, 0]),
    "palette8": lambda: _palette(8),
    "palette4": lambda: _palette(4),
    "palette16": lambda: _palette(16),
    "cmyk8-lzw": _rgb("u1", 4, photometric="separated", compression="lzw"),
    "cmyk8-lzw-pillow": lambda: _pillow(Image.fromarray(_samples("u1", 4), "CMYK"), compression="tiff_lzw"),
    "cmyk8-lzw-odd-tag": _odd_photoshop_tag,
    "cmyk16": _rgb("u2", 4, photometric="separated"),
    "lab8": _rgb("u1", photometric="cielab"),
    "lab16": _rgb("u2", photometric="cielab", compression="lzw"),
    "icc-lab8": _rgb("u1", photometric=9),
    "ycbcr-jpeg": _rgb("u1", photometric="ycbcr", compression="jpeg", subsampling=(2, 2)),
    "ycbcr-jpeg-pillow": lambda: _pillow(Image.fromarray(_samples("u1", 3)), compression="jpeg"),
    "grey-jpeg": _grey_file(compression="jpeg"),
    "ycbcr-jpeg-422-strips": _rgb("u1", photometric="ycbcr", compression="jpeg", subsampling=(2, 1), rowsperstrip=8),
    "ycbcr-jpeg-tiled": _rgb("u1", photometric="ycbcr", compression="jpeg", subsampling=(2, 2), tile=(16, 16)),
    "rgb-jpeg": _rgb("u1", photometric="rgb", compression="jpeg"),
    "cmyk-jpeg": _rgb("u1", 4, photometric="separated", compression="jpeg"),
    "jpeg-restart-markers": _restart_markers,
    "old-style-jpeg": _old_style_jpeg,
    "old-style-jpeg-tables": _old_style_jpeg_tables,
    "ycbcr-uncompressed": _rgb("u1", photometric="ycbcr"),
    "ycbcr-uncompressed-subsampled": _subsampled_ycbcr,
    "jbig": lambda: _header_only(34661, 1, 1, 1),
    "logluv": lambda: _header_only(34676, 32845, 16, 3),
    "odd-tags-unsorted": _tags_out_of_order,
    "odd-tags-xmp-as-ascii": _grey_file(extratags=[(700, "s", 0, "<x:xmpmeta/>", True)]),
    "odd-orientation": _rgb("u2", compression="lzw", extratags=[(274, "H", 1, 6, True)]),
    "pages-mixed": _mixed_pages,
    "damaged-g4-cut": _fax_damaged("group4", lambda data: cut_strip(data, 0.4)),
    "damaged-g4-flipped": _fax_damaged("group4", lambda data: flip_bits(data, [0.3])),
    "damaged-g3-cut": _fax_damaged("group3", lambda data: cut_strip(data, 0.4)),
    "damaged-g3-flipped": _fax_damaged("group3", lambda data: flip_bits(data, [0.3]), tiffinfo={292: 1}),
    "damaged-lzw-cut": _lzw_cut,
    "damaged-jpeg-cut": lambda: cut_strip(_tw(_samples("u1", 3), photometric="ycbcr", compression="jpeg"), 0.5),
}
