"""The pure builder of a UK Core DocumentReference for one migrated document: a dict, no I/O, no Beam.

What it says comes from the manifest's ref (patient, type, date, legacy id, exported metadata), the document's
lineage rows (objects, pages) and the stored objects' own SHA-1 and size (computed by the per-document step from
the bytes it wrote). The dict keeps resourceType and id first, so a reader can find a line's id by its prefix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from schemas.records import DocumentRef
from transforms.edms.codes import (
    CONFIDENTIALITY_DISPLAY,
    CONFIDENTIALITY_SYSTEM,
    NHS_NUMBER_SYSTEM,
    ODS_SYSTEM,
    SNOMED_SYSTEM,
    most_restrictive,
)
from transforms.edms.config import FhirConfig, type_key
from transforms.edms.identity import document_reference_id
from transforms.privacy import nhs_number

UK_CORE_PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-DocumentReference"
PAGES_EXTENSION = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Attachment.pages"
_CONTENT_TYPES = {".tif": "image/tiff", ".png": "image/png", ".jpg": "image/jpeg", ".pdf": "application/pdf"}


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One stored object as its bytes are: where, how big, its SHA-1 (base64, as FHIR's Attachment.hash)."""

    uri: str
    size: int
    sha1_base64: str


def instant(moment: dt.datetime) -> str:
    """A FHIR instant: UTC, to the millisecond, with its zone."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def attachment_url(uri: str) -> str:
    """An object's URI as an absolute URL: gs:// as it is, a local path as file://."""
    return uri if "://" in uri else PurePosixPath(uri).as_uri()


def confidentiality(config: FhirConfig, ref: DocumentRef) -> str:
    """Every rule that applies (the type's, each legacy flag's), the most restrictive winning; N when none."""
    labels = []
    by_type = config.type_labels.get(type_key(ref.document_type))
    if by_type:
        labels.append(by_type)
    if config.restricted_flags:
        metadata = dict(ref.metadata)
        for flag in config.restricted_flags:
            value = metadata.get(flag.column)
            if value is not None and type_key(value) in flag.values:
                labels.append(flag.values[type_key(value)])
    return most_restrictive(labels)


def document_type(config: FhirConfig, text: str | None) -> dict[str, Any] | None:
    """SNOMED CT from the map; an unmapped type keeps its text alone (counted, and listed for review)."""
    if not text:
        return None
    mapped = config.document_types.get(type_key(text))
    if mapped is None:
        return {"text": text}
    code, display = mapped
    return {"coding": [{"system": SNOMED_SYSTEM, "code": code, "display": display}], "text": text}


#: What a document with no legacy type is described as (its description and its attachments' titles).
UNTYPED_DESCRIPTION = "Scanned document"


def category(config: FhirConfig, text: str | None) -> list[dict[str, Any]]:
    """UK Core's must-support category, never absent: the type's own from the config, else the config's default,
    else SNOMED CT 419891008 |Record artifact| (codes.RECORD_ARTIFACT)."""
    code, display = config.type_categories.get(type_key(text), config.default_category)
    return [{"coding": [{"system": SNOMED_SYSTEM, "code": code, "display": display}]}]


def upgraded(config: FhirConfig, resource: dict[str, Any]) -> dict[str, Any]:
    """An earlier run's record, as it is written again (superseded, given a duplicate's id, retired), with the
    must-support elements an older version of this code left out (category; description of an untyped document):
    a re-issue is validated against today's rules. The same dict when nothing is missing."""
    text = (resource.get("type") or {}).get("text")
    missing = {"category": category(config, text), "description": text or UNTYPED_DESCRIPTION}
    missing = {name: value for name, value in missing.items() if name not in resource}
    if not missing:
        return resource
    filled: dict[str, Any] = {}
    for name, value in resource.items():  # each in R4's element order, so the line reads as a new record's does
        for absent in [absent for absent in missing if name in _AFTER[absent]]:
            filled[absent] = missing.pop(absent)
        filled[name] = value
    return {**filled, **missing}


#: The R4 elements that come after category and after description: where upgraded() puts either.
_AFTER = {
    "category": {"subject", "date", "author", "authenticator", "custodian", "relatesTo", "description"}
    | {"securityLabel", "content", "context"},
    "description": {"securityLabel", "content", "context"},
}


def _attachment(
    stored: StoredObject, page: Mapping[str, Any], count: int, title: str, created: str | None, pdf_pages: int | None
) -> dict[str, Any]:
    attachment: dict[str, Any] = {}
    if pdf_pages and pdf_pages > 1:  # a multi-page object: R5's Attachment.pages, as its R4 extension
        attachment["extension"] = [{"url": PAGES_EXTENSION, "valueUnsignedInt": pdf_pages}]
    attachment["contentType"] = _CONTENT_TYPES.get(PurePosixPath(stored.uri).suffix.lower(), "application/octet-stream")
    attachment["url"] = attachment_url(stored.uri)
    attachment["size"] = stored.size
    attachment["hash"] = stored.sha1_base64
    attachment["title"] = f"{title}, page {page['page_number']} of {count}" if not pdf_pages else f"{title} (PDF)"
    if created:
        attachment["creation"] = created
    return {"attachment": attachment}


def build_document_reference(
    config: FhirConfig,
    key: bytes,
    ref: DocumentRef,
    document: Mapping[str, Any],
    pages: Sequence[Mapping[str, Any]],
    stored: Sequence[StoredObject],
    issued: dt.datetime,
) -> dict[str, Any]:
    """The current DocumentReference of a migrated document; `stored` is its objects in page order."""
    legacy_source, legacy_id = ref.legacy_key  # as the export wrote them: the record is restricted
    source = config.source(legacy_source)
    label = confidentiality(config, ref)
    _, normalised = nhs_number.classify(ref.nhs_number)
    date = document["document_date"]
    created = date.isoformat() if date else None
    ordered = sorted(pages, key=lambda page: page["page_number"])
    pdf_pages = document["page_count"] if len(ordered) == 1 and stored and stored[0].uri.endswith(".pdf") else None
    title = ref.document_type or UNTYPED_DESCRIPTION
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": document_reference_id(key, legacy_source, legacy_id, ref.reference_sha256),
        "meta": {"lastUpdated": instant(issued), "profile": [UK_CORE_PROFILE]},
        "identifier": [{"system": source.identifier_system, "value": legacy_id}],
        "status": "current",
        "docStatus": "final",
    }
    kind = document_type(config, ref.document_type)
    if kind:
        resource["type"] = kind
    resource["category"] = category(config, ref.document_type)
    if normalised:
        resource["subject"] = {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": normalised}}
    resource["date"] = instant(issued)
    if source.author_ods:
        resource["author"] = [{"identifier": {"system": ODS_SYSTEM, "value": source.author_ods}}]
    if source.custodian_ods:
        resource["custodian"] = {"identifier": {"system": ODS_SYSTEM, "value": source.custodian_ods}}
    resource["description"] = title  # the legacy type's text; "Scanned document" when the export had none
    resource["securityLabel"] = [
        {"coding": [{"system": CONFIDENTIALITY_SYSTEM, "code": label, "display": CONFIDENTIALITY_DISPLAY[label]}]}
    ]
    resource["content"] = [
        _attachment(obj, page, len(ordered), title, created, pdf_pages)
        for obj, page in zip(stored, ordered, strict=True)
    ]
    if created:
        resource["context"] = {"period": {"start": created}}
    return resource
