"""The checks fhirclient cannot make: SNOMED CT's Verhoeff digit, ODS shapes, URIs, label order."""

from __future__ import annotations

import pytest

from transforms.edms.codes import absolute_uri, most_restrictive, ods_valid, snomed_valid, verhoeff_valid


@pytest.mark.parametrize("code", ["371531000", "22232009", "900000000000441003", "404684003", "138875005", "73211009"])
def test_real_snomed_ids_pass(code):
    assert snomed_valid(code)


@pytest.mark.parametrize("code", ["371531001", "22232008", "12345", "0371531000", "1234567890123456789", "37153100a"])
def test_wrong_digits_lengths_and_shapes_fail(code):
    assert not snomed_valid(code)


def test_every_single_digit_change_is_caught():
    """Verhoeff's promise: a one-digit error anywhere, the partition and check digits included, is detected."""
    code = "900000000000441003"
    for position in range(len(code)):
        for digit in "0123456789":
            if digit != code[position]:
                assert not verhoeff_valid(code[:position] + digit + code[position + 1 :])


def test_ods_and_uris():
    assert all(ods_valid(code) for code in ("RRK", "RRK99", "A81001"))
    assert not any(ods_valid(code) for code in ("rrk", "RR", "RRK-99", "ABCDEFG", ""))
    assert absolute_uri("https://fhir.nhs.uk/Id/nhs-number") and absolute_uri("urn:oid:1.2.3")
    assert not absolute_uri("pas-document") and not absolute_uri("/local/path")


def test_the_most_restrictive_label_wins():
    assert most_restrictive([]) == "N"
    assert most_restrictive(["N", "R"]) == "R" and most_restrictive(["R", "V", "N"]) == "V"
    assert most_restrictive(["L", "U"]) == "L"


def test_a_description_id_is_not_a_concept():
    """Partition 01 (a description id) passes Verhoeff but is not a concept a type can be coded with."""
    assert verhoeff_valid("2148514019") and not snomed_valid("2148514019")
