"""A DocumentReference written again: given a duplicate's legacy identifier, superseded by a changed document's new
record, or retired. Append-only: the earlier line stays in its file; the new line, with a later meta.lastUpdated,
is the current record (a FHIR store's import overwrites the same id). Each re-issue is validated again and gets a
Provenance of its own (activity UPDATE).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from schemas.records import RecordedOutcome
from transforms.edms.documentreference import instant
from transforms.edms.provenance import build_provenance
from transforms.edms.record import EdmsRecord, dumps, pack, unpack
from transforms.edms.rules import validate


def with_identifiers(resource: dict[str, Any], identities: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The resource with each (system, value) added once, after its own, in a fixed order."""
    have = {(i["system"], i["value"]) for i in resource["identifier"]}
    added = sorted(set(identities) - have)
    if not added:
        return resource
    changed = copy.deepcopy(resource)
    changed["identifier"] += [{"system": system, "value": value} for system, value in added]
    return changed


def superseded(resource: dict[str, Any], issued: dt.datetime) -> dict[str, Any]:
    changed = copy.deepcopy(resource)
    changed["status"] = "superseded"
    changed["meta"]["lastUpdated"] = instant(issued)
    return changed


def replacing(resource: dict[str, Any], earlier_id: str) -> dict[str, Any]:
    """A changed document's new record, naming the one it replaces."""
    changed = copy.deepcopy(resource)
    changed["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{earlier_id}"}}]
    return changed


def reissued(resource: dict[str, Any], issued: dt.datetime) -> dict[str, Any]:
    changed = copy.deepcopy(resource)
    changed["meta"]["lastUpdated"] = instant(issued)
    return changed


def update_provenance(key: bytes, resource: dict[str, Any], run_id: str, issued: dt.datetime, agent: str) -> dict:
    return build_provenance(key, resource["id"], run_id, issued, agent, "UPDATE", "", [], None)


def checked(label: str, resource: dict[str, Any]) -> list[str]:
    """The rules a re-issued resource fails ("label: RULE: message"); its attachments were checked when built."""
    return [f"{label}: {rule}: {message}" for rule, message in validate(resource)]


def merge_canonical(
    canonical: RecordedOutcome, duplicates: list[RecordedOutcome], settles_late: bool = False
) -> tuple[RecordedOutcome, list[RecordedOutcome]]:
    """De-duplication's hook: this run's canonical record carries every duplicate's legacy identifier, so a search
    by either id finds the one document (still valid after: re-checked). The duplicates keep only what the EDMS
    step still needs of their records: none of their own, and whether an earlier record of theirs is superseded.
    settles_late: a killed run's documents are its duplicates too; their identifiers are in that run's journal, so
    the record is held until the EDMS step has them (transforms/edms/adopted.py)."""
    merged = [d._replace(edms=_merged(d.edms)) if d.edms is not None else d for d in duplicates]
    record: EdmsRecord | None = canonical.edms
    if record is None or record.document_reference is None:
        return canonical, merged
    if settles_late:
        record = replace(record, held=True)
    identities = [d.edms.legacy_identifier for d in duplicates if d.edms is not None]
    resource = with_identifiers(record.resource(), identities)
    provenance = with_sources(json.loads(record.provenance), [d.edms for d in duplicates if d.edms is not None])
    failures = checked(canonical.label, resource)
    if failures:
        failed = record.without_resources(failures=tuple(failures))
        return canonical._replace(edms=failed), merged
    packed = pack(dumps(resource), dumps(provenance))
    return canonical._replace(edms=replace(record, packed=packed)), merged


def with_sources(provenance: dict[str, Any], duplicates: list[EdmsRecord]) -> dict[str, Any]:
    """The canonical's Provenance names its duplicates' legacy locations and source digests too: the record stands
    for them all, and the restricted side keeps where every legacy copy was."""
    for record in duplicates:
        if record.packed is not None:
            provenance.setdefault("entity", []).extend(json.loads(unpack(record.packed)[1]).get("entity", []))
    return provenance


def _merged(record: EdmsRecord) -> EdmsRecord:
    return record.without_resources(merged=True)
