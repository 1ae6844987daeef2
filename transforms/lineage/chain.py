"""The tamper-evident run chain: each runs row vouches for lineage files and for the run before it.

BS 10008 asks that evidence show it has not been altered. Lineage is append-only history, so each run, once its
pipeline has finished, records in its runs row:
- `lineage_files`: "NAME SHA256" for every lineage file under PREFIX/lineage/ that no earlier runs row lists (its
  own tables and summary, and whatever a run that crashed before it was recorded left behind);
- `lineage_sha256`: SHA-256 of that sorted list;
- `previous_run_sha256`: SHA-256 of the previous runs row (the latest finished before it) as canonical JSON.
An edited or deleted lineage file no longer hashes as listed; a removed or edited runs row breaks the next row's
`previous_run_sha256`; a file no row lists is unrecorded. The last row is covered by whatever holds the chain's
head hash: each reconciliation record keeps it, and a later reconciliation checks it is still there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from schemas.tables import RUNS
from transforms.lineage.runs import file_sha256
from transforms.storage.listing import matched_paths
from transforms.storage.objects import read_all
from transforms.storage.output_layout import (
    OPENLINEAGE_FILES,
    RUNS_FILES,
    lineage_files_pattern,
    lineage_folder,
    runs_row_file,
    table_history_pattern,
)
from transforms.storage.signed_files import Signature, signed_files, write_signed_once

_LOGGER = logging.getLogger(__name__)
#: Files under lineage/ that are not evidence the chain covers: the runs rows themselves (chained by hash) and
#: the OpenLineage event log (appended to after the row is written).
_NOT_CHAINED = (RUNS_FILES, OPENLINEAGE_FILES)
#: A verification names at most this many failures; it counts them all.
LISTED_FAILURES = 20


def chained_files(output_prefix: str) -> list[str]:
    """Every lineage file the chain covers, by URI, sorted."""
    found = []
    for path in matched_paths(lineage_files_pattern(output_prefix)):
        name = path.rsplit("/", 1)[-1]
        if not name.startswith((".", *_NOT_CHAINED)) and not name.endswith(".partial"):
            found.append(path)
    return found


def runs_files(output_prefix: str) -> list[str]:
    return matched_paths(table_history_pattern(lineage_folder(output_prefix), RUNS.name))


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def row_sha256(row: dict[str, Any]) -> str:
    """SHA-256 of a runs row as canonical JSON: sorted keys, no spaces, times in ISO 8601 UTC. The row is read
    with its own file's columns, so a column added to the table later does not change an old row's hash."""
    text = json.dumps({k: _canonical(v) for k, v in row.items()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def list_sha256(entries: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(entries)).encode("utf-8")).hexdigest()


def _entry(uri: str) -> str:
    return f"{uri.rsplit('/', 1)[-1]} {file_sha256(uri)}"


@dataclass(frozen=True)
class RecordedRun:
    """One runs row as its file holds it, and the file."""

    uri: str
    row: dict[str, Any]

    @property
    def order(self) -> tuple:
        return (self.row["finished_at"], self.row["run_id"])

    @property
    def listed(self) -> dict[str, str]:
        """File name → SHA-256, for the lineage files this row vouches for."""
        return self.vouched("lineage_files")

    def vouched(self, column: str) -> dict[str, str]:
        """File name → SHA-256, for the files a "NAME SHA256" column of this row vouches for (lineage_files, or
        edms_files: lineage/edms_seal.py); a row written before the column existed vouches for none."""
        return dict(entry.rsplit(" ", 1) for entry in self.row.get(column) or ())


def recorded_runs(output_prefix: str) -> tuple[list[RecordedRun], list[str]]:
    """Every runs row in chain order, and one line per runs file that cannot be read as one."""
    runs, unreadable = [], []
    for uri in runs_files(output_prefix):
        try:
            rows = pq.read_table(io.BytesIO(read_all(uri))).to_pylist()
            runs += [RecordedRun(uri, row) for row in rows]
        except Exception as error:  # an edited file: evidence of tampering, reported, never a crash
            unreadable.append(f"runs file {uri.rsplit('/', 1)[-1]} cannot be read: {type(error).__name__}")
    return sorted(runs, key=lambda run: run.order), unreadable


def run_recorded(output_prefix: str, run_id: str) -> bool:
    runs, _ = recorded_runs(output_prefix)
    return any(run.row["run_id"] == run_id for run in runs)


def unsealed_files(output_prefix: str) -> list[str]:
    """Names of the lineage files no runs row lists yet (a run in progress, a killed run's, or a stray file)."""
    runs, _ = recorded_runs(output_prefix)
    listed = {name for run in runs for name in run.listed}
    return [name for name in (uri.rsplit("/", 1)[-1] for uri in chained_files(output_prefix)) if name not in listed]


def chain_fields(output_prefix: str) -> dict[str, Any]:
    """What a new runs row records about the chain, computed after the run's pipeline has written its files."""
    runs, _ = recorded_runs(output_prefix)
    listed = {name for run in runs for name in run.listed}
    entries = [_entry(uri) for uri in chained_files(output_prefix) if uri.rsplit("/", 1)[-1] not in listed]
    return {
        "lineage_files": sorted(entries),
        "lineage_sha256": list_sha256(entries),
        "previous_run_sha256": row_sha256(runs[-1].row) if runs else "",
    }


def write_runs_row(
    output_prefix: str, migration_key: str, run_id: str, row: dict[str, Any], key: bytes | None = None
) -> str:
    """The run's runs row as one small Parquet file, named as the graph's tables are and signed with the evidence
    key (key None: unsigned, as unit tests of the chain write it); returns its URI."""
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([row], schema=RUNS.arrow_schema()), buffer, compression="zstd")
    uri = runs_row_file(output_prefix, RUNS.name, migration_key, run_id)
    if signed_files(uri) or FileSystems.exists(uri):
        raise FileExistsError(f"{uri} exists: a run id names one run, and its runs row is written once")
    return write_signed_once(uri, buffer.getvalue(), key)


