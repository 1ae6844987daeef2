"""`edms-migrate report PREFIX`: one self-contained HTML page a programme board reads at a glance.

Everything comes from the run's lineage under PREFIX/lineage, through DuckDB and the same
analyst SQL files analysts run (schemas/queries). The Parquet is read through Beam's
FileSystems, so gs:// works without DuckDB extensions. Charts are inline SVG and styles
inline CSS: the file opens anywhere, offline, and can be attached to an email. Patients
appear nowhere in it; quarantined documents are listed, by pseudonym, with links to their records.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.evidence.lineage_db import ReportError, load_lineage, query, rows
from pipelines.evidence.restricted import check_destination, identifiers_in_records
from pipelines.reports.charts import COLOURS, before_after, e, object_link, simple_bars, stacked_bars, table
from pipelines.reports.edms import edms_section
from pipelines.reports.reconciliation import reconciliation_section
from pipelines.reports.summary_text import human_bytes
from transforms.privacy.pseudonyms import reveal
from transforms.storage.damage import damaged_files
from transforms.storage.objects import write_all
from transforms.storage.output_layout import quarantine_record_of, report_uri

#: The report lists at most this many quarantined documents by name; the lineage has them all.
QUARANTINE_LINKS = 2000
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#0b3d91;color:#fff;padding:20px 32px}header h1{margin:0 0 4px;font-size:26px}
main{max-width:1100px;margin:0 auto;padding:16px 32px 48px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:16px 20px;margin:16px 0}
h2{font-size:19px;margin:0 0 10px}.tiles{display:flex;flex-wrap:wrap;gap:12px}
.tile{flex:1 1 140px;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:12px 16px}
.tile b{display:block;font-size:26px}.tile span{color:#52606d;font-size:13px}
.ok{background:#e8f5e9;border-left:6px solid #2e7d32}.bad{background:#ffebee;border-left:6px solid #c62828}
table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}
th,td{padding:4px 8px;border-bottom:1px solid #e4e7eb;text-align:right}th:first-child,td:first-child{text-align:left}
svg .label{font-size:13px;fill:#1f2933}svg .small{font-size:11px;fill:#1f2933}
svg .inbar{font-size:12px;fill:#fff;font-weight:600}ul.q{font-size:13px;columns:2}ul.q li{margin:2px 0}
"""


