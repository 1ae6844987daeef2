"""A TIFF page's samples as a viewer shows them, read by tifffile: the yardstick of the TIFF variant tests.

Independent of the code under test: tifffile reads the source and the stored object alike; min-is-white is
inverted to min-is-black (the migration stores pages as shown), separate planes are put samples-last, and the
one orientation the variants use (6) is turned upright by hand. PNG objects (palette pages) are read by Pillow,
as indices, with their palette.
"""

from __future__ import annotations

import io

import numpy as np
import tifffile
from PIL import Image

from samples.tiff_variants import READ_BY_LIBTIFF_ONLY


def shown_samples(data: bytes, page: int = 0) -> np.ndarray:
    if data[:2] not in (b"II", b"MM"):
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image)
    with tifffile.TiffFile(io.BytesIO(data)) as tiff:
        tiff_page = tiff.pages[page]
        array = tiff_page.asarray()
        if tiff_page.planarconfig == 2 and tiff_page.samplesperpixel > 1:
            array = np.moveaxis(array, 0, -1)
        if tiff_page.photometric == 0:
            array = ~array if array.dtype == bool else np.iinfo(array.dtype).max - array
        orientation = tiff_page.tags.valueof(274)
    if orientation == 6:
        return np.rot90(array, -1)
    assert orientation in (None, 1), "the variants use orientation 6 only"
    return array


def expected_samples(variant: str, data: bytes, page: int = 0) -> np.ndarray:
    """The source page's samples as shown: tifffile's, or Pillow's (libtiff's) for what tifffile cannot read."""
    if variant not in READ_BY_LIBTIFF_ONLY:
        return shown_samples(data, page)
    with Image.open(io.BytesIO(data)) as image:
        image.seek(page)
        image.load()
        return np.asarray(image)


def palette_of(data: bytes, page: int = 0) -> list[int]:
    """A palette page's colours as 8-bit RGB triples, from a TIFF colormap or a PNG palette."""
    if data[:2] in (b"II", b"MM"):
        with tifffile.TiffFile(io.BytesIO(data)) as tiff:
            return (tiff.pages[page].colormap // 257).T.flatten().tolist()
    with Image.open(io.BytesIO(data)) as image:
        return image.getpalette()


def assert_same_samples(stored: np.ndarray, expected: np.ndarray) -> None:
    """Same shape, same sample type (whatever its byte order) and the same bits in every sample, NaNs included."""
    assert stored.shape == expected.shape, (stored.shape, expected.shape)
    assert stored.dtype.newbyteorder("=") == expected.dtype.newbyteorder("="), (stored.dtype, expected.dtype)
    native = expected.dtype.newbyteorder("=")
    assert np.ascontiguousarray(stored, native).tobytes() == np.ascontiguousarray(expected, native).tobytes()
