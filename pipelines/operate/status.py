"""`edms-migrate status`: how far a migration has got, per source system and priority tier, and how long is left.

Documents in the manifests; of them migrated, duplicate and quarantined (current outcomes), outstanding (never
read, reference changed since its outcome, or quarantined) and "source gone" (done, but the legacy bytes are no
longer there: reported, never a failure); then the time left at the recent rate. Reads, never writes.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.console.text_table import duration, text_table
from pipelines.console.usage import UsageError
from pipelines.evidence.lineage_db import rows
from pipelines.launch.options import SHOW_IDENTIFIERS, add_job_options
from pipelines.operate.inventory import (
    find_gone_sources,
    holds_migration,
    lineage_as_inventory,
    load_access_log,
    load_manifests,
    open_lineage,
    operator_pseudonyms,
    plan_sources,
)
from transforms.lineage.chain import unsealed_files
from transforms.privacy.pseudonyms import Pseudonyms, reveal
from transforms.storage.damage import damaged_files

#: Priority tiers by access_count in --access_log, most used first; a document not in the log is "cold".
TIERS = (("hot", 10), ("warm", 1))
COLD = "cold"
#: The rate is taken over this many latest runs that processed documents.
RECENT_RUNS = 5
COUNTED = ("documents", "migrated", "duplicate", "quarantined", "outstanding", "source_gone")

_COUNTS = """
WITH m AS (
  SELECT m.source_system, m.document_id, m.reference_sha256, {tier} AS tier, {tier_order} AS tier_rank
  FROM manifest_documents AS m {access_join}
  WHERE NOT m.repeated
), j AS (
  SELECT m.source_system, m.tier, m.tier_rank, c.status,
    c.status IS NOT NULL AND (c.reference_sha256 IS NULL OR c.reference_sha256 = m.reference_sha256) AS same_ref,
    g.document_id IS NOT NULL AS gone
  FROM m
  LEFT JOIN current_documents AS c USING (source_system, document_id)
  LEFT JOIN gone_documents AS g USING (source_system, document_id)
)
SELECT source_system, tier, tier_rank,
  COUNT(*) AS documents,
  COUNT(*) FILTER (WHERE same_ref AND status = 'migrated') AS migrated,
  COUNT(*) FILTER (WHERE same_ref AND status = 'duplicate') AS duplicate,
  COUNT(*) FILTER (WHERE status = 'quarantined') AS quarantined,
  COUNT(*) FILTER (WHERE status IS NULL) AS never_read,
  COUNT(*) FILTER (WHERE NOT same_ref AND status IN ('migrated', 'duplicate')) AS changed,
  COUNT(*) FILTER (WHERE gone) AS source_gone
