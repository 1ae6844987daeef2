"""A tifffile page as a Pillow image where Pillow has an exact mode for it, and a grey view for page checks.

Pages tifffile read because Pillow could not (an odd tag, an unusual layout) are often plain 8-bit grey or
RGB: as Pillow images they take the usual archive encodings (Group 4, PNG, Deflate TIFF) and hash alike
with the same pixels read by Pillow, so duplicates are still found across decoders. Pages with no exact
Pillow mode (16-bit colour, float colour, 16-bit CMYK or Lab, signed samples, extra samples, YCbCr) stay
arrays (deep_encode.py); the grey view only feeds the ink coverage and perceptual hash, and is never stored.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from transforms.imaging.tiff_fallback import ArrayPage

MINISWHITE, MINISBLACK, RGB, PALETTE, SEPARATED, YCBCR = 0, 1, 2, 3, 5, 6
_UNASSOCIATED_ALPHA = 2


def _palette(page: ArrayPage) -> list[int] | None:
    """The colormap as Pillow's 8-bit palette, only when that loses nothing (entries that are multiples of 257)."""
    colormap = page.colormap
    if colormap is None or colormap.shape[0] != 3 or colormap.shape[1] > 256 or (colormap % 257).any():
        return None
    return (colormap // 257).T.astype(np.uint8).flatten().tolist()


def as_pillow(page: ArrayPage) -> Image.Image | None:
    """The page as a Pillow image whose pixels equal the array's value for value, or None when there is none."""
    array, photometric, extras = page.array, page.photometric, page.extrasamples
    kind = (array.dtype.str.lstrip("<>=|"), array.ndim, array.shape[-1] if array.ndim == 3 else 1)
    if photometric in (MINISWHITE, MINISBLACK) and not extras and array.ndim == 2:
        if kind[0] == "b1":
            return Image.fromarray(~array if photometric == MINISWHITE else array)
        if kind[0] == "u1":
            return Image.fromarray(255 - array if photometric == MINISWHITE else array, "L")
        if photometric == MINISBLACK and kind[0] == "u2":
            return Image.frombytes("I;16", (array.shape[1], array.shape[0]), array.astype("<u2").tobytes())
        if photometric == MINISBLACK and kind[0] == "f4":
            return Image.fromarray(array, "F")
        if photometric == MINISBLACK and kind[0] == "i4":
            return Image.fromarray(array, "I")
    if photometric == PALETTE and kind == ("u1", 2, 1) and (palette := _palette(page)) is not None:
        image = Image.fromarray(array, "P")
        image.putpalette(palette)
        return image
    size = (array.shape[1], array.shape[0])
    if photometric == RGB and kind == ("u1", 3, 3) and not extras:
        return Image.frombytes("RGB", size, array.tobytes())
    if photometric == RGB and kind == ("u1", 3, 4) and extras == (_UNASSOCIATED_ALPHA,):
        return Image.frombytes("RGBA", size, array.tobytes())
    if photometric == SEPARATED and kind == ("u1", 3, 4) and not extras:
        return Image.frombytes("CMYK", size, array.tobytes())
    return None


def _to_8_bits(samples: np.ndarray) -> np.ndarray:
    """Unsigned samples scaled by the smallest bit depth that holds them (12-bit data in 16-bit words looks as it
    should); signed and float samples by their own range."""
    if samples.dtype == bool:
        return samples.astype(np.uint8) * 255
    values = np.nan_to_num(samples.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if samples.dtype.kind == "u":
        top = (1 << max(8, int(samples.max(initial=0)).bit_length())) - 1
        return (values * (255 / top)).astype(np.uint8)
    low, high = float(values.min()), float(values.max())
    return ((values - low) * (255 / (high - low)) if high > low else values * 0).astype(np.uint8)


def preview(page: ArrayPage) -> Image.Image:
    """An 8-bit grey view of any page, for ink coverage and the perceptual hash only."""
    array = page.array
    if page.photometric == PALETTE and page.colormap is not None:
        indices = array[..., 0] if array.ndim == 3 else array  # extra samples (alpha) do not index the colormap
        array = np.moveaxis(page.colormap[:, np.clip(indices, 0, page.colormap.shape[1] - 1)], 0, -1)
    if array.ndim == 2:
        grey = _to_8_bits(array)
    elif page.photometric in (RGB, PALETTE) and array.shape[-1] >= 3:
        weights = np.array([0.299, 0.587, 0.114])
        grey = _to_8_bits((array[..., :3].astype(np.float64) @ weights).astype(array.dtype))
    elif page.photometric == SEPARATED:
        grey = 255 - _to_8_bits(array[..., : min(4, array.shape[-1])].max(axis=-1))
    else:  # YCbCr and the L*a*b* family: the first sample is the lightness
        grey = _to_8_bits(array[..., 0])
    return Image.fromarray(255 - grey if page.photometric == MINISWHITE else grey, "L")
