"""The profiled sources of the sample dump: an OnBase-style tagged DIP over a disk-group volume, and a
page-per-row export, each with its source profile JSON and its planned outcomes.

They use their own seeded RNG, so the canonical manifest and its blobs are byte-for-byte what they were before
these sources existed. One page-per-row document carries the same pages, for the same patient, as a DIP
document: a duplicate across systems and layouts.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from samples.identities import random_nhs_number
from samples.pages import HOSPITALS, PageText, encode_tiff, render_page
from schemas.reasons import Reason
from transforms.sources.layouts.onbase_dip import MAGIC

ONBASE = "ONBASE-DIP"
RADIOLOGY = "RADIOLOGY-PAGES"
DIP_PROFILE = "onbase/onbase-dip.json"
PAGES_PROFILE = "radiology/radiology-pages.json"
VOLUME = "onbase/diskgroups/DG01/V0000001.DAT"
UNC_ROOT = "\\\\FILESRV01\\OnBase"
#: Files in the store that no index references: one never exported, one whose row's path maps nowhere.
ORPHANS = ("radiology/images/2009/RQ0100006_P1.TIF", "radiology/images/2009/RQ0999999_P1.TIF")
#: The legacy stores of the dump, for --blob_root.
BLOB_ROOTS = ("blobs", "volumes", "onbase/diskgroups", "radiology/images")
#: A FileNet-style proprietary header in front of one TIFF: the profile asks for a search ("legacy_header"), so
#: the pipeline skips it and records its length.
LEGACY_HEADER = b"FNP2\x00\x01".ljust(256, b"\x00")


@dataclass(frozen=True)
class Planned:
    """One document of a profiled source and what must become of it (mirrors samples.dump.ExpectedDocument)."""

    source_system: str
    document_id: str
    outcome: str
    reasons: frozenset[str] = frozenset()
    duplicate_of: str | None = None
    page_count: int | None = None


class _Pages:
    def __init__(self, rng: random.Random, page_size: tuple[int, int], dpi: int) -> None:
        self.rng, self.page_size, self.dpi = rng, page_size, dpi

    def nhs(self) -> str:
        return random_nhs_number(self.rng)

    def render(self, reference: str, heading: str, count: int, kind: str = "bilevel") -> list[Image.Image]:
        text = PageText(
            heading=heading,
            patient_name="Sample Patient",
            hospital_number=f"H{self.rng.randrange(10**6, 10**7)}",
            document_date="2009-06-01",
            reference=reference,
            hospital=self.rng.choice(HOSPITALS),
        )
        return [
            render_page(
                self.rng, kind=kind, size=self.page_size, dpi=self.dpi, text=text, page_number=n, page_total=count
            )
            for n in range(1, count + 1)
        ]

    def tiff(self, pages: list[Image.Image], compression: str = "group4") -> bytes:
        return encode_tiff(pages, compression=compression, dpi=self.dpi)


def _dip_block(tags: list[tuple[str, str]], keywords: list[tuple[str, str]]) -> str:
    lines = ["BEGIN:", *(f">>{name}: {value}" for name, value in tags), *(f"{k}: {v}" for k, v in keywords)]
    return "\r\n".join(lines) + "\r\n"


def write_profiled_sources(root: Path, *, seed: int, page_size: tuple[int, int], dpi: int) -> list[Planned]:
    """Write both sources under root; returns their planned outcomes, DIP first, in index order."""
    p = _Pages(random.Random(seed * 7919 + 3), page_size, dpi)
    planned: list[Planned] = []
    shared_nhs = p.nhs()
    shared_pages = p.render("ONB-100201", "Lettre de sortie", 2)

    # --- OnBase DIP: one disk-group volume, UNC paths, CRLF, cp1252 -------------------------------------------
    volume = bytearray(b"OnBase DiskGroup 01 Volume 0000001".ljust(512, b"\x00"))
    blocks: list[str] = []

    def member(item: str, payload: bytes, doc_type: str, *, nhs: str, size: int | None = None, **extra: str) -> None:
        offset = len(volume)
        volume.extend(payload)
        volume.extend(bytes(p.rng.getrandbits(8) for _ in range(p.rng.randint(4, 40))))
        tags = [
            ("DocTypeName", doc_type),
            ("DocDate", f"{p.rng.randint(1, 12):02d}/{p.rng.randint(1, 28):02d}/{p.rng.randint(1995, 2015)}"),
            ("FullPath", f"{UNC_ROOT}\\DG01\\V0000001.DAT"),
            ("FileOffset", extra.pop("offset", str(offset))),
            ("FileSize", str(size if size is not None else len(payload))),
            ("DiskgroupNum", "1"),
            ("FileTypeNum", "2"),
        ]
        blocks.append(_dip_block(tags, [("ItemNum", item), ("NHS Number", nhs), ("Ward", "Rheumatology – Café Wing")]))

    member("100201", p.tiff(shared_pages), "Lettre de sortie", nhs=shared_nhs)
    planned.append(Planned(ONBASE, "100201", "migrated", page_count=2))
    member(
        "100202", p.tiff(p.render("ONB-100202", "Clinic Letter", 1, "gray"), "tiff_lzw"), "Clinic Letter", nhs=p.nhs()
    )
    planned.append(Planned(ONBASE, "100202", "migrated", page_count=1))
    member("100203", LEGACY_HEADER + p.tiff(p.render("ONB-100203", "Referral", 3)), "Referral", nhs=p.nhs())
    planned.append(Planned(ONBASE, "100203", "migrated", page_count=3))
    member("100204", p.tiff(p.render("ONB-100204", "Consent", 1)), "Consent", nhs=p.nhs(), offset="12O45")
    planned.append(Planned(ONBASE, "100204", "quarantined", frozenset({Reason.MANIFEST_ROW_INVALID.value})))
    # a document on a volume that was never copied out of the legacy store
    blocks.append(
        _dip_block(
            [
                ("DocTypeName", "Lab Report"),
                ("DocDate", "02/14/2001"),
                ("FullPath", f"{UNC_ROOT}\\DG02\\V0000009.DAT"),
                ("FileOffset", "512"),
                ("FileSize", "20480"),
            ],
            [("ItemNum", "100205"), ("NHS Number", p.nhs())],
        )
    )
    planned.append(Planned(ONBASE, "100205", "quarantined", frozenset({Reason.BLOB_MISSING.value})))
    # a record with no path at all
    blocks.append(
        _dip_block(
            [("DocTypeName", "Lab Report"), ("DocDate", "02/15/2001"), ("FileOffset", "0"), ("FileSize", "100")],
            [("ItemNum", "100206"), ("NHS Number", p.nhs())],
        )
    )
    planned.append(Planned(ONBASE, "100206", "quarantined", frozenset({Reason.MANIFEST_ROW_INVALID.value})))
    # the last member's size runs past the end of the volume
    last = p.tiff(p.render("ONB-100207", "Radiology Report", 1))
    member("100207", last, "Radiology Report", nhs=p.nhs(), size=len(last) + 8192)
    planned.append(Planned(ONBASE, "100207", "quarantined", frozenset({Reason.BYTE_RANGE_OUT_OF_BOUNDS.value})))
    # and the index was cut off in the middle of its last record
    blocks.append(
        f"BEGIN:\r\n>>DocTypeName: Nursing Notes\r\n>>DocDate: 07/01/2004\r\nItemNum: 100208\r\n"
        f"NHS Number: {p.nhs()}\r\n>>FullPath: {UNC_ROOT}\\DG01\\V0000001.DAT\r\n>>FileOffset: 51"
    )
    planned.append(Planned(ONBASE, "100208", "quarantined", frozenset({Reason.MANIFEST_ROW_INVALID.value})))
    (root / VOLUME).parent.mkdir(parents=True, exist_ok=True)
    (root / VOLUME).write_bytes(bytes(volume))
    (root / "onbase" / "dip_index.txt").write_bytes((MAGIC + "\r\n" + "".join(blocks)).encode("cp1252"))
    _write_json(
        root / DIP_PROFILE,
        {
            "source_system": ONBASE,
            "format": "onbase-dip",
            "manifest": "dip_index.txt",
            "encoding": "cp1252",
            "fields": {"document_id": "ItemNum", "nhs_number": "NHS Number"},
            "keep_metadata": [">>DiskgroupNum", "Ward"],
            "path_map": {UNC_ROOT: "diskgroups"},
            "legacy_header": "search",  # one of its TIFFs sits behind a FileNet-style header
        },
    )

    # --- page per row: one single-page TIFF per row, rows in no particular order, two export files ------------
    rows: list[list[str]] = []

    def pages_of(
        request: str, images: list[Image.Image], nhs: str, numbers: list[int] | None = None, drive: str = "R:\\RadScan"
    ) -> None:
        for index, image in enumerate(images):
            number = (numbers or list(range(1, len(images) + 1)))[index]
            relative = f"2009/{request}_P{index + 1}.TIF"
            if image is not None:
                target = root / "radiology" / "images" / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(p.tiff([image]))
            rows.append(
                [
                    request,
                    str(number),
                    f"{drive}\\{relative.replace('/', chr(92))}",
                    nhs,
                    "X-Ray Request",
                    f"2009{p.rng.randint(1, 12):02d}{p.rng.randint(1, 28):02d}",
                ]
            )

    pages_of("RQ0100001", p.render("RQ0100001", "X-Ray Request", 3), p.nhs())
    planned.append(Planned(RADIOLOGY, "RQ0100001", "migrated", page_count=3))
    pages_of("RQ0100002", shared_pages, shared_nhs)
    planned.append(Planned(RADIOLOGY, "RQ0100002", "duplicate", duplicate_of=f"{ONBASE}/100201", page_count=2))
    pages_of("RQ0100003", p.render("RQ0100003", "X-Ray Request", 2), p.nhs(), numbers=[1, 3])
    planned.append(Planned(RADIOLOGY, "RQ0100003", "quarantined", frozenset({Reason.PAGE_SEQUENCE_INVALID.value})))
    pages_of("RQ0100004", p.render("RQ0100004", "X-Ray Request", 3), p.nhs(), numbers=[1, 2, 2])
    planned.append(Planned(RADIOLOGY, "RQ0100004", "quarantined", frozenset({Reason.PAGE_SEQUENCE_INVALID.value})))
    images = p.render("RQ0100005", "X-Ray Request", 2)
    pages_of("RQ0100005", [images[0], None], p.nhs())  # page 2's file was never exported
    planned.append(Planned(RADIOLOGY, "RQ0100005", "quarantined", frozenset({Reason.BLOB_MISSING.value})))
    pages_of("RQ0100006", p.render("RQ0100006", "X-Ray Request", 1), p.nhs(), drive="S:\\Old")
    planned.append(Planned(RADIOLOGY, "RQ0100006", "quarantined", frozenset({Reason.PATH_UNMAPPED.value})))
    orphan = root / ORPHANS[1]
    orphan.write_bytes(p.tiff(p.render("RQ0999999", "X-Ray Request", 1)))  # in the store, in no export
    p.rng.shuffle(rows)
    header = "REQUEST_NO,PAGE,PAGE_FILE,NHS_NO,FORM,SCANNED\r\n"
    exports = root / "radiology" / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    half = len(rows) // 2
    for name, part in (("pages_2009a.csv", rows[:half]), ("pages_2009b.csv", rows[half:])):
        (exports / name).write_text(header + "".join(",".join(row) + "\r\n" for row in part), encoding="utf-8")
    _write_json(
        root / PAGES_PROFILE,
        {
            "source_system": RADIOLOGY,
            "format": "csv",
            "manifest": "exports/*.csv",
            "embedded_newlines": False,
            "fields": {
                "document_id": "REQUEST_NO",
                "page_number": "PAGE",
                "blob_uri": "PAGE_FILE",
                "nhs_number": "NHS_NO",
                "document_type": "FORM",
                "document_date": "SCANNED",
            },
            "date_format": "%Y%m%d",
            "path_map": {"R:\\RadScan": "images"},
        },
    )
    return planned


def _write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
