"""What every command shares and nothing else: the usage error and logging set-up.

A leaf: it imports nothing of this project, so any module may use it without a cycle.
"""

from __future__ import annotations

import logging
import sys


class UsageError(Exception):
    """Misuse of the command line: reported as one line, exit code 2."""


#: Exit code for misuse: the shell convention that argparse follows too.
USAGE_EXIT_CODE = 2


def print_error(message: object) -> int:
    """One line on stderr, as every misuse is reported; returns the exit code for it."""
    print(f"edms-migrate: error: {message}", file=sys.stderr)
    return USAGE_EXIT_CODE


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("apache_beam", "gcp_storage_emulator", "urllib3", "google"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
