"""Write a realistic legacy dump: loose blobs, a packed volume file and the canonical manifest, plus two
profiled sources (an OnBase-style DIP over a disk-group volume, a page-per-row export; see samples/profiled.py).

Every document is planned with the outcome the pipeline must reach (migrated, duplicate or quarantined with a
reason), so the demo and the tests can compare what happened with what should have happened. Output depends only
on the seed and the page geometry: no timestamps, one seeded ``random.Random``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import struct
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from PIL import Image

from samples.identities import nine_digits, random_nhs_number
from samples.pages import HOSPITALS, PageKind, PageText, encode_image, encode_tiff, render_page
from samples.profiled import BLOB_ROOTS, DIP_PROFILE, ORPHANS, PAGES_PROFILE, write_profiled_sources
from schemas.reasons import Reason
from transforms.privacy.nhs_number import check_digit
from transforms.sources.layouts.canonical import KNOWN_COLUMNS

MEDREC = "MEDREC-SCAN"
ECM = "ECM-VOLUMES"
LETTERS = "LETTERS-ARCHIVE"
SOURCE_SYSTEMS = (MEDREC, ECM, LETTERS)

MIGRATED, DUPLICATE, QUARANTINED = "migrated", "duplicate", "quarantined"

MANIFEST_NAME = "manifest.csv"
EXPECTED_NAME = "expected_outcomes.json"
VOLUME_URI = "volumes/ECM_VOL_0001.dat"
MANIFEST_COLUMNS = (*KNOWN_COLUMNS, "scan_batch")  # the canonical columns, and one kept as metadata
DOCUMENT_TYPES = (
    "Clinic Letter",
    "Discharge Summary",
    "Referral",
    "Consent Form",
    "Lab Report",
    "Radiology Report",
    "Nursing Notes",
    "Correspondence",
)
#: File signatures the volume test and the generator's own guard recognise as images.
IMAGE_SIGNATURES = (b"II*\x00", b"MM\x00*", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")

_FIRST_NAMES = (
    "Alice",
    "Brian",
    "Chloe",
    "David",
    "Eleanor",
    "Farid",
    "Grace",
    "Harold",
    "Imran",
    "Joan",
    "Kwame",
    "Linda",
    "Mohammed",
    "Nora",
    "Oliver",
    "Priya",
    "Rhys",
    "Siobhan",
    "Thomas",
    "Wei",
)
_LAST_NAMES = (
    "Ashworth",
    "Bennett",
    "Chowdhury",
    "Dawson",
    "Evans",
    "Fletcher",
    "Gallagher",
    "Hughes",
    "Iqbal",
    "Jenkins",
    "Kowalski",
    "Lloyd",
    "Morgan",
    "Nwosu",
    "O'Brien",
    "Patel",
    "Quinn",
    "Roberts",
)


@dataclass(frozen=True)
class ExpectedDocument:
    """What the pipeline must conclude about one manifest row."""

    source_system: str
    document_id: str
    outcome: str  # "migrated" | "duplicate" | "quarantined"
    reasons: frozenset[str]  # Reason values that must appear (quarantined only)
    duplicate_of: str | None  # "SOURCE_SYSTEM/DOCUMENT_ID" of the canonical document (duplicates only)
    page_count: int | None  # decoded page count (migrated and duplicate only)


@dataclass(frozen=True)
class SampleDump:
    """Where a dump was written and what should become of each of its documents (in manifest order)."""

    directory: str
    manifest_path: str
    documents: tuple[ExpectedDocument, ...]  # the canonical manifest's, in manifest order
    profile_documents: tuple[ExpectedDocument, ...] = ()  # the profiled sources' (DIP, page per row)
    profiles: tuple[str, ...] = ()  # their source profile files
    orphans: tuple[str, ...] = ()  # files in the dump's stores that no index references
    blob_roots: tuple[str, ...] = ()  # the dump's legacy stores, for --blob_root

    @property
    def all_documents(self) -> tuple[ExpectedDocument, ...]:
        return (*self.documents, *self.profile_documents)


@dataclass(frozen=True)
class _Patient:
    nhs_number: str  # ten valid digits
    name: str
    hospital_number: str


@dataclass(frozen=True)
class _Identity:
    """A document's metadata, fixed before its pages are drawn because the pages print it."""

    system: str
    document_id: str
    patient: _Patient
    document_type: str
    document_date: str


