"""libtiff's own error reports, which Pillow does not surface.

libtiff's fax decoders do not fail on a corrupt strip: they report "Bad code word" to the
error handler (stderr, by default), fill the rest of the page with white and return success,
so Pillow hands back a damaged page as if it were whole. A 3-page Group 4 TIFF whose third
page is garbage would be migrated with two good pages and one ruined one. Here libtiff's
error and warning handlers are replaced (through ctypes, on the libtiff Pillow itself loaded)
by one that records the messages of the calling thread while a page is loaded, so the page's
decode can be judged by what libtiff said.

Only errors are heard while Pillow decodes: Pillow's libtiff decoder calls TIFFSetWarningHandler(NULL)
at the start of every decode, so warnings ("Premature EOL", "Line length mismatch", libjpeg's
"Premature end of JPEG file") never reach a global handler. libtiff_check.py reads the page a second
time with handlers of its own, per file, where every warning is heard.

The hook proves itself once per process on a deliberately corrupt page; where it cannot (a
Pillow built without a findable libtiff), `available()` is False and pages load as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import io
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache

import PIL
from PIL import Image, ImageDraw

_LOGGER = logging.getLogger(__name__)
_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)
_MESSAGE_BYTES = 300
#: Names Pillow's decoder and libtiff_check.py open files under: libtiff passes them as the "module" of some reports.
_FILE_NAMES = frozenset({"tempfile.tif", "page"})
#: Warnings that mean the page's data is damaged: rows never decoded (libtiff fills them in white), codes that ended
#: a row early or late, or a JPEG strip that libjpeg had to patch. Other warnings (an unknown tag, an unsorted
#: directory, old-style JPEG's deprecation notice) say nothing about the pixels and are not damage.
DAMAGE_WARNINGS = (
    "Premature EOF",
    "Premature EOL",
    "Line length mismatch",
    "Bad line length",
    "Premature end of JPEG",
    "Corrupt JPEG data",
)
#: Words in a libtiff report that mean the data ends early, rather than that it is corrupt.
TRUNCATION_REPORTS = (
    "Premature EOF",
    "Not enough data",
    "not terminated with EOI",
    "Premature end of JPEG",
    "premature end of data",
)
_capturing = threading.local()
_installing = threading.Lock()  # the handlers are global to the process; threads install them once
_keep_alive: list[object] = []  # ctypes callbacks must outlive the library's use of them
_library: list[ctypes.CDLL] = []  # the libtiff the handlers were installed on: Pillow's own


def _candidates() -> list[str]:
    """The libtiff Pillow's wheel bundles (Linux, macOS), else the system's."""
    site = os.path.dirname(os.path.dirname(PIL.__file__))
    found = sorted(glob.glob(os.path.join(site, "pillow.libs", "libtiff*.so*")))
    found += sorted(glob.glob(os.path.join(os.path.dirname(PIL.__file__), ".dylibs", "libtiff*.dylib")))
    system = ctypes.util.find_library("tiff")
    return found + ([system] if system else [])


def report_text(module: bytes | None, fmt: bytes | None, arguments: int | None) -> str:
    """One libtiff report as text: its printf format filled in from the C va_list, prefixed by its module once."""
    text = ctypes.create_string_buffer(_MESSAGE_BYTES)
    _libc().vsnprintf(text, _MESSAGE_BYTES, fmt, ctypes.c_void_p(arguments))
    module_name, said = (module or b"libtiff").decode("latin-1"), text.value.decode("latin-1")
    if module_name in _FILE_NAMES or said.startswith(f"{module_name}:"):
        return said  # the module is the name a reader gave the file, or is already in the text
    return f"{module_name}: {said}"


#: libjpeg's "Corrupt JPEG data: N extraneous bytes before marker": padding some writers leave between segments,
#: skipped without touching a pixel. Not damage, or a scanner that pads its strips would lose every page.
_HARMLESS = ("extraneous bytes",)


def is_damage(kind: str, message: str) -> bool:
    """Every error is; a warning only when it says rows were lost or codes were bad (DAMAGE_WARNINGS)."""
    if kind == "error":
        return True
    return any(hint in message for hint in DAMAGE_WARNINGS) and not any(hint in message for hint in _HARMLESS)


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None)


def _record(kind: str) -> object:
    def handler(module: bytes | None, fmt: bytes | None, arguments: int | None) -> None:
        try:
            message = report_text(module, fmt, arguments)
            messages = getattr(_capturing, "messages", None)
            if messages is None:
                _LOGGER.debug("libtiff %s: %s", kind, message)
            elif is_damage(kind, message):
                messages.append(message)
        except Exception:  # an exception cannot cross back into C; losing one message is the lesser harm
            _LOGGER.debug("could not record a libtiff message", exc_info=True)

    return _HANDLER(handler)


def _corrupt_group4_page() -> bytes:
    """A small Group 4 page whose strip is overwritten with a fixed pattern that libtiff reports as bad codes."""
    page = Image.new("1", (64, 64), 1)
    ImageDraw.Draw(page).rectangle((8, 8, 40, 20), fill=0)
    buffer = io.BytesIO()
    page.save(buffer, "TIFF", compression="group4")
    data = bytearray(buffer.getvalue())
    tags = Image.open(io.BytesIO(bytes(data))).tag_v2
    start, length = tags[273][0], tags[279][0]
    data[start : start + length] = bytes((i * 73 + 41) % 256 for i in range(length))
    return bytes(data)


def available() -> bool:
    """Install the handlers (once per process) and prove they hear Pillow's libtiff; False if they cannot."""
    with _installing:
        return _install()


@cache
def _install() -> bool:
    for path in _candidates():
        try:
            library = ctypes.CDLL(path)
            handlers = (_record("error"), _record("warning"))
            library.TIFFSetErrorHandler(handlers[0])
            library.TIFFSetWarningHandler(handlers[1])
        except (OSError, AttributeError):
            continue
        _keep_alive.extend(handlers)
        with _collect() as messages, suppress(Exception):  # corrupt on purpose: only the messages matter
            Image.open(io.BytesIO(_corrupt_group4_page())).load()
        if messages:
            _library.append(library)
            return True
    _LOGGER.warning("libtiff's error reports cannot be captured: a corrupt fax strip would decode as white rows")
    return False


def pillow_libtiff() -> ctypes.CDLL | None:
    """The libtiff Pillow decodes with, once its reports are heard; None where it cannot be found."""
    return _library[0] if available() else None


@contextmanager
def _collect() -> Iterator[list[str]]:
    _capturing.messages = messages = []
    try:
        yield messages
    finally:
        _capturing.messages = None


@contextmanager
def libtiff_errors() -> Iterator[list[str]]:
    """What libtiff reported, in this thread, while the body ran: errors, and warnings that mean lost rows."""
    if not available():
        yield []
        return
    with _collect() as messages:
        yield messages
