"""The runs table: one row per run, so an auditor can see when, with what, from what, and with what result.

The launcher knows the start, options, inputs and code; the pipeline knows the counts.
RunInfo carries the first into the graph, and the row is made once the tallies are in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from apache_beam.io.filesystems import FileSystems

from schemas.tables import RUNS
from transforms.lineage.summary import summary_document


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    started_at: dt.datetime
    migration_key: str
    output_prefix: str
    manifests: tuple[str, ...]
    manifest_sha256: tuple[str, ...]
    options_json: str
    code_version: str

    @property
    def run_date(self) -> dt.date:
        return self.started_at.date()


def file_sha256(uri: str, chunk: int = 1 << 20) -> str:
    """Streamed, so a manifest of millions of rows is fingerprinted in constant memory."""
    digest = hashlib.sha256()
    with FileSystems.open(uri, compression_type="uncompressed") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def code_version() -> str:
    try:
        version = metadata.version("edms-migrate")
    except metadata.PackageNotFoundError:
        version = "unknown"
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{version}+{commit}" if commit else version


def runs_row(tallies: dict[str, Counter], info: RunInfo, finished_at: dt.datetime | None = None) -> dict[str, Any]:
    return runs_row_from_summary(summary_document(tallies, info.run_id), info, finished_at)


def runs_row_from_summary(
    summary: dict[str, Any], info: RunInfo, finished_at: dt.datetime | None = None, **chain: Any
) -> dict[str, Any]:
    """The row from the run's summary (what the launcher has once the pipeline is done) and its chain fields."""
    counts = summary["totals"]
    return RUNS.row(
        run_id=info.run_id,
        run_date=info.run_date,
        started_at=info.started_at,
        finished_at=finished_at or dt.datetime.now(dt.UTC),
        migration_key=info.migration_key,
        output_prefix=info.output_prefix,
        manifests=list(info.manifests),
        manifest_sha256=list(info.manifest_sha256),
        options_json=info.options_json,
        code_version=info.code_version,
        balanced=summary["balanced"],
        **{key: counts[key] for key in counts},
        **chain,
    )