@dataclass
class _Plan:
    """One manifest row to be: the bytes, where they go, how the row is written and what must happen."""

    identity: _Identity
    payload: bytes | None  # None: no file is written for this row
    path: str  # loose blob path relative to the dump, or VOLUME_URI
    scan_batch: str
    page_count: int | None  # pages the image really decodes to
    nhs_value: str  # exactly as written in the manifest
    checksum: bool  # write the true MD5
    page_count_field: bool  # write the true page count
    outcome: str = MIGRATED
    reasons: frozenset[str] = frozenset()
    group: str | None = None  # duplicate group label
    overrides: dict[str, str] = field(default_factory=dict)  # manifest fields written verbatim
    extra_length: int = 0  # bytes the manifest claims beyond the payload (out-of-bounds rows)
    offset: int | None = None  # set when the volume is laid out


class _Builder:
    """Plans documents with one RNG so that the plan, the pixels and the shuffle all follow the seed."""

    def __init__(self, seed: int, page_size: tuple[int, int], dpi: int) -> None:
        self.rng = random.Random(seed)
        self.page_size = page_size
        self.dpi = dpi
        self.plans: list[_Plan] = []
        self._ids: set[str] = set()
        self._nhs: set[str] = set()
        self._patients: list[_Patient] = []

    # --- identities -------------------------------------------------------------------------------------------

    def nine_digits(self) -> str:
        return nine_digits(self.rng)

    def nhs_number(self) -> str:
        """A valid NHS number no earlier patient of this dump has."""
        while (number := random_nhs_number(self.rng)) in self._nhs:
            pass
        self._nhs.add(number)
        return number

    def patient(self, *, reuse: float = 0.0) -> _Patient:
        """A patient, sometimes (``reuse`` probability) one who already has documents, as real records do."""
        if self._patients and self.rng.random() < reuse:
            return self.rng.choice(self._patients)
        name = f"{self.rng.choice(_FIRST_NAMES)} {self.rng.choice(_LAST_NAMES)}"
        patient = _Patient(self.nhs_number(), name, f"H{self.rng.randrange(10**6, 10**7)}")
        self._patients.append(patient)
        return patient

    def document_id(self, system: str, year: str) -> str:
        """An id in the style each legacy system used (letters carry their year); unique across the dump."""
        while True:
            if system == MEDREC:
                candidate = f"MRS{self.rng.randrange(10**6, 10**7)}"
            elif system == ECM:
                candidate = f"ECM-{self.rng.getrandbits(32):08X}"
            else:
                candidate = f"LTR-{year}-{self.rng.randrange(10**5):05d}"
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def date(self) -> str:
        """A valid YYYY-MM-DD between 1985 and 2024 (day capped at 28 so every month is valid)."""
        return f"{self.rng.randint(1985, 2024)}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"

    def identity(self, system: str, patient: _Patient | None = None, *, like: _Identity | None = None) -> _Identity:
        """A fresh identity; ``like`` copies another's patient, type and date (the same letter in two systems)."""
        if like is not None:
            return replace(like, system=system, document_id=self.document_id(system, like.document_date[:4]))
        document_date = self.date()
        return _Identity(
            system=system,
            document_id=self.document_id(system, document_date[:4]),
            patient=patient or self.patient(reuse=0.3),
            document_type=self.rng.choice(DOCUMENT_TYPES),
            document_date=document_date,
        )

    # --- pages and rows ---------------------------------------------------------------------------------------

    def pages(self, identity: _Identity, kind: PageKind, count: int, *, photo: bool = False) -> list[Image.Image]:
        """The pages of one document, each printing the document's own reference so no two documents match."""
        text = PageText(
            heading=identity.document_type,
            patient_name=identity.patient.name,
            hospital_number=identity.patient.hospital_number,
            document_date=identity.document_date,
            reference=identity.document_id,
            hospital=self.rng.choice(HOSPITALS),
        )
        return [
            render_page(
                self.rng,
                kind=kind,
                size=self.page_size,
                dpi=self.dpi,
                text=text,
                page_number=number,
                page_total=count,
                photo_letterhead=photo,
            )
            for number in range(1, count + 1)
        ]

    def nhs_value(self, identity: _Identity, style: str | None = None) -> str:
        """The NHS number as a legacy export wrote it: plain, ``943 476 5919``, ``943-476-5919`` or missing."""
        style = style or self.rng.choices(("plain", "spaces", "hyphens", "none"), weights=(50, 25, 15, 10))[0]
        return format_nhs(identity.patient.nhs_number, style)

    def add(
        self,
        identity: _Identity,
        payload: bytes | None,
        extension: str,
        page_count: int | None,
        *,
        nhs_style: str | None = None,
        **options: object,
    ) -> _Plan:
        """Plan a row; checksum and page count are left blank on some rows, as in real exports."""
        plan = _Plan(
            identity=identity,
            payload=payload,
            path=self.blob_path(identity, extension),
            scan_batch=self.scan_batch(identity),
            page_count=page_count,
            nhs_value=self.nhs_value(identity, nhs_style),
            checksum=self.rng.random() < 0.8,
            page_count_field=self.rng.random() < 0.85,
        )
        for name, value in options.items():
            setattr(plan, name, value)
        self.plans.append(plan)
        return plan

    def blob_path(self, identity: _Identity, extension: str) -> str:
        """Loose files live under blobs/<SYSTEM>/...; everything ECM holds is in the volume file."""
        year = identity.document_date[:4]
        if identity.system == ECM:
            return VOLUME_URI
        if identity.system == MEDREC:
            return f"blobs/{MEDREC}/BATCH{year}/{identity.document_id}.{extension}"
        return f"blobs/{LETTERS}/{year}/{identity.document_id}.{extension}"

    def scan_batch(self, identity: _Identity) -> str:
        """Batch labels differ per system; kept as metadata only."""
        year = identity.document_date[:4]
        if identity.system == MEDREC:
            return f"MRS-B{year}-{self.rng.randint(1, 60):03d}"
        if identity.system == ECM:
            return f"VOL0001-{self.rng.randint(1, 9999):04d}"
        return f"LA-{year}-{self.rng.randint(1, 40):02d}"


