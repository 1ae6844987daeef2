"""One decode for a bilevel fax page: libtiff's, every report heard, its bits serving every later check.

Pillow decodes a fax page with libtiff but silences its warnings and leaves rows libtiff never wrote as it found
them, so such a page used to be decoded twice (Pillow, then libtiff_check.py's second read) and its pass-through
copy a third time. Here libtiff alone decodes the page, once, into a buffer pre-filled with a pattern, with error
and warning handlers of its own (libtiff_check.read_fax_page): the reports and unwritten rows judge the page as
before, and its packed bits (bilevel.py) give the pixel hash, ink coverage and perceptual hash. Only upright pages
(no Orientation, or 1) are read so: Pillow turns the others as it loads them, and those turned pixels are what is
hashed and stored.
"""

from __future__ import annotations

from PIL import TiffImagePlugin

from schemas.reasons import QuarantineError, Reason
from transforms.imaging.bilevel import BilevelPixels
from transforms.imaging.libtiff_check import FAX_COMPRESSIONS, judge, read_fax_page

_MIN_IS_WHITE, _MIN_IS_BLACK = 0, 1


def read_upright_fax(data: bytes, index: int, image: TiffImagePlugin.TiffImageFile, where: str) -> BilevelPixels | None:
    """Page index+1 (IMAGE, seeked to it, not loaded) as its bits; QuarantineError if libtiff finds it damaged; None
    when the page is not an upright striped fax page, or libtiff cannot read it so (Pillow then decodes it)."""
    tags = image.tag_v2
    if image.mode != "1" or tags.get(259) not in FAX_COMPRESSIONS or 322 in tags:
        return None
    if tags.get(274, 1) != 1 or tags.get(262) not in (_MIN_IS_WHITE, _MIN_IS_BLACK):
        return None
    read = read_fax_page(data, index)
    if read is None or read.row_bytes != (image.width + 7) // 8 or len(read.rows) != read.row_bytes * image.height:
        return None
    judge(read.found, where)
    if read.failed_strip is not None:
        raise QuarantineError(Reason.DECODE_ERROR, f"{where}: libtiff could not decode strip {read.failed_strip}")
    return BilevelPixels.from_samples(read.rows, image.width, image.height, tags.get(262) == _MIN_IS_WHITE)
