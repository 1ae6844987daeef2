"""Pages with no exact Pillow mode, written exactly by tifffile and proven by decoding the stored object.

16-bit colour stays 16-bit, float stays float, CMYK and Lab keep every sample at their depth, extra
samples and premultiplied alpha are kept as they were: a Deflate TIFF written by tifffile, with the
page's photometric interpretation, colormap, resolution and ICC profile. It is verified the way the
page was read: tifffile decodes the stored bytes and every sample must equal the source's, bit for bit
(NaNs included), with the same dtype and shape. No ImageDescription or Software tag is written, so the
same pixels always give the same bytes, and so the same object name.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import tifffile

from schemas.reasons import QuarantineError, Reason
from transforms.imaging.encode import EncodedPage, Encoding
from transforms.imaging.tiff_fallback import ArrayPage, plain

DEEP_DEFLATE_TIFF = Encoding("TIFF/Deflate", "TIFF", "tif", {"compression": "adobe_deflate"})
_DEFLATE_LEVEL = 6
#: Samples a photometric interpretation itself uses; any more are extra samples (TIFF tag 338).
_BASE_SAMPLES = {0: 1, 1: 1, 2: 3, 3: 1, 5: 4, 6: 3, 8: 3, 9: 3, 10: 3}


def array_mode(page: ArrayPage) -> str:
    """A mode name for lineage: photometric interpretation, extra samples and sample type ("RGB;uint16")."""
    try:
        name = tifffile.PHOTOMETRIC(page.photometric).name
    except ValueError:
        name = f"PHOTOMETRIC{page.photometric}"
    extras = f"+{len(page.extrasamples)}" if page.extrasamples else ""
    return f"{name}{extras};{page.array.dtype.name}"


def array_digest(page: ArrayPage) -> str:
    """SHA-256 over the mode, size and samples (little-endian): equal exactly when every sample is equal."""
    array = page.array
    digest = hashlib.sha256(f"{array_mode(page)}:{array.shape[1]}x{array.shape[0]}:".encode())
    digest.update(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes())
    return digest.hexdigest()


def _write(page: ArrayPage) -> bytes:
    buffer = io.BytesIO()
    samples = page.array.shape[2] if page.array.ndim == 3 else 1
    options: dict = {
        "photometric": page.photometric,
        "planarconfig": "contig" if samples > 1 else None,
        "compression": DEEP_DEFLATE_TIFF.options["compression"],
        "compressionargs": {"level": _DEFLATE_LEVEL},
        "metadata": None,
        "software": False,
    }
    extras = page.extrasamples or (0,) * max(0, samples - _BASE_SAMPLES.get(page.photometric, samples))
    if extras:
        options["extrasamples"] = extras
    if page.colormap is not None and page.photometric == 3:
        options["colormap"] = page.colormap
    if page.dpi:
        options.update(resolution=page.dpi, resolutionunit="INCH")
    if page.icc_profile:
        options["iccprofile"] = page.icc_profile
    tifffile.imwrite(buffer, page.array, **options)
    return buffer.getvalue()


def _read_back(data: bytes) -> np.ndarray:
    with tifffile.TiffFile(io.BytesIO(data)) as stored:
        page = stored.pages[0]
        array = page.asarray(maxworkers=1).reshape(page.shaped)
    planes, _, rows, columns, samples = page.shaped
    array = np.moveaxis(array[:, 0, ..., 0], 0, -1) if planes > 1 else array[0, 0]
    return array.reshape(rows, columns) if array.shape[-1] == 1 else array


def encode_array(page: ArrayPage, number: int) -> EncodedPage:
    """The page as a Deflate TIFF whose decoded samples equal the source's, or LOSSLESS_UNSUPPORTED saying why."""
    array = page.array
    what = f"page {number} ({page.description}, {array_mode(page)} {array.shape[1]}x{array.shape[0]})"
    try:
        data = _write(page)
        stored = _read_back(data)
    except Exception as error:  # the writer refusing a variant is this page's reason, never a crash
        raise QuarantineError(
            Reason.LOSSLESS_UNSUPPORTED, f"{what} cannot be written exactly ({plain(str(error))})"
        ) from error
    native = array.dtype.newbyteorder("=")
    if stored.dtype.newbyteorder("=") != native or stored.shape != array.shape:
        raise QuarantineError(
            Reason.LOSSLESS_VERIFY_FAILED, f"{what} read back as {stored.dtype.name} {stored.shape}, not {array.shape}"
        )
    if np.ascontiguousarray(stored, dtype=native).tobytes() != np.ascontiguousarray(array, dtype=native).tobytes():
        raise QuarantineError(Reason.LOSSLESS_VERIFY_FAILED, f"{what}: the stored object decodes to other samples")
    height, width = array.shape[:2]
    return EncodedPage(data, DEEP_DEFLATE_TIFF, array_digest(page), width, height, array_mode(page), page.dpi)
