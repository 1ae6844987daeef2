"""Where the output's lease lives, and the one write it needs: create an object only if it does not exist.

Locally that is O_EXCL; on gs:// an upload with `if_generation_match=0`, which GCS refuses (412) when the object
exists. Nothing is ever replaced or deleted: the lease is a series of small objects created once each (lease.py),
so it works under the archive bucket's retention policy, which refuses every overwrite and delete.

The storage emulator the tests use does not enforce generation preconditions, so GcsLeaseStore's create-only is
proved in tests/pipelines/test_lease.py against a client double that does (and its listing and reading against the
emulator); the local store is proved by real runs racing for one output folder.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from apache_beam.io.filesystems import FileSystems

from transforms.storage.objects import make_private_folders, read_all, write_once


class LeaseStore(Protocol):
    def create(self, uri: str, data: bytes) -> bool:
        """Create uri holding data; False (and nothing written) when it exists already."""

    def names(self, folder: str) -> dict[str, float]:
        """Name → last-modified time (epoch seconds) of each object directly in folder."""

    def read(self, uri: str) -> bytes: ...


class LocalLeaseStore:
    """A local folder: O_EXCL creates, so of two runs creating one name exactly one succeeds."""

    def create(self, uri: str, data: bytes) -> bool:
        make_private_folders(os.path.dirname(uri))
        try:
            descriptor = os.open(uri, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return True

    def names(self, folder: str) -> dict[str, float]:
        try:
            return {entry.name: entry.stat().st_mtime for entry in os.scandir(folder) if entry.is_file()}
        except FileNotFoundError:
            return {}

    def read(self, uri: str) -> bytes:
        with open(uri, "rb") as handle:
            return handle.read()


class GcsLeaseStore:
    """gs://bucket/prefix: create-only uploads (if_generation_match=0). `client`: a google.cloud.storage Client, or
    a double with the same calls (tests)."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from google.cloud import storage

            emulated = bool(os.environ.get("STORAGE_EMULATOR_HOST"))
            self._client = storage.Client.create_anonymous_client() if emulated else storage.Client()
        return self._client

    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        bucket, _, name = uri[len("gs://") :].partition("/")
        return bucket, name

    def create(self, uri: str, data: bytes) -> bool:
        from google.api_core.exceptions import PreconditionFailed

        bucket, name = self._split(uri)
        try:
            self.client.bucket(bucket).blob(name).upload_from_string(data, if_generation_match=0)
        except PreconditionFailed:
            return False
        return True

    def names(self, folder: str) -> dict[str, float]:
        bucket, prefix = self._split(folder.rstrip("/") + "/")
        return {
            blob.name[len(prefix) :]: blob.updated.timestamp()
            for blob in self.client.list_blobs(bucket, prefix=prefix)
            if "/" not in blob.name[len(prefix) :]
        }

    def read(self, uri: str) -> bytes:
        bucket, name = self._split(uri)
        return self.client.bucket(bucket).blob(name).download_as_bytes()


class FileSystemsLeaseStore:
    """Any other Beam filesystem: an existence check, then a write. Not atomic: two runs could both create; said
    here so nobody relies on it for a store that offers a real create-only write."""

    def create(self, uri: str, data: bytes) -> bool:
        return write_once(uri, data)

    def names(self, folder: str) -> dict[str, float]:
        found = FileSystems.match([FileSystems.join(folder, "*")])[0].metadata_list
        return {m.path.rsplit("/", 1)[-1]: m.last_updated_in_seconds for m in found}

    def read(self, uri: str) -> bytes:
        return read_all(uri)


def store_for(prefix: str) -> LeaseStore:
    if prefix.startswith("gs://"):
        return GcsLeaseStore()
    if "://" not in prefix:
        return LocalLeaseStore()
    return FileSystemsLeaseStore()
