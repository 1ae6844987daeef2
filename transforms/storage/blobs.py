"""Reading a document's exact byte range from a loose file or a volume, through Beam's FileSystems."""

from __future__ import annotations

from apache_beam.io.filesystems import FileSystems

from schemas.reasons import QuarantineError, Reason
from schemas.records import DocumentRef

_MISSING_ERRORS = (FileNotFoundError, IsADirectoryError)


def blob_size(uri: str) -> int:
    """The blob's size, or BLOB_MISSING. One metadata call; no bytes read."""
    try:
        matches = FileSystems.match([uri])[0].metadata_list
    except Exception as error:  # Beam wraps every filesystem's errors in BeamIOError
        raise QuarantineError(Reason.BLOB_MISSING, f"blob {uri} cannot be found: {type(error).__name__}") from error
    exact = [metadata for metadata in matches if metadata.path == uri or metadata.path.rstrip("/") == uri]
    if not exact:
        raise QuarantineError(Reason.BLOB_MISSING, f"blob {uri} does not exist")
    return int(exact[0].size_in_bytes)


def read_document_bytes(ref: DocumentRef) -> bytes:
    """The document's bytes: the whole blob, or its [offset, offset+length) range inside a volume."""
    if not ref.blob_uri:
        raise QuarantineError(Reason.MANIFEST_ROW_INVALID, "no blob_uri to read")
    return read_range(ref.blob_uri, ref.offset, ref.length)


def read_range(uri: str, offset: int | None, length: int | None) -> bytes:
    """[offset, offset+length) of one blob (default: all of it); a range past its end is a quarantine."""
    size = blob_size(uri)
    offset = offset or 0
    length = size - offset if length is None else length
    if offset > size or offset + length > size:
        raise QuarantineError(
            Reason.BYTE_RANGE_OUT_OF_BOUNDS,
            f"range {offset}+{length} runs past the end of {uri} ({size} bytes)",
        )
    if length == 0:
        raise QuarantineError(Reason.EMPTY_BLOB, f"{uri} has no bytes in range {offset}+{length}")
    try:
        with FileSystems.open(uri, compression_type="uncompressed") as handle:
            if offset:
                handle.seek(offset)
            data = handle.read(length)
    except _MISSING_ERRORS as error:
        raise QuarantineError(Reason.BLOB_MISSING, f"blob {uri} disappeared while reading") from error
    if len(data) != length:
        raise QuarantineError(
            Reason.BYTE_RANGE_OUT_OF_BOUNDS, f"read {len(data)} of {length} bytes from {uri} at {offset}"
        )
    return data
