"""Source profiles: one JSON file per legacy system says how to read its export, so onboarding is a file, not code.

A profile is validated against schemas/source_profile.schema.json (with the jsonschema library) when the job is
launched; every problem is one ProfileError line naming the file and the key, and the job does not start.
"""

from __future__ import annotations

import codecs
import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from apache_beam.io.filesystems import FileSystems

from schemas import SCHEMAS_FOLDER
from transforms.privacy.pseudonyms import IdentifierPatternError, check_patterns, find_identifiers
from transforms.privacy.redact import describe_value
from transforms.sources.errors import ManifestError, ProfileError
from transforms.sources.paths import absolute, folder_of, resolve_blob_uri
from transforms.storage.listing import matched_paths

SCHEMA_PATH = SCHEMAS_FOLDER / "source_profile.schema.json"
CANONICAL = "canonical"
#: The canonical layout's own name for the profile of a --manifest run.
CANONICAL_PROFILE_NAME = "canonical"


@dataclass(frozen=True)
class SourceProfile:
    """A validated profile with every path resolved; small and picklable, it travels to workers."""

    name: str
    source_system: str | None  # None: the canonical layout reads source_system from each row
    format: str  # "canonical" | "csv" | "onbase-dip"
    manifest: str  # absolute URI or glob
    folder: str  # the profile's own folder
    fields: tuple[tuple[str, str], ...] = ()
    delimiter: str = ","
    quotechar: str = '"'
    quoting: str = "minimal"  # "none": quote characters are plain text (exports that never quote)
    encoding: str = "utf-8"
    embedded_newlines: bool = True
    date_format: str = "%Y-%m-%d"
    path_map: tuple[tuple[str, str], ...] = ()
    #: Unmapped columns (csv) or keywords and `>>` system tags (onbase-dip) allowed into lineage, redacted there;
    #: every other field reaches only the EDMS record's builder (its restricted_flag rules read them). Empty by
    #: default, and always for --manifest.
    keep_metadata: frozenset[str] = frozenset()
    legacy_header: str | int | None = None  # a proprietary header before each blob: "search" or its length
    #: The trust's own patient identifiers (regexes), pseudonymised on the analyst side with every 10-digit run.
    local_identifiers: tuple[str, ...] = ()

    def field(self, canonical: str) -> str | None:
        return dict(self.fields).get(canonical)

    @property
    def csv_dialect(self) -> dict[str, Any]:
        """Keyword arguments for csv.reader / csv.DictReader."""
        quoting = csv.QUOTE_NONE if self.quoting == "none" else csv.QUOTE_MINIMAL
        return {"delimiter": self.delimiter, "quotechar": self.quotechar, "quoting": quoting}

    @property
    def page_per_row(self) -> bool:
        return self.format == "csv" and self.field("page_number") is not None


def canonical_profile(manifest_uri: str) -> SourceProfile:
    """The default profile behind --manifest: the canonical CSV columns, source_system per row."""
    return SourceProfile(
        name=CANONICAL_PROFILE_NAME,
        source_system=None,
        format=CANONICAL,
        manifest=manifest_uri,
        folder=folder_of(manifest_uri),
    )


def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _describe(error: jsonschema.ValidationError) -> str:
    """jsonschema's message, made to name the offending key."""
    where = "/".join(str(part) for part in error.absolute_path)
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - known)
        return f"unknown key(s) {', '.join(repr(k) for k in unknown)}" + (f" in {where}" if where else "")
    if error.validator == "oneOf" and "description" in error.schema:  # "not valid under any of …" says too little
        return f"{where}: {error.instance!r} is not valid. {error.schema['description']}"
    return f"{where or 'profile'}: {error.message}"


def validate_profile(document: Any, uri: str) -> None:
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        raise ProfileError(f"source profile {uri}: {_describe(errors[0])}")


def _legacy_header(value: Any) -> str | int | None:
    """The schema admits "search" or a whole number (JSON may spell it 256.0)."""
    return int(value) if isinstance(value, float) else value


def parse_profile(document: dict[str, Any], uri: str) -> SourceProfile:
    """A validated profile document → SourceProfile, with manifest and path_map targets resolved."""
    validate_profile(document, uri)
    folder = folder_of(absolute(uri))
    encoding = document.get("encoding", "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError as error:
        raise ProfileError(f"source profile {uri}: encoding {encoding!r} is not a known text encoding") from error
    path_map = tuple(
        (prefix, resolve_blob_uri(target, folder)) for prefix, target in document.get("path_map", {}).items()
    )
    fields = document.get("fields", {})
    mapped = sorted(name for name in document.get("keep_metadata", ()) if name in fields.values())
    if mapped:
        raise ProfileError(
            f"source profile {uri}: keep_metadata names {mapped[0]!r}, which fields maps to a canonical field: "
            "a mapped field is never metadata"
        )
    try:
        local_identifiers = check_patterns(document.get("local_identifiers", ()))
    except IdentifierPatternError as error:
        raise ProfileError(f"source profile {uri}: {error}") from error
    if find_identifiers(document["source_system"], local_identifiers):
        raise ProfileError(
            f"source profile {uri}: source_system ({describe_value(document['source_system'])}) looks like a patient "
            "identifier (ten digits, or one of local_identifiers): a shifted column? Name the system instead"
        )
    return SourceProfile(
        name=Path(uri.rsplit("/", 1)[-1]).stem,
        source_system=document["source_system"],
        format=document["format"],
        manifest=resolve_blob_uri(document["manifest"], folder),
        folder=folder,
        fields=tuple(sorted(fields.items())),
        delimiter=document.get("delimiter", ","),
        quotechar=document.get("quotechar", '"'),
        quoting=document.get("quoting", "minimal"),
        encoding=encoding,
        embedded_newlines=document.get("embedded_newlines", True),
        date_format=document.get("date_format", "%Y-%m-%d"),
        path_map=path_map,
        keep_metadata=frozenset(document.get("keep_metadata", ())),
        legacy_header=_legacy_header(document.get("legacy_header")),
        local_identifiers=local_identifiers,
    )


def load_profile(uri: str) -> SourceProfile:
    """Read, validate and resolve one profile file (local or gs://)."""
    uri = absolute(uri)
    try:
        with FileSystems.open(uri, compression_type="uncompressed") as handle:
            text = handle.read().decode("utf-8-sig")
    except Exception as error:  # every filesystem raises its own kind; the user needs one line
        raise ProfileError(f"source profile not found or unreadable: {uri}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProfileError(f"source profile {uri} is not valid JSON: {error}") from error
    return parse_profile(document, uri)


def expand_manifests(profile: SourceProfile) -> list[str]:
    """The index files a profile names (a glob may name several); none is a launch error."""
    try:
        matches = matched_paths(profile.manifest)
    except Exception as error:  # Beam wraps every filesystem's errors
        raise ProfileError(f"profile {profile.name}: cannot list manifest {profile.manifest}: {error}") from error
    if not matches:
        raise ManifestError(f"manifest not found: {profile.manifest} (profile {profile.name})")
    return matches
