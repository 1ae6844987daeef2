"""OpenLineage START and COMPLETE/FAIL events for a run, through openlineage-python.

Configured the OpenLineage way (openlineage.yml, OPENLINEAGE_CONFIG, OPENLINEAGE_URL or OPENLINEAGE__TRANSPORT__*
variables), the client sends them wherever that says. With no configuration, each event is written once, as one
JSON line in its own file, PREFIX/lineage/openlineage-<run>-<1-START | 2-COMPLETE | 2-FAIL>.jsonl (through Beam's
FileSystems, so gs:// too): every run leaves its events beside its tables, in name order, and no file is ever
rewritten, which a bucket under a retention policy would refuse. The launcher emits them: it is where a run starts
and, when it waits, where its end is known; when nobody waits (--detached, a Flex Template launch), the job's final
step ends the run (pipelines/launch/job_lineage.py).
Events carry counts and names only — never an NHS number.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import traceback
import uuid
from typing import Any

import attr
from apache_beam.io.filesystems import FileSystems
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    error_message_run,
    output_statistics_output_dataset,
    schema_dataset,
)
from openlineage.client.generated.base import RunFacet
from openlineage.client.serde import Serde

from schemas.tables import TABLES, Table
from transforms.storage.listing import matched_paths
from transforms.storage.objects import read_all, write_once
from transforms.storage.output_layout import (
    lineage_folder,
    objects_folder,
    openlineage_events_pattern,
    openlineage_events_uri,
)

_LOGGER = logging.getLogger(__name__)
NAMESPACE = "edms-migrate"
PRODUCER = "https://github.com/edms-migrate/edms-migrate"
_RUN_NAMESPACE = uuid.UUID("7f1d8a52-3c1e-4d5b-9a57-2b1f0c9e6a10")


@attr.define
class OutcomesRunFacet(RunFacet):
    """The run's outcome counts, in total and per source system, and whether they balance."""

    totals: dict[str, int] = attr.field(factory=dict)
    sources: dict[str, dict[str, Any]] = attr.field(factory=dict)
    balanced: bool | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return "https://github.com/edms-migrate/edms-migrate/blob/main/docs/lineage.md#openlineage"


def openlineage_configured(environ: dict[str, str] | None = None) -> bool:
    """True when openlineage-python has a configuration of its own to follow."""
    environ = dict(os.environ if environ is None else environ)
    if any(name.startswith("OPENLINEAGE__") for name in environ) or environ.get("OPENLINEAGE_URL"):
        return True
    if environ.get("OPENLINEAGE_CONFIG"):
        return True
    candidates = (os.path.join(os.getcwd(), "openlineage.yml"), os.path.expanduser("~/.openlineage/openlineage.yml"))
    return any(os.path.isfile(path) for path in candidates)


def dataset_name(uri: str) -> tuple[str, str]:
    """OpenLineage naming: gs://bucket/path → (gs://bucket, path); a local path → (file, path)."""
    if uri.startswith("gs://"):
        bucket, _, path = uri[5:].partition("/")
        return f"gs://{bucket}", path
    return "file", uri


def events_uri(output_prefix: str, run_id: str, state: RunState) -> str:
    """START sorts before the run's end: concatenated in name order, a run's files are its event stream."""
    order = 1 if state == RunState.START else 2
    return openlineage_events_uri(output_prefix, run_id, order, state.value)


def written_events(output_prefix: str, run_id: str) -> list[dict[str, Any]]:
    """The events a run wrote without an OpenLineage configuration, in order."""
    uris = matched_paths(openlineage_events_pattern(output_prefix, run_id))
    return [json.loads(line) for uri in uris for line in read_all(uri).decode("utf-8").splitlines() if line.strip()]


def _schema_facet(table: Table) -> schema_dataset.SchemaDatasetFacet:
    fields = [
        schema_dataset.SchemaDatasetFacetFields(
            name=column.name, type=f"ARRAY<{column.type}>" if column.repeated else column.type
        )
        for column in table.columns
    ]
    return schema_dataset.SchemaDatasetFacet(fields=fields)


