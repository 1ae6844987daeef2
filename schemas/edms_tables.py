"""The EDMS step's analyst-side review table: legacy types its records carry uncoded (schemas/tables.py lists it)."""

from __future__ import annotations

from schemas.table_model import Table, col

REVIEW_UNCODED_TYPES = Table(
    name="review_uncoded_types",
    description=(
        "Legacy document types this run's EDMS records carry as text only, with no SNOMED CT code: what to map "
        "in --fhir_config. One row per source system and type."
    ),
    columns=(
        col("run_id", "STRING", "The run that produced this row.", required=True),
        col("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        col("source_system", "STRING", "Legacy system the documents came from.", required=True),
        col("document_type", "STRING", "Document type recorded by the legacy system, any run of 10 digits redacted."),
        col("documents", "INT64", "Migrated documents of this type whose record has no SNOMED CT code.", required=True),
    ),
    cluster_columns=("source_system",),
)
