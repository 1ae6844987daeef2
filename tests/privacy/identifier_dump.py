"""A legacy dump with patient identifiers in every place a legacy system puts them, and the scan that looks for them.

Identifiers come from samples/identities.py (made-up, valid NHS numbers from a seeded generator) and from the
profile's own local format (hospital numbers): in document ids (plain, spaced), a source-system column, an offset,
file and folder names, a page-per-row-free csv source and the canonical manifest, an access log and an orphan.
"""

from __future__ import annotations

import csv
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from samples.identities import random_nhs_number
from tests.images import bilevel_page, encode

#: A trust's hospital numbers: one letter and seven digits, and RRK with six.
LOCAL_IDENTIFIERS = (r"[A-Z]\d{7}", r"RRK\d{6}")
SOURCE = "PAS-SCAN"
#: Restricted: may name the patient. Everything else under the output prefix is the analyst side.
RESTRICTED = ("fhir", "edms-journal", "quarantine")  # the EDMS records (FHIR NDJSON, and as journaled), quarantine


@dataclass(frozen=True)
class IdentifierDump:
    folder: Path
    numbers: dict[str, str]  # role → a planted ten-digit identifier
    local: dict[str, str]  # role → a planted hospital number
    ids: dict[str, str]  # document → its id as the export gives it

    @property
    def sources(self) -> list[str]:
        return ["--source", str(self.folder / "pas.json"), "--manifest", str(self.folder / "canonical.csv")]

    @property
    def identifiers(self) -> list[str]:
        return [*self.numbers.values(), *self.local.values()]


def _png(seed: int) -> bytes:
    return encode(bilevel_page(seed=seed).convert("L"), "PNG")


def write_identifier_dump(folder: Path, seed: int = 20) -> IdentifierDump:
    rng = random.Random(seed)
    roles = ("id", "file", "folder", "patient", "spaced_id", "copy", "offset_id", "offset", "missing_id")
    roles += ("missing_file", "range_offset", "source_system", "letter_id", "orphan")
    numbers = {role: random_nhs_number(rng) for role in roles}
    local = {"mrn_id": "H1234567", "mrn_file": "RRK123456", "mrn_range_id": "K7654321"}
    n = numbers
    for sub in ("img", f"img/{n['folder']}", "scans", "vol", "img/orphans", "letters"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / f"img/{n['file']}.png").write_bytes(_png(1))
    (folder / f"img/{n['folder']}/page.png").write_bytes(_png(2))
    (folder / f"scans/{local['mrn_file']}.tif").write_bytes(encode(bilevel_page(seed=3), "TIFF", compression="group4"))
    (folder / f"img/copy-{n['copy']}.png").write_bytes(_png(1))  # the same pages as the first: a duplicate
    (folder / "vol/volume.dat").write_bytes(_png(4))
    (folder / f"img/orphans/{n['orphan']}.png").write_bytes(_png(5))  # in the store, in no index
    (folder / "letters/l2.png").write_bytes(_png(6))
    spaced = f"{n['spaced_id'][:3]} {n['spaced_id'][3:6]} {n['spaced_id'][6:]}"
    ids = {
        "named": f"R04-{n['id']}",
        "spaced": spaced,
        "mrn": local["mrn_id"],
        "duplicate": f"R04-{n['copy']}",
        "negative": f"OFF-{n['offset_id']}",
        "missing": f"MISS-{n['missing_id']}",
        "range": local["mrn_range_id"],
    }
    rows = [
        [ids["named"], f"img/{n['file']}.png", n["patient"], "", ""],
        [ids["spaced"], f"img/{n['folder']}/page.png", "", "", ""],
        [ids["mrn"], f"scans/{local['mrn_file']}.tif", "", "", ""],
        [ids["duplicate"], f"img/copy-{n['copy']}.png", n["patient"], "", ""],
        [ids["negative"], "vol/volume.dat", "", n["offset"], ""],  # past the end, no length: negative
        [ids["missing"], f"img/{n['missing_file']}.tif", "", "", ""],
        [ids["range"], "vol/volume.dat", "", n["range_offset"], "100"],
    ]
    with (folder / "export.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["ID", "FILE", "NHS", "OFFSET", "LENGTH"], *rows])
    fields = {"document_id": "ID", "blob_uri": "FILE", "nhs_number": "NHS", "offset": "OFFSET", "length": "LENGTH"}
    profile = {"source_system": SOURCE, "format": "csv", "manifest": "export.csv", "fields": fields}
    (folder / "pas.json").write_text(json.dumps({**profile, "local_identifiers": list(LOCAL_IDENTIFIERS)}))
    with (folder / "canonical.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [
                ["source_system", "document_id", "blob_uri"],
                [f"SYS{n['source_system']}", "C-1", "letters/l2.png"],  # a shifted column
                ["LETTERS", f"L-{n['letter_id']}", "letters/l2.png"],
            ]
        )
    with (folder / "access.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["source_system", "document_id", "access_count"], [SOURCE, ids["named"], "50"]])
    return IdentifierDump(folder, numbers, local, ids)


def spellings(identifier: str) -> re.Pattern[str]:
    """The identifier in any spacing or punctuation, any case: its characters with anything but letters and digits
    between them."""
    return re.compile(r"[\W_]*".join(re.escape(character) for character in identifier), re.IGNORECASE)


def analyst_texts(output: Path) -> dict[str, str]:
    """Every analyst-side output as text (Parquet tables as their rows), and every name under the output prefix,
    restricted or not: names show in bucket listings and access logs."""
    texts = {}
    for path in sorted(output.rglob("*")):
        relative = path.relative_to(output).as_posix()
        texts[f"name {relative}"] = relative
        if not path.is_file() or relative.split("/")[0] in (*RESTRICTED, "objects"):
            continue  # objects/ hold page images (content-addressed names, scanned above)
        if path.suffix == ".parquet":
            texts[relative] = json.dumps(pq.read_table(path).to_pylist(), default=str)
        else:
            texts[relative] = path.read_text(encoding="utf-8", errors="replace")
    return texts


def restricted_texts(output: Path) -> dict[str, str]:
    return {
        path.relative_to(output).as_posix(): path.read_text(encoding="utf-8")
        for kind in RESTRICTED
        for path in (output / kind).rglob("*")
        if path.suffix in (".json", ".ndjson")
    }


def identifiers_found(texts: dict[str, str], identifiers: list[str]) -> list[tuple[str, str]]:
    """(place, identifier) for each identifier found in any spelling: the one scan every output goes through."""
    patterns = {identifier: spellings(identifier) for identifier in identifiers}
    return [(place, found) for place, text in texts.items() for found, p in patterns.items() if p.search(text)]
