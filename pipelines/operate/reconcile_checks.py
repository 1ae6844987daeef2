"""The checks `reconcile` makes over the manifests and the current lineage (pipelines/operate/inventory.py tables).

Each check counts what it looked at per source system and names its first failures; none stops at the first.
Objects and quarantined bytes are found by listing their folders (transforms/storage/listing.py) and hashed
all of them, or a random sample of N per source system chosen in SQL from a recorded seed.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.console.usage import UsageError
from pipelines.evidence.lineage_db import rows
from pipelines.operate.inventory import cursor
from transforms.lineage.runs import file_sha256
from transforms.storage.listing import FOLDER_ORDER, folder_of, sizes

_LOGGER = logging.getLogger("edms_migrate")
#: Each check names at most this many failures; it counts them all.
LISTED = 20
#: Objects hashed at once: reads from an object store wait on the network, not the CPU.
HASH_THREADS = 8
#: A quarantine_files entry, 'URI SHA256 BYTES': its group 1, 2 or 3.
_COPY = "regexp_extract(copy_entry, '^(.*) ([0-9a-f]{{64}}) ([0-9]+)$', {})"
_IN_MANIFESTS = "JOIN manifest_documents AS m USING (source_system, document_id) WHERE NOT m.repeated"


@dataclass(frozen=True)
class Verify:
    """--verify_objects: hash every object (sample None) or N per source system, chosen by seed."""

    sample: int | None = None
    seed: int = 0

    @classmethod
    def parse(cls, text: str, seed: int) -> Verify:
        if text == "all":
            return cls(None, seed)
        kind, _, number = text.partition(":")
        if kind != "sample" or not number.isdigit() or int(number) <= 0:
            raise UsageError(f"--verify_objects takes all or sample:N (N a positive number), not {text!r}")
        return cls(int(number), seed)

    def chosen(self, source: str, key: str) -> str:
        """SQL: TRUE for the rows to hash."""
        if self.sample is None:
            return "TRUE"
        order = f"hash({key} || '{self.seed}')"
        return f"ROW_NUMBER() OVER (PARTITION BY {source} ORDER BY {order}) <= {self.sample}"

    def __str__(self) -> str:
        return "all" if self.sample is None else f"sample:{self.sample}"


@dataclass
class Check:
    """One check's findings: per source system what was checked, what was hashed, what failed."""

    name: str
    checked: Counter = field(default_factory=Counter)
    hashed: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def fail(self, source: str, message: str) -> None:
        self.failed[source] += 1
        if len(self.failures) < LISTED:
            self.failures.append(message)

    @property
    def holds(self) -> bool:
        return not self.failed

    def record(self) -> dict[str, Any]:
        return {
            "holds": self.holds,
            "failure_count": sum(self.failed.values()),
            "failures": self.failures,
            "checked": sum(self.checked.values()),
            "hashed": sum(self.hashed.values()),
        }


def _stream(connection: duckdb.DuckDBPyConnection, sql: str) -> Iterator[dict[str, Any]]:
    reader = cursor(connection)
    reader.execute(sql)
    columns = [d[0] for d in reader.description]
    for chunk in iter(lambda: reader.fetchmany(10_000), []):
        yield from (dict(zip(columns, row, strict=True)) for row in chunk)


