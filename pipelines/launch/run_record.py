"""Recording a run once its pipeline has finished: the runs row, sealed into the chain, and loaded into BigQuery.

The row hashes the files the graph wrote, so it can only be made after them (transforms/lineage/chain.py).
A run whose pipeline raised records no row; the next run's row vouches for whatever lineage it left.
"""

from __future__ import annotations

import logging

from pipelines.console.usage import UsageError
from pipelines.launch.plan import MigrationPlan
from transforms.lineage.bigquery_load import LoadIntoBigQueryFn
from transforms.lineage.chain import chain_fields, run_recorded, write_runs_row
from transforms.lineage.runs import runs_row_from_summary

_LOGGER = logging.getLogger("edms_migrate")


def check_run_id_unused(plan: MigrationPlan) -> None:
    """A recorded run's files are evidence: a new run under its id would overwrite them."""
    if run_recorded(plan.output, plan.run_id):
        raise UsageError(f"run id {plan.run_id} is already recorded under {plan.output}: choose another --run_id")


def record_run(plan: MigrationPlan, summary: dict) -> str:
    """Write the run's runs row (with its chain fields) and, with --bigquery_dataset, load it; returns its URI."""
    row = runs_row_from_summary(summary, plan.run_info(), **chain_fields(plan.output))
    uri = write_runs_row(plan.output, plan.migration_key, plan.run_id, row)
    _LOGGER.info("run %s recorded: %d lineage file(s) sealed", plan.run_id, len(row["lineage_files"]))
    if plan.bigquery_dataset:  # the graph loaded every other table; the row is written after it
        loader = LoadIntoBigQueryFn(plan.bigquery_dataset, plan.run_id, plan.bigquery_location)
        loader.setup()
        list(loader.process([("runs", uri)]))
    return uri
