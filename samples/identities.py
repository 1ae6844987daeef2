"""Made-up NHS numbers for generated dumps: valid ones, drawn from a seeded generator, so a seed gives a dump."""

from __future__ import annotations

import random

from transforms.privacy.nhs_number import check_digit


def nine_digits(rng: random.Random) -> str:
    """Nine digits in the 4xx/6xx/7xx ranges issued in England and Wales, never the 999 test range."""
    return rng.choice("467") + "".join(str(rng.randrange(10)) for _ in range(8))


def random_nhs_number(rng: random.Random) -> str:
    """A valid NHS number, skipping prefixes that have no valid check digit."""
    while True:
        first_nine = nine_digits(rng)
        digit = check_digit(first_nine)
        if digit is not None:
            return first_nine + str(digit)
