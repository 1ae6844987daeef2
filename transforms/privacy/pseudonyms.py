"""The one identifier detector, and keyed pseudonyms for what it finds: how a legacy value crosses to the analyst side.

An identifier is what the legacy system may have put anywhere (a document id, a source-system column, an offset,
a file or folder name): a run of ten or more digits in any spacing or punctuation, valid check digit or not
(`555 979 7111`, `R04-2527601898`, `SYS6761222028`), and each pattern a source profile declares in
`local_identifiers` (a trust's hospital numbers, `[A-Z]\\d{7}`), applied run-wide: a hospital number is one
wherever it turns up. Each identifier found inside a value is replaced by its pseudonym, `pid_` and twenty letters
a-p of HMAC-SHA256 under the patient key (a domain of its own, so it is never a patient key): the same identifier
gives the same pseudonym in every table and every run, so analysts still count and join, and only the key-holder
can go back. The letters carry no digit, so a pseudonym can never look like an identifier itself.

The full values stay in the restricted area (EDMS index records, quarantine records); `reveal` puts them back
for an operator who asks (`--show_identifiers`), from a map of pseudonym → identifier read there.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, replace

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.privacy.key_source import PatientKeyRef, key_for_worker
from transforms.privacy.redact import DIGIT_RUN, describe_value

#: A pseudonym as written: the prefix and 20 letters (80 bits: no two of 235 million ids meet by chance).
PSEUDONYM = re.compile(r"pid_[a-p]{20}")
#: Without the key (the last-resort row of a crashed document) an identifier can only be removed.
REMOVED = "[identifier]"
_LETTERS = "abcdefghijklmnop"
_DOMAIN = b"edms-migrate identifier\x00"


class IdentifierPatternError(ValueError):
    """A profile's local_identifiers entry that is no regular expression: the launch stops with one line."""


def check_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """The patterns, each compiled once to prove it; a bad one raises with the pattern and the reason."""
    checked = tuple(patterns)
    for pattern in checked:
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            message = f"local_identifiers {pattern!r} is not a regular expression: {error}"
            raise IdentifierPatternError(message) from error
        if compiled.match(""):
            raise IdentifierPatternError(f"local_identifiers {pattern!r} matches the empty string")
    return checked


@functools.lru_cache(maxsize=32)
def detector(local_identifiers: tuple[str, ...] = ()) -> re.Pattern[str]:
    """One regex for every identifier: a 10-digit run, or a declared pattern not cut out of a longer number."""
    declared = [rf"(?<!\d)(?:{pattern})(?!\d)" for pattern in local_identifiers]
    return re.compile("|".join([DIGIT_RUN.pattern, *declared]))


def find_identifiers(text: str, local_identifiers: tuple[str, ...] = ()) -> list[str]:
    """Every identifier in text, as written there."""
    return [match.group(0) for match in detector(local_identifiers).finditer(text)]


def _normalised(found: str) -> str:
    """A digit run as its digits (every spelling of one number gives one pseudonym); a local one without spaces."""
    digits = re.sub(r"\D", "", found)
    if len(digits) >= 10 and DIGIT_RUN.fullmatch(found):
        return digits
    return re.sub(r"\s", "", found).upper()


def pseudonym(key: bytes, found: str) -> str:
    digest = hmac.new(key, _DOMAIN + _normalised(found).encode(), hashlib.sha256).digest()[:10]
    return "pid_" + "".join(_LETTERS[byte >> 4] + _LETTERS[byte & 15] for byte in digest)


class Pseudonyms:
    """The run's detector with its key. `seen`, when given, collects pseudonym → identifier: the restricted
    records keep it, and --show_identifiers reads it back; nothing on the analyst side ever holds it."""

    def __init__(
        self,
        key: bytes | None,
        local_identifiers: tuple[str, ...] = (),
        seen: MutableMapping[str, str] | None = None,
    ) -> None:
        self.key = key
        self.local_identifiers = tuple(local_identifiers)
        self.pattern = detector(self.local_identifiers)
        self.seen = seen

    def _replace(self, match: re.Match[str]) -> str:
        if self.key is None:
            return REMOVED
        found = match.group(0)
        token = pseudonym(self.key, found)
        if self.seen is not None:
            self.seen[token] = found
        return token

    def holds_identifier(self, text: str | None) -> bool:
        return bool(text) and self.pattern.search(text) is not None

    def value(self, text: str | None) -> str | None:
        """text with each identifier in it replaced by its pseudonym (a location: each segment's, the rest kept)."""
        if not text:
            return text
        return self.pattern.sub(self._replace, text)

    def values(self, texts: Iterable[str]) -> list[str]:
        return [self.value(text) or "" for text in texts]

    def number(self, value: int | None) -> int | None:
        """A legacy number for an analyst column: None when it is shaped like an identifier (ten digits or more)."""
        if value is None or self.holds_identifier(str(abs(value))):
            return None
        return value

    def identifiers(self, *texts: str | None) -> dict[str, str]:
        """pseudonym → identifier for what texts hold: what a restricted record keeps for --show_identifiers."""
        if self.key is None:
            return {}
        return {
            pseudonym(self.key, found): found
            for text in texts
            if text
            for found in find_identifiers(text, self.local_identifiers)
        }

    def ref(self, ref: DocumentRef) -> DocumentRef:
        """The ref the pipeline keys on from here: source system and id pseudonymised where they hold an
        identifier, the legacy pair kept (repr=False) for the restricted records. A source system that holds one
        is a shifted column: the document is quarantined with SOURCE_SYSTEM_IDENTIFIER, the job goes on."""
        source, document = self.value(ref.source_system) or "", self.value(ref.document_id) or ""
        if (source, document) == (ref.source_system, ref.document_id):
            return ref
        changed = replace(ref, source_system=source, document_id=document, legacy_identity=ref.legacy_key)
        if source != ref.source_system:
            changed = changed.with_finding(
                Finding(
                    Reason.SOURCE_SYSTEM_IDENTIFIER,
                    f"the source system ({describe_value(ref.source_system)}) holds an identifier: a shifted column?",
                )
            )
        return changed


@dataclass(frozen=True)
class PrivacySettings:
    """What a DoFn needs to pseudonymise, safe to pickle: where the key is (never the key) and the run's patterns."""

    patient_key: PatientKeyRef | None = None
    local_identifiers: tuple[str, ...] = ()

    def open(self, seen: MutableMapping[str, str] | None = None) -> Pseudonyms:
        """On the worker, in setup(): the key fetched once per process."""
        key = key_for_worker(self.patient_key) if self.patient_key else None
        return Pseudonyms(key, self.local_identifiers, seen)


def reveal(text: str, identifiers: Mapping[str, str]) -> str:
    """text with each pseudonym an operator may see replaced by its identifier (the others stay as they are)."""
    return PSEUDONYM.sub(lambda match: identifiers.get(match.group(0), match.group(0)), text)
