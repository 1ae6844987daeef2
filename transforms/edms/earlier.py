"""Earlier runs' current DocumentReferences, found by their own legacy identifier (the first one).

Only when a run needs them: a changed document's earlier record (to supersede), an earlier canonical given a
duplicate's identifier, a retired document's record. Each earlier DocumentReference file is read once, line by
line, and a line is parsed only when its first identifier is wanted (read off the line's prefix, which the builder
writes in a fixed order). The current record of a document is the line with the latest meta.lastUpdated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from apache_beam.io.filesystems import FileSystems

from transforms.storage.listing import matched_paths
from transforms.storage.output_layout import fhir_files_pattern

Identity = tuple[str, str]  # (identifier system, legacy document id)
_FIRST_IDENTIFIER = re.compile(
    rb'"identifier"\s*:\s*\[\s*\{\s*"system"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"value"\s*:\s*"((?:[^"\\]|\\.)*)"'
)


def document_reference_files(folder: str) -> list[str]:
    """Every DocumentReference NDJSON file under PREFIX/fhir, in name order."""
    return sorted(matched_paths(fhir_files_pattern(folder, "DocumentReference")))


def _text(raw: bytes) -> str:
    return json.loads(b'"' + raw + b'"')


def identity_of_line(line: bytes) -> Identity | None:
    found = _FIRST_IDENTIFIER.search(line)
    return (_text(found.group(1)), _text(found.group(2))) if found else None


def _same(text: str) -> str:
    return text


def scan(
    uri: str, wanted: set[Identity], pseudonymise: Callable[[str], str] = _same
) -> Iterator[tuple[Identity, dict[str, Any]]]:
    """(identity, resource) for each line of one file whose own identifier is wanted. A record holds the export's
    id; the pipeline names documents by the id lineage uses, pseudonymised where it held an identifier."""
    with FileSystems.open(uri, compression_type="uncompressed") as handle:
        for line in handle:
            found = identity_of_line(line)
            identity = (found[0], pseudonymise(found[1])) if found else None
            if identity in wanted:
                yield identity, json.loads(line)


def latest(resources: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The current record among versions: the latest meta.lastUpdated (instants in UTC, so text order is time order)."""
    return max(resources, key=lambda resource: resource["meta"]["lastUpdated"])
