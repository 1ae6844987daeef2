"""What one job option is: its flag, meaning and default, and how an argument parser takes it.

The declaration of every option is pipelines/launch/options.py (JOB_OPTIONS); this module is its vocabulary.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any


def true_or_false(text: str) -> bool:
    """A switch's value as a Flex Template passes it (`--name=true`); argparse reports anything else."""
    if text.strip().lower() in ("true", "1", "yes"):
        return True
    if text.strip().lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


@dataclass(frozen=True)
class JobOption:
    """One flag of the job: its name (as --name), meaning and default, and how argparse reads it."""

    name: str
    help: str
    default: Any = None
    type: type | None = None
    repeatable: bool = False
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    table_default: str | None = None  # what the option table says instead of the default (e.g. "required")
    switch: bool = False  # true/false: `--name` alone means true, and `--name=false` (a template parameter) works
    required: bool = False  # a launch needs it (the template says so; the plan checks it)
    param_type: str = "TEXT"  # the template parameter's type (Dataflow ParameterType) when it is a text value

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    def add_to(
        self,
        parser: argparse.ArgumentParser | argparse._ArgumentGroup,
        *,
        show_default: bool = False,
        required: bool = False,
    ) -> None:
        """This option on a parser; `required` makes the parser itself refuse a command line without it (Beam's
        parser never does: the plan checks what a launch needs)."""
        shown = f" (default: {self.table_default or self.default})" if self.table_default or self.default else ""
        keywords: dict[str, Any] = {"default": self.default, "help": self.help + (shown if show_default else "")}
        if required:
            keywords["required"] = True
        if self.switch:
            keywords.update(nargs="?", const=True, default=bool(self.default), type=true_or_false, metavar="true|false")
        if self.repeatable:
            keywords["action"] = "append"
        if self.type is not None:
            keywords["type"] = self.type
        if self.choices:
            keywords["choices"] = self.choices
        if self.metavar:
            keywords["metavar"] = self.metavar
        parser.add_argument(self.flag, **keywords)
