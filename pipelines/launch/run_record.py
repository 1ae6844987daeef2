"""Recording a run once its pipeline has finished: the runs row, sealed into the chain, and loaded into BigQuery.

The row hashes the files the graph wrote, so it can only be made after them (transforms/lineage/chain.py).
A run whose pipeline raised records no row; the next run's row vouches for whatever lineage it left.
"""

from __future__ import annotations

import logging

from pipelines.console.usage import UsageError
from pipelines.evidence.reconcile_records import anchors
from pipelines.launch.plan import MigrationPlan
from transforms.lineage.adoption import lineage_problems
from transforms.lineage.bigquery_load import LoadIntoBigQueryFn
from transforms.lineage.chain import chain_fields, run_recorded, write_runs_row
from transforms.lineage.edms_seal import edms_fields, edms_problems
from transforms.lineage.runs import runs_row_from_summary
from transforms.privacy.evidence_key import evidence_key
from transforms.privacy.key_source import PatientKeyError, load_key

_LOGGER = logging.getLogger("edms_migrate")


def check_run_id_unused(plan: MigrationPlan) -> None:
    """A recorded run's files are evidence: a new run under its id would overwrite them."""
    if run_recorded(plan.output, plan.run_id):
        raise UsageError(f"run id {plan.run_id} is already recorded under {plan.output}: choose another --run_id")


def launcher_evidence_key(plan: MigrationPlan) -> bytes:
    """The evidence key, in the launcher: it checks the lineage before the run and signs the runs row after. It is
    fetched from where the patient key is (so a Secret Manager key needs the launching identity to read it too),
    and never enters the job graph: workers derive it themselves in setup()."""
    try:
        return evidence_key(load_key(plan.settings.patient_key))
    except PatientKeyError as error:
        raise UsageError(str(error)) from error


def check_lineage(plan: MigrationPlan, key: bytes, adoptable: tuple[str, ...]) -> None:
    """Before any document is read: the lineage, and the EDMS records under fhir/, hold only sealed runs' files and
    those of the killed runs the lease names."""
    problems = lineage_problems(plan.output, key, plan.run_id, adoptable, anchors(plan.output))
    problems += edms_problems(plan.output, plan.settings.records_prefix, key, plan.run_id, adoptable)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise UsageError(f"refusing to run: {problems[0]}{more}")
    if adoptable:
        _LOGGER.info("resuming the lineage of killed run(s) %s", ", ".join(adoptable))


def record_run(plan: MigrationPlan, summary: dict, key: bytes | None = None, lease: str | None = None) -> str:
    """Write the run's runs row (with its chain fields, the EDMS files it vouches for, and what it held of the
    lease), signed with the evidence key, and, with --bigquery_dataset, load it; returns its URI."""
    edms = edms_fields(plan.output, plan.settings.records_prefix, (plan.run_id, *plan.adopted), key)
    row = runs_row_from_summary(summary, plan.run_info(), lease=lease, **chain_fields(plan.output), **edms)
    uri = write_runs_row(plan.output, plan.migration_key, plan.run_id, row, key)
    sealed = (len(row["lineage_files"]), len(row["edms_files"]))
    _LOGGER.info("run %s recorded: %d lineage file(s) and %d EDMS file(s) sealed", plan.run_id, *sealed)
    if plan.bigquery_dataset:  # the graph loaded every other table; the row is written after it
        loader = LoadIntoBigQueryFn(plan.bigquery_dataset, plan.run_id, plan.bigquery_location)
        loader.setup()
        list(loader.process([("runs", uri)]))
    return uri
