"""Proprietary headers before an image (FileNet-style): a source's declared policy, never a guess.

Without a policy nothing is searched: a blob whose first bytes name no format is
UNSUPPORTED_FORMAT. Searching every blob for a signature is how a PDF's embedded JPEG or an
EPS file's TIFF preview used to be migrated as if it were the document. A profile asks for
one of:

- "search": look for a signature in the first 4 KiB. The search stops at the first known
  signature of any kind, so a container found there is handled as that container, never
  searched through for an image inside it;
- a fixed length N: the header is exactly N bytes, and a known format must start at byte N.

Either way, a blob whose own first bytes already name a format has no header.
"""

from __future__ import annotations

from schemas.reasons import QuarantineError, Reason
from transforms.imaging.signatures import FOREIGN_SIGNATURES, IMAGE_SIGNATURES, sniff

SEARCH = "search"
LegacyHeader = str | int | None  # None: no header; "search"; or a fixed length in bytes
LEGACY_HEADER_SEARCH_BYTES = 4096


def _distinctive(signature: bytes) -> bool:
    """Long or binary enough not to occur by chance in a proprietary header: BMP's "BM" would, and so would
    "%!", or ICO's 00 00 01 00 (a 32-bit 65536, in a header of small binary fields)."""
    if len(signature) >= 8:
        return True
    binary = any(byte < 0x20 or byte > 0x7E for byte in signature)
    return len(signature) >= 3 and binary and sum(1 for byte in signature if byte) >= 3


#: What the search looks for: images (3 bytes or more, as ever), PDF, and the containers, so that it stops at one.
SEARCHED_SIGNATURES: tuple[bytes, ...] = (
    *(signature for signature, _ in IMAGE_SIGNATURES if len(signature) >= 3),
    b"%PDF-",
    *(signature for signature, _, _ in FOREIGN_SIGNATURES if _distinctive(signature)),
)


def legacy_header_length(data: bytes, policy: LegacyHeader) -> int:
    """Bytes of proprietary header before the document, under the source's policy; 0 when there is none.

    A fixed length that does not fit the blob is a LEGACY_HEADER_MISMATCH; finding nothing is left to the
    caller, whose sniff then names the blob UNSUPPORTED_FORMAT.
    """
    if policy is None or sniff(data) is not None:
        return 0
    if policy == SEARCH:
        window = data[:LEGACY_HEADER_SEARCH_BYTES]
        found = [index for signature in SEARCHED_SIGNATURES if (index := window.find(signature)) > 0]
        return min(found) if found else 0
    if isinstance(policy, bool) or not isinstance(policy, int) or policy < 1:
        raise ValueError(f"legacy_header must be {SEARCH!r} or a length of at least 1, got {policy!r}")
    if policy >= len(data):
        raise QuarantineError(
            Reason.LEGACY_HEADER_MISMATCH,
            f"the profile's {policy}-byte legacy header is as long as the blob or longer ({len(data)} bytes)",
        )
    if sniff(data[policy:]) is None:
        raise QuarantineError(
            Reason.LEGACY_HEADER_MISMATCH,
            f"no known format starts after the profile's {policy}-byte legacy header "
            f"(byte {policy} on: {data[policy : policy + 8].hex()}; the blob starts {data[:8].hex()})",
        )
    return policy
