"""Which documents are decoded in the isolated child under --decode_isolation=risky.

Isolation costs a little on every document (measured in benchmarks/isolation.py), so
this policy keeps the bulk of a scanned archive (TIFF with the common compressions,
JPEG, PNG, of ordinary size) in-process and sends the rest to the child: rarer
decoders (JPEG 2000, WebP, GIF, BMP), PDFs (qpdf parses them), exotic TIFF compressions
(old-style JPEG, ThunderScan, …), unparseable headers and very large blobs.
"""

from __future__ import annotations

from transforms.imaging.signatures import sniff_format
from transforms.imaging.tiff_structure import COMMON_COMPRESSIONS, first_page_compression

LARGE_DOCUMENT_BYTES = 32 * 2**20
_EVERYDAY_FORMATS = frozenset({"TIFF", "JPEG", "PNG"})


def looks_risky(data: bytes) -> bool:
    if len(data) > LARGE_DOCUMENT_BYTES:
        return True
    image_format = sniff_format(data)
    if image_format not in _EVERYDAY_FORMATS:
        return True
    if image_format == "TIFF":
        return first_page_compression(data) not in COMMON_COMPRESSIONS
    return False