def check_outcomes(connection: duckdb.DuckDBPyConnection) -> Check:
    """Every manifest document has one current outcome, recorded for the reference the manifest now gives, and
    every current duplicate's canonical document is currently migrated with the same content."""
    check = Check("outcomes")
    for row in _stream(
        connection,
        "SELECT m.source_system, m.document_id, m.reference_sha256 AS ref, c.status, c.run_id, "
        "c.reference_sha256 AS done_ref FROM manifest_documents AS m "
        "LEFT JOIN current_documents AS c USING (source_system, document_id) WHERE NOT m.repeated "
        "ORDER BY m.source_system, m.document_id",
    ):
        label, source = f"{row['source_system']}/{row['document_id']}", row["source_system"]
        check.checked[source] += 1
        if row["status"] is None:
            check.fail(source, f"{label}: no outcome: no run has recorded this document")
        elif row["status"] not in ("migrated", "duplicate", "quarantined"):
            check.fail(source, f"{label}: its outcome {row['status']!r} is none of migrated, duplicate, quarantined")
        elif row["done_ref"] is not None and row["done_ref"] != row["ref"]:
            check.fail(
                source,
                f"{label}: its outcome ({row['status']}, run {row['run_id']}) is for an earlier reference: the "
                "manifest now points at other bytes; re-run to migrate them",
            )
    for row in _stream(
        connection,
        "SELECT d.source_system, d.document_id, d.duplicate_of FROM current_documents AS d "
        "JOIN manifest_documents AS m ON d.source_system = m.source_system AND d.document_id = m.document_id "
        "LEFT JOIN current_documents AS t ON t.source_system || '/' || t.document_id = d.duplicate_of "
        "AND t.content_sha256 = d.content_sha256 "
        "WHERE NOT m.repeated AND d.status = 'duplicate' AND t.status IS DISTINCT FROM 'migrated' ORDER BY ALL",
    ):
        check.fail(
            row["source_system"],
            f"{row['source_system']}/{row['document_id']}: duplicate of {row['duplicate_of']}, which is not "
            "currently migrated with the same content: its pages are stored nowhere",
        )
    return check


def check_objects(connection: duckdb.DuckDBPyConnection, verify: Verify) -> Check:
    """Every page of every migrated manifest document is in lineage, its object exists at its recorded size, and
    (all, or the sample) its bytes hash to the recorded SHA-256."""
    check = Check("objects")
    for row in _stream(
        connection,
        "SELECT c.source_system, c.document_id, c.page_count, COUNT(p.page_number) AS pages "
        "FROM current_documents AS c JOIN manifest_documents AS m USING (source_system, document_id) "
        "LEFT JOIN current_pages AS p USING (source_system, document_id) "
        "WHERE NOT m.repeated AND c.status = 'migrated' GROUP BY ALL "
        "HAVING COUNT(p.page_number) <> COALESCE(c.page_count, -1) ORDER BY ALL",
    ):
        check.fail(
            row["source_system"],
            f"{row['source_system']}/{row['document_id']}: lineage records {row['pages']} page(s) of a migrated "
            f"document of {row['page_count'] if row['page_count'] is not None else 'no recorded'} page(s)",
        )
    pages = _stream(
        connection,
        "SELECT p.source_system, p.document_id, p.page_number, p.object_uri AS uri, p.object_sha256 AS sha256, "
        f"p.object_bytes AS size, {verify.chosen('p.source_system', 'p.object_uri')} AS hash_it "
        f"FROM current_pages AS p {_IN_MANIFESTS} "
        f"ORDER BY {FOLDER_ORDER.format('p.object_uri')}, p.source_system, p.document_id, p.page_number",
    )
    _check_files(check, pages, lambda row: f"{row['source_system']}/{row['document_id']} page {row['page_number']}")
    return check


