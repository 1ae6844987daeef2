"""The run summary: per source system, documents in, each outcome, pages and bytes — and the invariant.

Manifest rows are counted straight from the parse step, outcomes at the very end,
so a document lost anywhere between shows as an unbalanced source system.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import apache_beam as beam

from schemas.reasons import Reason
from schemas.records import RecordedOutcome, Status
from transforms.selection.tallies import MergeTalliesGlobally, Tallies, Tally, merge_tallies
from transforms.storage.emulators import StorageDoFn
from transforms.storage.signed_files import SigningKey, write_signed_once

#: What the summary counts per source system; a run's documents = its outcomes + already done + deferred.
COUNTED = (
    "manifest_documents",
    *Status.ALL,
    "already_done",
    "deferred",
    "source_gone",
    "pages",
    "bytes_in",
    "bytes_out",
    "objects_written",
)
#: The summary names at most this many unparsable stretches per source; lineage has every one.
UNPARSABLE_LISTED = 20


def tally_outcome(outcome: RecordedOutcome) -> Tally:
    counts = Counter({outcome.status: 1, "bytes_in": outcome.source_bytes, "objects_written": outcome.objects_written})
    if outcome.status == Status.MIGRATED:  # a PDF: all its pages
        counts.update(pages=outcome.page_count or 0, bytes_out=outcome.object_bytes or 0)
    counts.update(f"reason:{reason}" for reason in outcome.reasons)
    if Reason.MANIFEST_UNPARSABLE in outcome.reasons:  # the launcher names the file and line when it fails the run
        counts[f"unparsable:{outcome.manifest_uri} ({outcome.document_id})"] = 1  # its id names the line
    return outcome.source_system, counts


def summary_document(tallies: Tallies, run_id: str) -> dict[str, Any]:
    sources = {}
    for source in sorted(tallies):
        counts = tallies[source]
        entry = {key: counts.get(key, 0) for key in COUNTED}
        entry["reasons"] = {key.split(":", 1)[1]: n for key, n in sorted(counts.items()) if key.startswith("reason:")}
        entry["unparsable"] = sorted(key.split(":", 1)[1] for key in counts if key.startswith("unparsable:"))[
            :UNPARSABLE_LISTED
        ]
        entry["profiles"] = {key.split(":", 1)[1]: n for key, n in sorted(counts.items()) if key.startswith("profile:")}
        accounted = sum(entry[status] for status in Status.ALL) + entry["already_done"] + entry["deferred"]
        entry["balanced"] = entry["manifest_documents"] == accounted
        sources[source] = entry
    totals = {key: sum(entry[key] for entry in sources.values()) for key in COUNTED}
    return {
        "run_id": run_id,
        "sources": sources,
        "totals": totals,
        "balanced": all(entry["balanced"] for entry in sources.values()),
    }


class WriteSummaryFn(StorageDoFn):
    def __init__(self, summary_uri: str, run_id: str, key: SigningKey | None = None) -> None:
        self.summary_uri = summary_uri
        self.run_id = run_id
        self.key_ref = key

    def setup(self) -> None:
        super().setup()
        self.key = self.key_ref.key() if self.key_ref is not None else None

    def process(self, tallies: Tallies) -> Iterable[str]:
        summary = summary_document(tallies, self.run_id)
        data = json.dumps(summary, indent=2, sort_keys=True).encode()
        yield write_signed_once(self.summary_uri, data, getattr(self, "key", None))  # a retry keeps it


class SummariseRun(beam.PTransform):
    """(merged tallies from selection, final outcomes) → a summary JSON file; yields its URI and the tallies.

    Documents are counted where they are selected, outcomes at the very end, so a document lost anywhere between
    shows as an unbalanced source system."""

    def __init__(self, summary_uri: str, run_id: str, key: SigningKey | None = None) -> None:
        super().__init__()
        self.summary_uri = summary_uri
        self.run_id = run_id
        self.key = key

    def expand(self, inputs: tuple[beam.PCollection[Tallies], beam.PCollection[RecordedOutcome]]):
        counted, outcomes, *settled = inputs  # settled: de-duplication's late rows, counted as this run's
        results = outcomes | "TallyOutcomes" >> beam.Map(tally_outcome) | "MergeOutcomes" >> MergeTalliesGlobally()
        tallies = (
            (counted, results, *settled)
            | "AllTallies" >> beam.Flatten()
            | "MergeTallies" >> beam.CombineGlobally(merge_tallies)
        )
        summary = tallies | "WriteSummary" >> beam.ParDo(WriteSummaryFn(self.summary_uri, self.run_id, self.key))
        return {"summary": summary, "tallies": tallies}


def check_failure(summary: dict[str, Any], max_quarantine_rate: float) -> str | None:
    """Why a finished run fails its own checks, as one sentence, or None: what the launcher prints, and what a
    detached job's final step reports in its FAIL event. Checked before anything of an earlier run is touched."""
    if not summary["balanced"]:
        return "documents in ≠ documents out for some source system"
    sources = summary.get("sources", {}).values()
    unparsable = [where for entry in sources for where in entry.get("unparsable", ())]
    if unparsable:
        more = f" and {len(unparsable) - 1} more place(s)" if len(unparsable) > 1 else ""
        return f"an index could not be parsed to its end at {unparsable[0]}{more} (MANIFEST_UNPARSABLE)"
    unavailable = sum(entry["reasons"].get(Reason.SOURCE_UNAVAILABLE, 0) for entry in sources)
    if unavailable:
        return (
            f"{unavailable:,} document(s) could not be read from their store (SOURCE_UNAVAILABLE: permission, "
            "credentials, network or an unmounted share)"
        )
    totals = summary["totals"]
    rate = totals["quarantined"] / totals["manifest_documents"] if totals["manifest_documents"] else 0.0
    if rate > max_quarantine_rate:
        return f"{rate:.0%} of documents were quarantined, over --max_quarantine_rate {max_quarantine_rate:g}"
    return None