@dataclass
class ChainCheck:
    """What verifying the chain found: the head (latest row) and every failure, first ones named."""

    runs: int = 0
    files_checked: int = 0
    head_run_id: str | None = None
    head_sha256: str | None = None
    failures: list[str] = field(default_factory=list)
    failure_count: int = 0

    def fail(self, message: str) -> None:
        self.failure_count += 1
        if len(self.failures) < LISTED_FAILURES:
            self.failures.append(message)

    @property
    def holds(self) -> bool:
        return self.failure_count == 0


def verify_chain(
    output_prefix: str, anchors: Iterable[tuple[str, str, str]] = (), key: bytes | None = None
) -> ChainCheck:
    """Re-hash every file and row of the chain. anchors: (run_id, row SHA-256, where it was recorded) of heads
    recorded earlier (by reconciliation records), each of which must still be in the chain, unchanged. key: the
    evidence key, to tell a killed run's signed files from files no run of the migration wrote."""
    check = ChainCheck()
    runs, unreadable = recorded_runs(output_prefix)
    for line in unreadable:
        check.fail(line)
    check.runs = len(runs)
    hashes = {run.row["run_id"]: row_sha256(run.row) for run in runs}
    for position, run in enumerate(runs):
        run_id = run.row["run_id"]
        expected = row_sha256(runs[position - 1].row) if position else ""
        # A row written before the chain began has no such column; every later row must match.
        if "previous_run_sha256" in run.row and run.row["previous_run_sha256"] != expected:
            before = f"run {runs[position - 1].row['run_id']}" if position else "no run"
            check.fail(
                f"run {run_id}: its previous-run hash does not match the run before it ({before}): a run was "
                "removed, or a runs row edited"
            )
        if (
            run.row.get("lineage_sha256") is not None
            and list_sha256(f"{name} {sha}" for name, sha in run.listed.items()) != run.row["lineage_sha256"]
        ):
            check.fail(f"run {run_id}: its list of lineage files does not match its lineage_sha256: the row was edited")
    signed_seen = False
    for run in runs if key is not None else ():
        signature = Signature.of(run.uri.rsplit("/", 1)[-1])
        signed_seen |= signature.tag is not None
        if signed_seen and not signature.valid(key, file_sha256(run.uri)):
            name = run.uri.rsplit("/", 1)[-1]
            check.fail(f"runs file {name} is not signed with this migration's key: forged or edited")
    for run_id, sha, where in anchors:
        if hashes.get(run_id) != sha:
            state = "is gone" if run_id not in hashes else "has changed"
            check.fail(f"run {run_id}, the chain's head when {where} was recorded, {state}")
    _check_files(output_prefix, runs, check, key)
    if runs:
        check.head_run_id, check.head_sha256 = runs[-1].row["run_id"], hashes[runs[-1].row["run_id"]]
    return check


def _check_files(output_prefix: str, runs: list[RecordedRun], check: ChainCheck, key: bytes | None) -> None:
    present = {uri.rsplit("/", 1)[-1]: uri for uri in chained_files(output_prefix)}
    check_vouched(check, present, runs, "lineage_files", "lineage file", key)


def check_vouched(
    check: ChainCheck, present: dict[str, str], runs: list[RecordedRun], column: str, noun: str, key: bytes | None
) -> None:
    """Every file the rows' `column` vouches for is present (name → URI) and hashes as listed; every present file
    no row vouches for is named, with what its signature says of it."""
    covered: set[str] = set()
    last_log = time.monotonic()
    for run in runs:
        for name, sha in sorted(run.vouched(column).items()):
            covered.add(name)
            if name not in present:
                check.fail(f"run {run.row['run_id']}: {noun} {name} is missing")
                continue
            check.files_checked += 1
            if file_sha256(present[name]) != sha:
                check.fail(f"run {run.row['run_id']}: {noun} {name} has changed since the run recorded it")
            if time.monotonic() - last_log > 10:
                _LOGGER.info("chain: %d file(s) re-hashed", check.files_checked)
                last_log = time.monotonic()
    for name in sorted(set(present) - covered):
        signature = Signature.of(name)
        if key is not None and signature.tag is None:
            check.fail(f"{noun} {name} is in no run's record and is not signed: no run of the migration wrote it")
        elif key is not None and not signature.valid(key, file_sha256(present[name])):
            check.fail(f"{noun} {name} is in no run's record and does not match its signature: edited or forged")
        else:
            check.fail(
                f"{noun} {name} is in no run's record: a run crashed before recording it (the next run "
                "records it), or its runs row was removed"
            )
