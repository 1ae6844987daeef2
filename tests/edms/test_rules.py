"""UK Core DocumentReference rules checked offline (transforms/edms/rules.py UK_CORE_RULES): a resource the builder
makes passes them all, and each rule catches the resource broken the way it names; the category every record
carries (config, or SNOMED CT 419891008 |Record artifact| by default); earlier records brought up to the rules."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas.records import DocumentOutcome, DocumentRef
from transforms.edms.codes import RECORD_ARTIFACT, SNOMED_SYSTEM, snomed_valid
from transforms.edms.config import FhirConfig, parse_config
from transforms.edms.documentreference import build_document_reference, upgraded
from transforms.edms.record import EdmsSettings, edms_record, stored_objects
from transforms.edms.rules import UK_CORE_RULES, uk_core_rules, validate

ISSUED = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
LETTER = {"code": "371531000", "display": "Report of clinical encounter"}
CONFIG = {
    "sources": {"PAS": {"identifier_system": "https://trust.example.nhs.uk/Id/pas", "custodian_ods": "RRK"}},
    "document_types": {"Clinic Letter": LETTER},
}
DATA = [b"page one bytes", b"page two bytes"]


def document_ref(document_type: str | None = "Clinic Letter", nhs_number: str | None = "943 476 5919") -> DocumentRef:
    return DocumentRef(
        "PAS", "L1", "/exports/pas/manifest.csv", 2, blob_uri="/legacy/pas/1.tif", nhs_number=nhs_number,
        document_type=document_type, document_date="2015-03-02",
    )  # fmt: skip


def outcome() -> DocumentOutcome:
    pages = tuple({"page_number": n, "object_uri": f"/archive/objects/ab/{n:02d}cd.tif"} for n in (1, 2))
    document = {"document_date": dt.date(2015, 3, 2), "page_count": 2, "source_sha256": "ab" * 32}
    return DocumentOutcome(document=document, pages=pages)


def built(config: FhirConfig, ref: DocumentRef | None = None) -> tuple[dict, list]:
    result = outcome()
    stored = stored_objects([page["object_uri"] for page in result.pages], DATA)
    resource = build_document_reference(
        config, b"k" * 32, ref or document_ref(), result.document, result.pages, stored, ISSUED
    )
    return resource, stored


def test_record_artifact_is_a_snomed_concept_id():
    """The default category's id, checked here as every config code is: partition 00, Verhoeff check digit."""
    assert RECORD_ARTIFACT == ("419891008", "Record artifact") and snomed_valid(RECORD_ARTIFACT[0])


def test_with_no_config_every_record_has_the_record_artifact_category_and_passes_every_rule():
    for ref in (document_ref(), document_ref(document_type=None, nhs_number=None)):
        resource, stored = built(FhirConfig(), ref)
        assert resource["category"] == [
            {"coding": [{"system": SNOMED_SYSTEM, "code": "419891008", "display": "Record artifact"}]}
        ]
        assert resource["description"] == (ref.document_type or "Scanned document")
        assert validate(resource, stored) == []
        keys = list(resource)  # R4's element order: type, category, subject, date, …, description, securityLabel
        assert keys.index("category") == keys.index("date") - (2 if "subject" in resource else 1)


def test_categories_in_the_config_a_types_own_else_the_default():
    config = parse_config(
        {
            **CONFIG,
            "categories": {
                "default": {"code": "371531000", "display": "Report of clinical encounter"},
                "document_types": {" clinic LETTER ": {"code": "734163000", "display": "Care plan"}},
            },
        }
    )
    letter, _ = built(config)
    other, stored = built(config, document_ref(document_type="Referral"))
    assert letter["category"][0]["coding"][0]["code"] == "734163000"
    assert other["category"][0]["coding"][0]["code"] == "371531000"
    assert validate(letter, stored) == [] and validate(other, stored) == []


def _set(path: str, value) -> Callable[[dict], None]:
    """A breakage: the element at the dotted path (numbers index lists) set to value, or removed (value None)."""

    def breaks(resource: dict) -> None:
        *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
        holder = resource
        for part in parents:
            holder = holder[part]
        if value is None:
            del holder[last]
        else:
            holder[last] = value

    return breaks


#: Each UK Core rule, and resources broken so that it (and, where stated, only it among the UK Core rules) fails.
BROKEN = {
    "UKCORE_PROFILE": [_set("meta.profile", ["http://hl7.org/fhir/StructureDefinition/DocumentReference"])],
    "UKCORE_MUST_SUPPORT": [
        _set("category", None),
        _set("description", None),
        _set("date", None),
        _set("identifier.0.value", None),
        _set("content.0.attachment.contentType", None),
    ],
    "UKCORE_CATEGORY": [
        _set("category.0.coding.0.code", "419891009"),  # Verhoeff fails
        _set("category.0.coding.0.system", "http://loinc.org"),
        _set("category", [{"text": "Letters"}]),  # text alone: not coded
    ],
    "UKCORE_SUBJECT": [_set("subject.identifier.system", "https://fhir.nhs.uk/Id/other-number")],
    "UKCORE_TYPE_SNOMED": [_set("type.coding.0.system", "http://loinc.org")],
    "UKCORE_ODS_SYSTEM": [_set("custodian.identifier.system", "https://trust.example.nhs.uk/Id/organisation")],
}


def test_every_uk_core_rule_has_a_broken_resource_to_catch():
    assert set(BROKEN) == set(UK_CORE_RULES)


@pytest.mark.parametrize(("rule", "case"), [(rule, n) for rule, cases in BROKEN.items() for n in range(len(cases))])
def test_each_rule_catches_a_resource_broken_its_way(rule, case):
    resource, stored = built(parse_config(CONFIG))
    assert list(uk_core_rules(resource)) == [] and validate(resource, stored) == []
    broken = copy.deepcopy(resource)
    BROKEN[rule][case](broken)
    assert [name for name, _ in uk_core_rules(broken)] == [rule]
    assert rule in [name for name, _ in validate(broken, stored)]  # and validate, which every record passes through


def test_a_record_failing_a_uk_core_rule_is_not_kept_and_names_the_rule():
    """edms_record, as the per-document step calls it: a category that bypassed the config's check digit."""
    wrong = FhirConfig(default_category=("419891009", "Not a concept"))
    ref = document_ref()
    record = edms_record(EdmsSettings(config=wrong, issued=ISSUED), b"k" * 32, ref, outcome(), DATA, "run")
    assert record.packed is None
    assert [failure.split(":")[0] for failure in record.failures] == ["UKCORE_CATEGORY"]


def test_an_earlier_record_without_category_or_description_is_brought_up_to_the_rules():
    """An earlier version wrote neither; a re-issue (superseded, a duplicate's id) is validated by today's rules."""
    config = parse_config(CONFIG)
    resource, stored = built(config, document_ref(document_type=None))
    earlier = {name: value for name, value in resource.items() if name not in ("category", "description")}
    assert {name for name, _ in validate(earlier)} == {"UKCORE_MUST_SUPPORT"}
    assert json.dumps(upgraded(config, earlier)) == json.dumps(resource)  # the same elements, in the same order
    assert upgraded(config, resource) is resource


def test_the_docs_name_every_uk_core_rule():
    text = (Path(__file__).resolve().parents[2] / "docs" / "edms.md").read_text(encoding="utf-8")
    assert [rule for rule in UK_CORE_RULES if f"`{rule}`" not in text] == []
