"""Locations: one way to make a user's path absolute, and to resolve a blob path against its index's folder."""

from __future__ import annotations

import os
import posixpath

from apache_beam.io.filesystems import FileSystems


def absolute(uri: str) -> str:
    """A URI (gs://…) as it is; a local path made absolute, so workers in other folders find it."""
    return uri if "://" in uri else os.path.abspath(uri)


def folder_of(uri: str) -> str:
    return FileSystems.split(uri)[0]


def resolve_blob_uri(blob_uri: str, folder: str) -> str:
    """Relative paths are relative to the manifest's folder; absolute paths and URIs stand as they are.

    `./` and `..` are resolved here, because object stores take them literally, and backslashes
    (Windows exports) become slashes.
    """
    if "://" in blob_uri or blob_uri.startswith("/"):
        return blob_uri
    relative = blob_uri.replace("\\", "/")
    if "://" in folder:
        scheme, path = folder.split("://", 1)
        return f"{scheme}://{posixpath.normpath(posixpath.join(path, relative))}"
    return os.path.normpath(os.path.join(folder, relative))
