"""NHS number normalisation and the Modulus 11 check (NHS Data Dictionary).

Kept apart so that nothing else needs to know the digits' rules, and so that no
module is tempted to log the number itself.
"""

from __future__ import annotations

import enum
import re

_SEPARATORS = re.compile(r"[\s\-]+")
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


class NhsNumberStatus(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    MISSING = "missing"


def normalise(raw: str | None) -> str:
    """Strip the spaces and hyphens legacy exports add (``943 476 5919`` → ``9434765919``)."""
    return _SEPARATORS.sub("", raw or "")


def check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit for nine digits, or None when no valid digit exists (remainder gives 10)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, _WEIGHTS, strict=True))
    digit = 11 - (total % 11)
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def is_valid(normalised: str) -> bool:
    """True for ten digits whose last is the Modulus 11 check digit of the first nine."""
    if len(normalised) != 10 or not normalised.isdigit():
        return False
    return check_digit(normalised[:9]) == int(normalised[9])


def classify(raw: str | None) -> tuple[NhsNumberStatus, str | None]:
    """Status and normalised number (None unless valid) for a manifest value."""
    normalised = normalise(raw)
    if not normalised:
        return NhsNumberStatus.MISSING, None
    if is_valid(normalised):
        return NhsNumberStatus.VALID, normalised
    return NhsNumberStatus.INVALID, None


#: Number ranges by issuing scheme (first three digits). All use the same Modulus 11 check.
_SCHEMES: tuple[tuple[int, int, str], ...] = (
    (10, 311, "chi"),  # Scotland's CHI numbers start with the date of birth, DDMMYY
    (320, 399, "hc"),  # Northern Ireland Health and Care numbers
    (400, 499, "nhs"),
    (600, 799, "nhs"),
    (999, 999, "test"),  # 999 000 0000 – 999 999 9999: never a real patient
)


def scheme(normalised: str) -> str:
    """Which scheme issued a valid number; "other" for a valid number outside every known range."""
    prefix = int(normalised[:3])
    for low, high, name in _SCHEMES:
        if low <= prefix <= high:
            return name
    return "other"
