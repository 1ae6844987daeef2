from hypothesis import given
from hypothesis import strategies as st

from transforms.privacy import nhs_number
from transforms.privacy.nhs_number import NhsNumberStatus


def test_published_example_is_valid_with_and_without_spaces():
    assert nhs_number.classify("943 476 5919") == (NhsNumberStatus.VALID, "9434765919")
    assert nhs_number.classify("943-476-5919") == (NhsNumberStatus.VALID, "9434765919")


def test_wrong_check_digit_short_and_letters_are_invalid():
    for raw in ("9434765918", "943476591", "94347659190", "94347A5919"):
        assert nhs_number.classify(raw)[0] is NhsNumberStatus.INVALID, raw


def test_missing():
    assert nhs_number.classify(None) == (NhsNumberStatus.MISSING, None)
    assert nhs_number.classify("   ") == (NhsNumberStatus.MISSING, None)


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(nine_digits)
def test_exactly_one_check_digit_is_valid_unless_remainder_is_ten(first_nine):
    valid_digits = [d for d in range(10) if nhs_number.is_valid(first_nine + str(d))]
    expected = nhs_number.check_digit(first_nine)
    assert valid_digits == ([] if expected is None else [expected])


@given(nine_digits, st.sampled_from([" ", "-", "  "]))
def test_separators_never_change_the_verdict(first_nine, separator):
    digit = nhs_number.check_digit(first_nine)
    number = first_nine + str(digit if digit is not None else 0)
    spaced = separator.join((number[:3], number[3:6], number[6:]))
    assert nhs_number.classify(spaced)[0] == nhs_number.classify(number)[0]


def valid_with_prefix(prefix: str) -> str:
    """The first valid number starting with a three-digit prefix."""
    for middle in range(1_000_000):
        first_nine = f"{prefix}{middle:06d}"
        digit = nhs_number.check_digit(first_nine)
        if digit is not None:
            return first_nine + str(digit)
    raise AssertionError(prefix)


def test_schemes_test_range_and_other_uk_numbers_are_recorded_not_rejected():
    cases = {"450": "nhs", "650": "nhs", "999": "test", "101": "chi", "350": "hc", "850": "other"}
    for prefix, expected in cases.items():
        number = valid_with_prefix(prefix)
        assert nhs_number.classify(number)[0] is NhsNumberStatus.VALID
        assert nhs_number.scheme(number) == expected, prefix


@given(nine_digits)
def test_the_scheme_of_any_valid_number_is_one_of_the_known_names(first_nine):
    digit = nhs_number.check_digit(first_nine)
    if digit is not None:
        assert nhs_number.scheme(first_nine + str(digit)) in {"nhs", "chi", "hc", "test", "other"}
