"""What a TIFF page is, in words an operator can act on, and whether Pillow reads it exactly.

One vocabulary for both decoders: the compression, photometric interpretation, bits per sample and
layout of a page, read from its tags (Pillow's tag_v2 or tifffile's tags, as a plain mapping), so a
quarantine message says "page 2 (LZW, RGB, 16-bit, planar)" rather than what a library's exception said.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

COMPRESSION = 259
PHOTOMETRIC = 262
BITS_PER_SAMPLE = 258
SAMPLES_PER_PIXEL = 277
PLANAR_CONFIGURATION = 284
TILE_WIDTH = 322
EXTRA_SAMPLES = 338
SAMPLE_FORMAT = 339
JPEG_INTERCHANGE_FORMAT = 513

COMPRESSION_NAMES = {
    1: "uncompressed",
    2: "CCITT RLE",
    3: "Group 3 fax",
    4: "Group 4 fax",
    5: "LZW",
    6: "old-style JPEG",
    7: "JPEG",
    8: "Deflate",
    9: "JBIG",
    10: "JBIG colour",
    32766: "NeXT",
    32771: "CCITT RLEW",
    32773: "PackBits",
    32809: "ThunderScan",
    32946: "Deflate (old code)",
    34661: "JBIG",
    34676: "SGI LogL",
    34677: "SGI LogLuv",
    34712: "JPEG 2000",
    34925: "LZMA",
    50000: "Zstandard",
    50001: "WebP",
}
PHOTOMETRIC_NAMES = {
    0: "min-is-white",
    1: "min-is-black",
    2: "RGB",
    3: "palette",
    4: "transparency mask",
    5: "CMYK",
    6: "YCbCr",
    8: "CIE L*a*b*",
    9: "ICC L*a*b*",
    10: "ITU L*a*b*",
    32844: "LogL",
    32845: "LogLuv",
}
_SAMPLE_FORMATS = {2: " signed", 3: " float", 4: " untyped", 5: " complex integer", 6: " complex float"}

#: (Pillow mode, bits per sample, sample format) that Pillow decodes value for value. Anything else it reduces
#: (16-bit colour to 8), reinterprets (unsigned 32-bit as signed, signed 8-bit as unsigned), widens (signed
#: 16-bit to 32) or cannot open: the page is read by tifffile instead. 2- and 4-bit grey are expanded to 8 bits
#: by an exact, reversible scale (×85, ×17), as every viewer shows them.
PILLOW_EXACT = frozenset(
    {("1", 1, 1), ("L", 8, 1), ("L", 4, 1), ("L", 2, 1), ("RGB", 8, 1), ("RGBA", 8, 1), ("CMYK", 8, 1)}
    | {("LA", 8, 1), ("PA", 8, 1)}
    | {("LAB", 8, 1), ("F", 32, 3), ("I", 32, 2)}
    | {("P", bits, 1) for bits in range(1, 9)}
    | {(mode, bits, 1) for mode in ("I;16", "I;16B", "I;16L", "I;16N") for bits in range(9, 17)}
)
_BANDS = {"1": 1, "L": 1, "P": 1, "I;16": 1, "I;16B": 1, "I;16L": 1, "I;16N": 1, "F": 1, "I": 1}


def _tuple(value: Any) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _first(tags: Mapping[int, Any], tag: int, default: int) -> int:
    values = _tuple(tags.get(tag))
    return int(values[0]) if values else default


def describe_tags(tags: Mapping[int, Any]) -> str:
    """Compression, colour, bits per sample and layout: "LZW, RGB, 16-bit, tiled, planar"."""
    compression = _first(tags, COMPRESSION, 1)
    photometric = tags.get(PHOTOMETRIC)
    bits = sorted(set(_tuple(tags.get(BITS_PER_SAMPLE)) or (1,)))
    parts = [
        COMPRESSION_NAMES.get(compression, f"compression {compression}"),
        PHOTOMETRIC_NAMES.get(_first(tags, PHOTOMETRIC, -1), f"photometric {photometric}")
        if photometric is not None
        else "no photometric interpretation",
        "/".join(str(b) for b in bits) + "-bit" + _SAMPLE_FORMATS.get(_first(tags, SAMPLE_FORMAT, 1), ""),
    ]
    samples = _first(tags, SAMPLES_PER_PIXEL, 1)
    extras = len(_tuple(tags.get(EXTRA_SAMPLES)))
    if extras:
        parts.append(f"{samples} samples ({extras} extra)")
    if tags.get(TILE_WIDTH) is not None:
        parts.append("tiled")
    if _first(tags, PLANAR_CONFIGURATION, 1) == 2 and samples > 1:
        parts.append("planar")
    return ", ".join(parts)


def pillow_reads_exactly(mode: str, tags: Mapping[int, Any]) -> bool:
    """True when Pillow's decode of this page is its pixels value for value, every sample kept."""
    bits = set(_tuple(tags.get(BITS_PER_SAMPLE)) or (1,))
    if len(bits) != 1:
        return False
    key = (mode, bits.pop(), _first(tags, SAMPLE_FORMAT, 1))
    if key not in PILLOW_EXACT:
        return False
    if _first(tags, COMPRESSION, 1) == 6:  # old-style JPEG: libtiff, the legacy viewers' decoder, is of record for
        return JPEG_INTERCHANGE_FORMAT not in tags  # the tables-in-tags kind; a whole stream is kept (jpeg_streams.py)
    if _first(tags, PHOTOMETRIC, -1) == 6 and _first(tags, COMPRESSION, 1) != 7:
        return False  # uncompressed or LZW YCbCr: Pillow mistakes its (subsampled) layout
    samples = _first(tags, SAMPLES_PER_PIXEL, 1)
    extras = _tuple(tags.get(EXTRA_SAMPLES))
    if mode in ("RGBA", "LA", "PA"):  # unassociated alpha (or none said); premultiplied alpha Pillow divides out
        return samples == len(mode) and extras in ((), (2,))
    if mode in ("RGB", "CMYK", "LAB"):
        return samples == len(mode) and not extras  # an extra sample Pillow would drop
    return samples == _BANDS.get(mode, samples)
