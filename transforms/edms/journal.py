"""The EDMS journal: each migrated document's record, written as the per-document step journals its lineage rows.

A run writes its NDJSON only after de-duplication, at its end. A run killed before then has journaled documents
(lineage says they are done, so its resumption leaves them alone) and no records for them. The journal keeps each
record as the step made it, in the restricted area beside fhir/ (it names the patient), signed with the evidence
key as lineage files are. The resuming run reads the journals of the runs it adopts, and writes each record whose
document is still the adopted run's finished one (transforms/edms/adopted.py).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.edms.earlier import Identity
from transforms.edms.record import EdmsRecord
from transforms.storage.objects import read_all
from transforms.storage.signed_files import Signature

SCHEMA = pa.schema(
    [
        ("identifier_system", pa.string()),
        ("document_id", pa.string()),  # as lineage names it: the join key
        ("legacy_system", pa.string()),
        ("legacy_value", pa.string()),  # the export's own id: restricted, as the record is
        ("replaces", pa.bool_()),
        ("coded", pa.bool_()),
        ("label", pa.string()),
        ("type_text", pa.string()),
        ("packed", pa.binary()),
    ]
)


def journal_bytes(records: list[EdmsRecord]) -> bytes:
    """The records one flush holds, as one Parquet file (a few hundred records of about 0.5 KB)."""
    rows = [
        {
            "identifier_system": record.identity[0],
            "document_id": record.identity[1],
            "legacy_system": record.legacy_identifier[0],
            "legacy_value": record.legacy_identifier[1],
            "replaces": record.replaces,
            "coded": record.coded,
            "label": record.label,
            "type_text": record.type_text,
            "packed": record.packed,
        }
        for record in records
    ]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), buffer, compression="zstd")
    return buffer.getvalue()


def signed_by(uri: str, data: bytes, key: bytes) -> bool:
    """Whether the file's name carries the evidence key's tag over its bytes: a journal copied in or edited is not
    read as a record."""
    return Signature.of(uri.rsplit("/", 1)[-1]).valid(key, hashlib.sha256(data).hexdigest())


def read_journal(uri: str, key: bytes) -> Iterator[tuple[Identity, EdmsRecord]]:
    """(identity, record) for each record of one journal file; nothing from a file the key did not sign."""
    data = read_all(uri)
    if not signed_by(uri, data, key):
        return
    for row in pq.read_table(io.BytesIO(data), schema=SCHEMA).to_pylist():
        identity = (row["identifier_system"], row["document_id"])
        yield (
            identity,
            EdmsRecord(
                row["packed"],
                identity=identity,
                legacy_identifier=(row["legacy_system"], row["legacy_value"]),
                replaces=row["replaces"],
                coded=row["coded"],
                label=row["label"],
                type_text=row["type_text"],
            ),
        )
