"""The EDMS step's lineage tables (schemas/tables.py lists them): legacy types its records carry uncoded, for review;
and where each DocumentReference line is, so a later run finds an earlier record without reading every file."""

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

EDMS_RECORD_INDEX = Table(
    name="edms_record_index",
    description=(
        "Where each DocumentReference line this run wrote is: its file under the records prefix's fhir/ and its "
        "byte range, found by the record's own legacy identifier. A later run that supersedes a record, or adds a "
        "duplicate's identifier to it, reads these columns for the documents it wants and fetches only their "
        "lines. One row per line; no patient identifier (the document id as lineage names it, the resource id an "
        "HMAC)."
    ),
    columns=(
        col("run_id", "STRING", "The run that wrote the line.", required=True),
        col("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        col("identifier_system", "STRING", "The system of the record's own (first) identifier.", required=True),
        col(
            "document_id",
            "STRING",
            "Its value, the legacy document id as lineage names it (pseudonymised where it held an identifier).",
            required=True,
        ),
        col("resource_id", "STRING", "The DocumentReference's id.", required=True),
        col("file", "STRING", "The NDJSON file's name under the records prefix's fhir/ folder.", required=True),
        col("byte_offset", "INT64", "Where the line starts in the file.", required=True),
        col("byte_length", "INT64", "The line's length in bytes, without its newline.", required=True),
        col("last_updated", "STRING", "The line's meta.lastUpdated (UTC: text order is time order).", required=True),
        col("status", "STRING", "The line's status: current or superseded.", required=True),
    ),
    cluster_columns=("identifier_system", "document_id"),
)
