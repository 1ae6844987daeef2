"""--fhir_config: how legacy documents become UK Core DocumentReferences (identifier systems, ODS codes, SNOMED CT
types, confidentiality rules), checked whole at launch so a bad file is one line and exit code 2.

The file is JSON:

    {"sources": {"PAS": {"identifier_system": "https://trust.example.nhs.uk/Id/pas-document",
                         "custodian_ods": "RRK", "author_ods": "RRK99"}},
     "document_types": {"Clinic Letter": {"code": "371531000", "display": "Report of clinical encounter"}},
     "confidentiality": {"document_types": {"Sexual Health Letter": "R"},
                         "restricted_flag": {"column": "restricted", "values": {"Y": "R", "V": "V"}}}}

`restricted_flag` may also be a list of such objects (several legacy columns); `default_identifier_base` (an
absolute URI) replaces DEFAULT_IDENTIFIER_BASE. Type names and flag values match whatever their case and outer
spaces. A source system with no entry gets DEFAULT_IDENTIFIER_BASE + its name, and no author or custodian.

`categories` (optional) sets the UK Core must-support `category`, one SNOMED CT concept per document:

    "categories": {"default": {"code": "419891008", "display": "Record artifact"},
                   "document_types": {"Clinic Letter": {"code": "…", "display": "…"}}}

a document type's own category if it has one, else `default`, else RECORD_ARTIFACT.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from transforms.edms.codes import CONFIDENTIALITY_ORDER, RECORD_ARTIFACT, absolute_uri, ods_valid, snomed_valid

#: The identifier system of a source system the config does not name: this base, then the source's name.
DEFAULT_IDENTIFIER_BASE = "https://edms-migrate.nhs.invalid/Id/legacy-document/"


class FhirConfigError(ValueError):
    """A config the launcher refuses, in one line that says where."""


@dataclass(frozen=True)
class SourceSystem:
    identifier_system: str
    custodian_ods: str | None = None
    author_ods: str | None = None


@dataclass(frozen=True)
class RestrictedFlag:
    column: str
    values: dict[str, str]  # casefolded legacy value → confidentiality code


@dataclass(frozen=True)
class FhirConfig:
    sources: dict[str, SourceSystem] = field(default_factory=dict)
    document_types: dict[str, tuple[str, str]] = field(default_factory=dict)  # casefolded text → (code, display)
    type_labels: dict[str, str] = field(default_factory=dict)  # casefolded type text → confidentiality code
    restricted_flags: tuple[RestrictedFlag, ...] = ()
    default_identifier_base: str = DEFAULT_IDENTIFIER_BASE
    default_category: tuple[str, str] = RECORD_ARTIFACT  # (SNOMED CT code, display)
    type_categories: dict[str, tuple[str, str]] = field(default_factory=dict)  # casefolded type text → category

    def source(self, source_system: str) -> SourceSystem:
        found = self.sources.get(source_system)
        if found is not None:
            return found
        return SourceSystem(self.default_identifier_base + quote(source_system, safe=""))

    def identity(self, source_system: str, document_id: str) -> tuple[str, str]:
        """A document's record's join key: its source's identifier system and the id lineage uses."""
        return self.source(source_system).identifier_system, document_id


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _object(value: Any, where: str, keys: set[str], required: set[str] = frozenset()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FhirConfigError(f"{where} must be a JSON object")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise FhirConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(keys))})")
    missing = sorted(required - set(value))
    if missing:
        raise FhirConfigError(f"{where}: {missing[0]!r} is required")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FhirConfigError(f"{where} must be a non-empty string")
    return value.strip()


def _label(value: Any, where: str) -> str:
    code = _text(value, where)
    if code not in CONFIDENTIALITY_ORDER:
        raise FhirConfigError(
            f"{where}: {code!r} is not a v3-Confidentiality code ({', '.join(CONFIDENTIALITY_ORDER)})"
        )
    return code


def _ods(value: Any, where: str) -> str:
    code = _text(value, where)
    if not ods_valid(code):
        raise FhirConfigError(f"{where}: {code!r} is not an ODS organisation code (3-6 capital letters or digits)")
    return code


def _uri(value: Any, where: str) -> str:
    uri = _text(value, where)
    if not absolute_uri(uri):
        raise FhirConfigError(f"{where}: {uri!r} is not an absolute URI")
    return uri


