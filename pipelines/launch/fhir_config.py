"""--fhir_config, read and checked whole at launch (and by reconcile): anything wrong is one line and exit 2; the
run's EDMS settings, and the earlier records a run may supersede."""

from __future__ import annotations

from dataclasses import replace

from pipelines.console.usage import UsageError
from pipelines.launch.plan import MigrationPlan
from schemas.tables import EDMS_RECORD_INDEX
from transforms.edms.config import FhirConfig, FhirConfigError, load_fhir_config
from transforms.edms.earlier import document_reference_files
from transforms.edms.record import EdmsSettings
from transforms.lineage.runs import code_version
from transforms.sources.paths import absolute
from transforms.storage.listing import matched_paths
from transforms.storage.output_layout import edms_journal_pattern, fhir_folder, lineage_folder, table_history_pattern


def fhir_config(uri: str | None) -> FhirConfig:
    try:
        return load_fhir_config(absolute(uri) if uri else None)
    except FhirConfigError as error:
        raise UsageError(f"--fhir_config {uri}: {error}") from error


def with_edms(plan: MigrationPlan, uri: str | None) -> MigrationPlan:
    """The run's EDMS settings: its --fhir_config (checked whole), its start as every record's lastUpdated, the code
    as the agent."""
    edms = EdmsSettings(fhir_config(uri), plan.started_at, code_version())
    return replace(plan, settings=replace(plan.settings, edms=edms))


def with_earlier_records(plan: MigrationPlan, adopted: tuple[str, ...] = ()) -> MigrationPlan:
    """Earlier runs' DocumentReference files, listed before this run writes any: what it may supersede; the index
    of where their lines are (every run's under the output's lineage, this migration's or not); and the EDMS
    journals of the killed runs it adopts: the records they owed."""
    prefix = plan.settings.records_prefix
    earlier = tuple(document_reference_files(fhir_folder(prefix)))
    index = tuple(matched_paths(table_history_pattern(lineage_folder(plan.output), EDMS_RECORD_INDEX.name)))
    journals = tuple(path for run_id in adopted for path in sorted(matched_paths(edms_journal_pattern(prefix, run_id))))
    edms = replace(
        plan.settings.edms, earlier_files=earlier, index_files=index if earlier else (), adopted_journals=journals
    )
    return replace(plan, settings=replace(plan.settings, edms=edms))
