"""Validation of each resource before it is written: R4 (4.0.1) structure by fhirclient, strictly, and the rules
fhirclient cannot check (check digits, code shapes, absolute URIs, each attachment against its stored object).

A failure is a (rule, message) pair; a resource with any is never written, and the run exits 1 naming the
document and the rule (the launcher reads them from the run's EDMS summary).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fhirclient.models.documentreference import DocumentReference
from fhirclient.models.fhirabstractbase import FHIRValidationError
from fhirclient.models.provenance import Provenance

from transforms.edms.codes import (
    CONFIDENTIALITY_ORDER,
    CONFIDENTIALITY_SYSTEM,
    NHS_NUMBER_SYSTEM,
    ODS_SYSTEM,
    SNOMED_SYSTEM,
    absolute_uri,
    nhs_number_valid,
    ods_valid,
    snomed_valid,
)
from transforms.edms.documentreference import StoredObject, attachment_url

_MODELS = {"DocumentReference": DocumentReference, "Provenance": Provenance}
Failure = tuple[str, str]


def r4_structure(resource: dict[str, Any]) -> Iterator[Failure]:
    model = _MODELS.get(resource.get("resourceType"))
    if model is None:
        yield "R4_STRUCTURE", f"unexpected resourceType {resource.get('resourceType')!r}"
        return
    try:
        model(resource, strict=True)
    except FHIRValidationError as error:
        yield "R4_STRUCTURE", str(error).replace("\n", "; ")[:300]


def _identifiers(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from resource.get("identifier", ())
    for holder in (resource.get("subject"), resource.get("custodian"), *resource.get("author", ())):
        if holder and "identifier" in holder:
            yield holder["identifier"]


def document_reference_rules(resource: dict[str, Any], stored: Sequence[StoredObject] | None) -> Iterator[Failure]:
    """The rules beyond R4's structure. `stored`: the objects as written (None: the attachments were checked when
    the resource was first built, and this is a re-issue of it)."""
    if (
        resource.get("status") not in ("current", "superseded", "entered-in-error")
        or resource.get("docStatus") != "final"
    ):
        yield "STATUS", f"status {resource.get('status')!r} / docStatus {resource.get('docStatus')!r}"
    for identifier in _identifiers(resource):
        if not absolute_uri(identifier.get("system", "")):
            yield "IDENTIFIER_SYSTEM_URI", f"identifier system {identifier.get('system')!r} is not an absolute URI"
        elif identifier["system"] == NHS_NUMBER_SYSTEM and not nhs_number_valid(identifier.get("value", "")):
            yield "NHS_NUMBER_CHECK_DIGIT", "the subject's NHS number fails its Modulus 11 check"
        elif identifier["system"] == ODS_SYSTEM and not ods_valid(identifier.get("value", "")):
            yield "ODS_CODE_SHAPE", f"ODS code {identifier.get('value')!r} has not the shape of one"
    for coding in (resource.get("type") or {}).get("coding", ()):
        if coding.get("system") == SNOMED_SYSTEM and not snomed_valid(coding.get("code", "")):
            yield "SNOMED_VERHOEFF", f"SNOMED CT code {coding.get('code')!r} fails its Verhoeff check digit"
    labels = [c for label in resource.get("securityLabel", ()) for c in label.get("coding", ())]
    if not labels or any(
        c.get("system") != CONFIDENTIALITY_SYSTEM or c.get("code") not in CONFIDENTIALITY_ORDER for c in labels
    ):
        yield "CONFIDENTIALITY_CODE", "securityLabel must be one v3-Confidentiality code"
    attachments = [content["attachment"] for content in resource.get("content", ())]
    if not attachments:
        yield "ATTACHMENT_OBJECT", "no attachment"
    if stored is None:
        return
    if len(attachments) != len(stored):
        yield "ATTACHMENT_OBJECT", f"{len(attachments)} attachment(s) for {len(stored)} stored object(s)"
        return
    for number, (attachment, obj) in enumerate(zip(attachments, stored, strict=True), start=1):
        if attachment.get("url") != attachment_url(obj.uri):
            yield "ATTACHMENT_OBJECT", f"attachment {number}'s url is not its object's"
        if attachment.get("size") != obj.size or attachment.get("hash") != obj.sha1_base64:
            yield "ATTACHMENT_OBJECT", f"attachment {number}'s size or SHA-1 is not its object's"


def validate(resource: dict[str, Any], stored: Sequence[StoredObject] | None = None) -> list[Failure]:
    """Every failure of one resource (an empty list: it may be written)."""
    failures = list(r4_structure(resource))
    if resource.get("resourceType") == "DocumentReference":
        failures += document_reference_rules(resource, stored)
    return failures
