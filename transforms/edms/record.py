"""The EDMS record of one migrated document, made in the per-document step where its objects' bytes still are.

`EdmsRecord` is what travels on with the document's RecordedOutcome: the validated DocumentReference and its
Provenance as compact JSON (about 1-2 KB: references and codes, never image bytes), or the rules it failed. It
must travel rather than be written here, because de-duplication decides later which document is canonical, and
the canonical's resource carries every duplicate's legacy identifier; writing it once, after that, keeps the NDJSON
append-only and each file written once. Its repr says nothing: the resource names the patient.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from schemas.records import DocumentOutcome, DocumentRef
from transforms.edms.config import FhirConfig
from transforms.edms.documentreference import StoredObject, build_document_reference
from transforms.edms.provenance import build_provenance, legacy_locations
from transforms.edms.rules import validate


@dataclass(frozen=True)
class EdmsSettings:
    """What every document's record needs, fixed for the run (pickled into the graph: no key, only the config)."""

    config: FhirConfig = field(default_factory=FhirConfig)
    issued: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))  # the run's start: lastUpdated
    agent: str = "unknown"  # the code version (transforms/lineage/runs.code_version)
    earlier_files: tuple[str, ...] = ()  # earlier runs' DocumentReference files, listed before this run wrote
    index_files: tuple[str, ...] = ()  # earlier runs' edms_record_index files: where those files' lines are
    adopted_journals: tuple[str, ...] = ()  # the EDMS journals of the killed runs this run adopts


#: zlib's preset dictionary for a record's two resources: what every record repeats (key names, profile and
#: code system URIs). A record travels as about 0.4 KB instead of 2 KB (measured on the sample dump), which is
#: what each migrated document adds to the memory of the stages it crosses. Changing it changes no output.
_DICTIONARY = (
    b'{"resourceType":"DocumentReference","id":"","meta":{"lastUpdated":"","profile":["https://fhir.hl7.org.uk/'
    b'StructureDefinition/UKCore-DocumentReference"]},"identifier":[{"system":"https://","value":""}],"status":'
    b'"current","docStatus":"final","type":{"coding":[{"system":"http://snomed.info/sct","code":"","display":""}]'
    b',"text":""},"category":[{"coding":[{"system":"http://snomed.info/sct","code":"419891008","display":"Record '
    b'artifact"}]}],"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":""}},"date":"",'
    b'"author":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":""}}],"custodian":'
    b'{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":""}},"description":"",'
    b'"securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N",'
    b'"display":"normal"}]}],"content":[{"attachment":{"contentType":"image/tiff","url":"gs://","size":,"hash":"",'
    b'"title":", page 1 of ","creation":""}}],"context":{"period":{"start":""}}}\n{"resourceType":"Provenance",'
    b'"id":"","target":[{"reference":"DocumentReference/"}],"recorded":"","activity":{"coding":[{"system":'
    b'"http://terminology.hl7.org/CodeSystem/v3-DataOperation","code":"CREATE"}]},"agent":[{"type":{"coding":'
    b'[{"system":"http://terminology.hl7.org/CodeSystem/provenance-participant-type","code":"assembler"}]},"who":'
    b'{"display":"edms-migrate  run "}}],"entity":[{"role":"source","what":{"identifier":{"system":'
    b'"urn:ietf:rfc:3986","value":"file:///"},"display":""}},{"role":"source","what":{"identifier":{"system":'
    b'"urn:oid:2.16.840.1.101.3.4.2.1","value":""},"display":"SHA-256 of the source bytes"}}]}'
)


def pack(document_reference: bytes, provenance: bytes) -> bytes:
    packer = zlib.compressobj(6, zdict=_DICTIONARY)
    return packer.compress(document_reference + b"\n" + provenance) + packer.flush()


def unpack(packed: bytes) -> tuple[bytes, bytes]:
    unpacker = zlib.decompressobj(zdict=_DICTIONARY)
    document_reference, provenance = (unpacker.decompress(packed) + unpacker.flush()).split(b"\n", 1)
    return document_reference, provenance


@dataclass(frozen=True, slots=True)
class EdmsRecord:
    packed: bytes | None = field(default=None, repr=False)  # the DocumentReference and Provenance lines, zlib
    # (identifier system, the id lineage uses: pseudonymised where it held an identifier): the join key
    identity: tuple[str, str] = field(default=("", ""), repr=False)
    legacy_identifier: tuple[str, str] = field(default=("", ""), repr=False)  # (system, the export's id): restricted
    replaces: bool = False  # an earlier run migrated this document from another reference: supersede that one
    merged: bool = False  # a duplicate whose identifier is already on this run's canonical's record
    held: bool = False  # written only once it has met identifiers it is still owed (late-settled duplicates')
    coded: bool = False
    label: str = "N"
    type_text: str | None = field(default=None, repr=False)  # only when uncoded: for the review list
    failures: tuple[str, ...] = ()  # "RULE: message" for each rule the resource failed; then nothing is written

    @property
    def document_reference(self) -> bytes | None:
        return unpack(self.packed)[0] if self.packed is not None else None

    @property
    def provenance(self) -> bytes | None:
        return unpack(self.packed)[1] if self.packed is not None else None

    def resource(self) -> dict[str, Any]:
        return json.loads(self.document_reference)

    def with_document_reference(self, document_reference: bytes) -> EdmsRecord:
        return replace(self, packed=pack(document_reference, unpack(self.packed)[1]))

    def without_resources(self, **changes: Any) -> EdmsRecord:
        return replace(self, packed=None, **changes)


def dumps(resource: dict[str, Any]) -> bytes:
    """One NDJSON line's JSON: compact, in the builder's key order (resourceType and id first)."""
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode()


def stored_objects(uris: Sequence[str], data: Iterable[bytes]) -> list[StoredObject]:
    """Each stored object's size and SHA-1 (base64, as FHIR's Attachment.hash), from the bytes written."""
    return [
        StoredObject(uri, len(blob), base64.b64encode(hashlib.sha1(blob).digest()).decode())
        for uri, blob in zip(uris, data, strict=True)
    ]


def edms_record(
    settings: EdmsSettings, key: bytes, ref: DocumentRef, outcome: DocumentOutcome, data: Sequence[bytes], run_id: str
) -> EdmsRecord:
    """Build and validate the document's DocumentReference and Provenance. A failing resource is not kept."""
    pages = sorted(outcome.pages, key=lambda page: page["page_number"])
    stored = stored_objects([page["object_uri"] for page in pages], data)
    document = build_document_reference(settings.config, key, ref, outcome.document, pages, stored, settings.issued)
    provenance = build_provenance(
        key,
        document["id"],
        run_id,
        settings.issued,
        settings.agent,
        "CREATE",
        ref.source_system,
        legacy_locations(ref),
        outcome.document["source_sha256"],
    )
    failures = [f"{rule}: {message}" for rule, message in (*validate(document, stored), *validate(provenance))]
    kind = document.get("type", {})
    coded = bool(kind.get("coding"))
    label = document["securityLabel"][0]["coding"][0]["code"]
    system = document["identifier"][0]["system"]
    identity, legacy = (system, ref.document_id), (system, document["identifier"][0]["value"])
    common = {
        "identity": identity,
        "legacy_identifier": legacy,
        "coded": coded,
        "label": label,
        "type_text": None if coded else ref.document_type,
    }
    if failures:
        return EdmsRecord(failures=tuple(failures), **common)
    return EdmsRecord(pack(dumps(document), dumps(provenance)), replaces=ref.replaces_earlier, **common)
