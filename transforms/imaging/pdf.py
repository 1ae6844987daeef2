"""Validating a PDF record before it is kept byte for byte: pure, bytes in, a PdfCheck or a reason out.

qpdf (through pikepdf, which bundles it) quietly repairs damaged files when asked to; here it is
not asked. The file is opened without recovery, every warning counts, and then the checks of
`qpdf --check` run (every stream decoded, every page's content parsed): a PDF that needed any
repair is damaged, never migrated. Encrypted, damaged and truncated files each have their own
reason. Nothing is rendered: the PDF is stored as it is, so its pixels are not ours to judge.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from schemas.reasons import QuarantineError, Reason

if TYPE_CHECKING:
    import pikepdf

#: Hashed before a PDF's bytes, so its content value can never equal a pixel digest (transforms/imaging/pixels.py).
CONTENT_NAMESPACE = b"pdf\x00"
_PADDING = b"\r\n\t \x00\x0c"
#: Anything that could be an NHS number (10 digits, spaced or not): qpdf quotes offsets, never content, but a
#: message goes to analyst tables, so none such reaches one.
_TEN_DIGITS = re.compile(r"\d(?:[ -]?\d){9,}")


@dataclass(frozen=True)
class PdfCheck:
    """What validation found out about a PDF that may be migrated."""

    page_count: int
    content_sha256: str


class _Source(io.BytesIO):
    """qpdf names its input by repr() in every message: a fixed name keeps messages free of object addresses."""

    def __repr__(self) -> str:
        return "PDF"


def pdf_content_digest(data: bytes) -> str:
    """The PDF's content value for de-duplication: identical bytes, identical value, in a namespace of its own."""
    return hashlib.sha256(CONTENT_NAMESPACE + data).hexdigest()


def _message(text: str) -> str:
    text = text.replace("stream PDF", "PDF").replace("WARNING: ", "").replace("ERROR: ", "")
    return _TEN_DIGITS.sub("…", text.splitlines()[0] if text.strip() else "")[:300]


def _damaged(what: str) -> QuarantineError:
    return QuarantineError(Reason.PDF_DAMAGED, f"PDF is damaged ({_message(what)})")


def is_truncated(data: bytes) -> bool:
    """A complete PDF ends with %%EOF (padding aside); a cut-off one, or one whose last update was cut off, not."""
    return not data.rstrip(_PADDING).endswith(b"%%EOF")


def _encryption(pdf: pikepdf.Pdf) -> str:
    try:
        info = pdf.encryption
        return f"{info.stream_method.name}, {info.bits}-bit, revision {info.R}"
    except Exception:  # describing the encryption is a courtesy; the reason stands without it
        return "encryption details unreadable"


def check_pdf(data: bytes, *, max_pages: int, recorded_page_count: int | None) -> PdfCheck:
    """Every check a PDF must pass to be migrated whole; QuarantineError with its reason otherwise."""
    import pikepdf  # here, not at the top: every decoder child and launcher would pay 0.1-0.2 s for it, and
    # most archives hold few PDFs

    if is_truncated(data):
        raise QuarantineError(
            Reason.PDF_TRUNCATED, "PDF does not end with %%EOF: the file was cut off (or bytes follow its end)"
        )
    try:
        with pikepdf.open(_Source(data), attempt_recovery=False) as pdf:
            if pdf.is_encrypted:
                raise QuarantineError(
                    Reason.PDF_ENCRYPTED,
                    f"PDF is encrypted ({_encryption(pdf)}): it opens without a password, but an owner password "
                    "restricts it",
                )
            if warnings := pdf.get_warnings():
                raise _damaged(warnings[0])
            page_count = len(pdf.pages)
            if page_count == 0:
                raise QuarantineError(Reason.PDF_DAMAGED, "PDF has no pages")
            if page_count > max_pages:
                raise QuarantineError(
                    Reason.DECOMPRESSION_BOMB, f"PDF has {page_count} pages, over the limit of {max_pages}"
                )
            if problems := pdf.check_pdf_syntax():
                raise _damaged(problems[-1] if problems[-1].startswith("ERROR") else problems[0])
    except QuarantineError:
        raise
    except pikepdf.PasswordError as error:
        raise QuarantineError(Reason.PDF_ENCRYPTED, "PDF is encrypted and needs a password to open") from error
    except MemoryError:
        raise  # the worker reports it as DECOMPRESSION_BOMB with its memory limit
    except Exception as error:  # qpdf's failure on bad bytes (PdfError and friends): this document's reason
        raise _damaged(f"{type(error).__name__}: {error}") from error
    if recorded_page_count is not None and recorded_page_count != page_count:
        raise QuarantineError(
            Reason.PAGE_COUNT_MISMATCH, f"PDF has {page_count} page(s), legacy record says {recorded_page_count}"
        )
    return PdfCheck(page_count=page_count, content_sha256=pdf_content_digest(data))
