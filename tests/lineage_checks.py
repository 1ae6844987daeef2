"""Assertions about a finished migration, shared by the local and the GCS end-to-end tests.

Everything is read back through Beam's FileSystems, so the same checks hold for a
local folder and for gs://.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
from apache_beam.io.filesystems import FileSystems
from PIL import Image

from pipelines.evidence.lineage_db import history_sql, read_arrow
from samples.dump import SampleDump
from schemas.tables import TABLES_BY_NAME


def read_bytes(uri: str) -> bytes:
    with FileSystems.open(uri, compression_type="uncompressed") as handle:
        return handle.read()


def read_history(output: str, name: str) -> list[dict[str, Any]]:
    """Every row every run recorded in one lineage table (append-only history)."""
    files = [m.path for m in FileSystems.match([f"{output}/lineage/{name}-*.parquet"])[0].metadata_list]
    assert files or name == "pages", f"no {name} Parquet under {output}/lineage"
    return read_arrow(TABLES_BY_NAME[name], sorted(files)).to_pylist()


def read_table(output: str, name: str) -> list[dict[str, Any]]:
    """What an analyst reads: for documents and pages the current views (each document's latest outcome, through
    the same SQL the report and BigQuery use), for the other tables their history."""
    if name not in ("documents", "pages"):
        return read_history(output, name)
    connection = duckdb.connect()
    for table in ("documents", "pages"):
        connection.register(f"{table}_history", read_arrow(TABLES_BY_NAME[table], _files(output, table)))
    result = connection.execute(history_sql(f"SELECT * FROM {{{name}}}"))
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def _files(output: str, name: str) -> list[str]:
    return sorted(m.path for m in FileSystems.match([f"{output}/lineage/{name}-*.parquet"])[0].metadata_list)


def manifest_rows(dump: SampleDump) -> list[dict[str, str]]:
    with open(dump.manifest_path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def check_outcomes_match_plan(documents: list[dict], dump: SampleDump, *, all_sources: bool = False) -> None:
    by_key = Counter((row["source_system"], row["document_id"]) for row in documents)
    assert all(count == 1 for count in by_key.values()), "a document has more than one outcome"
    rows = {(row["source_system"], row["document_id"]): row for row in documents}
    plan = dump.all_documents if all_sources else dump.documents
    assert set(rows) == {(doc.source_system, doc.document_id) for doc in plan}
    for planned in plan:
        row = rows[(planned.source_system, planned.document_id)]
        label = f"{planned.source_system}/{planned.document_id}"
        assert row["status"] == planned.outcome, (label, row["status"], row["reasons"], row["reason_messages"])
        assert set(planned.reasons) <= set(row["reasons"]), (label, row["reasons"])
        assert row["duplicate_of"] == planned.duplicate_of, label
        if planned.page_count is not None:
            assert row["page_count"] == planned.page_count, label


def check_every_source_balances(documents: list[dict], dump: SampleDump, *, all_sources: bool = False) -> None:
    manifest = Counter(row["source_system"] or "UNKNOWN" for row in manifest_rows(dump))
    if all_sources:
        manifest.update(doc.source_system for doc in dump.profile_documents)
    outcomes = Counter(row["source_system"] for row in documents)
    assert manifest == outcomes
    for source, count in manifest.items():
        statuses = Counter(row["status"] for row in documents if row["source_system"] == source)
        assert statuses["migrated"] + statuses["duplicate"] + statuses["quarantined"] == count


def source_pages(document: dict) -> list[Image.Image]:
    """The legacy pages, read independently of the pipeline (page-per-row documents: from their page files)."""
    if document["page_files"]:
        folder = FileSystems.split(document["blob_uri"])[0]
        files = sorted(m.path for m in FileSystems.match([f"{folder}/{document['document_id']}_P*"])[0].metadata_list)
        blobs = [read_bytes(uri) for uri in files]
    else:
        data = read_bytes(document["blob_uri"])
        start = document["byte_offset"] or 0
        blobs = [data[start : start + document["source_bytes"]]]
    assert hashlib.sha256(b"".join(blobs)).hexdigest() == document["source_sha256"]
    pages = []
    for data in blobs:
        image = Image.open(io.BytesIO(data[document["legacy_header_bytes"] or 0 :]))
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            image.load()
            pages.append(image.copy())
    return pages


def check_pages_are_pixel_identical(documents: list[dict], pages: list[dict]) -> None:
    migrated = {(d["source_system"], d["document_id"]): d for d in documents if d["status"] == "migrated"}
    by_document: dict[tuple[str, str], list[dict]] = {}
    for page in pages:
        by_document.setdefault((page["source_system"], page["document_id"]), []).append(page)
    assert set(by_document) == set(migrated), "pages rows must belong to migrated documents, all of them"
    for key, document in migrated.items():
        stored_pages = sorted(by_document[key], key=lambda page: page["page_number"])
        assert [page["page_number"] for page in stored_pages] == list(range(1, document["page_count"] + 1))
        for page, source in zip(stored_pages, source_pages(document), strict=True):
            data = read_bytes(page["object_uri"])
            assert hashlib.sha256(data).hexdigest() == page["object_sha256"] in page["object_uri"]
            stored = Image.open(io.BytesIO(data))
            stored.load()
            assert (
                (stored.mode, stored.size)
                == (source.mode, source.size)
                == (page["mode"], (page["width"], page["height"]))
            )
            assert stored.tobytes() == source.tobytes(), page["object_uri"]


def check_quarantine_keeps_original_bytes(documents: list[dict]) -> None:
    for document in documents:
        if document["status"] != "quarantined":
            continue
        assert document["reasons"] and len(document["reasons"]) == len(document["reason_messages"])
        assert document["quarantine_uri"]
        if document["source_bytes"]:
            original = read_bytes(document["blob_uri"])
            start = document["byte_offset"] or 0
            assert read_bytes(document["quarantine_uri"]) == original[start : start + document["source_bytes"]]


def nhs_number_spellings(dump: SampleDump) -> set[str]:
    spellings = set()
    for row in manifest_rows(dump):
        raw = (row.get("nhs_number") or "").strip()
        if raw:
            spellings |= {raw, raw.replace(" ", "").replace("-", "")}
    for profile in dump.profiles:  # the profiled sources' indexes: DIP keywords and page-per-row exports
        folder = Path(profile).parent
        for index in [*folder.glob("*.txt"), *folder.glob("exports/*.csv")]:
            spellings |= set(re.findall(r"(?<!\d)\d{10}(?!\d)", index.read_text(encoding="cp1252")))
    return {s for s in spellings if len(s) >= 9}