class RunLineage:
    """One run's events: start(), then complete(summary) or fail(error)."""

    def __init__(
        self,
        *,
        run_id: str,
        migration_key: str,
        manifests: tuple[str, ...],
        output_prefix: str,
        bigquery_dataset: str | None = None,
        client: OpenLineageClient | None = None,
    ) -> None:
        self.run_id = run_id
        self.run_uuid = str(uuid.uuid5(_RUN_NAMESPACE, f"{migration_key}/{run_id}"))  # deterministic per run
        self.job = Job(namespace=NAMESPACE, name=f"migration-{migration_key}")
        self.manifests = manifests
        self.output_prefix = output_prefix
        self.bigquery_dataset = bigquery_dataset
        self.client = client if client is not None else (OpenLineageClient() if openlineage_configured() else None)

    def _inputs(self) -> list[InputDataset]:
        return [InputDataset(*dataset_name(uri)) for uri in self.manifests]

    def _outputs(self, row_counts: dict[str, int] | None = None) -> list[OutputDataset]:
        outputs = [OutputDataset(*dataset_name(objects_folder(self.output_prefix)))]
        for table in TABLES:
            facets: dict[str, Any] = {"schema": _schema_facet(table)}
            statistics = {}
            if row_counts is not None and table.name in row_counts:
                statistics = {
                    "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                        rowCount=row_counts[table.name]
                    )
                }
            parquet = FileSystems.join(lineage_folder(self.output_prefix), table.name)
            outputs.append(OutputDataset(*dataset_name(parquet), facets=facets, outputFacets=statistics))
            if self.bigquery_dataset:
                name = f"{self.bigquery_dataset}.{table.name}"
                outputs.append(OutputDataset("bigquery", name, facets=facets, outputFacets=statistics))
        return outputs

    def _emit(self, state: RunState, run_facets: dict[str, Any], row_counts: dict[str, int] | None = None) -> None:
        event = RunEvent(
            eventType=state,
            eventTime=dt.datetime.now(dt.UTC).isoformat(),
            run=Run(runId=self.run_uuid, facets=run_facets),
            job=self.job,
            inputs=self._inputs(),
            outputs=self._outputs(row_counts),
            producer=PRODUCER,
        )
        if self.client is not None:
            self.client.emit(event)
            return
        # Once: a retried final step finds its event already there and keeps it.
        write_once(events_uri(self.output_prefix, self.run_id, state), (Serde.to_json(event) + "\n").encode())

    def start(self) -> None:
        self._emit(RunState.START, {})
        if self.client is None:  # each event goes to its own file under lineage/
            where = openlineage_events_pattern(self.output_prefix, self.run_id)
            _LOGGER.info("OpenLineage events: %s (no OpenLineage configuration found)", where)

    def complete(self, summary: dict[str, Any]) -> None:
        self.finish(summary, None if summary["balanced"] else "documents in ≠ documents out for some source system")

    def finish(self, summary: dict[str, Any], error: str | None) -> None:
        """COMPLETE with the outcome counts, or FAIL with them and the error (a failed check of the run)."""
        totals = summary["totals"]
        facet = OutcomesRunFacet(
            totals=dict(totals),
            sources={source: dict(entry) for source, entry in summary["sources"].items()},
            balanced=summary["balanced"],
        )
        rows = {"documents": totals["manifest_documents"], "pages": totals["pages"], "runs": 1}
        if error is None:
            self._emit(RunState.COMPLETE, {"edms_outcomes": facet}, rows)
        else:
            message = error_message_run.ErrorMessageRunFacet(message=error, programmingLanguage="python")
            self._emit(RunState.FAIL, {"edms_outcomes": facet, "errorMessage": message}, rows)

    def fail(self, error: BaseException) -> None:
        facet = error_message_run.ErrorMessageRunFacet(
            message=f"{type(error).__name__}: {error}"[:2000],
            programmingLanguage="python",
            stackTrace="".join(traceback.format_exception(error, limit=5))[:8000],
        )
        self._emit(RunState.FAIL, {"errorMessage": facet})
