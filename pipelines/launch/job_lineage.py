"""Lineage from a detached job: when no launcher waits for the run (--detached, as a Flex Template launch is), the
job's own final step emits the OpenLineage COMPLETE or FAIL event the launcher would have.

The step waits for every output of the run (each table's files, the summary, the BigQuery loads) as side inputs,
so it runs last; it rebuilds the summary from the run's tallies and applies the launcher's checks: documents in =
documents out for every source, and no more than --max_quarantine_rate quarantined. A failed check is a FAIL
event and an ERROR log line; the job itself is not failed, since its outputs are written and a retry would only
repeat the event. A job that crashes before its end emits nothing from here: Dataflow's job state says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from pipelines.launch.openlineage_events import RunLineage
from transforms.lineage.summary import check_failure, summary_document
from transforms.storage.emulators import StorageDoFn

_LOGGER = logging.getLogger("edms_migrate")


class EmitRunEventFn(StorageDoFn):
    """The run's merged tallies in (one element), its COMPLETE or FAIL event out; side inputs only make it wait."""

    def __init__(self, lineage: dict[str, Any], run_id: str, max_quarantine_rate: float) -> None:
        self.lineage = lineage  # RunLineage's arguments: names and URIs only
        self.run_id = run_id
        self.max_quarantine_rate = max_quarantine_rate

    def process(self, tallies: dict, *finished_outputs: list) -> Iterator[str]:
        summary = summary_document(tallies, self.run_id)
        error = check_failure(summary, self.max_quarantine_rate)
        RunLineage(**self.lineage).finish(summary, error)
        if error:
            _LOGGER.error("run %s failed its checks: %s (lineage is written: read the reasons)", self.run_id, error)
        yield "FAIL" if error else "COMPLETE"


class EmitRunEvent(beam.PTransform):
    """tallies → the run's final OpenLineage event, after every PCollection in `waits_for` is complete."""

    def __init__(self, lineage: dict[str, Any], run_id: str, max_rate: float, waits_for: list) -> None:
        super().__init__()
        self.fn = EmitRunEventFn(lineage, run_id, max_rate)
        self.waits_for = waits_for

    def expand(self, tallies: beam.PCollection) -> beam.PCollection[str]:
        waits = [beam.pvalue.AsList(collection) for collection in self.waits_for]
        return tallies | "Emit" >> beam.ParDo(self.fn, *waits)


def submitted_message(result: Any, output: str) -> str:
    """What a detached launch prints: the job, and where its end will be recorded."""
    job_id = getattr(result, "job_id", lambda: None)()
    where = f"job {job_id}" if job_id else f"the job (state {result.state})"
    return (
        f"submitted {where}; not waiting (--detached). Its final step emits the OpenLineage COMPLETE or FAIL event; "
        f"the summary will be under {output}/lineage/"
    )
