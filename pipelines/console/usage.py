"""Misuse of the command line: one line on stderr and exit code 2, never a traceback.

A leaf: it imports nothing of this project, so any module may use it without a cycle.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class UsageError(Exception):
    """Misuse of the command line: reported as one line, exit code 2."""


#: Exit code for misuse: the shell convention that argparse follows too.
USAGE_EXIT_CODE = 2


def print_error(message: object) -> int:
    """One line on stderr, as every misuse is reported; returns the exit code for it."""
    print(f"edms-migrate: error: {message}", file=sys.stderr)
    return USAGE_EXIT_CODE


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose misuse is a UsageError (one line, exit code 2), not argparse's usage block."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)
