"""The lineage tables, defined once.

Each table is a tuple of columns in a tiny type vocabulary; the Arrow schema for
Parquet, the BigQuery schema and the README's column lists are all derived from it,
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
        _c("source_system", "STRING", "Legacy system the document came from.", required=True),
        _c(
            "document_id",
            "STRING",
            "Id within its source system (row-N when the manifest row had none).",
            required=True,
        ),
        _c("status", "STRING", "migrated, duplicate or quarantined.", required=True),
        _c("reasons", "STRING", "Quarantine reason codes (see README).", repeated=True),
        _c("reason_messages", "STRING", "A readable message per reason code, same order.", repeated=True),
        _c("duplicate_of", "STRING", "SOURCE_SYSTEM/DOCUMENT_ID of the canonical document, for duplicates."),
        _c("manifest_uri", "STRING", "Manifest the row was read from."),
        _c(
            "manifest_row",
            "INT64",
            "1-based data row (or DIP record) in the manifest; page-per-row: the document's first row.",
        ),
        _c("nhs_number_status", "STRING", "valid, invalid or missing. The number itself is never stored here."),
        _c("document_type", "STRING", "Document type recorded by the legacy system."),
        _c("document_date", "DATE", "Document date recorded by the legacy system."),
        _c("recorded_page_count", "INT64", "Page count the legacy system recorded."),
        _c("page_count", "INT64", "Pages decoded from the image."),
        _c("source_format", "STRING", "Image format sniffed from the bytes (TIFF, JPEG, PNG, BMP, GIF, …)."),
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
        _c("content_sha256", "STRING", "SHA-256 over the pages' pixel hashes in order: equal content, equal value."),
        _c("object_bytes", "INT64", "Bytes of the stored page objects."),
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
)

PAGES = Table(
    name="pages",
    description="One row per stored page of a migrated document.",
    columns=(
        _c("run_id", "STRING", "The run that produced this row.", required=True),
        _c("source_system", "STRING", "Legacy system the document came from.", required=True),
        _c("document_id", "STRING", "Id within its source system.", required=True),
        _c("page_number", "INT64", "1-based page number within the document.", required=True),
        _c("object_uri", "STRING", "Absolute URI of the stored page object.", required=True),
        _c("object_sha256", "STRING", "SHA-256 of the stored object's bytes (its name).", required=True),
        _c(
            "object_format",
            "STRING",
            "Encoding of the stored object (TIFF/CCITT-G4, PNG, JPEG/original, …).",
            required=True,
        ),
        _c("object_bytes", "INT64", "Size of the stored object.", required=True),
        _c("pixel_sha256", "STRING", "SHA-256 of the page's decoded pixels in canonical form.", required=True),
        _c("width", "INT64", "Width in pixels.", required=True),
        _c("height", "INT64", "Height in pixels.", required=True),
        _c("mode", "STRING", "Pillow pixel mode, kept unchanged from the source (1, L, RGB, …).", required=True),
        _c("dpi", "FLOAT64", "Horizontal resolution in dots per inch, when the source recorded one."),
        _c("dpi_y", "FLOAT64", "Vertical resolution in dots per inch, when the source recorded one."),
        _c("source_compression", "STRING", "Compression of the page in the legacy file."),
    ),
)

ORPHANS = Table(
    name="orphans",
    description="Files under a --blob_root that no manifest row or index record of the run references.",
    columns=(
        _c("run_id", "STRING", "The run that produced this row.", required=True),
        _c("blob_root", "STRING", "The --blob_root the file was found under.", required=True),
        _c("uri", "STRING", "Absolute URI of the unreferenced file.", required=True),
        _c("size_bytes", "INT64", "Size of the file."),
    ),
)

TABLES: tuple[Table, ...] = (DOCUMENTS, PAGES, ORPHANS)
