"""build(): the whole migration as an unrun Beam graph, from a plan. Nothing here launches or prints.

sources → per-document migration → de-duplication → EDMS records (FHIR NDJSON), lineage, summary, review
tables, orphans (→ BigQuery).
Every source of the run meets in one graph, so de-duplication spans them all. The runs row is not here: it seals
the files the graph writes (transforms/lineage/chain.py), so the launcher records it once the graph has run.
"""

from __future__ import annotations

import apache_beam as beam

from pipelines.launch.job_lineage import EmitRunEvent
from pipelines.launch.plan import MigrationPlan
from schemas.tables import EDMS_RECORD_INDEX, ORPHANS, REVIEW_UNCODED_TYPES, TABLES_BY_NAME
from transforms.dedupe.resolve import LATE, LATE_TALLIES, DeduplicateDocuments
from transforms.dedupe.review import FindRecordsForReview
from transforms.edms.reissue import merge_canonical
from transforms.edms.write import WriteEdmsRecords
from transforms.lineage.bigquery_load import LoadIntoBigQuery
from transforms.lineage.orphans import FindOrphans
from transforms.lineage.summary import SummariseRun
from transforms.lineage.tables import WriteLineage, WriteParquetTable
from transforms.migrate.document_step import MigrateDocuments
from transforms.privacy.evidence_key import evidence_key_source
from transforms.privacy.pseudonyms import PrivacySettings
from transforms.selection.decide import ADOPTED, EARLIER, TALLIES
from transforms.selection.select import OUTSTANDING, SelectDocuments
from transforms.sources.read import ReadSources
from transforms.storage.output_layout import summary_uri


def build(pipeline: beam.Pipeline, plan: MigrationPlan) -> dict[str, beam.PCollection]:
    """The whole graph, not run. Documents are counted where they are selected, after page-per-row rows are
    assembled, so the summary's invariant is documents in = outcomes + already done + deferred."""
    if not plan.settings.patient_key:
        raise ValueError("the plan has no patient key: resolve it with with_patient_key() first")
    privacy = PrivacySettings(plan.settings.patient_key, plan.settings.local_identifiers)
    rows = pipeline | "ReadSources" >> ReadSources(list(plan.sources), privacy=privacy)
    selected = rows | "Select" >> SelectDocuments(
        plan.history, plan.access_log, plan.max_documents, privacy, plan.adopted
    )
    outcomes = selected[OUTSTANDING] | "Migrate" >> MigrateDocuments(plan.settings)
    deduplicated = (outcomes, selected[EARLIER]) | "Deduplicate" >> DeduplicateDocuments(merge_canonical)
    final, settled = deduplicated["outcomes"], deduplicated[LATE]
    settings = plan.settings
    edms = (final, selected[ADOPTED], settled) | "EDMS" >> WriteEdmsRecords(
        settings.records_prefix,
        plan.run_id,
        settings.edms,
        settings.patient_key,
        settings.edms.earlier_files,
        local_identifiers=settings.local_identifiers,
        adopted_journals=settings.edms.adopted_journals if plan.adopted else None,
    )
    info = plan.run_info()

    def table_writer(table):
        return WriteParquetTable(plan.output, table, plan.migration_key, plan.run_id, info.run_date, signing)

    signing = evidence_key_source(plan.settings.patient_key)  # every lineage file is signed with the evidence key
    tables = (final, settled) | "Lineage" >> WriteLineage(
        plan.output, plan.migration_key, plan.run_id, info.run_date, signing
    )
    summary = (selected[TALLIES], final, deduplicated[LATE_TALLIES]) | "Summary" >> SummariseRun(
        summary_uri(plan.output, plan.migration_key, plan.run_id), plan.run_id, signing
    )
    review = final | "Review" >> FindRecordsForReview(plan.run_id)
    review[REVIEW_UNCODED_TYPES.name] = edms[REVIEW_UNCODED_TYPES.name]
    review[EDMS_RECORD_INDEX.name] = edms[EDMS_RECORD_INDEX.name]  # where each record's line is, for later runs
    for name, review_rows in review.items():
        tables[name] = review_rows | f"Write_{name}" >> table_writer(TABLES_BY_NAME[name])
    if plan.blob_roots:
        excluded = (*plan.manifests, *plan.profile_uris)
        tables["orphans"] = (
            rows
            | "Orphans" >> FindOrphans(list(plan.blob_roots), plan.run_id, excluded, privacy)
            | "WriteOrphans" >> table_writer(ORPHANS)
        )
    graph = {"outcomes": final, "summary": summary["summary"], "edms_summary": edms["summary"], **tables}
    if plan.bigquery_dataset:
        graph["bigquery_jobs"] = tables | "BigQuery" >> LoadIntoBigQuery(
            plan.bigquery_dataset, plan.run_id, plan.bigquery_location
        )
    if plan.detached:  # nobody waits: the run's end event comes from its last step
        waits = [collection for name, collection in graph.items() if name != "outcomes"]
        graph["run_event"] = summary["tallies"] | "RunEvent" >> EmitRunEvent(
            plan.lineage_arguments(), plan.run_id, plan.max_quarantine_rate, waits
        )
    return graph
