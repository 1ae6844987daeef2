"""Reconcile's check of the EDMS records (FHIR NDJSON under the records prefix's fhir/) against current lineage.

- every current migrated manifest document has exactly one current DocumentReference (its own legacy identifier
  first), and no quarantined document has one;
- every current duplicate's legacy identifier is on its canonical's current DocumentReference;
- every attachment of a current DocumentReference resolves to an object of the same size and SHA-1 (all, or a
  sample of N documents per source system).
The current version of a resource is its latest meta.lastUpdated. Also counted per source system: coded versus
uncoded types and the confidentiality mix of the current records, for the report.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

import duckdb

from pipelines.operate.edms_records_db import load_current_records
from pipelines.operate.reconcile_checks import Check, Verify, _stream
from transforms.edms.config import FhirConfig
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.storage.objects import read_all
from transforms.storage.output_layout import fhir_folder


def object_uri(url: str) -> str:
    return unquote(urlsplit(url).path) if url.startswith("file://") else url


def sha1_base64(uri: str) -> tuple[int, str]:
    data = read_all(uri)
    return len(data), base64.b64encode(hashlib.sha1(data).digest()).decode()


#: split_document_label in SQL: the canonical's id, after the first "/" of its label.
_CANONICAL_ID = (
    "CASE WHEN strpos(c.duplicate_of, '/') > 0 THEN substr(c.duplicate_of, strpos(c.duplicate_of, '/') + 1) ELSE '' END"
)
#: One row per current manifest document: how many current records carry its own identifier (and, with exactly one,
#: what the report and the hashing read); for a duplicate, whether its identifier is on its canonical's record.
_CHECKED = f"""
CREATE TABLE edms_checked AS
WITH docs AS (
    SELECT c.source_system, c.document_id, c.status, c.duplicate_of, s.identifier_system AS own_system,
           cs.identifier_system AS canonical_system, {_CANONICAL_ID} AS canonical_id
    FROM current_documents AS c JOIN manifest_documents AS m USING (source_system, document_id)
    JOIN edms_systems AS s USING (source_system)
    LEFT JOIN edms_systems AS cs ON c.duplicate_of <> '' AND cs.source_system = split_part(c.duplicate_of, '/', 1)
    WHERE NOT m.repeated),
found AS (
    SELECT own_system, own_value, count(*) AS records, any_value(coded) AS coded,
           any_value(confidentiality) AS confidentiality, any_value(attachments) AS attachments
    FROM edms_current GROUP BY own_system, own_value),
carried AS (
    SELECT DISTINCT own_system, own_value, carried.system, carried.value
    FROM (SELECT own_system, own_value, unnest(identifiers) AS carried FROM edms_current))
SELECT d.source_system, d.document_id, d.status, d.duplicate_of, coalesce(f.records, 0) AS records, f.coded,
       f.confidentiality, CASE WHEN f.records = 1 THEN f.attachments END AS attachments,
       k.own_system IS NOT NULL AS on_canonical
FROM docs AS d
LEFT JOIN found AS f ON f.own_system = d.own_system AND f.own_value = d.document_id
LEFT JOIN carried AS k ON k.own_system = d.canonical_system AND k.own_value = d.canonical_id
    AND k.system = d.own_system AND k.value = d.document_id
"""


def _identifier_systems(connection: duckdb.DuckDBPyConnection, config: FhirConfig) -> None:
    """edms_systems: each source system lineage names (its documents' and their canonicals') → its identifier
    system, from the config (a few dozen rows)."""
    names = connection.execute(
        "SELECT source_system FROM current_documents UNION "
        "SELECT split_part(duplicate_of, '/', 1) FROM current_documents WHERE duplicate_of <> ''"
    ).fetchall()
    connection.execute("CREATE TABLE edms_systems (source_system VARCHAR, identifier_system VARCHAR)")
    rows = [(name, config.source(name).identifier_system) for (name,) in names]
    if rows:
        connection.executemany("INSERT INTO edms_systems VALUES (?, ?)", rows)


def check_edms(
    connection: duckdb.DuckDBPyConnection,
    records_prefix: str,
    config: FhirConfig,
    verify: Verify,
    pseudonyms: Pseudonyms | None = None,
    files: Iterable[str] | None = None,
) -> tuple[Check, dict[str, dict[str, Any]]]:
    """`pseudonyms`: how lineage names a record's legacy ids (pseudonymised where they hold an identifier). The
    records and the documents meet in DuckDB (edms_records_db.py), so memory does not grow with the estate.
    `files`: the DocumentReference files to read as records (reconcile: those a runs row vouches for); None: all."""
    check = Check("edms")
    named = pseudonyms.value if pseudonyms is not None else (lambda text: text)
    load_current_records(connection, fhir_folder(records_prefix), named, files)
    _identifier_systems(connection, config)
    connection.execute(_CHECKED)
    mix: dict[str, dict[str, Any]] = {}
    for row in _stream(connection, "SELECT * EXCLUDE (attachments) FROM edms_checked ORDER BY ALL"):
        source, label = row["source_system"], f"{row['source_system']}/{row['document_id']}"
        check.checked[source] += 1
        if row["status"] == "migrated":
            if row["records"] != 1:
                check.fail(source, f"{label}: migrated, with {row['records']} current DocumentReference(s), not one")
                continue
            entry = mix.setdefault(source, {"coded": 0, "uncoded": 0, "labels": Counter()})
            entry["coded" if row["coded"] else "uncoded"] += 1
            entry["labels"][row["confidentiality"]] += 1
        elif row["status"] == "quarantined" and row["records"]:
            check.fail(source, f"{label}: quarantined, yet it has a current DocumentReference")
        elif row["status"] == "duplicate" and row["duplicate_of"] and not row["on_canonical"]:
            check.fail(source, f"{label}: its legacy id is not on its canonical {row['duplicate_of']}'s record")
    hashed = (
        "SELECT * FROM (SELECT source_system, document_id, attachments, "
        f"{verify.chosen('source_system', 'document_id')} AS hash_it FROM edms_checked "
        "WHERE status = 'migrated' AND records = 1) WHERE hash_it ORDER BY source_system, document_id"
    )
    for row in _stream(connection, hashed):
        source, label = row["source_system"], f"{row['source_system']}/{row['document_id']}"
        for number, (url, size, digest) in enumerate(json.loads(row["attachments"]), start=1):
            _check_attachment(check, source, f"{label} attachment {number}", url, size, digest)
    return check, {source: {**entry, "labels": dict(entry["labels"])} for source, entry in mix.items()}


def _check_attachment(check: Check, source: str, label: str, url: str, size: int | None, digest: str | None) -> None:
    uri = object_uri(url)
    check.hashed[source] += 1
    try:
        found_size, found_digest = sha1_base64(uri)
    except Exception as error:  # a missing object, whatever the store says
        check.fail(source, f"{label}: {uri} cannot be read ({type(error).__name__})")
        return
    if found_size != size or found_digest != digest:
        check.fail(source, f"{label}: {uri} is not the object it names (size or SHA-1 differs)")