def check_quarantine(connection: duckdb.DuckDBPyConnection, verify: Verify) -> Check:
    """Every quarantined manifest document has its record and, when its bytes could be read, its bytes (at their
    recorded size; all, or the sample, hashed to the recorded SHA-256)."""
    check = Check("quarantine")
    quarantined = (
        "SELECT c.source_system, c.document_id, c.quarantine_uri, c.source_sha256, c.source_bytes, c.quarantine_files, "
        f"{verify.chosen('c.source_system', 'c.document_id')} AS hash_it FROM current_documents AS c "
        f"{_IN_MANIFESTS} AND c.status = 'quarantined'"
    )
    for row in _stream(connection, f"SELECT * FROM ({quarantined}) WHERE quarantine_uri IS NULL ORDER BY ALL"):
        check.fail(
            row["source_system"],
            f"{row['source_system']}/{row['document_id']}: no quarantine evidence was written (see its reasons)",
        )
    files = _stream(
        connection,
        f"WITH q AS ({quarantined}) SELECT * FROM ("
        "SELECT source_system, document_id, quarantine_uri AS uri, source_sha256 AS sha256, source_bytes AS size, "
        "hash_it, 'bytes' AS kind FROM q WHERE quarantine_uri LIKE '%.bin' UNION ALL "
        "SELECT source_system, document_id, regexp_replace(quarantine_uri, '\\.bin$', '.json'), NULL, NULL, FALSE, "
        "'record' FROM q WHERE quarantine_uri IS NOT NULL UNION ALL "
        f"SELECT source_system, document_id, {_COPY.format(1)}, {_COPY.format(2)}, CAST({_COPY.format(3)} AS BIGINT), "
        "hash_it, 'page copy' FROM (SELECT *, UNNEST(quarantine_files) AS copy_entry FROM q)"
        f") ORDER BY {FOLDER_ORDER.format('uri')}",
    )
    _check_files(check, files, lambda row: f"{row['source_system']}/{row['document_id']} quarantine {row['kind']}")
    return check


def _check_files(
    check: Check, rows_in_folder_order: Iterator[dict[str, Any]], label: Callable[[dict[str, Any]], str]
) -> None:
    """Existence and size from one listing per folder; SHA-256 for the rows to hash (several reads at once)."""
    last_log = time.monotonic()
    with ThreadPoolExecutor(HASH_THREADS) as pool:
        for _, in_folder in itertools.groupby(rows_in_folder_order, key=lambda row: folder_of(row["uri"])):
            first: dict[str, dict[str, Any]] = {}
            for row in in_folder:  # one entry per file: pages sharing an object name the first of them
                entry = first.setdefault(row["uri"], row)
                entry["hash_it"] = entry["hash_it"] or row["hash_it"]
            to_hash = []
            for uri, size in sizes(first):
                row, source = first[uri], first[uri]["source_system"]
                check.checked[source] += 1
                if size is None:
                    check.fail(source, f"{label(row)}: {uri} is missing")
                elif row["size"] is not None and size != row["size"]:
                    check.fail(source, f"{label(row)}: {uri} is {size:,} bytes, {row['size']:,} recorded")
                elif row["hash_it"] and row["sha256"]:
                    to_hash.append(row)
            for row, digest in zip(to_hash, pool.map(lambda r: file_sha256(r["uri"]), to_hash), strict=True):
                check.hashed[row["source_system"]] += 1
                if digest != row["sha256"]:
                    check.fail(
                        row["source_system"], f"{label(row)}: {row['uri']} does not hash to its recorded SHA-256"
                    )
            if time.monotonic() - last_log > 10:
                done = sum(check.checked.values())
                _LOGGER.info("%s: %d file(s) checked, %d hashed", check.name, done, sum(check.hashed.values()))
                last_log = time.monotonic()


def orphans(connection: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The latest listing of each --blob_root: files no index references. Listed for a person, not a failure."""
    found = rows(
        connection,
        "SELECT o.blob_root, o.uri FROM orphans AS o JOIN runs AS r USING (run_id) "
        "QUALIFY r.finished_at = MAX(r.finished_at) OVER (PARTITION BY o.blob_root) ORDER BY o.blob_root, o.uri",
    )
    return {
        "count": len(found),
        "by_blob_root": dict(Counter(row["blob_root"] for row in found)),
        "listed": [row["uri"] for row in found[:LISTED]],
    }


def gone(connection: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Done documents whose legacy bytes are gone: they stay migrated; listed, never a failure."""
    found = rows(connection, "SELECT source_system, document_id FROM gone_documents ORDER BY ALL")
    return {
        "count": len(found),
        "by_source": dict(Counter(row["source_system"] for row in found)),
        "listed": [f"{row['source_system']}/{row['document_id']}" for row in found[:LISTED]],
    }