def _source(name: str, value: Any) -> SourceSystem:
    where = f"sources.{name}"
    entry = _object(value, where, {"identifier_system", "custodian_ods", "author_ods"}, {"identifier_system"})
    return SourceSystem(
        _uri(entry["identifier_system"], f"{where}.identifier_system"),
        _ods(entry["custodian_ods"], f"{where}.custodian_ods") if "custodian_ods" in entry else None,
        _ods(entry["author_ods"], f"{where}.author_ods") if "author_ods" in entry else None,
    )


def _type(name: str, value: Any, within: str = "document_types") -> tuple[str, str]:
    """A SNOMED CT concept, {"code", "display"}: a document type's, or a category's."""
    where = f"{within}.{name}"
    entry = _object(value, where, {"code", "display"}, {"code", "display"})
    code = _text(entry["code"], f"{where}.code")
    if not snomed_valid(code):
        raise FhirConfigError(f"{where}.code: {code!r} is not a SNOMED CT id (6-18 digits, Verhoeff check digit)")
    return code, _text(entry["display"], f"{where}.display")


def _flag(value: Any, where: str) -> RestrictedFlag:
    entry = _object(value, where, {"column", "values"}, {"column", "values"})
    values = _object(
        entry["values"], f"{where}.values", set(entry["values"]) if isinstance(entry["values"], dict) else set()
    )
    return RestrictedFlag(
        _text(entry["column"], f"{where}.column"),
        {_key(flag): _label(code, f"{where}.values.{flag}") for flag, code in values.items()},
    )


def _categories(value: Any) -> dict[str, Any]:
    """`categories`: its default concept (None: RECORD_ARTIFACT) and each document type's, casefolded."""
    top = _object(value, "categories", {"default", "document_types"})
    types = top.get("document_types", {})
    types = _object(types, "categories.document_types", set(types) if isinstance(types, dict) else set())
    found: dict[str, Any] = {
        "type_categories": {
            _key(name): _type(name, entry, "categories.document_types") for name, entry in types.items()
        }
    }
    if "default" in top:
        found["default_category"] = _type("default", top["default"], "categories")
    return found


def parse_config(document: Any) -> FhirConfig:
    top = _object(
        document,
        "the config",
        {"sources", "document_types", "confidentiality", "default_identifier_base", "categories"},
    )
    sources = _object(top.get("sources", {}), "sources", set(top.get("sources") or {}))
    types = _object(top.get("document_types", {}), "document_types", set(top.get("document_types") or {}))
    rules = _object(top.get("confidentiality", {}), "confidentiality", {"document_types", "restricted_flag"})
    labels = rules.get("document_types", {})
    labels = _object(labels, "confidentiality.document_types", set(labels) if isinstance(labels, dict) else set())
    flags = rules.get("restricted_flag", [])
    flags = flags if isinstance(flags, list) else [flags]
    base = top.get("default_identifier_base")
    return FhirConfig(
        sources={_text(name, "a sources key"): _source(name, value) for name, value in sources.items()},
        document_types={_key(name): _type(name, value) for name, value in types.items()},
        type_labels={
            _key(name): _label(code, f"confidentiality.document_types.{name}") for name, code in labels.items()
        },
        restricted_flags=tuple(_flag(flag, f"confidentiality.restricted_flag[{n}]") for n, flag in enumerate(flags)),
        default_identifier_base=_uri(base, "default_identifier_base") if base is not None else DEFAULT_IDENTIFIER_BASE,
        **_categories(top.get("categories", {})),
    )


def load_fhir_config(uri: str | None) -> FhirConfig:
    """The config a --fhir_config file gives (no file: every default). FhirConfigError on anything wrong."""
    if not uri:
        return FhirConfig()
    from transforms.storage.objects import read_all

    try:
        document = json.loads(read_all(uri))
    except json.JSONDecodeError as error:
        raise FhirConfigError(f"not JSON: line {error.lineno} column {error.colno}: {error.msg}") from error
    except Exception as error:  # missing file, unreadable bucket: one line
        raise FhirConfigError(f"cannot read it: {type(error).__name__}: {error}".splitlines()[0]) from error
    return parse_config(document)


def type_key(text: str | None) -> str:
    """How a document type is looked up in the config: whatever its case and spaces."""
    return _key(text or "")
