"""retention:///path — a local folder that behaves as a bucket under a retention policy: it creates objects, and
refuses to replace, rename or delete any.

The storage emulator stores a bucket's retention policy but enforces nothing, and real GCS is out of reach here,
so a run's write-once behaviour is tested against this instead: a Beam FileSystem of its own scheme (Beam finds
FileSystem subclasses by scheme, so importing this module registers it), in the test's own process, which is
where the in-process DirectRunner runs every step. Every refusal is raised, as GCS's 403 would be, and also kept
in `refusals`, because the job rightly carries on past some failed writes (a document is quarantined instead).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.io.localfilesystem import LocalFileSystem

SCHEME = "retention"
_PREFIX = f"{SCHEME}://"


class RetentionPolicyRefusal(PermissionError):
    """What GCS answers (403) to a replace or delete of an object still within its retention period."""


class RetentionFileSystem(LocalFileSystem):
    """retention:///folder/name is /folder/name; objects are created once and never changed or removed."""

    refusals: list[str] = []  # noqa: RUF012 — one log for the process, read by the test after the run

    @classmethod
    def scheme(cls) -> str:
        return SCHEME

    @staticmethod
    def _local(uri: str) -> str:
        return uri[len(_PREFIX) :] if uri.startswith(_PREFIX) else uri

    def _refuse(self, verb: str, uri: str) -> None:
        message = f"403 {uri}: object is under a retention policy and cannot be {verb}"
        self.refusals.append(message)
        raise RetentionPolicyRefusal(message)

    def join(self, basepath: str, *paths: str) -> str:
        return _PREFIX + super().join(self._local(basepath), *paths)

    def split(self, path: str) -> tuple[str, str]:
        head, tail = super().split(self._local(path))
        return _PREFIX + head, tail

    def mkdirs(self, path: str) -> None:
        super().mkdirs(self._local(path))

    def _list(self, dir_or_prefix: str) -> Iterator[FileMetadata]:
        root = self._local(dir_or_prefix)
        for folder, _, files in os.walk(root) if os.path.isdir(root) else ():
            for name in files:
                path = os.path.join(folder, name)
                yield FileMetadata(_PREFIX + path, os.path.getsize(path), os.path.getmtime(path))

    def _url_dirname(self, url_or_path: str) -> str:
        return _PREFIX + os.path.dirname(self._local(url_or_path))

    def create(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        if os.path.exists(self._local(path)):
            self._refuse("replaced", path)
        return super().create(self._local(path), mime_type, compression_type)

    def open(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        return super().open(self._local(path), mime_type, compression_type)

    def copy(self, source_file_names, destination_file_names) -> None:
        for destination in destination_file_names:
            if os.path.exists(self._local(destination)):
                self._refuse("replaced", destination)
        super().copy([self._local(s) for s in source_file_names], [self._local(d) for d in destination_file_names])

    def rename(self, source_file_names, destination_file_names) -> None:
        self._refuse("renamed (deleted)", source_file_names[0])

    def delete(self, paths) -> None:
        self._refuse("deleted", paths[0])

    def exists(self, path: str) -> bool:
        return super().exists(self._local(path))

    def size(self, path: str) -> int:
        return super().size(self._local(path))

    def last_updated(self, path: str) -> float:
        return super().last_updated(self._local(path))

    def checksum(self, path: str) -> str:
        return super().checksum(self._local(path))

    def metadata(self, path: str) -> FileMetadata:
        found = super().metadata(self._local(path))
        return FileMetadata(path, found.size_in_bytes, found.last_updated_in_seconds)