def format_nhs(number: str, style: str) -> str:
    """Write ten digits the way different systems did; ``none`` gives an empty field."""
    if style == "none":
        return ""
    if style == "spaces":
        return f"{number[:3]} {number[3:6]} {number[6:]}"
    if style == "hyphens":
        return f"{number[:3]}-{number[3:6]}-{number[6:]}"
    return number


# --- the document plan ----------------------------------------------------------------------------------------


def _plan_migrated(b: _Builder) -> None:
    """Ordinary documents across every system and format, some patients having several."""
    dpi = b.dpi
    for pages in (4, 2):
        ident = b.identity(MEDREC)
        b.add(ident, encode_tiff(b.pages(ident, "bilevel", pages), compression="group4", dpi=dpi), "tif", pages)
    ident = b.identity(ECM)
    b.add(ident, encode_tiff(b.pages(ident, "gray", 2), compression="tiff_lzw", dpi=dpi), "tif", 2)
    ident = b.identity(ECM)
    b.add(ident, encode_tiff(b.pages(ident, "gray", 1), compression="jpeg", dpi=dpi, quality=80), "tif", 1)
    ident = b.identity(ECM)
    b.add(ident, encode_tiff(b.pages(ident, "colour", 1), compression="jpeg", dpi=dpi, quality=85), "tif", 1)
    ident = b.identity(ECM)
    b.add(ident, encode_image(b.pages(ident, "bilevel", 1)[0], "BMP", dpi=dpi), "bmp", 1)
    ident = b.identity(ECM)
    b.add(ident, encode_image(b.pages(ident, "colour", 1)[0], "BMP", dpi=dpi), "bmp", 1)
    ident = b.identity(ECM)
    b.add(ident, encode_image(b.pages(ident, "gray", 1)[0], "PNG", dpi=dpi), "png", 1)
    ident = b.identity(LETTERS)
    page = b.pages(ident, "colour", 1, photo=True)[0]
    b.add(ident, encode_image(page, "JPEG", dpi=dpi, quality=b.rng.randint(75, 92)), "jpg", 1)
    ident = b.identity(LETTERS)
    b.add(ident, encode_image(b.pages(ident, "gray", 1)[0], "JPEG", dpi=dpi, quality=b.rng.randint(70, 90)), "jpg", 1)
    ident = b.identity(LETTERS)
    b.add(ident, encode_image(b.pages(ident, "gray", 1)[0], "PNG", dpi=dpi), "png", 1)
    ident = b.identity(LETTERS)
    b.add(ident, encode_image(b.pages(ident, "gray", 1)[0], "BMP", dpi=dpi), "bmp", 1)


