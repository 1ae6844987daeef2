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

from transforms.storage.listing import matched_paths
from transforms.storage.objects import read_all, write_all
from transforms.storage.output_layout import reconcile_record_uri, reconcile_records_pattern


def record_uris(prefix: str) -> list[str]:
    """Every record, oldest first."""
    return matched_paths(reconcile_records_pattern(prefix))


def write_record(prefix: str, record: dict[str, Any], now: dt.datetime) -> str:
    uri = reconcile_record_uri(prefix, f"{now:%Y%m%dT%H%M%S%fZ}", uuid.uuid4().hex[:6])
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
