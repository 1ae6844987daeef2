"""Which of many files exist, and their sizes, at a cost per folder rather than per file.

Checking 235 million objects one request at a time takes days on an object store; listing each folder once takes
one request per thousand names. Callers hand in URIs sorted by folder, so one folder's listing is in memory at a
time. A folder with few URIs to check is not listed (it may hold millions of other files): each is asked about.
A store that cannot be read raises; only a file that is not there is reported missing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.filesystems import FileSystems

#: Folders with at most this many URIs to check are asked about file by file instead of listed.
LIST_FROM = 16
_GLOB = set("*?[]{}")


def folder_of(uri: str) -> str:
    return uri.rsplit("/", 1)[0]


def _size(uri: str) -> int | None:
    try:
        return FileSystems.get_filesystem(uri).metadata(uri).size_in_bytes
    except Exception:
        if FileSystems.exists(uri):  # it is there: the failure was reading about it, not its absence
            raise
        return None


def _listed(folder: str) -> dict[str, int]:
    return {metadata.path: metadata.size_in_bytes for metadata in matched(FileSystems.join(folder, "*"))}


def sizes(uris: Iterable[str]) -> Iterator[tuple[str, int | None]]:
    """(uri, its size, or None when it does not exist), in the order given; sort the URIs by folder first."""
    for folder, group in itertools.groupby(uris, key=folder_of):
        batch = list(group)
        if len(batch) <= LIST_FROM or _GLOB & set(folder):
            yield from ((uri, _size(uri)) for uri in batch)
            continue
        listing = _listed(folder)
        yield from ((uri, listing.get(uri)) for uri in batch)


#: SQL (DuckDB) that orders URIs by folder, then name: what sizes() wants. Use as ORDER BY FOLDER_ORDER.format(c).
FOLDER_ORDER = "regexp_replace({0}, '/[^/]*$', ''), {0}"


def matched(pattern: str) -> list[FileMetadata]:
    """What a glob (or one URI) matches, with sizes, sorted by path: every listing by pattern goes through here.
    No match is an empty list; a store that cannot be listed raises (Beam wraps it in BeamIOError)."""
    return sorted(FileSystems.match([pattern])[0].metadata_list, key=lambda metadata: metadata.path)


def matched_paths(pattern: str) -> list[str]:
    """Every path a glob matches, sorted."""
    return [metadata.path for metadata in matched(pattern)]


def size_of(uri: str) -> int:
    """One file's size in bytes, from its metadata; no bytes read."""
    return int(matched(uri)[0].size_in_bytes)
