"""Every TIFF variant the migration is tested against, and what happens to each: one table, three uses.

tests/imaging/test_tiff_variants.py decodes each one, tests/pipelines/test_tiff_variants_end_to_end.py
migrates them all through the real pipeline, and docs/formats.md's coverage table is generated from this
same table (pipelines/generators/docs.py), so the docs cannot claim what no test checks. The file behind each row is
in samples/tiff_variant_files.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from samples.tiff_variant_files import FILES

KEPT = "kept"

#: name | compression | colour | layout | bits | outcome (kept, or the reason code) | read by | stored as
_TABLE = """
g4-fax | Group 4 fax | min-is-black | strips | 1 | kept | pillow | TIFF/CCITT-G4
g4-one-strip | Group 4 fax | min-is-black | one strip per page | 1 | kept | pillow | TIFF/CCITT-G4
g4-min-is-white | Group 4 fax | min-is-white | one strip per page | 1 | kept | pillow | TIFF/CCITT-G4
g4-lsb-first | Group 4 fax | min-is-black | strips, FillOrder 2 | 1 | kept | pillow | TIFF/CCITT-G4
g3-1d | Group 3 fax (1D) | min-is-black | strips | 1 | kept | pillow | TIFF/CCITT-G4
g3-2d | Group 3 fax (2D) | min-is-black | strips | 1 | kept | pillow | TIFF/CCITT-G4
ccitt-rle | CCITT RLE | min-is-black | strips | 1 | kept | pillow | TIFF/CCITT-G4
bilevel-packbits | PackBits | min-is-black | strips | 1 | kept | pillow | TIFF/CCITT-G4
grey8-lzw-predictor | LZW, predictor 2 | min-is-black | strips | 8 | kept | pillow | TIFF/Deflate
grey8-min-is-white | uncompressed | min-is-white | strips | 8 | kept | pillow | TIFF/Deflate
grey8-tiled-deflate | Deflate | min-is-black | tiled 16×16 | 8 | kept | pillow | TIFF/Deflate
grey8-many-strips | uncompressed | min-is-black | strips of 7 rows | 8 | kept | pillow | TIFF/Deflate
grey8-bigtiff | uncompressed | min-is-black | BigTIFF | 8 | kept | pillow | TIFF/Deflate
grey4 | uncompressed | min-is-black | strips | 4 | kept | pillow | TIFF/Deflate
grey2 | uncompressed | min-is-black | strips | 2 | kept | pillow | TIFF/Deflate
grey12 | uncompressed | min-is-black | strips | 12 | kept | pillow | TIFF/Deflate
grey16-lzw | LZW | min-is-black | strips | 16 | kept | pillow | TIFF/Deflate
grey16-big-endian | uncompressed | min-is-black | strips, big-endian | 16 | kept | pillow | TIFF/uncompressed
grey32-float-predictor | Deflate, predictor 3 | min-is-black | strips | 32 float | kept | pillow | TIFF/Deflate
grey16-float | uncompressed | min-is-black | strips | 16 float | kept | tifffile | TIFF/Deflate
grey64-float | uncompressed | min-is-black | strips | 64 float | kept | tifffile | TIFF/Deflate
grey32-unsigned | uncompressed | min-is-black | strips | 32 | kept | tifffile | TIFF/Deflate
grey16-signed | uncompressed | min-is-black | strips | 16 signed | kept | tifffile | TIFF/Deflate
grey8-signed | uncompressed | min-is-black | strips | 8 signed | kept | tifffile | TIFF/Deflate
rgb8-lzw | LZW | RGB | strips | 8 | kept | pillow | TIFF/Deflate
rgb8-planar | LZW | RGB | planar | 8 | kept | pillow | TIFF/Deflate
rgb8-tiled-packbits | PackBits | RGB | tiled 16×16 | 8 | kept | pillow | TIFF/Deflate
rgb16-lzw | LZW | RGB | strips | 16 | kept | tifffile | TIFF/Deflate
rgb16-planar-tiled | Deflate | RGB | planar, tiled 16×16 | 16 | kept | tifffile | TIFF/Deflate
rgb32-float | uncompressed | RGB | strips | 32 float | kept | tifffile | TIFF/Deflate
rgba8-unassociated | uncompressed | RGB + alpha | strips | 8 | kept | pillow | TIFF/Deflate
rgba8-premultiplied | uncompressed | RGB + premultiplied alpha | strips | 8 | kept | tifffile | TIFF/Deflate
rgb8-two-extra-samples | uncompressed | RGB + 2 extra samples | strips | 8 | kept | tifffile | TIFF/Deflate
palette8 | uncompressed | palette | strips | 8 | kept | pillow | PNG
palette4 | uncompressed | palette | strips | 4 | kept | pillow | PNG
palette16 | uncompressed | palette | strips | 16 | kept | tifffile | TIFF/Deflate
cmyk8-lzw | LZW | CMYK | strips | 8 | kept | pillow | TIFF/Deflate
cmyk8-lzw-pillow | LZW | CMYK | strips, written by Pillow | 8 | kept | pillow | TIFF/Deflate
cmyk8-lzw-odd-tag | LZW | CMYK | strips, Photoshop tag typed LONG | 8 | kept | pillow | TIFF/Deflate
cmyk16 | uncompressed | CMYK | strips | 16 | kept | tifffile | TIFF/Deflate
lab8 | uncompressed | CIE L*a*b* | strips | 8 | kept | pillow | TIFF/Deflate
lab16 | LZW | CIE L*a*b* | strips | 16 | kept | tifffile | TIFF/Deflate
icc-lab8 | uncompressed | ICC L*a*b* | strips | 8 | kept | tifffile | TIFF/Deflate
ycbcr-jpeg | JPEG | YCbCr 2×2 | one strip | 8 | kept | pillow | JPEG/from-TIFF
ycbcr-jpeg-pillow | JPEG | YCbCr | one strip, JPEGTables, written by Pillow | 8 | kept | pillow | JPEG/from-TIFF
grey-jpeg | JPEG | min-is-black | one strip | 8 | kept | pillow | JPEG/from-TIFF
ycbcr-jpeg-422-strips | JPEG | YCbCr 2×1 | strips of 8 rows | 8 | kept | pillow | TIFF/JPEG
ycbcr-jpeg-tiled | JPEG | YCbCr 2×2 | tiled 16×16 | 8 | kept | pillow | TIFF/JPEG
rgb-jpeg | JPEG | RGB | one strip | 8 | kept | pillow | JPEG/from-TIFF
cmyk-jpeg | JPEG | CMYK | one strip | 8 | kept | pillow | TIFF/JPEG
jpeg-restart-markers | JPEG | YCbCr 2×2 | one strip, restart markers | 8 | kept | pillow | JPEG/from-TIFF
old-style-jpeg | old-style JPEG | YCbCr 2×2 | JPEGInterchangeFormat | 8 | kept | pillow | JPEG/old-style-TIFF-stream
old-style-jpeg-tables | old-style JPEG | YCbCr 2×2 | tables in tags | 8 | kept | pillow | TIFF/Deflate
ycbcr-uncompressed | uncompressed | YCbCr | strips | 8 | kept | tifffile | TIFF/Deflate
ycbcr-uncompressed-subsampled | uncompressed | YCbCr 2×2 | strips | 8 | IMAGE_VARIANT_UNSUPPORTED | — | —
jbig | JBIG | min-is-black | strips | 1 | IMAGE_VARIANT_UNSUPPORTED | — | —
logluv | SGI LogL | LogLuv | strips | 16 | IMAGE_VARIANT_UNSUPPORTED | — | —
odd-tags-unsorted | uncompressed | min-is-black | tags out of order, a private tag | 8 | kept | pillow | TIFF/Deflate
odd-tags-xmp-as-ascii | uncompressed | min-is-black | XMP tag typed ASCII | 8 | kept | tifffile | TIFF/Deflate
odd-orientation | LZW | RGB | Orientation 6 | 16 | kept | tifffile | TIFF/Deflate
pages-mixed | uncompressed, LZW | grey, RGB | 3 pages | 8, 16, 8 | kept | pillow, tifffile | TIFF/Deflate
damaged-g4-cut | Group 4 fax | min-is-black | one strip, data ends at 40% | 1 | TRUNCATED_IMAGE | — | —
damaged-g4-flipped | Group 4 fax | min-is-black | one strip, one bit flipped | 1 | DECODE_ERROR | — | —
damaged-g3-cut | Group 3 fax (1D) | min-is-black | one strip, data ends at 40% | 1 | DECODE_ERROR | — | —
damaged-g3-flipped | Group 3 fax (2D) | min-is-black | one strip, one bit flipped | 1 | DECODE_ERROR | — | —
damaged-lzw-cut | LZW | min-is-black | one strip, data ends at 50% | 8 | TRUNCATED_IMAGE | — | —
damaged-jpeg-cut | JPEG | YCbCr 2×2 | one strip, data ends at 50% | 8 | TRUNCATED_IMAGE | — | —
"""

NOTES = {
    "grey8-min-is-white": "stored min-is-black with values inverted: shown the same",
    "grey4": "Pillow expands to 8 bits (×17, reversible)",
    "grey2": "Pillow expands to 8 bits (×85, reversible)",
    "grey12": "values kept, in 16-bit words",
    "grey32-unsigned": "Pillow would read it as signed",
    "rgb16-lzw": "Pillow would reduce it to 8 bits",
    "rgba8-premultiplied": "Pillow would divide the alpha out",
    "rgb8-two-extra-samples": "Pillow would drop them",
    "cmyk8-lzw-odd-tag": "was a crash: the source's tags were copied into the stored file",
    "ycbcr-jpeg": "its JPEG data kept: JPEGTables + the strip, decoded to the page's pixels",
    "ycbcr-jpeg-422-strips": "its strips and JPEGTables kept in a single-page TIFF",
    "cmyk-jpeg": "a JPEG file would change CMYK's reading: the strip kept in a TIFF",
    "old-style-jpeg": "its whole JPEG stream kept as a JPEG file; libtiff's YCbCr conversion is up to 69 levels off it",
    "old-style-jpeg-tables": "decoded by libtiff, as legacy viewers did; tifffile cannot read it",
    "ycbcr-uncompressed": "samples kept as YCbCr; Pillow called it truncated",
    "odd-tags-xmp-as-ascii": "Pillow raised TypeError on it",
    "odd-orientation": "stored upright, as Pillow stores TIFF pages",
    "pages-mixed": "each page read by the decoder that reads it exactly",
    "damaged-g4-cut": "was migrated as if whole; the message names the row where the data ends",
}
#: Variants whose expected samples are Pillow's (libtiff's) decode of the source: tifffile cannot read them.
READ_BY_LIBTIFF_ONLY = frozenset({"old-style-jpeg-tables"})
#: Stored samples = source samples × scale: Pillow's exact expansion of 2- and 4-bit grey.
SCALES = {"grey4": 17, "grey2": 85}


@dataclass(frozen=True)
class Variant:
    """One row of the coverage table: what the file is, which decoder reads it, what is stored, the outcome."""

    name: str
    compression: str
    colour: str
    layout: str
    bits: str
    outcome: str  # KEPT, or the reason code it is quarantined with
    decoders: tuple[str, ...]  # pillow | tifffile, per distinct decoder of its pages, for kept variants
    stored: str
    build: Callable[[], bytes]
    scale: int = 1
    note: str = ""


def _variant(line: str) -> Variant:
    name, compression, colour, layout, bits, outcome, read_by, stored = (cell.strip() for cell in line.split("|"))
    decoders = tuple(read_by.split(", ")) if outcome == KEPT else ()
    return Variant(
        name,
        compression,
        colour,
        layout,
        bits,
        outcome,
        decoders,
        stored,
        FILES[name],
        SCALES.get(name, 1),
        NOTES.get(name, ""),
    )


VARIANTS: tuple[Variant, ...] = tuple(_variant(line) for line in _TABLE.strip().splitlines())
VARIANTS_BY_NAME = {variant.name: variant for variant in VARIANTS}


def coverage_markdown() -> str:
    """docs/formats.md's coverage table: one row per variant, each checked by tests named after its variant."""
    lines = [
        "| variant | compression | colour | layout | bits | outcome | read by | stored as | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in VARIANTS:
        outcome = "kept exactly" if v.outcome == KEPT else f"quarantined: {v.outcome}"
        read_by = ", ".join(v.decoders) or "—"
        lines.append(
            f"| `{v.name}` | {v.compression} | {v.colour} | {v.layout} | {v.bits} | {outcome} | {read_by} | "
            f"{v.stored} | {v.note} |"
        )
    return "\n".join(lines)
