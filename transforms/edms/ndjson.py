"""Bulk NDJSON files under PREFIX/fhir/, in the form Cloud Healthcare's fhirStores.import takes (content structure
RESOURCE: one resource per line, UTF-8, ids supplied).

Resources are spread over shards by a hash of the line (the shard count follows the run's resource count, so a
small run writes one file per type); each shard's lines are sorted, so a retried bundle writes the same bytes under
the same names, and cut into files of at most MAX_FILE_BYTES: <Type>-<run>-<shard>-<part>.ndjson, each written once,
whole.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Iterator

import apache_beam as beam

from transforms.storage.emulators import StorageDoFn
from transforms.storage.objects import write_all
from transforms.storage.output_layout import fhir_file

#: Cloud Healthcare's import reads files of any size, but smaller files import in parallel and retry cheaply.
MAX_FILE_BYTES = 50 * 1000 * 1000
#: Resources per shard (a DocumentReference is 1-2 KB, one of a hundred pages about 30 KB).
RESOURCES_PER_SHARD = 20_000


def parts(lines: Iterable[bytes], max_bytes: int) -> Iterator[bytes]:
    """Lines joined into files of at most max_bytes (a single larger line is a file of its own)."""
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) + 1 > max_bytes:
            yield b"\n".join(chunk) + b"\n"
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        yield b"\n".join(chunk) + b"\n"


class _WriteShardFn(StorageDoFn):
    def __init__(self, folder: str, run_id: str, max_bytes: int) -> None:
        self.folder, self.run_id, self.max_bytes = folder, run_id, max_bytes

    def process(self, element: tuple[tuple[str, int], Iterable[bytes]]) -> Iterator[str]:
        (resource_type, shard), lines = element
        for part, data in enumerate(parts(sorted(lines), self.max_bytes)):
            uri = fhir_file(self.folder, resource_type, self.run_id, shard, part)
            write_all(uri, data)
            yield uri


class WriteNdjson(beam.PTransform):
    """(resource type, JSON line) → the files written (their URIs)."""

    def __init__(self, folder: str, run_id: str, max_bytes: int = MAX_FILE_BYTES) -> None:
        super().__init__()
        self.folder, self.run_id, self.max_bytes = folder, run_id, max_bytes

    def expand(self, lines: beam.PCollection[tuple[str, bytes]]) -> beam.PCollection[str]:
        count = lines | "Count" >> beam.combiners.Count.Globally()

        def shard(item: tuple[str, bytes], total: int) -> tuple[tuple[str, int], bytes]:
            shards = max(1, math.ceil(total / RESOURCES_PER_SHARD))
            return (item[0], zlib.crc32(item[1]) % shards), item[1]

        return (
            lines
            | "Shard" >> beam.Map(shard, beam.pvalue.AsSingleton(count))
            | "GroupShards" >> beam.GroupByKey()
            | "WriteFiles" >> beam.ParDo(_WriteShardFn(self.folder, self.run_id, self.max_bytes))
        )
