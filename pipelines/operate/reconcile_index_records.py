"""Reconcile's check of the EDMS index records: how clinicians find a document once the legacy store is off.

Every manifest document currently migrated or a duplicate must have its record (PREFIX/documents/<source>/<id>.json,
or under the runs' --index_output), and the record must say what lineage says: a migrated document's record lists
its current pages' objects (URI and SHA-256); a duplicate's names its canonical document and that document's record.
A missing, unreadable or edited record fails. The record format is transforms/privacy/index_record.py's; when FHIR
DocumentReferences replace it, check_index_records is the one function to change.
"""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb

from pipelines.evidence.lineage_db import rows
from pipelines.operate.reconcile_checks import HASH_THREADS, Check, _stream
from transforms.storage.objects import read_all
from transforms.storage.output_layout import index_record_uri

_CURRENT = """
SELECT c.source_system, c.document_id, c.status, c.duplicate_of,
  LIST(STRUCT_PACK(n := p.page_number, uri := p.object_uri, sha := p.object_sha256) ORDER BY p.page_number)
    FILTER (WHERE p.page_number IS NOT NULL) AS pages
FROM current_documents AS c
JOIN manifest_documents AS m USING (source_system, document_id)
LEFT JOIN current_pages AS p USING (source_system, document_id)
WHERE NOT m.repeated AND c.status IN ('migrated', 'duplicate')
GROUP BY ALL ORDER BY ALL
"""


def records_prefix(connection: duckdb.DuckDBPyConnection, prefix: str) -> str:
    """Where the runs wrote records: the latest run's --index_output, else the output prefix itself."""
    latest = rows(connection, "SELECT options_json FROM runs ORDER BY finished_at DESC LIMIT 1")
    options = json.loads(latest[0]["options_json"] or "{}") if latest else {}
    return (options.get("index_output") or prefix).rstrip("/")


def _read(uri: str) -> dict[str, Any] | str:
    try:
        return json.loads(read_all(uri))
    except Exception as error:  # a missing or unreadable record: named, never a crash
        missing = isinstance(error, FileNotFoundError) or "no such file" in str(error).lower()
        return "is missing" if missing else f"cannot be read ({type(error).__name__})"


def _problem(row: dict[str, Any], record: dict[str, Any], prefix: str) -> str | None:
    if record.get("status") != row["status"]:
        return f"says {record.get('status')!r}, lineage says {row['status']}"
    if row["status"] == "duplicate":
        source, _, document = (row["duplicate_of"] or "").partition("/")
        canonical = index_record_uri(prefix, source, document)
        if record.get("duplicate_of") != row["duplicate_of"] or record.get("canonical_record") != canonical:
            return f"does not point at its canonical {row['duplicate_of']} ({canonical})"
        return None
    listed = [(page.get("page_number"), page.get("object_uri"), page.get("object_sha256")) for page in record["pages"]]
    if listed != [(page["n"], page["uri"], page["sha"]) for page in row["pages"] or ()]:
        return "does not list the document's current page objects"
    return None


def check_index_records(connection: duckdb.DuckDBPyConnection, prefix: str) -> Check:
    """Every current migrated or duplicate manifest document's index record is there and says what lineage says."""
    check = Check("records")
    records = records_prefix(connection, prefix)
    current = _stream(connection, _CURRENT)
    with ThreadPoolExecutor(HASH_THREADS) as pool:  # reads from an object store wait on the network
        while batch := list(itertools.islice(current, 1000)):
            uris = [index_record_uri(records, row["source_system"], row["document_id"]) for row in batch]
            for row, uri, record in zip(batch, uris, pool.map(_read, uris), strict=True):
                source = row["source_system"]
                check.checked[source] += 1
                problem = record if isinstance(record, str) else _problem(row, record, records)
                if problem:
                    check.fail(source, f"{source}/{row['document_id']}: index record {uri} {problem}")
    return check
