"""Bulk NDJSON files under PREFIX/fhir/, in the form Cloud Healthcare's fhirStores.import takes (content structure
RESOURCE: one resource per line, UTF-8, ids supplied).

Resources are spread over shards by a hash of the line (the shard count follows the run's resource count, so a
small run writes one file per type); each shard's lines are sorted, so a retried bundle writes the same bytes under
the same names, and cut into files of at most MAX_FILE_BYTES: <Type>-<run>-<shard>-<part>.ndjson, each written once,
whole. Signed as lineage files are (storage/signed_files.py: `…-<part>.mac-<32 hex>.ndjson`, still `*.ndjson` to an
import glob), so a killed run's records can be told from a stray file, and the runs row vouches for each by name and
SHA-256 (lineage/edms_seal.py). Given the run's patient key, the writer also yields one edms_record_index row per
DocumentReference line (record_index.py): where the line is, for a later run to fetch it alone.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Iterator

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from transforms.edms.record_index import index_rows
from transforms.privacy.key_source import PatientKeyRef, key_for_worker
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.storage.emulators import StorageDoFn
from transforms.storage.output_layout import fhir_file
from transforms.storage.signed_files import SigningKey, write_signed_once

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


#: The tag of WriteNdjson's index rows.
INDEX = "index"
#: What the index rows need: the patient key and the run's local identifier patterns (to name documents as lineage
#: does).
Indexing = tuple[PatientKeyRef, tuple[str, ...]]


class _WriteShardFn(StorageDoFn):
    def __init__(
        self, folder: str, run_id: str, max_bytes: int, indexing: Indexing | None, signing: SigningKey | None
    ) -> None:
        self.folder, self.run_id, self.max_bytes, self.indexing = folder, run_id, max_bytes, indexing
        self.signing = signing

    def setup(self) -> None:
        super().setup()
        self.key = self.signing.key() if self.signing is not None else None
        if self.indexing is not None:
            self.pseudonyms = Pseudonyms(key_for_worker(self.indexing[0]), self.indexing[1])

    def process(self, element: tuple[tuple[str, int], Iterable[bytes]]) -> Iterator[object]:
        (resource_type, shard), lines = element
        for part, data in enumerate(parts(sorted(lines), self.max_bytes)):
            uri = fhir_file(self.folder, resource_type, self.run_id, shard, part)
            uri = write_signed_once(uri, data, self.key)  # a retried bundle's file (the same lines) is kept
            yield uri
            if self.indexing is not None and resource_type == "DocumentReference":
                name = uri.rsplit("/", 1)[-1]
                for row in index_rows(name, data, self.run_id, self.pseudonyms.value):
                    yield TaggedOutput(INDEX, row)


class WriteNdjson(beam.PTransform):
    """(resource type, JSON line) → {"files": the files written (their URIs), INDEX: the index rows (none without
    indexing)}; each file signed with the evidence key (signing None: unsigned, as unit tests write them)."""

    def __init__(
        self,
        folder: str,
        run_id: str,
        max_bytes: int = MAX_FILE_BYTES,
        indexing: Indexing | None = None,
        signing: SigningKey | None = None,
    ) -> None:
        super().__init__()
        self.folder, self.run_id, self.max_bytes, self.indexing = folder, run_id, max_bytes, indexing
        self.signing = signing

    def expand(self, lines: beam.PCollection[tuple[str, bytes]]) -> dict[str, beam.PCollection]:
        count = lines | "Count" >> beam.combiners.Count.Globally()

        def shard(item: tuple[str, bytes], total: int) -> tuple[tuple[str, int], bytes]:
            shards = max(1, math.ceil(total / RESOURCES_PER_SHARD))
            return (item[0], zlib.crc32(item[1]) % shards), item[1]

        written = (
            lines
            | "Shard" >> beam.Map(shard, beam.pvalue.AsSingleton(count))
            | "GroupShards" >> beam.GroupByKey()
            | "WriteFiles"
            >> beam.ParDo(
                _WriteShardFn(self.folder, self.run_id, self.max_bytes, self.indexing, self.signing)
            ).with_outputs(INDEX, main="files")
        )
        return {"files": written["files"], INDEX: written[INDEX]}
