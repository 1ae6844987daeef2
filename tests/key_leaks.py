"""Looking for a secret in what Beam serialises: raw, hex, base64, and inside pickled payloads.

Beam packs each pickled DoFn as base64 of a bz2- or zlib-compressed pickle, so a plain search of a pipeline proto
would miss a key held by a DoFn; every long base64 run is unpacked and searched too.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import re
import zlib

_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{24,}={0,2}")


def key_forms(key: bytes) -> list[bytes]:
    return [key, key.hex().encode(), key.hex().upper().encode(), base64.b64encode(key), base64.urlsafe_b64encode(key)]


def unpacked(blob: bytes) -> list[bytes]:
    """blob itself, and every base64 run in it that decodes and decompresses (bz2 or zlib), recursively once."""
    found = [blob]
    for run in _BASE64_RUN.findall(blob):
        try:
            raw = base64.b64decode(run + b"=" * (-len(run) % 4))
        except binascii.Error:
            continue
        for decompress in (bz2.decompress, zlib.decompress):
            try:
                found.append(decompress(raw))
            except (OSError, ValueError, zlib.error):
                continue
    return found


def places_holding(key: bytes, blobs: dict[str, bytes]) -> list[str]:
    """The names of the blobs (or their unpacked payloads) in which any form of key occurs."""
    forms = key_forms(key)
    return sorted(
        name for name, blob in blobs.items() if any(form in part for part in unpacked(blob) for form in forms)
    )
