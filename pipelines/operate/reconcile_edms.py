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
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

import duckdb
from apache_beam.io.filesystems import FileSystems

from pipelines.operate.reconcile_checks import Check, Verify, _stream
from schemas.records import split_document_label
from transforms.edms.config import FhirConfig
from transforms.edms.earlier import document_reference_files
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.storage.objects import read_all
from transforms.storage.output_layout import fhir_folder


def current_resources(files: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each DocumentReference id's current version in these files, cut to what the checks read."""
    current: dict[str, dict[str, Any]] = {}
    for uri in files:
        with FileSystems.open(uri, compression_type="uncompressed") as handle:
            for line in handle:
                resource = json.loads(line)
                updated = resource["meta"]["lastUpdated"]
                if resource["id"] in current and current[resource["id"]]["updated"] >= updated:
                    continue
                coding = (resource.get("type") or {}).get("coding") or []
                current[resource["id"]] = {
                    "updated": updated,
                    "status": resource["status"],
                    "identifiers": [(i["system"], i["value"]) for i in resource["identifier"]],
                    "attachments": [c["attachment"] for c in resource["content"]],
                    "coded": bool(coding),
                    "confidentiality": resource["securityLabel"][0]["coding"][0]["code"],
                }
    return current


def object_uri(url: str) -> str:
    return unquote(urlsplit(url).path) if url.startswith("file://") else url


def sha1_base64(uri: str) -> tuple[int, str]:
    data = read_all(uri)
    return len(data), base64.b64encode(hashlib.sha1(data).digest()).decode()


def check_edms(
    connection: duckdb.DuckDBPyConnection,
    records_prefix: str,
    config: FhirConfig,
    verify: Verify,
    pseudonyms: Pseudonyms | None = None,
    files: Iterable[str] | None = None,
) -> tuple[Check, dict[str, dict[str, Any]]]:
    """`pseudonyms`: how lineage names a record's legacy ids (pseudonymised where they hold an identifier). `files`:
    the DocumentReference files to read as records (reconcile: those a runs row vouches for); None: every one."""
    check = Check("edms")
    named = pseudonyms.value if pseudonyms is not None else (lambda text: text)
    by_identity: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    files = document_reference_files(fhir_folder(records_prefix)) if files is None else files
    for resource in current_resources(files).values():
        if resource["status"] == "current":
            resource["identifiers"] = [(system, named(value)) for system, value in resource["identifiers"]]
            by_identity[resource["identifiers"][0]].append(resource)
    mix: dict[str, dict[str, Any]] = {}
    chosen = random.Random(verify.seed)
    to_hash: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _stream(
        connection,
        "SELECT c.source_system, c.document_id, c.status, c.duplicate_of FROM current_documents AS c "
        "JOIN manifest_documents AS m USING (source_system, document_id) WHERE NOT m.repeated ORDER BY ALL",
    ):
        source, label = row["source_system"], f"{row['source_system']}/{row['document_id']}"
        identity = (config.source(source).identifier_system, row["document_id"])
        found = by_identity.get(identity, [])
        check.checked[source] += 1
        if row["status"] == "migrated":
            if len(found) != 1:
                check.fail(source, f"{label}: migrated, with {len(found)} current DocumentReference(s), not one")
                continue
            entry = mix.setdefault(source, {"coded": 0, "uncoded": 0, "labels": Counter()})
            entry["coded" if found[0]["coded"] else "uncoded"] += 1
            entry["labels"][found[0]["confidentiality"]] += 1
            to_hash[source].append({"label": label, **found[0]})
        elif row["status"] == "quarantined" and found:
            check.fail(source, f"{label}: quarantined, yet it has a current DocumentReference")
        elif row["status"] == "duplicate" and row["duplicate_of"]:
            canonical_source, canonical_id = split_document_label(row["duplicate_of"])
            canonical = (config.source(canonical_source).identifier_system, canonical_id)
            if not any(identity in record["identifiers"] for record in by_identity.get(canonical, [])):
                check.fail(source, f"{label}: its legacy id is not on its canonical {row['duplicate_of']}'s record")
    for source, documents in sorted(to_hash.items()):
        sample = documents if verify.sample is None else chosen.sample(documents, min(verify.sample, len(documents)))
        for document in sample:
            for number, attachment in enumerate(document["attachments"], start=1):
                _check_attachment(check, source, f"{document['label']} attachment {number}", attachment)
    return check, {source: {**entry, "labels": dict(entry["labels"])} for source, entry in mix.items()}


def _check_attachment(check: Check, source: str, label: str, attachment: dict[str, Any]) -> None:
    uri = object_uri(attachment["url"])
    check.hashed[source] += 1
    try:
        size, digest = sha1_base64(uri)
    except Exception as error:  # a missing object, whatever the store says
        check.fail(source, f"{label}: {uri} cannot be read ({type(error).__name__})")
        return
    if size != attachment.get("size") or digest != attachment.get("hash"):
        check.fail(source, f"{label}: {uri} is not the object it names (size or SHA-1 differs)")