def _plan_duplicates(b: _Builder) -> None:
    """The same pages for the same patient in several systems, each stored in that system's own format."""
    dpi = b.dpi
    # 1. three G4 pages in MEDREC-SCAN, the same pages as an LZW TIFF in the volume.
    first = b.identity(MEDREC, b.patient())
    pages = b.pages(first, "bilevel", 3)
    b.add(first, encode_tiff(pages, compression="group4", dpi=dpi), "tif", 3, nhs_style="spaces", group="g1")
    second = b.identity(ECM, like=first)
    b.add(second, encode_tiff(pages, compression="tiff_lzw", dpi=dpi), "tif", 3, nhs_style="plain", group="g1")
    # 2. one bilevel page as PNG, GIF and BMP.
    first = b.identity(LETTERS, b.patient())
    page = b.pages(first, "bilevel", 1)[0]
    b.add(first, encode_image(page, "PNG", dpi=dpi), "png", 1, nhs_style="hyphens", group="g2")
    b.add(b.identity(ECM, like=first), encode_image(page, "GIF", dpi=dpi), "gif", 1, nhs_style="plain", group="g2")
    b.add(b.identity(LETTERS, like=first), encode_image(page, "BMP", dpi=dpi), "bmp", 1, nhs_style="spaces", group="g2")
    # 3. a byte-identical colour JPEG letter in two systems.
    first = b.identity(LETTERS, b.patient())
    jpeg = encode_image(b.pages(first, "colour", 1, photo=True)[0], "JPEG", dpi=dpi, quality=85)
    b.add(first, jpeg, "jpg", 1, nhs_style="plain", group="g3")
    b.add(b.identity(ECM, like=first), jpeg, "jpg", 1, nhs_style="hyphens", group="g3")


def _plan_near_duplicates(b: _Builder) -> None:
    """Look-alikes that must NOT be merged: a different patient, no patient, or a different page count."""
    dpi = b.dpi
    # 4. byte-identical TIFF filed under two different patients.
    first = b.identity(MEDREC, b.patient())
    tiff = encode_tiff(b.pages(first, "bilevel", 2), compression="group4", dpi=dpi)
    b.add(first, tiff, "tif", 2, nhs_style="plain")
    b.add(replace(b.identity(ECM, like=first), patient=b.patient()), tiff, "tif", 2, nhs_style="plain")
    # 5. byte-identical PNG: one row with an NHS number, two without.
    first = b.identity(LETTERS, b.patient())
    png = encode_image(b.pages(first, "bilevel", 1)[0], "PNG", dpi=dpi)
    b.add(first, png, "png", 1, nhs_style="plain")
    b.add(b.identity(LETTERS, like=first), png, "png", 1, nhs_style="none")
    b.add(b.identity(LETTERS, like=first), png, "png", 1, nhs_style="none")
    # 6. same patient, same first page; the second document kept its second page.
    first = b.identity(MEDREC, b.patient())
    pages = b.pages(first, "bilevel", 2)
    b.add(first, encode_tiff(pages[:1], compression="group4", dpi=dpi), "tif", 1, nhs_style="spaces")
    b.add(
        b.identity(MEDREC, like=first), encode_tiff(pages, compression="group4", dpi=dpi), "tif", 2, nhs_style="plain"
    )


