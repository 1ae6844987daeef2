"""The EDMS records (DocumentReference NDJSON under PREFIX/fhir/) streamed into reconcile's DuckDB connection.

Memory is bounded per line, not per estate: each file is read through FileSystems (it may be gs://; DuckDB's httpfs
extension cannot be assumed), each line parsed and cut to what the checks read, and inserted in batches into the
scratch database, which spills to disk. DuckDB then picks each id's current version (its latest meta.lastUpdated;
of equal ones, the first read, as a reader of the files in name order would) and keeps those whose status is
current, as the table edms_current:

    own_system, own_value   its own legacy identifier (the first), as lineage names the document
    identifiers             every identifier: LIST(STRUCT(system, value)), values as lineage names them
    coded, confidentiality  whether its type has a code; its first security label
    attachments             JSON text: [[url, size, hash], ...] in content order
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import duckdb
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from pipelines.operate.inventory import Batches
from transforms.edms.earlier import document_reference_files

#: Lines inserted at once: a line cut to what the checks read is well under 1 KB a page.
BATCH = 10_000
_IDENTIFIER = pa.struct([("system", pa.string()), ("value", pa.string())])
_VERSIONS = pa.schema(
    [
        ("seq", pa.int64()),
        ("id", pa.string()),
        ("updated", pa.string()),
        ("status", pa.string()),
        ("identifiers", pa.list_(_IDENTIFIER)),
        ("coded", pa.bool_()),
        ("confidentiality", pa.string()),
        ("attachments", pa.string()),
    ]
)


def _row(seq: int, line: bytes, named: Callable[[str], str]) -> tuple:
    resource = json.loads(line)
    coding = (resource.get("type") or {}).get("coding") or []
    attachments = [content["attachment"] for content in resource["content"]]
    return (
        seq,
        resource["id"],
        resource["meta"]["lastUpdated"],
        resource["status"],
        [{"system": i["system"], "value": named(i["value"])} for i in resource["identifier"]],
        bool(coding),
        resource["securityLabel"][0]["coding"][0]["code"],
        json.dumps([[a["url"], a.get("size"), a.get("hash")] for a in attachments]),
    )


def load_current_records(
    connection: duckdb.DuckDBPyConnection, folder: str, named: Callable[[str], str], files: Iterable[str] | None = None
) -> int:
    """Every DocumentReference line under folder (or in `files`: those a runs row vouches for) into edms_versions,
    then edms_current; returns the lines read. named: how lineage names a legacy id (pseudonymised where it holds
    an identifier)."""
    versions = Batches(connection, "edms_versions", _VERSIONS, BATCH)
    seq = 0
    for uri in document_reference_files(folder) if files is None else files:
        with FileSystems.open(uri, compression_type="uncompressed") as handle:
            for line in handle:
                if line.strip():
                    versions.add(_row(seq, line, named))
                    seq += 1
    versions.flush()
    connection.execute(
        "CREATE TABLE edms_current AS SELECT identifiers[1].system AS own_system, identifiers[1].value AS own_value, "
        "identifiers, coded, confidentiality, attachments FROM (SELECT * FROM edms_versions "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated DESC, seq) = 1) WHERE status = 'current'"
    )
    connection.execute("DROP TABLE edms_versions")
    return seq
