"""How a command starts and ends: logging set-up, and an exit that native threads cannot turn into SIGABRT.

A leaf: it imports nothing of this project, so any module may use it without a cycle.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import traceback
from typing import NoReturn

#: Ten digits in any spacing or punctuation: transforms/privacy/redact.DIGIT_RUN, repeated so that this module
#: stays a leaf (tests/privacy/test_pseudonyms.py holds the two equal).
LOG_DIGIT_RUN = re.compile(r"\d(?:[\W_]*\d){9,}")
LOG_REMOVED = "[identifier]"


class NoIdentifiersFilter(logging.Filter):
    """The backstop, not the defence: every writer already pseudonymises what it logs, and this removes any
    ten-digit run a message or traceback still carries (a library's message, a value nobody expected)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = LOG_DIGIT_RUN.sub(LOG_REMOVED, message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text, record.exc_info = LOG_DIGIT_RUN.sub(LOG_REMOVED, record.exc_text), None
        return True


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(existing, NoIdentifiersFilter) for existing in handler.filters):
            handler.addFilter(NoIdentifiersFilter())
    for noisy in ("apache_beam", "gcp_storage_emulator", "urllib3", "google"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def exit_without_finalising(code: int | str | None) -> NoReturn:
    """End a finished command: flush, run the atexit handlers, then leave without interpreter finalisation.

    After a run that succeeded and printed its summary, the process sometimes died with SIGABRT (exit code 134:
    "terminate called without an active exception"), 3 runs in 15 here: native I/O threads that Beam's runner and
    pyarrow leave behind free Python objects while the interpreter shuts down (seen under gdb). Every output is
    written and flushed by then; skipping the finalisation makes the exit code the command's own.
    """
    if isinstance(code, str):  # sys.exit("message"): print it as Python would, and fail
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code or 0)
