"""Quarantine reason codes: a stable vocabulary that operators, lineage and tests share.

Codes are data, not prose: lineage stores the code, the message explains one case.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Reason(enum.StrEnum):
    """Why a document was quarantined. The value is what lineage stores."""

    MANIFEST_ROW_INVALID = "MANIFEST_ROW_INVALID"
    MANIFEST_UNPARSABLE = "MANIFEST_UNPARSABLE"
    DUPLICATE_DOCUMENT_ID = "DUPLICATE_DOCUMENT_ID"
    PATH_UNMAPPED = "PATH_UNMAPPED"
    SOURCE_SYSTEM_IDENTIFIER = "SOURCE_SYSTEM_IDENTIFIER"
    PAGE_SEQUENCE_INVALID = "PAGE_SEQUENCE_INVALID"
    BLOB_MISSING = "BLOB_MISSING"
    BLOB_OUTSIDE_ROOTS = "BLOB_OUTSIDE_ROOTS"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
    DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
    BYTE_RANGE_OUT_OF_BOUNDS = "BYTE_RANGE_OUT_OF_BOUNDS"
    BYTE_LENGTH_NEGATIVE = "BYTE_LENGTH_NEGATIVE"
    EMPTY_BLOB = "EMPTY_BLOB"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    LEGACY_HEADER_MISMATCH = "LEGACY_HEADER_MISMATCH"
    DECODE_ERROR = "DECODE_ERROR"
    IMAGE_VARIANT_UNSUPPORTED = "IMAGE_VARIANT_UNSUPPORTED"
    TRUNCATED_IMAGE = "TRUNCATED_IMAGE"
    DECOMPRESSION_BOMB = "DECOMPRESSION_BOMB"
    DECODE_TIMEOUT = "DECODE_TIMEOUT"
    DECODER_CRASH = "DECODER_CRASH"
    PDF_ENCRYPTED = "PDF_ENCRYPTED"
    PDF_DAMAGED = "PDF_DAMAGED"
    PDF_TRUNCATED = "PDF_TRUNCATED"
    LOSSLESS_UNSUPPORTED = "LOSSLESS_UNSUPPORTED"
    LOSSLESS_VERIFY_FAILED = "LOSSLESS_VERIFY_FAILED"
    NHS_NUMBER_INVALID = "NHS_NUMBER_INVALID"
    CHECKSUM_MISMATCH = "CHECKSUM_MISMATCH"
    PAGE_COUNT_MISMATCH = "PAGE_COUNT_MISMATCH"
    DATE_INVALID = "DATE_INVALID"
    DOCUMENT_TYPE_UNKNOWN = "DOCUMENT_TYPE_UNKNOWN"
    STORAGE_ERROR = "STORAGE_ERROR"
    INTERNAL_ERROR = "INTERNAL_ERROR"


#: What an operator does about each reason; the table in docs/governance.md is generated from this.
OPERATOR_ACTIONS: dict[Reason, str] = {
    Reason.MANIFEST_ROW_INVALID: (
        "Fix the manifest row or index record (a required field is empty or a number is malformed) and re-run."
    ),
    Reason.MANIFEST_UNPARSABLE: (
        "The index cannot be parsed from this line (say, an unbalanced quote): the run fails after its lineage is "
        "written. Fix the export at the line named; the rows after it were still read."
    ),
    Reason.DUPLICATE_DOCUMENT_ID: (
        "Two manifest rows share source_system/document_id; correct the export so ids are unique."
    ),
    Reason.PATH_UNMAPPED: (
        "The legacy path (UNC share or drive letter) matches no path_map prefix: add one to the source profile."
    ),
    Reason.SOURCE_SYSTEM_IDENTIFIER: (
        "The row's source system holds a patient identifier (ten digits, or a profile's local_identifiers): "
        "almost always a shifted column. Fix the export's columns and re-run; lineage names it by pseudonym."
    ),
    Reason.PAGE_SEQUENCE_INVALID: (
        "A page-per-row document has a missing or repeated page number: find the page; nothing is renumbered."
    ),
    Reason.BLOB_MISSING: "Locate the blob in the legacy store (or restore it from backup) and re-run.",
    Reason.BLOB_OUTSIDE_ROOTS: (
        "The blob's location lies outside every declared root (the index's folder, the profile's path_map "
        "targets, --blob_root, --allowed_roots): its bytes were not read. Fix the path, or declare the store."
    ),
    Reason.SOURCE_UNAVAILABLE: (
        "The legacy store could not be read (permission, credentials, network, an unmounted share), even after "
        "retries: not a defect of the document. Fix access and re-run; the run that saw it fails."
    ),
    Reason.DOCUMENT_TOO_LARGE: (
        "The document is larger than --max_document_bytes and was not read: check the offset and length (a row "
        "naming a whole volume?), then raise the limit if it is genuine."
    ),
    Reason.BYTE_RANGE_OUT_OF_BOUNDS: (
        "The offset/length runs past the end of the file: check the index against the volume."
    ),
    Reason.BYTE_LENGTH_NEGATIVE: (
        "The length is negative: given so, or implied by an offset past the end of the file with no length (a "
        "shifted or mistyped column). Nothing was read: correct the offset and length against the volume, re-run."
    ),
    Reason.EMPTY_BLOB: "The blob has no bytes: recover the document from the legacy system or a backup.",
    Reason.UNSUPPORTED_FORMAT: (
        "Neither an image nor a PDF (the message names the format: Office, e-mail, PostScript/EPS, an icon or "
        "texture container, …): route it to where that format is kept."
    ),
    Reason.LEGACY_HEADER_MISMATCH: (
        "The profile's fixed legacy_header length does not fit this blob: check the length against the legacy "
        'system\'s format, or use "search".'
    ),
    Reason.DECODE_ERROR: (
        "The image is corrupt (the message names the page, what it is, and what the decoder reported: a bad fax "
        "code, a corrupt LZW or JPEG strip): recover it from the legacy system, a backup or a rescan."
    ),
    Reason.IMAGE_VARIANT_UNSUPPORTED: (
        "A whole image in a variant no decoder here reads exactly (the message names the page's compression, "
        "colour and bits per sample: JBIG, LogLuv, chroma-subsampled uncompressed YCbCr, …): not damaged. "
        "Escalate to the migration team, who can add a decoder; see docs/formats.md."
    ),
    Reason.TRUNCATED_IMAGE: (
        "The image ends early (the message names the page, and for a fax page the row where its data ends): "
        "recover the full file; truncated images are never loaded."
    ),
    Reason.DECOMPRESSION_BOMB: (
        "The page claims more pixels than the limit: inspect it, then raise --max_page_pixels if genuine."
    ),
    Reason.DECODE_TIMEOUT: (
        "Decoding took longer than --decode_timeout_seconds: inspect the file; "
        "raise the limit if it is a genuinely huge document."
    ),
    Reason.DECODER_CRASH: (
        "The image decoder died in native code on this file: keep it for the vendor "
        "and recover the document from another copy."
    ),
    Reason.PDF_ENCRYPTED: (
        "The PDF is encrypted (a password, or an owner password's restrictions): obtain an unencrypted copy "
        "from the legacy system or its author."
    ),
    Reason.PDF_DAMAGED: (
        "The PDF is damaged (it needed repair to open, or a stream or page does not decode): recover an intact "
        "copy; repaired PDFs are never migrated."
    ),
    Reason.PDF_TRUNCATED: "The PDF does not end with %%EOF: it was cut off; recover the full file.",
    Reason.LOSSLESS_UNSUPPORTED: (
        "No archive encoding preserves this pixel format exactly: escalate to the migration team."
    ),
    Reason.LOSSLESS_VERIFY_FAILED: "The stored object did not read back identical: check the object store and re-run.",
    Reason.NHS_NUMBER_INVALID: (
        "The NHS number fails its Modulus 11 check: correct it with the records team and re-run."
    ),
    Reason.CHECKSUM_MISMATCH: "The bytes differ from the legacy checksum: the blob was altered or misread; recover it.",
    Reason.PAGE_COUNT_MISMATCH: (
        "The image or PDF has a different number of pages from the legacy record: find the missing pages."
    ),
    Reason.DATE_INVALID: "The document date is not a valid YYYY-MM-DD date: correct the manifest and re-run.",
    Reason.DOCUMENT_TYPE_UNKNOWN: (
        "The document type is not in the source's list (--document_types): map it to a known type "
        "or add it to the list, then re-run."
    ),
    Reason.STORAGE_ERROR: "Writing to object storage failed after retries: check permissions and quota, then re-run.",
    Reason.INTERNAL_ERROR: "An unexpected error: report it with the quarantine record; the document's bytes are safe.",
}


@dataclass(frozen=True)
class Finding:
    """One reason a document cannot be migrated, with a message for the person fixing it."""

    reason: Reason
    message: str

    def __post_init__(self) -> None:
        if not isinstance(self.reason, Reason):
            raise TypeError(f"reason must be a Reason, got {self.reason!r}")


class QuarantineError(Exception):
    """Raised inside the per-document step to stop work on a document that cannot go on."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.finding = Finding(reason, message)

    def __reduce__(self) -> tuple:  # crosses the process boundary from the isolated decoder intact
        return (QuarantineError, (self.finding.reason, self.finding.message))


#: Reasons that say nothing about the document itself: its store could not be read. The document is retried by
#: the next run, and the run that met them fails, so no earlier evidence is retired on their account.
INFRASTRUCTURE_REASONS = frozenset({Reason.SOURCE_UNAVAILABLE})
