"""What may be said about a legacy value outside the EDMS record: its NHS-number-like runs redacted, or its shape.

Two tools, one concern: text from a legacy export reaches analyst tables (lineage, BigQuery, the quarantine JSON)
only through here.

- `redact` is for values kept on purpose (a profile's `keep_metadata`): every run of ten or more digits,
  however spaced or punctuated (`943 476 5919`, `943.476.5919`, `943/476/5919`, `9434765919/1`,
  `NHS: 9434765919`), becomes `[redacted]`, whether or not its check digit is valid — a shifted column or a
  mistyped number identifies a patient as well as a valid one does. A date with a time (`2009-06-01 10:30`) is
  such a run too: a false positive costs one metadata value, a false negative a patient's identity.
- `describe_value` is for messages about a bad value: they say what the value looks like (its length and
  character classes), never what it is. A shifted column puts anything into any field, so the value of a
  "document_date" may be an NHS number or a name.
"""

from __future__ import annotations

import re
import unicodedata

REDACTED = "[redacted]"
#: Ten or more digits, each separated from the next only by characters that are neither letters nor digits.
#: [\W_] and \d are disjoint, so each start position has one parse: no catastrophic backtracking.
DIGIT_RUN = re.compile(r"\d(?:[\W_]*\d){9,}")


def redact(text: str) -> str:
    """text with every run of ten or more digits (in any spacing or punctuation) replaced by [redacted]."""
    return DIGIT_RUN.sub(REDACTED, text)


def _character_class(character: str) -> str:
    if character.isdigit():
        return "digits"
    if character.isalpha():
        return "letters"
    if character.isspace():
        return "spaces"
    if character == "\ufffd":
        return "undecodable bytes"
    category = unicodedata.category(character)
    if category[0] in "PS":
        return "punctuation"
    return "other characters"


_CLASS_ORDER = ("letters", "digits", "spaces", "punctuation", "undecodable bytes", "other characters")


def describe_value(text: str) -> str:
    """The shape of a value, safe for any message: '12 characters: digits and spaces'."""
    if not text:
        return "empty"
    present = {_character_class(character) for character in text}
    classes = [name for name in _CLASS_ORDER if name in present]
    listed = classes[0] if len(classes) == 1 else ", ".join(classes[:-1]) + " and " + classes[-1]
    return f"{len(text)} character{'s' if len(text) != 1 else ''}: {listed}"
