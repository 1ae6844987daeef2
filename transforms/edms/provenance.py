"""The Provenance of a DocumentReference: where the record came from and which run of which code made it.

One per DocumentReference per run that writes it (created, superseded, or given a duplicate's identifier). It
names the legacy location, so it lives on the restricted side with the DocumentReference, never in analyst outputs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.records import DocumentRef
from transforms.edms.documentreference import attachment_url, instant
from transforms.edms.identity import provenance_id

#: The OID of SHA-256 (NIST), as the identifier system of a digest.
SHA256_SYSTEM = "urn:oid:2.16.840.1.101.3.4.2.1"
URI_SYSTEM = "urn:ietf:rfc:3986"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def legacy_locations(ref: DocumentRef) -> list[str]:
    """Where the bytes were read: a blob (with its byte range), or each page file of a page-per-row document."""
    if ref.page_blobs:
        return [_location(page.blob_uri, page.offset, page.length) for page in ref.page_blobs]
    return [_location(ref.blob_uri, ref.offset, ref.length)] if ref.blob_uri else []


def _location(uri: str, offset: int | None, length: int | None) -> str:
    """An absolute URI (a local path as file://), with its byte range as a fragment when it is part of a file."""
    uri = attachment_url(uri)
    if offset is None and length is None:
        return uri
    return f"{uri}#bytes={offset or 0}-{(offset or 0) + length - 1 if length else ''}"


def build_provenance(
    key: bytes,
    target_id: str,
    run_id: str,
    recorded: dt.datetime,
    agent: str,
    activity: str,
    source_system: str,
    locations: list[str],
    source_sha256: str | None,
) -> dict[str, Any]:
    entities = [
        {"role": "source", "what": {"identifier": {"system": URI_SYSTEM, "value": where}, "display": source_system}}
        for where in locations
    ]
    if source_sha256:
        entities.append(
            {
                "role": "source",
                "what": {
                    "identifier": {"system": SHA256_SYSTEM, "value": source_sha256},
                    "display": "SHA-256 of the source bytes",
                },
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": provenance_id(key, target_id, run_id),
        "target": [{"reference": f"DocumentReference/{target_id}"}],
        "recorded": instant(recorded),
        "activity": {"coding": [{"system": DATA_OPERATION, "code": activity}]},
        "agent": [
            {
                "type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "assembler"}]},
                "who": {"display": f"edms-migrate {agent} run {run_id}"},
            }
        ],
    }
    if entities:
        resource["entity"] = entities
    return resource
