"""The report's "EDMS records" section: per source system, coded versus uncoded document types and the
confidentiality mix of the records the run wrote, and the uncoded types to map (from PREFIX/fhir/summary-<run>.json;
the type texts redacted, as everything in the report is analyst side)."""

from __future__ import annotations

import sys

from pipelines.reports.charts import table
from transforms.edms.codes import CONFIDENTIALITY_ORDER
from transforms.edms.summary import read_summary
from transforms.privacy.redact import redact
from transforms.storage.output_layout import fhir_folder

#: Uncoded types listed at most (the summary has them all).
LISTED_TYPES = 20


def edms_section(prefix: str, run_id: str | None) -> str:
    summary = read_summary(fhir_folder(prefix), run_id) if run_id else None
    if summary is None:
        return (
            "<section><h2>EDMS records</h2><p>No EDMS summary for this run under this prefix (records written "
            "elsewhere with --index_output, or none).</p></section>"
        )
    labels = [
        code
        for code in reversed(CONFIDENTIALITY_ORDER)
        if any(code in s["labels"] for s in summary["by_source"].values())
    ]
    body = [
        [source, entry["coded"], entry["uncoded"], *(entry["labels"].get(code, 0) for code in labels)]
        for source, entry in sorted(summary["by_source"].items())
    ]
    uncoded = sorted(summary["uncoded_types"], key=lambda entry: -entry["documents"])[:LISTED_TYPES]
    invalid = summary["invalid"]
    return (
        "<section><h2>EDMS records (FHIR DocumentReference)</h2>"
        f"<p><b>{summary['document_references']:,}</b> DocumentReferences in {len(summary['files'])} NDJSON file(s); "
        f"<b>{len(invalid):,}</b> failed a rule and were not written.</p>"
        + table(["source system", "SNOMED CT type", "uncoded type", *(f"label {code}" for code in labels)], body)
        + (
            "<p>Uncoded types to map in --fhir_config:</p>"
            + table(
                ["source system", "document type", "documents"],
                [[u["source_system"], redact(u["document_type"]), u["documents"]] for u in uncoded],
            )
            if uncoded
            else ""
        )
        + "</section>"
    )


def edms_line(edms: dict | None, folder: str) -> str:
    if edms is None:
        return f"EDMS:       no records written ({folder})"
    coded = sum(entry["coded"] for entry in edms["by_source"].values())
    uncoded = sum(entry["uncoded"] for entry in edms["by_source"].values())
    return (
        f"EDMS:       {edms['document_references']:,} DocumentReference(s) ({coded:,} with a SNOMED CT type, "
        f"{uncoded:,} uncoded: {len(edms['uncoded_types'])} type(s) to review) in {len(edms['files'])} NDJSON "
        f"file(s) under {folder}"
    )


def edms_verdict(edms: dict | None) -> int:
    """1 when a resource failed a rule (it was not written), naming each document and rule."""
    failures = (edms or {}).get("invalid", [])
    for failure in failures:
        print(f"ERROR: EDMS record not written: {failure}", file=sys.stderr)
    return 1 if failures else 0
