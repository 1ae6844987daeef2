"""Declared roots: the only places a run may read a document from.

A row's blob path is data from a legacy export, so it may be absolute, climb with `..`, name another bucket, or
follow a symlink out of the dump. Every location is normalised (and, locally, resolved through symlinks) and
must lie under a root: the index's folder, a profile's path_map target, a --blob_root or an --allowed_roots.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence


def normalised(uri: str) -> str:
    """gs://bucket/a/../b → gs://bucket/b; a local path made absolute with its symlinks resolved."""
    if "://" in uri:
        scheme, path = uri.split("://", 1)
        return f"{scheme}://{posixpath.normpath(path)}"
    return os.path.realpath(uri)


def containing_root(uri: str, roots: Sequence[str]) -> str | None:
    """The longest declared root the location lies under, or None."""
    location = normalised(uri)
    inside = [
        root for root in roots if location == (base := normalised(root)) or location.startswith(base.rstrip("/") + "/")
    ]
    return max(inside, key=len) if inside else None


def root_is_absent(root: str) -> bool:
    """A local root that is not a folder: the share is not mounted. (An object store has no folders to miss.)"""
    return "://" not in root and not os.path.isdir(root)
