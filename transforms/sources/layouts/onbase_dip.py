"""OnBase-style self-configuring tagged DIP indexes: one BEGIN: block per document, over disk-group volumes.

A block's `>>` system tags (DocTypeName, DocDate, FullPath, FileOffset, FileSize, …) need no mapping; every other
`Name: value` line is a keyword, mapped to canonical fields through the profile's `fields`. Unmapped keywords and
system tags are metadata: all of them reach the EDMS record's builder (its restricted_flag rules read them), those
the profile's keep_metadata names (a tag as `>>DiskgroupNum`) lineage too. A block that cannot be used is a ref with
a finding; an index that is not a tagged DIP at all is a ManifestError, found when the job is launched.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO

from apache_beam.io.filesystems import FileSystems

from schemas.reasons import Finding, Reason
from schemas.records import DocumentRef
from transforms.privacy.redact import describe_value
from transforms.sources.errors import ManifestError
from transforms.sources.layouts.base import Layout, Split, newline_is_one_byte
from transforms.sources.layouts.common import blob_location, build_ref, iso_date, mapped_fields
from transforms.sources.profiles import SourceProfile
from transforms.sources.text_fields import open_text, split_metadata, whole_number

MAGIC = ">>>>Self Configuring Tagged DIP<<<<"
BEGIN = "BEGIN:"
DIP_DATE_FORMAT = "%m/%d/%Y"


def check_dip_header(uri: str, profile: SourceProfile) -> None:
    """The first line must be the DIP marker, or this is not an index the job can read."""
    try:
        with open_text(uri, profile.encoding) as text:
            first = text.readline()
    except Exception as error:  # every filesystem raises its own kind; the user needs one line
        raise ManifestError(f"cannot read DIP index {uri}: {type(error).__name__}: {error}") from error
    if first.lstrip("\ufeff").strip() != MAGIC:
        raise ManifestError(f"{uri} is not a self-configuring tagged DIP index: its first line is not {MAGIC}")


class _Block:
    def __init__(self, number: int) -> None:
        self.number = number
        self.tags: dict[str, str] = {}
        self.keywords: dict[str, str] = {}
        self.findings: list[Finding] = []
        self.complete = True
        self.lines = 0

    def add(self, line: str) -> None:
        self.lines += 1
        tagged = line.startswith(">>")
        name, sep, value = line[2:].partition(":") if tagged else line.partition(":")
        if not sep:  # described, never quoted: the line may be a patient's name or number
            self.findings.append(
                Finding(
                    Reason.MANIFEST_ROW_INVALID,
                    f"line {self.lines} after BEGIN: ({describe_value(line)}) is not 'Name: value'",
                )
            )
            return
        target = self.tags if tagged else self.keywords
        target.setdefault(name.strip(), value.strip())  # OnBase repeats multi-value keywords; the first one counts


def parse_blocks(lines: Iterable[str], *, first_number: int = 1) -> Iterator[_Block]:
    """BEGIN: blocks from text lines (endings kept); memory is one block. A last line without its line ending
    marks a cut-off index. Lines before the first BEGIN: (the marker line) belong to no block."""
    block: _Block | None = None
    count = first_number - 1
    for line in lines:
        ended = line.endswith(("\n", "\r"))
        content = line.rstrip("\r\n")
        if content.startswith(BEGIN):
            if block is not None:
                yield block
            count += 1
            block = _Block(count)
        elif block is not None and content.strip():
            block.add(content)
        if not ended and block is not None:
            block.complete = False
    if block is not None:
        yield block


def iter_blocks(uri: str, encoding: str) -> Iterator[_Block]:
    with open_text(uri, encoding) as text:
        yield from parse_blocks(text)


def block_to_ref(block: _Block, *, profile: SourceProfile, manifest_uri: str, folder: str) -> DocumentRef:
    """One DIP block → a DocumentRef; missing or malformed system tags are findings."""
    findings = list(block.findings)
    if not block.complete:
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, "the index ends in the middle of this record (truncated)"))
    if any("\ufffd" in v for v in (*block.tags.values(), *block.keywords.values())):
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, f"record is not valid {profile.encoding}"))
    mapped = mapped_fields(block.keywords, profile)
    document_id = mapped.get("document_id")
    if not document_id:
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, f"keyword {profile.field('document_id')!r} is missing"))
    path = block.tags.get("FullPath", "")
    if not path:
        findings.append(Finding(Reason.MANIFEST_ROW_INVALID, ">>FullPath: is missing: no volume to read"))
    offset = whole_number(">>FileOffset", block.tags.get("FileOffset", ""), findings)
    length = whole_number(">>FileSize", block.tags.get("FileSize", ""), findings)
    for tag in ("FileOffset", "FileSize"):
        if tag not in block.tags:
            findings.append(Finding(Reason.MANIFEST_ROW_INVALID, f">>{tag}: is missing"))
    fields = {f">>{tag}": value for tag, value in block.tags.items()} | block.keywords
    used = {">>FullPath", ">>DocDate", ">>DocTypeName", *(keyword for _, keyword in profile.fields)}
    metadata, kept = split_metadata(fields, used=used, keep=profile.keep_metadata)
    blob_uri = blob_location(path, profile, folder, findings) if path else None
    document_date = (
        iso_date(block.tags["DocDate"], DIP_DATE_FORMAT, findings)
        if block.tags.get("DocDate")
        else iso_date(mapped.get("document_date", ""), profile.date_format, findings)
    )
    return build_ref(
        source_system=profile.source_system,
        document_id=document_id,
        manifest_uri=manifest_uri,
        row_number=block.number,
        blob_uri=blob_uri,
        offset=offset,
        length=length,
        nhs_number=mapped.get("nhs_number"),
        document_type=block.tags.get("DocTypeName") or mapped.get("document_type"),
        document_date=document_date,
        page_count=("page count", mapped.get("page_count", "")),
        checksum_md5=None,  # a DIP block carries no checksum
        metadata=metadata,
        findings=findings,
        profile=profile,
        kept=kept,
    )


def iter_dip_refs(uri: str, profile: SourceProfile) -> Iterator[DocumentRef]:
    folder = FileSystems.split(uri)[0]
    for block in iter_blocks(uri, profile.encoding):
        yield block_to_ref(block, profile=profile, manifest_uri=uri, folder=folder)


def refs_from_lines(
    lines: Iterable[str], *, profile: SourceProfile, manifest_uri: str, first_number: int
) -> Iterator[DocumentRef]:
    """The refs of a run of whole blocks (one split of a big index), numbered from first_number."""
    folder = FileSystems.split(manifest_uri)[0]
    for block in parse_blocks(lines, first_number=first_number):
        yield block_to_ref(block, profile=profile, manifest_uri=manifest_uri, folder=folder)


def _dip_lines(handle: IO[bytes], start: int, end: int) -> Iterator[bytes]:
    """The lines of the DIP records whose BEGIN: line starts in [start, end), through to each record's end."""
    position = 0
    if start > 0:
        handle.seek(start - 1)
        position = start - 1 + len(handle.readline())  # the rest of a line owned by the split before
    owned = False
    while True:
        line = handle.readline()
        if not line:
            return
        line_start, position = position, position + len(line)
        if line.startswith(b"BEGIN:"):
            if line_start >= end:
                return
            owned = True
        if owned:
            yield line


class DipSplitter:
    """A record belongs to the split its `BEGIN:` line starts in, and runs on to the next `BEGIN:`, past the
    split's end if need be; values never hold line breaks, so a DIP index can always be split."""

    def can_split(self, profile: SourceProfile) -> bool:
        return newline_is_one_byte(profile)

    def count(self, handle: IO[bytes], split: Split) -> int:
        _, _, start, end = split
        return sum(1 for line in _dip_lines(handle, start, end) if line.startswith(b"BEGIN:"))

    def refs(self, handle: IO[bytes], split: Split, first_number: int) -> Iterator[DocumentRef]:
        profile, uri, start, end = split
        lines = (line.decode(profile.encoding, errors="replace") for line in _dip_lines(handle, start, end))
        yield from refs_from_lines(lines, profile=profile, manifest_uri=uri, first_number=first_number)


LAYOUT = Layout("onbase-dip", check_dip_header, iter_dip_refs, DipSplitter())
