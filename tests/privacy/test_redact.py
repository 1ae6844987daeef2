"""The redactor leaves no NHS-number-like run in kept metadata; describe_value says a value's shape, not the value."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from transforms.privacy.redact import REDACTED, describe_value, redact

pytestmark = pytest.mark.fuzz

#: Characters a legacy system puts between digits, and others that are neither letters nor digits.
SEPARATORS = " ./-\\_:;,()[]+'\"\t\u00a0\u2013"


def digit_runs(text: str, length: int = 10) -> list[str]:
    """Runs of `length` or more digits once everything that is neither a letter nor a digit is taken out: an
    independent statement of "ten digits in any spacing or punctuation", for checking the redactor's regex."""
    squeezed = "".join(character for character in text if character.isalnum())
    return [run for run in re.findall(r"\d+", squeezed) if len(run) >= length]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NHS 943 476 5919", f"NHS {REDACTED}"),
        ("943.476.5919", REDACTED),
        ("943/476/5919", REDACTED),
        ("9434765919/1", REDACTED),
        ("NHS: 9434765919", f"NHS: {REDACTED}"),
        ("ref 943-476-5918 (old)", f"ref {REDACTED} (old)"),  # a failing check digit identifies a patient too
        ("943 - 476 - 5919", REDACTED),
        ("Ward 7, bed 12", "Ward 7, bed 12"),
        ("born 01/02/1960", "born 01/02/1960"),  # 8 digits: not a run of ten
        ("H1234567", "H1234567"),
        ("", ""),
    ],
)
def test_every_spelling_of_a_ten_digit_run_is_redacted(value, expected):
    assert redact(value) == expected


@given(
    digits=st.lists(st.sampled_from("0123456789"), min_size=10, max_size=14),
    gaps=st.lists(st.text(alphabet=SEPARATORS, max_size=3), min_size=14, max_size=14),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
@example(digits=list("9434765919"), gaps=[" ", "", "", " ", "", "", " "] + [""] * 7, before="NHS ", after="/1")
def test_no_ten_digit_run_survives_whatever_its_spacing_or_surroundings(digits, gaps, before, after):
    number = "".join(digit + gap for digit, gap in zip(digits, gaps, strict=False)).rstrip(SEPARATORS)
    redacted = redact(before + number + after)
    assert not digit_runs(redacted)
    assert REDACTED in redacted


@given(st.text(max_size=80))
def test_redacted_text_holds_no_run_of_ten_digits(text):
    redacted = redact(text)
    assert not digit_runs(redacted)
    if not digit_runs(text):
        assert redacted == text  # nothing to redact: nothing changes


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("943 476 5919", "12 characters: digits and spaces"),
        ("2004-12-31", "10 characters: digits and punctuation"),
        ("Smith", "5 characters: letters"),
        ("x", "1 character: letters"),
        ("ab\ufffd", "3 characters: letters and undecodable bytes"),
        ("", "empty"),
    ],
)
def test_describe_value_gives_the_shape(value, shape):
    assert describe_value(value) == shape


@given(st.text(min_size=1, max_size=40))
def test_describe_value_never_quotes_a_digit_or_a_letter_of_the_value(text):
    described = describe_value(text)
    assert described.startswith(f"{len(text)} character")
    assert not re.search(r"\d", described.split(":", 1)[1])