def _quarantine(
    b: _Builder, ident: _Identity, payload: bytes | None, extension: str, reason: Reason, **options: object
) -> _Plan:
    """A row that must be quarantined for exactly ``reason``; unknown checksums and page counts left blank."""
    options.setdefault("checksum", False)
    options.setdefault("page_count_field", False)
    return b.add(
        ident,
        payload,
        extension,
        None,
        nhs_style="plain",
        outcome=QUARANTINED,
        reasons=frozenset({reason.value}),
        **options,
    )


def _plan_damaged_blobs(b: _Builder) -> None:
    """Rows whose bytes are missing, empty, foreign, corrupt or cut short."""
    dpi = b.dpi
    _quarantine(b, b.identity(MEDREC), None, "tif", Reason.BLOB_MISSING)
    _quarantine(b, b.identity(LETTERS), b"", "jpg", Reason.EMPTY_BLOB)
    _quarantine(b, b.identity(LETTERS), _foreign_bytes(b.rng), "dat", Reason.UNSUPPORTED_FORMAT, checksum=True)
    garbage = bytes(b.rng.getrandbits(8) for _ in range(b.rng.randint(1500, 4000)))
    _quarantine(
        b, b.identity(MEDREC), b"II*\x00" + struct.pack("<I", 8) + garbage, "tif", Reason.DECODE_ERROR, checksum=True
    )
    ident = b.identity(MEDREC)
    _quarantine(
        b,
        ident,
        _cut(encode_tiff(b.pages(ident, "bilevel", 3), compression="group4", dpi=dpi)),
        "tif",
        Reason.TRUNCATED_IMAGE,
    )
    ident = b.identity(LETTERS)
    _quarantine(
        b,
        ident,
        _cut(encode_image(b.pages(ident, "colour", 1)[0], "JPEG", dpi=dpi, quality=85)),
        "jpg",
        Reason.TRUNCATED_IMAGE,
    )
    ident = b.identity(ECM)
    _quarantine(
        b, ident, _cut(encode_image(b.pages(ident, "gray", 1)[0], "PNG", dpi=dpi)), "png", Reason.TRUNCATED_IMAGE
    )


def _plan_bad_metadata(b: _Builder) -> None:
    """Rows with good images whose manifest values are wrong."""
    dpi = b.dpi
    for system, fault in ((MEDREC, "last_digit"), (ECM, "remainder_10"), (LETTERS, "nine_digits")):
        ident = b.identity(system)
        pages = b.pages(ident, "bilevel", 1)
        if system == MEDREC:
            payload, extension = encode_tiff(pages, compression="group4", dpi=dpi), "tif"
        else:
            payload, extension = encode_image(pages[0], "PNG", dpi=dpi), "png"
        plan = _quarantine(
            b, ident, payload, extension, Reason.NHS_NUMBER_INVALID, checksum=True, page_count_field=True
        )
        plan.nhs_value = _invalid_nhs(b, fault)
    ident = b.identity(ECM)
    payload = encode_tiff(b.pages(ident, "gray", 1), compression="tiff_lzw", dpi=dpi)
    wrong = hashlib.md5(payload + b"\x00").hexdigest()
    _quarantine(
        b, ident, payload, "tif", Reason.CHECKSUM_MISMATCH, page_count_field=True, overrides={"checksum_md5": wrong}
    )
    ident = b.identity(MEDREC)
    payload = encode_tiff(b.pages(ident, "bilevel", 2), compression="group4", dpi=dpi)
    _quarantine(b, ident, payload, "tif", Reason.PAGE_COUNT_MISMATCH, checksum=True, overrides={"page_count": "3"})
    ident = b.identity(LETTERS)
    payload = encode_image(b.pages(ident, "gray", 1)[0], "PNG", dpi=dpi)
    _quarantine(
        b,
        ident,
        payload,
        "png",
        Reason.DATE_INVALID,
        checksum=True,
        page_count_field=True,
        overrides={"document_date": "2019-13-45"},
    )


