"""Resource ids: deterministic and free of identifiers.

A legacy document id may itself be an NHS or hospital number, and an unkeyed hash of a 10-digit number is
reversed by trying them all; so ids are an HMAC under the run's patient key (the key that makes pseudonyms),
truncated to 160 bits, written as 40 letters a-p (FHIR allows 64 characters). The same document, reference and
key give the same id in every run, which is what fhirStores.import needs to overwrite rather than duplicate.
"""

from __future__ import annotations

import hashlib
import hmac

_SEPARATOR = "\x1f"


#: Sixteen letters for the sixteen values of a hex digit: an id never holds a digit, so never a run of ten digits
#: that an identifier scan (transforms/privacy/pseudonyms.py) would take for an NHS number.
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def _keyed(key: bytes, *parts: str) -> str:
    return hmac.new(key, _SEPARATOR.join(parts).encode(), hashlib.sha256).hexdigest()[:40].translate(_LETTERS)


def document_reference_id(key: bytes, source_system: str, document_id: str, reference_sha256: str) -> str:
    """One DocumentReference per document and reference: a changed reference is a new resource (relatesTo
    replaces the old one)."""
    return _keyed(key, "DocumentReference", source_system, document_id, reference_sha256)


def provenance_id(key: bytes, document_reference_id: str, run_id: str) -> str:
    """One Provenance per DocumentReference per run that wrote it."""
    return _keyed(key, "Provenance", document_reference_id, run_id)
