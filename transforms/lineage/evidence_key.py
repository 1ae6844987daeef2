"""Signed lineage files: each file a run writes under PREFIX/lineage/ carries a MAC in its name.

The evidence key is derived from the patient key (HMAC-SHA256 of a fixed label), so it comes from where the patient
key comes from (Secret Manager, a file, an environment variable: transforms/privacy/key_source.py) and, like it,
never travels in the job graph: workers derive it in setup() from the key they fetched themselves.

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

from apache_beam.io.filesystems import FileSystems

from transforms.privacy.key_source import PatientKeyRef, key_for_worker
from transforms.storage.objects import write_once

#: The fixed label the evidence key is derived under: a different label, a different key.
EVIDENCE_LABEL = b"edms-migrate evidence key v1"
_TAG = re.compile(r"^(?P<stem>.+)\.mac-(?P<tag>[0-9a-f]{32})(?P<ext>\.[A-Za-z0-9]+)$")
TAG_HEX = 32


def evidence_key(patient_key: bytes) -> bytes:
    """The key lineage files are signed with: HMAC-SHA256(patient key, fixed label)."""
    return hmac.new(patient_key, EVIDENCE_LABEL, hashlib.sha256).digest()


def evidence_key_for_worker(ref: PatientKeyRef | None) -> bytes | None:
    """In a DoFn's setup(): the evidence key from the patient key the worker fetched (None: nothing signed)."""
    return evidence_key(key_for_worker(ref)) if ref is not None else None


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