def _plan_bad_rows(b: _Builder) -> None:
    """Rows the manifest parser must reject, plus the index entry that runs off the end of the volume."""
    dpi = b.dpi
    ident = b.identity(LETTERS)
    _quarantine(b, ident, None, "png", Reason.MANIFEST_ROW_INVALID, overrides={"blob_uri": ""})
    ident = b.identity(ECM)
    payload = encode_image(b.pages(ident, "bilevel", 1)[0], "BMP", dpi=dpi)
    _quarantine(b, ident, payload, "bmp", Reason.MANIFEST_ROW_INVALID, checksum=True, overrides={"offset": "abc"})
    ident = b.identity(MEDREC)
    payload = encode_tiff(b.pages(ident, "bilevel", 1), compression="group4", dpi=dpi)
    _quarantine(b, ident, payload, "tif", Reason.MANIFEST_ROW_INVALID, checksum=True, overrides={"document_id": ""})
    ident = b.identity(ECM)
    payload = encode_image(b.pages(ident, "bilevel", 1)[0], "PNG", dpi=dpi)
    _quarantine(b, ident, payload, "png", Reason.BYTE_RANGE_OUT_OF_BOUNDS, extra_length=4096)


def _foreign_bytes(rng: random.Random) -> bytes:
    """Random bytes that no image signature matches (what an unlabelled word-processor file looks like)."""
    while True:
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(2000, 6000)))
        if not data.startswith(IMAGE_SIGNATURES):
            return data


def _cut(data: bytes) -> bytes:
    """The first 60% of a file, as an interrupted copy leaves it."""
    return data[: int(len(data) * 0.6)]


def _invalid_nhs(b: _Builder, fault: str) -> str:
    """An NHS number that fails Modulus 11 in one of the three ways legacy data does."""
    if fault == "nine_digits":
        return b.nhs_number()[:9]
    if fault == "last_digit":
        number = b.nhs_number()
        return number[:9] + str((int(number[9]) + b.rng.randint(1, 9)) % 10)
    while True:
        first_nine = b.nine_digits()
        if check_digit(first_nine) is None:
            return first_nine + str(b.rng.randrange(10))


# --- layout and output ----------------------------------------------------------------------------------------


def _volume(plans: list[_Plan], rng: random.Random) -> bytes:
    """Concatenate the ECM documents with random filler between them; the out-of-bounds entry goes last."""
    volume = bytearray(b"ECM-DISKGROUP-VOLUME\x00\x01".ljust(64, b"\x00"))
    members = [p for p in plans if p.path == VOLUME_URI and p.payload is not None]
    members.sort(key=lambda p: p.extra_length > 0)
    for plan in members:
        volume += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 48)))
        plan.offset = len(volume)
        volume += plan.payload or b""
    return bytes(volume)


def _row(plan: _Plan) -> dict[str, str]:
    """The manifest row for a plan: true values first, then the deliberate faults."""
    payload = plan.payload or b""
    in_volume = plan.path == VOLUME_URI
    row = {
        "source_system": plan.identity.system,
        "document_id": plan.identity.document_id,
        "blob_uri": plan.path,
        "offset": str(plan.offset) if in_volume else "",
        "length": str(len(payload) + plan.extra_length) if in_volume else "",
        "nhs_number": plan.nhs_value,
        "document_type": plan.identity.document_type,
        "document_date": plan.identity.document_date,
        "page_count": str(plan.page_count) if plan.page_count_field and plan.page_count is not None else "",
        "checksum_md5": hashlib.md5(payload).hexdigest() if plan.checksum and plan.payload is not None else "",
        "scan_batch": plan.scan_batch,
    }
    row.update(plan.overrides)
    return row


