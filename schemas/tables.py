"""The lineage tables, defined once.

Each table is a tuple of columns in a tiny type vocabulary; the Arrow schema for
Parquet, the BigQuery schema and the column lists in docs/lineage.md are all derived from it,
so the engines can never disagree about a column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

_ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "BOOL": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    required: bool = False
    repeated: bool = False

    def arrow_field(self) -> pa.Field:
        value_type = _ARROW_TYPES[self.type]
        if self.repeated:
            return pa.field(self.name, pa.list_(value_type), nullable=False)
        return pa.field(self.name, value_type, nullable=not self.required)

    def bigquery_field(self) -> dict[str, str]:
        mode = "REPEATED" if self.repeated else ("REQUIRED" if self.required else "NULLABLE")
        return {"name": self.name, "type": self.type, "mode": mode, "description": self.description}


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([column.arrow_field() for column in self.columns])

    def bigquery_schema(self) -> list[dict[str, str]]:
        return [column.bigquery_field() for column in self.columns]

    #: BigQuery layout: partitioned by the run's date, clustered for the common questions.
    partition_column: str = "run_date"
    cluster_columns: tuple[str, ...] = ()

    def row(self, **values: Any) -> dict[str, Any]:
        """A row with every column present; unknown names are a programming error, caught here."""
        unknown = set(values) - set(self.column_names)
        if unknown:
            raise KeyError(f"{self.name} has no columns {sorted(unknown)}")
        row = {column.name: values.get(column.name, [] if column.repeated else None) for column in self.columns}
        missing = [column.name for column in self.columns if column.required and row[column.name] is None]
        if missing:
            raise ValueError(f"{self.name} row lacks required {missing}")
        return row


def _c(name: str, type_: str, description: str, **flags: bool) -> Column:
    return Column(name, type_, description, **flags)


DOCUMENTS = Table(
    name="documents",
    description="One row per manifest document and its single outcome: migrated, duplicate or quarantined.",
    columns=(
        _c("run_id", "STRING", "The run that produced this row.", required=True),
        _c("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        _c("source_system", "STRING", "Legacy system the document came from.", required=True),
        _c(
            "document_id",
            "STRING",
            "Id within its source system (row-N when the manifest row had none).",
            required=True,
        ),
        _c("status", "STRING", "migrated, duplicate or quarantined.", required=True),
        _c("reasons", "STRING", "Quarantine reason codes (see docs/governance.md).", repeated=True),
        _c("reason_messages", "STRING", "A readable message per reason code, same order.", repeated=True),
        _c("duplicate_of", "STRING", "SOURCE_SYSTEM/DOCUMENT_ID of the canonical document, for duplicates."),
        _c("manifest_uri", "STRING", "Manifest the row was read from."),
        _c(
            "manifest_row",
            "INT64",
            "1-based data row (or DIP record) in the manifest; page-per-row: the document's first row.",
        ),
        _c("nhs_number_status", "STRING", "valid, invalid or missing. The number itself is never stored here."),
        _c(
            "nhs_number_scheme",
            "STRING",
            "For valid numbers: nhs (England/Wales), chi (Scotland), hc (N. Ireland), test, other.",
        ),
        _c(
            "patient_key",
            "STRING",
            "Pseudonym of a valid NHS number: hex HMAC-SHA256 under the run's patient key (see Privacy).",
        ),
        _c("document_type", "STRING", "Document type recorded by the legacy system."),
        _c("document_date", "DATE", "Document date recorded by the legacy system."),
        _c("recorded_page_count", "INT64", "Page count the legacy system recorded."),
        _c("page_count", "INT64", "Pages decoded from the image, or counted in the PDF."),
        _c(
            "source_format",
            "STRING",
            "Format sniffed from the bytes: TIFF, JPEG, PNG, …, PDF (quarantined documents: also EPS, DOCX, ZIP, …).",
        ),
        _c("source_compression", "STRING", "Compression of the first page as decoded (group4, tiff_lzw, jpeg, …)."),
        _c("blob_uri", "STRING", "Resolved location of the legacy blob."),
        _c("byte_offset", "INT64", "Start of the document's byte range in the blob."),
        _c("byte_length", "INT64", "Length of the document's byte range."),
        _c("source_bytes", "INT64", "Bytes read from the legacy store."),
        _c(
            "source_sha256",
            "STRING",
            "SHA-256 of the document's exact legacy bytes (page-per-row: its page files concatenated in page order).",
        ),
        _c(
            "content_sha256",
            "STRING",
            "SHA-256 over the pages' pixel hashes in order (a PDF: over 'pdf', a NUL and its bytes): equal content, "
            "equal value.",
        ),
        _c("object_bytes", "INT64", "Bytes of the stored page objects (a PDF: its one object)."),
        _c("quarantine_uri", "STRING", "Where the original bytes were copied, for quarantined documents."),
        _c("metadata_json", "STRING", "Other manifest columns, as a JSON object."),
        _c("source_profile", "STRING", "Source profile the document was read through (canonical for --manifest)."),
        _c("page_files", "INT64", "Page-per-row sources: how many page files (rows) the document was assembled from."),
        _c(
            "legacy_header_bytes",
            "INT64",
            "Bytes of proprietary header (FileNet-style) skipped before the image signature, summed over page files.",
        ),
    ),
    cluster_columns=("source_system", "status", "patient_key"),
)

PAGES = Table(
    name="pages",
    description="One row per stored object of a migrated document: each page of an image, or a whole PDF (page 1).",
    columns=(
        _c("run_id", "STRING", "The run that produced this row.", required=True),
        _c("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        _c("source_system", "STRING", "Legacy system the document came from.", required=True),
        _c("document_id", "STRING", "Id within its source system.", required=True),
        _c("page_number", "INT64", "1-based page number within the document (a PDF's one object: 1).", required=True),
        _c("object_uri", "STRING", "Absolute URI of the stored page object (or PDF).", required=True),
        _c("object_sha256", "STRING", "SHA-256 of the stored object's bytes (its name).", required=True),
        _c(
            "object_format",
            "STRING",
            "Encoding of the stored object (TIFF/CCITT-G4, PNG, JPEG/original, …; PDF, kept byte for byte).",
            required=True,
        ),
        _c("object_bytes", "INT64", "Size of the stored object.", required=True),
        _c("pixel_sha256", "STRING", "SHA-256 of the page's decoded pixels in canonical form; null for a PDF."),
        _c("width", "INT64", "Width in pixels; null for a PDF."),
        _c("height", "INT64", "Height in pixels; null for a PDF."),
        _c("mode", "STRING", "Pillow pixel mode, kept unchanged from the source (1, L, RGB, …); null for a PDF."),
        _c("dpi", "FLOAT64", "Horizontal resolution in dots per inch, when the source recorded one."),
        _c("dpi_y", "FLOAT64", "Vertical resolution in dots per inch, when the source recorded one."),
        _c(
            "orientation",
            "INT64",
            "Source EXIF/TIFF orientation 1-8: TIFF pages are stored upright, others carry it.",
        ),
        _c("icc_profile_sha256", "STRING", "SHA-256 of the embedded ICC profile, carried on the object; null if none."),
        _c("source_compression", "STRING", "Compression of the page in the legacy file."),
        _c("ink_coverage", "FLOAT64", "Fraction of the page darker than mid-grey; null for a PDF."),
        _c(
            "flags",
            "STRING",
            "Checks for a reviewer, never a reason to drop a page: blank, inverted, low_dpi.",
            repeated=True,
        ),
        _c("perceptual_hash", "STRING", "256-bit pHash of the page (64 hex digits): near for rescans and re-saves."),
    ),
    cluster_columns=("source_system", "object_format"),
)

RUNS = Table(
    name="runs",
    description="One row per run: when, with what code, options and inputs, and how many of each outcome.",
    columns=(
        _c("run_id", "STRING", "The run this row describes.", required=True),
        _c("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column.", required=True),
        _c("started_at", "TIMESTAMP", "When the launcher started the run (UTC).", required=True),
        _c("finished_at", "TIMESTAMP", "When the run's outcomes were all counted (UTC).", required=True),
        _c("migration_key", "STRING", "Identifies the migration: the manifests and the output prefix.", required=True),
        _c(
            "output_prefix",
            "STRING",
            "Where objects, index records and lineage went.",
            required=True,
        ),
        _c("manifests", "STRING", "The manifests read, as URIs.", repeated=True),
        _c(
            "manifest_sha256",
            "STRING",
            "SHA-256 of each manifest at the start, same order.",
            repeated=True,
        ),
        _c("options_json", "STRING", "The job's own options, as JSON (no secrets: the patient key is never here)."),
        _c("code_version", "STRING", "edms-migrate version (and git commit when run from a checkout)."),
        _c("manifest_documents", "INT64", "Manifest rows read.", required=True),
        _c("migrated", "INT64", "Documents migrated.", required=True),
        _c("duplicate", "INT64", "Documents found to duplicate another.", required=True),
        _c("quarantined", "INT64", "Documents quarantined.", required=True),
        _c("pages", "INT64", "Pages stored for migrated documents.", required=True),
        _c("bytes_in", "INT64", "Bytes read from the legacy store.", required=True),
        _c("bytes_out", "INT64", "Bytes of page objects of migrated documents.", required=True),
        _c("objects_written", "INT64", "Page objects newly written (0 on a re-run).", required=True),
        _c("balanced", "BOOL", "True when every source system's documents in equal its outcomes.", required=True),
    ),
    cluster_columns=("migration_key",),
)

REVIEW_MISFILING = Table(
    name="review_misfiling",
    description=(
        "Documents whose content is identical under different patients: never merged, and a likely misfiling "
        "for information governance to look at. One row per document of such a group."
    ),
    columns=(
        _c("run_id", "STRING", "The run that produced this row.", required=True),
        _c("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        _c("content_sha256", "STRING", "The content the documents share (documents.content_sha256).", required=True),
        _c("patients", "INT64", "Different patient keys with this content.", required=True),
        _c("documents", "INT64", "Documents with this content.", required=True),
        _c("source_system", "STRING", "Legacy system of this document.", required=True),
        _c("document_id", "STRING", "Id of this document within its source system.", required=True),
        _c("status", "STRING", "migrated or duplicate (of the same patient's copy).", required=True),
        _c("patient_key", "STRING", "This document's patient key.", required=True),
        _c("document_type", "STRING", "Document type recorded by the legacy system."),
        _c("document_date", "DATE", "Document date recorded by the legacy system."),
    ),
    cluster_columns=("content_sha256",),
)

REVIEW_NEAR_DUPLICATES = Table(
    name="review_near_duplicates",
    description=(
        "Pairs of one patient's migrated documents with pages that look alike but are not identical (a rescan, "
        "a re-saved page): candidates for a person to review, never merged automatically."
    ),
    columns=(
        _c("run_id", "STRING", "The run that produced this row.", required=True),
        _c("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        _c("patient_key", "STRING", "The patient both documents belong to.", required=True),
        _c("source_system_a", "STRING", "First document (the smaller source_system/document_id).", required=True),
        _c("document_id_a", "STRING", "First document's id.", required=True),
        _c("source_system_b", "STRING", "Second document's source system.", required=True),
        _c("document_id_b", "STRING", "Second document's id.", required=True),
        _c("page_count_a", "INT64", "Pages of the first document.", required=True),
        _c("page_count_b", "INT64", "Pages of the second document.", required=True),
        _c("similar_pages", "INT64", "Non-blank pages of the first with a near page in the second.", required=True),
        _c("min_distance", "INT64", "Smallest pHash Hamming distance between their pages (0–256).", required=True),
    ),
    cluster_columns=("patient_key",),
)

ORPHANS = Table(
    name="orphans",
    description="Files under a --blob_root that no manifest row or index record of the run references.",
    columns=(
        _c("run_id", "STRING", "The run that produced this row.", required=True),
        _c("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        _c("blob_root", "STRING", "The --blob_root the file was found under.", required=True),
        _c("uri", "STRING", "Absolute URI of the unreferenced file.", required=True),
        _c("size_bytes", "INT64", "Size of the file."),
    ),
    cluster_columns=("blob_root",),
)

TABLES: tuple[Table, ...] = (DOCUMENTS, PAGES, RUNS, REVIEW_MISFILING, REVIEW_NEAR_DUPLICATES, ORPHANS)
TABLES_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
