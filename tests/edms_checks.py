"""Reading and checking the EDMS NDJSON in tests: every line parsed by fhirclient (R4, strictly), every rule."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from fhirclient.models.documentreference import DocumentReference
from fhirclient.models.provenance import Provenance

from pipelines.operate.reconcile_edms import object_uri
from tests.lineage_checks import read_bytes
from transforms.edms.documentreference import StoredObject
from transforms.edms.rules import validate


def lines(folder: Path | str, resource_type: str, run_id: str = "") -> list[dict[str, Any]]:
    """Every resource of that type in the folder's NDJSON (of one run, when given), in file order."""
    found = []
    for path in sorted(Path(folder).glob(f"{resource_type}-{run_id}*.ndjson")):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n") and "\n\n" not in text, path  # one resource per line, as fhirStores.import reads
        found += [json.loads(line) for line in text.splitlines()]
    return found


def stored_as_it_is(resource: dict[str, Any]) -> list[StoredObject]:
    """Each attachment's object as it is in storage now: its size and SHA-1 from its bytes."""
    stored = []
    for content in resource["content"]:
        uri = object_uri(content["attachment"]["url"])
        data = read_bytes(uri)
        stored.append(StoredObject(uri, len(data), base64.b64encode(hashlib.sha1(data).digest()).decode()))
    return stored


def check_every_line(folder: Path | str) -> tuple[list[dict], list[dict]]:
    """Every DocumentReference and Provenance parses in fhirclient's R4 models with strict=True and passes every
    rule (validate: the extra rules, attachments against the stored objects' own bytes, and the UK Core
    DocumentReference rules, UK_CORE_RULES); every Provenance targets a DocumentReference."""
    documents, provenances = lines(folder, "DocumentReference"), lines(folder, "Provenance")
    assert documents and provenances
    for resource in documents:
        DocumentReference(resource, strict=True)
        assert validate(resource, stored_as_it_is(resource)) == [], resource["id"]
    ids = {resource["id"] for resource in documents}
    for resource in provenances:
        Provenance(resource, strict=True)
        assert validate(resource) == []
        [target] = resource["target"]
        assert target["reference"].removeprefix("DocumentReference/") in ids
    return documents, provenances


def current(documents: list[dict]) -> dict[str, dict]:
    """Each id's current version: the latest meta.lastUpdated."""
    latest: dict[str, dict] = {}
    for resource in documents:
        if (
            resource["id"] not in latest
            or latest[resource["id"]]["meta"]["lastUpdated"] < resource["meta"]["lastUpdated"]
        ):
            latest[resource["id"]] = resource
    return latest


def own(resource: dict) -> tuple[str, str]:
    first = resource["identifier"][0]
    return first["system"], first["value"]