def _expected(plans: list[_Plan]) -> tuple[ExpectedDocument, ...]:
    """Outcomes in manifest order; each duplicate group's canonical is its smallest (system, id)."""
    canonical: dict[str, tuple[str, str]] = {}
    for plan in plans:
        if plan.group is not None:
            key = (plan.identity.system, plan.identity.document_id)
            canonical[plan.group] = min(canonical.get(plan.group, key), key)
    documents = []
    for index, plan in enumerate(plans, start=1):
        key = (plan.identity.system, plan.identity.document_id)
        document_id = plan.overrides.get("document_id", plan.identity.document_id) or f"row-{index}"
        outcome, duplicate_of = plan.outcome, None
        if plan.group is not None and canonical[plan.group] != key:
            outcome, duplicate_of = DUPLICATE, "/".join(canonical[plan.group])
        page_count = None if outcome == QUARANTINED else plan.page_count
        documents.append(
            ExpectedDocument(plan.identity.system, document_id, outcome, plan.reasons, duplicate_of, page_count)
        )
    return tuple(documents)


def _write_blobs(root: Path, plans: list[_Plan], volume: bytes) -> None:
    """Loose files under blobs/, the volume under volumes/; rows with no payload get no file."""
    for plan in plans:
        if plan.payload is not None and plan.path != VOLUME_URI:
            target = root / plan.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(plan.payload)
    (root / VOLUME_URI).parent.mkdir(parents=True, exist_ok=True)
    (root / VOLUME_URI).write_bytes(volume)


def _write_manifest(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS, quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        writer.writerows(rows)


def _write_expected(path: Path, documents: tuple[ExpectedDocument, ...]) -> None:
    records = [asdict(document) | {"reasons": sorted(document.reasons)} for document in documents]
    path.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")


def write_sample_dump(
    directory: str | os.PathLike[str], *, seed: int = 0, page_size: tuple[int, int] = (1654, 2339), dpi: int = 200
) -> SampleDump:
    """Write a dump into ``directory`` (created if needed; refused if it already holds files) and say what to expect.

    Refusing a non-empty directory keeps stale blobs from another seed out of the dump, and never overwrites
    anything a person put there.
    """
    root = Path(directory)
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty; a sample dump needs an empty or new directory")
    builder = _Builder(seed, page_size, dpi)
    for plan_documents in (
        _plan_migrated,
        _plan_duplicates,
        _plan_near_duplicates,
        _plan_damaged_blobs,
        _plan_bad_metadata,
        _plan_bad_rows,
    ):
        plan_documents(builder)
    plans = builder.plans
    volume = _volume(plans, builder.rng)
    builder.rng.shuffle(plans)
    root.mkdir(parents=True, exist_ok=True)
    _write_blobs(root, plans, volume)
    manifest_path = root / MANIFEST_NAME
    _write_manifest(manifest_path, [_row(plan) for plan in plans])
    documents = _expected(plans)
    profiled = tuple(
        ExpectedDocument(d.source_system, d.document_id, d.outcome, d.reasons, d.duplicate_of, d.page_count)
        for d in write_profiled_sources(root, seed=seed, page_size=page_size, dpi=dpi)
    )
    _write_expected(root / EXPECTED_NAME, (*documents, *profiled))
    return SampleDump(
        directory=str(root),
        manifest_path=str(manifest_path),
        documents=documents,
        profile_documents=profiled,
        profiles=(str(root / DIP_PROFILE), str(root / PAGES_PROFILE)),
        orphans=tuple(str(root / orphan) for orphan in ORPHANS),
        blob_roots=tuple(str(root / blob_root) for blob_root in BLOB_ROOTS),
    )
