"""How a command starts and ends: logging set-up, and an exit that native threads cannot turn into SIGABRT.

A leaf: it imports nothing of this project, so any module may use it without a cycle.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from typing import NoReturn


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
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