def build_report(prefix: str) -> str:
    connection = load_lineage(prefix)
    runs = rows(connection, "SELECT * FROM runs ORDER BY finished_at DESC")
    run = runs[0] if runs else {}
    reconciliation = query(connection, "reconciliation")
    reasons = rows(
        connection,
        "SELECT reason, COUNT(*) AS documents FROM documents CROSS JOIN UNNEST(reasons) AS reason "
        "WHERE status = 'quarantined' GROUP BY reason ORDER BY documents DESC, reason",
    )
    savings = query(connection, "duplicates_and_savings")
    per_type = query(connection, "pages_per_document_type")
    formats = rows(
        connection,
        "SELECT COALESCE(source_format, '?') AS format, SUM(source_bytes) AS before, SUM(object_bytes) AS after, "
        "COUNT(*) AS documents FROM documents WHERE status = 'migrated' GROUP BY ALL ORDER BY before DESC",
    )
    stored = rows(
        connection,
        "SELECT object_format, COUNT(*) AS pages, SUM(object_bytes) AS bytes FROM pages "
        "GROUP BY ALL ORDER BY pages DESC",
    )
    quarantined = rows(
        connection,
        "SELECT source_system, document_id, reasons, quarantine_uri FROM documents WHERE status = 'quarantined' "
        f"ORDER BY source_system, document_id LIMIT {QUARANTINE_LINKS}",
    )
    [misfiling] = rows(connection, "SELECT COUNT(DISTINCT content_sha256) AS n, COUNT(*) AS docs FROM review_misfiling")
    [near] = rows(connection, "SELECT COUNT(*) AS n FROM review_near_duplicates")

    totals = {
        key: sum(r[key] for r in reconciliation)
        for key in ("documents", "migrated", "duplicate", "quarantined", "pages", "bytes_in")
    }
    bytes_out = sum(r["migrated_object_bytes"] for r in savings)
    saved = sum(r["object_bytes_saved"] for r in savings)
    seconds = (run["finished_at"] - run["started_at"]).total_seconds() if run else 0.0
    pages_per_second = run.get("pages", 0) / seconds if seconds > 0 else 0.0
    balanced = all(r["documents"] == r["migrated"] + r["duplicate"] + r["quarantined"] for r in reconciliation)

    systems = [r["source_system"] for r in reconciliation]
    tiles = [
        (f"{totals['documents']:,}", "documents in the manifests"),
        (f"{totals['migrated']:,}", "migrated"),
        (f"{totals['duplicate']:,}", "duplicates (not stored twice)"),
        (f"{totals['quarantined']:,}", "quarantined, with reasons"),
        (f"{sum(r['pages'] for r in stored):,}", "pages stored"),
        (f"{human_bytes(totals['bytes_in'])} → {human_bytes(bytes_out)}", "legacy bytes → stored bytes"),
        (f"{pages_per_second:,.1f}", f"pages per second ({seconds:,.0f} s run)"),
    ]
    quarantine_items = "".join(
        f'<li><a href="{e(object_link(q["quarantine_uri"]))}">{e(q["source_system"])}/{e(q["document_id"])}</a> '
        f'(<a href="{e(object_link(quarantine_record_of(q["quarantine_uri"])))}">record</a>): '
        f"{e(', '.join(q['reasons']))}</li>"
        for q in quarantined
        if q["quarantine_uri"]
    )
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    verdict = (
        '<section class="ok"><h2>Every document is accounted for</h2>Each manifest document has exactly one outcome: '
        "migrated, duplicate or quarantined.</section>"
        if balanced
        else '<section class="bad"><h2>Documents are missing</h2>Documents in ≠ documents out for some source system: '
        "see the table below.</section>"
    )
    sections = [
        verdict,
        reconciliation_section(prefix),
        '<div class="tiles">'
        + "".join(f'<div class="tile"><b>{e(v)}</b><span>{e(t)}</span></div>' for v, t in tiles)
        + "</div>",
        "<section><h2>Outcomes per source system</h2>"
        + stacked_bars(
            "outcomes per source system",
            systems,
            {status: [r[status] for r in reconciliation] for status in ("migrated", "duplicate", "quarantined")},
            COLOURS,
        )
        + table(
            ["source system", "documents", "migrated", "duplicate", "quarantined", "pages decoded", "legacy bytes"],
            [
                [
                    r["source_system"],
                    r["documents"],
                    r["migrated"],
                    r["duplicate"],
                    r["quarantined"],
                    r["pages"],
                    human_bytes(r["bytes_in"]),
                ]
                for r in reconciliation
            ],
        )
        + "</section>",
        "<section><h2>Quarantine reasons</h2>"
        + (
            simple_bars(
                "quarantine reasons",
                [r["reason"] for r in reasons],
                [r["documents"] for r in reasons],
                lambda v: f"{v:,.0f} document" + ("" if v == 1 else "s"),
                colour=COLOURS["quarantined"],
            )
            if reasons
            else "<p>No document was quarantined.</p>"
        )
        + "</section>",
        "<section><h2>Duplicates and storage saved</h2>"
        + f"<p><b>{sum(r['duplicates'] for r in savings):,}</b> duplicate documents were recognised by their "
        f"pixels and not stored again, saving <b>{human_bytes(saved)}</b> of objects.</p>"
        + simple_bars(
            "storage saved by duplicates",
            systems,
            [r["object_bytes_saved"] for r in savings],
            lambda v: human_bytes(int(v)),
        )
        + "</section>",
        "<section><h2>Bytes before and after, by legacy format</h2>"
        + before_after(
            [r["format"] for r in formats], [r["before"] or 0 for r in formats], [r["after"] or 0 for r in formats]
        )
        + table(
            ["stored as", "pages", "bytes"], [[r["object_format"], r["pages"], human_bytes(r["bytes"])] for r in stored]
        )
        + "</section>",
        "<section><h2>Pages per document type</h2>"
        + table(
            ["document type", "documents", "pages", "most pages"],
            [[r["document_type"], r["documents"], r["pages"], r["most_pages"]] for r in per_type],
        )
        + "</section>",
        edms_section(prefix, run.get("run_id")),
        "<section><h2>Throughput</h2>"
        + f"<p><b>{pages_per_second:,.1f} pages per second</b>: {run.get('pages', 0):,} pages in {seconds:,.1f} s "
        f"(run {e(str(run.get('run_id', '?')))}, {e(str(run.get('started_at', '')))} → "
        f"{e(str(run.get('finished_at', '')))}).</p>" + "</section>",
        "<section><h2>Records that need a person</h2>"
        + f"<p><b>{misfiling['n']:,}</b> contents are filed under more than one patient "
        f"({misfiling['docs']:,} documents; table <code>review_misfiling</code>) and <b>{near['n']:,}</b> "
        "pairs of one patient's documents look alike without being identical "
        "(<code>review_near_duplicates</code>).</p></section>",
        f"<section><h2>Quarantined documents ({len(quarantined):,})</h2>"
        + (f'<ul class="q">{quarantine_items}</ul>' if quarantine_items else "<p>None.</p>")
        + (
            f"<p>The first {QUARANTINE_LINKS:,} of {totals['quarantined']:,}: the documents table has the rest.</p>"
            if totals["quarantined"] > QUARANTINE_LINKS
            else ""
        )
        + "</section>",
    ]
    title = f"Migration report — run {run.get('run_id', '?')}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title>'
        f"<style>{_CSS}</style></head><body><header><h1>{e(title)}</h1>"
        f"<div>{e(prefix)} · code {e(str(run.get('code_version', '?')))} · generated {generated}</div></header>"
        f"<main>{''.join(sections)}</main></body></html>\n"
    )


