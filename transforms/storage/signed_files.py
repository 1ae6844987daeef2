"""Signed lineage files: each file a run writes under PREFIX/lineage/ carries a MAC in its name.

The key is the evidence key (transforms/privacy/evidence_key.py); here only bytes in, names and writes out.
The MAC is in the file's name, `<stem>.mac-<32 hex><.parquet|.json>`, over the name without it and the SHA-256 of
the bytes. In the name rather than inside the file because:
- one rule covers Parquet and JSON alike, and checking it needs no parser: a truncated or edited file is found
  mis-signed before anything tries to read it as a table;
- it covers the bytes exactly (no re-serialisation of a table to recompute it), and the SHA-256 the run chain
  computes anyway is all it needs, so verifying costs no extra read;
- nothing in a file can be confused with it, and a file renamed (to claim another run) no longer verifies.
A retried bundle writing the same rows finds a file of the same stem and keeps it, as write_once always has.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Protocol

from apache_beam.io.filesystems import FileSystems

from transforms.storage.objects import write_once

_TAG = re.compile(r"^(?P<stem>.+)\.mac-(?P<tag>[0-9a-f]{32})(?P<ext>\.[A-Za-z0-9]+)$")
TAG_HEX = 32


class SigningKey(Protocol):
    """Where a writer on a worker gets the evidence key (privacy/evidence_key.EvidenceKeySource): picklable, no key
    in it, the key fetched in setup()."""

    def key(self) -> bytes: ...


def mac(key: bytes, name: str, sha256: str) -> str:
    """The tag of a file called `name` (its unsigned name) whose bytes hash to `sha256`."""
    message = b"edms-migrate/lineage-file/1\n" + name.encode("utf-8") + b"\n" + sha256.encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:TAG_HEX]


def _split(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    return (stem, f".{ext}") if dot and stem else (name, "")


@dataclass(frozen=True)
class Signature:
    """What a file's name says of it: its unsigned name and its tag (None: not signed)."""

    unsigned_name: str
    tag: str | None

    @classmethod
    def of(cls, name: str) -> Signature:
        found = _TAG.match(name)
        if found is None:
            return cls(name, None)
        return cls(found["stem"] + found["ext"], found["tag"])

    def valid(self, key: bytes, sha256: str) -> bool:
        return self.tag is not None and hmac.compare_digest(self.tag, mac(key, self.unsigned_name, sha256))


def signed_name(name: str, key: bytes, data: bytes) -> str:
    stem, ext = _split(name)
    return f"{stem}.mac-{mac(key, name, hashlib.sha256(data).hexdigest())}{ext}"


def signed_files(uri: str) -> list[str]:
    """The signed files written under an unsigned URI (normally one; a retry that wrote other bytes, two)."""
    folder, name = uri.rsplit("/", 1)
    stem, ext = _split(name)
    pattern = FileSystems.join(folder, f"{stem}.mac-*{ext}")
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list if Signature.of(m.path).tag)


def write_signed_once(uri: str, data: bytes, key: bytes | None) -> str:
    """Write data under uri's signed name (key None: under uri itself, as unit tests of a step do); a file of the
    same unsigned name already there (a retried bundle's) is kept. Returns the URI that holds the rows."""
    if key is None:
        write_once(uri, data)
        return uri
    earlier = signed_files(uri)
    if earlier:
        return earlier[0]
    folder, name = uri.rsplit("/", 1)
    signed = f"{folder}/{signed_name(name, key, data)}"
    write_once(signed, data)
    return signed