FROM j
GROUP BY ALL
ORDER BY source_system, tier_rank
"""


def tier_sql(tiered: bool) -> tuple[str, str, str]:
    """(tier expression, join, order) for _COUNTS."""
    if not tiered:
        return "'all'", "", "0"
    cases = " ".join(f"WHEN a.access_count >= {least} THEN '{name}'" for name, least in TIERS)
    order = " ".join(f"WHEN '{name}' THEN {rank}" for rank, (name, _) in enumerate(TIERS))
    join = "LEFT JOIN access_log AS a USING (source_system, document_id)"
    tier = f"CASE {cases} ELSE '{COLD}' END"
    return tier, join, f"CASE {tier} {order} ELSE {len(TIERS)} END"


def outcome_counts(connection: duckdb.DuckDBPyConnection, tiered: bool = False) -> list[dict[str, Any]]:
    """Per source system (and tier): documents and their current outcomes; outstanding = never read + reference
    changed + quarantined, so documents = migrated + duplicate + outstanding."""
    tier, join, order = tier_sql(tiered)
    result = rows(connection, _COUNTS.format(tier=tier, access_join=join, tier_order=order))
    for row in result:
        row["outstanding"] = row["never_read"] + row["changed"] + row["quarantined"]
    return result


@dataclass
class Status:
    prefix: str
    rows: list[dict[str, Any]]
    from_manifests: bool
    tiered: bool
    runs: int = 0
    rate_runs: int = 0
    rate_per_hour: float | None = None
    repeated: int = 0
    notes: list[str] = field(default_factory=list)

    def total(self, tier: str | None = None) -> dict[str, int]:
        chosen = [row for row in self.rows if tier is None or row["tier"] == tier]
        keys = (*COUNTED, "never_read", "changed")
        return {key: sum(row[key] for row in chosen) for key in keys}


def recent_rate(connection: duckdb.DuckDBPyConnection) -> tuple[float | None, int]:
    """Documents per hour over the latest runs that processed any, and how many runs that was."""
    recent = rows(
        connection,
        "SELECT started_at, finished_at, migrated + duplicate + quarantined AS processed FROM runs "
        f"WHERE migrated + duplicate + quarantined > 0 ORDER BY finished_at DESC LIMIT {RECENT_RUNS}",
    )
    hours = sum((run["finished_at"] - run["started_at"]).total_seconds() for run in recent) / 3600
    if not recent or hours <= 0:
        return None, len(recent)
    return sum(run["processed"] for run in recent) / hours, len(recent)


def build_status(
    prefix: str, sources: tuple, access_log: str | None = None, pseudonyms: Pseudonyms | None = None
) -> Status:
    connection = open_lineage(prefix)
    if sources:
        load_manifests(connection, sources, pseudonyms)
    else:
        lineage_as_inventory(connection)
    if access_log:
        load_access_log(connection, access_log, pseudonyms)
    find_gone_sources(connection)
    status = Status(prefix, outcome_counts(connection, bool(access_log)), bool(sources), bool(access_log))
    [(status.runs,)] = connection.execute("SELECT COUNT(*) FROM runs").fetchall()
    [(status.repeated,)] = connection.execute(
        "SELECT COUNT(*) FILTER (WHERE repeated) FROM manifest_documents"
    ).fetchall()
    status.rate_per_hour, status.rate_runs = recent_rate(connection)
    return status


def _time_left(status: Status) -> str:
    if not status.rate_per_hour:
        return "time left: unknown (no run has processed documents yet)"
    outstanding = status.total()["outstanding"]
    line = (
        f"recent rate: {status.rate_per_hour:,.0f} documents/hour over the last {status.rate_runs} run(s) → "
        f"time left: {duration(outstanding / status.rate_per_hour)}"
    )
    if status.tiered:
        done, steps = 0, []
        for tier in (*(name for name, _ in TIERS), COLD):
            done += status.total(tier)["outstanding"]
            steps.append(f"{tier} done in {duration(done / status.rate_per_hour)}")
        line += " (in priority order: " + ", ".join(steps) + ")"
    return line


def format_status(status: Status) -> str:
    header = ["source system", "tier", *(key.replace("_", " ") for key in COUNTED)]
    body = [[row["source_system"], row["tier"], *(row[key] for key in COUNTED)] for row in status.rows]
    tiers = [*(name for name, _ in TIERS), COLD] if status.tiered else []
    totals = [["TOTAL", tier, *(status.total(tier)[key] for key in COUNTED)] for tier in tiers]
    overall = status.total()
    totals.append(["TOTAL", "", *(overall[key] for key in COUNTED)])
    lines = [
        f"\nStatus of {status.prefix} ({status.runs:,} run(s) recorded)",
        text_table(header, [*body, *totals], totals=len(totals), left=2),
        f"outstanding: {overall['never_read']:,} never read, {overall['changed']:,} whose reference changed since "
        f"its outcome, {overall['quarantined']:,} quarantined (fix, then re-run)",
    ]
    if status.repeated:
        lines.append(
            f"repeated ids: {status.repeated:,} further manifest row(s) reuse a document id (DUPLICATE_DOCUMENT_ID)"
        )
    if not status.from_manifests:
        lines.append(
            "no --manifest/--source given: the documents some run has recorded stand in for the manifests, so "
            "documents no run has read are not counted"
        )
    lines.append(_time_left(status))
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The job's own --output, --manifest, --source and --access_log (the access log makes the priority tiers), the
    run's patient key (to key the manifests as lineage does) and --show_identifiers."""
    names = ("output", "manifest", "source", "access_log", "patient_key_file", "patient_key_secret")
    add_job_options(parser, names, required=("output",))
    SHOW_IDENTIFIERS.add_to(parser)


def main(args: argparse.Namespace) -> int:
    prefix, sources, _ = plan_sources(args.output, args.manifest, args.source)
    pseudonyms = operator_pseudonyms(args, sources, prefix)
    try:
        status = build_status(prefix, sources, args.access_log, pseudonyms)
    except duckdb.Error as error:  # a damaged lineage file: one line naming it
        damaged = damaged_files(prefix)
        if not damaged:
            raise
        raise UsageError(damaged[0]) from error
    text = format_status(status)
    print(reveal(text, pseudonyms.seen) if pseudonyms.seen is not None else text)
    if not holds_migration(prefix):
        print(f"note: {prefix} holds no migration yet (no lineage under it): if one was expected there, check --output")
    unsealed = unsealed_files(prefix)
    if unsealed:
        print(
            f"note: {len(unsealed):,} lineage file(s) are in no run's record (a run in progress or killed, or files "
            f"no run of this migration wrote, e.g. {unsealed[0]}): counted above; the next run or reconcile checks them"
        )
    return 0
