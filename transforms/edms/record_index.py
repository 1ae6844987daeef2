"""The EDMS record index (schemas/edms_tables.EDMS_RECORD_INDEX): where each DocumentReference line is.

The NDJSON writer knows each line's file and byte offset when it cuts files, and emits one small row per line. A
later run looks its wanted documents up in the index (two identity columns read, filtered) and fetches only their
lines by byte range, instead of reading every earlier file (earlier.scan).

An index covers a file only when its rows account for every byte of it (the lengths plus newlines sum to the file's
size): files written before the index existed, a retirement's file (written by the launcher, not indexed), a file
whose run died before its index was written, or one changed since, are read whole as before.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from transforms.edms.earlier import Identity, identity_of_line, latest, scan

#: Where a line is: (file name under fhir/, byte offset, byte length, meta.lastUpdated).
Location = tuple[str, int, int, str]
_READ = ["identifier_system", "document_id", "file", "byte_offset", "byte_length", "last_updated"]


def index_rows(name: str, data: bytes, run_id: str, pseudonymise: Callable[[str], str]) -> Iterator[dict[str, Any]]:
    """One row per line of one DocumentReference file as written (data: its whole bytes, lines ending in newlines).
    The document id is named as lineage names it, so no identifier a legacy id held reaches the table."""
    offset = 0
    for line in data.split(b"\n")[:-1]:
        resource = json.loads(line)
        own = resource["identifier"][0]
        yield {
            "run_id": run_id,
            "identifier_system": own["system"],
            "document_id": pseudonymise(own["value"]),
            "resource_id": resource["id"],
            "file": name,
            "byte_offset": offset,
            "byte_length": len(line),
            "last_updated": resource["meta"]["lastUpdated"],
            "status": resource["status"],
        }
        offset += len(line) + 1


def _batches(uri: str, columns: list[str]) -> Iterator[pa.RecordBatch]:
    with FileSystems.open(uri, compression_type="uncompressed") as handle:
        yield from pq.ParquetFile(handle).iter_batches(columns=columns, batch_size=65_536)


def locate(uri: str, wanted: set[Identity]) -> Iterator[tuple[Identity, Location]]:
    """The lines of wanted documents one index file names, read a batch of rows at a time."""
    if not wanted:
        return
    keys = pa.array(sorted(f"{system}\n{value}" for system, value in wanted))
    for batch in _batches(uri, _READ):
        joined = pc.binary_join_element_wise(batch["identifier_system"], batch["document_id"], "\n")
        for row in batch.filter(pc.is_in(joined, value_set=keys)).to_pylist():
            location = (row["file"], row["byte_offset"], row["byte_length"], row["last_updated"])
            yield (row["identifier_system"], row["document_id"]), location


def indexed_bytes(uri: str) -> Iterator[tuple[str, int]]:
    """(file name, bytes its rows account for) per file one index file names: what covered() sums."""
    for batch in _batches(uri, ["file", "byte_length"]):
        table = pa.table({"file": batch["file"], "bytes": pc.add(batch["byte_length"], 1)})
        for row in table.group_by("file").aggregate([("bytes", "sum")]).to_pylist():
            yield row["file"], row["bytes_sum"]


def covered(folder: str, name: str, indexed: int) -> bool:
    """Whether the index accounts for every byte of one file under folder (else it is read whole)."""
    try:
        [match] = FileSystems.match([FileSystems.join(folder, name)])
    except Exception:  # noqa: BLE001 (a name the folder does not hold, whatever the store says)
        return False
    return [metadata.size_in_bytes for metadata in match.metadata_list] == [indexed]


def fetch(folder: str, name: str, locations: Iterable[tuple[Identity, Location]]) -> Iterator[tuple[Identity, dict]]:
    """The located lines of one file, read by byte range in one pass; a line that is not the record the index
    names (the file changed since) is skipped, so its document is not found, as a deleted record would not be."""
    with FileSystems.open(FileSystems.join(folder, name), compression_type="uncompressed") as handle:
        for identity, (_, offset, length, _) in sorted(locations, key=lambda item: item[1][1]):
            handle.seek(offset)
            line = handle.read(length)
            found = identity_of_line(line)
            if found is not None and found[0] == identity[0]:
                yield identity, json.loads(line)


def file_name(uri: str) -> str:
    """A file's name in its folder: what index rows name it by."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def current_records(
    folder: str, uris: Iterable[str], index_files: Iterable[str], wanted: set[Identity], pseudonymise: Callable
) -> dict[Identity, dict[str, Any]]:
    """Outside Beam (the launcher's retirements), as find_earlier.FindEarlier in a pipeline: the current record of
    each wanted document among the files uris, fetched by the index where it covers a file, else read whole."""
    if not wanted:
        return {}
    uris, index_files = list(uris), list(index_files)
    names, sums = {file_name(uri) for uri in uris}, Counter()
    for index in index_files:
        for name, size in indexed_bytes(index):
            sums[name] += size if name in names else 0
    whole = {name for name, size in sums.items() if name in names and covered(folder, name, size)}
    located: dict[str, list] = defaultdict(list)
    for index in index_files:
        for identity, location in locate(index, wanted):
            if location[0] in whole:
                located[location[0]].append((identity, location))
    found: dict[Identity, list] = defaultdict(list)
    for name, locations in located.items():
        for identity, resource in fetch(folder, name, locations):
            found[identity].append(resource)
    for uri in uris:
        if file_name(uri) not in whole:
            for identity, resource in scan(uri, wanted, pseudonymise):
                found[identity].append(resource)
    return {identity: latest(versions) for identity, versions in found.items()}
