"""Reconciliation records under PREFIX/reconcile/: written by `reconcile`, read back by it and by the report
(pipelines/reports/reconciliation.py renders the latest).

Each record is one JSON file, never rewritten, named by the time it was made, so the latest sorts last. Each
keeps the run chain's head (run id and row hash): a later reconciliation checks every earlier head is still in
the chain, unchanged, which covers the one row no later row vouches for.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from apache_beam.io.filesystems import FileSystems

from transforms.storage.objects import read_all, write_all


def records_folder(prefix: str) -> str:
    return FileSystems.join(prefix, "reconcile")


def record_uris(prefix: str) -> list[str]:
    """Every record, oldest first."""
    pattern = FileSystems.join(records_folder(prefix), "reconcile-*.json")
    return sorted(metadata.path for metadata in FileSystems.match([pattern])[0].metadata_list)


def write_record(prefix: str, record: dict[str, Any], now: dt.datetime) -> str:
    uri = FileSystems.join(records_folder(prefix), f"reconcile-{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:6]}.json")
    write_all(uri, json.dumps(record, indent=2, sort_keys=True, default=str).encode("utf-8"))
    return uri


def anchors(prefix: str) -> list[tuple[str, str, str]]:
    """(run id, row SHA-256, record name) of the chain head each earlier record saw. An unreadable record is
    skipped here: it is not evidence of the chain, and the chain is checked without it."""
    found = []
    for uri in record_uris(prefix):
        try:
            chain = json.loads(read_all(uri))["checks"]["chain"]
        except (ValueError, KeyError, TypeError):
            continue
        if chain.get("head_run_id") and chain.get("head_sha256"):
            found.append((chain["head_run_id"], chain["head_sha256"], f"reconciliation {uri.rsplit('/', 1)[-1]}"))
    return found


def latest_record(prefix: str) -> tuple[str, dict[str, Any]] | None:
    uris = record_uris(prefix)
    if not uris:
        return None
    return uris[-1], json.loads(read_all(uris[-1]))
