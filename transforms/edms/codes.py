"""The checks a FHIR model library cannot make: check digits, code shapes, URI forms, label order.

Pure and small, so config loading (at launch) and resource validation (per document) share one definition.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from transforms.privacy import nhs_number

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED_SYSTEM = "http://snomed.info/sct"
CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
#: HL7 v3 Confidentiality, least restrictive first: when several rules apply, the last of these wins.
CONFIDENTIALITY_ORDER = ("U", "L", "M", "N", "R", "V")
CONFIDENTIALITY_DISPLAY = {
    "U": "unrestricted",
    "L": "low",
    "M": "moderate",
    "N": "normal",
    "R": "restricted",
    "V": "very restricted",
}
DEFAULT_CONFIDENTIALITY = "N"
#: Every DocumentReference's category when the config names none: SNOMED CT 419891008 |Record artifact|, the top of
#: SNOMED's record-artifact hierarchy, which every scanned record is (a concept id: partition 00, Verhoeff valid).
RECORD_ARTIFACT = ("419891008", "Record artifact")

# ODS organisation codes: a trust is 3 characters (RRK), a site 5 (RRK99), a GP practice 6 (A81001).
_ODS = re.compile(r"[A-Z0-9]{3,6}")
_SNOMED = re.compile(r"[1-9][0-9]{5,17}")

# Verhoeff's dihedral-group tables (SNOMED CT's check digit).
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_valid(digits: str) -> bool:
    """True when the last digit is the Verhoeff check digit of the rest (checked over the whole string)."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


#: The partition identifier (the two digits before the check digit) of a concept id: short (00) or long (10) form.
CONCEPT_PARTITIONS = ("00", "10")


def snomed_valid(code: str) -> bool:
    """A SNOMED CT concept id: 6-18 digits, no leading zero, a concept's partition identifier, and a valid Verhoeff
    check digit over the whole id."""
    return bool(_SNOMED.fullmatch(code)) and code[-3:-1] in CONCEPT_PARTITIONS and verhoeff_valid(code)


def ods_valid(code: str) -> bool:
    return bool(_ODS.fullmatch(code))


def absolute_uri(text: str) -> bool:
    """An absolute URI (a scheme and something after it), as an identifier system must be."""
    parts = urlsplit(text)
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in text


def nhs_number_valid(text: str) -> bool:
    return nhs_number.is_valid(text)


def most_restrictive(codes: list[str] | tuple[str, ...]) -> str:
    """The label several rules give together: the most restrictive of them (V > R > N > M > L > U)."""
    return max(codes, key=CONFIDENTIALITY_ORDER.index) if codes else DEFAULT_CONFIDENTIALITY
