"""Content-addressed, idempotent object writes and the quarantine area.

A page object's name is the SHA-256 of its bytes, so a retried bundle or a re-run
finds the object already there (verified by hash) and writes nothing; a partial
object from a crashed write fails its hash and is rewritten.

Everything written here is patient data (scans, quarantined originals, EDMS index
records with NHS numbers, lineage with patient keys), so a local file is created
owner-only (0600) and the folders made for it 0700, whatever the umask: on a shared
host, other users must not be able to read it. Object stores have no file modes;
there, access is the bucket's IAM.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from apache_beam.io.filesystems import FileSystems

from schemas.reasons import QuarantineError, Reason
from transforms.storage.output_layout import (
    object_uri,
    objects_folder,
    quarantine_base,
    quarantine_bytes_uri,
    quarantine_folder,
    quarantine_record_uri,
)


def read_all(uri: str) -> bytes:
    with FileSystems.open(uri, compression_type="uncompressed") as handle:
        return handle.read()


PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
#: The umask that makes every file a process creates owner-only, those a library creates itself included (the
#: job's own writes, lineage Parquet among them, go through write_all or write_once: 0600 whatever the umask).
OWNER_ONLY_UMASK = 0o077


@contextmanager
def owner_only_umask() -> Iterator[None]:
    """For the launcher: while it runs, every local file and folder the process (and the worker processes and
    isolated children it starts, which inherit the umask) creates is owner-only; the old umask comes back after."""
    previous = os.umask(OWNER_ONLY_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def make_private_folders(folder: str) -> None:
    """Create folder and its missing parents as 0700. os.makedirs would leave the parents to the umask; folders
    that already exist are not ours to change and are left as they are."""
    missing = []
    path = os.path.abspath(folder)
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        try:
            os.mkdir(path, PRIVATE_FOLDER)
        except FileExistsError:  # another worker made it a moment ago, with the same mode
            continue
        os.chmod(path, PRIVATE_FOLDER)  # mkdir's mode passes through the umask


def write_all(uri: str, data: bytes) -> None:
    """Whole-object write. Local files go through a temporary name, so no reader sees half an object; the
    temporary file is created 0600 before a byte is written, so there is no moment when others could read it."""
    if "://" in uri:  # object stores make an object visible only once complete
        with FileSystems.create(uri, mime_type="application/octet-stream", compression_type="uncompressed") as out:
            out.write(data)
        return
    os.replace(_private_temporary(uri, data), uri)


def _private_temporary(uri: str, data: bytes) -> str:
    """data in a new 0600 file beside uri, created so before a byte is written."""
    temporary = f"{uri}.{uuid.uuid4().hex}.partial"
    make_private_folders(os.path.dirname(uri))
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(descriptor, "wb") as out:
            os.fchmod(out.fileno(), PRIVATE_FILE)  # the creation mode passes through the umask too
            out.write(data)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


def write_once(uri: str, data: bytes) -> bool:
    """Create uri unless it exists; True when this call wrote it. The archive (objects, quarantine, lineage) is
    write-once: under a bucket retention policy no object may be replaced or deleted before its period ends, so an
    output that exists, a retried bundle's or step's, is kept as it is, never rewritten. Every name given here is
    unique to what it holds (a run, a set of documents, content), so the kept object says the same."""
    if "://" in uri:
        if FileSystems.exists(uri):
            return False
        write_all(uri, data)
        return True
    temporary = _private_temporary(uri, data)
    try:
        os.link(temporary, uri)  # atomic, and refuses a name that exists: no reader sees half a file
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links (some network shares): check, then rename
        if os.path.exists(uri):
            return False
        os.replace(temporary, uri)
        return True
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
    return True


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: Locks an ObjectStore's threads take by digest, so two decode lanes storing the same page one after the other
#: agree which of them wrote it (objects_written counts each object once); distinct pages rarely share one.
_DIGEST_LOCKS = 64


class ObjectStore:
    """PREFIX/objects/ab/cd/<sha256>.<ext>: each distinct byte string stored once."""

    def __init__(self, output_prefix: str) -> None:
        self.root = objects_folder(output_prefix)
        self._locks = tuple(threading.Lock() for _ in range(_DIGEST_LOCKS))

    def uri_for(self, digest: str, extension: str) -> str:
        return object_uri(self.root, digest, extension)

    def put(self, data: bytes, extension: str) -> tuple[str, str, bool]:
        """Store data (unless an intact copy exists); return (uri, sha256, written) once read back intact."""
        digest = sha256_hex(data)
        with self._locks[int(digest[:8], 16) % _DIGEST_LOCKS]:
            return self._put(data, digest, self.uri_for(digest, extension))

    def _put(self, data: bytes, digest: str, uri: str) -> tuple[str, str, bool]:
        if FileSystems.exists(uri) and sha256_hex(read_all(uri)) == digest:
            return uri, digest, False
        try:
            write_all(uri, data)
            stored = read_all(uri)
        except Exception as error:  # any filesystem's failure: this document, not the job
            raise QuarantineError(
                Reason.STORAGE_ERROR, f"writing {uri} failed: {type(error).__name__}: {error}"
            ) from error
        if sha256_hex(stored) != digest:
            raise QuarantineError(Reason.LOSSLESS_VERIFY_FAILED, f"{uri} read back different bytes from those written")
        return uri, digest, True


class QuarantineArea:
    """PREFIX/quarantine/<run>/<source>/<document>.bin (exact original bytes) and .json (why, and how to re-run).

    Per run: a document still failing is quarantined again by every re-run, and each run's evidence is its own,
    written once; under a retention policy an earlier run's files could not be replaced anyway."""

    def __init__(self, output_prefix: str, run_id: str) -> None:
        self.root = quarantine_folder(output_prefix, run_id)

    def base_uri(self, source_system: str, document_id: str, suffix: str = "") -> str:
        return quarantine_base(self.root, source_system, document_id, suffix)

    def put_bytes(self, uri: str, data: bytes) -> None:
        write_once(uri, data)

    def put(self, base_uri: str, data: bytes | None, record: dict[str, Any]) -> str:
        """Write the record and, when there are bytes, the bytes; returns the record's URI."""
        if data is not None:
            write_once(quarantine_bytes_uri(base_uri), data)
        record_uri = quarantine_record_uri(base_uri)
        write_once(record_uri, json.dumps(record, indent=2, sort_keys=True, default=str).encode())
        return record_uri