def revealed(prefix: str, html: str) -> str:
    """--show_identifiers: the quarantined documents the report lists, named by the ids in their records."""
    listed = rows(
        load_lineage(prefix),
        "SELECT quarantine_uri FROM documents WHERE status = 'quarantined' AND quarantine_uri IS NOT NULL "
        f"ORDER BY source_system, document_id LIMIT {QUARANTINE_LINKS}",
    )
    return reveal(html, identifiers_in_records(quarantine_record_of(row["quarantine_uri"]) for row in listed))


def write_report(prefix: str, destination: str | None = None, show_identifiers: bool = False) -> str:
    """The report replaces the last one: a view, not evidence. Under a bucket retention policy the archive refuses
    that, so the refusal is one line that points at --out. With identifiers it goes only outside the prefix."""
    target = check_destination(prefix, destination) if show_identifiers else destination or report_uri(prefix)
    try:
        html = build_report(prefix)
    except duckdb.Error as error:  # a damaged lineage file: name it, as every command does
        damaged = damaged_files(prefix)
        raise ReportError(damaged[0] if damaged else str(error).splitlines()[0]) from error
    try:
        write_all(target, (revealed(prefix, html) if show_identifiers else html).encode("utf-8"))
    except Exception as error:  # any file system's refusal: a replace under retention (403), a read-only folder
        hint = "" if destination else " (a bucket under a retention policy keeps the last report: pass --out FILE)"
        raise ReportError(f"cannot write {target}: {type(error).__name__}: {error}".splitlines()[0] + hint) from error
    return target
