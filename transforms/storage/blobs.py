"""Reading a document's exact byte range from a loose file or a volume, through Beam's FileSystems.

Three answers are kept apart, because they call for different actions: the blob is not there (BLOB_MISSING, a
defect of the export), the store could not be read (SOURCE_UNAVAILABLE: permission, credentials, a 403 or 5xx,
an unmounted share — retried with backoff first, and never called "missing"), and the reference is unusable
(out of bounds, empty, too large, outside the declared roots). Bytes are read only after all of that is known.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from apache_beam.io.filesystems import FileSystems

from schemas.reasons import QuarantineError, Reason
from schemas.records import DocumentRef
from transforms.storage.listing import matched
from transforms.storage.roots import containing_root, root_is_absent

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

#: 2 GiB: a scanned record is megabytes; a row that names a whole multi-GiB volume is a broken reference.
DEFAULT_MAX_DOCUMENT_BYTES = 2 * 2**30


@dataclass(frozen=True)
class ReadPolicy:
    """Where a document may be read from, how large it may be, and how hard to try a failing store."""

    roots: tuple[str, ...] = ()  # empty: no containment check (unit tests of reading alone)
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    attempts: int = 4
    first_delay_seconds: float = 0.5


#: Reading with no declared roots (a unit test of reading alone): the launcher always declares them.
DEFAULT_READ_POLICY = ReadPolicy()


def _is_not_found(error: BaseException) -> bool:
    """FileNotFoundError, a 404, or Beam's wrapper around only such errors."""
    if isinstance(error, FileNotFoundError | IsADirectoryError | NotADirectoryError):
        return True
    if type(error).__name__ == "NotFound":  # google.api_core.exceptions.NotFound, without importing Google here
        return True
    inner = getattr(error, "exception_details", None)  # BeamIOError: {path: exception}
    if isinstance(inner, dict) and inner:
        return all(_is_not_found(each) for each in inner.values())
    return False


def _unavailable(uri: str, error: BaseException) -> QuarantineError:
    return QuarantineError(Reason.SOURCE_UNAVAILABLE, f"cannot read {uri}: {type(error).__name__}")


def with_retries(action: Callable[[], T], uri: str, policy: ReadPolicy, sleep: Callable[[float], None]) -> T:
    """Run a store call; a not-found error passes through at once, any other is retried with backoff, then
    becomes SOURCE_UNAVAILABLE (a store problem, not a document defect)."""
    delay = policy.first_delay_seconds
    for attempt in range(1, policy.attempts + 1):
        try:
            return action()
        except QuarantineError:
            raise
        except Exception as error:  # every filesystem and client raises its own kind
            if _is_not_found(error):
                raise
            if attempt == policy.attempts:
                raise _unavailable(uri, error) from error
            _LOGGER.warning("reading %s failed (%s); retry %d in %.1f s", uri, type(error).__name__, attempt, delay)
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def blob_size(uri: str, policy: ReadPolicy = DEFAULT_READ_POLICY, sleep: Callable[[float], None] = time.sleep) -> int:
    """The blob's size, from one metadata call; no bytes read."""
    try:
        matches = with_retries(lambda: matched(uri), uri, policy, sleep)
    except QuarantineError:
        raise
    except Exception as error:  # not found, as the filesystem said it
        raise _missing(uri, policy) from error
    exact = [metadata for metadata in matches if metadata.path == uri or metadata.path.rstrip("/") == uri]
    if not exact:
        raise _missing(uri, policy)
    return int(exact[0].size_in_bytes)


def _missing(uri: str, policy: ReadPolicy) -> QuarantineError:
    """Missing, unless the whole store is: a root that is not there is an unmounted share, not a lost blob."""
    root = containing_root(uri, policy.roots)
    if root is not None and root_is_absent(root):
        return QuarantineError(Reason.SOURCE_UNAVAILABLE, f"the store {root} is not there (an unmounted share?)")
    return QuarantineError(Reason.BLOB_MISSING, f"blob {uri} does not exist")


def said(number: int) -> str:
    """A number from an index, as a message may give it: described, not quoted, when it is shaped like a patient
    identifier (ten digits or more: a shifted column puts an NHS number in an offset), else as it is."""
    digits = len(str(abs(number)))
    if digits < 10:
        return str(number)
    return f"{'a negative number' if number < 0 else 'a number'} of {digits} digits"


def read_document_bytes(ref: DocumentRef, policy: ReadPolicy = DEFAULT_READ_POLICY) -> bytes:
    """The document's bytes: the whole blob, or its [offset, offset+length) range inside a volume."""
    if not ref.blob_uri:
        raise QuarantineError(Reason.MANIFEST_ROW_INVALID, "no blob_uri to read")
    return read_range(ref.blob_uri, ref.offset, ref.length, policy)


def check_location(uri: str, roots: Sequence[str]) -> None:
    """A location outside every declared root is never read, so a row cannot copy any readable file out."""
    if roots and containing_root(uri, roots) is None:
        raise QuarantineError(
            Reason.BLOB_OUTSIDE_ROOTS, "the blob lies outside the index's folder, path_map targets and declared roots"
        )


def read_range(
    uri: str,
    offset: int | None,
    length: int | None,
    policy: ReadPolicy = DEFAULT_READ_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """[offset, offset+length) of one blob (default: all of it); a range past its end is a quarantine."""
    check_location(uri, policy.roots)
    if (length is not None and length < 0) or (offset is not None and offset < 0):
        field, value = ("length", length) if length is not None and length < 0 else ("offset", offset)
        raise QuarantineError(Reason.BYTE_LENGTH_NEGATIVE, f"the index gives a negative {field} ({said(value)})")
    size = blob_size(uri, policy, sleep)
    offset = offset or 0
    if length is None and offset > size:  # "to the end of the file" from past its end: a negative length
        raise QuarantineError(
            Reason.BYTE_LENGTH_NEGATIVE,
            f"the offset ({said(offset)}) lies past the end of {uri} ({said(size)} bytes) and no length is given: "
            "the length to the end would be negative",
        )
    length = size - offset if length is None else length
    if offset > size or offset + length > size:
        raise QuarantineError(
            Reason.BYTE_RANGE_OUT_OF_BOUNDS,
            f"range at offset {said(offset)}, length {said(length)}, runs past the end of {uri} ({said(size)} bytes)",
        )
    if length == 0:
        raise QuarantineError(Reason.EMPTY_BLOB, f"{uri} has no bytes in range at offset {said(offset)}")
    if length > policy.max_document_bytes:
        raise QuarantineError(
            Reason.DOCUMENT_TOO_LARGE, f"{length} bytes, over --max_document_bytes {policy.max_document_bytes}"
        )

    def read() -> bytes:
        with FileSystems.open(uri, compression_type="uncompressed") as handle:
            if offset:
                handle.seek(offset)
            return handle.read(length)

    try:
        data = with_retries(read, uri, policy, sleep)
    except QuarantineError:
        raise
    except Exception as error:  # not found now, though it was listed a moment ago
        raise QuarantineError(Reason.BLOB_MISSING, f"blob {uri} disappeared while reading") from error
    if len(data) != length:
        raise QuarantineError(
            Reason.BYTE_RANGE_OUT_OF_BOUNDS, f"read {len(data)} of {said(length)} bytes from {uri} at {said(offset)}"
        )
    return data
