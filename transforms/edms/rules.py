"""Validation of each resource before it is written: R4 (4.0.1) structure by fhirclient, strictly, the rules
fhirclient cannot check (check digits, code shapes, absolute URIs, each attachment against its stored object), and
the UK Core DocumentReference rules that need no download (UK_CORE_RULES: the profile's StructureDefinition and
its SNOMED CT refsets cannot be fetched here, so what of the profile can be checked offline is written out).

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
from transforms.edms.documentreference import UK_CORE_PROFILE, StoredObject, attachment_url

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


#: UK Core DocumentReference (2.x), as far as it can be checked offline: each rule's name and what it checks. Not
#: here: `type`'s extensible binding to the record-composition-type refset (the refset cannot be downloaded).
UK_CORE_RULES = {
    "UKCORE_PROFILE": "meta.profile names the UK Core DocumentReference profile",
    "UKCORE_MUST_SUPPORT": "identifier (each with system and value), status, category, date, description and content "
    "(each attachment with contentType and url) are present",
    "UKCORE_CATEGORY": "each category is coded in SNOMED CT with a valid concept id (UK Core 2.x binds category to no "
    "value set: SNOMED CT is this job's choice, as for type)",
    "UKCORE_SUBJECT": "a subject is identified by its NHS number (https://fhir.nhs.uk/Id/nhs-number)",
    "UKCORE_TYPE_SNOMED": "a coded type is coded in SNOMED CT only",
    "UKCORE_ODS_SYSTEM": "an author or custodian is identified by its ODS organisation code "
    "(https://fhir.nhs.uk/Id/ods-organization-code)",
}
_MUST_SUPPORT = ("identifier", "status", "category", "date", "description", "content")


def _codings(concept: Any) -> list[dict[str, Any]]:
    return list(concept.get("coding") or ()) if isinstance(concept, dict) else []


def uk_core_rules(resource: dict[str, Any]) -> Iterator[Failure]:
    """UK_CORE_RULES, on one DocumentReference; its securityLabel (v3-Confidentiality) is CONFIDENTIALITY_CODE."""
    if UK_CORE_PROFILE not in (resource.get("meta") or {}).get("profile", ()):
        yield "UKCORE_PROFILE", f"meta.profile does not name {UK_CORE_PROFILE}"
    absent = [name for name in _MUST_SUPPORT if resource.get(name) in (None, "", [], {})]
    if any(not (i.get("system") and i.get("value")) for i in resource.get("identifier") or ()):
        absent.append("identifier.system/value")
    attachments = [content.get("attachment") or {} for content in resource.get("content") or ()]
    if any(not (a.get("contentType") and a.get("url")) for a in attachments):
        absent.append("content.attachment.contentType/url")
    if absent:
        yield "UKCORE_MUST_SUPPORT", f"must-support element(s) absent: {', '.join(absent)}"
    for concept in resource.get("category") or ():
        codings = _codings(concept)
        if not codings or any(c.get("system") != SNOMED_SYSTEM or not snomed_valid(c.get("code", "")) for c in codings):
            yield "UKCORE_CATEGORY", f"category {[c.get('code') for c in codings]} is not a SNOMED CT concept"
    subject = resource.get("subject")
    if subject is not None and (subject.get("identifier") or {}).get("system") != NHS_NUMBER_SYSTEM:
        yield "UKCORE_SUBJECT", "the subject is not identified by an NHS number"
    if any(c.get("system") != SNOMED_SYSTEM for c in _codings(resource.get("type"))):
        yield "UKCORE_TYPE_SNOMED", "type is coded in a system other than SNOMED CT"
    for holder in (resource.get("custodian"), *(resource.get("author") or ())):
        if holder is not None and (holder.get("identifier") or {}).get("system") != ODS_SYSTEM:
            yield "UKCORE_ODS_SYSTEM", "an author or custodian is not identified by an ODS organisation code"


def validate(resource: dict[str, Any], stored: Sequence[StoredObject] | None = None) -> list[Failure]:
    """Every failure of one resource (an empty list: it may be written)."""
    failures = list(r4_structure(resource))
    if resource.get("resourceType") == "DocumentReference":
        failures += document_reference_rules(resource, stored)
        failures += uk_core_rules(resource)
    return failures
