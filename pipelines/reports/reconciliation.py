"""The report's "Reconciliation" section: the latest reconciliation record (pipelines/evidence/) as HTML."""

from __future__ import annotations

from pipelines.evidence.reconcile_records import latest_record
from pipelines.reports.charts import e, table


def reconciliation_section(prefix: str) -> str:
    """The report's "Reconciliation" section from the latest record, or nothing when there is none."""
    latest = latest_record(prefix)
    if latest is None:
        return ""
    uri, record = latest
    passed = record["verdict"] == "pass"
    checks = record["checks"]
    lines = [
        [name, "holds" if check["holds"] else f"FAILS ({check['failure_count']:,})", check.get("checked", 0)]
        for name, check in checks.items()
    ]
    failures = "".join(
        f"<li><b>{e(name)}</b>: {e(message)}</li>"
        for name, check in checks.items()
        for message in check["failures"][:5]
    )
    counts = [
        [source, *(entry.get(key, 0) for key in ("documents", "migrated", "duplicate", "quarantined", "outstanding"))]
        for source, entry in sorted(record["sources"].items())
    ]
    verdict = (
        "Every manifest document is accounted for, its evidence is in place and the run chain is intact"
        if passed
        else "The reconciliation found failures: the legacy stores cannot be decommissioned yet"
    )
    return (
        f'<section class="{"ok" if passed else "bad"}"><h2>Reconciliation: {"PASS" if passed else "FAIL"}</h2>'
        f"<p>{e(verdict)}. {e(record['reconciled_at'])}, objects verified: {e(record['verify_objects'])}; "
        f"chain head run {e(str(checks['chain'].get('head_run_id')))}; record <code>{e(uri)}</code>.</p>"
        + table(["check", "result", "checked"], lines)
        + table(["source system", "documents", "migrated", "duplicate", "quarantined", "outstanding"], counts)
        + (f"<ul>{failures}</ul>" if failures else "")
        + f"<p>Orphans (files no index references): {record['orphans']['count']:,}. Source gone (done, legacy "
        f"bytes no longer there): {record['source_gone']['count']:,}.</p></section>"
    )
